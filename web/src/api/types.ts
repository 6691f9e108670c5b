// Resource types of the Atendimento HTTP API (/api/v1), derived from the generated
// `schema.d.ts` (`npm run gen:api` from ../openapi.yaml; `npm run check:api` fails when stale).
//
// The spec marks every property optional (swag writes no `required` lists), but the Go handlers
// always write response fields that have no `omitempty`; `Res<>` states that, and the few
// omitempty ones stay optional below. Where the spec is looser than the contract in DESIGN.md
// (template components, parameters, statuses as plain strings), the narrowing is written here,
// next to the generated type it narrows, so a change in the spec still breaks the build.

import type { HeaderMedia } from './media'
import type { components, paths } from './schema'

type S = components['schemas']

/** A response object whose fields the server always writes (nested objects and arrays too). */
type Res<T> = T extends (infer U)[]
  ? Res<U>[]
  : T extends object
    ? { [K in keyof T]-?: Res<Exclude<T[K], undefined>> }
    : T

/** A UUID string. */
export type Id = string
/** An RFC 3339 time in UTC. */
export type Timestamp = string

/** Every path the contract publishes (the API module builds its URLs from these). */
export type ApiPath = keyof paths & string

/** Every list endpoint returns one page of items and the cursor of the next page. */
export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

/** One failing field of a problem+json error, e.g. `parameters.nome`. */
export type FieldError = Res<S['apperr.FieldError']>

/** RFC 9457 problem+json body with the API's stable `code`. */
export type Problem = Omit<
  Res<S['Problem']>,
  'existing_id' | 'request_id' | 'errors' | 'detail' | 'retry_after' | 'assignee_id' | 'assignee_name' | 'open_conversations'
> & {
  detail?: string
  /** Present on 429: seconds to wait (the Retry-After header). */
  retry_after?: number
  /** On 409 team_has_open_conversations: how many open conversations the team has. */
  open_conversations?: number
  errors?: FieldError[]
  /** Present on 409 `contact_exists` and `conversation_already_open`. */
  existing_id?: Id
  /** Present on 409 `conversation_already_assigned`: who owns the conversation now. */
  assignee_id?: Id
  assignee_name?: string
  request_id?: string
}

export type Role = NonNullable<S['User']['role']>

/** The agent logged into the SPA. */
export type User = Res<S['User']>

/** Body of POST /auth/login. */
export type SessionBody = S['Session']
/** Body of GET /me (also answers API-key callers, who have no user). */
export type MeBody = S['Me']

export type Contact = Res<S['Contact']>

/** How a consent fact was learnt: a keyword reply, Meta's stop/resume, an agent, the API, a CSV import. */
export type ConsentSource = NonNullable<S['ConsentEntry']['source']>

/** One opt-out or opt-in of marketing messages in a contact's history. */
export type ConsentEntry = Res<S['ConsentEntry']>

/** Body of POST /contacts/{id}/consent: an agent's choice, with an optional note. */
export type ConsentInput = S['ConsentRequest']

/** Body of POST /contacts; the phone may be typed in any form ("com DDD"). */
export type ContactInput = Required<Pick<S['ContactRequest'], 'name' | 'phone'>> & Pick<S['ContactRequest'], 'email'>

export type Channel = Res<S['Channel']>

export type Team = Res<S['Team']>

export type TemplateCategory = NonNullable<S['Template']['category']>
export type TemplateStatus = NonNullable<S['TemplateRequest']['status']>
/** Meta's quality rating of a template: UNKNOWN until rated; YELLOW warns, RED may be paused. */
export type TemplateQuality = NonNullable<S['Template']['quality']>
export type ParameterFormat = NonNullable<S['Template']['parameter_format']>

/** A button of a BUTTONS component, in Meta's shape. */
export interface TemplateButton {
  type: 'URL' | 'PHONE_NUMBER' | 'QUICK_REPLY' | (string & {})
  text?: string
  url?: string
  phone_number?: string
  /** Meta's example: the whole link of a URL button with a suffix (["https://…/pedidos/A-1"]). */
  example?: string[]
}

/** A component in Meta's shape (the spec leaves it open); only the text-bearing ones matter here. */
export interface TemplateComponent {
  type: 'HEADER' | 'BODY' | 'FOOTER' | 'BUTTONS' | (string & {})
  format?: string
  text?: string
  buttons?: TemplateButton[]
  /** Meta's example values (header_text, body_text, body_text_named_params…); the server reads them into variable_details. */
  example?: Record<string, unknown>
}

export type Template = Omit<Res<S['Template']>, 'components'> & {
  components: TemplateComponent[]
}

/** Named templates take an object, positional ones an array in variable order (spec: `object`). */
export type TemplateParameters = Record<string, string> | string[]

