import { useCallback, useEffect, useId, useState } from 'react'
import { api, type Channel, type Template } from '../api'
import { channelsApi, type TemplateSyncResult } from '../api/channels'
import { t } from '../i18n/pt-BR'
import { fieldErrorText, problemText } from '../lib/errors'
import { bodyText, componentText, splitVariables, variableDetails, variableLabel } from '../lib/template'
import { TemplateForm } from './TemplateForm'
import './channels.css'

/** The body with each variable shown as its label ([NOME], [1]), as the start flow's preview does. */
function Preview({ tpl }: { tpl: Template }) {
  const header = componentText(tpl, 'HEADER')
  const footer = componentText(tpl, 'FOOTER')
  const part = (text: string) =>
    splitVariables(text).map((p, i) => ('variable' in p ? <mark key={i}>{variableLabel(p.variable)}</mark> : <span key={i}>{p.text}</span>))
  return (
    <div className="template-preview" aria-label={t('tplSettings.preview')}>
      {header && <p className="template-header-text">{part(header)}</p>}
      <p className="template-body">{part(bodyText(tpl))}</p>
      {footer && <p className="template-footer-text">{footer}</p>}
    </div>
  )
}

function TemplateCard({ tpl }: { tpl: Template }) {
  const vars = variableDetails(tpl).map((d) => d.label)
  const reason = tpl.unusable_reason
  return (
    <li className={`settings-template${reason ? ' template-unusable' : ''}`} aria-labelledby={`tpl-${tpl.id}`}>
      <div className="channel-head">
        <h3 id={`tpl-${tpl.id}`} className="template-name">
          {tpl.name}
        </h3>
        <span className={`badge ${tpl.status === 'APPROVED' ? 'badge-ok' : 'badge-off'}`}>
          {t(`tplSettings.status.${tpl.status as 'APPROVED'}`)}
        </span>
        <span className="badge">{t(`template.category.${tpl.category}`)}</span>
        <span className="badge">{tpl.language}</span>
      </div>
      <p className="small muted">{vars.length ? t('tplSettings.variables', { list: vars.join(', ') }) : t('tplSettings.noVariables')}</p>
      <Preview tpl={tpl} />
      <p className={reason ? 'unusable-reason' : 'small muted'}>{reason ? t(`tplSettings.reason.${reason}`) : t('tplSettings.usable')}</p>
    </li>
  )
}

/** "Configurações › Modelos de mensagem": each channel's templates, Meta's sync, the sandbox's own. */
export default function Templates() {
  const selectId = useId()
  const [channels, setChannels] = useState<Channel[] | null>(null)
  const [channelId, setChannelId] = useState('')
  const [templates, setTemplates] = useState<Template[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [syncing, setSyncing] = useState(false)
  const [sync, setSync] = useState<TemplateSyncResult | null>(null)
  const [registering, setRegistering] = useState(false)

  useEffect(() => {
    api.listChannels().then(
      (list) => {
        setChannels(list)
        // A real number first: that is where templates come from Meta.
        setChannelId((cur) => cur || (list.find((c) => c.provider === 'whatsapp_cloud') ?? list[0])?.id || '')
      },
      (err) => setError(problemText(err)),
    )
  }, [])

  const load = useCallback(() => {
    if (!channelId) return
    setTemplates(null)
    channelsApi.listChannelTemplates(channelId).then(setTemplates, (err) => setError(problemText(err)))
  }, [channelId])
  useEffect(load, [load])

  const channel = channels?.find((c) => c.id === channelId)
  const cloud = channel?.provider === 'whatsapp_cloud'

  async function runSync() {
    if (!channel) return
    setSyncing(true)
    setError(null)
    setSync(null)
    try {
      const res = await channelsApi.syncTemplates(channel.id)
      setSync(res)
      load()
    } catch (err) {
      setError(problemText(err))
    }
    setSyncing(false)
  }

  return (
    <section className="settings-section" aria-labelledby="templates-title">
      <div className="section-head">
        <h2 id="templates-title">{t('tplSettings.title')}</h2>
      </div>
      {channels?.length === 0 && <p className="muted">{t('tplSettings.noChannels')}</p>}
      {channels && channels.length > 0 && (
        <div className="template-tools">
          <div className="field">
            <label htmlFor={selectId}>{t('tplSettings.channel')}</label>
            <select
              id={selectId}
              value={channelId}
              onChange={(e) => {
                setChannelId(e.target.value)
                setSync(null)
                setError(null)
              }}
            >
              {channels.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} · {t(`channels.provider.${c.provider === 'whatsapp_cloud' ? 'whatsapp_cloud' : 'sandbox'}`)}
                </option>
              ))}
            </select>
          </div>
          {cloud && (
            <button type="button" className="button button-primary" onClick={runSync} disabled={syncing}>
              {syncing ? t('tplSettings.syncing') : t('tplSettings.sync')}
            </button>
          )}
          {channel && !cloud && (
            <button type="button" className="button button-primary" onClick={() => setRegistering(true)}>
              {t('tplSettings.register')}
            </button>
          )}
        </div>
      )}
      {channel && !cloud && <p className="muted small">{t('tplSettings.sandboxNote')}</p>}
      <div role="status" aria-live="polite">
        {sync && (
          <div className={`alert ${sync.failed ? 'alert-warning sync-result' : 'alert-info'}`}>
            <p>
              {t('tplSettings.syncResult', {
                created: sync.created,
                updated: sync.updated,
                unchanged: sync.unchanged,
                failed: sync.failed,
              })}
            </p>
            {sync.disabled > 0 && <p>{t('tplSettings.syncDisabled', { disabled: sync.disabled })}</p>}
            {sync.failures.length > 0 && (
              <ul>
                {sync.failures.map((f) => (
                  <li key={`${f.name}/${f.language}`}>
                    {t('tplSettings.syncFailure', {
                      name: f.name,
                      language: f.language,
                      reason: f.errors
                        .map((e) => fieldErrorText({ field: e.field ?? '', code: e.code ?? '', message: e.message ?? '' }))
                        .join(' '),
                    })}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </div>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {channel && !templates && !error && <p className="muted">{t('common.loading')}</p>}
      {templates?.length === 0 && <p className="muted">{cloud ? t('tplSettings.emptyCloud') : t('tplSettings.empty')}</p>}
      <ul className="settings-template-list">
        {templates?.map((tpl) => (
          <TemplateCard key={tpl.id} tpl={tpl} />
        ))}
      </ul>
      {registering && channel && (
        <TemplateForm
          channelId={channel.id}
          onClose={() => setRegistering(false)}
          onSaved={(tpl) => {
            setRegistering(false)
            setTemplates((list) => [...(list ?? []), tpl])
          }}
        />
      )}
    </section>
  )
}
