import { useEffect, useId, useState } from 'react'
import { api, type Template, type TemplateCategory } from '../api'
import { t } from '../i18n/pt-BR'
import { problemText } from '../lib/errors'
import { useDebounced } from '../lib/hooks'
import { bodyText, componentText, splitVariables, variableLabel } from '../lib/template'
import { Field } from './Field'

const CATEGORIES: Array<TemplateCategory | ''> = ['', 'MARKETING', 'UTILITY', 'AUTHENTICATION']

interface Props {
  channelId: string
  selected: Template | null
  onSelect: (tpl: Template) => void
  /** A server error about the template (e.g. `template_not_approved`). */
  error?: string
}

/** "Modelo de mensagem": search, category filter, and the approved templates of the channel as cards. */
export function TemplatePicker({ channelId, selected, onSelect, error }: Props) {
  const headingId = useId()
  const [q, setQ] = useState('')
  const query = useDebounced(q.trim(), 250)
  const [category, setCategory] = useState<TemplateCategory | ''>('')
  const [result, setResult] = useState<{ key: string; items: Template[] } | null>(null)
  const [loadError, setLoadError] = useState('')
  const key = `${channelId}|${category}|${query}`

  useEffect(() => {
    let live = true
    const ac = new AbortController()
    api
      .listTemplates({ channel_id: channelId, category, q: query }, ac.signal)
      .then((items) => {
        if (!live) return
        // The server filters; this keeps the promise of "approved, this channel" regardless.
        setResult({ key, items: items.filter((tpl) => tpl.status === 'APPROVED' && tpl.channel_id === channelId) })
        setLoadError('')
      })
      .catch((err) => live && setLoadError(problemText(err)))
    return () => {
      live = false
      ac.abort()
    }
  }, [channelId, category, query, key])

  const loading = result?.key !== key && !loadError
  const items = result?.items ?? []

  return (
    <section className="step" aria-labelledby={headingId}>
      <h3 id={headingId}>{t('template.heading')}</h3>
      <p className="muted small">{t('template.hint')}</p>
      <div className="template-toolbar">
        <Field
          label={t('template.search')}
          hideLabel
          type="search"
          placeholder={t('template.searchPlaceholder')}
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <div role="group" aria-label={t('template.categories')} className="chips">
          {CATEGORIES.map((c) => (
            <button
              key={c || 'ALL'}
              type="button"
              className="chip"
              aria-pressed={category === c}
              onClick={() => setCategory(c)}
            >
              {t(`template.category.${c || 'ALL'}` as const)}
            </button>
          ))}
        </div>
      </div>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {loadError && (
        <p className="alert alert-error" role="alert">
          {loadError}
        </p>
      )}
      <div aria-live="polite" className="muted small">
        {loading ? t('common.loading') : items.length === 0 && !loadError ? t('template.none') : null}
      </div>
      <div role="radiogroup" aria-label={t('template.list')} className="template-grid" aria-busy={loading}>
        {items.map((tpl) => (
          <TemplateCard key={tpl.id} tpl={tpl} checked={selected?.id === tpl.id} onSelect={() => onSelect(tpl)} />
        ))}
      </div>
    </section>
  )
}

function TemplateCard({ tpl, checked, onSelect }: { tpl: Template; checked: boolean; onSelect: () => void }) {
  const id = useId()
  const header = componentText(tpl, 'HEADER')
  const footer = componentText(tpl, 'FOOTER')
  return (
    <label className={`template-card${checked ? ' is-selected' : ''}`}>
      <input
        type="radio"
        name="template"
        className="card-radio"
        checked={checked}
        onChange={onSelect}
        aria-labelledby={`${id}-name`}
        aria-describedby={`${id}-body`}
      />
      <span className="template-card-head">
        <span id={`${id}-name`} className="template-name">
          {tpl.name}
        </span>
        <span className={`badge category-${tpl.category.toLowerCase()}`}>
          {t(`template.category.${tpl.category}` as const)}
        </span>
      </span>
      {header && <span className="template-header-text">{header}</span>}
      <span id={`${id}-body`} className="template-body">
        <TemplateText text={bodyText(tpl)} />
      </span>
      {footer && <span className="template-footer-text">{footer}</span>}
      <span className="template-lang">{tpl.language}</span>
    </label>
  )
}

/** Template text with each variable shown as the seed writes it: [NOME]. */
export function TemplateText({ text }: { text: string }) {
  return (
    <>
      {splitVariables(text).map((part, i) =>
        'variable' in part ? (
          <mark key={i} className="variable">
            {variableLabel(part.variable)}
          </mark>
        ) : (
          <span key={i}>{part.text}</span>
        ),
      )}
    </>
  )
}
