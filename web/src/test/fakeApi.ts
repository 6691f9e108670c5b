// An in-memory Atendimento API behind `fetch`, implementing the /api/v1 routes the SPA uses with
// the JSON shapes and rules of shared/DESIGN.md (session + CSRF, validation collecting every
// error, 409s with existing_id, idempotency keys, the queue, the window). Tests drive the real
// app against it and inspect its state; they never mock the app's own modules.

import type {
  Account,
  Channel,
  ConsentEntry,
  Contact,
  Conversation,
  FieldError,
  LiveEventName,
  Message,
  PriceEstimate,
  Problem,
  QuickReply,
  SessionBody,
  Team,
  Template,
  TemplateParameters,
  User,
} from '../api/types'
import { FakeEventSource } from './fakeEventSource'

export interface RecordedRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: Record<string, string>
  body: unknown
}

type Reply = { status: number; body?: unknown }

class HttpError extends Error {
  readonly reply: Reply
  constructor(status: number, code: string, extra: Partial<Problem> = {}) {
    super(code)
    const problem: Problem = { type: `https://atendimento.dev/problems/${code}`, title: code, status, code, errors: [], ...extra }
    this.reply = { status, body: problem }
  }
}

const invalid = (errors: FieldError[]) => new HttpError(422, 'validation_failed', { title: 'Validation failed', errors })

const T0 = '2026-01-01T00:00:00Z'
const HOUR = 3_600_000

export const AGENT: User & { password: string } = {
  id: 'u-ana',
  name: 'Ana Souza',
  email: 'ana@loja.com.br',
  role: 'agent',
  active: true,
  team_ids: ['tm-suporte', 'tm-vendas'],
  created_at: T0,
  updated_at: T0,
  password: 'segredo123',
}

/** A colleague of Ana's in the sales team. */
export const COLLEAGUE: User & { password: string } = {
  id: 'u-bruno',
  name: 'Bruno Lima',
  email: 'bruno@loja.com.br',
  role: 'agent',
  active: true,
  team_ids: ['tm-vendas'],
  created_at: T0,
  updated_at: T0,
  password: 'segredo123',
}

/** The account's admin. */
export const ADMIN: User & { password: string } = {
  id: 'u-carla',
  name: 'Carla Admin',
  email: 'carla@loja.com.br',
  role: 'admin',
  active: true,
  team_ids: [],
  created_at: T0,
  updated_at: T0,
  password: 'segredo123',
}

/**
 * The keys and details of a template's variables, as the server derives them (DESIGN.md §
 * Parameter keys): a NAMED variable's name; a POSITIONAL body's numbers and `header.1`; a URL
 * button's suffix `button.<i>`. Examples come from Meta's `example` fields.
 */
export function templateKeys(
  components: Template['components'],
  format: Template['parameter_format'],
): Pick<Template, 'variables' | 'variable_details'> {
  const named = format === 'NAMED'
  const details: Template['variable_details'] = []
  const add = (key: string, token: string, component: 'HEADER' | 'BODY' | 'BUTTON', example?: string) => {
    const d = details.find((x) => x.key === key)
    if (d) {
      if (component === 'BODY') d.component = 'BODY'
      return
    }
    details.push({ key, component, label: `[${token.toUpperCase()}]`, example: example ?? null })
  }
  const tokens = (text: string) => {
    const all = [...new Set([...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]))]
    return named ? all : all.sort((a, b) => Number(a) - Number(b))
  }
  const examples = (c: (typeof components)[number] | undefined, list: string, nested: boolean): Record<string, string> => {
    const ex = c?.example ?? {}
    const out: Record<string, string> = {}
    for (const n of (ex[`${list}_named_params`] as Array<{ param_name: string; example: string }> | undefined) ?? []) out[n.param_name] = n.example
    const values = (nested ? (ex[list] as string[][] | undefined)?.[0] : (ex[list] as string[] | undefined)) ?? []
    values.forEach((v, i) => (out[String(i + 1)] = v))
    return out
  }
  const header = components.find((c) => c.type === 'HEADER')
  const body = components.find((c) => c.type === 'BODY')
  if (header?.text) {
    const ex = examples(header, 'header_text', false)
    for (const tok of tokens(header.text)) add(named ? tok : `header.${tok}`, tok, 'HEADER', ex[tok])
  }
  if (body?.text) {
    const ex = examples(body, 'body_text', true)
    for (const tok of tokens(body.text)) add(tok, tok, 'BODY', ex[tok])
  }
  const buttons = components.find((c) => c.type === 'BUTTONS')?.buttons ?? []
  buttons.forEach((b, i) => {
    if (b.type !== 'URL' || !/\{\{1\}\}/.test(b.url ?? '')) return
    const full = (b.example ?? [])[0]
    const prefix = (b.url ?? '').split('{{')[0]
    add(`button.${i}`, '1', 'BUTTON', full?.startsWith(prefix) ? full.slice(prefix.length) : full)
  })
  return { variables: details.map((d) => d.key), variable_details: details }
}

/** A template of the fake; `opts.components` replaces the body-only components (keys follow). */
export function fakeTemplate(
  id: string,
  channel_id: string,
  name: string,
  category: Template['category'],
  body: string,
  opts: Partial<Template> = {},
): Template {
  const tokens = [...body.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1])
  const parameter_format = opts.parameter_format ?? (tokens.every((v) => /^\d+$/.test(v)) && tokens.length ? 'POSITIONAL' : 'NAMED')
  const components = opts.components ?? [{ type: 'BODY', text: body }]
  return {
    id,
    channel_id,
    name,
    language: 'pt_BR',
    category,
    status: 'APPROVED',
    external_id: `meta-${id}`,
    quality: 'UNKNOWN',
    unusable_reason: null,
    created_at: T0,
    updated_at: T0,
    ...opts,
    parameter_format,
    components,
    ...templateKeys(components, parameter_format),
  }
}
const tpl = fakeTemplate

/** A POSITIONAL template with a header variable, two body variables and a URL button (keys header.1, 1, 2, button.1). */
export function protocoloTemplate(channel_id = 'ch-vendas') {
  return fakeTemplate('tp-protocolo', channel_id, 'protocolo_atendimento', 'UTILITY', '', {
    parameter_format: 'POSITIONAL',
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Protocolo {{1}}', example: { header_text: ['2024-000123'] } },
      { type: 'BODY', text: 'Olá {{1}}, registramos seu pedido sobre {{2}}.', example: { body_text: [['Maria', 'troca de produto']] } },
      {
        type: 'BUTTONS',
        buttons: [
          { type: 'QUICK_REPLY', text: 'Falar com atendente' },
          { type: 'URL', text: 'Acompanhar', url: 'https://loja.example.com/p/{{1}}', example: ['https://loja.example.com/p/2024-000123'] },
        ],
      },
    ],
  })
}

/** Rate card (USD per delivered template to Brazil) kept as data, as the server does. */
const RATES: Record<Template['category'], number> = { MARKETING: 0.0625, UTILITY: 0.0068, AUTHENTICATION: 0.0068 }

