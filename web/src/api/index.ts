// Typed calls to /api/v1. Components use `api.*` and never call fetch themselves.

import { uploadMedia } from './media'
import { ApiError, API_BASE, readSession, request, route, setSession, type Query, type Session } from './client'
import type {
  Account,
  Channel,
  ConsentEntry,
  ConsentInput,
  Contact,
  ContactInput,
  Conversation,
  ConversationCounts,
  Id,
  LiveEvent,
  LiveEventName,
  MeBody,
  Message,
  Page,
  PostMessageInput,
  PriceEstimate,
  QuickReply,
  QuickReplyInput,
  SandboxInboundInput,
  SessionBody,
  StartConversationInput,
  StartState,
  Team,
  Template,
  TemplateCategory,
  TemplateParameters,
  TemplatePreview,
  TransferInput,
  User,
} from './types'

export * from './types'
export * from './media'
export { ApiError, onUnauthorized, type Session } from './client'

const MAX_PAGE = 200

/** Follows next_cursor until the list ends (bounded, for small account-wide lists). */
async function all<T>(path: string, query: Query = {}, maxPages = 20): Promise<T[]> {
  const items: T[] = []
  let cursor: string | null = null
  for (let i = 0; i < maxPages; i++) {
    const page: Page<T> = await request<Page<T>>('GET', path, { query: { ...query, limit: MAX_PAGE, cursor } })
    items.push(...page.items)
    cursor = page.next_cursor
    if (!cursor) break
  }
  return items
}

async function login(email: string, password: string): Promise<Session> {
  const body = await request<SessionBody>('POST', route('/api/v1/auth/login'), { body: { email, password }, quiet401: true })
  const s = readSession(body)
  setSession(s)
  return s
}

async function me(): Promise<Session> {
  const s = readSession(await request<MeBody>('GET', route('/api/v1/me'), { quiet401: true }))
  setSession(s)
  return s
}

async function logout(): Promise<void> {
  try {
    await request<void>('POST', route('/api/v1/auth/logout'), { quiet401: true })
  } finally {
    setSession(null)
  }
}

/** GET /contacts/lookup: the contact with that phone, or null when there is none (404). */
async function lookupContact(phone: string): Promise<Contact | null> {
  try {
    return await request<Contact>('GET', route('/api/v1/contacts/lookup'), { query: { phone } })
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null
    throw err
  }
}

export interface TemplateFilter {
  channel_id: Id
  category?: TemplateCategory | ''
  q?: string
}

/** POST /templates/{id}/preview; a 422 carrying the parameter errors is folded into the result. */
async function previewTemplate(id: Id, parameters: TemplateParameters, signal?: AbortSignal): Promise<TemplatePreview> {
  const empty: TemplatePreview = { body: '', header: '', footer: '', text: '', buttons: [], labels: {}, errors: [] }
  try {
    const r = await request<Partial<TemplatePreview>>('POST', route('/api/v1/templates/{id}/preview', { id }), {
      body: { parameters },
      signal,
    })
    return { ...empty, ...r, errors: r.errors ?? [] }
  } catch (err) {
    if (err instanceof ApiError && err.status === 422) return { ...empty, errors: err.fieldErrors }
    throw err
  }
}

export interface ConversationFilter {
  /** One status or a comma list (`active,waiting`). */
  status?: string
  team_id?: Id
  channel_id?: Id
  contact_id?: Id
  /** `me`, `none` (the team's queue) or a user id. */
  assignee_id?: string
  /** Contact name or phone, in any form. */
  q?: string
  unread?: boolean
}

/** POST /conversations/{id}/close with the reason picked from the account's list (none: no reason). */
function closeConversation(id: Id, reason?: string) {
  return request<Conversation>('POST', route('/api/v1/conversations/{id}/close', { id }), { body: reason ? { reason } : {} })
}

