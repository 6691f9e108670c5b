// Typed calls behind "Configurações › Canais" and "Modelos de mensagem" (admin only).

import { request, route } from './client'
import type { components } from './schema'
import type { Channel, Id, Page, Template, TemplateComponent } from './types'

type S = components['schemas']

/** Body of POST/PATCH /channels: secrets are write-only, sent only when typed. */
export type ChannelInput = S['ChannelRequest']

/** POST /channels/{id}/test: Meta's answer about the number when the credentials work. */
export type ChannelTestResult = Required<S['ChannelTestResult']>

/** A template Meta listed that could not be stored, with its errors. */
export type TemplateSyncFailure = Required<S['TemplateSyncFailure']>

/** POST /channels/{id}/templates/sync: what the sync did. */
export type TemplateSyncResult = Omit<Required<S['TemplateSyncResult']>, 'templates' | 'failures'> & {
  failures: TemplateSyncFailure[]
  templates: Template[]
}

/** Body of POST /templates: a template registered by hand (the sandbox channel's). */
export type TemplateInput = Omit<S['TemplateRequest'], 'components'> & { components: TemplateComponent[] }

/** Why a template cannot start a conversation (server-computed), or null. */
export type UnusableReason = NonNullable<Template['unusable_reason']>

export const channelsApi = {
  createChannel: (input: ChannelInput) => request<Channel>('POST', route('/api/v1/channels'), { body: input }),
  updateChannel: (id: Id, input: ChannelInput) => request<Channel>('PATCH', route('/api/v1/channels/{id}', { id }), { body: input }),
  testChannel: (id: Id) => request<ChannelTestResult>('POST', route('/api/v1/channels/{id}/test', { id })),
  syncTemplates: (id: Id) => request<TemplateSyncResult>('POST', route('/api/v1/channels/{id}/templates/sync', { id })),
  /** Every template of the channel, whatever its status (the settings list; the start flow asks for APPROVED only). */
  listChannelTemplates: (channelId: Id) =>
    request<Page<Template>>('GET', route('/api/v1/templates'), { query: { channel_id: channelId, limit: 200 } }).then((p) => p.items),
  createTemplate: (input: TemplateInput) => request<Template>('POST', route('/api/v1/templates'), { body: input }),
}
