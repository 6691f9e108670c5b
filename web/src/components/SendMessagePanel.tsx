import { useEffect, useId, useRef, useState } from 'react'
import {
  api,
  ApiError,
  type Channel,
  type Contact,
  type Conversation,
  type FieldError,
  type SendType,
  type StartConversationInput,
  type Team,
  type Template,
} from '../api'
import { formatDateTime, formatPhone, localInputToUTC, localZone, toLocalInputValue } from '../i18n/format'
import { t } from '../i18n/pt-BR'
import { unavailableReason } from '../lib/consent'
import { fieldErrorText, problemText } from '../lib/errors'
import { keyFor } from '../lib/ids'
import { initialValues, parameterErrors, toParameters } from '../lib/template'
import { useDirectory, useSession } from '../state'
import { initials } from '../lib/text'
import { ContactConsent } from './ContactConsent'
import { Dialog } from './Dialog'
import { Field } from './Field'
import { ParametersForm } from './ParametersForm'
import { TemplatePicker } from './TemplatePicker'

type Step = 'send' | 'template' | 'parameters'
const STEPS: Step[] = ['send', 'template', 'parameters']

/** Which step shows the input a server field error is about. */
function stepOfField(field: string): Step | null {
  if (field.startsWith('parameters')) return 'parameters'
  if (field === 'template_id') return 'template'
  if (['channel_id', 'team_id', 'scheduled_at', 'send_type', 'contact_id'].includes(field) || field.startsWith('contact')) return 'send'
  return null
}

function defaultSchedule(): string {
  const d = new Date(Date.now() + 60 * 60 * 1000)
  d.setMinutes(0, 0, 0)
  return toLocalInputValue(d)
}

interface Props {
  contact: Contact
  onClose: () => void
  onStarted: (c: Conversation) => void
  onOpenExisting: (id: string) => void
}

