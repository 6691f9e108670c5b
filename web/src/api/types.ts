// Resource types of the Atendimento HTTP API (/api/v1).
//
// Written by hand from shared/DESIGN.md until the backend publishes openapi.yaml. When it does,
// run `npm run gen:api` and replace each interface below with an alias to the generated schema,
// keeping these names so that no component changes, e.g.:
//
//   import type { components } from './schema'
//   export type Contact = components['schemas']['Contact']
//
// Fields marked "assumed" are not spelled out in DESIGN.md; the report that introduced this
// file lists them so the backend can confirm or correct them.

/** A UUID string. */
export type Id = string
/** An RFC 3339 time in UTC. */
export type Timestamp = string

/** Every list endpoint returns one page of items and the cursor of the next page. */
export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

/** One failing field of a problem+json error. */
export interface FieldError {
  /** JSON path of the field, e.g. `channel_id` or `parameters.nome`. */
  field: string
  code: string
  message: string
}

/** RFC 9457 problem+json body with the API's stable `code`. */
export interface Problem {
  type: string
  title: string
  status: number
  detail?: string
  code: string
  errors?: FieldError[]
  /** Present on 409 `contact_exists` and `conversation_already_open`. */
  existing_id?: Id
}

export type Role = 'admin' | 'agent'

/** The agent logged into the SPA. */
export interface User {
  id: Id
  name: string
  email: string
  role: Role
  account_id: Id
}

export interface Contact {
  id: Id
  name: string
  /** E.164, e.g. +5511987654321. */
  phone: string
  email?: string | null
  attributes?: Record<string, unknown>
  created_at: Timestamp
  updated_at: Timestamp
}

/** Body of POST /contacts; the phone may be typed in any form ("com DDD"). */
export interface ContactInput {
  name: string
  phone: string
  email?: string
}

export type ChannelProvider = 'whatsapp_cloud' | 'sandbox'

export interface Channel {
  id: Id
  name: string
  provider: ChannelProvider
  phone_number: string
  phone_number_id?: string
  waba_id?: string
  active: boolean
  default_team_id: Id | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface Team {
  id: Id
  name: string
  channel_ids: Id[]
  member_ids: Id[]
  created_at: Timestamp
  updated_at: Timestamp
}

export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION'
export type TemplateStatus = 'APPROVED' | 'PENDING' | 'REJECTED' | 'PAUSED' | 'DISABLED'
export type ParameterFormat = 'NAMED' | 'POSITIONAL'

/** A component in Meta's shape; only the text-bearing ones matter to the SPA. */
export interface TemplateComponent {
  type: 'HEADER' | 'BODY' | 'FOOTER' | 'BUTTONS' | (string & {})
  format?: string
  text?: string
}

export interface Template {
  id: Id
  channel_id: Id
  name: string
  language: string
  category: TemplateCategory
  status: TemplateStatus
  parameter_format: ParameterFormat
  components: TemplateComponent[]
  /** `["nome","atendente"]` (named) or `["1","2"]` (positional). */
  variables: string[]
  created_at: Timestamp
  updated_at: Timestamp
}

/** Named templates take an object, positional ones an array in variable order. */
export type TemplateParameters = Record<string, string> | string[]

/** Response of POST /templates/{id}/preview (assumed shape: `rendered_text` and `errors`). */
export interface TemplatePreview {
  rendered_text: string | null
  errors: FieldError[]
}

/** Response of GET /pricing/estimate; `amount` may arrive as a number or a decimal string. */
export interface PriceEstimate {
  category: TemplateCategory | (string & {})
  billable: boolean
  amount: number | string
  currency: string
  rate_card_date: string
}

export type ConversationStatus = 'scheduled' | 'waiting' | 'active' | 'closed' | 'failed' | 'cancelled'

export interface ConversationWindow {
  open: boolean
  expires_at: Timestamp | null
}

export interface Conversation {
  id: Id
  status: ConversationStatus
  origin: 'active' | 'receptive'
  contact: Contact
  channel_id: Id
  team_id: Id
  window: ConversationWindow
  /** assumed: present on scheduled starts. */
  scheduled_at?: Timestamp | null
  opening_message?: { id: Id; status: MessageStatus; rendered_text: string | null } | null
  estimated_cost?: PriceEstimate | null
  created_at: Timestamp
  /** assumed */
  updated_at?: Timestamp
}

export type SendType = 'now' | 'scheduled'

/** Body of POST /conversations. */
export interface StartConversationInput {
  contact_id?: Id
  contact?: ContactInput
  channel_id: Id
  team_id: Id
  send_type: SendType
  scheduled_at: Timestamp | null
  template_id?: Id
  parameters?: TemplateParameters
  text?: string
}

export type MessageStatus =
  | 'scheduled'
  | 'queued'
  | 'pending'
  | 'sent'
  | 'delivered'
  | 'read'
  | 'failed'
  | 'received'

export interface Message {
  id: Id
  /** assumed: needed to route live events to the open conversation. */
  conversation_id: Id
  direction: 'in' | 'out'
  type: 'template' | 'text'
  text: string | null
  rendered_text: string | null
  status: MessageStatus
  error: { code: string; title: string } | null
  provider_message_id: string | null
  created_at: Timestamp
  updated_at?: Timestamp
}

/** Body of POST /conversations/{id}/messages. */
export type PostMessageInput = { text: string } | { template_id: Id; parameters: TemplateParameters }

/** Server-sent events on GET /events: the event name and the resource it carries. */
export interface LiveEventMap {
  'conversation.created': Conversation
  'conversation.updated': Conversation
  'message.created': Message
  'message.updated': Message
}

export type LiveEventName = keyof LiveEventMap

export type LiveEvent = {
  [K in LiveEventName]: { type: K; data: LiveEventMap[K] }
}[LiveEventName]
