import { useState, type FormEvent } from 'react'
import { type Team, type User } from '../api'
import { adminApi, type UserInput } from '../api/admin'
import { ConfirmDialog, Dialog } from '../components/Dialog'
import { Field } from '../components/Field'
import { t } from '../i18n/pt-BR'
import { problemText } from '../lib/errors'
import { useSession } from '../state'
import { CheckboxGroup, LoadState, SectionHead, SelectField } from './kit'
import { useResource, useServerErrors } from './hooks'

interface Data {
  users: User[]
  teams: Team[]
}

const load = async (): Promise<Data> => {
  const [users, teams] = await Promise.all([adminApi.listUsers(), adminApi.listTeams()])
  return { users: [...users].sort((a, b) => a.name.localeCompare(b.name, 'pt-BR')), teams }
}

type Editing = { kind: 'new' } | { kind: 'edit'; user: User } | { kind: 'password'; user: User }

/** "Atendentes": who logs in, their role and teams; invite, deactivate, reset a password. */
export default function Agents() {
  const { user: me } = useSession()
  const { data, error, reload } = useResource(load)
  const [editing, setEditing] = useState<Editing | null>(null)
  const [toggling, setToggling] = useState<User | null>(null)
  const [actionError, setActionError] = useState('')
  const [busy, setBusy] = useState(false)
  const roleLabel = (u: User) => (u.role === 'admin' ? t('agents.role.admin') : t('agents.role.agent'))

  const setActive = async (u: User, active: boolean) => {
    setBusy(true)
    try {
      await adminApi.updateUser(u.id, { active })
      setActionError('')
      reload()
    } catch (err) {
      setActionError(problemText(err))
    } finally {
      setBusy(false)
      setToggling(null)
    }
  }

  return (
    <section>
      <SectionHead
        title={t('agents.title')}
        intro={t('agents.intro')}
        action={
          <button type="button" className="button button-primary" onClick={() => setEditing({ kind: 'new' })} disabled={!data}>
            {t('agents.new')}
          </button>
        }
      />
      <LoadState error={error} loading={!data} onRetry={reload} />
      {actionError && (
        <div className="alert alert-error" role="alert">
          {actionError}
        </div>
      )}
      {data && (
        <div className="table-wrap">
          <table className="settings-table">
            <thead>
              <tr>
                <th scope="col">{t('agents.name')}</th>
                <th scope="col">{t('agents.email')}</th>
                <th scope="col">{t('agents.role')}</th>
                <th scope="col">{t('agents.teams')}</th>
                <th scope="col">{t('agents.status')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('settings.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.users.map((u) => (
                <tr key={u.id} className={u.active ? undefined : 'row-inactive'}>
                  <th scope="row">{u.name}</th>
                  <td>{u.email}</td>
                  <td>{roleLabel(u)}</td>
                  <td>
                    {u.team_ids
                      .map((id) => data.teams.find((tm) => tm.id === id)?.name)
                      .filter(Boolean)
                      .join(', ') || <span className="muted">{t('agents.noTeams')}</span>}
                  </td>
                  <td>
                    <span className={`badge${u.active ? ' badge-ok' : ''}`}>{u.active ? t('agents.active') : t('agents.inactive')}</span>
                  </td>
                  <td>
                    <div className="row-actions">
                      <button type="button" className="button" onClick={() => setEditing({ kind: 'edit', user: u })} aria-label={t('agents.editNamed', { name: u.name })}>
                        {t('settings.edit')}
                      </button>
                      <button
                        type="button"
                        className="button"
                        onClick={() => setEditing({ kind: 'password', user: u })}
                        aria-label={t('agents.passwordNamed', { name: u.name })}
                      >
                        {t('agents.resetPassword')}
                      </button>
                      {u.active ? (
                        <button
                          type="button"
                          className="button button-ghost"
                          disabled={u.id === me.id}
                          title={u.id === me.id ? t('agents.notYourself') : undefined}
                          onClick={() => setToggling(u)}
                          aria-label={t('agents.deactivateNamed', { name: u.name })}
                        >
                          {t('agents.deactivate')}
                        </button>
                      ) : (
                        <button
                          type="button"
                          className="button button-ghost"
                          disabled={busy}
                          onClick={() => setActive(u, true)}
                          aria-label={t('agents.reactivateNamed', { name: u.name })}
                        >
                          {t('agents.reactivate')}
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
      {editing && data && editing.kind !== 'password' && (
        <UserForm
          user={editing.kind === 'edit' ? editing.user : null}
          teams={data.teams}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null)
            reload()
          }}
        />
      )}
      {editing?.kind === 'password' && (
        <PasswordForm
          user={editing.user}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null)
            reload()
          }}
        />
      )}
      {toggling && (
        <ConfirmDialog
          message={t('agents.deactivateQuestion', { name: toggling.name })}
          detail={t('agents.deactivateDetail')}
          confirmLabel={t('agents.deactivate')}
          cancelLabel={t('common.cancel')}
          busy={busy}
          onConfirm={() => setActive(toggling, false)}
          onCancel={() => setToggling(null)}
        />
      )}
    </section>
  )
}

