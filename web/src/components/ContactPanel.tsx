import { useEffect, useId, useState, type FormEvent } from 'react'
import { api, ApiError, type Contact, type Conversation, type FieldError, type Message } from '../api'
import { formatDateTime, formatPhone } from '../i18n/format'
import { useAccountZone } from '../i18n/zone'
import { t } from '../i18n/pt-BR'
import { byField, fieldErrorText, problemText } from '../lib/errors'
import { conversationHref } from '../lib/hooks'
import { useDirectory } from '../state'
import { Field } from './Field'

interface Props {
  contact: Contact
  currentId: string
  onChange: (c: Contact) => void
}

/**
 * The contact's context beside the conversation: details (name and e-mail editable), their
 * conversations on every channel, and the internal notes written about them.
 */
export function ContactPanel({ contact, currentId, onChange }: Props) {
  const zone = useAccountZone()
  const { channelName, userName } = useDirectory()
  const id = useId()
  const [editing, setEditing] = useState(false)
  const [name, setName] = useState(contact.name)
  const [email, setEmail] = useState(contact.email ?? '')
  const [errors, setErrors] = useState<FieldError[]>([])
  const [formError, setFormError] = useState('')
  const [busy, setBusy] = useState(false)
  const [history, setHistory] = useState<Conversation[] | null>(null)
  const [notes, setNotes] = useState<Message[] | null>(null)
  const [notesCursor, setNotesCursor] = useState<string | null>(null)
  const [loadError, setLoadError] = useState('')

  useEffect(() => {
    let live = true
    api.listConversations({ contact_id: contact.id }).then(
      (list) => live && setHistory(list.filter((c) => c.id !== currentId)),
      (err) => live && setLoadError(problemText(err)),
    )
    api.contactNotes(contact.id).then(
      (p) => {
        if (!live) return
        setNotes(p.items)
        setNotesCursor(p.next_cursor)
      },
      (err) => live && setLoadError(problemText(err)),
    )
    return () => {
      live = false
    }
  }, [contact.id, currentId])

  const moreNotes = () =>
    api.contactNotes(contact.id, notesCursor).then(
      (p) => {
        setNotes((cur) => [...(cur ?? []), ...p.items])
        setNotesCursor(p.next_cursor)
      },
      (err) => setLoadError(problemText(err)),
    )

  async function save(e: FormEvent) {
    e.preventDefault()
    if (!name.trim()) return setErrors([{ field: 'name', code: 'required', message: t('contactPanel.nameRequired') }])
    setBusy(true)
    setErrors([])
    setFormError('')
    try {
      onChange(await api.updateContact(contact.id, { name: name.trim(), email: email.trim() }))
      setEditing(false)
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length) setErrors(err.fieldErrors)
      else setFormError(problemText(err))
    } finally {
      setBusy(false)
    }
  }
  const fe = byField(errors)
  const err = (f: string) => (fe[f] ? (fe[f].code === 'required' ? fe[f].message : fieldErrorText(fe[f])) : undefined)

  return (
    <aside className="contact-panel" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>{t('contactPanel.title')}</h3>
      {editing ? (
        <form onSubmit={save} className="stack" noValidate>
          <Field label={t('contactPanel.name')} value={name} error={err('name')} onChange={(e) => setName(e.target.value)} />
          <Field label={t('contactPanel.email')} type="email" value={email} error={err('email')} onChange={(e) => setEmail(e.target.value)} />
          {formError && (
            <p className="alert alert-error" role="alert">
              {formError}
            </p>
          )}
          <div className="dialog-actions">
            <button
              type="button"
              className="button button-ghost"
              onClick={() => {
                setEditing(false)
                setName(contact.name)
                setEmail(contact.email ?? '')
                setErrors([])
              }}
            >
              {t('common.cancel')}
            </button>
            <button type="submit" className="button button-primary" disabled={busy}>
              {t('contactPanel.save')}
            </button>
          </div>
        </form>
      ) : (
        <dl className="contact-details">
          <dt>{t('contactPanel.name')}</dt>
          <dd>{contact.name || '—'}</dd>
          <dt>{t('contactPanel.phone')}</dt>
          <dd>{formatPhone(contact.phone)}</dd>
          <dt>{t('contactPanel.email')}</dt>
          <dd>{contact.email || '—'}</dd>
        </dl>
      )}
      {!editing && (
        <button type="button" className="button button-ghost small" onClick={() => setEditing(true)}>
          {t('contactPanel.edit')}
        </button>
      )}
      {loadError && (
        <p className="alert alert-error" role="alert">
          {loadError}
        </p>
      )}

      <h4>{t('contactPanel.history')}</h4>
      {history === null && !loadError && <p className="muted small">{t('common.loading')}</p>}
      {history && history.length === 0 && <p className="muted small">{t('contactPanel.noHistory')}</p>}
      {history && history.length > 0 && (
        <ul className="contact-history">
          {history.map((c) => (
            <li key={c.id}>
              <a href={conversationHref(c.id)}>
                {channelName(c.channel_id)} · {t(`status.${c.status}` as const)}
              </a>
              <span className="muted small"> {formatDateTime(c.updated_at ?? c.created_at, zone)}</span>
            </li>
          ))}
        </ul>
      )}

      <h4>{t('contactPanel.notes')}</h4>
      {notes === null && !loadError && <p className="muted small">{t('common.loading')}</p>}
      {notes && notes.length === 0 && <p className="muted small">{t('contactPanel.noNotes')}</p>}
      {notes && notes.length > 0 && (
        <ul className="contact-notes">
          {notes.map((n) => (
            <li key={n.id} className="contact-note">
              <p>{n.text}</p>
              <p className="muted small">
                {n.author_name || userName(n.author_id)} · {formatDateTime(n.created_at, zone)}
              </p>
            </li>
          ))}
        </ul>
      )}
      {notesCursor && (
        <button type="button" className="link-button small" onClick={() => void moreNotes()}>
          {t('contactPanel.moreNotes')}
        </button>
      )}
    </aside>
  )
}
