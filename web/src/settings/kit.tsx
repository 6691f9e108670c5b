// Pieces the admin's sections share: loading a list, a form's server errors, choice groups, a
// secret shown once.

import { useCallback, useEffect, useId, useState, type ReactNode } from 'react'
import { ApiError } from '../api'
import { t } from '../i18n/pt-BR'
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

/** The section's title, a sentence about it and its main action. */
export function SectionHead({ title, intro, action }: { title: string; intro: string; action?: ReactNode }) {
  return (
    <div className="section-head">
      <div>
        <h2>{title}</h2>
        <p className="muted small">{intro}</p>
      </div>
      {action}
    </div>
  )
}

/** A list that failed to load, or is loading. */
export function LoadState({ error, loading, onRetry }: { error: string; loading: boolean; onRetry: () => void }) {
  if (error) {
    return (
      <div className="alert alert-error" role="alert">
        {error}{' '}
        <button type="button" className="link-button" onClick={onRetry}>
          {t('common.retry')}
        </button>
      </div>
    )
  }
  if (loading) {
    return (
      <p className="muted" role="status">
        {t('common.loading')}
      </p>
    )
  }
  return null
}

interface Option {
  value: string
  label: string
  hint?: string
}

/** Checkboxes for a set of ids (channels, members, teams, event kinds), with the server's error. */
export function CheckboxGroup(props: { legend: string; options: Option[]; value: string[]; onChange: (v: string[]) => void; error?: string; empty?: string }) {
  const { legend, options, value, onChange, error, empty } = props
  const id = useId()
  const toggle = (v: string, on: boolean) => onChange(on ? [...value, v] : value.filter((x) => x !== v))
  return (
    <fieldset className={`field checkbox-group${error ? ' field-invalid' : ''}`} aria-describedby={error ? `${id}-error` : undefined}>
      <legend>{legend}</legend>
      {options.length === 0 && <p className="muted small">{empty}</p>}
      {options.map((o) => (
        <label key={o.value} className="checkbox">
          <input type="checkbox" checked={value.includes(o.value)} onChange={(e) => toggle(o.value, e.target.checked)} />
          <span>
            {o.label}
            {o.hint && <span className="muted small"> {o.hint}</span>}
          </span>
        </label>
      ))}
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  )
}

/** A labelled select with the server's error. */
export function SelectField(props: { label: string; value: string; options: Option[]; onChange: (v: string) => void; error?: string; hint?: string }) {
  const { label, value, options, onChange, error, hint } = props
  const id = useId()
  const describedBy = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={error ? true : undefined} aria-describedby={describedBy}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}

/** A secret the server shows this one time: the value, a copy button and the warning. */
export function SecretOnce({ label, secret, warning }: { label: string; secret: string; warning: string }) {
  const [copied, setCopied] = useState(false)
  const id = useId()
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret)
      setCopied(true)
    } catch {
      // No clipboard (an insecure origin): the value stays selectable.
      const el = document.getElementById(id) as HTMLInputElement | null
      el?.select()
    }
  }
  return (
    <div className="secret-once">
      <div className="alert alert-warning" role="note">
        {warning}
      </div>
      <label htmlFor={id} className="secret-label">
        {label}
      </label>
      <div className="secret-row">
        <input id={id} className="secret-value" readOnly value={secret} onFocus={(e) => e.target.select()} />
        <button type="button" className="button" onClick={copy}>
          {t('settings.copy')}
        </button>
      </div>
      <p className="muted small" role="status">
        {copied ? t('settings.copied') : ''}
      </p>
    </div>
  )
}