export class FakeApi {
  users = [AGENT, COLLEAGUE, ADMIN]
  /** When each user last read each conversation (POST /conversations/{id}/read). */
  reads = new Map<string, string>()
  quickReplies: QuickReply[] = [
    { id: 'qr-ola', shortcut: 'ola', text: 'Olá {{primeiro_nome}}, aqui é {{atendente}}. Como posso ajudar?', scope: 'account', owner_id: null, created_at: T0, updated_at: T0 },
    { id: 'qr-prazo', shortcut: 'prazo', text: 'O prazo de entrega é de 5 dias úteis.', scope: 'account', owner_id: null, created_at: T0, updated_at: T0 },
    { id: 'qr-tchau', shortcut: 'tchau', text: 'Obrigada pelo contato, {{nome}}!', scope: 'personal', owner_id: AGENT.id, created_at: T0, updated_at: T0 },
  ]
  /** Seconds the login answers 429 login_locked for (0: not locked). */
  loginLockedFor = 0
  /** How far ahead the server accepts a schedule (a test lowers it to see a 422 the SPA did not foresee). */
  scheduleLimitDays = 30
  contacts: Contact[] = [
    contact('ct-joao', 'João Silva', '+5511987654321'),
    contact('ct-maria', 'Maria Oliveira', '+5521998765432'),
    contact('ct-mariana', 'Mariana Costa', '+5531991112222'),
  ]
  channels: Channel[] = [
    channel('ch-vendas', 'Vendas WhatsApp', '+5511900000001', 'tm-vendas'),
    channel('ch-suporte', 'Suporte WhatsApp', '+5511900000002', 'tm-suporte'),
    { ...channel('ch-antigo', 'Número antigo', '+5511900000003', null), active: false },
  ]
  teams: Team[] = [
    team('tm-vendas', 'Vendas', ['ch-vendas'], [AGENT.id, COLLEAGUE.id]),
    team('tm-suporte', 'Suporte', ['ch-suporte', 'ch-vendas'], [AGENT.id]),
    team('tm-financeiro', 'Financeiro', ['ch-suporte'], []),
  ]
  templates: Template[] = [
    tpl('tp-boas-vindas', 'ch-vendas', 'boas_vindas', 'MARKETING', 'Olá {{nome}}, aqui é {{atendente}} da Loja Exemplo. Podemos conversar?', {
      components: [
        { type: 'BODY', text: 'Olá {{nome}}, aqui é {{atendente}} da Loja Exemplo. Podemos conversar?' },
        { type: 'FOOTER', text: 'Loja Exemplo' },
      ],
    }),
    tpl('tp-fatura', 'ch-vendas', 'lembrete_fatura', 'UTILITY', 'Olá {{1}}, sua fatura de {{2}} vence amanhã.', {
      components: [
        { type: 'BODY', text: 'Olá {{1}}, sua fatura de {{2}} vence amanhã.', example: { body_text: [['Maria', 'março']] } },
      ],
    }),
    tpl('tp-codigo', 'ch-vendas', 'codigo_acesso', 'AUTHENTICATION', 'Seu código de acesso é {{1}}.'),
    tpl('tp-pendente', 'ch-vendas', 'promo_pendente', 'MARKETING', 'Promoção para {{nome}}!', { status: 'PENDING' }),
    tpl('tp-suporte', 'ch-suporte', 'retorno_suporte', 'UTILITY', 'Olá {{nome}}, estamos retornando seu chamado.'),
  ]
  conversations: Conversation[] = []
  messages: Message[] = []
  /** The account; its exchange rate (BRL per USD) turns the estimates' dollars into reais (null: none). */
  account: Account = {
    id: 'acc-1',
    name: 'Loja Demo',
    default_region: 'BR',
    time_zone: 'America/Sao_Paulo',
    auto_close_waiting: false,
    waiting_timeout_seconds: 259200,
    waiting_timeout_is_default: true,
    default_waiting_timeout_seconds: 259200,
    opt_out_keywords: ['SAIR', 'PARAR', 'STOP', 'CANCELAR', 'DESCADASTRAR'],
    opt_in_keywords: ['VOLTAR'],
    opt_out_confirmation: '',
    exchange_rate: 5.8,
    exchange_rate_date: '2026-12-04',
    close_reasons: ['Resolvido', 'Sem resposta do contato'],
    created_at: T0,
    updated_at: T0,
  }
  /** Each contact's consent history, oldest first (the API lists it newest first). */
  consents = new Map<string, ConsentEntry[]>()
  requests: RecordedRequest[] = []

  /** The user the session cookie belongs to (null: signed out). */
  sessionUser: User | null = null
  readonly csrfHeader = 'X-CSRF-Token'
  readonly csrfToken = 'csrf-token-1'
  private idempotency = new Map<string, { body: string; reply: Reply }>()
  private seq = 0

  constructor() {
    // An active conversation already open with Mariana on the sales channel.
    this.addConversation({
      id: 'cv-mariana',
      contact_id: 'ct-mariana',
      channel_id: 'ch-vendas',
      team_id: 'tm-vendas',
      status: 'active',
      origin: 'receptive',
      windowOpenFor: 5 * HOUR,
      assignee_id: AGENT.id,
    })
  }

  /** Signs the agent in as if the browser already held a session cookie. */
  signIn(user: User = AGENT): this {
    this.sessionUser = publicUser(user)
    return this
  }

  /** Adds a conversation (and an opening message) directly to the store. */
  addConversation(o: {
    id?: string
    contact_id: string
    channel_id: string
    team_id: string
    status: Conversation['status']
    origin?: Conversation['origin']
    windowOpenFor?: number
    windowExpiredAgo?: number
    /** Who owns it (default: nobody, the team's queue). */
    assignee_id?: string | null
    updatedAgo?: number
  }): Conversation {
    const now = Date.now()
    const expires =
      o.windowOpenFor !== undefined
        ? new Date(now + o.windowOpenFor).toISOString()
        : o.windowExpiredAgo !== undefined
          ? new Date(now - o.windowExpiredAgo).toISOString()
          : null
    const c: Conversation = {
      id: o.id ?? this.id('cv'),
      status: o.status,
      origin: o.origin ?? 'active',
      contact: this.contacts.find((x) => x.id === o.contact_id)!,
      channel_id: o.channel_id,
      team_id: o.team_id,
      window: { open: o.windowOpenFor !== undefined, expires_at: expires },
      scheduled_at: null,
      waiting_since: o.status === 'waiting' ? new Date(now - HOUR).toISOString() : null,
      waiting_seconds: o.status === 'waiting' ? HOUR / 1000 : null,
      last_inbound_at: o.windowOpenFor !== undefined || o.windowExpiredAgo !== undefined ? new Date(now - HOUR).toISOString() : null,
      closed_at: null,
      closed_reason: null,
      failure: null,
      assignee_id: o.assignee_id ?? null,
      assignee_name: null,
      unread_count: 0,
      last_message: null,
      created_at: new Date(now - HOUR).toISOString(),
      updated_at: new Date(now - (o.updatedAgo ?? HOUR)).toISOString(),
    }
    this.conversations.push(c)
    if (o.windowOpenFor !== undefined || o.windowExpiredAgo !== undefined) {
      this.messages.push(this.message(c.id, { direction: 'in', type: 'text', text: 'Oi, tudo bem?', status: 'received' }))
    }
    return c
  }

