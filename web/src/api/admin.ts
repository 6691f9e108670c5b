// Typed calls behind the admin's "Configurações" sections: teams, users (atendentes), API keys,
// CRM webhooks and the account. Like index.ts, the only way those screens reach the server.

import { request, route } from './client'
import type { components } from './schema'
import type { Account, Id, Page, Team, User } from './types'

type S = components['schemas']
type Res<T> = T extends (infer U)[] ? Res<U>[] : T extends object ? { [K in keyof T]-?: Res<Exclude<T[K], undefined>> } : T

export type TeamInput = S['TeamRequest']
export type UserInput = S['UserRequest']
/** An API key; `secret` only in the answer that creates it. */
export type ApiKey = Omit<Res<S['APIKey']>, 'secret'> & { secret?: string }
export type ApiKeyInput = S['APIKeyRequest']
/** A CRM webhook subscription; `secret` only in the answer that creates it. */
export type WebhookSubscription = Omit<Res<S['WebhookSubscription']>, 'secret'> & { secret?: string }
export type WebhookInput = S['WebhookSubscriptionRequest']
export type WebhookDelivery = Res<S['WebhookDelivery']>
export type WebhookAttempt = Res<S['WebhookAttempt']>
export type AccountInput = S['AccountRequest']

const MAX_PAGE = 200

async function all<T>(path: string, maxPages = 20): Promise<T[]> {
  const items: T[] = []
  let cursor: string | null = null
  for (let i = 0; i < maxPages; i++) {
    const page: Page<T> = await request<Page<T>>('GET', path, { query: { limit: MAX_PAGE, cursor } })
    items.push(...page.items)
    cursor = page.next_cursor
    if (!cursor) break
  }
  return items
}

/** The event kinds a CRM may subscribe to (the server's list). */
export const WEBHOOK_EVENTS = [
  'conversation.created',
  'conversation.updated',
  'conversation.waiting_expired',
  'message.created',
  'message.updated',
  'template.updated',
] as const

export const adminApi = {
  listTeams: () => all<Team>(route('/api/v1/teams')),
  createTeam: (input: TeamInput) => request<Team>('POST', route('/api/v1/teams'), { body: input }),
  updateTeam: (id: Id, input: TeamInput) => request<Team>('PATCH', route('/api/v1/teams/{id}', { id }), { body: input }),
  deleteTeam: (id: Id) => request<void>('DELETE', route('/api/v1/teams/{id}', { id })),

  listUsers: () => all<User>(route('/api/v1/users')),
  createUser: (input: UserInput) => request<User>('POST', route('/api/v1/users'), { body: input }),
  /** PATCH /users/{id}: also deactivates (`active: false`), reactivates and resets the password. */
  updateUser: (id: Id, input: UserInput) => request<User>('PATCH', route('/api/v1/users/{id}', { id }), { body: input }),
  deleteUser: (id: Id) => request<void>('DELETE', route('/api/v1/users/{id}', { id })),

  listApiKeys: () => all<ApiKey>(route('/api/v1/api-keys')),
  createApiKey: (input: ApiKeyInput) => request<ApiKey>('POST', route('/api/v1/api-keys'), { body: input }),
  revokeApiKey: (id: Id) => request<void>('DELETE', route('/api/v1/api-keys/{id}', { id })),

  listWebhooks: () => all<WebhookSubscription>(route('/api/v1/webhook-subscriptions')),
  createWebhook: (input: WebhookInput) => request<WebhookSubscription>('POST', route('/api/v1/webhook-subscriptions'), { body: input }),
  deleteWebhook: (id: Id) => request<void>('DELETE', route('/api/v1/webhook-subscriptions/{id}', { id })),
  /** The newest deliveries first (one page: the log shows the recent ones). */
  listDeliveries: (id: Id) =>
    request<Page<WebhookDelivery>>('GET', route('/api/v1/webhook-subscriptions/{id}/deliveries', { id }), { query: { limit: 50 } }).then(
      (p) => p.items,
    ),
  redeliver: (id: Id, deliveryId: Id) =>
    request<WebhookDelivery>('POST', route('/api/v1/webhook-subscriptions/{id}/deliveries/{delivery_id}/redeliver', { id, delivery_id: deliveryId })),

  getAccount: () => request<Account>('GET', route('/api/v1/account')),
  updateAccount: (input: AccountInput) => request<Account>('PATCH', route('/api/v1/account'), { body: input }),
}