/** "Enviar mensagem": send type, channel and team → "Modelo de mensagem" → "Parâmetros" → start. */
export function SendMessagePanel({ contact: initialContact, onClose, onStarted, onOpenExisting }: Props) {
  const { user } = useSession()
  const dir = useDirectory()
  const channels = dir.channels.filter((c) => c.active)

  // Kept here: the agent may record the contact's consent in this panel, or the server may say it changed.
  const [contact, setContact] = useState(initialContact)
  const [step, setStep] = useState<Step>('send')
  const [sendType, setSendType] = useState<SendType | null>(null)
  const [scheduledLocal, setScheduledLocal] = useState(defaultSchedule)
  const [minLocal] = useState(() => toLocalInputValue(new Date()))
  const [pickedChannel, setPickedChannel] = useState<string | null>(null)
  const [pickedTeam, setPickedTeam] = useState<string | null>(null)
  const [template, setTemplate] = useState<Template | null>(null)
  const [values, setValues] = useState<Record<string, string>>({})
  const [clientErrors, setClientErrors] = useState<Record<string, string>>({})
  const [serverErrors, setServerErrors] = useState<FieldError[]>([])
  const [formError, setFormError] = useState('')
  const [existingId, setExistingId] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const attempt = useRef<{ body: string; key: string } | null>(null)
  const bodyRef = useRef<HTMLDivElement>(null)
  const shownStep = useRef(step)

  // Moving between steps removes the button that had focus: put keyboard focus on the new heading.
  useEffect(() => {
    if (shownStep.current === step) return
    shownStep.current = step
    const heading = bodyRef.current?.querySelector<HTMLElement>('h3')
    heading?.setAttribute('tabindex', '-1')
    heading?.focus()
  }, [step])

  // With a single channel the choice is made for the agent ("skipped when there is only one").
  const channel: Channel | undefined = channels.length === 1 ? channels[0] : channels.find((c) => c.id === pickedChannel)
  const allowedTeams: Team[] = channel ? dir.teams.filter((tm) => tm.channel_ids.includes(channel.id)) : []
  const team: Team | undefined =
    allowedTeams.find((tm) => tm.id === pickedTeam) ?? (allowedTeams.length === 1 ? allowedTeams[0] : undefined)

  const errorAt = (field: string) => {
    if (clientErrors[field]) return clientErrors[field]
    const fe = serverErrors.find((e) => e.field === field)
    return fe ? fieldErrorText(fe) : undefined
  }
  const clearServer = (pred: (field: string) => boolean) => setServerErrors((list) => list.filter((e) => !pred(e.field)))

  // A template the contact's consent rules out is not a choice, even if it was picked before.
  const usable = template && !unavailableReason(template, contact) ? template : null

  const sendReady = sendType !== null && !!channel && !!team && (sendType === 'now' || !!localInputToUTC(scheduledLocal))

  function chooseTemplate(tpl: Template) {
    if (tpl.id !== template?.id) {
      setTemplate(tpl)
      setValues(initialValues(tpl, user.name))
      clearServer((f) => f === 'template_id' || f.startsWith('parameters'))
      setClientErrors({})
    }
  }

  async function start() {
    if (!channel || !team || !template || !sendType) return
    const missing: Record<string, string> = {}
    for (const v of template.variables) if (!values[v]?.trim()) missing[`parameters.${v}`] = fieldErrorText({ field: v, code: 'parameter_missing', message: '' })
    let scheduledAt: string | null = null
    if (sendType === 'scheduled') {
      scheduledAt = localInputToUTC(scheduledLocal)
      if (!scheduledAt || Date.parse(scheduledAt) <= Date.now()) missing.scheduled_at = t('send.scheduledAtPast')
    }
    setClientErrors(missing)
    if (Object.keys(missing).length) {
      if (missing.scheduled_at) setStep('send')
      return
    }

    const body: StartConversationInput = {
      contact_id: contact.id,
      channel_id: channel.id,
      team_id: team.id,
      send_type: sendType,
      ...(scheduledAt ? { scheduled_at: scheduledAt } : {}),
      template_id: template.id,
      parameters: toParameters(template, values),
    }
    setBusy(true)
    setServerErrors([])
    setFormError('')
    setExistingId(null)
    try {
      onStarted(await api.startConversation(body, keyFor(attempt, body)))
    } catch (err) {
      setBusy(false)
      // The contact opted out since this panel read it: show its current consent.
      if (err instanceof ApiError && (err.code === 'contact_opted_out' || err.fieldErrors.some((e) => e.code === 'contact_opted_out'))) {
        api.getContact(contact.id).then(setContact, () => {})
      }
      if (err instanceof ApiError && err.code === 'conversation_already_open' && err.problem.existing_id) {
        setExistingId(err.problem.existing_id)
      } else if (err instanceof ApiError && err.fieldErrors.length > 0) {
        setServerErrors(err.fieldErrors)
        if (err.fieldErrors.every((e) => stepOfField(e.field) === null)) setFormError(problemText(err))
      } else {
        setFormError(problemText(err))
      }
    }
  }

  const paramErrors: Record<string, string> = {}
  for (const [k, v] of Object.entries(clientErrors)) if (k.startsWith('parameters.')) paramErrors[k.slice(11)] = v
  for (const [v, fe] of Object.entries(parameterErrors(template, serverErrors))) paramErrors[v] ??= fieldErrorText(fe)
  // Errors that belong to an earlier step (or to no field) are listed above the parameters.
  const elsewhere = serverErrors.filter((e) => stepOfField(e.field) !== 'parameters')

  const stepIndex = STEPS.indexOf(step) + 1
  return (
    <Dialog
      title={t('send.title')}
      subtitle={t('send.stepOf', { current: stepIndex, total: STEPS.length })}
      variant="wide"
      onClose={onClose}
    >
      <div className="dialog-body" ref={bodyRef}>
        {step === 'send' && (
          <SendStep
            contact={contact}
            onContact={(c) => {
              setContact(c)
              clearServer((f) => f.startsWith('contact'))
            }}
            sendType={sendType}
            onSendType={(s) => {
              setSendType(s)
              clearServer((f) => f === 'send_type' || f === 'scheduled_at')
            }}
            scheduledLocal={scheduledLocal}
            onScheduled={(v) => {
              setScheduledLocal(v)
              setClientErrors(({ scheduled_at: _drop, ...rest }) => rest)
              clearServer((f) => f === 'scheduled_at')
            }}
            channels={channels}
            channel={channel}
            onChannel={(id) => {
              setPickedChannel(id)
              setTemplate(null)
              clearServer((f) => f === 'channel_id' || f === 'team_id')
            }}
            teams={allowedTeams}
            team={team}
            onTeam={(id) => {
              setPickedTeam(id)
              clearServer((f) => f === 'team_id')
            }}
            errorAt={errorAt}
            minLocal={minLocal}
          />
        )}
        {step === 'template' && channel && (
          <TemplatePicker
            channelId={channel.id}
            contact={contact}
            selected={usable}
            onSelect={chooseTemplate}
            error={errorAt('template_id')}
          />
        )}
        {step === 'parameters' && template && (
          <>
            {elsewhere.length > 0 && (
              <div className="alert alert-error" role="alert">
                <p>{t('params.fixErrors')}</p>
                <ul>
                  {elsewhere.map((e, i) => (
                    <li key={i}>
                      {fieldErrorText(e)}{' '}
                      {stepOfField(e.field) && (
                        <button type="button" className="link-button" onClick={() => setStep(stepOfField(e.field)!)}>
                          {t('common.change')}
                        </button>
                      )}
                    </li>
                  ))}
                </ul>
              </div>
            )}
            <ParametersForm
              template={template}
              contact={contact}
              values={values}
              errors={paramErrors}
              onSubmit={() => {
                if (!busy) void start()
              }}
              onChange={(v, value) => {
                setValues((old) => ({ ...old, [v]: value }))
                setClientErrors(({ [`parameters.${v}`]: _drop, ...rest }) => rest)
                clearServer((f) => parameterErrors(template, [{ field: f, code: '', message: '' }])[v] !== undefined)
              }}
            />
            <p className="summary muted small">
              {sendType === 'scheduled'
                ? t('send.summary.scheduled', { date: formatDateTime(localInputToUTC(scheduledLocal)) })
                : t('send.summary.now')}
              {' · '}
              {t('send.summary.channel', { name: channel?.name ?? '' })}
              {' · '}
              {t('send.summary.team', { name: team?.name ?? '' })}
            </p>
          </>
        )}
        {existingId && (
          <div className="alert alert-warning" role="alert">
            <p>{t('params.conflict', { name: contact.name })}</p>
            <button type="button" className="button" onClick={() => onOpenExisting(existingId)}>
              {t('params.openExisting')}
            </button>
          </div>
        )}
        {formError && (
          <p className="alert alert-error" role="alert">
            {formError}
          </p>
        )}
      </div>
      <div className="dialog-foot">
        {step === 'send' ? (
          <button type="button" className="button button-ghost" onClick={onClose}>
            {t('common.cancel')}
          </button>
        ) : (
          <button type="button" className="button button-ghost" onClick={() => setStep(STEPS[stepIndex - 2])}>
            {t('common.back')}
          </button>
        )}
        {step === 'send' && (
          <button type="button" className="button button-primary" disabled={!sendReady} onClick={() => setStep('template')}>
            {t('common.continue')}
          </button>
        )}
        {step === 'template' && (
          <button type="button" className="button button-primary" disabled={!usable} onClick={() => setStep('parameters')}>
            {t('template.next')}
          </button>
        )}
        {step === 'parameters' && (
          <button type="button" className="button button-primary" disabled={busy} onClick={start}>
            {busy ? t('params.submitting') : sendType === 'scheduled' ? t('params.submitScheduled') : t('params.submitNow')}
          </button>
        )}
      </div>
    </Dialog>
  )
}

