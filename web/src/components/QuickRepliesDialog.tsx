import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react'
import { api, ApiError, type FieldError, type QuickReply, type QuickReplyInput } from '../api'
import { t } from '../i18n/pt-BR'
import { byField, fieldErrorText, problemText } from '../lib/errors'
import { useSession } from '../state'
import { Dialog } from './Dialog'
import { Field } from './Field'

const EMPTY: QuickReplyInput = { shortcut: '', text: '', scope: 'personal' }

/**
 * "Respostas rápidas": the agent's own ready replies, and for admins the account's too (the
 * scope is theirs to choose). Others' account-wide replies are listed, read-only, for agents.
 */
export function QuickRepliesDialog({ onClose }: { onClose: () => void }) {
  const { user } = useSession()
  const admin = user.role === 'admin'
  const id = useId()
  const [items, setItems] = useState<QuickReply[] | null>(null)
  const [loadError, setLoadError] = useState('')
  const [editing, setEditing] = useState<QuickReply | null>(null)
  const [form, setForm] = useState<QuickReplyInput>(EMPTY)
  const [errors, setErrors] = useState<FieldError[]>([])
  const [formError, setFormError] = useState('')
  const [busy, setBusy] = useState(false)
  const [said, setSaid] = useState('')
  const shortcutRef = useRef<HTMLInputElement>(null)

  const load = useCallback(() => {
    api.listQuickReplies().then(
      (list) => {
        setItems(list)
        setLoadError('')
      },
      (err) => setLoadError(problemText(err)),
    )
  }, [])
  useEffect(load, [load])

  const canEdit = (r: QuickReply) => (r.scope === 'account' ? admin : true)
  const dirty = form.shortcut !== (editing?.shortcut ?? '') || form.text !== (editing?.text ?? '')

  function edit(r: QuickReply | null) {
    if (r) shortcutRef.current?.focus()
    setEditing(r)
    setForm(r ? { shortcut: r.shortcut, text: r.text, scope: r.scope } : EMPTY)
    setErrors([])
    setFormError('')
  }

  async function save(e: FormEvent) {
    e.preventDefault()
    if (busy) return
    const missing: FieldError[] = []
    const shortcut = form.shortcut.trim().replace(/^\//, '')
    if (!shortcut) missing.push({ field: 'shortcut', code: 'required', message: t('quickReplies.shortcutRequired') })
    if (!form.text.trim()) missing.push({ field: 'text', code: 'required', message: t('quickReplies.textRequired') })
    setErrors(missing)
    if (missing.length) return
    setBusy(true)
    setFormError('')
    try {
      const input = { ...form, shortcut, text: form.text.trim() }
      if (editing) await api.updateQuickReply(editing.id, input)
      else await api.createQuickReply(input)
      setSaid(t(editing ? 'quickReplies.updated' : 'quickReplies.created', { shortcut }))
      edit(null)
      load()
      // Ready for the next one.
      shortcutRef.current?.focus()
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length) setErrors(err.fieldErrors)
      else if (err instanceof ApiError && err.code === 'quick_reply_exists') setErrors([{ field: 'shortcut', code: err.code, message: '' }])
      else setFormError(problemText(err))
    } finally {
      setBusy(false)
    }
  }

  async function remove(r: QuickReply) {
    setFormError('')
    try {
      await api.deleteQuickReply(r.id)
      setSaid(t('quickReplies.deleted', { shortcut: r.shortcut }))
      if (editing?.id === r.id) edit(null)
      load()
    } catch (err) {
      setFormError(problemText(err))
    }
  }

  const fe = byField(errors)
  const err = (f: string) => (fe[f] ? (fe[f].code === 'required' ? fe[f].message : fieldErrorText(fe[f])) : undefined)

  return (
    <Dialog title={t('quickReplies.title')} onClose={onClose} dirty={dirty} variant="wide">
      <div className="dialog-body">
      <p className="muted small">{t('quickReplies.intro')}</p>
      {loadError && (
        <p className="alert alert-error" role="alert">
          {loadError}
        </p>
      )}
      {items === null && !loadError && <p className="muted">{t('common.loading')}</p>}
      {items && items.length === 0 && <p className="muted">{t('quickReplies.empty')}</p>}
      {items && items.length > 0 && (
        <ul className="quick-reply-list" aria-label={t('quickReplies.listLabel')}>
          {items.map((r) => (
            <li key={r.id} className="quick-reply-item">
              <div>
                <strong>/{r.shortcut}</strong>{' '}
                <span className="badge">{r.scope === 'account' ? t('quickReplies.scope.account') : t('quickReplies.scope.personal')}</span>
                <p className="small quick-reply-text">{r.text}</p>
              </div>
              {canEdit(r) && (
                <div className="quick-reply-actions">
                  <button type="button" className="link-button small" aria-label={t('quickReplies.editLabel', { shortcut: r.shortcut })} onClick={() => edit(r)}>
                    {t('quickReplies.edit')}
                  </button>
                  <button
                    type="button"
                    className="link-button small danger"
                    aria-label={t('quickReplies.deleteLabel', { shortcut: r.shortcut })}
                    onClick={() => void remove(r)}
                  >
                    {t('quickReplies.delete')}
                  </button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      <p className="visually-hidden" role="status">
        {said}
      </p>
      <form className="quick-reply-form" onSubmit={save} noValidate aria-labelledby={`${id}-h`}>
        <h3 id={`${id}-h`}>{editing ? t('quickReplies.editTitle', { shortcut: editing.shortcut }) : t('quickReplies.newTitle')}</h3>
        <Field
          ref={shortcutRef}
          label={t('quickReplies.shortcut')}
          hint={t('quickReplies.shortcutHint')}
          value={form.shortcut}
          maxLength={40}
          error={err('shortcut')}
          onChange={(e) => setForm({ ...form, shortcut: e.target.value })}
        />
        <div className={`field${err('text') ? ' field-invalid' : ''}`}>
          <label htmlFor={`${id}-text`}>{t('quickReplies.text')}</label>
          <textarea
            id={`${id}-text`}
            rows={3}
            value={form.text}
            maxLength={4096}
            aria-invalid={err('text') ? true : undefined}
            aria-describedby={`${id}-text-hint${err('text') ? ` ${id}-text-error` : ''}`}
            onChange={(e) => setForm({ ...form, text: e.target.value })}
          />
          <p id={`${id}-text-hint`} className="hint">
            {t('quickReplies.placeholders', { nome: '{{nome}}', primeiro: '{{primeiro_nome}}', atendente: '{{atendente}}' })}
          </p>
          {err('text') && (
            <p id={`${id}-text-error`} className="field-error" role="alert">
              {err('text')}
            </p>
          )}
        </div>
        {admin && !editing && (
          <fieldset className="scope-choice">
            <legend>{t('quickReplies.scope')}</legend>
            {(['personal', 'account'] as const).map((s) => (
              <label key={s}>
                <input type="radio" name={`${id}-scope`} value={s} checked={form.scope === s} onChange={() => setForm({ ...form, scope: s })} />
                {s === 'account' ? t('quickReplies.scope.accountLong') : t('quickReplies.scope.personalLong')}
              </label>
            ))}
          </fieldset>
        )}
        {formError && (
          <p className="alert alert-error" role="alert">
            {formError}
          </p>
        )}
        <div className="dialog-actions">
          {editing && (
            <button type="button" className="button button-ghost" onClick={() => edit(null)}>
              {t('quickReplies.cancelEdit')}
            </button>
          )}
          {/* Never disabled while saving: a disabled button would drop the keyboard focus. */}
          <button type="submit" className="button button-primary" aria-busy={busy || undefined}>
            {editing ? t('quickReplies.save') : t('quickReplies.add')}
          </button>
        </div>
      </form>
      </div>
    </Dialog>
  )
}
