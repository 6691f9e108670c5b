import { afterEach, describe, expect, it } from 'vitest'
import type { Conversation, LiveEvent, Message } from '../api'
import { reasonProblem } from './closeReasons'
import { firstTime, readPrefs, writePrefs } from './alerts'
import { alertFor, belongs, documentTitle, NO_FILTER, tabOf, tabQuery, totalUnread } from './desk'
import { matchQuickReplies, slashQuery } from './quickReplies'

const ME = 'u-ana'
const conv = (o: Partial<Conversation>): Conversation =>
  ({ id: 'cv-1', status: 'active', assignee_id: null, team_id: 'tm-vendas', channel_id: 'ch-vendas', origin: 'active', ...o }) as Conversation

describe('tabs', () => {
  it('puts a conversation in "Meus", "Aguardando", "Outros" or "Encerrados" as the counts do', () => {
    expect(tabOf(conv({ assignee_id: ME }), ME)).toBe('mine')
    expect(tabOf(conv({ assignee_id: ME, status: 'waiting' }), ME)).toBe('waiting')
    expect(tabOf(conv({ assignee_id: ME, status: 'scheduled' }), ME)).toBe('waiting')
    expect(tabOf(conv({ assignee_id: null }), ME)).toBe('others')
    expect(tabOf(conv({ assignee_id: 'u-bruno', status: 'waiting' }), ME)).toBe('others')
    expect(tabOf(conv({ assignee_id: ME, status: 'closed' }), ME)).toBe('closed')
  })

  it('asks the server for each tab with its search and, in "Outros", its filters', () => {
    expect(tabQuery('mine', '')).toEqual({ assignee_id: 'me', status: 'active', q: undefined })
    expect(tabQuery('waiting', ' joão ')).toEqual({ assignee_id: 'me', status: 'waiting,scheduled', q: 'joão' })
    expect(tabQuery('closed', '11 98765')).toEqual({ status: 'closed', q: '11 98765' })
    expect(tabQuery('others', '', { team_id: 'tm-vendas', channel_id: '', assignee: 'none' })).toEqual({
      status: 'scheduled,waiting,active',
      q: undefined,
      team_id: 'tm-vendas',
      channel_id: undefined,
      assignee_id: 'none',
    })
  })

  it('keeps a live row in a tab only while it matches the tab and its filters', () => {
    expect(belongs(conv({ assignee_id: null }), 'others', ME)).toBe(true)
    expect(belongs(conv({ assignee_id: ME }), 'others', ME)).toBe(false)
    expect(belongs(conv({ assignee_id: 'u-bruno' }), 'others', ME, { ...NO_FILTER, assignee: 'none' })).toBe(false)
    expect(belongs(conv({ assignee_id: 'u-bruno' }), 'others', ME, { ...NO_FILTER, assignee: 'u-bruno' })).toBe(true)
    expect(belongs(conv({ assignee_id: null, team_id: 'tm-suporte' }), 'others', ME, { ...NO_FILTER, team_id: 'tm-vendas' })).toBe(false)
    expect(belongs(conv({ assignee_id: null, channel_id: 'ch-x' }), 'others', ME, { ...NO_FILTER, channel_id: 'ch-vendas' })).toBe(false)
    // Closing moves it from "Outros" to "Encerrados".
    expect(belongs(conv({ status: 'closed' }), 'others', ME)).toBe(false)
    expect(belongs(conv({ status: 'closed' }), 'closed', ME)).toBe(true)
  })

  it('titles the browser tab with the unread total of the working tabs', () => {
    const counts = { mine: { total: 2, unread: 1 }, waiting: { total: 1, unread: 0 }, others: { total: 5, unread: 2 }, closed: { total: 9, unread: 0 } }
    expect(totalUnread(counts)).toBe(3)
    expect(documentTitle('Atendimento', 3)).toBe('(3) Atendimento')
    expect(documentTitle('Atendimento', 0)).toBe('Atendimento')
    expect(totalUnread(null)).toBe(0)
  })
})

