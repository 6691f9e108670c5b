// The one place that talks HTTP: base URL, JSON, problem+json errors, the session's CSRF header.

import type { ApiPath, FieldError, MeBody, Problem, SessionBody, User } from './types'

/** Relative on purpose: the SPA is served by the API's own host (or Vite's proxy in dev). */
export const API_BASE: string = (import.meta.env.VITE_API_BASE ?? '/api/v1').replace(/\/$/, '')

/** What the SPA keeps of a login: the user and the CSRF header to send on writes. */
export interface Session {
  user: User
  csrfHeader: string
  csrfToken: string
}

/**
 * Reads the body of POST /auth/login (`Session`) and GET /me (`Me`): both carry `user`,
 * `csrf_token` and `csrf_header`. A /me without a user (an API key) is not an SPA session.
 */
export function readSession(body: SessionBody | MeBody): Session {
  const user = body?.user
  if (!user?.id) throw new Error('not a user session')
  return {
    user: user as User,
    csrfHeader: body.csrf_header || 'X-CSRF-Token',
    csrfToken: body.csrf_token ?? '',
  }
}

let csrf: { header: string; token: string } | null = null
let unauthorized: (() => void) | null = null

/** Remembers (or forgets) the CSRF header that state-changing requests must carry. */
export function setSession(s: Session | null): void {
  csrf = s && s.csrfToken ? { header: s.csrfHeader, token: s.csrfToken } : null
}

/** Registers what to do when the session is gone (any 401 outside the login call). */
export function onUnauthorized(fn: (() => void) | null): void {
  unauthorized = fn
}

/** A failed call: the HTTP status and the problem+json body (synthesised when there is none). */
export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem

  constructor(problem: Problem) {
    super(problem.detail || problem.title || problem.code)
    this.name = 'ApiError'
    this.status = problem.status
    this.problem = problem
  }

  get code(): string {
    return this.problem.code
  }

  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? []
  }
}

export type Query = Record<string, string | number | undefined | null>

type ParamNames<P extends string> = P extends `${string}{${infer K}}${infer Rest}` ? K | ParamNames<Rest> : never

/**
 * The request path for a route of the contract: the template must be a path of openapi.yaml
 * (so a renamed or removed route fails the build), its `{params}` filled and URL-encoded.
 */
export function route<P extends ApiPath>(
  template: P,
  ...args: [ParamNames<P>] extends [never] ? [] : [params: Record<ParamNames<P>, string>]
): string {
  const params = (args[0] ?? {}) as Record<string, string>
  const filled = template.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(params[k]))
  return filled.replace(/^\/api\/v1/, '')
}

export interface RequestOptions {
  query?: Query
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Skip the global 401 handler (the login form handles its own 401). */
  quiet401?: boolean
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Builds `/api/v1<path>?<query>`, leaving out empty query values. */
export function url(path: string, query?: Query): string {
  const qs = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v))
  }
  const s = qs.toString()
  return `${API_BASE}${path}${s ? `?${s}` : ''}`
}

/** Performs one call and returns its JSON body (undefined for 204). Throws ApiError. */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...opts.headers }
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
  if (WRITES.has(method) && csrf) headers[csrf.header] = csrf.token

  let res: Response
  try {
    res = await fetch(url(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    throw new ApiError({ type: 'about:blank', title: 'network error', status: 0, code: 'network_error' })
  }

  if (res.status === 204) return undefined as T
  const text = await res.text()
  if (res.ok) return parseBody(text) as T
  throw failure(res.status, text, opts.quiet401)
}

/** The CSRF header a state-changing request must carry (empty before a session). */
export function csrfHeaders(): Record<string, string> {
  return csrf ? { [csrf.header]: csrf.token } : {}
}

/** A JSON body, or undefined when there is none or it is not JSON. */
export function parseBody(text: string): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The ApiError of a failed answer (and the session's end on a 401), for callers beside `request` (an upload). */
export function failure(status: number, text: string, quiet401 = false): ApiError {
  if (status === 401 && !quiet401) unauthorized?.()
  return new ApiError(toProblem(status, parseBody(text)))
}

function toProblem(status: number, body: unknown): Problem {
  const b = (body && typeof body === 'object' ? body : {}) as Partial<Problem>
  return {
    type: b.type ?? 'about:blank',
    title: b.title ?? `HTTP ${status}`,
    status: b.status ?? status,
    detail: b.detail,
    // A body that is not ours (a proxy's 502 page): a code the pt-BR catalogue has.
    code: b.code ?? (status >= 500 ? 'service_unavailable' : 'http_error'),
    errors: Array.isArray(b.errors) ? b.errors : [],
    existing_id: b.existing_id,
    retry_after: typeof b.retry_after === 'number' ? b.retry_after : undefined,
    assignee_id: b.assignee_id,
    assignee_name: b.assignee_name,
  }
}
