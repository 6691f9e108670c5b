// The conversation's history as the contact lived it, and the queue still waiting for the reply.

import type { Message } from '../api'

/** The server's order: the sequence number each message took when it was posted or arrived. */
export function byTime(a: Message, b: Message): number {
  return a.seq - b.seq || a.created_at.localeCompare(b.created_at)
}

const ms = (iso: string) => Date.parse(iso)

/**
 * When an outbound message left the queue: its first time past `queued` (the server stamps
 * `updated_at` when the reply releases it as `pending`, then `sent_at`), or null while waiting.
 */
function leftQueueAt(m: Message): string | null {
  const stamped = m.sent_at ?? m.delivered_at ?? m.read_at ?? m.failed_at
  if (stamped) return stamped
  return m.status === 'pending' ? m.updated_at : null
}

/** An entry of the history: the message, when it belongs there, and whether the reply released it. */
export interface HistoryItem {
  m: Message
  at: string
  released: boolean
}

/**
 * The history as it happened for the contact. The server numbers a queued message when it is
 * written, before the reply that releases it; it went out after that reply, so it is shown after
 * it, at the time it left. Messages still queued are not history: they are returned apart, in
 * posting order.
 */
export function arrangeMessages(list: Message[]): { history: HistoryItem[]; queue: Message[] } {
  const sorted = [...list].sort(byTime)
  const queue = sorted.filter((m) => m.status === 'queued')
  const inbound = sorted.filter((m) => m.direction === 'in')
  const history = sorted
    .filter((m) => m.status !== 'queued')
    .map((m): HistoryItem => {
      if (m.direction === 'in') return { m, at: m.created_at, released: false }
      const left = leftQueueAt(m)
      // Released by a reply: posted before it, numbered before it, out at or after its arrival.
      // Times are compared as instants: the server trims trailing zeros of fractions, so strings do not sort.
      const reply =
        left &&
        inbound.find((i) => i.seq > m.seq && ms(i.created_at) > ms(m.created_at) && ms(left) >= ms(i.created_at))
      return reply ? { m, at: left, released: true } : { m, at: m.created_at, released: false }
    })
  history.sort(
    (a, b) =>
      ms(a.at) - ms(b.at) ||
      (a.m.direction === b.m.direction ? 0 : a.m.direction === 'in' ? -1 : 1) ||
      a.m.seq - b.m.seq,
  )
  return { history, queue }
}
