// Live events and refetches race: a list fetched just before an event can arrive just after it.
// These helpers keep whichever copy of a resource is newer, so a late answer never rolls a
// status back (e.g. a delivered message shown as "enviada" again).

import type { Message, MessageStatus } from '../api'

/** How far along a message's life each status is, for copies with the same updated_at. */
const STATUS_RANK: Record<MessageStatus, number> = {
  scheduled: 0,
  queued: 1,
  pending: 2,
  sent: 3,
  delivered: 4,
  read: 5,
  received: 5,
  failed: 6,
  cancelled: 6,
  internal: 0,
}

function time(s: string | null | undefined): number {
  const t = s ? Date.parse(s) : NaN
  return Number.isNaN(t) ? -Infinity : t
}

/** The newer of two copies of one resource by updated_at; the incoming one on a tie. */
export function fresher<T extends { updated_at?: string | null }>(current: T | null | undefined, incoming: T): T {
  if (!current) return incoming
  return time(current.updated_at) > time(incoming.updated_at) ? current : incoming
}

/** The newer of two copies of one message: by updated_at, then by how far along its status is. */
export function fresherMessage(current: Message | undefined, incoming: Message): Message {
  if (!current) return incoming
  const [a, b] = [time(current.updated_at), time(incoming.updated_at)]
  if (a !== b) return a > b ? current : incoming
  return STATUS_RANK[current.status] > STATUS_RANK[incoming.status] ? current : incoming
}

/**
 * A fetched page of messages merged into what is on screen: the fetch decides which messages
 * exist, except those newer than anything it saw (created by an event after its snapshot), and
 * each message shows its newest copy.
 */
export function mergeFetched(current: Message[], fetched: Message[]): Message[] {
  const byId = new Map(current.map((m) => [m.id, m]))
  const lastSeq = fetched.reduce((n, m) => Math.max(n, m.seq), -Infinity)
  const seen = new Set(fetched.map((m) => m.id))
  const out = fetched.map((m) => fresherMessage(byId.get(m.id), m))
  for (const m of current) if (!seen.has(m.id) && m.seq > lastSeq) out.push(m)
  return out
}
