import { useState, type FormEvent } from 'react'
import { adminApi, type ApiKey } from '../api/admin'
import { ConfirmDialog, Dialog } from '../components/Dialog'
import { Field } from '../components/Field'
import { formatDateTime } from '../i18n/format'
import { useAccountZone } from '../i18n/zone'
import { t } from '../i18n/pt-BR'
import { problemText } from '../lib/errors'
import { LoadState, SecretOnce, SectionHead, SelectField } from './kit'
import { useResource, useServerErrors } from './hooks'

const load = () => adminApi.listApiKeys()

/** "Chaves de API": the integrators' keys; a new one is shown once, a revoked one stops at once. */
export default function ApiKeys() {
  const zone = useAccountZone()
  const { data, error, reload } = useResource(load)
  const [creating, setCreating] = useState(false)
  const [revoking, setRevoking] = useState<ApiKey | null>(null)
  const [actionError, setActionError] = useState('')
  const [busy, setBusy] = useState(false)

  const revoke = async (k: ApiKey) => {
    setBusy(true)
    try {
      await adminApi.revokeApiKey(k.id)
      setActionError('')
      reload()
    } catch (err) {
      setActionError(problemText(err))
    } finally {
      setBusy(false)
      setRevoking(null)
    }
  }

  return (
    <section>
      <SectionHead
        title={t('keys.title')}
        intro={t('keys.intro')}
        action={
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            {t('keys.new')}
          </button>
        }
      />
      <LoadState error={error} loading={!data} onRetry={reload} />
      {actionError && (
        <div className="alert alert-error" role="alert">
          {actionError}
        </div>
      )}
      {data && data.length === 0 && <p className="muted">{t('keys.empty')}</p>}
      {data && data.length > 0 && (
        <div className="table-wrap">
          <table className="settings-table">
            <thead>
              <tr>
                <th scope="col">{t('keys.name')}</th>
                <th scope="col">{t('keys.prefix')}</th>
                <th scope="col">{t('keys.role')}</th>
                <th scope="col">{t('keys.created')}</th>
                <th scope="col">{t('keys.lastUsed')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('settings.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.map((k) => (
                <tr key={k.id} className={k.revoked_at ? 'row-inactive' : undefined}>
                  <th scope="row">{k.name}</th>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{k.role === 'admin' ? t('agents.role.admin') : t('agents.role.agent')}</td>
                  <td>{formatDateTime(k.created_at, zone)}</td>
                  <td>{k.last_used_at ? formatDateTime(k.last_used_at, zone) : <span className="muted">{t('keys.neverUsed')}</span>}</td>
                  <td>
                    <div className="row-actions">
                      {k.revoked_at ? (
                        <span className="badge">{t('keys.revokedAt', { date: formatDateTime(k.revoked_at, zone) })}</span>
                      ) : (
                        <button type="button" className="button button-ghost" onClick={() => setRevoking(k)} aria-label={t('keys.revokeNamed', { name: k.name })}>
                          {t('keys.revoke')}
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating && <KeyForm onClose={() => setCreating(false)} onCreated={reload} />}
      {revoking && (
        <ConfirmDialog
          message={t('keys.revokeQuestion', { name: revoking.name })}
          detail={t('keys.revokeDetail')}
          confirmLabel={t('keys.revoke')}
          cancelLabel={t('common.cancel')}
          busy={busy}
          onConfirm={() => revoke(revoking)}
          onCancel={() => setRevoking(null)}
        />
      )}
    </section>
  )
}

function KeyForm({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const [name, setName] = useState('')
  const [role, setRole] = useState<'admin' | 'agent'>('agent')
  const [saving, setSaving] = useState(false)
  const [made, setMade] = useState<ApiKey | null>(null)
  const server = useServerErrors(['name', 'role'])

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    // The button stays enabled (disabling it would drop the focus, and Escape with it): a second
    // submit while saving is ignored here.
    if (saving) return
    setSaving(true)
    server.clear()
    try {
      setMade(await adminApi.createApiKey({ name, role }))
      onCreated()
    } catch (err) {
      server.take(err)
    } finally {
      setSaving(false)
    }
  }

  if (made?.secret) {
    return (
      <Dialog title={t('keys.createdTitle', { name: made.name })} onClose={onClose}>
        <SecretOnce label={t('keys.secret')} secret={made.secret} warning={t('keys.secretWarning')} />
        <p className="muted small">{t('keys.usage')}</p>
        <pre className="code-sample">{`curl -H "Authorization: Bearer ${made.secret}" ${window.location.origin}/api/v1/me`}</pre>
        <div className="actions">
          <button type="button" className="button button-primary" onClick={onClose}>
            {t('settings.done')}
          </button>
        </div>
      </Dialog>
    )
  }
  return (
    <Dialog title={t('keys.newTitle')} onClose={onClose} dirty={name !== ''}>
      <form className="settings-form" onSubmit={submit} noValidate>
        <Field label={t('keys.name')} hint={t('keys.nameHint')} value={name} onChange={(e) => setName(e.target.value)} error={server.errors.name} autoFocus />
        <SelectField
          label={t('keys.role')}
          value={role}
          onChange={(v) => setRole(v as 'admin' | 'agent')}
          options={[
            { value: 'agent', label: t('keys.role.agent') },
            { value: 'admin', label: t('keys.role.admin') },
          ]}
          error={server.errors.role}
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
            {saving ? t('settings.saving') : t('keys.create')}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
