import { useState, type FormEvent } from 'react'
import { adminApi, WEBHOOK_EVENTS, type WebhookDelivery, type WebhookSubscription } from '../api/admin'
import { ConfirmDialog, Dialog } from '../components/Dialog'
import { Field } from '../components/Field'
import { formatDateTime } from '../i18n/format'
import { useAccountZone } from '../i18n/zone'
import { t } from '../i18n/pt-BR'
import { problemText } from '../lib/errors'
import { CheckboxGroup, LoadState, SecretOnce, SectionHead } from './kit'
import { useResource, useServerErrors } from './hooks'

const load = () => adminApi.listWebhooks()

const EVENT_LABELS: Record<string, string> = {
  'conversation.created': t('webhooks.event.conversation.created'),
  'conversation.updated': t('webhooks.event.conversation.updated'),
  'conversation.waiting_expired': t('webhooks.event.conversation.waiting_expired'),
  'message.created': t('webhooks.event.message.created'),
  'message.updated': t('webhooks.event.message.updated'),
  'template.updated': t('webhooks.event.template.updated'),
}
const eventLabel = (kind: string) => EVENT_LABELS[kind] ?? kind

/** "Webhooks": where the CRMs get the account's events, and what each delivery did. */
export default function Webhooks() {
  const zone = useAccountZone()
  const { data, error, reload } = useResource(load)
  const [creating, setCreating] = useState(false)
  const [deleting, setDeleting] = useState<WebhookSubscription | null>(null)
  const [log, setLog] = useState<WebhookSubscription | null>(null)
  const [actionError, setActionError] = useState('')
  const [busy, setBusy] = useState(false)

  const remove = async (w: WebhookSubscription) => {
    setBusy(true)
    try {
      await adminApi.deleteWebhook(w.id)
      setActionError('')
      if (log?.id === w.id) setLog(null)
      reload()
    } catch (err) {
      setActionError(problemText(err))
    } finally {
      setBusy(false)
      setDeleting(null)
    }
  }

  return (
    <section>
      <SectionHead
        title={t('webhooks.title')}
        intro={t('webhooks.intro')}
        action={
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            {t('webhooks.new')}
          </button>
        }
      />
      <LoadState error={error} loading={!data} onRetry={reload} />
      {actionError && (
        <div className="alert alert-error" role="alert">
          {actionError}
        </div>
      )}
      {data && data.length === 0 && <p className="muted">{t('webhooks.empty')}</p>}
      {data && data.length > 0 && (
        <div className="table-wrap">
          <table className="settings-table">
            <thead>
              <tr>
                <th scope="col">{t('webhooks.url')}</th>
                <th scope="col">{t('webhooks.events')}</th>
                <th scope="col">{t('webhooks.created')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('settings.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.map((w) => (
                <tr key={w.id}>
                  <th scope="row" className="break">
                    {w.url}
                  </th>
                  <td>{w.events.map(eventLabel).join(', ')}</td>
                  <td>{formatDateTime(w.created_at, zone)}</td>
                  <td>
                    <div className="row-actions">
                      <button
                        type="button"
                        className="button"
                        aria-pressed={log?.id === w.id}
                        onClick={() => setLog(log?.id === w.id ? null : w)}
                        aria-label={t('webhooks.deliveriesOf', { url: w.url })}
                      >
                        {t('webhooks.deliveries')}
                      </button>
                      <button type="button" className="button button-ghost" onClick={() => setDeleting(w)} aria-label={t('webhooks.deleteNamed', { url: w.url })}>
                        {t('settings.delete')}
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {log && <Deliveries key={log.id} subscription={log} />}
      {creating && <WebhookForm onClose={() => setCreating(false)} onCreated={reload} />}
      {deleting && (
        <ConfirmDialog
          message={t('webhooks.deleteQuestion', { url: deleting.url })}
          detail={t('webhooks.deleteDetail')}
          confirmLabel={t('settings.delete')}
          cancelLabel={t('common.cancel')}
          busy={busy}
          onConfirm={() => remove(deleting)}
          onCancel={() => setDeleting(null)}
        />
      )}
    </section>
  )
}

const STATUS_LABELS: Record<string, string> = {
  pending: t('webhooks.status.pending'),
  succeeded: t('webhooks.status.succeeded'),
  failed: t('webhooks.status.failed'),
}

/** The subscription's recent deliveries, each attempt with its time and answer, "Reenviar" on a failed one. */
function Deliveries({ subscription }: { subscription: WebhookSubscription }) {
  const zone = useAccountZone()
  const { data, error, reload } = useResource(() => adminApi.listDeliveries(subscription.id))
  const [resendError, setResendError] = useState('')
  const [sending, setSending] = useState('')

  const redeliver = async (d: WebhookDelivery) => {
    setSending(d.id)
    setResendError('')
    try {
      await adminApi.redeliver(subscription.id, d.id)
      reload()
    } catch (err) {
      setResendError(problemText(err))
    } finally {
      setSending('')
    }
  }

  return (
    <section className="deliveries" aria-labelledby="deliveries-title">
      <div className="section-head">
        <h3 id="deliveries-title">{t('webhooks.deliveriesTitle', { url: subscription.url })}</h3>
        <button type="button" className="button" onClick={reload}>
          {t('webhooks.refresh')}
        </button>
      </div>
      <LoadState error={error} loading={!data} onRetry={reload} />
      {resendError && (
        <div className="alert alert-error" role="alert">
          {resendError}
        </div>
      )}
      {data && data.length === 0 && <p className="muted">{t('webhooks.noDeliveries')}</p>}
      {data && data.length > 0 && (
        <ul className="delivery-list">
          {data.map((d) => (
            <li key={d.id} className="delivery">
              <div className="delivery-head">
                <strong>{eventLabel(d.event)}</strong>
                <span className={`badge badge-${d.status}`}>{STATUS_LABELS[d.status] ?? d.status}</span>
                <span className="muted small">{formatDateTime(d.created_at, zone)}</span>
                {d.status === 'failed' && (
                  <button type="button" className="button" disabled={sending === d.id} onClick={() => redeliver(d)}>
                    {t('webhooks.redeliver')}
                  </button>
                )}
              </div>
              {d.status === 'pending' && d.next_attempt_at && (
                <p className="muted small">{t('webhooks.nextAttempt', { date: formatDateTime(d.next_attempt_at, zone) })}</p>
              )}
              {d.attempts.length > 0 && (
                <ol className="attempts">
                  {d.attempts.map((a) => (
                    <li key={a.attempt}>
                      {t('webhooks.attempt', { n: a.attempt, date: formatDateTime(a.attempted_at, zone) })}{' '}
                      {a.status_code ? (
                        <span className={a.status_code >= 200 && a.status_code < 300 ? 'ok' : 'error-text'}>{t('webhooks.httpStatus', { code: a.status_code })}</span>
                      ) : (
                        <span className="error-text">{t('webhooks.noAnswer')}</span>
                      )}
                      {a.error && <span className="muted small break"> — {a.error}</span>}
                    </li>
                  ))}
                </ol>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

function WebhookForm({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const [url, setUrl] = useState('')
  const [events, setEvents] = useState<string[]>([])
  const [saving, setSaving] = useState(false)
  const [made, setMade] = useState<WebhookSubscription | null>(null)
  const server = useServerErrors(['url', 'events'])

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    // The button stays enabled (disabling it would drop the focus, and Escape with it): a second
    // submit while saving is ignored here.
    if (saving) return
    setSaving(true)
    server.clear()
    try {
      setMade(await adminApi.createWebhook({ url, events }))
      onCreated()
    } catch (err) {
      server.take(err)
    } finally {
      setSaving(false)
    }
  }

  if (made?.secret) {
    return (
      <Dialog title={t('webhooks.createdTitle')} onClose={onClose}>
        <SecretOnce label={t('webhooks.secret')} secret={made.secret} warning={t('webhooks.secretWarning')} />
        <p className="muted small">{t('webhooks.signatureHelp')}</p>
        <div className="actions">
          <button type="button" className="button button-primary" onClick={onClose}>
            {t('settings.done')}
          </button>
        </div>
      </Dialog>
    )
  }
  return (
    <Dialog title={t('webhooks.newTitle')} onClose={onClose} dirty={url !== '' || events.length > 0}>
      <form className="settings-form" onSubmit={submit} noValidate>
        <Field
          label={t('webhooks.url')}
          type="url"
          inputMode="url"
          placeholder="https://crm.exemplo.com.br/webhooks/atendimento"
          hint={t('webhooks.urlHint')}
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          error={server.errors.url}
          autoFocus
        />
        <CheckboxGroup
          legend={t('webhooks.events')}
          options={WEBHOOK_EVENTS.map((k) => ({ value: k, label: eventLabel(k), hint: k }))}
          value={events}
          onChange={setEvents}
          error={server.errors.events}
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
            {saving ? t('settings.saving') : t('webhooks.create')}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