  /** Stores a message in a conversation (as if sent or received earlier), without an event. */
  addMessage(conversationId: string, m: Partial<Message> & Pick<Message, 'direction' | 'type' | 'status'>): Message {
    const msg = this.message(conversationId, m)
    this.messages.push(msg)
    return msg
  }

  /** `fetch` as the browser would see this server. */
  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const u = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, 'http://localhost')
    const method = (init.method ?? 'GET').toUpperCase()
    const headers: Record<string, string> = {}
    new Headers(init.headers).forEach((v, k) => (headers[k.toLowerCase()] = v))
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined
    const req: RecordedRequest = { method, path: u.pathname, query: u.searchParams, headers, body }
    this.requests.push(req)
    let reply: Reply
    try {
      reply = this.route(req)
    } catch (err) {
      if (!(err instanceof HttpError)) throw err
      reply = err.reply
    }
    // Responses arrive on a later tick, as over a network.
    await new Promise((r) => setTimeout(r, 0))
    if (reply.status === 204) return new Response(null, { status: 204 })
    const isProblem = reply.status >= 400
    return new Response(JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'Content-Type': isProblem ? 'application/problem+json' : 'application/json' },
    })
  }

  /** Requests matching a method and path (exact, or a RegExp). */
  calls(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)))
  }

  // --- What the outside world does -------------------------------------------------------

  /** A consent fact (the contact's "SAIR", Meta's stop, an agent…) becomes the contact's state. */
  recordConsent(
    contactId: string,
    optedOut: boolean,
    o: { source?: ConsentEntry['source']; detail?: string; at?: string; userId?: string | null } = {},
  ): ConsentEntry {
    const c = this.find(this.contacts, contactId)
    const at = o.at ?? new Date().toISOString()
    const entry: ConsentEntry = {
      id: this.id('cs'),
      opted_out: optedOut,
      source: o.source ?? 'keyword',
      detail: o.detail ?? (o.source === undefined || o.source === 'keyword' ? (optedOut ? 'SAIR' : 'VOLTAR') : ''),
      user_id: o.userId ?? null,
      at,
      created_at: new Date().toISOString(),
    }
    this.consents.set(contactId, [...(this.consents.get(contactId) ?? []), entry])
    c.marketing_opted_out = optedOut
    c.marketing_consent_at = at
    c.updated_at = entry.created_at
    for (const conv of this.conversations) if (conv.contact.id === contactId) conv.contact = c
    return entry
  }

  /** The contact replies on WhatsApp: the window opens and the queue is released in order. */
  contactReplies(conversationId: string, text: string): void {
    const c = this.conversation(conversationId)
    const inbound = this.message(c.id, { direction: 'in', type: 'text', text, status: 'received' })
    this.messages.push(inbound)
    this.emit('message.created', inbound)
    c.status = 'active'
    c.window = { open: true, expires_at: new Date(Date.now() + 24 * HOUR).toISOString() }
    c.updated_at = new Date().toISOString()
    this.emit('conversation.updated', c)
    // As the server: the release stamps the queued messages with the reply's own time (pending),
    // then the dispatcher sends them in posting order.
    const queued = this.messages.filter((x) => x.conversation_id === c.id && x.status === 'queued').sort((a, b) => a.seq - b.seq)
    for (const m of queued) {
      m.status = 'pending'
      m.updated_at = inbound.created_at
      this.emit('message.updated', m)
    }
    for (const m of queued) this.setStatus(m.id, 'sent')
  }

  /** A provider status webhook for one message. */
  setStatus(messageId: string, status: Message['status'], error: Message['error'] = null): void {
    const m = this.messages.find((x) => x.id === messageId)!
    const at = this.later(m.updated_at)
    m.status = status
    m.error = error
    m.updated_at = at
    if (status === 'sent') m.sent_at = at
    if (status === 'delivered') m.delivered_at = at
    if (status === 'read') m.read_at = at
    if (status === 'failed') m.failed_at = at
    this.emit('message.updated', m)
  }

  emit<K extends LiveEventName>(type: K, data: unknown): void {
    FakeEventSource.broadcast(type, structuredClone(data))
  }

  // --- Routes ----------------------------------------------------------------------------

  private route(r: RecordedRequest): Reply {
    const p = r.path.replace(/^\/api\/v1/, '')
    if (!r.path.startsWith('/api/v1/')) throw new HttpError(404, 'not_found')

    if (r.method === 'POST' && p === '/auth/login') return this.login(r)
    if (!this.sessionUser) throw new HttpError(401, 'unauthorized')
    if (r.method !== 'GET' && r.headers[this.csrfHeader.toLowerCase()] !== this.csrfToken) {
      throw new HttpError(403, 'csrf_failed')
    }
    const body = (r.body ?? {}) as Record<string, unknown>
    let m: RegExpExecArray | null

    if (r.method === 'POST' && p === '/auth/logout') {
      this.sessionUser = null
      return { status: 204 }
    }
    if (r.method === 'GET' && p === '/me') {
      return ok({ ...this.sessionBody(), account_id: 'acc-1', role: this.sessionUser.role, api_key_id: null })
    }

    if (r.method === 'GET' && p === '/account') return ok(this.account)
    if (r.method === 'PATCH' && p === '/account') return this.updateAccount(body)

    if (r.method === 'GET' && p === '/contacts') return page(this.searchContacts(r.query.get('q') ?? ''))
    if (r.method === 'GET' && p === '/contacts/lookup') return this.lookup(r.query.get('phone') ?? '')
    if (r.method === 'POST' && p === '/contacts') return this.createContact(body)
    if (r.method === 'GET' && (m = /^\/contacts\/([\w-]+)$/.exec(p))) return ok(this.find(this.contacts, m[1]))
    if (r.method === 'PATCH' && (m = /^\/contacts\/([\w-]+)$/.exec(p))) {
      const c = this.find(this.contacts, m[1])
      const errors: FieldError[] = []
      if ('name' in body && (typeof body.name !== 'string' || !body.name.trim())) errors.push({ field: 'name', code: 'name_required', message: 'name is required' })
      if ('email' in body && body.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(String(body.email))) {
        errors.push({ field: 'email', code: 'email_invalid', message: 'email is invalid' })
      }
      if (errors.length) throw invalid(errors)
      Object.assign(c, { name: body.name ?? c.name, email: body.email ?? c.email, updated_at: new Date().toISOString() })
      for (const conv of this.conversations) if (conv.contact.id === c.id) conv.contact = c
      return ok(c)
    }
    if (r.method === 'GET' && (m = /^\/contacts\/([\w-]+)\/notes$/.exec(p))) {
      const c = this.find(this.contacts, m[1])
      const convs = new Set(this.conversations.filter((x) => x.contact.id === c.id).map((x) => x.id))
      const notes = this.messages.filter((x) => x.type === 'note' && convs.has(x.conversation_id)).sort((a, b) => b.created_at.localeCompare(a.created_at))
      return this.paged(notes, r.query)
    }
    if (r.method === 'GET' && p === '/users') return page(this.users.map(publicUser))
    if (p === '/quick-replies' || p.startsWith('/quick-replies/')) return this.quickReply(r, p, body)
    if (r.method === 'GET' && (m = /^\/contacts\/([\w-]+)\/start-state$/.exec(p))) return ok(this.startState(m[1], r.query.get('channel_id') ?? ''))
    if ((m = /^\/contacts\/([\w-]+)\/consent$/.exec(p))) {
      const c = this.find(this.contacts, m[1])
      if (r.method === 'GET') {
        const list = [...(this.consents.get(c.id) ?? [])].sort((a, b) => b.at.localeCompare(a.at))
        return page(list)
      }
      if (r.method === 'POST') {
        if (typeof body.opted_out !== 'boolean') throw invalid([{ field: 'opted_out', code: 'required', message: 'opted_out is required' }])
        const detail = String(body.detail ?? '')
        if (detail.length > 500 || /[\r\n]/.test(detail)) {
          throw invalid([{ field: 'detail', code: 'detail_invalid', message: 'detail is at most 500 characters, on one line' }])
        }
        const e = this.recordConsent(c.id, body.opted_out, { source: 'agent', detail, userId: this.sessionUser.id })
        return { status: 201, body: e }
      }
    }

    if (r.method === 'GET' && p === '/channels') return page(this.channels.map(publicChannel))
    if (r.method === 'GET' && p === '/teams') return page(this.teams)

    if (r.method === 'GET' && p === '/templates') return page(this.filterTemplates(r.query))
    if (r.method === 'POST' && (m = /^\/templates\/([\w-]+)\/preview$/.exec(p))) {
      const t = this.find(this.templates, m[1])
      return ok(this.render(t, body.parameters as TemplateParameters).preview)
    }
    if (r.method === 'GET' && p === '/pricing/estimate') {
      const t = this.find(this.templates, r.query.get('template_id') ?? '')
      const c = this.find(this.contacts, r.query.get('contact_id') ?? '')
      // The contact's window is open while any of its conversations' windows is.
      const windowOpen = this.conversations.some((x) => x.contact.id === c.id && !!x.window.expires_at && Date.parse(x.window.expires_at) > Date.now())
      return ok(this.estimate(t, windowOpen))
    }

    if (r.method === 'POST' && p === '/conversations') return this.idempotent(r, () => this.start(body))

    if (r.method === 'GET' && p === '/conversations') return this.listConversations(r.query)
    if (r.method === 'GET' && p === '/conversations/counts') return ok(this.counts())
    if (r.method === 'GET' && (m = /^\/conversations\/([\w-]+)$/.exec(p))) return ok(this.view(this.conversation(m[1])))
    if (r.method === 'POST' && (m = /^\/conversations\/([\w-]+)\/(close|cancel)$/.exec(p))) {
      const c = this.conversation(m[1])
      const reason = typeof body.reason === 'string' ? body.reason : ''
      if (reason && !(this.account.close_reasons ?? []).includes(reason)) {
        throw invalid([{ field: 'reason', code: 'close_reason_unknown', message: 'unknown close reason' }])
      }
      c.status = m[2] === 'close' ? 'closed' : 'cancelled'
      c.closed_reason = reason || null
      this.touch(c)
      // As the server: conversation.updated first, then the change's own kind.
      this.emit('conversation.updated', c)
      if (m[2] === 'close') this.emit('conversation.closed', c)
      return ok(this.view(c))
    }
    if (r.method === 'POST' && (m = /^\/conversations\/([\w-]+)\/reopen$/.exec(p))) {
      const c = this.conversation(m[1])
      if (!c.window.open || !c.window.expires_at || Date.parse(c.window.expires_at) <= Date.now()) throw new HttpError(422, 'window_closed')
      c.status = 'active'
      c.closed_reason = null
      c.assignee_id ??= this.sessionUser.id
      this.touch(c)
      this.emit('conversation.updated', c)
      this.emit('conversation.reopened', c)
      return ok(this.view(c))
    }
    if (r.method === 'POST' && (m = /^\/conversations\/([\w-]+)\/assign$/.exec(p))) return this.assign(this.conversation(m[1]), body)
    if (r.method === 'POST' && (m = /^\/conversations\/([\w-]+)\/transfer$/.exec(p))) return this.transfer(this.conversation(m[1]), body)
    if (r.method === 'POST' && (m = /^\/conversations\/([\w-]+)\/read$/.exec(p))) {
      const c = this.conversation(m[1])
      this.reads.set(`${c.id}:${this.sessionUser.id}`, new Date(Date.now() + 1000).toISOString())
      return { status: 204 }
    }
    if (r.method === 'POST' && (m = /^\/conversations\/([\w-]+)\/notes$/.exec(p))) {
      const c = this.conversation(m[1])
      const text = typeof body.text === 'string' ? body.text.trim() : ''
      if (text.length < 1 || text.length > 4000) throw invalid([{ field: 'text', code: 'note_text_invalid', message: 'note text is 1 to 4000 characters' }])
      const note = this.addNote(c.id, text, this.sessionUser)
      this.emit('message.created', note)
      return { status: 201, body: note }
    }
    if ((m = /^\/conversations\/([\w-]+)\/messages$/.exec(p))) {
      const c = this.conversation(m[1])
      if (r.method === 'GET') return page(this.messages.filter((x) => x.conversation_id === c.id))
      if (r.method === 'POST') return this.post(c, body)
    }
    if (r.method === 'DELETE' && (m = /^\/conversations\/([\w-]+)\/messages\/([\w-]+)$/.exec(p))) {
      const c = this.conversation(m[1])
      const msg = this.messages.find((x) => x.id === m![2] && x.conversation_id === c.id)
      if (!msg) throw new HttpError(404, 'message_not_found')
      if (msg.status !== 'queued') throw new HttpError(409, 'message_not_queued')
      this.messages = this.messages.filter((x) => x !== msg)
      return { status: 204 }
    }
    if (r.method === 'POST' && (m = /^\/sandbox\/channels\/([\w-]+)\/inbound$/.exec(p))) {
      const ch = this.find(this.channels, m[1])
      if (ch.provider !== 'sandbox') throw new HttpError(409, 'channel_not_sandbox')
      const phone = normalisePhone(String(body.from ?? ''))
      const c = this.conversations.find(
        (x) => x.channel_id === ch.id && x.contact.phone === phone && ['waiting', 'active', 'scheduled'].includes(x.status),
      )
      if (!c) throw new HttpError(404, 'not_found') // the real server would open a receptive conversation
      this.contactReplies(c.id, String(body.text ?? ''))
      return ok({ status: 'ok', messages: 1 })
    }
    throw new HttpError(404, 'not_found')
  }

  /** GET /contacts/{id}/start-state: the latest window on the channel and the open conversation. */
  private startState(contactId: string, channelId: string) {
    this.find(this.contacts, contactId)
    const mine = this.conversations.filter((c) => c.contact.id === contactId && c.channel_id === channelId)
    const open = mine.find((c) => ['scheduled', 'waiting', 'active'].includes(c.status))
    const expiries = mine.map((c) => c.window.expires_at).filter((x): x is string => !!x).sort()
    const latest = expiries.at(-1) ?? null
    const isOpen = !!latest && Date.parse(latest) > Date.now()
    return {
      channel_id: channelId,
      window: { open: isOpen, expires_at: isOpen ? latest : null },
      open_conversation_id: open?.id ?? null,
    }
  }

  private login(r: RecordedRequest): Reply {
    if (this.loginLockedFor > 0) throw new HttpError(429, 'login_locked', { retry_after: this.loginLockedFor })
    const { email, password } = (r.body ?? {}) as { email?: string; password?: string }
    const u = this.users.find((x) => x.email === email && x.password === password)
    if (!u) throw new HttpError(401, 'invalid_credentials')
    this.sessionUser = publicUser(u)
    return ok(this.sessionBody())
  }

  private sessionBody(): SessionBody {
    return { user: this.sessionUser ?? undefined, csrf_token: this.csrfToken, csrf_header: this.csrfHeader }
  }

  private searchContacts(q: string): Contact[] {
    const needle = fold(q)
    const digits = q.replace(/\D/g, '')
    return this.contacts.filter((c) => fold(c.name).includes(needle) || (digits.length > 0 && c.phone.includes(digits)))
  }

  private lookup(phone: string): Reply {
    const e164 = normalisePhone(phone)
    if (!e164) throw invalid([{ field: 'phone', code: 'phone_invalid', message: 'phone number is invalid' }])
    const c = this.contacts.find((x) => x.phone === e164)
    if (!c) throw new HttpError(404, 'contact_not_found')
    return ok(c)
  }

  private createContact(body: Record<string, unknown>): Reply {
    const errors: FieldError[] = []
    const name = String(body.name ?? '').trim()
    const e164 = normalisePhone(String(body.phone ?? ''))
    if (!name) errors.push({ field: 'name', code: 'required', message: 'name is required' })
    if (!e164) errors.push({ field: 'phone', code: 'phone_invalid', message: 'phone number is invalid' })
    if (errors.length) throw invalid(errors)
    const existing = this.contacts.find((x) => x.phone === e164)
    if (existing) throw new HttpError(409, 'contact_exists', { existing_id: existing.id })
    const c = contact(this.id('ct'), name, e164!)
    this.contacts.push(c)
    return { status: 201, body: c }
  }

  private filterTemplates(q: URLSearchParams): Template[] {
    const text = fold(q.get('q') ?? '')
    return this.templates.filter(
      (t) =>
        (!q.get('channel_id') || t.channel_id === q.get('channel_id')) &&
        (!q.get('status') || t.status === q.get('status')) &&
        (!q.get('category') || t.category === q.get('category')) &&
        (!text || fold(t.name).includes(text) || fold(t.components.map((c) => c.text ?? '').join(' ')).includes(text)),
    )
  }

  /** Renders a template as the server's preview does and lists every parameter problem (field `parameters.<key>`). */
  render(t: Template, params: TemplateParameters | undefined) {
    const values: Record<string, string> = {}
    const errors: FieldError[] = []
    // An array fills the body's {{1}}, {{2}}… in order.
    if (Array.isArray(params)) params.forEach((v, i) => (values[String(i + 1)] = v))
    else Object.assign(values, params ?? {})
    for (const v of t.variables) {
      const value = values[v]
      if (value === undefined || value.trim() === '') {
        errors.push({ field: `parameters.${v}`, code: 'parameter_missing', message: `parameter ${v} is missing` })
      } else if (/[\n\t]| {5,}/.test(value) || value.length > 1024) {
        errors.push({ field: `parameters.${v}`, code: 'parameter_invalid', message: `parameter ${v} is invalid` })
      }
    }
    for (const k of Object.keys(values)) {
      if (!t.variables.includes(k)) errors.push({ field: `parameters.${k}`, code: 'parameter_unknown', message: `unknown parameter ${k}` })
    }
    const fill = (text: string, keyOf: (tok: string) => string, blank: (all: string, tok: string) => string) =>
      text.replace(/\{\{\s*(\w+)\s*\}\}/g, (all, tok: string) => values[keyOf(tok)]?.trim() || blank(all, tok))
    const label = (_: string, tok: string) => `[${tok.toUpperCase()}]`
    const headerKey = (tok: string) => (t.parameter_format === 'POSITIONAL' ? `header.${tok}` : tok)
    const part = (type: string) => t.components.find((c) => c.type === type)?.text ?? ''
    const body = part('BODY')
    const buttons = (t.components.find((c) => c.type === 'BUTTONS')?.buttons ?? []).map((b, i) => ({
      type: b.type,
      text: b.text ?? '',
      url: b.url ? fill(b.url, () => `button.${i}`, label) : undefined,
    }))
    return {
      /** The body with the given values (blanks stay as written), as the history records it. */
      text: fill(body, (x) => x, (all) => all),
      errors,
      preview: {
        header: fill(part('HEADER'), headerKey, label),
        body: fill(body, (x) => x, label),
        footer: part('FOOTER'),
        buttons,
        text: [fill(part('HEADER'), headerKey, label), fill(body, (x) => x, label), part('FOOTER')].filter(Boolean).join('\n\n'),
        labels: Object.fromEntries(t.variable_details.map((d) => [d.key, d.label])),
        errors,
      },
    }
  }

  private estimate(t: Template, windowOpen: boolean): PriceEstimate {
    const billable = !(t.category === 'UTILITY' && windowOpen)
    const amount = billable ? RATES[t.category] : 0
    const { exchange_rate: rate, exchange_rate_date: date } = this.account
    const local =
      rate !== null && date !== null
        ? { amount: Math.round(amount * rate * 1e4) / 1e4, currency: 'BRL' as const, exchange_rate: rate, exchange_rate_date: date }
        : null
    return { category: t.category, billable, amount, currency: 'USD', rate_card_date: '2026-01-01', local }
  }

  /** PATCH /account (admins): the exchange rate and its date, every error at once; null clears both. */
  private updateAccount(body: Record<string, unknown>): Reply {
    if (this.sessionUser?.role !== 'admin') throw new HttpError(403, 'forbidden')
    const errors: FieldError[] = []
    const today = new Date().toISOString().slice(0, 10)
    let reasons = this.account.close_reasons ?? []
    if ('close_reasons' in body) {
      const list = body.close_reasons
      const ok = Array.isArray(list) && list.length <= 30 && list.every((x) => typeof x === 'string' && x.trim().length >= 1 && x.length <= 80)
      if (!ok || new Set(list as string[]).size !== (list as string[]).length) {
        errors.push({ field: 'close_reasons', code: 'close_reasons_invalid', message: 'close_reasons is invalid' })
      } else reasons = list as string[]
    }
    let rate = this.account.exchange_rate
    let date = this.account.exchange_rate_date
    if (body.exchange_rate === null) {
      rate = date = null
    } else if ('exchange_rate' in body) {
      const r = body.exchange_rate
      if (typeof r !== 'number' || r <= 0 || r > 100 || Math.abs(r * 1e4 - Math.round(r * 1e4)) > 1e-6) {
        errors.push({ field: 'exchange_rate', code: 'exchange_rate_invalid', message: 'exchange_rate is invalid' })
      }
      const d = body.exchange_rate_date ?? today
      if (typeof d !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(d) || d > today) {
        errors.push({ field: 'exchange_rate_date', code: 'exchange_rate_date_invalid', message: 'exchange_rate_date is invalid' })
      }
      rate = r as number
      date = d as string
    }
    if (errors.length) throw invalid(errors)
    this.account = { ...this.account, close_reasons: reasons, exchange_rate: rate, exchange_rate_date: date, updated_at: new Date().toISOString() }
    return ok(this.account)
  }

  private idempotent(r: RecordedRequest, fn: () => Reply): Reply {
    const key = r.headers['idempotency-key']
    if (!key) return fn()
    const body = JSON.stringify(r.body)
    const seen = this.idempotency.get(key)
    if (seen && seen.body !== body) throw new HttpError(422, 'idempotency_key_reused')
    if (seen) return seen.reply
    let reply: Reply
    try {
      reply = fn()
    } catch (err) {
      if (!(err instanceof HttpError)) throw err
      reply = err.reply
    }
    this.idempotency.set(key, { body, reply })
    return reply
  }

  /** POST /conversations with every check of DESIGN.md reported together. */
  private start(b: Record<string, unknown>): Reply {
    const errors: FieldError[] = []
    const contact = this.contacts.find((c) => c.id === b.contact_id)
    if (!b.contact_id) errors.push({ field: 'contact_id', code: 'contact_required', message: 'contact_id or contact is required' })
    else if (!contact) errors.push({ field: 'contact_id', code: 'contact_not_found', message: 'contact not found' })
    const ch = this.channels.find((c) => c.id === b.channel_id)
    if (!b.channel_id) errors.push({ field: 'channel_id', code: 'channel_required', message: 'channel_id is required' })
    else if (!ch) errors.push({ field: 'channel_id', code: 'channel_not_found', message: 'channel not found' })
    else if (!ch.active) errors.push({ field: 'channel_id', code: 'channel_inactive', message: 'channel inactive' })
    const tm = this.teams.find((x) => x.id === b.team_id)
    if (!b.team_id) errors.push({ field: 'team_id', code: 'team_required', message: 'team_id is required' })
    else if (!tm) errors.push({ field: 'team_id', code: 'team_not_found', message: 'team not found' })
    else if (ch && !tm.channel_ids.includes(ch.id))
      errors.push({ field: 'team_id', code: 'team_not_allowed_on_channel', message: 'team not allowed on channel' })
    else if (!tm.member_ids.includes(this.sessionUser!.id))
      errors.push({ field: 'team_id', code: 'user_not_in_team', message: 'user not in team' })
    const t = this.templates.find((x) => x.id === b.template_id)
    let rendered = ''
    // Free text may open a conversation only inside the contact's open window, and not on a schedule.
    const text = typeof b.text === 'string' && !b.template_id ? b.text.trim() : null
    const windowAt = contact && ch ? this.startState(contact.id, ch.id).window : null
    if (text !== null) {
      if (!windowAt?.open || b.send_type === 'scheduled') errors.push({ field: 'template_id', code: 'template_required', message: 'outside the window' })
      rendered = text
    } else if (!b.template_id) errors.push({ field: 'template_id', code: 'template_required', message: 'a template is required' })
    else if (!t) errors.push({ field: 'template_id', code: 'template_not_found', message: 'template not found' })
    else {
      if (t.status !== 'APPROVED') errors.push({ field: 'template_id', code: 'template_not_approved', message: 'not approved' })
      if (ch && t.channel_id !== ch.id) errors.push({ field: 'template_id', code: 'template_channel_mismatch', message: 'mismatch' })
      if (contact?.marketing_opted_out && t.category === 'MARKETING') errors.push(optedOut())
      const r = this.render(t, b.parameters as TemplateParameters)
      errors.push(...r.errors)
      rendered = r.text
    }
    let scheduledAt: string | null = null
    if (b.send_type === 'scheduled') {
      const at = Date.parse(String(b.scheduled_at ?? ''))
      if (!String(b.scheduled_at ?? '').endsWith('Z') || Number.isNaN(at) || at <= Date.now() || at > Date.now() + this.scheduleLimitDays * 24 * HOUR) {
        errors.push({ field: 'scheduled_at', code: 'scheduled_at_invalid', message: 'scheduled_at is invalid' })
      } else scheduledAt = new Date(at).toISOString()
    } else if (b.send_type !== 'now') {
      errors.push({ field: 'send_type', code: 'invalid', message: 'send_type must be now or scheduled' })
    }
    if (errors.length) throw invalid(errors)

    const open = this.conversations.find(
      (c) => c.contact.id === contact!.id && c.channel_id === ch!.id && ['scheduled', 'waiting', 'active'].includes(c.status),
    )
    if (open) throw new HttpError(409, 'conversation_already_open', { existing_id: open.id })

    const now = new Date().toISOString()
    const conv: Conversation = {
      id: this.id('cv'),
      status: scheduledAt ? 'scheduled' : text !== null ? 'active' : 'waiting',
      origin: 'active',
      contact: contact!,
      channel_id: ch!.id,
      team_id: tm!.id,
      window: text !== null && windowAt ? windowAt : { open: false, expires_at: null },
      scheduled_at: scheduledAt,
      waiting_since: scheduledAt || text !== null ? null : now,
      waiting_seconds: scheduledAt || text !== null ? null : 0,
      last_inbound_at: null,
      closed_at: null,
      closed_reason: null,
      failure: null,
      assignee_id: this.sessionUser!.id,
      assignee_name: null,
      unread_count: 0,
      last_message: null,
      estimated_cost: t ? this.estimate(t, false) : undefined,
      created_at: now,
      updated_at: now,
    }
    const opening = this.message(
      conv.id,
      t
        ? { direction: 'out', type: 'template', template_id: t.id, template_name: t.name, rendered_text: rendered, status: scheduledAt ? 'scheduled' : 'sent' }
        : { direction: 'out', type: 'text', text: rendered, status: 'sent' },
    )
    conv.opening_message = { id: opening.id, status: opening.status, rendered_text: rendered }
    this.conversations.push(conv)
    this.messages.push(opening)
    this.emit('conversation.created', conv)
    this.emit('message.created', opening)
    return { status: 201, body: conv }
  }

  private post(c: Conversation, b: Record<string, unknown>): Reply {
    if (['closed', 'cancelled', 'failed'].includes(c.status)) throw new HttpError(409, 'conversation_closed')
    const windowOpen = c.window.open && !!c.window.expires_at && Date.parse(c.window.expires_at) > Date.now()
    let m: Message
    if (b.template_id !== undefined) {
      const t = this.templates.find((x) => x.id === b.template_id && x.channel_id === c.channel_id && x.status === 'APPROVED')
      if (!t) throw invalid([{ field: 'template_id', code: 'template_not_found', message: 'template not found' }])
      const r = this.render(t, b.parameters as TemplateParameters)
      const refused = c.contact.marketing_opted_out && t.category === 'MARKETING' ? [optedOut()] : []
      if (refused.length || r.errors.length) throw invalid([...refused, ...r.errors])
      m = this.message(c.id, {
        direction: 'out',
        type: 'template',
        template_id: t.id,
        template_name: t.name,
        rendered_text: r.text,
        status: 'sent',
      })
      if (c.status === 'active' && !windowOpen) {
        c.status = 'waiting'
        this.emit('conversation.updated', c)
      }
    } else {
      const text = String(b.text ?? '').trim()
      if (!text) throw invalid([{ field: 'text', code: 'required', message: 'text is required' }])
      const queued = c.status === 'waiting' || c.status === 'scheduled'
      if (!queued && !windowOpen) throw invalid([{ field: 'text', code: 'template_required', message: 'window closed' }])
      m = this.message(c.id, { direction: 'out', type: 'text', text, status: queued ? 'queued' : 'sent' })
    }
    this.messages.push(m)
    this.emit('message.created', m)
    return { status: 201, body: m }
  }

  // --- The desk ----------------------------------------------------------------------------

  /** A conversation as the caller sees it: their unread count and its newest message. */
  private view(c: Conversation): Conversation {
    const me = this.sessionUser?.id ?? ''
    const read = this.reads.get(`${c.id}:${me}`) ?? ''
    const mine = this.messages.filter((x) => x.conversation_id === c.id)
    const unread = mine.filter((x) => x.direction === 'in' && x.created_at > read).length
    const last = [...mine].sort((a, b) => a.created_at.localeCompare(b.created_at)).at(-1)
    return {
      ...structuredClone(c),
      assignee_name: this.users.find((u) => u.id === c.assignee_id)?.name ?? null,
      unread_count: unread,
      last_message: last ? { direction: last.direction, type: last.type, preview: (last.rendered_text || last.text).slice(0, 80), at: last.created_at } : null,
    }
  }

  private myTeams(): Set<string> {
    const me = this.sessionUser!
    return new Set(this.teams.filter((tm) => me.role === 'admin' || tm.member_ids.includes(me.id)).map((tm) => tm.id))
  }

  /** GET /conversations with the desk's filters, newest activity first, a page at a time. */
  private listConversations(q: URLSearchParams): Reply {
    const me = this.sessionUser!.id
    const statuses = q.getAll('status').flatMap((s) => s.split(',')).filter(Boolean)
    const assignee = q.get('assignee_id')
    const needle = fold(q.get('q') ?? '')
    const digits = (q.get('q') ?? '').replace(/\D/g, '')
    const list = this.conversations.filter(
      (c) =>
        (statuses.length === 0 || statuses.includes(c.status)) &&
        (!q.get('contact_id') || c.contact.id === q.get('contact_id')) &&
        (!q.get('team_id') || c.team_id === q.get('team_id')) &&
        (!q.get('channel_id') || c.channel_id === q.get('channel_id')) &&
        (!assignee || (assignee === 'me' ? c.assignee_id === me : assignee === 'none' ? !c.assignee_id : c.assignee_id === assignee)) &&
        (!needle || fold(c.contact.name).includes(needle) || (digits.length >= 4 && c.contact.phone.includes(digits))),
    )
    const sorted = list.sort((a, b) => b.updated_at.localeCompare(a.updated_at) || b.id.localeCompare(a.id)).map((c) => this.view(c))
    return this.paged(sorted, q)
  }

  /** A page of `items` by `limit` and `cursor` (the offset, opaque to the SPA). */
  private paged<T>(items: T[], q: URLSearchParams): Reply {
    const limit = Math.min(Number(q.get('limit') ?? 50) || 50, 200)
    const from = Number(q.get('cursor') ?? 0) || 0
    const slice = items.slice(from, from + limit)
    return ok({ items: structuredClone(slice), next_cursor: from + limit < items.length ? String(from + limit) : null })
  }

  /** GET /conversations/counts, as DESIGN.md § The desk defines the tabs. */
  counts() {
    const me = this.sessionUser!.id
    const teams = this.myTeams()
    const zero = () => ({ total: 0, unread: 0 })
    const out = { mine: zero(), waiting: zero(), others: zero(), closed: zero() }
    for (const c of this.conversations) {
      const v = this.view(c)
      let tab: keyof typeof out | null = null
      if (c.status === 'closed') tab = teams.has(c.team_id ?? '') ? 'closed' : null
      else if (['cancelled', 'failed'].includes(c.status)) tab = null
      else if (c.assignee_id === me) tab = c.status === 'active' ? 'mine' : 'waiting'
      else if (teams.has(c.team_id ?? '')) tab = 'others'
      if (!tab) continue
      out[tab].total += 1
      if (tab !== 'closed') out[tab].unread += v.unread_count ?? 0
    }
    return out
  }

  /** POST /conversations/{id}/assign: take, hand over, or return to the queue; someone else's → 409. */
  private assign(c: Conversation, b: Record<string, unknown>): Reply {
    const me = this.sessionUser!
    const to = (b.user_id ?? null) as string | null
    if (c.assignee_id && c.assignee_id !== me.id && !(me.role === 'admin' && b.force)) {
      const who = this.users.find((u) => u.id === c.assignee_id)
      throw new HttpError(409, 'conversation_already_assigned', { assignee_id: c.assignee_id, assignee_name: who?.name })
    }
    if (to && !this.teams.find((tm) => tm.id === c.team_id)?.member_ids.includes(to)) {
      throw invalid([{ field: 'user_id', code: 'assignee_not_in_team', message: 'assignee not in team' }])
    }
    c.assignee_id = to
    this.touch(c)
    this.emit('conversation.updated', c)
    this.emit('conversation.assigned', c)
    return ok(this.view(c))
  }

  /** POST /conversations/{id}/transfer: to a team on the channel (and maybe one of its members), the note as a note. */
  private transfer(c: Conversation, b: Record<string, unknown>): Reply {
    const tm = this.teams.find((x) => x.id === b.team_id)
    if (!tm) throw invalid([{ field: 'team_id', code: 'team_not_found', message: 'team not found' }])
    if (!tm.channel_ids.includes(c.channel_id)) throw invalid([{ field: 'team_id', code: 'team_not_allowed_on_channel', message: 'team not on channel' }])
    const to = (b.user_id ?? null) as string | null
    if (to && !tm.member_ids.includes(to)) throw invalid([{ field: 'user_id', code: 'assignee_not_in_team', message: 'assignee not in team' }])
    c.team_id = tm.id
    c.assignee_id = to
    this.touch(c)
    this.emit('conversation.updated', c)
    this.emit('conversation.transferred', c)
    if (typeof b.note === 'string' && b.note.trim()) this.emit('message.created', this.addNote(c.id, b.note.trim(), this.sessionUser!))
    return ok(this.view(c))
  }

  /** Stores an internal note by `author`. */
  addNote(conversationId: string, text: string, author: User): Message {
    const note = this.message(conversationId, { direction: 'internal', type: 'note', text, status: 'sent', author_id: author.id, author_name: author.name })
    this.messages.push(note)
    return note
  }

  /** /quick-replies: the account's and the caller's own; account ones are written by admins only. */
  private quickReply(r: RecordedRequest, p: string, b: Record<string, unknown>): Reply {
    const me = this.sessionUser!
    const visible = this.quickReplies.filter((x) => x.scope === 'account' || x.owner_id === me.id)
    let m: RegExpExecArray | null
    if (r.method === 'GET' && p === '/quick-replies') {
      const q = fold(r.query.get('q') ?? '')
      return page(visible.filter((x) => !q || fold(x.shortcut).includes(q) || fold(x.text).includes(q)))
    }
    if (r.method === 'POST' && (m = /^\/quick-replies\/([\w-]+)\/render$/.exec(p))) {
      const qr = this.find(visible, m[1])
      const c = this.conversation(String(b.conversation_id ?? ''))
      const name = c.contact.name
      const text = qr.text.replaceAll('{{nome}}', name).replaceAll('{{primeiro_nome}}', name.split(' ')[0]).replaceAll('{{atendente}}', me.name)
      return ok({ text })
    }
    const check = (scope: unknown, shortcut: unknown, text: unknown, except?: string) => {
      if (scope === 'account' && me.role !== 'admin') throw new HttpError(403, 'forbidden')
      const errors: FieldError[] = []
      if (typeof shortcut !== 'string' || !/^[\p{L}\p{N}_-]{1,40}$/u.test(shortcut)) errors.push({ field: 'shortcut', code: 'shortcut_invalid', message: 'bad shortcut' })
      if (typeof text !== 'string' || !text.trim()) errors.push({ field: 'text', code: 'text_required', message: 'text required' })
      const unknown = typeof text === 'string' ? [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((x) => x[1]).find((v) => !['nome', 'primeiro_nome', 'atendente'].includes(v)) : undefined
      if (unknown) errors.push({ field: 'text', code: 'quick_reply_placeholder_unknown', message: `unknown placeholder ${unknown}` })
      if (errors.length) throw invalid(errors)
      const owner = scope === 'account' ? null : me.id
      if (this.quickReplies.some((x) => x.id !== except && x.scope === scope && (x.owner_id ?? null) === owner && x.shortcut === shortcut)) {
        throw new HttpError(409, 'quick_reply_exists')
      }
    }
    if (r.method === 'POST' && p === '/quick-replies') {
      const scope = b.scope === 'account' ? 'account' : 'personal'
      check(scope, b.shortcut, b.text)
      const now = new Date().toISOString()
      const qr: QuickReply = { id: this.id('qr'), shortcut: String(b.shortcut), text: String(b.text), scope, owner_id: scope === 'account' ? null : me.id, created_at: now, updated_at: now }
      this.quickReplies.push(qr)
      return { status: 201, body: qr }
    }
    if ((m = /^\/quick-replies\/([\w-]+)$/.exec(p))) {
      const qr = this.find(visible, m[1])
      if (qr.scope === 'account' && me.role !== 'admin') throw new HttpError(403, 'forbidden')
      if (r.method === 'DELETE') {
        this.quickReplies = this.quickReplies.filter((x) => x !== qr)
        return { status: 204 }
      }
      if (r.method === 'PATCH') {
        check(b.scope ?? qr.scope, b.shortcut ?? qr.shortcut, b.text ?? qr.text, qr.id)
        Object.assign(qr, { shortcut: b.shortcut ?? qr.shortcut, text: b.text ?? qr.text, updated_at: new Date().toISOString() })
        return ok(qr)
      }
    }
    throw new HttpError(404, 'not_found')
  }

  private touch(c: Conversation): void {
    c.updated_at = this.later(c.updated_at)
  }

  // --- Helpers ---------------------------------------------------------------------------

  private conversation(id: string): Conversation {
    return this.find(this.conversations, id)
  }

  private find<T extends { id: string }>(list: T[], id: string): T {
    const x = list.find((i) => i.id === id)
    if (!x) throw new HttpError(404, 'not_found')
    return x
  }

  /** Now, or just after `than` (messages are stamped a little ahead to keep their order). */
  private later(than: string): string {
    return new Date(Math.max(Date.now(), Date.parse(than) + 1)).toISOString()
  }

  private id(prefix: string): string {
    this.seq += 1
    return `${prefix}-${this.seq}`
  }

  private message(conversation_id: string, m: Partial<Message> & Pick<Message, 'direction' | 'type' | 'status'>): Message {
    // Strictly increasing times keep the order of messages created in the same millisecond.
    const at = new Date(Date.now() + this.seq).toISOString()
    // The next number of the conversation, never reused after a withdrawal (as the server's next_seq).
    const seq = Math.max(0, ...this.messages.filter((x) => x.conversation_id === conversation_id).map((x) => x.seq)) + 1
    return {
      id: this.id('msg'),
      conversation_id,
      seq,
      text: '',
      rendered_text: '',
      template_id: null,
      template_name: null,
      error: null,
      pricing: null,
      provider_message_id: null,
      created_at: at,
      updated_at: at,
      sent_at: null,
      delivered_at: null,
      read_at: null,
      failed_at: null,
      received_at: m.direction === 'in' ? at : null,
      author_id: null,
      author_name: null,
      ...m,
    }
  }
}

