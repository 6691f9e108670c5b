import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react'
import { api, ApiError, type Conversation, type Message, type QuickReply } from '../api'
import { t } from '../i18n/pt-BR'
import { problemText } from '../lib/errors'
import { useDebounced } from '../lib/hooks'
import { matchQuickReplies, slashQuery } from '../lib/quickReplies'
import { AttachButton, AttachmentPreview, canSend, DropHint, sendAttachment, sendErrorText, useAttachment } from './media/Attachments'

export const NOTE_MAX = 4000

interface Props {
  conv: Conversation
  /** Messages wait in the queue (the contact has not answered yet). */
  queued: boolean
  /** False when only a note can be written (the 24 h window is closed). */
  canMessage: boolean
  onSent: (m: Message) => void
  onTemplateRequired: () => void
  onClosed: () => void
}

/**
 * The composer: a message to the contact or an internal note ("Nota interna"), and `/` to pick a
 * ready reply (searched by shortcut or text; arrows, Enter inserts it filled for this contact).
 */
export function Composer({ conv, queued, canMessage, onSent, onTemplateRequired, onClosed }: Props) {
  const id = useId()
  const [text, setText] = useState('')
  const [noteMode, setNoteMode] = useState(!canMessage)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const area = useRef<HTMLTextAreaElement>(null)
  const note = noteMode || !canMessage
  // A file goes with a message to the contact (a note carries text only).
  const attach = useAttachment()
  const ready = note ? text.trim() !== '' : canSend(attach, text)

  // The quick-reply list: open while the text is "/…", with the highlighted option.
  const query = slashQuery(text)
  const [dismissed, setDismissed] = useState<string | null>(null)
  const [replies, setReplies] = useState<QuickReply[] | null>(null)
  // The highlighted option, for the search it was chosen in (a new search starts at the first).
  const [chosen, setChosen] = useState({ query: '', index: 0 })
  const [listError, setListError] = useState('')
  const open = query !== null && dismissed !== text && !note
  const typed = useDebounced(query ?? '', 150)
  useEffect(() => {
    if (!open || replies !== null) return
    const ctl = new AbortController()
    // All of them once (a few dozen): the typing filters them here, without a request per key.
    api.listQuickReplies('', ctl.signal).then(
      (list) => setReplies(list),
      (err) => {
        if (!(err instanceof DOMException)) setListError(problemText(err))
      },
    )
    return () => ctl.abort()
  }, [open, replies])
  const matches = open && replies ? matchQuickReplies(replies, typed) : []
  const active = chosen.query === typed ? chosen.index : 0
  const setActive = (f: (i: number) => number) => setChosen({ query: typed, index: f(active) })

  async function insert(r: QuickReply) {
    setError('')
    setDismissed(null)
    try {
      const filled = await api.renderQuickReply(r.id, conv.id)
      setText(filled)
    } catch (err) {
      setError(problemText(err))
    }
    area.current?.focus()
  }

  async function send(e?: FormEvent) {
    e?.preventDefault()
    const value = text.trim()
    if (!ready || busy) return
    if (note && value.length > NOTE_MAX) {
      setError(t('composer.noteTooLong', { max: NOTE_MAX }))
      return
    }
    setBusy(true)
    setError('')
    try {
      if (note) onSent(await api.addNote(conv.id, value))
      else if (attach.attachment) (await sendAttachment(conv.id, attach, value)).forEach(onSent)
      else onSent(await api.postMessage(conv.id, { text: value }))
      setText('')
    } catch (err) {
      if (!note && err instanceof ApiError && (err.code === 'template_required' || err.fieldErrors.some((f) => f.code === 'template_required'))) {
        onTemplateRequired()
      } else if (!note && err instanceof ApiError && err.code === 'conversation_closed') {
        onClosed()
      } else {
        setError(note ? problemText(err) : sendErrorText(err))
      }
    } finally {
      setBusy(false)
    }
  }

  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (open && matches.length > 0) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault()
        const n = matches.length
        setActive((i) => (i + (e.key === 'ArrowDown' ? 1 : n - 1)) % n)
        return
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault()
        void insert(matches[Math.min(active, matches.length - 1)])
        return
      }
    }
    if (open && e.key === 'Escape') {
      e.preventDefault()
      setDismissed(text)
      return
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault()
      void send()
    }
  }

  const listId = `${id}-quick`
  const optionId = (i: number) => `${id}-quick-${i}`
  const label = note ? t('composer.noteLabel') : t('composer.label')
  return (
    <form className={`composer${note ? ' composer-note' : ' composer-media'}`} onSubmit={send} {...(note ? {} : attach.dropProps)}>
      {canMessage && (
        <div className="composer-mode" role="radiogroup" aria-label={t('composer.mode')}>
          {[false, true].map((isNote) => (
            <label key={String(isNote)} className={`mode-option${note === isNote ? ' is-selected' : ''}`}>
              <input type="radio" name={`${id}-mode`} checked={note === isNote} onChange={() => setNoteMode(isNote)} />
              {isNote ? t('composer.modeNote') : t('composer.modeMessage')}
            </label>
          ))}
        </div>
      )}
      {!note && <AttachmentPreview a={attach} />}
      <div className="composer-row">
        {!note && <AttachButton a={attach} disabled={busy} />}
        <label htmlFor={id} className="visually-hidden">
          {label}
        </label>
        <div className="composer-input">
          <textarea
            ref={area}
            id={id}
            rows={2}
            value={text}
            placeholder={note ? t('composer.placeholderNote') : queued ? t('composer.placeholderQueued') : t('composer.placeholder')}
            aria-invalid={error ? true : undefined}
            aria-describedby={[error ? `${id}-error` : '', note ? '' : `${id}-hint`].filter(Boolean).join(' ') || undefined}
            role={note ? undefined : 'combobox'}
            aria-autocomplete={note ? undefined : 'list'}
            aria-expanded={note ? undefined : open}
            aria-controls={open ? listId : undefined}
            aria-activedescendant={open && matches.length > 0 ? optionId(Math.min(active, matches.length - 1)) : undefined}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={onKey}
            onPaste={note ? undefined : attach.onPaste}
          />
          {open && (
            <div className="quick-popup">
              {replies === null && !listError && <p className="muted small pad">{t('common.loading')}</p>}
              {listError && <p className="field-error small pad">{listError}</p>}
              {replies !== null && matches.length === 0 && <p className="muted small pad">{t('composer.quickNone')}</p>}
              {matches.length > 0 && (
                <ul id={listId} role="listbox" aria-label={t('quickReplies.title')} className="quick-list">
                  {matches.map((r, i) => (
                    <li
                      key={r.id}
                      id={optionId(i)}
                      role="option"
                      aria-selected={i === Math.min(active, matches.length - 1)}
                      className="quick-option"
                      onMouseDown={(e) => {
                        e.preventDefault() // keep focus in the textarea
                        void insert(r)
                      }}
                    >
                      <strong>/{r.shortcut}</strong> <span className="muted">{r.text}</span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
        </div>
        <button type="submit" className="button button-primary" disabled={busy || !ready}>
          {note ? t('composer.addNote') : queued ? t('composer.queue') : t('composer.send')}
        </button>
      </div>
      {!note && (
        <p id={`${id}-hint`} className="hint small">
          {t('composer.quickHint')}
        </p>
      )}
      {note && <p className="hint small">{t('composer.noteHint')}</p>}
      {error && (
        <p id={`${id}-error`} className="field-error composer-error" role="alert">
          {error}
        </p>
      )}
      {!note && <DropHint a={attach} />}
    </form>
  )
}