describe('alerts', () => {
  const teams = new Set(['tm-vendas'])
  const msg = (o: Partial<Message>) => ({ type: 'message.created', data: { conversation_id: 'cv-1', direction: 'in', ...o } }) as LiveEvent
  const ev = (type: LiveEvent['type'], c: Conversation) => ({ type, data: c }) as LiveEvent

  it('rings when a contact answers a conversation of mine that was waiting', () => {
    const waiting = conv({ assignee_id: ME, status: 'waiting' })
    expect(alertFor(msg({}), waiting, ME, teams)).toEqual({ kind: 'replied', conversationId: 'cv-1' })
    expect(alertFor(ev('conversation.updated', conv({ assignee_id: ME })), waiting, ME, teams)?.kind).toBe('replied')
    // Not for someone else's, not for an active one, not for my own messages.
    expect(alertFor(msg({}), conv({ assignee_id: 'u-bruno', status: 'waiting' }), ME, teams)).toBeNull()
    expect(alertFor(msg({}), conv({ assignee_id: ME, status: 'active' }), ME, teams)).toBeNull()
    expect(alertFor(msg({ direction: 'out' }), waiting, ME, teams)).toBeNull()
  })

  it('rings when a conversation enters my queue: handed or transferred to me, or new in my team', () => {
    const before = conv({ assignee_id: 'u-bruno' })
    expect(alertFor(ev('conversation.transferred', conv({ assignee_id: ME })), before, ME, teams)?.kind).toBe('arrived')
    expect(alertFor(ev('conversation.assigned', conv({ assignee_id: ME })), undefined, ME, teams)?.kind).toBe('arrived')
    expect(alertFor(ev('conversation.assigned', conv({ assignee_id: ME })), conv({ assignee_id: ME }), ME, teams)).toBeNull()
    expect(alertFor(ev('conversation.transferred', conv({ team_id: 'tm-vendas' })), conv({ team_id: 'tm-suporte' }), ME, teams)?.kind).toBe('arrived')
    expect(alertFor(ev('conversation.created', conv({ origin: 'receptive' })), undefined, ME, teams)?.kind).toBe('arrived')
    expect(alertFor(ev('conversation.created', conv({ team_id: 'tm-outro' })), undefined, ME, teams)).toBeNull()
    expect(alertFor(ev('conversation.assigned', conv({ assignee_id: 'u-bruno' })), undefined, ME, teams)).toBeNull()
  })

  it('rings once for a reply that comes as a message and an update', () => {
    expect(firstTime('replied:cv-9', 1_000)).toBe(true)
    expect(firstTime('replied:cv-9', 5_000)).toBe(false)
    expect(firstTime('replied:cv-9', 20_000)).toBe(true)
  })

  afterEach(() => localStorage.clear())
  it('keeps the switches in localStorage: sound on and notifications off until chosen', () => {
    expect(readPrefs()).toEqual({ sound: true, notify: false })
    writePrefs({ sound: false, notify: true })
    expect(JSON.parse(localStorage.getItem('atendimento.alerts')!)).toEqual({ sound: false, notify: true })
    expect(readPrefs()).toEqual({ sound: false, notify: true })
    localStorage.setItem('atendimento.alerts', 'not json')
    expect(readPrefs()).toEqual({ sound: true, notify: false })
  })
})

describe('quick replies in the composer', () => {
  const list = [
    { id: '1', shortcut: 'ola', text: 'Olá {{primeiro_nome}}!', scope: 'account' },
    { id: '2', shortcut: 'prazo', text: 'O prazo de entrega é de 5 dias.', scope: 'account' },
    { id: '3', shortcut: 'entrega-expressa', text: 'Chega amanhã.', scope: 'personal' },
  ] as Parameters<typeof matchQuickReplies>[0]

  it('opens on a leading slash only', () => {
    expect(slashQuery('/')).toBe('')
    expect(slashQuery('/pra')).toBe('pra')
    expect(slashQuery('texto /pra')).toBeNull()
    expect(slashQuery('/ algo')).toBeNull()
    expect(slashQuery('/a\nb')).toBeNull()
  })

  it('finds by shortcut first, then by text, ignoring accents and case', () => {
    expect(matchQuickReplies(list, '').map((r) => r.shortcut)).toEqual(['entrega-expressa', 'ola', 'prazo'])
    expect(matchQuickReplies(list, 'PRA').map((r) => r.shortcut)).toEqual(['prazo'])
    // "entrega": a shortcut that starts with it, then a text that contains it.
    expect(matchQuickReplies(list, 'entrega').map((r) => r.shortcut)).toEqual(['entrega-expressa', 'prazo'])
    expect(matchQuickReplies(list, 'olá').map((r) => r.shortcut)).toEqual(['ola'])
    expect(matchQuickReplies(list, 'nada')).toEqual([])
  })
})

describe('close reasons', () => {
  it('takes 1 to 80 characters, no repeats (any case), at most 30', () => {
    expect(reasonProblem('Resolvido', [])).toBeNull()
    expect(reasonProblem('  ', [])).toBe('O motivo deve ter de 1 a 80 caracteres.')
    expect(reasonProblem('x'.repeat(81), [])).toBe('O motivo deve ter de 1 a 80 caracteres.')
    expect(reasonProblem('resolvido', ['Resolvido'])).toBe('Este motivo já está na lista.')
    expect(reasonProblem('Outro', Array.from({ length: 30 }, (_, i) => `m${i}`))).toBe('No máximo 30 motivos.')
  })
})
