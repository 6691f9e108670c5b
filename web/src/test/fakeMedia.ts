// The media routes of DESIGN.md § Media on top of the fake API: POST /media (through a fake
// XMLHttpRequest, since the SPA uploads with XHR for its progress), media messages, simulated
// inbound media, and template starts and sends with `header_media`. Uploads can be held so a test
// sees the progress and decides when the server answers.

import type { FieldError, Message, MessageMedia, Template, UploadedMedia } from '../api'
import { FakeApi, type RecordedRequest } from './fakeApi'

/** Meta's limits per kind, as the server applies them. */
const LIMITS: Record<string, number> = { image: 5_000_000, audio: 16_000_000, video: 16_000_000, document: 100_000_000, sticker: 500_000 }

type Reply = { status: number; body?: unknown }

const problem = (status: number, code: string, errors: FieldError[] = []): Reply => ({
  status,
  body: { type: `https://atendimento.dev/problems/${code}`, title: code, status, code, errors },
})

/** One upload in flight: the test moves its progress and lets the answer go. */
export interface HeldUpload {
  file: File
  progress: (fraction: number) => void
  finish: () => void
  fail: () => void
}

export class FakeMediaApi extends FakeApi {
  uploads: Array<UploadedMedia & { file: File }> = []
  /** When true, uploads wait in `held` until the test finishes them. */
  holdUploads = false
  held: HeldUpload[] = []

  constructor() {
    super()
    const base = this.fetch
    this.fetch = async (input, init = {}) => {
      const u = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, 'http://localhost')
      const method = (init.method ?? 'GET').toUpperCase()
      const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined
      const reply = this.mediaRoute(method, u.pathname, body)
      if (!reply) return base(input, init)
      const headers: Record<string, string> = {}
      new Headers(init.headers).forEach((v, k) => (headers[k.toLowerCase()] = v))
      this.requests.push({ method, path: u.pathname, query: u.searchParams, headers, body })
      await new Promise((r) => setTimeout(r, 0))
      return new Response(JSON.stringify(reply.body), {
        status: reply.status,
        headers: { 'Content-Type': reply.status >= 400 ? 'application/problem+json' : 'application/json' },
      })
    }
  }

  /** POST /media as the server judges it: kind from the type, Meta's limit per kind, 415 for what Meta does not take. */
  upload(file: File): Reply {
    const type = file.type || 'application/octet-stream'
    const kind = /^image\/(jpeg|png)$/.test(type)
      ? 'image'
      : type === 'image/webp'
        ? 'sticker'
        : /^audio\/(ogg|mpeg|mp4|aac|amr)/.test(type)
          ? 'audio'
          : /^video\/(mp4|3gpp)$/.test(type)
            ? 'video'
            : /^(application\/(pdf|msword|vnd\.)|text\/plain)/.test(type)
              ? 'document'
              : null
    if (!kind) return problem(415, 'media_type_unsupported')
    if (file.size > LIMITS[kind]) return problem(413, 'media_too_large')
    const m = { id: `md-${this.uploads.length + 1}`, kind, mime_type: type, size: file.size, sha256: 'x'.repeat(64), filename: file.name, file }
    this.uploads.push(m as UploadedMedia & { file: File })
    const { file: _f, ...out } = m
    return { status: 201, body: out }
  }

  /** A message with media, as the history lists it. */
  addMedia(
    conversationId: string,
    direction: 'in' | 'out',
    media: Partial<MessageMedia> & Pick<MessageMedia, 'kind'>,
    extra: Partial<Message> = {},
  ): Message {
    const full: MessageMedia = { id: `md-${this.uploads.length + 100}`, mime_type: '', size: 0, filename: '', caption: '', voice: false, status: 'ready', failure: '', ...media }
    return this.addMessage(conversationId, {
      direction,
      type: media.kind,
      status: direction === 'in' ? 'received' : 'sent',
      text: full.caption,
      media: full,
      ...extra,
    } as Partial<Message> & Pick<Message, 'direction' | 'type' | 'status'>)
  }

  private mediaRoute(method: string, path: string, body: Record<string, unknown> | undefined): Reply | null {
    const p = path.replace(/^\/api\/v1/, '')
    let m: RegExpExecArray | null
    if (method === 'POST' && (m = /^\/conversations\/([\w-]+)\/messages$/.exec(p)) && body?.media_id !== undefined) {
      const c = this.conversations.find((x) => x.id === m![1])!
      const up = this.uploads.find((x) => x.id === body.media_id)
      if (!up) return problem(422, 'validation_failed', [{ field: 'media_id', code: 'media_not_found', message: 'media not found' }])
      const queued = c.status === 'waiting' || c.status === 'scheduled'
      const msg = this.addMessage(c.id, {
        direction: 'out',
        type: up.kind,
        status: queued ? 'queued' : 'sent',
        text: String(body.caption ?? ''),
        media: { id: up.id, kind: up.kind, mime_type: up.mime_type, size: up.size, filename: up.filename, caption: String(body.caption ?? ''), voice: false, status: 'ready', failure: '' },
      } as Partial<Message> & Pick<Message, 'direction' | 'type' | 'status'>)
      this.emit('message.created', msg)
      return { status: 201, body: msg }
    }
    if (method === 'POST' && (m = /^\/sandbox\/channels\/([\w-]+)\/inbound$/.exec(p)) && body?.media_id !== undefined) {
      const conv = this.conversations.find((c) => c.channel_id === m![1] && c.contact.phone === body?.from && ['waiting', 'active'].includes(c.status))!
      const up = this.uploads.find((x) => x.id === body?.media_id)
      if (!up) return problem(422, 'validation_failed', [{ field: 'media_id', code: 'media_not_found', message: 'media not found' }])
      const msg = this.addMedia(conv.id, 'in', { id: up.id, kind: up.kind, mime_type: up.mime_type, size: up.size, filename: up.filename, caption: String(body?.caption ?? '') })
      this.emit('message.created', msg)
      return { status: 202, body: {} }
    }
    // Starts and template sends: a media header needs header_media, of the header's kind.
    const templateId = body?.template_id
    if (method === 'POST' && (p === '/conversations' || /^\/conversations\/[\w-]+\/messages$/.test(p)) && typeof templateId === 'string') {
      const t = this.templates.find((x) => x.id === templateId)
      const format = t?.components.find((c) => c.type === 'HEADER')?.format
      if (!t || !format || format === 'TEXT') return null
      const h = body?.header_media as { media_id?: string; link?: string } | undefined
      const up = h?.media_id ? this.uploads.find((x) => x.id === h.media_id) : undefined
      if (!h || (!h.link && !up)) return problem(422, 'validation_failed', [{ field: 'header_media', code: 'header_media_missing', message: 'missing' }])
      if (up && up.kind !== format.toLowerCase()) {
        return problem(422, 'validation_failed', [{ field: 'header_media', code: 'header_media_kind_mismatch', message: 'mismatch' }])
      }
      return null
    }
    return null
  }

  /** The multipart upload the SPA sent, as recorded. */
  lastUpload(): RecordedRequest | undefined {
    return this.calls('POST', '/api/v1/media').at(-1)
  }
}

