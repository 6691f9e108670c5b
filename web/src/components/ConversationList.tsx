import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react'
import type { Conversation } from '../api'
import { formatDateTime, formatPhone, formatRemaining } from '../i18n/format'
import { useAccountZone } from '../i18n/zone'
import { t } from '../i18n/pt-BR'
import { NO_FILTER, TABS, type Tab } from '../lib/desk'
import { conversationHref, useNow } from '../lib/hooks'
import type { Desk } from '../lib/useDesk'
import { useDirectory, useSession } from '../state'
import { AlertSwitches } from './AlertSwitches'

/** The line under a row: schedule, waiting, or the time left in the 24 h window. */
function windowLine(c: Conversation, now: number, zone: string): string {
  switch (c.status) {
    case 'scheduled':
      return c.scheduled_at ? t('row.scheduledFor', { date: formatDateTime(c.scheduled_at, zone) }) : ''
    case 'waiting':
      return t('row.window.waiting')
    case 'active': {
      const left = c.window?.expires_at ? Date.parse(c.window.expires_at) - now : 0
      return c.window?.open && left > 0 ? t('row.window.open', { remaining: formatRemaining(left) }) : t('row.window.closed')
    }
    case 'closed':
      return c.closed_reason ? t('row.closedReason', { reason: c.closed_reason }) : ''
    default:
      return ''
  }
}

/** "não lida" or "não lidas", after the number. */
function unreadWord(n: number): string {
  return n === 1 ? t('inbox.unreadOne') : t('inbox.unreadMany')
}

interface Props {
  desk: Desk
  selectedId: string | null
  onNewConversation: () => void
  onQuickReplies: () => void
}

/**
 * Tabs "Meus", "Aguardando", "Outros" (with filters) and "Encerrados", each with its count and
 * unread; a search by contact name or phone; rows a page at a time ("Carregar mais").
 */
export function ConversationList({ desk, selectedId, onNewConversation, onQuickReplies }: Props) {
  const zone = useAccountZone()
  const { user } = useSession()
  const { channelName, teamName, userName } = useDirectory()
  const now = useNow()
  const ids = useId()
  const tabRefs = useRef<Record<Tab, HTMLButtonElement | null>>({ mine: null, waiting: null, others: null, closed: null })
  const { tab, setTab, counts, rows, state } = desk

  function onTabKey(e: KeyboardEvent) {
    const i = TABS.indexOf(tab)
    const n = TABS.length
    const next = e.key === 'ArrowRight' ? TABS[(i + 1) % n] : e.key === 'ArrowLeft' ? TABS[(i + n - 1) % n] : null
    if (next) {
      e.preventDefault()
      setTab(next)
      tabRefs.current[next]?.focus()
    }
  }

  const who = (c: Conversation) =>
    c.assignee_id ? (c.assignee_id === user.id ? t('row.assignee.me') : c.assignee_name || userName(c.assignee_id)) : t('row.assignee.none')

  return (
    <section className="inbox" aria-labelledby={`${ids}-title`}>
      <div className="inbox-head">
        <h1 id={`${ids}-title`} className="inbox-title">
          {t('inbox.title')}
        </h1>
        <MoreOptions onNewConversation={onNewConversation} onQuickReplies={onQuickReplies} />
      </div>
      <div role="tablist" aria-label={t('inbox.tabs')} className="tabs" onKeyDown={onTabKey}>
        {TABS.map((name) => {
          const count = counts?.[name]
          return (
            <button
              key={name}
              ref={(el) => {
                tabRefs.current[name] = el
              }}
              role="tab"
              type="button"
              id={`${ids}-tab-${name}`}
              aria-selected={tab === name}
              aria-controls={`${ids}-panel`}
              tabIndex={tab === name ? 0 : -1}
              className="tab"
              onClick={() => setTab(name)}
            >
              {t(`inbox.tab.${name}` as const)}
              {count && count.total > 0 && name !== 'closed' && <span className="tab-count">{count.total}</span>}
              {count && count.unread > 0 && (
                <span className="tab-unread">
                  <span className="visually-hidden">, </span>
                  {count.unread}
                  <span className="visually-hidden"> {unreadWord(count.unread)}</span>
                </span>
              )}
            </button>
          )
        })}
      </div>
      <div role="tabpanel" id={`${ids}-panel`} aria-labelledby={`${ids}-tab-${tab}`} className="inbox-panel">
        <div className="inbox-tools">
          <label htmlFor={`${ids}-q`} className="visually-hidden">
            {t('inbox.search')}
          </label>
          <input
            id={`${ids}-q`}
            type="search"
            className="inbox-search"
            placeholder={t('inbox.searchPlaceholder')}
            value={desk.q}
            onChange={(e) => desk.setQ(e.target.value)}
          />
          {tab === 'others' && <OthersFilters desk={desk} />}
        </div>
        {state === 'loading' && <p className="muted pad">{t('common.loading')}</p>}
        {state === 'error' && (
          <div className="pad">
            <p className="alert alert-error">{t('inbox.loadError')}</p>
            <button type="button" className="button" onClick={desk.reload}>
              {t('inbox.retry')}
            </button>
          </div>
        )}
        {state === 'ready' && rows.length === 0 && (
          <p className="muted pad">{desk.q.trim() ? t('inbox.noMatch') : t(`inbox.empty.${tab}` as const)}</p>
        )}
        {rows.length > 0 && (
          <ul className="conversation-rows">
            {rows.map((c) => {
              const unread = c.unread_count ?? 0
              const name = c.contact?.name || formatPhone(c.contact?.phone ?? '')
              return (
                <li key={c.id}>
                  <a
                    href={conversationHref(c.id)}
                    className={`conversation-row${unread > 0 ? ' is-unread' : ''}`}
                    aria-current={c.id === selectedId ? 'page' : undefined}
                  >
                    <span className="row-top">
                      <span className="row-name">{name}</span>
                      {unread > 0 && (
                        <span className="row-unread">
                          {unread}
                          <span className="visually-hidden"> {unreadWord(unread)}</span>
                        </span>
                      )}
                      <span className={`badge status-${c.status}`}>{t(`status.${c.status}` as const)}</span>
                    </span>
                    {c.last_message?.preview && (
                      <span className="row-preview">
                        {c.last_message.direction === 'internal' && <span className="row-note-tag">{t('row.note')} </span>}
                        {c.last_message.preview}
                      </span>
                    )}
                    <span className="row-meta">
                      {channelName(c.channel_id)} · {teamName(c.team_id)} · {who(c)}
                    </span>
                    <span className="row-window">{windowLine(c, now, zone)}</span>
                  </a>
                </li>
              )
            })}
          </ul>
        )}
        {desk.hasMore && state === 'ready' && (
          <div className="pad">
            <button type="button" className="button load-more" onClick={desk.loadMore} disabled={desk.loadingMore}>
              {desk.loadingMore ? t('common.loading') : t('inbox.loadMore')}
            </button>
          </div>
        )}
      </div>
      <AlertSwitches />
    </section>
  )
}

