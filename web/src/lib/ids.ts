// Idempotency keys for POST /conversations.

/** A random UUID v4; falls back to getRandomValues where randomUUID needs a secure context. */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto
  if (typeof c?.randomUUID === 'function') return c.randomUUID()
  const b = new Uint8Array(16)
  c.getRandomValues(b)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/**
 * One key per distinct request body: a retry of the same attempt reuses its key (so the server
 * answers it without a second conversation), while a changed form gets a fresh one (the server
 * rejects a reused key with a different body).
 */
export function keyFor(store: { current: { body: string; key: string } | null }, body: unknown): string {
  const json = JSON.stringify(body)
  if (!store.current || store.current.body !== json) store.current = { body: json, key: newIdempotencyKey() }
  return store.current.key
}
