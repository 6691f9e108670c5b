import { useCallback, useEffect, useState } from 'react'
import { api, ApiError, type Channel, type Team } from '../api'
import { channelsApi, type ChannelTestResult } from '../api/channels'
import { ConfirmDialog } from '../components/Dialog'
import { formatDateTime, formatPhone } from '../i18n/format'
import { useAccountZone } from '../i18n/zone'
import { errorText, t } from '../i18n/pt-BR'
import { problemText } from '../lib/errors'
import { ChannelForm } from './ChannelForm'
import { CopyField } from './CopyField'
import { takeNewChannelRequest } from './onboarding'
import { Onboarding } from './Onboarding'
import { newVerifyToken } from './verifyToken'
import './channels.css'

type TestState = { busy: true } | { busy: false; result: ChannelTestResult } | { busy: false; error: string }
type Confirm = { kind: 'deactivate' | 'rotate'; channel: Channel }

/** How often the list refreshes while open, so "último webhook recebido" follows Meta's deliveries. */
const REFRESH_MS = 15_000

/** "Configurações › Canais": the account's numbers, how to connect one to Meta, and its health. */
export default function Channels() {
  const zone = useAccountZone()
  const [channels, setChannels] = useState<Channel[] | null>(null)
  const [teams, setTeams] = useState<Team[]>([])
  const [loadError, setLoadError] = useState(false)
  const [form, setForm] = useState<{ channel?: Channel } | null>(() => (takeNewChannelRequest() ? {} : null))
  // Verify tokens just saved, shown once (the server never returns them).
  const [revealed, setRevealed] = useState<Record<string, string>>({})
  const [tests, setTests] = useState<Record<string, TestState>>({})
  const [confirm, setConfirm] = useState<Confirm | null>(null)
  const [actionError, setActionError] = useState<string | null>(null)

  const load = useCallback(() => {
    api.listChannels().then(
      (list) => {
        setChannels(list)
        setLoadError(false)
      },
      () => setLoadError(true),
    )
  }, [])
  useEffect(() => {
    load()
    api.listTeams().then(setTeams, () => setTeams([]))
    const id = setInterval(load, REFRESH_MS)
    return () => clearInterval(id)
  }, [load])

  const replace = (ch: Channel) => setChannels((list) => (list ?? []).map((c) => (c.id === ch.id ? ch : c)))

  async function test(ch: Channel) {
    setTests((s) => ({ ...s, [ch.id]: { busy: true } }))
    try {
      const result = await channelsApi.testChannel(ch.id)
      setTests((s) => ({ ...s, [ch.id]: { busy: false, result } }))
    } catch (err) {
      const msg = err instanceof ApiError ? errorText(err.code, err.problem.detail) : problemText(err)
      setTests((s) => ({ ...s, [ch.id]: { busy: false, error: msg } }))
    }
    load()
  }

  async function confirmed(c: Confirm) {
    setActionError(null)
    try {
      if (c.kind === 'deactivate') {
        replace(await channelsApi.updateChannel(c.channel.id, { active: false }))
      } else {
        const token = newVerifyToken()
        replace(await channelsApi.updateChannel(c.channel.id, { verify_token: token }))
        setRevealed((r) => ({ ...r, [c.channel.id]: token }))
      }
    } catch (err) {
      setActionError(problemText(err))
    }
    setConfirm(null)
  }

  async function reactivate(ch: Channel) {
    setActionError(null)
    try {
      replace(await channelsApi.updateChannel(ch.id, { active: true }))
    } catch (err) {
      setActionError(problemText(err))
    }
  }

  const teamName = (id: string | null) => teams.find((tm) => tm.id === id)?.name

  return (
    <section className="settings-section" aria-labelledby="channels-title">
      <div className="section-head">
        <h2 id="channels-title">{t('channels.title')}</h2>
        <button type="button" className="button button-primary" onClick={() => setForm({})}>
          {t('channels.connect')}
        </button>
      </div>
      <p className="muted">{t('channels.intro')}</p>
      {channels && <Onboarding channels={channels} onConnect={() => setForm({})} onSandbox={load} />}
      {actionError && (
        <p className="alert alert-error" role="alert">
          {actionError}
        </p>
      )}
      {loadError && !channels && (
        <p className="alert alert-error" role="alert">
          {t('channels.loadError')}{' '}
          <button type="button" className="link-button" onClick={load}>
            {t('common.retry')}
          </button>
        </p>
      )}
      {!channels && !loadError && <p className="muted">{t('common.loading')}</p>}
      {channels?.length === 0 && <p className="muted">{t('channels.empty')}</p>}
      <ul className="channel-list">
        {channels?.map((ch) => {
          const cloud = ch.provider === 'whatsapp_cloud'
          const st = tests[ch.id]
          const team = teamName(ch.default_team_id)
          const url = ch.webhook_url ?? `${window.location.origin}/webhooks/whatsapp/${ch.id}`
          return (
            <li key={ch.id} className={`channel-card${ch.active ? '' : ' channel-inactive'}`} aria-labelledby={`ch-${ch.id}`}>
              <div className="channel-head">
                <h3 id={`ch-${ch.id}`}>{ch.name}</h3>
                <span className="badge">{t(`channels.provider.${cloud ? 'whatsapp_cloud' : 'sandbox'}`)}</span>
                <span className={`badge ${ch.active ? 'badge-ok' : 'badge-off'}`}>
                  {ch.active ? t('channels.active') : t('channels.inactive')}
                </span>
              </div>
              <p className="channel-meta">
                {ch.phone_number ? formatPhone(ch.phone_number) : ''} ·{' '}
                {team ? t('channels.defaultTeam', { team }) : t('channels.noDefaultTeam')}
              </p>
              {!ch.active && <p className="muted small">{t('channels.inactiveNote')}</p>}
              {!cloud && <p className="muted small">{t('channels.sandboxNote')}</p>}
              {cloud && (
                <div className="webhook-box">
                  <h4>{t('channels.webhook.title')}</h4>
                  <p className="small">{t('channels.webhook.steps')}</p>
                  {!ch.webhook_url && <p className="alert alert-warning">{t('channels.webhook.noPublicUrl')}</p>}
                  <CopyField label={t('channels.webhook.url')} value={url} />
                  {revealed[ch.id] ? (
                    <>
                      <CopyField label={t('channels.webhook.token')} value={revealed[ch.id]} />
                      <p className="small muted">{t('channels.webhook.tokenOnce')}</p>
                    </>
                  ) : (
                    <p className="small muted">
                      <strong>{t('channels.webhook.token')}:</strong> {t('channels.webhook.tokenHidden')}
                    </p>
                  )}
                  <p className="last-webhook" role="status">
                    {ch.last_webhook_at ? t('channels.lastWebhook', { time: formatDateTime(ch.last_webhook_at, zone) }) : t('channels.noWebhook')}
                  </p>
                  <div role="status" aria-live="polite">
                    {st && !st.busy && 'result' in st && (
                      <p className="alert alert-info">
                        {t('channels.testOk', {
                          number: st.result.display_phone_number,
                          name: st.result.verified_name,
                          quality: st.result.quality_rating,
                        })}
                        {!st.result.phone_number_matches && (
                          <>
                            <br />
                            {t('channels.testMismatch', { number: st.result.display_phone_number })}
                          </>
                        )}
                      </p>
                    )}
                  </div>
                  {st && !st.busy && 'error' in st && (
                    <p className="alert alert-error" role="alert">
                      {st.error}
                    </p>
                  )}
                </div>
              )}
              <div className="channel-actions">
                {cloud && (
                  <button type="button" className="button" onClick={() => test(ch)} disabled={st?.busy}>
                    {st?.busy ? t('channels.testing') : t('channels.test')}
                  </button>
                )}
                {cloud && (
                  <button type="button" className="button" onClick={() => setConfirm({ kind: 'rotate', channel: ch })}>
                    {t('channels.webhook.rotate')}
                  </button>
                )}
                <button
                  type="button"
                  className="button"
                  onClick={() => setForm({ channel: ch })}
                  aria-label={`${t('channels.edit')} ${ch.name}`}
                >
                  {t('channels.edit')}
                </button>
                {ch.active ? (
                  <button type="button" className="button button-ghost" onClick={() => setConfirm({ kind: 'deactivate', channel: ch })}>
                    {t('channels.deactivate')}
                  </button>
                ) : (
                  <button type="button" className="button button-ghost" onClick={() => reactivate(ch)}>
                    {t('channels.reactivate')}
                  </button>
                )}
              </div>
            </li>
          )
        })}
      </ul>

      {form && (
        <ChannelForm
          channel={form.channel}
          teams={teams}
          onClose={() => setForm(null)}
          onSaved={(saved, token) => {
            setForm(null)
            setChannels((list) =>
              list?.some((c) => c.id === saved.id) ? list.map((c) => (c.id === saved.id ? saved : c)) : [...(list ?? []), saved],
            )
            if (token && saved.provider === 'whatsapp_cloud') setRevealed((r) => ({ ...r, [saved.id]: token }))
          }}
        />
      )}
      {confirm && (
        <ConfirmDialog
          message={
            confirm.kind === 'deactivate'
              ? t('channels.deactivateQuestion', { name: confirm.channel.name })
              : t('channels.webhook.rotateQuestion')
          }
          detail={confirm.kind === 'deactivate' ? t('channels.deactivateDetail') : t('channels.webhook.rotateDetail')}
          confirmLabel={confirm.kind === 'deactivate' ? t('channels.deactivate') : t('channels.webhook.rotate')}
          cancelLabel={t('common.cancel')}
          onConfirm={() => confirmed(confirm)}
          onCancel={() => setConfirm(null)}
        />
      )}
    </section>
  )
}