/** "Outros": by team, by channel, and whose (the queue or one colleague). */
function OthersFilters({ desk }: { desk: Desk }) {
  const { user } = useSession()
  const { teams, channels, users, myTeamIds } = useDirectory()
  const id = useId()
  const f = desk.filter
  const admin = user.role === 'admin'
  const myTeams = teams.filter((tm) => admin || myTeamIds.has(tm.id))
  const colleagueIds = new Set(myTeams.flatMap((tm) => tm.member_ids))
  const colleagues = users.filter((u) => u.id !== user.id && (admin || colleagueIds.has(u.id)))
  const set = (patch: Partial<typeof f>) => desk.setFilter({ ...f, ...patch })
  const any = f.team_id || f.channel_id || f.assignee
  return (
    <fieldset className="others-filters">
      <legend className="visually-hidden">{t('inbox.filters')}</legend>
      <label htmlFor={`${id}-team`}>{t('inbox.filter.team')}</label>
      <select id={`${id}-team`} value={f.team_id} onChange={(e) => set({ team_id: e.target.value })}>
        <option value="">{t('inbox.filter.allTeams')}</option>
        {myTeams.map((tm) => (
          <option key={tm.id} value={tm.id}>
            {tm.name}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-channel`}>{t('inbox.filter.channel')}</label>
      <select id={`${id}-channel`} value={f.channel_id} onChange={(e) => set({ channel_id: e.target.value })}>
        <option value="">{t('inbox.filter.allChannels')}</option>
        {channels.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-assignee`}>{t('inbox.filter.assignee')}</label>
      <select id={`${id}-assignee`} value={f.assignee} onChange={(e) => set({ assignee: e.target.value })}>
        <option value="">{t('inbox.filter.anyone')}</option>
        <option value="none">{t('inbox.filter.unassigned')}</option>
        {colleagues.map((u) => (
          <option key={u.id} value={u.id}>
            {u.name}
          </option>
        ))}
      </select>
      {any && (
        <button type="button" className="link-button small" onClick={() => desk.setFilter(NO_FILTER)}>
          {t('inbox.filter.clear')}
        </button>
      )}
    </fieldset>
  )
}

/** The "⋮" button next to the title and its menu. */
function MoreOptions({ onNewConversation, onQuickReplies }: { onNewConversation: () => void; onQuickReplies: () => void }) {
  const [open, setOpen] = useState(false)
  const id = useId()
  const wrap = useRef<HTMLDivElement>(null)
  const button = useRef<HTMLButtonElement>(null)
  const firstItem = useRef<HTMLButtonElement>(null)

  useEffect(() => {
    if (!open) return
    firstItem.current?.focus()
    const onDown = (e: MouseEvent) => {
      if (!wrap.current?.contains(e.target as Node)) setOpen(false)
    }
    document.addEventListener('mousedown', onDown)
    return () => document.removeEventListener('mousedown', onDown)
  }, [open])

  return (
    <div className="menu-wrap" ref={wrap}>
      <button
        ref={button}
        type="button"
        className="icon-button"
        aria-label={t('inbox.moreOptions')}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        ⋮
      </button>
      {open && (
        <ul
          id={id}
          role="menu"
          className="menu"
          aria-label={t('inbox.moreOptions')}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              setOpen(false)
              button.current?.focus()
            } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
              // Arrows move between the items, wrapping around.
              e.preventDefault()
              const items = Array.from(e.currentTarget.querySelectorAll<HTMLElement>('[role="menuitem"]'))
              const i = items.indexOf(document.activeElement as HTMLElement)
              items[(i + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length]?.focus()
            }
          }}
        >
          <li role="none">
            <button
              ref={firstItem}
              role="menuitem"
              type="button"
              className="menu-item"
              onClick={() => {
                setOpen(false)
                onNewConversation()
              }}
            >
              {t('inbox.newConversation')}
            </button>
          </li>
          <li role="none">
            <button
              role="menuitem"
              type="button"
              className="menu-item"
              onClick={() => {
                setOpen(false)
                onQuickReplies()
              }}
            >
              {t('quickReplies.title')}
            </button>
          </li>
        </ul>
      )}
    </div>
  )
}