/** 422 contact_opted_out: a MARKETING template to a contact who opted out (field `contact`). */
function optedOut(): FieldError {
  return { field: 'contact', code: 'contact_opted_out', message: 'the contact opted out of marketing messages' }
}

function ok(body: unknown): Reply {
  return { status: 200, body }
}

function page<T>(items: T[]): Reply {
  return ok({ items: structuredClone(items), next_cursor: null })
}

function contact(id: string, name: string, phone: string): Contact {
  return {
    id,
    name,
    phone,
    wa_id: phone.slice(1),
    email: '',
    attributes: {},
    marketing_opted_out: false,
    marketing_consent_at: null,
    created_at: T0,
    updated_at: T0,
  }
}

function channel(id: string, name: string, phone: string, defaultTeam: string | null): Channel {
  return {
    id,
    name,
    provider: 'sandbox',
    phone_number: phone,
    phone_number_id: `pn-${id}`,
    waba_id: 'waba-1',
    active: true,
    default_team_id: defaultTeam,
    has_access_token: false,
    has_app_secret: false,
    has_verify_token: false,
    webhook_url: null,
    last_webhook_at: null,
    created_at: T0,
    updated_at: T0,
  }
}

function team(id: string, name: string, channel_ids: string[], member_ids: string[]): Team {
  return { id, name, channel_ids, member_ids, created_at: T0, updated_at: T0 }
}

function publicUser(u: User & { password?: string }): User {
  return {
    id: u.id,
    name: u.name,
    email: u.email,
    role: u.role,
    active: u.active,
    team_ids: u.team_ids,
    created_at: u.created_at,
    updated_at: u.updated_at,
  }
}

/** Secrets are write-only: the fake never returns them either. */
function publicChannel(c: Channel): Channel {
  return c
}

function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
}

/** "11 98765-4321", "(11) 98765-4321", "+55 11 98765-4321" → "+5511987654321"; null if not a BR number. */
export function normalisePhone(input: string): string | null {
  const d = input.replace(/\D/g, '')
  if (/^\d{10,11}$/.test(d)) return `+55${d}`
  if (/^55\d{10,11}$/.test(d)) return `+${d}`
  return null
}
