import { useId, useState, type FormEvent } from 'react'
import { ApiError, type Template, type TemplateCategory, type TemplateStatus } from '../api'
import { channelsApi, type TemplateInput } from '../api/channels'
import { Dialog } from '../components/Dialog'
import { Field } from '../components/Field'
import { t } from '../i18n/pt-BR'
import { fieldErrorText, problemText } from '../lib/errors'
import { splitVariables } from '../lib/template'

const CATEGORIES: TemplateCategory[] = ['UTILITY', 'MARKETING', 'AUTHENTICATION']
const STATUSES: TemplateStatus[] = ['APPROVED', 'PENDING', 'REJECTED', 'PAUSED', 'DISABLED']

type FieldName = 'name' | 'language' | 'category' | 'status' | 'body' | 'footer' | 'form'

/** The variables of a body, in order and once each. */
export function bodyVariables(body: string): string[] {
  const seen: string[] = []
  for (const p of splitVariables(body)) if ('variable' in p && !seen.includes(p.variable)) seen.push(p.variable)
  return seen
}

/** Where a server error about `components…` belongs: the footer's index, else the body. */
function componentField(field: string, footerIndex: number): FieldName | null {
  if (!field.startsWith('components')) return null
  return footerIndex >= 0 && field.startsWith(`components[${footerIndex}]`) ? 'footer' : 'body'
}

/**
 * "Cadastrar modelo" on a sandbox channel: the body text with its variables, registered as it
 * would exist at Meta. Variables named with digits make a POSITIONAL template, names a NAMED one.
 */
export function TemplateForm({ channelId, onSaved, onClose }: { channelId: string; onSaved: (t: Template) => void; onClose: () => void }) {
  const [name, setName] = useState('')
  const [language, setLanguage] = useState('pt_BR')
  const [category, setCategory] = useState<TemplateCategory>('UTILITY')
  const [status, setStatus] = useState<TemplateStatus>('APPROVED')
  const [body, setBody] = useState('')
  const [footer, setFooter] = useState('')
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({})
  const [busy, setBusy] = useState(false)
  const ids = { category: useId(), status: useId(), body: useId() }
  const dirty = name !== '' || body !== '' || footer !== '' || language !== 'pt_BR' || category !== 'UTILITY' || status !== 'APPROVED'
  const vars = bodyVariables(body)

  async function submit(e: FormEvent) {
    e.preventDefault()
    const components: TemplateInput['components'] = [{ type: 'BODY', text: body }]
    if (footer.trim()) components.push({ type: 'FOOTER', text: footer })
    const positional = vars.length > 0 && vars.every((v) => /^\d+$/.test(v))
    const input: TemplateInput = {
      channel_id: channelId,
      name,
      language,
      category,
      status,
      parameter_format: positional || vars.length === 0 ? 'POSITIONAL' : 'NAMED',
      components,
    }
    setBusy(true)
    setErrors({})
    try {
      onSaved(await channelsApi.createTemplate(input))
    } catch (err) {
      setBusy(false)
      if (err instanceof ApiError && err.fieldErrors.length > 0) {
        const next: typeof errors = {}
        for (const fe of err.fieldErrors) {
          const key: FieldName =
            componentField(fe.field, footer.trim() ? 1 : -1) ??
            (fe.field === 'parameter_format'
              ? 'body'
              : ((['name', 'language', 'category', 'status'] as const).find((f) => f === fe.field) ?? 'form'))
          next[key] ??= fieldErrorText(fe)
        }
        setErrors(next)
        return
      }
      setErrors({ form: problemText(err) })
    }
  }

  const select = <V extends string>(
    id: string,
    label: string,
    value: V,
    options: V[],
    text: (o: V) => string,
    onChange: (v: V) => void,
    err?: string,
  ) => (
    <div className={`field${err ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as V)} aria-invalid={err ? true : undefined}>
        {options.map((o) => (
          <option key={o} value={o}>
            {text(o)}
          </option>
        ))}
      </select>
      {err && (
        <p className="field-error" role="alert">
          {err}
        </p>
      )}
    </div>
  )

  return (
    <Dialog title={t('tplForm.title')} onClose={onClose} dirty={dirty} variant="wide">
      <form className="dialog-body channel-form" onSubmit={submit} noValidate>
        <Field
          label={t('tplForm.name')}
          hint={t('tplForm.nameHint')}
          value={name}
          error={errors.name}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => setName(e.target.value)}
        />
        <Field
          label={t('tplForm.language')}
          value={language}
          error={errors.language}
          autoComplete="off"
          onChange={(e) => setLanguage(e.target.value)}
        />
        {select(
          ids.category,
          t('tplForm.category'),
          category,
          CATEGORIES,
          (c) => t(`template.category.${c}`),
          setCategory,
          errors.category,
        )}
        {select(ids.status, t('tplForm.status'), status, STATUSES, (s) => t(`tplSettings.status.${s}`), setStatus, errors.status)}
        <div className={`field${errors.body ? ' field-invalid' : ''}`}>
          <label htmlFor={ids.body}>{t('tplForm.body')}</label>
          <textarea
            id={ids.body}
            rows={4}
            value={body}
            onChange={(e) => setBody(e.target.value)}
            aria-invalid={errors.body ? true : undefined}
            aria-describedby={`${ids.body}-hint`}
          />
          <p id={`${ids.body}-hint`} className="hint">
            {t('tplForm.bodyHint')} <code>{'{{nome}}'}</code>, <code>{'{{atendente}}'}</code> · <code>{'{{1}}'}</code>,{' '}
            <code>{'{{2}}'}</code>
            {vars.length > 0 && (
              <>
                <br />
                {t('tplForm.detected', { list: vars.join(', ') })}
              </>
            )}
          </p>
          {errors.body && (
            <p className="field-error" role="alert">
              {errors.body}
            </p>
          )}
        </div>
        <Field
          label={t('tplForm.footer')}
          value={footer}
          error={errors.footer}
          autoComplete="off"
          onChange={(e) => setFooter(e.target.value)}
        />
        {errors.form && (
          <p className="alert alert-error" role="alert">
            {errors.form}
          </p>
        )}
        <div className="actions">
          <button type="button" className="button button-ghost" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? t('channelForm.saving') : t('tplForm.save')}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
