// Turning API errors into messages at fields.

import { ApiError, type FieldError } from '../api'
import { errorText, t } from '../i18n/pt-BR'

/** pt-BR text for one field error: ours by code, else the server's message. */
export function fieldErrorText(e: FieldError): string {
  return errorText(e.code, e.message)
}

/** First error per field, keyed by the field's JSON path. */
export function byField(errors: FieldError[]): Record<string, FieldError> {
  const out: Record<string, FieldError> = {}
  for (const e of errors) if (!out[e.field]) out[e.field] = e
  return out
}

/** A sentence for an error that has no field to land on. */
export function problemText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return errorText('forbidden')
    return errorText(err.code, err.problem.detail || err.problem.title)
  }
  return t('common.unexpected')
}

/** What a failed login says: wrong credentials, the lockout with its wait in minutes, or the problem. */
export function loginErrorText(err: unknown): string {
  if (err instanceof ApiError) {
    // The right password of a deactivated user: say so, rather than "wrong password".
    if (err.code === 'user_inactive') return errorText('user_inactive')
    if (err.status === 401 || err.status === 422) return t('login.invalid')
    const wait = err.problem.retry_after
    if (err.code === 'login_locked' && wait) return t('login.locked', { minutes: Math.max(1, Math.ceil(wait / 60)) })
  }
  return problemText(err)
}