export const api = {
  login,
  me,
  logout,

  searchContacts: (q: string, signal?: AbortSignal) =>
    request<Page<Contact>>('GET', route('/api/v1/contacts'), { query: { q, limit: 20 }, signal }).then((p) => p.items),
  lookupContact,
  getContact: (id: Id) => request<Contact>('GET', route('/api/v1/contacts/{id}', { id })),
  createContact: (input: ContactInput) => request<Contact>('POST', route('/api/v1/contacts'), { body: input }),
  /** GET /contacts/{id}/consent: the contact's opt-outs and opt-ins, newest first. */
  listConsent: (contactId: Id) => all<ConsentEntry>(route('/api/v1/contacts/{id}/consent', { id: contactId }), {}, 5),
  /** POST /contacts/{id}/consent: the agent records the contact's choice (source agent). */
  recordConsent: (contactId: Id, input: ConsentInput) =>
    request<ConsentEntry>('POST', route('/api/v1/contacts/{id}/consent', { id: contactId }), { body: input }),

  /** GET /contacts/{id}/start-state: what a start on the channel would meet (window, open conversation). */
  startState: (contactId: Id, channelId: Id) =>
    request<StartState>('GET', route('/api/v1/contacts/{id}/start-state', { id: contactId }), { query: { channel_id: channelId } }),

  listChannels: () => all<Channel>(route('/api/v1/channels')),
  listTeams: () => all<Team>(route('/api/v1/teams')),

  listTemplates: (f: TemplateFilter, signal?: AbortSignal) =>
    request<Page<Template>>('GET', route('/api/v1/templates'), {
      query: { channel_id: f.channel_id, status: 'APPROVED', category: f.category, q: f.q, limit: MAX_PAGE },
      signal,
    }).then((p) => p.items),
  previewTemplate,
  estimatePrice: (templateId: Id, contactId: Id) =>
    request<PriceEstimate>('GET', route('/api/v1/pricing/estimate'), { query: { template_id: templateId, contact_id: contactId } }),

  /** POST /conversations; the same key with the same body never starts a second conversation. */
  startConversation: (input: StartConversationInput, idempotencyKey: string) =>
    request<Conversation>('POST', route('/api/v1/conversations'), { body: input, headers: { 'Idempotency-Key': idempotencyKey } }),
  listConversations: (f: ConversationFilter = {}) =>
    all<Conversation>(route('/api/v1/conversations'), { ...f, unread: f.unread ? 'true' : undefined }, 5),
  /** One page of GET /conversations (newest activity first) and the cursor of the next. */
  conversationPage: (f: ConversationFilter, cursor: string | null, limit = 50, signal?: AbortSignal) =>
    request<Page<Conversation>>('GET', route('/api/v1/conversations'), {
      query: { ...f, unread: f.unread ? 'true' : undefined, cursor, limit },
      signal,
    }),
  /** GET /conversations/counts: the caller's tabs. */
  conversationCounts: () => request<ConversationCounts>('GET', route('/api/v1/conversations/counts')),
  getConversation: (id: Id) => request<Conversation>('GET', route('/api/v1/conversations/{id}', { id })),
  closeConversation,
  reopenConversation: (id: Id) => request<Conversation>('POST', route('/api/v1/conversations/{id}/reopen', { id })),
  /** POST /conversations/{id}/assign: a user id takes or hands it over; null returns it to the queue. */
  assignConversation: (id: Id, userId: Id | null, force = false) =>
    request<Conversation>('POST', route('/api/v1/conversations/{id}/assign', { id }), { body: force ? { user_id: userId, force } : { user_id: userId } }),
  transferConversation: (id: Id, input: TransferInput) =>
    request<Conversation>('POST', route('/api/v1/conversations/{id}/transfer', { id }), { body: input }),
  /** POST /conversations/{id}/read: the caller has read it up to now. */
  markRead: (id: Id) => request<unknown>('POST', route('/api/v1/conversations/{id}/read', { id })),
  addNote: (id: Id, text: string) => request<Message>('POST', route('/api/v1/conversations/{id}/notes', { id }), { body: { text } }),
  /** GET /contacts/{id}/notes: one page of the contact's internal notes, newest first. */
  contactNotes: (contactId: Id, cursor: string | null = null) =>
    request<Page<Message>>('GET', route('/api/v1/contacts/{id}/notes', { id: contactId }), { query: { cursor, limit: 20 } }),
  updateContact: (id: Id, input: Partial<ContactInput>) =>
    request<Contact>('PATCH', route('/api/v1/contacts/{id}', { id }), { body: input }),

  listUsers: () => all<User>(route('/api/v1/users')),
  getAccount: () => request<Account>('GET', route('/api/v1/account')),
  updateCloseReasons: (reasons: string[]) => request<Account>('PATCH', route('/api/v1/account'), { body: { close_reasons: reasons } }),

  /** GET /quick-replies: the account's and the caller's own, matching `q` on shortcut or text. */
  listQuickReplies: (q = '', signal?: AbortSignal) =>
    request<Page<QuickReply>>('GET', route('/api/v1/quick-replies'), { query: { q, limit: MAX_PAGE }, signal }).then((p) => p.items),
  createQuickReply: (input: QuickReplyInput) => request<QuickReply>('POST', route('/api/v1/quick-replies'), { body: input }),
  updateQuickReply: (id: Id, input: Partial<QuickReplyInput>) =>
    request<QuickReply>('PATCH', route('/api/v1/quick-replies/{id}', { id }), { body: input }),
  deleteQuickReply: (id: Id) => request<void>('DELETE', route('/api/v1/quick-replies/{id}', { id })),
  /** POST /quick-replies/{id}/render: the text with {{nome}}, {{primeiro_nome}}, {{atendente}} filled. */
  renderQuickReply: (id: Id, conversationId: Id) =>
    request<{ text: string }>('POST', route('/api/v1/quick-replies/{id}/render', { id }), { body: { conversation_id: conversationId } }).then((r) => r.text),
  cancelConversation: (id: Id) => request<Conversation>('POST', route('/api/v1/conversations/{id}/cancel', { id })),

  listMessages: (conversationId: Id) => all<Message>(route('/api/v1/conversations/{id}/messages', { id: conversationId })),
  postMessage: (conversationId: Id, input: PostMessageInput) =>
    request<Message>('POST', route('/api/v1/conversations/{id}/messages', { id: conversationId }), { body: input }),
  withdrawMessage: (conversationId: Id, messageId: Id) =>
    request<void>('DELETE', route('/api/v1/conversations/{id}/messages/{message_id}', { id: conversationId, message_id: messageId })),

  /** Sandbox channels only: the contact "replies" (opens the window, releases the queue). */
  simulateInbound: (channelId: Id, input: SandboxInboundInput) =>
    request<unknown>('POST', route('/api/v1/sandbox/channels/{id}/inbound', { id: channelId }), { body: input }),

  /** POST /media with upload progress (the composer, a template's header, the sandbox). */
  uploadMedia,

  subscribeEvents,
}