interface SendStepProps {
  contact: Contact
  onContact: (c: Contact) => void
  sendType: SendType | null
  onSendType: (s: SendType) => void
  scheduledLocal: string
  onScheduled: (v: string) => void
  channels: Channel[]
  channel: Channel | undefined
  onChannel: (id: string) => void
  teams: Team[]
  team: Team | undefined
  onTeam: (id: string) => void
  errorAt: (field: string) => string | undefined
  /** The earliest value the date-time picker offers (now, when the panel opened). */
  minLocal: string
}

/** A server error about the contact (422 contact_opted_out has field `contact`; others `contact.*`). */
function contactError(errorAt: (field: string) => string | undefined): string | undefined {
  return errorAt('contact') ?? errorAt('contact_id') ?? errorAt('contact.phone') ?? errorAt('contact.name')
}

function SendStep(p: SendStepProps) {
  const ids = useId()
  const channelError = p.errorAt('channel_id')
  const teamError = p.errorAt('team_id')
  return (
    <div className="step">
      <section className="contact-card" aria-label={t('send.contact')}>
        <span className="avatar avatar-large" aria-hidden="true">
          {initials(p.contact.name)}
        </span>
        <div>
          <p className="contact-card-name">{p.contact.name}</p>
          <p className="muted">{formatPhone(p.contact.phone)}</p>
          {p.contact.email && <p className="muted small">{p.contact.email}</p>}
        </div>
        <p className="muted small contact-card-hint">{t('send.contactConfirm')}</p>
        <ContactConsent contact={p.contact} onChange={p.onContact} error={contactError(p.errorAt)} />
      </section>

      <section aria-labelledby={`${ids}-type`}>
        <h3 id={`${ids}-type`}>{t('send.typeHeading')}</h3>
        <div role="radiogroup" aria-labelledby={`${ids}-type`} className="options options-2">
          <Option
            name={`${ids}-type`}
            checked={p.sendType === 'now'}
            onChange={() => p.onSendType('now')}
            title={t('send.type.now')}
            description={t('send.type.nowHint')}
          />
          <Option
            name={`${ids}-type`}
            checked={p.sendType === 'scheduled'}
            onChange={() => p.onSendType('scheduled')}
            title={t('send.type.scheduled')}
            description={t('send.type.scheduledHint')}
          />
        </div>
        {(p.sendType === 'scheduled' || p.errorAt('scheduled_at')) && (
          <Field
            label={t('send.scheduledAt')}
            type="datetime-local"
            hint={t('send.scheduledAtHint', { zone: localZone() })}
            min={p.minLocal}
            value={p.scheduledLocal}
            error={p.errorAt('scheduled_at')}
            onChange={(e) => p.onScheduled(e.target.value)}
          />
        )}
      </section>

      {p.channels.length === 0 && <p className="alert alert-warning">{t('send.noChannels')}</p>}
      {p.channels.length === 1 && <p className="muted">{t('send.channelOnly', { name: p.channels[0].name })}</p>}
      {p.channels.length > 1 && (
        <section aria-labelledby={`${ids}-channel`}>
          <h3 id={`${ids}-channel`}>{t('send.channelHeading')}</h3>
          <div role="radiogroup" aria-labelledby={`${ids}-channel`} className="options options-2">
            {p.channels.map((c) => (
              <Option
                key={c.id}
                name={`${ids}-channel`}
                checked={p.channel?.id === c.id}
                onChange={() => p.onChannel(c.id)}
                title={c.name}
                description={formatPhone(c.phone_number)}
              />
            ))}
          </div>
          {channelError && (
            <p className="field-error" role="alert">
              {channelError}
            </p>
          )}
        </section>
      )}
      {p.channels.length === 1 && channelError && (
        <p className="field-error" role="alert">
          {channelError}
        </p>
      )}

      <section aria-labelledby={`${ids}-team`}>
        <h3 id={`${ids}-team`}>{t('send.teamHeading')}</h3>
        {!p.channel && <p className="muted small">{t('send.teamPickChannel')}</p>}
        {p.channel && p.teams.length === 0 && <p className="alert alert-warning">{t('send.noTeams')}</p>}
        {p.teams.length > 0 && (
          <div role="radiogroup" aria-labelledby={`${ids}-team`} className="options options-3">
            {p.teams.map((tm) => (
              <Option
                key={tm.id}
                name={`${ids}-team`}
                checked={p.team?.id === tm.id}
                onChange={() => p.onTeam(tm.id)}
                title={tm.name}
              />
            ))}
          </div>
        )}
        {teamError && (
          <p className="field-error" role="alert">
            {teamError}
          </p>
        )}
      </section>
    </div>
  )
}

/** A radio drawn as a selectable card; its accessible name is the title alone. */
function Option(props: { name: string; checked: boolean; onChange: () => void; title: string; description?: string }) {
  const id = useId()
  return (
    <label className={`option${props.checked ? ' is-selected' : ''}`}>
      <input
        type="radio"
        name={props.name}
        checked={props.checked}
        onChange={props.onChange}
        aria-labelledby={`${id}-t`}
        aria-describedby={props.description ? `${id}-d` : undefined}
      />
      <span className="option-text">
        <span id={`${id}-t`} className="option-title">
          {props.title}
        </span>
        {props.description && (
          <span id={`${id}-d`} className="option-description">
            {props.description}
          </span>
        )}
      </span>
    </label>
  )
}
