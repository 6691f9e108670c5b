import { useId, useState, type FormEvent } from 'react'
import { ApiError, type Channel, type Team } from '../api'
import { channelsApi, type ChannelInput } from '../api/channels'
import { Dialog } from '../components/Dialog'
import { Field } from '../components/Field'
import { t } from '../i18n/pt-BR'
import { fieldErrorText, problemText } from '../lib/errors'
import { newVerifyToken } from './verifyToken'

type Provider = 'whatsapp_cloud' | 'sandbox'
type Secret = 'access_token' | 'app_secret' | 'verify_token'
type FieldName = 'provider' | 'name' | 'phone_number' | 'phone_number_id' | 'waba_id' | Secret | 'default_team_id' | 'active'

interface Values {
  provider: Provider
  name: string
  phone_number: string
  phone_number_id: string
  waba_id: string
  access_token: string
  app_secret: string
  verify_token: string
  default_team_id: string
  active: boolean
}

const FIELDS: FieldName[] = [
  'provider',
  'name',
  'phone_number',
  'phone_number_id',
  'waba_id',
  'access_token',
  'app_secret',
  'verify_token',
  'default_team_id',
  'active',
]
const SECRETS: Secret[] = ['access_token', 'app_secret', 'verify_token']

interface Props {
  /** The channel to edit; none to connect a new one. */
  channel?: Channel
  teams: Team[]
  /** Saved: the channel as the server has it, and the verify token when one was sent (to show it once). */
  onSaved: (channel: Channel, verifyToken: string | null) => void
  onClose: () => void
}

function initialValues(ch?: Channel): Values {
  return {
    provider: (ch?.provider as Provider) ?? 'whatsapp_cloud',
    name: ch?.name ?? '',
    phone_number: ch?.phone_number ?? '',
    phone_number_id: ch?.phone_number_id ?? '',
    waba_id: ch?.waba_id ?? '',
    access_token: '',
    app_secret: '',
    // A new channel gets a random token the admin copies into Meta; an existing one keeps its own.
    verify_token: ch ? '' : newVerifyToken(),
    default_team_id: ch?.default_team_id ?? '',
    active: ch?.active ?? true,
  }
}

/**
 * Connect or edit a channel: every field Meta's dashboard asks for, each explained in place. The
 * secrets are write-only: an existing channel shows them as "Definido" with "Alterar", and sends
 * only those the admin retyped. Every server error lands at its field; nothing is saved unless
 * all of it is valid (the server checks it in one go).
 */
