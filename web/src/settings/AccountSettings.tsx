import { useState, type FormEvent } from 'react'
import { type Account } from '../api'
import { adminApi, type AccountInput } from '../api/admin'
import { Dialog } from '../components/Dialog'
import { Field } from '../components/Field'
import { formatDate } from '../i18n/format'
import { errorText, t } from '../i18n/pt-BR'
import { useRefreshAccountZone } from '../i18n/zone'
import { LoadState, SectionHead, SelectField } from './kit'
import { useResource, useServerErrors } from './hooks'

const load = () => adminApi.getAccount()

/** The regions a company here most likely reads national numbers in; the server takes any ISO 3166 code. */
const REGIONS = ['BR', 'PT', 'AR', 'CL', 'CO', 'MX', 'PY', 'UY', 'US', 'ES']

/** Every IANA zone the browser knows, Brazil's first. */
function timeZones(current: string): string[] {
  const all: string[] = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []
  const br = all.filter((z) => /^America\/(Sao_Paulo|Manaus|Fortaleza|Recife|Bahia|Belem|Cuiaba|Campo_Grande|Porto_Velho|Boa_Vista|Rio_Branco|Noronha|Maceio|Araguaina|Santarem|Eirunepe)$/.test(z))
  const rest = all.filter((z) => !br.includes(z))
  const list = [...br, ...rest]
  return list.includes(current) ? list : [current, ...list]
}

/** A duration in seconds as the largest whole unit: "72 horas", "3 dias". */
function duration(seconds: number): string {
  if (seconds <= 0) return t('account.waitingNever')
  if (seconds % 86400 === 0) return t('account.days', { n: seconds / 86400 })
  if (seconds % 3600 === 0) return t('account.hours', { n: seconds / 3600 })
  return t('account.minutes', { n: Math.round(seconds / 60) })
}

const regionName = (code: string) => {
  try {
    return new Intl.DisplayNames(['pt-BR'], { type: 'region' }).of(code) ?? code
  } catch {
    return code
  }
}

/** "Conta": the company's name and the settings every agent works with. */
export default function AccountSettings() {
  const { data, error, reload } = useResource(load)
  const [editing, setEditing] = useState(false)
  const refreshZone = useRefreshAccountZone()
  return (
    <section>
      <SectionHead
        title={t('account.title')}
        intro={t('account.intro')}
        action={
          <button type="button" className="button button-primary" onClick={() => setEditing(true)} disabled={!data}>
            {t('settings.edit')}
          </button>
        }
      />
      <LoadState error={error} loading={!data} onRetry={reload} />
      {data && (
        <dl className="summary">
          <dt>{t('account.name')}</dt>
          <dd>{data.name}</dd>
          <dt>{t('account.region')}</dt>
          <dd>
            {regionName(data.default_region)} ({data.default_region})
          </dd>
          <dt>{t('account.timeZone')}</dt>
          <dd>{data.time_zone}</dd>
          <dt>{t('account.waitingTimeout')}</dt>
          <dd>
            {duration(data.waiting_timeout_seconds)}{' '}
            {data.waiting_timeout_is_default && <span className="muted small">{t('account.waitingServer')}</span>}
          </dd>
          <dt>{t('account.autoClose')}</dt>
          <dd>{data.auto_close_waiting ? t('account.autoCloseOn') : t('account.autoCloseOff')}</dd>
          <dt>{t('account.exchangeRate')}</dt>
          <dd>
            {data.exchange_rate
              ? t('account.exchangeRateValue', { rate: data.exchange_rate.toLocaleString('pt-BR', { maximumFractionDigits: 4 }), date: formatDate(data.exchange_rate_date) })
              : t('account.exchangeRateNone')}
          </dd>
        </dl>
      )}
      {editing && data && (
        <AccountForm
          account={data}
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false)
            reload()
            refreshZone() // times everywhere follow a new time zone at once
          }}
        />
      )}
    </section>
  )
}

const FIELDS = ['name', 'default_region', 'time_zone', 'waiting_timeout_seconds', 'auto_close_waiting', 'exchange_rate', 'exchange_rate_date'] as const

type WaitingMode = 'default' | 'never' | 'hours' | 'days'

/** The form's view of the account's waiting timeout: the server's, never, or an amount of hours or days. */
function waitingForm(a: Pick<Account, 'waiting_timeout_seconds' | 'waiting_timeout_is_default'>): { waiting_mode: WaitingMode; waiting_amount: string } {
  const s = a.waiting_timeout_seconds
  if (a.waiting_timeout_is_default) return { waiting_mode: 'default', waiting_amount: '' }
  if (s <= 0) return { waiting_mode: 'never', waiting_amount: '' }
  if (s % 86400 === 0) return { waiting_mode: 'days', waiting_amount: String(s / 86400) }
  return { waiting_mode: 'hours', waiting_amount: String(Math.round(s / 3600)) }
}

/** What PATCH takes for the form's choice: null (the server's), 0 (never), seconds; undefined when the amount is not a whole number. */
function waitingSeconds(mode: WaitingMode, amount: string): number | null | undefined {
  if (mode === 'default') return null
  if (mode === 'never') return 0
  const n = amount.trim()
  if (!/^\d+$/.test(n)) return undefined
  return Number(n) * (mode === 'days' ? 86400 : 3600)
}

