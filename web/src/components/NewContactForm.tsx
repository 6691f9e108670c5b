import { useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent } from 'react'
import { api, ApiError, type Contact } from '../api'
import { fieldErrorText, problemText } from '../lib/errors'
import { t } from '../i18n/pt-BR'
import { Field } from './Field'

interface Props {
  initialName?: string
  initialPhone?: string
  /** Show the "Novo contato" heading (inside the side search). */
  withTitle?: boolean
  onCreated: (c: Contact) => void
  onCancel: () => void
  /** Told whether name or phone differ from what the form started with (to ask before discarding). */
  onDirtyChange?: (dirty: boolean) => void
}

/** Name and phone; server errors land at their field; a duplicate phone offers the existing contact. */
export function NewContactForm({ initialName = '', initialPhone = '', withTitle, onCreated, onCancel, onDirtyChange }: Props) {
  const titleId = useId()
  const [name, setName] = useState(initialName)
  const [phone, setPhone] = useState(initialPhone)
  const [errors, setErrors] = useState<{ name?: string; phone?: string; form?: string }>({})
  const [existingId, setExistingId] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const dirty = name.trim() !== initialName.trim() || phone.trim() !== initialPhone.trim()
  const dirtyChange = useRef(onDirtyChange)
  useEffect(() => {
    dirtyChange.current = onDirtyChange
  })
  // Told before paint, so the dialog knows before the next key or Back.
  useLayoutEffect(() => {
    dirtyChange.current?.(dirty)
  }, [dirty])
  useEffect(() => () => dirtyChange.current?.(false), [])

  async function submit(e: FormEvent) {
    e.preventDefault()
    const missing = {
      name: name.trim() ? undefined : t('common.required'),
      phone: phone.trim() ? undefined : t('common.required'),
    }
    if (missing.name || missing.phone) {
      setErrors(missing)
      return
    }
    setBusy(true)
    setErrors({})
    setExistingId(null)
    try {
      onCreated(await api.createContact({ name: name.trim(), phone: phone.trim() }))
    } catch (err) {
      setBusy(false)
      if (err instanceof ApiError && err.code === 'contact_exists' && err.problem.existing_id) {
        setExistingId(err.problem.existing_id)
        setErrors({ phone: t('contactForm.exists') })
        return
      }
      if (err instanceof ApiError && err.fieldErrors.length > 0) {
        const next: typeof errors = {}
        for (const fe of err.fieldErrors) {
          const key = fe.field === 'name' ? 'name' : fe.field === 'phone' ? 'phone' : 'form'
          next[key] ??= fieldErrorText(fe)
        }
        setErrors(next)
        return
      }
      setErrors({ form: problemText(err) })
    }
  }

  async function useExisting() {
    if (!existingId) return
    setBusy(true)
    try {
      onCreated(await api.getContact(existingId))
    } catch (err) {
      setErrors({ form: problemText(err) })
      setBusy(false)
    }
  }

  return (
    <form className="contact-form" onSubmit={submit} noValidate aria-labelledby={withTitle ? titleId : undefined}>
      {withTitle && <h3 id={titleId}>{t('contactForm.title')}</h3>}
      <Field
        label={t('contactForm.name')}
        autoComplete="off"
        value={name}
        error={errors.name}
        onChange={(e) => setName(e.target.value)}
      />
      <Field
        label={t('contactForm.phone')}
        type="tel"
        inputMode="tel"
        autoComplete="off"
        hint={t('contactForm.phoneHint')}
        value={phone}
        error={errors.phone}
        onChange={(e) => {
          setPhone(e.target.value)
          setExistingId(null)
        }}
      />
      {existingId && (
        <button type="button" className="button" onClick={useExisting} disabled={busy}>
          {t('contactForm.useExisting')}
        </button>
      )}
      {errors.form && (
        <p className="alert alert-error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="actions">
        <button type="button" className="button button-ghost" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? t('contactForm.saving') : t('contactForm.save')}
        </button>
      </div>
    </form>
  )
}