const FIELDS = ['name', 'email', 'password', 'role', 'team_ids', 'active'] as const

function UserForm(props: { user: User | null; teams: Team[]; onClose: () => void; onSaved: () => void }) {
  const { user, teams, onClose, onSaved } = props
  const initial = { name: user?.name ?? '', email: user?.email ?? '', password: '', role: user?.role ?? 'agent', team_ids: user?.team_ids ?? [] }
  const [form, setForm] = useState(initial)
  const [saving, setSaving] = useState(false)
  const server = useServerErrors(FIELDS)
  const dirty = JSON.stringify(form) !== JSON.stringify(initial)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    // The button stays enabled (disabling it would drop the focus, and Escape with it): a second
    // submit while saving is ignored here.
    if (saving) return
    setSaving(true)
    server.clear()
    try {
      const body: UserInput = { name: form.name, email: form.email, role: form.role, team_ids: form.team_ids }
      if (user) await adminApi.updateUser(user.id, body)
      else await adminApi.createUser({ ...body, password: form.password })
      onSaved()
    } catch (err) {
      server.take(err)
    } finally {
      setSaving(false)
    }
  }

  return (
    <Dialog title={user ? t('agents.editTitle') : t('agents.newTitle')} onClose={onClose} dirty={dirty}>
      <form className="settings-form" onSubmit={submit} noValidate>
        <Field label={t('agents.name')} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={server.errors.name} autoFocus />
        <Field
          label={t('agents.email')}
          type="email"
          autoComplete="off"
          value={form.email}
          onChange={(e) => setForm({ ...form, email: e.target.value })}
          error={server.errors.email}
        />
        {!user && (
          <Field
            label={t('agents.firstPassword')}
            type="text"
            autoComplete="new-password"
            hint={t('agents.firstPasswordHint')}
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
            error={server.errors.password}
          />
        )}
        <SelectField
          label={t('agents.role')}
          value={form.role}
          onChange={(role) => setForm({ ...form, role: role as User['role'] })}
          options={[
            { value: 'agent', label: t('agents.role.agent') },
            { value: 'admin', label: t('agents.role.admin') },
          ]}
          hint={t('agents.roleHint')}
          error={server.errors.role}
        />
        <CheckboxGroup
          legend={t('agents.teams')}
          options={teams.map((tm) => ({ value: tm.id, label: tm.name }))}
          value={form.team_ids}
          onChange={(team_ids) => setForm({ ...form, team_ids })}
          error={server.errors.team_ids}
          empty={t('agents.noTeamsYet')}
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
            {saving ? t('settings.saving') : user ? t('settings.save') : t('agents.invite')}
          </button>
        </div>
      </form>
    </Dialog>
  )
}

function PasswordForm({ user, onClose, onSaved }: { user: User; onClose: () => void; onSaved: () => void }) {
  const [password, setPassword] = useState('')
  const [saving, setSaving] = useState(false)
  const server = useServerErrors(['password'])
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    // The button stays enabled (disabling it would drop the focus, and Escape with it): a second
    // submit while saving is ignored here.
    if (saving) return
    setSaving(true)
    server.clear()
    try {
      await adminApi.updateUser(user.id, { password })
      onSaved()
    } catch (err) {
      server.take(err)
    } finally {
      setSaving(false)
    }
  }
  return (
    <Dialog title={t('agents.passwordTitle', { name: user.name })} onClose={onClose} dirty={password !== ''}>
      <form className="settings-form" onSubmit={submit} noValidate>
        <p className="muted small">{t('agents.passwordIntro')}</p>
        <Field
          label={t('agents.newPassword')}
          type="text"
          autoComplete="new-password"
          hint={t('agents.firstPasswordHint')}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={server.errors.password}
          autoFocus
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
            {saving ? t('settings.saving') : t('agents.setPassword')}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
