import { describe, expect, it } from 'vitest'
import type { Message } from '../api'
import { arrangeMessages } from './history'

const T = (s: number) => new Date(Date.UTC(2026, 11, 5, 12, 0, s)).toISOString()

function msg(seq: number, p: Partial<Message>): Message {
  return {
    id: `m${seq}`,
    conversation_id: 'c1',
    seq,
    direction: 'out',
    type: 'text',
    status: 'sent',
    text: `m${seq}`,
    rendered_text: '',
    template_id: null,
    template_name: null,
    error: null,
    pricing: null,
    provider_message_id: null,
    created_at: T(seq),
    updated_at: T(seq),
    sent_at: null,
    delivered_at: null,
    read_at: null,
    failed_at: null,
    received_at: null,
    ...p,
  } as Message
}

const texts = (items: { m: Message }[]) => items.map((h) => h.m.text)

describe('arrangeMessages', () => {
  it('keeps queued messages apart, in posting order', () => {
    const { history, queue } = arrangeMessages([
      msg(3, { status: 'queued', text: 'segunda' }),
      msg(1, { type: 'template', sent_at: T(1), text: 'abertura' }),
      msg(2, { status: 'queued', text: 'primeira' }),
    ])
    expect(texts(history)).toEqual(['abertura'])
    expect(queue.map((m) => m.text)).toEqual(['primeira', 'segunda'])
  })

  it('puts what a reply released after the reply, at the time it left, marked', () => {
    const reply = msg(4, { direction: 'in', status: 'received', created_at: T(30), received_at: T(29), text: 'resposta' })
    const { history, queue } = arrangeMessages([
      msg(1, { type: 'template', sent_at: T(1), text: 'abertura' }),
      // Released: pending, stamped with the reply's own time by the server.
      msg(2, { status: 'pending', created_at: T(10), updated_at: T(30), text: 'primeira' }),
      msg(3, { status: 'delivered', created_at: T(11), sent_at: T(31), delivered_at: T(33), text: 'segunda' }),
      reply,
    ])
    expect(queue).toEqual([])
    expect(texts(history)).toEqual(['abertura', 'resposta', 'primeira', 'segunda'])
    expect(history.map((h) => h.released)).toEqual([false, false, true, true])
    expect(history[3].at).toBe(T(31))
  })

  it('leaves a message sent before the reply where it was, unmarked', () => {
    const { history } = arrangeMessages([
      msg(1, { created_at: T(1), sent_at: T(2), text: 'antes' }),
      msg(2, { direction: 'in', status: 'received', created_at: T(5), text: 'resposta' }),
      msg(3, { created_at: T(6), sent_at: T(7), text: 'depois' }),
    ])
    expect(texts(history)).toEqual(['antes', 'resposta', 'depois'])
    expect(history.every((h) => !h.released)).toBe(true)
    expect(history[0].at).toBe(T(1))
  })
})
