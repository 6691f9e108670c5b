import { useState, type FormEvent } from 'react'
import { api, ApiError, type Contact } from '../api'
import { fieldErrorText, problemText } from '../lib/errors'
import { t } from '../i18n/pt-BR'
import { Field } from './Field'

interface Props {
  onFound: (c: Contact) => void
  onNotFound: (phone: string) => void
}

/** Método 1: the phone field at the bottom left and "Conversar". */
export function PhoneStart({ onFound, onNotFound }: Props) {
  const [phone, setPhone] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)

  async function submit(e: FormEvent) {
    e.preventDefault()
    const value = phone.trim()
    if (!value) {
      setError(t('phone.required'))
      return
    }
    setBusy(true)
    setError('')
    try {
      const contact = await api.lookupContact(value)
      if (contact) onFound(contact)
      else onNotFound(value)
      setPhone('')
    } catch (err) {
      const fe = err instanceof ApiError ? err.fieldErrors[0] : undefined
      setError(fe ? fieldErrorText(fe) : problemText(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="phone-start" onSubmit={submit} noValidate>
      <Field
        label={t('phone.label')}
        placeholder={t('phone.placeholder')}
        type="tel"
        inputMode="tel"
        autoComplete="off"
        value={phone}
        error={error || undefined}
        onChange={(e) => {
          setPhone(e.target.value)
          setError('')
        }}
      />
      <button type="submit" className="button button-primary" disabled={busy}>
        {busy ? t('phone.searching') : t('phone.submit')}
      </button>
    </form>
  )
}
