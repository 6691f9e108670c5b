import { useEffect, useState } from 'react'
import { api, type Contact } from '../api'
import { formatPhone } from '../i18n/format'
import { t } from '../i18n/pt-BR'
import { problemText } from '../lib/errors'
import { useDebounced } from '../lib/hooks'
import { initials } from '../lib/text'
import { Dialog } from './Dialog'
import { Field } from './Field'
import { NewContactForm } from './NewContactForm'

/** How long typing must pause before the search runs. */
export const SEARCH_DEBOUNCE_MS = 250

const looksLikePhone = (s: string) => /^[\d\s()+-]+$/.test(s.trim())

/** Método 2: the side search that "Novo atendimento" opens, with "Novo contato" inline. */
export function ContactSearch({ onClose, onPick }: { onClose: () => void; onPick: (c: Contact) => void }) {
  const [q, setQ] = useState('')
  const query = useDebounced(q.trim(), SEARCH_DEBOUNCE_MS)
  const [results, setResults] = useState<{ query: string; items: Contact[] } | null>(null)
  const [error, setError] = useState('')
  const [creating, setCreating] = useState(false)
  const [formDirty, setFormDirty] = useState(false)

  useEffect(() => {
    if (!query) return
    let live = true
    const ac = new AbortController()
    api
      .searchContacts(query, ac.signal)
      .then((items) => live && setResults({ query, items }))
      .catch((err) => live && setError(problemText(err)))
    return () => {
      live = false
      ac.abort()
    }
  }, [query])

  const searching = q.trim() !== '' && results?.query !== q.trim() && !error
  const items = q.trim() && results ? results.items : []

  return (
    <Dialog title={t('contactSearch.title')} variant="side" onClose={onClose} dirty={creating && formDirty}>
      {creating ? (
        <NewContactForm
          withTitle
          initialName={looksLikePhone(q) ? '' : q.trim()}
          initialPhone={looksLikePhone(q) ? q.trim() : ''}
          onCreated={onPick}
          onCancel={() => setCreating(false)}
          onDirtyChange={setFormDirty}
        />
      ) : (
        <div className="contact-search">
          <Field
            label={t('contactSearch.label')}
            type="search"
            placeholder={t('contactSearch.placeholder')}
            hint={t('contactSearch.hint')}
            autoComplete="off"
            value={q}
            onChange={(e) => {
              setQ(e.target.value)
              setError('')
            }}
          />
          <div aria-live="polite" className="search-status">
            {searching && <p className="muted small">{t('contactSearch.searching')}</p>}
            {!searching && q.trim() && results && items.length === 0 && <p className="muted">{t('contactSearch.none')}</p>}
            {error && (
              <p className="alert alert-error" role="alert">
                {error}
              </p>
            )}
          </div>
          {items.length > 0 && (
            <ul className="contact-results" aria-label={t('contactSearch.results')}>
              {items.map((c) => (
                <li key={c.id}>
                  <button type="button" className="contact-result" onClick={() => onPick(c)}>
                    <span className="avatar" aria-hidden="true">
                      {initials(c.name)}
                    </span>
                    <span className="contact-result-text">
                      <span className="contact-result-name">{c.name}</span>
                      <span className="muted small">{formatPhone(c.phone)}</span>
                      {c.marketing_opted_out && <span className="consent-badge">{t('consent.optedOut')}</span>}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
          <button type="button" className="button button-block" onClick={() => setCreating(true)}>
            <span aria-hidden="true">+ </span>
            {t('contactSearch.newContact')}
          </button>
        </div>
      )}
    </Dialog>
  )
}
