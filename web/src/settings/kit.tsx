// Components the admin's sections share: their heading, a list's loading state, choice groups,
// a secret shown once. Their hooks are in ./hooks.

import { useId, useState, type ReactNode } from 'react'
import { t } from '../i18n/pt-BR'

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
