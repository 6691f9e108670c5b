import { useId, useState } from 'react'
import { t } from '../i18n/pt-BR'

/** A value to paste elsewhere (Meta's dashboard): shown read-only, with a "Copiar" button. */
export function CopyField({ label, value }: { label: string; value: string }) {
  const id = useId()
  const [copied, setCopied] = useState(false)
  async function copy() {
    try {
      await navigator.clipboard.writeText(value)
      setCopied(true)
      setTimeout(() => setCopied(false), 2000)
    } catch {
      // No clipboard (plain http, old browser): the value is selectable in the field.
      ;(document.getElementById(id) as HTMLInputElement | null)?.select()
    }
  }
  return (
    <div className="field copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input id={id} readOnly value={value} onFocus={(e) => e.currentTarget.select()} spellCheck={false} />
        <button type="button" className="button" onClick={copy} aria-label={`${t('channels.copy')}: ${label}`}>
          {copied ? t('channels.copied') : t('channels.copy')}
        </button>
      </div>
    </div>
  )
}