export type Api = typeof api

export const LIVE_EVENT_NAMES: LiveEventName[] = [
  'conversation.created',
  'conversation.updated',
  'conversation.waiting_expired',
  'message.created',
  'message.updated',
  'template.updated',
  'conversation.assigned',
  'conversation.transferred',
  'conversation.closed',
  'conversation.reopened',
]

export interface LiveHandlers {
  event: (e: LiveEvent) => void
  /**
   * Called when events may have been missed and cannot be replayed, so the views refetch: the
   * server sent `reset` (the last id is older than its 24 h log), or the stream came back
   * without an id to resume from.
   */
  reconnected?: () => void
}

const RETRY_MIN_MS = 5_000
const RETRY_MAX_MS = 30_000

/**
 * Opens GET /events (server-sent events, with the session cookie) and returns the closer. Every
 * event carries an id. The browser reconnects by itself after a dropped stream, sending the last
 * id as Last-Event-ID, and the server replays what was missed. When the answer was not a stream
 * at all (a 404 from a server without /events, a 502 from a proxy) the browser gives up, so this
 * retries with backoff, with the last id as `last_event_id`. The views refetch only when the
 * server answers `reset`, or when there is no id to resume from (nothing received yet): they
 * stay current, only less promptly.
 */
function subscribeEvents(h: LiveHandlers): () => void {
  const ES = globalThis.EventSource
  if (!ES) return () => {}
  let es: EventSource | null = null
  let stopped = false
  let dropped = false
  let delay = RETRY_MIN_MS
  let timer: ReturnType<typeof setTimeout> | undefined
  // The id of the last event received: a reconnect resumes after it.
  let lastId = ''
  const seen = (ev: Event) => {
    const id = (ev as MessageEvent<string>).lastEventId
    if (id) lastId = id
  }

  const connect = () => {
    const query = lastId ? `?${new URLSearchParams({ last_event_id: lastId })}` : ''
    const source = new ES(`${API_BASE}${route('/api/v1/events')}${query}`, { withCredentials: true })
    es = source
    for (const name of LIVE_EVENT_NAMES) {
      source.addEventListener(name, (ev: Event) => {
        seen(ev)
        try {
          h.event({ type: name, data: JSON.parse((ev as MessageEvent<string>).data) } as LiveEvent)
        } catch {
          // A malformed event is dropped; the next refetch corrects the view.
        }
      })
    }
    // What was missed cannot be replayed: refetch, and resume from the id the reset carries.
    source.addEventListener('reset', (ev: Event) => {
      seen(ev)
      h.reconnected?.()
    })
    source.onopen = () => {
      delay = RETRY_MIN_MS
      // The browser sent Last-Event-ID: the server replays what was missed (or resets).
      if (dropped && !lastId) h.reconnected?.()
      dropped = false
    }
    source.onerror = () => {
      dropped = true
      if (source.readyState !== ES.CLOSED || stopped) return
      source.close()
      timer = setTimeout(() => {
        dropped = false
        if (!lastId) h.reconnected?.()
        connect()
      }, delay)
      delay = Math.min(delay * 2, RETRY_MAX_MS)
    }
  }

  connect()
  return () => {
    stopped = true
    clearTimeout(timer)
    es?.close()
  }
}
