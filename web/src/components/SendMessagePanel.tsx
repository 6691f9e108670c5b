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
  type StartState,
  type Team,
  type Template,
} from '../api'
import { formatInZone, formatPhone, splitInZone, zonedToUTC, zoneLabel } from '../i18n/format'
import { useAccountZone } from '../i18n/zone'
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
import { loadDraft, saveDraft, clearDraft } from '../lib/startDraft'
import { ParametersForm } from './ParametersForm'
import { TemplatePicker } from './TemplatePicker'
import { headerMediaPart, type HeaderMediaValue } from './media/HeaderMedia'

type Step = 'send' | 'template' | 'parameters' | 'text'
const STEPS: Step[] = ['send', 'template', 'parameters']
/** The step before each, for "Voltar". */
const PREVIOUS: Record<Step, Step | null> = { send: null, template: 'send', parameters: 'template', text: 'template' }
const MAX_DAYS_AHEAD = 30

/** Which step shows the input a server field error is about. */
function stepOfField(field: string): Step | null {
  if (field.startsWith('parameters') || field === 'header_media') return 'parameters'
  if (field === 'template_id') return 'template'
  if (['channel_id', 'team_id', 'scheduled_at', 'send_type', 'contact_id'].includes(field) || field.startsWith('contact')) return 'send'
  return null
}

/** The first full hour at least an hour from now, in the account's zone. */
function defaultSchedule(zone: string): { date: string; time: string } {
  const hour = 3_600_000
  return splitInZone(Math.ceil((Date.now() + hour) / hour) * hour, zone)
}

/** Why a typed schedule cannot be used, or null: a real moment, in the future, at most 30 days ahead. */
function scheduleProblem(date: string, time: string, zone: string, now = Date.now()): string | null {
  const at = zonedToUTC(date, time, zone)
  if (!at) return t('send.scheduledAtInvalid')
  const ms = Date.parse(at)
  if (ms <= now) return t('send.scheduledAtPast')
  if (ms > now + MAX_DAYS_AHEAD * 24 * 3600_000) return t('send.scheduledAtTooFar')
  return null
}

/** Types dd/mm/aaaa as digits: the slashes come by themselves. */
function maskDate(v: string): string {
  const d = v.replace(/\D/g, '').slice(0, 8)
  return [d.slice(0, 2), d.slice(2, 4), d.slice(4)].filter(Boolean).join('/')
}

/** Types hh:mm as digits: the colon comes by itself. */
function maskTime(v: string): string {
  const d = v.replace(/\D/g, '').slice(0, 4)
  return d.length > 2 ? `${d.slice(0, 2)}:${d.slice(2)}` : d
}

/** What a choice just made changes, before React re-renders with it. */
type AdvanceWith = { sendType?: SendType | null; team?: Team | undefined; state?: StartState }

interface Props {
  contact: Contact
  onClose: () => void
  onStarted: (c: Conversation) => void
  onOpenExisting: (id: string) => void
}

