import { useEffect, useId, useRef, useState, type FormEvent } from 'react'
import { api, ApiError } from '../api'
import { t } from '../i18n/pt-BR'
import { MAX_LENGTH, MAX_REASONS, reasonProblem } from '../lib/closeReasons'
import { fieldErrorText, problemText } from '../lib/errors'

/** "Motivos de encerramento": the admin's list of reasons agents pick from when closing (PATCH /account). */
export default function CloseReasons() {
  const id = useId()
  const [saved, setSaved] = useState<string[] | null>(null)
  const [list, setList] = useState<string[]>([])
  const [draft, setDraft] = useState('')
  const [draftError, setDraftError] = useState('')
  const [error, setError] = useState('')
  const [status, setStatus] = useState('')
  const [busy, setBusy] = useState(false)
  const input = useRef<HTMLInputElement>(null)

  useEffect(() => {
    let live = true
    api.getAccount().then(
      (a) => {
        if (!live) return
        setSaved(a.close_reasons ?? [])
        setList(a.close_reasons ?? [])
      },
      (err) => live && setError(problemText(err)),
    )
    return () => {
      live = false
    }
  }, [])

  function add(e: FormEvent) {
    e.preventDefault()
    const problem = reasonProblem(draft, list)
    setDraftError(problem ?? '')
    if (problem) return
    setList([...list, draft.trim()])
    setDraft('')
    setStatus('')
  }

  function move(i: number, by: number) {
    const next = [...list]
    ;[next[i], next[i + by]] = [next[i + by], next[i]]
    setList(next)
  }

  function remove(r: string) {
    setList(list.filter((x) => x !== r))
    // Its button is gone: keep the keyboard in the form.
    input.current?.focus()
  }

  async function save() {
    setBusy(true)
    setError('')
    setStatus('')
    try {
      const a = await api.updateCloseReasons(list)
      setSaved(a.close_reasons ?? list)
      setList(a.close_reasons ?? list)
      setStatus(t('closeReasons.saved'))
      // The button goes disabled (nothing left to save): the keyboard focus goes back to the field.
      input.current?.focus()
    } catch (err) {
      setError(err instanceof ApiError && err.fieldErrors.length ? err.fieldErrors.map(fieldErrorText).join(' ') : problemText(err))
    } finally {
      setBusy(false)
    }
  }

  const changed = saved !== null && JSON.stringify(saved) !== JSON.stringify(list)
  return (
    <section className="settings-section" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{t('settings.closeReasons')}</h2>
      <p className="muted">{t('closeReasons.intro', { max: MAX_REASONS })}</p>
      {saved === null && !error && <p className="muted">{t('common.loading')}</p>}
      {saved !== null && list.length === 0 && <p className="muted">{t('closeReasons.empty')}</p>}
      {list.length > 0 && (
        <ol className="reason-list" aria-label={t('closeReasons.listLabel')}>
          {list.map((r, i) => (
            <li key={r} className="reason-item">
              <span>{r}</span>
              <span className="reason-actions">
                <button type="button" className="icon-button" aria-label={t('closeReasons.moveUp', { reason: r })} disabled={i === 0} onClick={() => move(i, -1)}>
                  ↑
                </button>
                <button
                  type="button"
                  className="icon-button"
                  aria-label={t('closeReasons.moveDown', { reason: r })}
                  disabled={i === list.length - 1}
                  onClick={() => move(i, 1)}
                >
                  ↓
                </button>
                <button
                  type="button"
                  className="link-button small danger"
                  aria-label={t('closeReasons.removeLabel', { reason: r })}
                  onClick={() => remove(r)}
                >
                  {t('closeReasons.remove')}
                </button>
              </span>
            </li>
          ))}
        </ol>
      )}
      {saved !== null && (
        <form className="reason-add" onSubmit={add} noValidate>
          <div className={`field${draftError ? ' field-invalid' : ''}`}>
            <label htmlFor={`${id}-new`}>{t('closeReasons.new')}</label>
            <input
              ref={input}
              id={`${id}-new`}
              value={draft}
              maxLength={MAX_LENGTH + 20}
              aria-invalid={draftError ? true : undefined}
              aria-describedby={draftError ? `${id}-new-error` : undefined}
              onChange={(e) => setDraft(e.target.value)}
            />
            {draftError && (
              <p id={`${id}-new-error`} className="field-error" role="alert">
                {draftError}
              </p>
            )}
          </div>
          <button type="submit" className="button">
            {t('closeReasons.add')}
          </button>
        </form>
      )}
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      <p role="status" className="small">
        {status}
      </p>
      {saved !== null && (
        <button type="button" className="button button-primary" disabled={busy || !changed} onClick={() => void save()}>
          {t('closeReasons.save')}
        </button>
      )}
    </section>
  )
}