export function ChannelForm({ channel, teams, onSaved, onClose }: Props) {
  const editing = channel !== undefined
  const [initial] = useState(() => initialValues(channel))
  const [v, setV] = useState<Values>(initial)
  // Which secrets are being (re)typed: all of them for a new channel.
  const [changing, setChanging] = useState<Record<Secret, boolean>>(() => ({
    access_token: !editing,
    app_secret: !editing,
    verify_token: !editing,
  }))
  const [errors, setErrors] = useState<Partial<Record<FieldName | 'form', string>>>({})
  const [busy, setBusy] = useState(false)
  const dirty = FIELDS.some((f) => v[f] !== initial[f])
  const cloud = v.provider === 'whatsapp_cloud'
  const teamId = useId()
  const providerId = useId()

  const set = <K extends keyof Values>(k: K, value: Values[K]) => setV((cur) => ({ ...cur, [k]: value }))

  async function submit(e: FormEvent) {
    e.preventDefault()
    const input: ChannelInput = { name: v.name, phone_number: v.phone_number, default_team_id: v.default_team_id }
    if (!editing) input.provider = v.provider
    else input.active = v.active
    if (cloud) {
      input.phone_number_id = v.phone_number_id
      input.waba_id = v.waba_id
      for (const s of SECRETS) if (changing[s]) input[s] = v[s]
    }
    setBusy(true)
    setErrors({})
    try {
      const saved = editing ? await channelsApi.updateChannel(channel.id, input) : await channelsApi.createChannel(input)
      onSaved(saved, input.verify_token ?? null)
    } catch (err) {
      setBusy(false)
      if (err instanceof ApiError && err.fieldErrors.length > 0) {
        const next: typeof errors = {}
        for (const fe of err.fieldErrors) {
          const key = (FIELDS as string[]).includes(fe.field) ? (fe.field as FieldName) : 'form'
          next[key] ??= fieldErrorText(fe)
        }
        if (!next.form) next.form = t('channelForm.fixErrors')
        setErrors(next)
        return
      }
      setErrors({ form: problemText(err) })
    }
  }

  const text = (name: 'name' | 'phone_number' | 'phone_number_id' | 'waba_id', label: string, hint: string, extra = {}) => (
    <Field
      label={label}
      hint={hint}
      value={v[name]}
      error={errors[name]}
      autoComplete="off"
      spellCheck={false}
      onChange={(e) => set(name, e.target.value)}
      {...extra}
    />
  )

  const secret = (name: Secret, label: string, hint: string) => {
    if (!changing[name]) {
      return (
        <div className={`field secret-field${errors[name] ? ' field-invalid' : ''}`}>
          <span className="field-label">{label}</span>
          <div className="copy-row">
            <span className="muted">{t('channelForm.secretSet')}</span>
            <button
              type="button"
              className="button"
              aria-label={`${t('channelForm.secretChange')}: ${label}`}
              onClick={() => {
                setChanging((c) => ({ ...c, [name]: true }))
                if (name === 'verify_token') set('verify_token', newVerifyToken())
              }}
            >
              {t('channelForm.secretChange')}
            </button>
          </div>
          {errors[name] && (
            <p className="field-error" role="alert">
              {errors[name]}
            </p>
          )}
        </div>
      )
    }
    return (
      <div className="secret-edit">
        <Field
          label={label}
          hint={hint}
          type={name === 'verify_token' ? 'text' : 'password'}
          autoComplete="new-password"
          spellCheck={false}
          value={v[name]}
          error={errors[name]}
          onChange={(e) => set(name, e.target.value)}
        />
        {editing && (
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setChanging((c) => ({ ...c, [name]: false }))
              set(name, initial[name])
            }}
          >
            {t('channelForm.secretKeep')}
          </button>
        )}
      </div>
    )
  }

  return (
    <Dialog title={editing ? t('channelForm.editTitle') : t('channelForm.newTitle')} onClose={onClose} dirty={dirty} variant="wide">
      <form className="dialog-body channel-form" onSubmit={submit} noValidate>
        {!editing && (
          <fieldset className="field">
            <legend id={providerId}>{t('channelForm.provider')}</legend>
            <div className="radio-row">
              {(['whatsapp_cloud', 'sandbox'] as const).map((p) => (
                <label key={p} className="radio">
                  <input type="radio" name="provider" value={p} checked={v.provider === p} onChange={() => set('provider', p)} />
                  {t(`channels.provider.${p}`)}
                </label>
              ))}
            </div>
            {errors.provider && (
              <p className="field-error" role="alert">
                {errors.provider}
              </p>
            )}
          </fieldset>
        )}
        {text('name', t('channelForm.name'), t('channelForm.nameHint'))}
        {text('phone_number', t('channelForm.phone'), t('channelForm.phoneHint'), { type: 'tel', inputMode: 'tel' })}
        {cloud && (
          <>
            <p className="alert alert-info">{t('channelForm.metaIntro')}</p>
            {text('phone_number_id', t('channelForm.phoneNumberId'), t('channelForm.phoneNumberIdHint'), { inputMode: 'numeric' })}
            {text('waba_id', t('channelForm.wabaId'), t('channelForm.wabaIdHint'), { inputMode: 'numeric' })}
            {secret('access_token', t('channelForm.accessToken'), t('channelForm.accessTokenHint'))}
            {secret('app_secret', t('channelForm.appSecret'), t('channelForm.appSecretHint'))}
            {secret('verify_token', t('channelForm.verifyToken'), t('channelForm.verifyTokenHint'))}
          </>
        )}
        <div className={`field${errors.default_team_id ? ' field-invalid' : ''}`}>
          <label htmlFor={teamId}>{t('channelForm.defaultTeam')}</label>
          <select
            id={teamId}
            value={v.default_team_id}
            onChange={(e) => set('default_team_id', e.target.value)}
            aria-invalid={errors.default_team_id ? true : undefined}
            aria-describedby={`${teamId}-hint`}
          >
            <option value="">{t('channelForm.noTeam')}</option>
            {teams.map((tm) => (
              <option key={tm.id} value={tm.id}>
                {tm.name}
              </option>
            ))}
          </select>
          <p
            id={`${teamId}-hint`}
            className={errors.default_team_id ? 'field-error' : 'hint'}
            role={errors.default_team_id ? 'alert' : undefined}
          >
            {errors.default_team_id ?? t('channelForm.defaultTeamHint')}
          </p>
        </div>
        {editing && (
          <label className="checkbox">
            <input type="checkbox" checked={v.active} onChange={(e) => set('active', e.target.checked)} />
            {t('channelForm.active')}
          </label>
        )}
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
            {busy ? t('channelForm.saving') : t('channelForm.save')}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
