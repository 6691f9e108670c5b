import { useState } from 'react'
import { api, ApiError, type Conversation, type FieldError, type Message, type Template } from '../api'
import { t } from '../i18n/pt-BR'
import { fieldErrorText, problemText } from '../lib/errors'
import { initialValues, parameterErrors, toParameters } from '../lib/template'
import { useSession } from '../state'
import { Dialog } from './Dialog'
import { ParametersForm } from './ParametersForm'
import { headerMediaPart, type HeaderMediaValue } from './media/HeaderMedia'
import { TemplatePicker } from './TemplatePicker'

interface Props {
  conversation: Conversation
  onClose: () => void
  onSent: (m: Message) => void
}

/** Outside the 24 h window: pick an approved template and send it inside the conversation. */
export function TemplateSendDialog({ conversation, onClose, onSent }: Props) {
  const { user } = useSession()
  const [step, setStep] = useState<'template' | 'parameters'>('template')
  const [template, setTemplate] = useState<Template | null>(null)
  const [values, setValues] = useState<Record<string, string>>({})
  // What the agent typed, beyond the defaults the template starts with.
  const [typed, setTyped] = useState(false)
  const [errors, setErrors] = useState<FieldError[]>([])
  const [formError, setFormError] = useState('')
  const [busy, setBusy] = useState(false)
  const [headerMedia, setHeaderMedia] = useState<HeaderMediaValue | null>(null)

  async function send() {
    if (!template) return
    const missing = template.variables
      .filter((v) => !values[v]?.trim())
      .map((v) => ({ field: `parameters.${v}`, code: 'parameter_missing', message: '' }))
    const header = headerMediaPart(template, headerMedia)
    if (header.error) missing.push({ field: 'header_media', code: 'header_media', message: header.error })
    if (missing.length) {
      setErrors(missing)
      return
    }
    setBusy(true)
    setFormError('')
    try {
      onSent(await api.postMessage(conversation.id, { template_id: template.id, parameters: toParameters(template, values), header_media: header.header_media }))
    } catch (err) {
      setBusy(false)
      const fields = err instanceof ApiError ? err.fieldErrors : []
      setErrors(fields)
      const unplaced = fields.filter((e) => !e.field.startsWith('parameters') && e.field !== 'header_media')
      if (fields.length === 0) setFormError(problemText(err))
      else if (unplaced.length) setFormError(unplaced.map(fieldErrorText).join(' '))
    }
  }

  const headerError = errors.find((e) => e.field === 'header_media')
  // Client-side errors carry their text already; the server's are translated by code.
  const headerMediaError = headerError && (headerError.code === 'header_media' ? headerError.message : fieldErrorText(headerError))
  const paramErrors = Object.fromEntries(
    Object.entries(parameterErrors(template, errors)).map(([v, fe]) => [v, fieldErrorText(fe)]),
  )

  return (
    <Dialog title={t('conversation.templateDialog')} variant="wide" onClose={onClose} dirty={typed && !busy}>
      <div className="dialog-body">
        {step === 'template' ? (
          <TemplatePicker
            channelId={conversation.channel_id}
            contact={conversation.contact}
            selected={template}
            onSelect={(tpl) => {
              if (tpl.id === template?.id) return
              setTemplate(tpl)
              setValues(initialValues(tpl, user.name))
              setErrors([])
              setHeaderMedia(null)
            }}
          />
        ) : (
          template && (
            <ParametersForm
              template={template}
              contact={conversation.contact}
              values={values}
              errors={paramErrors}
              headerMedia={headerMedia}
              onHeaderMedia={(v) => {
                setHeaderMedia(v)
                setTyped(true)
                setErrors((list) => list.filter((e) => e.field !== 'header_media'))
              }}
              headerMediaError={headerMediaError}
              onSubmit={() => {
                if (!busy) void send()
              }}
              onChange={(v, value) => {
                setValues((old) => ({ ...old, [v]: value }))
                setTyped(true)
                setErrors((list) => list.filter((e) => parameterErrors(template, [e])[v] === undefined))
              }}
            />
          )
        )}
        {formError && (
          <p className="alert alert-error" role="alert">
            {formError}
          </p>
        )}
      </div>
      <div className="dialog-foot">
        {step === 'template' ? (
          <>
            <button type="button" className="button button-ghost" onClick={onClose}>
              {t('common.cancel')}
            </button>
            <button type="button" className="button button-primary" disabled={!template} onClick={() => setStep('parameters')}>
              {t('template.next')}
            </button>
          </>
        ) : (
          <>
            <button type="button" className="button button-ghost" onClick={() => setStep('template')}>
              {t('common.back')}
            </button>
            <button type="button" className="button button-primary" disabled={busy} onClick={send}>
              {busy ? t('params.submitting') : t('conversation.sendTemplate')}
            </button>
          </>
        )}
      </div>
    </Dialog>
  )
}
