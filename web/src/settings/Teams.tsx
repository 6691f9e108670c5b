import { useState, type FormEvent } from 'react'
import { ApiError, type Channel, type Team, type User } from '../api'
import { adminApi } from '../api/admin'
import { api } from '../api'
import { ConfirmDialog, Dialog } from '../components/Dialog'
import { Field } from '../components/Field'
import { t } from '../i18n/pt-BR'
import { problemText } from '../lib/errors'
import { CheckboxGroup, LoadState, SectionHead } from './kit'
import { useResource, useServerErrors } from './hooks'

interface Data {
  teams: Team[]
  channels: Channel[]
  users: User[]
}

const load = async (): Promise<Data> => {
  const [teams, channels, users] = await Promise.all([adminApi.listTeams(), api.listChannels(), adminApi.listUsers()])
  return { teams: [...teams].sort((a, b) => a.name.localeCompare(b.name, 'pt-BR')), channels, users }
}

/** "Equipes": the groups of agents, the channels each may use and its members. */
export default function Teams() {
  const { data, error, reload } = useResource(load)
  const [editing, setEditing] = useState<Team | 'new' | null>(null)
  const [deleting, setDeleting] = useState<Team | null>(null)
  const [deleteError, setDeleteError] = useState('')
  const [busy, setBusy] = useState(false)
  const names = (ids: string[], all: { id: string; name: string }[]) =>
    ids.map((id) => all.find((x) => x.id === id)?.name ?? '').filter(Boolean).join(', ')

  const remove = async (team: Team) => {
    setBusy(true)
    try {
      await adminApi.deleteTeam(team.id)
      setDeleting(null)
      setDeleteError('')
      reload()
    } catch (err) {
      setDeleting(null)
      setDeleteError(
        err instanceof ApiError && err.code === 'team_has_open_conversations'
          ? t('teams.deleteOpen', { name: team.name, count: err.problem.open_conversations ?? 0 })
          : problemText(err),
      )
    } finally {
      setBusy(false)
    }
  }

  return (
    <section aria-labelledby="teams-title">
      <SectionHead
        title={t('teams.title')}
        intro={t('teams.intro')}
        action={
          <button type="button" className="button button-primary" onClick={() => setEditing('new')} disabled={!data}>
            {t('teams.new')}
          </button>
        }
      />
      <LoadState error={error} loading={!data} onRetry={reload} />
      {deleteError && (
        <div className="alert alert-error" role="alert">
          {deleteError}
        </div>
      )}
      {data && data.teams.length === 0 && <p className="muted">{t('teams.empty')}</p>}
      {data && data.teams.length > 0 && (
        <div className="table-wrap">
          <table className="settings-table">
            <thead>
              <tr>
                <th scope="col">{t('teams.name')}</th>
                <th scope="col">{t('teams.channels')}</th>
                <th scope="col">{t('teams.members')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('settings.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.teams.map((team) => (
                <tr key={team.id}>
                  <th scope="row">{team.name}</th>
                  <td>{names(team.channel_ids, data.channels) || <span className="muted">{t('teams.noChannels')}</span>}</td>
                  <td>{names(team.member_ids, data.users) || <span className="muted">{t('teams.noMembers')}</span>}</td>
                  <td>
                    <div className="row-actions">
                      <button type="button" className="button" onClick={() => setEditing(team)} aria-label={t('teams.editNamed', { name: team.name })}>
                        {t('settings.edit')}
                      </button>
                      <button
                        type="button"
                        className="button button-ghost"
                        onClick={() => {
                          setDeleteError('')
                          setDeleting(team)
                        }}
                        aria-label={t('teams.deleteNamed', { name: team.name })}
                      >
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
      {editing && data && (
        <TeamForm
          team={editing === 'new' ? null : editing}
          channels={data.channels}
          users={data.users}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null)
            reload()
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          message={t('teams.deleteQuestion', { name: deleting.name })}
          detail={t('teams.deleteDetail')}
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

const FIELDS = ['name', 'channel_ids', 'member_ids'] as const

function TeamForm(props: { team: Team | null; channels: Channel[]; users: User[]; onClose: () => void; onSaved: () => void }) {
  const { team, channels, users, onClose, onSaved } = props
  const initial = { name: team?.name ?? '', channel_ids: team?.channel_ids ?? [], member_ids: team?.member_ids ?? [] }
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
      if (team) await adminApi.updateTeam(team.id, form)
      else await adminApi.createTeam(form)
      onSaved()
    } catch (err) {
      server.take(err)
    } finally {
      setSaving(false)
    }
  }

  return (
    <Dialog title={team ? t('teams.editTitle') : t('teams.newTitle')} onClose={onClose} dirty={dirty}>
      <form className="settings-form" onSubmit={submit} noValidate>
        <Field label={t('teams.name')} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={server.errors.name} autoFocus />
        <CheckboxGroup
          legend={t('teams.channels')}
          options={channels.map((c) => ({ value: c.id, label: c.name, hint: c.active ? undefined : t('teams.channelInactive') }))}
          value={form.channel_ids}
          onChange={(channel_ids) => setForm({ ...form, channel_ids })}
          error={server.errors.channel_ids}
          empty={t('teams.noChannelsYet')}
        />
        <CheckboxGroup
          legend={t('teams.members')}
          options={users.map((u) => ({ value: u.id, label: u.name, hint: u.active ? undefined : t('agents.inactive') }))}
          value={form.member_ids}
          onChange={(member_ids) => setForm({ ...form, member_ids })}
          error={server.errors.member_ids}
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

