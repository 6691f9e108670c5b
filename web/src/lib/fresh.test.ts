import { describe, expect, it } from 'vitest'
import type { Message } from '../api'
import { fresher, fresherMessage, mergeFetched } from './fresh'

const msg = (id: string, seq: number, status: Message['status'], updated_at: string) =>
  ({ id, seq, status, updated_at, created_at: '2026-01-01T00:00:00Z', direction: 'out', conversation_id: 'c' }) as Message

describe('fresh copies', () => {
  it('keeps the later updated_at, and the incoming copy on a tie', () => {
    const old = { id: 'a', updated_at: '2026-01-01T00:00:01Z', v: 1 }
    const nu = { id: 'a', updated_at: '2026-01-01T00:00:02Z', v: 2 }
    expect(fresher(nu, old)).toBe(nu)
    expect(fresher(old, nu)).toBe(nu)
    const tie = { ...old, v: 3 }
    expect(fresher(old, tie)).toBe(tie)
    expect(fresher(null, old)).toBe(old)
  })

  it('never rolls a message back to an earlier status on the same timestamp', () => {
    const sent = msg('m', 2, 'sent', '2026-01-01T00:00:01Z')
    const delivered = msg('m', 2, 'delivered', '2026-01-01T00:00:01Z')
    expect(fresherMessage(delivered, sent)).toBe(delivered)
    expect(fresherMessage(sent, delivered)).toBe(delivered)
    // A later retry may legitimately go back to the queue.
    const requeued = msg('m', 2, 'queued', '2026-01-01T00:00:05Z')
    expect(fresherMessage(sent, requeued)).toBe(requeued)
  })

  it('merges a stale fetch without losing newer statuses or newer messages', () => {
    const onScreen = [
      msg('a', 1, 'delivered', '2026-01-01T00:00:03Z'),
      msg('b', 2, 'delivered', '2026-01-01T00:00:03Z'),
      msg('gone', 3, 'queued', '2026-01-01T00:00:01Z'),
      msg('new', 9, 'received', '2026-01-01T00:00:04Z'),
    ]
    const fetched = [msg('a', 1, 'delivered', '2026-01-01T00:00:03Z'), msg('b', 2, 'sent', '2026-01-01T00:00:02Z'), msg('c', 4, 'sent', '2026-01-01T00:00:02Z')]
    const merged = mergeFetched(onScreen, fetched)
    expect(merged.map((m) => [m.id, m.status])).toEqual([
      ['a', 'delivered'],
      ['b', 'delivered'],
      ['c', 'sent'],
      ['new', 'received'],
    ])
  })
})
