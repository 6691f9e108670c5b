import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react'
import { api, type Contact, type PriceEstimate, type Template, type TemplatePreview } from '../api'
import { formatDate } from '../i18n/format'
import { t } from '../i18n/pt-BR'
import { costLine, costParts } from '../lib/cost'
import { fieldErrorText } from '../lib/errors'
import { useDebounced } from '../lib/hooks'
import {
  bodyText,
  buttonUrlLabel,
  buttonVariables,
  componentText,
  fieldLabel,
  headerKey,
  parameterErrors,
  renderLocally,
  templateButtons,
  toParameters,
  variableDetails,
} from '../lib/template'
import { Field } from './Field'
import { headerFormat, HeaderMediaField, HeaderMediaPreview, type HeaderMediaValue } from './media/HeaderMedia'

/** How long typing must pause before the server renders the preview again. */
export const PREVIEW_DEBOUNCE_MS = 250

interface Props {
  template: Template
  contact: Contact
  values: Record<string, string>
  onChange: (variable: string, value: string) => void
  /** Errors to show at fields, by variable (from a submit: the client's or the server's). */
  errors: Record<string, string>
  /** Enter in the last field does what the dialog's main button does (start or send). */
  onSubmit?: () => void
  /** A template with an IMAGE, VIDEO or DOCUMENT header: the file or link chosen, and its error. */
  headerMedia?: HeaderMediaValue | null
  onHeaderMedia?: (v: HeaderMediaValue | null) => void
  headerMediaError?: string
}

/**
 * "Parâmetros": one field per variable, the server-rendered preview, and the estimated cost.
 * The preview stays in view while the fields scroll (sticky beside them; at the bottom, and
 * collapsible, on a phone), and Enter moves to the next field, or submits from the last one.
 */
export function ParametersForm({ template, contact, values, onChange, errors, onSubmit, headerMedia = null, onHeaderMedia, headerMediaError }: Props) {
  const mediaFormat = headerFormat(template)
  const headingId = useId()
  const previewId = useId()
  const frameId = useId()
  const [collapsed, setCollapsed] = useState(false)
  const inputs = useRef<Array<HTMLInputElement | null>>([])
  const preview = usePreview(template, values)
  const previewErrors = parameterErrors(template, preview.errors)
  const byButton = buttonVariables(template)
  const details = variableDetails(template)

  function onKeyDown(i: number, e: KeyboardEvent<HTMLInputElement>) {
    // Only a plain Enter, and not one that confirms an input method's composition.
    if (e.key !== 'Enter' || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey || e.nativeEvent.isComposing) return
    e.preventDefault()
    const next = inputs.current.slice(i + 1).find((el) => el)
    if (next) next.focus()
    else onSubmit?.()
  }

  return (
    <div className="params-layout">
      <section className="step params-fields" aria-labelledby={headingId}>
        <h3 id={headingId}>{t('params.heading')}</h3>
        <p className="muted small">{template.variables.length ? t('params.hint') : t('params.none')}</p>
        {mediaFormat && onHeaderMedia && <HeaderMediaField format={mediaFormat} value={headerMedia} onChange={onHeaderMedia} error={headerMediaError} />}
        {details.map((d, i) => {
          const v = d.key
          // Preview errors show only once there is something typed; empty fields are flagged on submit.
          // Only for the value the server saw, never a stale verdict on what is typed now.
          const live =
            values[v]?.trim() && previewErrors[v] && preview.checked?.[v] === values[v]
              ? fieldErrorText(previewErrors[v])
              : undefined
          // A URL button's suffix is not in the text: say which link it completes.
          const button = byButton[v]
          return (
            <Field
              key={v}
              ref={(el) => {
                inputs.current[i] = el
              }}
              label={fieldLabel(d)}
              placeholder={d.example ?? undefined}
              hint={
                button
                  ? t('params.buttonVariable', { button: button.text ?? '', url: buttonUrlLabel(button.url ?? '', v) })
                  : undefined
              }
              value={values[v] ?? ''}
              autoComplete="off"
              enterKeyHint={i === details.length - 1 ? 'send' : 'next'}
              error={errors[v] ?? live}
              onChange={(e) => onChange(v, e.target.value)}
              onKeyDown={(e) => onKeyDown(i, e)}
            />
          )
        })}
      </section>
      <aside className={`params-side${collapsed ? ' is-collapsed' : ''}`} data-testid="params-preview">
        <section aria-labelledby={previewId} className="preview">
          <div className="preview-head">
            <h3 id={previewId}>{t('params.preview')}</h3>
            <button
              type="button"
              className="link-button preview-toggle"
              aria-expanded={!collapsed}
              aria-controls={frameId}
              onClick={() => setCollapsed((c) => !c)}
            >
              {collapsed ? t('params.previewShow') : t('params.previewHide')}
            </button>
          </div>
          <div className="phone-frame" id={frameId}>
            <div className="bubble bubble-out" aria-live="polite">
              {mediaFormat && <HeaderMediaPreview format={mediaFormat} value={headerMedia} />}
              {preview.header && <strong className="bubble-header">{preview.header}</strong>}
              <span className="bubble-text">{preview.body}</span>
              {preview.footer && <span className="bubble-footer">{preview.footer}</span>}
            </div>
            {preview.buttons.length > 0 && (
              <ul className="bubble-buttons" aria-label={t('params.buttons')}>
                {preview.buttons.map((b, i) => (
                  <li key={i}>
                    <span className="bubble-button-text">{b.text}</span>
                    {b.url && <span className="bubble-button-url">{b.url}</span>}
                  </li>
                ))}
              </ul>
            )}
          </div>
        </section>
        <CostEstimate templateId={template.id} contactId={contact.id} />
      </aside>
    </div>
  )
}

