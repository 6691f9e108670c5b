import { useEffect, useId, useMemo, useRef, useState } from 'react'
import { api, type Contact, type PriceEstimate, type Template, type TemplateCategory } from '../api'
import { t } from '../i18n/pt-BR'
import { unavailableReason } from '../lib/consent'
import { cardCost } from '../lib/cost'
import { problemText } from '../lib/errors'
import { useDebounced } from '../lib/hooks'
import { useLiveEvents } from '../state'
import { bodyText, componentText, splitVariables, variableLabel } from '../lib/template'
import { Field } from './Field'

const CATEGORIES: Array<TemplateCategory | ''> = ['', 'MARKETING', 'UTILITY', 'AUTHENTICATION']

interface Props {
  channelId: string
  /** The contact the template is for: marketing templates are unavailable when it opted out; each card shows its cost for it. */
  contact?: Pick<Contact, 'id' | 'marketing_opted_out'>
  selected: Template | null
  onSelect: (tpl: Template) => void
  /** A server error about the template (e.g. `template_not_approved`). */
  error?: string
}

/** "Modelo de mensagem": search, category filter, and the approved templates of the channel as cards. */
export function TemplatePicker({ channelId, contact, selected, onSelect, error }: Props) {
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

  // Meta's quality and category updates change the cards while they are shown.
  useLiveEvents((e) => {
    if (e.type !== 'template.updated') return
    const tpl = e.data
    setResult((r) => {
      if (!r || !r.items.some((x) => x.id === tpl.id)) return r
      const fits = !category || tpl.category === category
      const items = fits ? r.items.map((x) => (x.id === tpl.id && tpl.updated_at >= x.updated_at ? tpl : x)) : r.items.filter((x) => x.id !== tpl.id)
      return { ...r, items }
    })
  })

  const loading = result?.key !== key && !loadError
  const items = result?.items ?? []
  // Cards that cannot be chosen show no cost, so they ask for none.
  const shown = result?.items
  const choosable = useMemo(
    () => (loading || !shown ? [] : shown.filter((tpl) => !unavailableReason(tpl, contact))),
    [loading, shown, contact],
  )
  const costs = useCategoryCosts(choosable, contact?.id)

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
          <TemplateCard
            key={tpl.id}
            tpl={tpl}
            checked={selected?.id === tpl.id}
            unavailable={unavailableReason(tpl, contact)}
            cost={costs[tpl.category]}
            onSelect={() => onSelect(tpl)}
          />
        ))}
      </div>
    </section>
  )
}

/**
 * The estimate of each category's templates for the contact, by category. The estimate depends
 * only on the category, the contact and the window, so one request per category shown (for its
 * first template) serves every card of it; each is asked once while the picker is shown.
 */
function useCategoryCosts(shown: Template[], contactId: string | undefined): Partial<Record<TemplateCategory, PriceEstimate>> {
  const [costs, setCosts] = useState<Record<string, PriceEstimate>>({})
  const asked = useRef(new Set<string>())
  useEffect(() => {
    if (!contactId) return
    for (const tpl of shown) {
      const k = `${contactId}|${tpl.category}`
      if (asked.current.has(k)) continue
      asked.current.add(k)
      api
        .estimatePrice(tpl.id, contactId)
        .then((e) => setCosts((old) => ({ ...old, [k]: e })))
        // A card without its cost still works; the "Parâmetros" step says the estimate failed.
        .catch(() => asked.current.delete(k))
    }
  }, [shown, contactId])
  const out: Partial<Record<TemplateCategory, PriceEstimate>> = {}
  for (const [k, e] of Object.entries(costs)) {
    const [who, category] = k.split('|')
    if (who === contactId) out[category as TemplateCategory] = e
  }
  return out
}

interface CardProps {
  tpl: Template
  checked: boolean
  /** Why the card cannot be chosen for this contact (null: it can). */
  unavailable: string | null
  /** The estimate of a message of this template to the contact, once known. */
  cost?: PriceEstimate
  onSelect: () => void
}

function TemplateCard({ tpl, checked, unavailable, cost, onSelect }: CardProps) {
  const id = useId()
  const header = componentText(tpl, 'HEADER')
  const footer = componentText(tpl, 'FOOTER')
  const quality = tpl.quality === 'YELLOW' || tpl.quality === 'RED' ? tpl.quality : null
  const costText = cost && !unavailable ? cardCost(cost) : null
  // The reasons come first: a screen reader hears why before the template's text, then its cost.
  const describedBy = [unavailable && `${id}-unavailable`, quality && `${id}-quality`, `${id}-body`, costText && `${id}-cost`]
    .filter(Boolean)
    .join(' ')
  return (
    <label className={`template-card${checked && !unavailable ? ' is-selected' : ''}${unavailable ? ' is-unavailable' : ''}`}>
      <input
        type="radio"
        name="template"
        className="card-radio"
        checked={checked && !unavailable}
        disabled={!!unavailable}
        onChange={onSelect}
        aria-labelledby={`${id}-name`}
        aria-describedby={describedBy}
      />
      <span className="template-card-head">
        <span id={`${id}-name`} className="template-name">
          {tpl.name}
        </span>
        <span className={`badge category-${tpl.category.toLowerCase()}`}>
          {t(`template.category.${tpl.category}` as const)}
        </span>
      </span>
      {unavailable && (
        <span id={`${id}-unavailable`} className="template-unavailable">
          {unavailable}
        </span>
      )}
      {quality && (
        <span id={`${id}-quality`} className={`template-quality quality-${quality.toLowerCase()}`}>
          {t(`template.quality.${quality}` as const)}
        </span>
      )}
      {header && (
        <span className="template-header-text">
          <TemplateText text={header} />
        </span>
      )}
      <span id={`${id}-body`} className="template-body">
        <TemplateText text={bodyText(tpl)} />
      </span>
      {footer && <span className="template-footer-text">{footer}</span>}
      {costText && (
        <span id={`${id}-cost`} className="template-cost">
          {costText}
        </span>
      )}
      <span className="template-lang">{tpl.language}</span>
    </label>
  )
}

/** Template text (header or body) with each variable shown as the help page writes it: [NOME], never {{nome}}. */
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
