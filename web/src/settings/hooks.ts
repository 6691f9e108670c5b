// Hooks the admin's sections share: loading a list, a form's server errors.

import { useCallback, useEffect, useState } from 'react'
import { ApiError } from '../api'
import { fieldErrorText, problemText } from '../lib/errors'

/** Loads once on mount and again on `reload()`; keeps the last data while reloading. */
export function useResource<T>(load: () => Promise<T>): { data: T | undefined; error: string; reload: () => void } {
  const [data, setData] = useState<T>()
  const [error, setError] = useState('')
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let live = true
    load().then(
      (v) => {
        if (!live) return
        setData(v)
        setError('')
      },
      (err: unknown) => live && setError(problemText(err)),
    )
    return () => {
      live = false
    }
    // `load` is a module-level call of the section; `tick` asks again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tick])
  return { data, error, reload: useCallback(() => setTick((n) => n + 1), []) }
}

/** Conflicts that belong to one field: a taken email or team name. */
const CONFLICT_FIELD: Record<string, string> = { user_exists: 'email', team_exists: 'name' }

/** A form's server errors: each at its field (by the field's JSON name), the rest in `general`. */
export function useServerErrors(fields: readonly string[]) {
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [general, setGeneral] = useState('')
  const take = (err: unknown) => {
    const at: Record<string, string> = {}
    const rest: string[] = []
    if (err instanceof ApiError && err.fieldErrors.length > 0) {
      for (const fe of err.fieldErrors) {
        const field = fields.find((f) => fe.field === f || fe.field.startsWith(`${f}.`) || fe.field.startsWith(`${f}[`))
        if (field && !at[field]) at[field] = fieldErrorText(fe)
        else if (!field) rest.push(fieldErrorText(fe))
      }
    } else if (err instanceof ApiError && fields.includes(CONFLICT_FIELD[err.code] ?? '')) {
      at[CONFLICT_FIELD[err.code]] = problemText(err)
    } else {
      rest.push(problemText(err))
    }
    setErrors(at)
    setGeneral(rest.join(' '))
  }
  const clear = () => {
    setErrors({})
    setGeneral('')
  }
  /** A field error found before asking the server (a number that is not one). */
  const set = (field: string, text: string) => setErrors((e) => ({ ...e, [field]: text }))
  return { errors, general, take, clear, set }
}