/** Response of POST /templates/{id}/preview: the rendered parts and any parameter errors. */
export type TemplatePreview = Res<S['Preview']>

/** Response of GET /pricing/estimate: the rate card's US dollars, and reais when the account has an exchange rate. */
export type PriceEstimate = Res<S['Estimate']>

/** Response of GET/PATCH /account: the company and its settings. */
export type Account = Res<S['Account']>

/** A provider error: WhatsApp's numeric code and its title. */
export type ErrorInfo = Res<S['ErrorInfo']>

export type ConversationStatus = NonNullable<S['Conversation']['status']>
export type ConversationWindow = Res<S['Window']>
export type OpeningMessage = Res<S['OpeningMessage']>

/** The newest message of a conversation, as the list shows it (a note's direction is `internal`). */
export type LastMessage = Res<S['LastMessage']>

export type Conversation = Omit<
  Res<S['Conversation']>,
  'contact' | 'window' | 'failure' | 'opening_message' | 'estimated_cost' | 'last_message'
> & {
  contact: Contact
  window: ConversationWindow
  failure: ErrorInfo | null
  opening_message?: OpeningMessage
  estimated_cost?: PriceEstimate
  last_message: LastMessage | null
}

/** GET /conversations/counts: each tab's total and unread for the caller. */
export type TabCount = Res<S['TabCount']>
export type ConversationCounts = Res<S['ConversationCounts']>

/** A ready reply: the account's (admins write them) or the caller's own. */
export type QuickReply = Res<S['QuickReply']>

/** Body of POST /quick-replies and PATCH /quick-replies/{id}. */
export type QuickReplyInput = Required<Pick<S['QuickReplyRequest'], 'shortcut' | 'text' | 'scope'>>

/** Body of POST /conversations/{id}/transfer. */
export type TransferInput = S['TransferRequest']

export type SendType = NonNullable<S['StartRequest']['send_type']>

/** GET /contacts/{id}/start-state: the contact's window on a channel and the conversation open there. */
export type StartState = Res<S['StartState']>

/** Body of POST /conversations. */
export type StartConversationInput = Omit<S['StartRequest'], 'parameters' | 'contact'> & {
  contact?: ContactInput
  parameters?: TemplateParameters
  /** The header of a template with a media header (DESIGN.md § Media). */
  header_media?: HeaderMedia
}

export type MessageStatus = NonNullable<S['Message']['status']>

/** The file a message carries (DESIGN § Media); `failure` says why a `failed` one could not be fetched. */
export type MessageMedia = Res<S['MessageMedia']>
/** What WhatsApp calls a media item, judged by the server from the bytes. */
export type MediaKind = MessageMedia['kind']
/** Response of POST /media: the stored file. */
export type UploadedMedia = Res<S['Media']>

/** A message; `direction: internal` with `type: note` is an internal note, never sent to the contact. */
export type Message = Omit<Res<S['Message']>, 'error' | 'pricing' | 'parameters' | 'media' | 'content'> & {
  error: ErrorInfo | null
  pricing: Res<S['PricingInfo']> | null
  parameters?: TemplateParameters
  media?: MessageMedia | null
  content?: Record<string, unknown>
}

/** Body of POST /conversations/{id}/messages: text, a template, or an uploaded media with its caption. */
export type PostMessageInput =
  | { text: string }
  | { template_id: Id; parameters: TemplateParameters; header_media?: HeaderMedia }
  | { media_id: Id; caption?: string }

/** Body of POST /sandbox/channels/{id}/inbound: a text, or an uploaded media the contact "sends". */
export type SandboxInboundInput = Omit<S['SandboxInboundRequest'], 'text'> & { text?: string; media_id?: Id; caption?: string }

/**
 * Server-sent events on GET /events: `event: <kind>` and `data:` the resource's JSON exactly as
 * the REST endpoints return it (openapi.yaml can only say "text/event-stream", so the kinds and
 * their data are written here from the endpoint's description).
 */
export interface LiveEventMap {
  'conversation.created': Conversation
  'conversation.updated': Conversation
  /** No reply within the server's WAITING_TIMEOUT. */
  'conversation.waiting_expired': Conversation
  'message.created': Message
  'message.updated': Message
  /** Meta changed a template's quality rating or category. */
  'template.updated': Template
  /** Taken, handed over or returned to the queue. */
  'conversation.assigned': Conversation
  /** Sent to another team (and perhaps one of its members). */
  'conversation.transferred': Conversation
  'conversation.closed': Conversation
  'conversation.reopened': Conversation
}

export type LiveEventName = keyof LiveEventMap

export type LiveEvent = {
  [K in LiveEventName]: { type: K; data: LiveEventMap[K] }
}[LiveEventName]