/** The server's rendering of the template with the current values (debounced). */
function usePreview(template: Template, values: Record<string, string>) {
  const settled = useDebounced(values, PREVIEW_DEBOUNCE_MS)
  const [server, setServer] = useState<{ for: Record<string, string>; preview: TemplatePreview } | null>(null)

  useEffect(() => {
    let live = true
    const ac = new AbortController()
    api
      .previewTemplate(template.id, toParameters(template, settled), ac.signal)
      .then((preview) => live && setServer({ for: settled, preview }))
      .catch(() => {
        // The local rendering stays on screen; the submit reports real problems.
      })
    return () => {
      live = false
      ac.abort()
    }
  }, [template, settled])

  // The server's rendering when it is for what is typed now, else the same thing done locally
  // (both show a blank variable as its label, [NOME]; never the raw {{nome}}).
  const fresh = server && server.for === values ? server.preview : null
  const byButton = buttonVariables(template)
  const localButtons = templateButtons(template).map((b) => {
    const v = Object.keys(byButton).find((k) => byButton[k] === b)
    return { text: b.text ?? '', url: b.url && v ? buttonUrlLabel(b.url, v, values[v]) : (b.url ?? '') }
  })
  return {
    header: fresh?.header || renderLocally(componentText(template, 'HEADER'), values, (tok) => headerKey(template, tok)),
    body: fresh?.body || renderLocally(bodyText(template), values),
    footer: fresh ? fresh.footer : componentText(template, 'FOOTER'),
    buttons: fresh?.buttons?.length ? fresh.buttons.map((b) => ({ text: b.text ?? '', url: b.url ?? '' })) : localButtons,
    errors: server?.preview.errors ?? [],
    /** The values the errors were computed for. */
    checked: server?.for ?? null,
  }
}

function CostEstimate({ templateId, contactId }: { templateId: string; contactId: string }) {
  const headingId = useId()
  const [state, setState] = useState<{ key: string; estimate: PriceEstimate | null; failed: boolean } | null>(null)
  const key = `${templateId}|${contactId}`

  useEffect(() => {
    let live = true
    api
      .estimatePrice(templateId, contactId)
      .then((estimate) => live && setState({ key, estimate, failed: false }))
      .catch(() => live && setState({ key, estimate: null, failed: true }))
    return () => {
      live = false
    }
  }, [templateId, contactId, key])

  const current = state?.key === key ? state : null
  const e = current?.estimate
  return (
    <section aria-labelledby={headingId} className="cost">
      <h3 id={headingId}>{t('params.cost')}</h3>
      {!current && <p className="muted small">{t('common.loading')}</p>}
      {current?.failed && <p className="muted small">{t('params.costUnavailable')}</p>}
      {e && <CostLines e={e} />}
    </section>
  )
}

/** The charge the help page names, the amount (reais first when the account has a rate) and the rate card's date. */
function CostLines({ e }: { e: PriceEstimate }) {
  const parts = e.billable ? costParts(e) : null
  return (
    <>
      {e.billable && <p className="cost-charge">{t('params.costCharge')}</p>}
      <p className="cost-amount">{!e.billable ? t('params.costFree') : parts ? costLine(parts) : t('params.costUnavailable')}</p>
      {parts && !parts.usd && <p className="muted small">{t('params.costNoRate')}</p>}
      {e.billable && <p className="muted small">{t('params.costNote')}</p>}
      {e.rate_card_date && <p className="muted small">{t('params.costRateCard', { date: formatDate(e.rate_card_date) })}</p>}
    </>
  )
}
