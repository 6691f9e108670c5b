// Media (DESIGN.md § Media): the upload, which needs XMLHttpRequest for its progress (fetch has no
// upload progress), and the address of a media item's bytes. Part of the API module: components
// call these, never XMLHttpRequest themselves.

import { API_BASE, ApiError, csrfHeaders, failure, parseBody, route } from './client'
import type { Id, UploadedMedia } from './types'

/** The header of a template with an IMAGE, VIDEO or DOCUMENT header: an uploaded file or a public link. */
export type HeaderMedia = { media_id: Id } | { link: string }

/** Where the bytes of a media item are served (same origin, the session cookie). */
export function mediaUrl(id: Id): string {
  return `${API_BASE}${route('/api/v1/media/{id}', { id })}`
}

export interface UploadOptions {
  /** Called as the body goes out: bytes sent and the total. */
  onProgress?: (sent: number, total: number) => void
  signal?: AbortSignal
}

/**
 * POST /media (multipart `file` and `filename`) with upload progress. Resolves with the stored
 * media; rejects with an ApiError (413 media_too_large, 415 media_type_unsupported, a lost
 * connection as network_error) or an AbortError when the signal aborts.
 */
export function uploadMedia(file: File, opts: UploadOptions = {}): Promise<UploadedMedia> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `${API_BASE}${route('/api/v1/media')}`)
    xhr.withCredentials = true
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json')
    for (const [k, v] of Object.entries(csrfHeaders())) xhr.setRequestHeader(k, v)
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) opts.onProgress?.(e.loaded, e.total)
    }
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(parseBody(xhr.responseText) as UploadedMedia)
      else reject(failure(xhr.status, xhr.responseText))
    }
    xhr.onerror = () => reject(new ApiError({ type: 'about:blank', title: 'network error', status: 0, code: 'network_error' }))
    xhr.onabort = () => reject(new DOMException('upload aborted', 'AbortError'))
    if (opts.signal?.aborted) {
      reject(new DOMException('upload aborted', 'AbortError'))
      return
    }
    opts.signal?.addEventListener('abort', () => xhr.abort(), { once: true })
    const form = new FormData()
    form.append('file', file, file.name)
    if (file.name) form.append('filename', file.name)
    xhr.send(form)
  })
}