function AccountForm({ account, onClose, onSaved }: { account: Account; onClose: () => void; onSaved: () => void }) {
  const initial = {
    name: account.name,
    default_region: account.default_region,
    time_zone: account.time_zone,
    auto_close_waiting: account.auto_close_waiting,
    exchange_rate: account.exchange_rate ? String(account.exchange_rate).replace('.', ',') : '',
    exchange_rate_date: account.exchange_rate_date ?? '',
    ...waitingForm(account),
  }
  const [form, setForm] = useState(initial)
  const [saving, setSaving] = useState(false)
  const server = useServerErrors(FIELDS)
  const dirty = JSON.stringify(form) !== JSON.stringify(initial)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (saving) return
    // Only what changed: the server leaves the rest (and its validation covers every field sent).
    const body: AccountInput = {}
    if (form.name !== initial.name) body.name = form.name
    if (form.default_region !== initial.default_region) body.default_region = form.default_region
    if (form.time_zone !== initial.time_zone) body.time_zone = form.time_zone
    if (form.auto_close_waiting !== initial.auto_close_waiting) body.auto_close_waiting = form.auto_close_waiting
    if (form.waiting_mode !== initial.waiting_mode || form.waiting_amount !== initial.waiting_amount) {
      const seconds = waitingSeconds(form.waiting_mode, form.waiting_amount)
      if (seconds === undefined) {
        server.clear()
        server.set('waiting_timeout_seconds', errorText('waiting_timeout_invalid'))
        return
      }
      body.waiting_timeout_seconds = seconds
    }
    if (form.exchange_rate !== initial.exchange_rate || form.exchange_rate_date !== initial.exchange_rate_date) {
      const rate = form.exchange_rate.trim()
      // An empty rate clears it; a comma is the Brazilian decimal mark ("5,80"; "5.80" too).
      const value = rate === '' ? null : Number(rate.includes(',') ? rate.replace(/\./g, '').replace(',', '.') : rate)
      if (value !== null && !Number.isFinite(value)) {
        server.clear()
        server.set('exchange_rate', errorText('exchange_rate_invalid'))
        return
      }
      body.exchange_rate = value as number
      if (value !== null && form.exchange_rate_date) body.exchange_rate_date = form.exchange_rate_date
    }
    setSaving(true)
    server.clear()
    try {
      if (Object.keys(body).length > 0) await adminApi.updateAccount(body)
      onSaved()
    } catch (err) {
      server.take(err)
    } finally {
      setSaving(false)
    }
  }

  return (
    <Dialog title={t('account.editTitle')} onClose={onClose} dirty={dirty}>
      <form className="settings-form" onSubmit={submit} noValidate>
        <Field label={t('account.name')} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={server.errors.name} autoFocus />
        <SelectField
          label={t('account.region')}
          hint={t('account.regionHint')}
          value={form.default_region}
          onChange={(default_region) => setForm({ ...form, default_region })}
          options={(REGIONS.includes(form.default_region) ? REGIONS : [form.default_region, ...REGIONS]).map((r) => ({ value: r, label: `${regionName(r)} (${r})` }))}
          error={server.errors.default_region}
        />
        <SelectField
          label={t('account.timeZone')}
          value={form.time_zone}
          onChange={(time_zone) => setForm({ ...form, time_zone })}
          options={timeZones(form.time_zone).map((z) => ({ value: z, label: z.replace(/_/g, ' ') }))}
          error={server.errors.time_zone}
        />
        <SelectField
          label={t('account.waitingTimeout')}
          hint={t('account.waitingHint')}
          value={form.waiting_mode}
          onChange={(m) => setForm({ ...form, waiting_mode: m as WaitingMode, waiting_amount: m === 'hours' || m === 'days' ? form.waiting_amount || (m === 'days' ? '3' : '72') : '' })}
          options={[
            { value: 'default', label: t('account.waitingDefault', { duration: duration(account.default_waiting_timeout_seconds) }) },
            { value: 'never', label: t('account.waitingNeverOption') },
            { value: 'hours', label: t('account.waitingHours') },
            { value: 'days', label: t('account.waitingDays') },
          ]}
          error={form.waiting_mode === 'default' || form.waiting_mode === 'never' ? server.errors.waiting_timeout_seconds : undefined}
        />
        {(form.waiting_mode === 'hours' || form.waiting_mode === 'days') && (
          <Field
            label={form.waiting_mode === 'days' ? t('account.waitingAmountDays') : t('account.waitingAmountHours')}
            inputMode="numeric"
            hint={t('account.waitingAmountHint')}
            value={form.waiting_amount}
            onChange={(e) => setForm({ ...form, waiting_amount: e.target.value })}
            error={server.errors.waiting_timeout_seconds}
          />
        )}
        <p className="muted small">{t('account.waitingExplainedAccount')}</p>
        <label className="checkbox field">
          <input type="checkbox" checked={form.auto_close_waiting} onChange={(e) => setForm({ ...form, auto_close_waiting: e.target.checked })} />
          <span>{t('account.autoCloseLabel')}</span>
        </label>
        <Field
          label={t('account.exchangeRate')}
          inputMode="decimal"
          placeholder="5,80"
          hint={t('account.exchangeRateHint')}
          value={form.exchange_rate}
          onChange={(e) => setForm({ ...form, exchange_rate: e.target.value })}
          error={server.errors.exchange_rate}
        />
        <Field
          label={t('account.exchangeRateDate')}
          type="date"
          hint={t('account.exchangeRateDateHint')}
          value={form.exchange_rate_date}
          onChange={(e) => setForm({ ...form, exchange_rate_date: e.target.value })}
          error={server.errors.exchange_rate_date}
        />
        {server.general && (
          <div className="alert alert-error" role="alert">
            {server.general}
          </div>
        )}
        <div className="actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary">
            {saving ? t('settings.saving') : t('settings.save')}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