/** A template with a media header (IMAGE, VIDEO or DOCUMENT) and one body variable. */
export function mediaTemplate(format: 'IMAGE' | 'VIDEO' | 'DOCUMENT', id = 'tp-boleto'): Template {
  const components = [
    { type: 'HEADER', format },
    { type: 'BODY', text: 'Olá {{1}}, segue seu boleto.', example: { body_text: [['Maria']] } },
  ]
  return {
    id,
    unusable_reason: null,
    channel_id: 'ch-vendas',
    name: 'boleto_mes',
    language: 'pt_BR',
    category: 'UTILITY',
    status: 'APPROVED',
    external_id: `meta-${id}`,
    quality: 'UNKNOWN',
    parameter_format: 'POSITIONAL',
    components,
    variables: ['1'],
    variable_details: [{ key: '1', component: 'BODY', label: '[1]', example: 'Maria' }],
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  }
}

/**
 * XMLHttpRequest as the browser would run POST /media against the fake: checks the session's
 * CSRF header, reports upload progress, and answers as FakeMediaApi.upload does.
 */
export function fakeXhr(api: FakeMediaApi) {
  return class FakeXMLHttpRequest {
    status = 0
    responseText = ''
    withCredentials = false
    upload: { onprogress: ((e: ProgressEvent) => void) | null } = { onprogress: null }
    onload: (() => void) | null = null
    onerror: (() => void) | null = null
    onabort: (() => void) | null = null
    private method = ''
    private url = ''
    private headers: Record<string, string> = {}
    private done = false

    open(method: string, url: string) {
      this.method = method
      this.url = url
    }
    setRequestHeader(k: string, v: string) {
      this.headers[k.toLowerCase()] = v
    }
    abort() {
      if (this.done) return
      this.done = true
      this.onabort?.()
    }
    send(form: FormData) {
      const file = form.get('file') as File
      const u = new URL(this.url, 'http://localhost')
      api.requests.push({ method: this.method, path: u.pathname, query: u.searchParams, headers: this.headers, body: { file, filename: form.get('filename') } })
      const progress = (f: number) => {
        if (!this.done) this.upload.onprogress?.({ lengthComputable: true, loaded: Math.round(file.size * f), total: file.size } as ProgressEvent)
      }
      const finish = () => {
        if (this.done) return
        this.done = true
        const csrfOk = this.headers[api.csrfHeader.toLowerCase()] === api.csrfToken
        const reply = !api.sessionUser ? problem(401, 'unauthorized') : !csrfOk ? problem(403, 'csrf_failed') : api.upload(file)
        this.status = reply.status
        this.responseText = JSON.stringify(reply.body)
        this.onload?.()
      }
      const fail = () => {
        if (this.done) return
        this.done = true
        this.onerror?.()
      }
      if (api.holdUploads) {
        api.held.push({ file, progress, finish, fail })
        return
      }
      setTimeout(() => {
        progress(0.5)
        setTimeout(() => {
          progress(1)
          finish()
        }, 0)
      }, 0)
    }
  }
}
