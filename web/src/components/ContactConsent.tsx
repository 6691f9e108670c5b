import { useEffect, useId, useRef, useState } from 'react'
import { api, ApiError, type ConsentEntry, type Contact } from '../api'
import { formatDayTime } from '../i18n/format'
import { useAccountZone } from '../i18n/zone'
import { t } from '../i18n/pt-BR'
import { consentLine } from '../lib/consent'
import { fieldErrorText, problemText } from '../lib/errors'
import { Field } from './Field'

interface Props {
  contact: Contact
  /** The contact as it is after the agent recorded a change. */
  onChange: (c: Contact) => void
  /** A server error about the contact (e.g. 422 contact_opted_out), shown here. */
  error?: string
}

/**
 * The contact's marketing consent: the current state, its history on demand, and the agent's
 * own change (opt out / opt back in) after a confirmation.
 */
export function ContactConsent({ contact, onChange, error }: Props) {
  const zone = useAccountZone()
  const ids = useId()
  const [historyOpen, setHistoryOpen] = useState(false)
  const [confirming, setConfirming] = useState(false)
  const [note, setNote] = useState('')
  const [busy, setBusy] = useState(false)
  const [actionError, setActionError] = useState('')
  const [noteError, setNoteError] = useState('')
  const [version, setVersion] = useState(0)
  const confirmRef = useRef<HTMLParagraphElement>(null)
  const actionRef = useRef<HTMLButtonElement>(null)
  const optedOut = contact.marketing_opted_out

  useEffect(() => {
    if (confirming) confirmRef.current?.focus()
  }, [confirming])

  function cancel() {
    setConfirming(false)
    setNote('')
    setActionError('')
    setNoteError('')
    // The confirmation had focus: hand it back to the button that opened it.
    requestAnimationFrame(() => actionRef.current?.focus())
  }

  async function confirm() {
    setBusy(true)
    setActionError('')
    setNoteError('')
    try {
      const entry = await api.recordConsent(contact.id, { opted_out: !optedOut, ...(note.trim() ? { detail: note.trim() } : {}) })
      // The contact's own record is the truth; the entry stands in when it cannot be read.
      const fresh = await api.getContact(contact.id).catch(() => ({ ...contact, marketing_opted_out: entry.opted_out, marketing_consent_at: entry.at }))
      setConfirming(false)
      setNote('')
      setVersion((v) => v + 1)
      onChange(fresh)
      requestAnimationFrame(() => actionRef.current?.focus())
    } catch (err) {
      const fields = err instanceof ApiError ? err.fieldErrors : []
      const atNote = fields.find((e) => e.field === 'detail')
      if (atNote) setNoteError(fieldErrorText(atNote))
      const rest = fields.filter((e) => e !== atNote)
      if (rest.length) setActionError(rest.map(fieldErrorText).join(' '))
      else if (!atNote) setActionError(problemText(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className={`consent${optedOut ? ' consent-out' : ''}`} role="group" aria-labelledby={`${ids}-h`}>
      <span id={`${ids}-h`} className="visually-hidden">
        {t('consent.heading')}
      </span>
      <p className="consent-line" aria-live="polite">
        <span className="consent-dot" aria-hidden="true" />
        {consentLine(contact, zone)}
      </p>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <div className="consent-actions">
        <button
          type="button"
          className="link-button small"
          aria-expanded={historyOpen}
          aria-controls={`${ids}-history`}
          onClick={() => setHistoryOpen((o) => !o)}
        >
          {historyOpen ? t('consent.hideHistory') : t('consent.showHistory')}
        </button>
        {!confirming && (
          <button ref={actionRef} type="button" className="link-button small" onClick={() => setConfirming(true)}>
            {optedOut ? t('consent.optIn') : t('consent.optOut')}
          </button>
        )}
      </div>
      {confirming && (
        <div className="consent-confirm" role="group" aria-labelledby={`${ids}-confirm`}>
          <p id={`${ids}-confirm`} ref={confirmRef} tabIndex={-1}>
            {optedOut ? t('consent.confirmOptIn', { name: contact.name }) : t('consent.confirmOptOut', { name: contact.name })}
          </p>
          <Field
            label={t('consent.note')}
            placeholder={t('consent.notePlaceholder')}
            maxLength={500}
            value={note}
            error={noteError || undefined}
            onChange={(e) => {
              setNote(e.target.value)
              setNoteError('')
            }}
          />
          {actionError && (
            <p className="field-error" role="alert">
              {actionError}
            </p>
          )}
          <div className="consent-confirm-buttons">
            <button type="button" className="button button-ghost" onClick={cancel} disabled={busy}>
              {t('consent.keep')}
            </button>
            <button type="button" className={`button ${optedOut ? 'button-primary' : 'button-danger'}`} onClick={confirm} disabled={busy}>
              {busy ? t('consent.saving') : t('consent.confirm')}
            </button>
          </div>
        </div>
      )}
      <div id={`${ids}-history`} hidden={!historyOpen}>
        {historyOpen && <ConsentHistory contact={contact} version={version} />}
      </div>
    </div>
  )
}

function ConsentHistory({ contact, version }: { contact: Contact; version: number }) {
  const zone = useAccountZone()
  const [state, setState] = useState<{ key: string; items: ConsentEntry[] } | null>(null)
  const [loadError, setLoadError] = useState('')
  const key = `${contact.id}|${version}|${contact.marketing_consent_at ?? ''}`

  useEffect(() => {
    let live = true
    api.listConsent(contact.id).then(
      (items) => {
        if (!live) return
        setState({ key, items })
        setLoadError('')
      },
      () => live && setLoadError(t('consent.historyError')),
    )
    return () => {
      live = false
    }
  }, [contact.id, key])

  if (loadError) {
    return (
      <p className="field-error" role="alert">
        {loadError}
      </p>
    )
  }
  if (!state) return <p className="muted small">{t('common.loading')}</p>
  if (state.items.length === 0) return <p className="muted small">{t('consent.historyEmpty')}</p>
  return (
    <ol className="consent-history" aria-label={t('consent.history', { name: contact.name })}>
      {state.items.map((e) => (
        <li key={e.id}>
          <strong>{e.opted_out ? t('consent.entry.optedOut') : t('consent.entry.optedIn')}</strong>{' '}
          <span className="muted">
            {t('consent.entry.line', { date: formatDayTime(e.at, zone), source: t(`consent.source.${e.source}` as const) })}
          </span>
          {e.detail && <span className="consent-detail">“{e.detail}”</span>}
        </li>
      ))}
    </ol>
  )
}