/** "Enviar mensagem": send type, channel and team → "Modelo de mensagem" → "Parâmetros" → start. */
export function SendMessagePanel({ contact: initialContact, onClose, onStarted, onOpenExisting }: Props) {
  const zone = useAccountZone()
  const { user } = useSession()
  const dir = useDirectory()
  const channels = dir.channels.filter((c) => c.active)
  // A reload mid-flow comes back to the same step with what was filled (session storage).
  const [draft] = useState(() => loadDraft(user.id, initialContact.id))

  // Kept here: the agent may record the contact's consent in this panel, or the server may say it changed.
  const [contact, setContact] = useState(initialContact)
  const [step, setStep] = useState<Step>(draft?.step ?? 'send')
  const [sendType, setSendType] = useState<SendType | null>(draft?.sendType ?? null)
  const [schedule, setSchedule] = useState(() => draft?.schedule ?? defaultSchedule(zone))
  const [pickedChannel, setPickedChannel] = useState<string | null>(draft?.channelId ?? null)
  const [pickedTeam, setPickedTeam] = useState<string | null>(draft?.teamId ?? null)
  const [template, setTemplate] = useState<Template | null>(draft?.template ?? null)
  const [values, setValues] = useState<Record<string, string>>(draft?.values ?? {})
  const [text, setText] = useState(draft?.text ?? '')
  const [headerMedia, setHeaderMedia] = useState<HeaderMediaValue | null>(null)
  const [clientErrors, setClientErrors] = useState<Record<string, string>>({})
  const [serverErrors, setServerErrors] = useState<FieldError[]>([])
  const [formError, setFormError] = useState('')
  const [existingId, setExistingId] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [state, setState] = useState<{ channelId: string; value: StartState } | null>(null)
  const [stateError, setStateError] = useState<{ channelId: string; text: string } | null>(null)
  const [stateAttempt, setStateAttempt] = useState(0)
  // The agent's last choice came before the start state arrived: move on when it does.
  const advanceWhenReady = useRef(false)
  const advanceRef = useRef<(next?: AdvanceWith) => void>(() => {})
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

  // What has one sensible answer is chosen for the agent: the only channel; the channel's default
  // team, or the only team on it. An agent is offered only the teams they belong to.
  const channel: Channel | undefined = channels.length === 1 ? channels[0] : channels.find((c) => c.id === pickedChannel)
  const allowedTeams: Team[] = channel
    ? dir.teams.filter((tm) => tm.channel_ids.includes(channel.id) && (user.role === 'admin' || tm.member_ids?.includes(user.id)))
    : []
  const team: Team | undefined =
    allowedTeams.find((tm) => tm.id === pickedTeam) ??
    allowedTeams.find((tm) => tm.id === channel?.default_team_id) ??
    (allowedTeams.length === 1 ? allowedTeams[0] : undefined)

  // The contact's window and open conversation on the channel, known before anything is filled.
  useEffect(() => {
    if (!channel) return
    let live = true
    api.startState(contact.id, channel.id).then(
      (value) => {
        if (!live) return
        setState({ channelId: channel.id, value })
        setStateError(null)
        if (advanceWhenReady.current) {
          advanceWhenReady.current = false
          advanceRef.current({ state: value })
        }
      },
      (err) => {
        if (!live) return
        setState(null)
        setStateError({ channelId: channel.id, text: problemText(err) })
      },
    )
    return () => {
      live = false
    }
  }, [contact.id, channel?.id, stateAttempt]) // eslint-disable-line react-hooks/exhaustive-deps
  const startState = state && channel && state.channelId === channel.id ? state.value : null
  const stateFailed = stateError && channel && stateError.channelId === channel.id ? stateError.text : null
  // The server's latest word on this channel wins over a 409 met earlier (perhaps on another channel).
  const openElsewhere = startState ? startState.open_conversation_id : existingId
  const windowUntil = startState?.window.open ? startState.window.expires_at : null
  const windowOpen = sendType === 'now' && !!windowUntil && Date.parse(windowUntil) > Date.now()

  useEffect(() => {
    saveDraft(user.id, contact.id, { step, sendType, schedule, channelId: pickedChannel, teamId: pickedTeam, template, values, text })
  }, [user.id, contact.id, step, sendType, schedule, pickedChannel, pickedTeam, template, values, text])

  const close = () => {
    clearDraft()
    onClose()
  }
  const openExisting = (id: string) => {
    clearDraft()
    onOpenExisting(id)
  }
  // What closing would discard (the dialog asks first).
  const dirty = sendType !== null || Object.values(values).some((v) => v.trim()) || text.trim() !== ''

  const errorAt = (field: string) => {
    if (clientErrors[field]) return clientErrors[field]
    const fe = serverErrors.find((e) => e.field === field)
    return fe ? fieldErrorText(fe) : undefined
  }
  const clearServer = (pred: (field: string) => boolean) => setServerErrors((list) => list.filter((e) => !pred(e.field)))

  // A template the contact's consent rules out is not a choice, even if it was picked before.
  const usable = template && !unavailableReason(template, contact) ? template : null

  const scheduleError = sendType === 'scheduled' ? scheduleProblem(schedule.date, schedule.time, zone) : null
  const sendReady = sendType !== null && !!channel && !!team && !scheduleError && !openElsewhere

  /** Moves to "Modelo de mensagem" when every choice of the first step is made and nothing blocks it. */
  function advance(next: AdvanceWith = {}) {
    const st = next.sendType !== undefined ? next.sendType : sendType
    const tm = next.team !== undefined ? next.team : team
    const known = next.state ?? startState
    if (!st || !channel || !tm) return
    if (st === 'scheduled') {
      const problem = scheduleProblem(schedule.date, schedule.time, zone)
      if (problem) {
        setClientErrors((e) => ({ ...e, scheduled_at: problem }))
        return
      }
    }
    if (!known) {
      advanceWhenReady.current = true
      return
    }
    if (known.open_conversation_id) return
    setStep('template')
  }
  useEffect(() => {
    advanceRef.current = advance
  })

  function chooseTemplate(tpl: Template) {
    if (tpl.id !== template?.id) {
      setTemplate(tpl)
      setValues(initialValues(tpl, user.name))
      setHeaderMedia(null)
      clearServer((f) => f === 'template_id' || f.startsWith('parameters') || f === 'header_media')
      setClientErrors({})
    }
  }

  async function start() {
    if (!channel || !team || !sendType) return
    const free = step === 'text'
    if (!free && !template) return
    const missing: Record<string, string> = {}
    if (free && !text.trim()) missing.text = t('send.textRequired')
    if (!free && template) {
      for (const v of template.variables) if (!values[v]?.trim()) missing[`parameters.${v}`] = fieldErrorText({ field: v, code: 'parameter_missing', message: '' })
      const header = headerMediaPart(template, headerMedia).error
      if (header) missing.header_media = header
    }
    let scheduledAt: string | null = null
    if (sendType === 'scheduled') {
      const problem = scheduleProblem(schedule.date, schedule.time, zone)
      if (problem) missing.scheduled_at = problem
      else scheduledAt = zonedToUTC(schedule.date, schedule.time, zone)
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
      ...(free
        ? { text: text.trim() }
        : { template_id: template!.id, parameters: toParameters(template!, values), header_media: headerMediaPart(template!, headerMedia).header_media }),
    }
    setBusy(true)
    setServerErrors([])
    setFormError('')
    setExistingId(null)
    try {
      const conv = await api.startConversation(body, keyFor(attempt, body))
      clearDraft()
      onStarted(conv)
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
  const elsewhere = serverErrors.filter((e) => stepOfField(e.field) !== 'parameters' && e.field !== 'text')

  // Errors that belong to an earlier step (or to no field), listed on the last step with a way back.
  const elsewhereAlert = elsewhere.length > 0 && (
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
  )

  const stepIndex = step === 'text' ? 3 : STEPS.indexOf(step) + 1
  const summary = (
    <p className="summary muted small">
      {sendType === 'scheduled'
        ? t('send.summary.scheduled', { date: formatInZone(zonedToUTC(schedule.date, schedule.time, zone), zone), zone: zoneLabel(zone) })
        : t('send.summary.now')}
      {' · '}
      {t('send.summary.channel', { name: channel?.name ?? '' })}
      {' · '}
      {t('send.summary.team', { name: team?.name ?? '' })}
    </p>
  )
  return (
    <Dialog title={t('send.title')} subtitle={t('send.stepOf', { current: stepIndex, total: STEPS.length })} variant="wide" onClose={close} dirty={dirty}>
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
              if (s === 'now') advance({ sendType: s })
            }}
            schedule={schedule}
            onSchedule={(v) => {
              setSchedule(v)
              setClientErrors(({ scheduled_at: _drop, ...rest }) => rest)
              clearServer((f) => f === 'scheduled_at')
            }}
            channels={channels}
            channel={channel}
            onChannel={(id) => {
              setPickedChannel(id)
              setPickedTeam(null)
              setTemplate(null)
              setExistingId(null)
              clearServer((f) => f === 'channel_id' || f === 'team_id')
              // With the channel's team decided for the agent, nothing is left to choose: move on.
              if (id === channel?.id && startState) {
                if (sendType === 'now') advance()
              } else {
                advanceWhenReady.current = sendType === 'now'
              }
            }}
            teams={allowedTeams}
            team={team}
            onTeam={(tm) => {
              setPickedTeam(tm.id)
              clearServer((f) => f === 'team_id')
              advance({ team: tm })
            }}
            errorAt={errorAt}
            startState={startState}
            openConversationId={openElsewhere}
            onOpenExisting={openExisting}
            stateError={stateFailed}
            onRetryState={() => setStateAttempt((n) => n + 1)}
          />
        )}
        {step === 'template' && channel && (
          <>
            {windowOpen && windowUntil && (
              <section className="free-text-offer" aria-labelledby="free-text-heading">
                <p id="free-text-heading" className="alert alert-info">
                  {t('send.windowOpenUntil', { date: formatInZone(windowUntil, zone) })}
                </p>
                <button type="button" className="button" onClick={() => setStep('text')}>
                  {t('send.freeText')}
                </button>
              </section>
            )}
            <TemplatePicker channelId={channel.id} contact={contact} selected={usable} onSelect={chooseTemplate} error={errorAt('template_id')} />
          </>
        )}
        {step === 'text' && !windowOpen && startState && (
          <p className="alert alert-warning" role="alert">
            {t('send.windowClosed')}{' '}
            <button type="button" className="link-button" onClick={() => setStep('template')}>
              {t('send.chooseTemplate')}
            </button>
          </p>
        )}
        {step === 'text' && (
          <div className="step">
            <h3>{t('send.freeTextHeading')}</h3>
            {elsewhereAlert}
            <p className="muted small">
              {windowUntil && t('send.windowOpenUntil', { date: formatInZone(windowUntil, zone) })}
            </p>
            <div className={`field${errorAt('text') ? ' field-invalid' : ''}`}>
              <label htmlFor="start-free-text">{t('send.freeTextLabel')}</label>
              <textarea
                id="start-free-text"
                rows={5}
                maxLength={4096}
                value={text}
                aria-invalid={errorAt('text') ? true : undefined}
                aria-describedby={errorAt('text') ? 'start-free-text-error' : undefined}
                onChange={(e) => {
                  setText(e.target.value)
                  setClientErrors(({ text: _drop, ...rest }) => rest)
                  clearServer((f) => f === 'text')
                }}
              />
              {errorAt('text') && (
                <p id="start-free-text-error" className="field-error" role="alert">
                  {errorAt('text')}
                </p>
              )}
            </div>
            {summary}
          </div>
        )}
        {step === 'parameters' && template && (
          <>
            {elsewhereAlert}
            <ParametersForm
              template={template}
              contact={contact}
              values={values}
              errors={paramErrors}
              headerMedia={headerMedia}
              onHeaderMedia={(v) => {
                setHeaderMedia(v)
                setClientErrors(({ header_media: _drop, ...rest }) => rest)
                clearServer((f) => f === 'header_media')
              }}
              headerMediaError={errorAt('header_media')}
              onSubmit={() => {
                if (!busy) void start()
              }}
              onChange={(v, value) => {
                setValues((old) => ({ ...old, [v]: value }))
                setClientErrors(({ [`parameters.${v}`]: _drop, ...rest }) => rest)
                clearServer((f) => parameterErrors(template, [{ field: f, code: '', message: '' }])[v] !== undefined)
              }}
            />
            {summary}
          </>
        )}
        {existingId && step !== 'send' && <AlreadyOpen name={contact.name} onOpen={() => openExisting(existingId)} />}
        {formError && (
          <p className="alert alert-error" role="alert">
            {formError}
          </p>
        )}
      </div>
      <div className="dialog-foot">
        {PREVIOUS[step] === null ? (
          <button type="button" className="button button-ghost" onClick={close}>
            {t('common.cancel')}
          </button>
        ) : (
          <button type="button" className="button button-ghost" onClick={() => setStep(PREVIOUS[step]!)}>
            {t('common.back')}
          </button>
        )}
        {step === 'send' && sendType === 'scheduled' && (
          <button type="button" className="button button-primary" disabled={!sendReady} onClick={() => advance()}>
            {t('send.toTemplate')}
          </button>
        )}
        {step === 'template' && (
          <button type="button" className="button button-primary" disabled={!usable} onClick={() => setStep('parameters')}>
            {t('template.next')}
          </button>
        )}
        {(step === 'parameters' || step === 'text') && (
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
  schedule: { date: string; time: string }
  onSchedule: (v: { date: string; time: string }) => void
  channels: Channel[]
  channel: Channel | undefined
  onChannel: (id: string) => void
  teams: Team[]
  team: Team | undefined
  onTeam: (tm: Team) => void
  errorAt: (field: string) => string | undefined
  startState: StartState | null
  openConversationId: string | null
  onOpenExisting: (id: string) => void
  /** Why the contact's window and open conversation could not be read (the flow cannot go on). */
  stateError: string | null
  onRetryState: () => void
}

/** The contact already has an open conversation on the channel: say so and offer it. */
function AlreadyOpen({ name, onOpen }: { name: string; onOpen: () => void }) {
  return (
    <div className="alert alert-warning" role="alert">
      <p>{t('params.conflict', { name })}</p>
      <button type="button" className="button" onClick={onOpen}>
        {t('params.openExisting')}
      </button>
    </div>
  )
}

/** A server error about the contact (422 contact_opted_out has field `contact`; others `contact.*`). */
function contactError(errorAt: (field: string) => string | undefined): string | undefined {
  return errorAt('contact') ?? errorAt('contact_id') ?? errorAt('contact.phone') ?? errorAt('contact.name')
}

function SendStep(p: SendStepProps) {
  const zone = useAccountZone()
  const ids = useId()
  const channelError = p.errorAt('channel_id')
  const teamError = p.errorAt('team_id')
  // The schedule is checked as it is typed, once it is complete, so a wrong date never reaches the last step.
  const typed = p.schedule.date.length === 10 && p.schedule.time.length === 5
  const scheduleError = p.errorAt('scheduled_at') ?? (typed ? (scheduleProblem(p.schedule.date, p.schedule.time, zone) ?? undefined) : undefined)
  // The format, the zone and the error are read with each of the two fields.
  const scheduleDescribedBy = [scheduleError && `${ids}-schedule-error`, `${ids}-schedule-hint`].filter(Boolean).join(' ')
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

      {p.openConversationId && <AlreadyOpen name={p.contact.name} onOpen={() => p.onOpenExisting(p.openConversationId!)} />}
      {p.stateError && (
        <div className="alert alert-error" role="alert">
          <p>{p.stateError}</p>
          <button type="button" className="button" onClick={p.onRetryState}>
            {t('common.retry')}
          </button>
        </div>
      )}
      {!p.openConversationId && p.startState?.window.open && p.startState.window.expires_at && (
        <p className="alert alert-info">{t('send.windowOpenUntil', { date: formatInZone(p.startState.window.expires_at, zone) })}</p>
      )}

      <section aria-labelledby={`${ids}-type`}>
        <h3 id={`${ids}-type`}>{t('send.typeHeading')}</h3>
        <div role="group" aria-labelledby={`${ids}-type`} className="options options-2">
          <Choice pressed={p.sendType === 'now'} onClick={() => p.onSendType('now')} title={t('send.type.now')} description={t('send.type.nowHint')} />
          <Choice
            pressed={p.sendType === 'scheduled'}
            onClick={() => p.onSendType('scheduled')}
            title={t('send.type.scheduled')}
            description={t('send.type.scheduledHint')}
          />
        </div>
        {p.sendType === 'scheduled' && (
          <fieldset className="schedule">
            <legend>
              {t('send.scheduledAt')} <span className="muted small">({zoneLabel(zone)})</span>
            </legend>
            <div className="schedule-fields">
              <Field
                label={t('send.scheduledDate')}
                inputMode="numeric"
                autoComplete="off"
                placeholder="dd/mm/aaaa"
                maxLength={10}
                value={p.schedule.date}
                aria-invalid={scheduleError ? true : undefined}
                aria-describedby={scheduleDescribedBy}
                onChange={(e) => p.onSchedule({ ...p.schedule, date: maskDate(e.target.value) })}
              />
              <Field
                label={t('send.scheduledTime')}
                inputMode="numeric"
                autoComplete="off"
                placeholder="hh:mm"
                maxLength={5}
                value={p.schedule.time}
                aria-invalid={scheduleError ? true : undefined}
                aria-describedby={scheduleDescribedBy}
                onChange={(e) => p.onSchedule({ ...p.schedule, time: maskTime(e.target.value) })}
              />
            </div>
            <p id={`${ids}-schedule-hint`} className="hint">
              {t('send.scheduledAtHint', { zone: zoneLabel(zone) })}
            </p>
            {scheduleError && (
              <p id={`${ids}-schedule-error`} className="field-error" role="alert">
                {scheduleError}
              </p>
            )}
          </fieldset>
        )}
      </section>

      {p.channels.length === 0 && <p className="alert alert-warning">{t('send.noChannels')}</p>}
      {p.channels.length === 1 && <p className="muted">{t('send.channelOnly', { name: p.channels[0].name })}</p>}
      {p.channels.length > 1 && (
        <section aria-labelledby={`${ids}-channel`}>
          <h3 id={`${ids}-channel`}>{t('send.channelHeading')}</h3>
          <div role="group" aria-labelledby={`${ids}-channel`} className="options options-2">
            {p.channels.map((c) => (
              <Choice
                key={c.id}
                pressed={p.channel?.id === c.id}
                onClick={() => p.onChannel(c.id)}
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
          <div role="group" aria-labelledby={`${ids}-team`} className="options options-3">
            {p.teams.map((tm) => (
              <Choice key={tm.id} pressed={p.team?.id === tm.id} onClick={() => p.onTeam(tm)} title={tm.name} />
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

/**
 * An option drawn as a card that acts when clicked ("clique na opção", as the help page says): a
 * toggle button named by its title alone, so arrowing through a group never moves the agent on by
 * itself; the description beside it is its accessible description, and the whole card is its target.
 */
function Choice(props: { pressed: boolean; onClick: () => void; title: string; description?: string }) {
  const id = useId()
  return (
    <div className={`option option-choice${props.pressed ? ' is-selected' : ''}`}>
      <span className="option-text">
        <button
          type="button"
          className="option-title option-button"
          aria-pressed={props.pressed}
          onClick={props.onClick}
          aria-describedby={props.description ? `${id}-d` : undefined}
        >
          {props.title}
        </button>
        {props.description && (
          <span id={`${id}-d`} className="option-description">
            {props.description}
          </span>
        )}
      </span>
    </div>
  )
}
