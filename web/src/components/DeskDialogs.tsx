import { useEffect, useId, useState, type FormEvent } from 'react'
import { api, type Conversation } from '../api'
import { t } from '../i18n/pt-BR'
import { problemText } from '../lib/errors'
import { useDirectory, useSession } from '../state'
import { NOTE_MAX } from './Composer'
import { Dialog } from './Dialog'

interface TransferProps {
  conv: Conversation
  onClose: () => void
  onDone: (c: Conversation) => void
}

/**
 * "Transferir": to a team linked to the conversation's channel, optionally to one of its
 * members, with an optional note (it becomes an internal note the receiver reads first).
 */
export function TransferDialog({ conv, onClose, onDone }: TransferProps) {
  const { user } = useSession()
  const { teams, users } = useDirectory()
  const id = useId()
  const allowed = teams.filter((tm) => tm.channel_ids.includes(conv.channel_id))
  const [teamId, setTeamId] = useState(allowed.find((tm) => tm.id === conv.team_id)?.id ?? allowed[0]?.id ?? '')
  const [userId, setUserId] = useState('')
  const [note, setNote] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const team = allowed.find((tm) => tm.id === teamId)
  const members = users.filter((u) => team?.member_ids.includes(u.id) && u.id !== user.id)

  async function submit(e: FormEvent) {
    e.preventDefault()
    if (!teamId || busy) return
    if (note.trim().length > NOTE_MAX) return setError(t('composer.noteTooLong', { max: NOTE_MAX }))
    setBusy(true)
    setError('')
    try {
      onDone(await api.transferConversation(conv.id, { team_id: teamId, user_id: userId || undefined, note: note.trim() || undefined }))
    } catch (err) {
      setError(problemText(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <Dialog title={t('transfer.title')} onClose={onClose} dirty={note.trim() !== ''}>
      <form onSubmit={submit} className="stack" noValidate>
        <div className="field">
          <label htmlFor={`${id}-team`}>{t('transfer.team')}</label>
          <select
            id={`${id}-team`}
            value={teamId}
            onChange={(e) => {
              setTeamId(e.target.value)
              setUserId('')
            }}
          >
            {allowed.map((tm) => (
              <option key={tm.id} value={tm.id}>
                {tm.name}
              </option>
            ))}
          </select>
          <p className="hint">{t('transfer.teamHint')}</p>
        </div>
        <div className="field">
          <label htmlFor={`${id}-user`}>{t('transfer.user')}</label>
          <select id={`${id}-user`} value={userId} onChange={(e) => setUserId(e.target.value)}>
            <option value="">{t('transfer.anyMember')}</option>
            {members.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-note`}>{t('transfer.note')}</label>
          <textarea id={`${id}-note`} rows={3} value={note} maxLength={NOTE_MAX} onChange={(e) => setNote(e.target.value)} aria-describedby={`${id}-note-hint`} />
          <p id={`${id}-note-hint`} className="hint">
            {t('transfer.noteHint')}
          </p>
        </div>
        {error && (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button button-ghost" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary" aria-busy={busy || undefined}>
            {t('transfer.submit')}
          </button>
        </div>
      </form>
    </Dialog>
  )
}

interface CloseProps {
  conv: Conversation
  contactName: string
  /** Messages still in the queue are discarded by the close: say so. */
  queued: boolean
  onClose: () => void
  onDone: (c: Conversation) => void
}

/** "Encerrar": asks for an optional reason from the account's list. */
export function CloseDialog({ conv, contactName, queued, onClose, onDone }: CloseProps) {
  const id = useId()
  const [reasons, setReasons] = useState<string[] | null>(null)
  const [reason, setReason] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)

  useEffect(() => {
    let live = true
    api.getAccount().then(
      (a) => live && setReasons(a.close_reasons ?? []),
      () => live && setReasons([]),
    )
    return () => {
      live = false
    }
  }, [])

  async function submit(e: FormEvent) {
    e.preventDefault()
    if (busy) return
    setBusy(true)
    setError('')
    try {
      onDone(await api.closeConversation(conv.id, reason || undefined))
    } catch (err) {
      setError(problemText(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <Dialog title={t('closeDialog.title', { name: contactName })} onClose={onClose}>
      <form onSubmit={submit} className="stack">
        {queued && <p className="muted small">{t('conversation.confirmCloseDetail')}</p>}
        {reasons === null && <p className="muted small">{t('common.loading')}</p>}
        {reasons !== null && reasons.length > 0 && (
          <div className="field">
            <label htmlFor={`${id}-reason`}>{t('closeDialog.reason')}</label>
            <select id={`${id}-reason`} value={reason} onChange={(e) => setReason(e.target.value)}>
              <option value="">{t('closeDialog.noReason')}</option>
              {reasons.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </div>
        )}
        {error && (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button button-ghost" onClick={onClose}>
            {t('conversation.keep')}
          </button>
          <button type="submit" className="button button-danger" aria-busy={busy || undefined}>
            {t('conversation.confirmCloseYes')}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
