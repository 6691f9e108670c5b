import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react'
import type { Conversation } from '../api'
import { formatDateTime, formatPhone, formatRemaining } from '../i18n/format'
import { t } from '../i18n/pt-BR'
import { conversationHref, useNow } from '../lib/hooks'
import { useDirectory } from '../state'

type Tab = 'mine' | 'waiting' | 'others'
const TABS: Tab[] = ['mine', 'waiting', 'others']

/** Which tab a conversation belongs to: active in my teams, waiting for the contact, or the rest. */
function tabOf(c: Conversation, myTeams: Set<string>): Tab {
  if (c.status === 'waiting' || c.status === 'scheduled') return 'waiting'
  if (c.status === 'active' && c.team_id && myTeams.has(c.team_id)) return 'mine'
  return 'others'
}

/** The line under a row: schedule, waiting, or the time left in the 24 h window. */
function windowLine(c: Conversation, now: number): string {
  switch (c.status) {
    case 'scheduled':
      return c.scheduled_at ? t('row.scheduledFor', { date: formatDateTime(c.scheduled_at) }) : ''
    case 'waiting':
      return t('row.window.waiting')
    case 'active': {
      const left = c.window?.expires_at ? Date.parse(c.window.expires_at) - now : 0
      return c.window?.open && left > 0 ? t('row.window.open', { remaining: formatRemaining(left) }) : t('row.window.closed')
    }
    default:
      return ''
  }
}

interface Props {
  conversations: Conversation[]
  state: 'loading' | 'ready' | 'error'
  onRetry: () => void
  selectedId: string | null
  onNewConversation: () => void
}

/** Tabs "Meus", "Aguardando", "Outros" (with the ⋮ menu) and the rows of the chosen tab. */
export function ConversationList({ conversations, state, onRetry, selectedId, onNewConversation }: Props) {
  const { channelName, teamName, myTeamIds } = useDirectory()
  const now = useNow()
  const [choice, setChoice] = useState<{ tab: Tab; forSelection: string | null }>({ tab: 'mine', forSelection: null })
  const ids = useId()
  const tabRefs = useRef<Record<Tab, HTMLButtonElement | null>>({ mine: null, waiting: null, others: null })

  const groups: Record<Tab, Conversation[]> = { mine: [], waiting: [], others: [] }
  for (const c of conversations) groups[tabOf(c, myTeamIds)].push(c)

  // Opening a conversation from elsewhere (a new start, a link) shows the tab that holds it,
  // until the agent picks another tab.
  const selected = conversations.find((c) => c.id === selectedId)
  const selectedTab = selected ? tabOf(selected, myTeamIds) : null
  const tab: Tab = selectedTab && choice.forSelection !== selectedId ? selectedTab : choice.tab
  const setTab = (next: Tab) => setChoice({ tab: next, forSelection: selectedId })

  function onTabKey(e: KeyboardEvent) {
    const i = TABS.indexOf(tab)
    const next = e.key === 'ArrowRight' ? TABS[(i + 1) % 3] : e.key === 'ArrowLeft' ? TABS[(i + 2) % 3] : null
    if (next) {
      e.preventDefault()
      setTab(next)
      tabRefs.current[next]?.focus()
    }
  }

  const rows = groups[tab]
  return (
    <section className="inbox" aria-labelledby={`${ids}-title`}>
      <h1 id={`${ids}-title`} className="inbox-title">
        {t('inbox.title')}
      </h1>
      <div className="tabs-row">
        <div role="tablist" aria-label={t('inbox.tabs')} className="tabs" onKeyDown={onTabKey}>
          {TABS.map((name) => (
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
              {groups[name].length > 0 && <span className="tab-count">{groups[name].length}</span>}
            </button>
          ))}
        </div>
        <MoreOptions onNewConversation={onNewConversation} />
      </div>
      <div role="tabpanel" id={`${ids}-panel`} aria-labelledby={`${ids}-tab-${tab}`} className="inbox-panel">
        {state === 'loading' && <p className="muted pad">{t('common.loading')}</p>}
        {state === 'error' && (
          <div className="pad">
            <p className="alert alert-error">{t('inbox.loadError')}</p>
            <button type="button" className="button" onClick={onRetry}>
              {t('inbox.retry')}
            </button>
          </div>
        )}
        {state === 'ready' && rows.length === 0 && <p className="muted pad">{t(`inbox.empty.${tab}` as const)}</p>}
        {rows.length > 0 && (
          <ul className="conversation-rows">
            {rows.map((c) => (
              <li key={c.id}>
                <a
                  href={conversationHref(c.id)}
                  className="conversation-row"
                  aria-current={c.id === selectedId ? 'page' : undefined}
                >
                  <span className="row-top">
                    <span className="row-name">{c.contact?.name || formatPhone(c.contact?.phone ?? '')}</span>
                    <span className={`badge status-${c.status}`}>{t(`status.${c.status}` as const)}</span>
                  </span>
                  <span className="row-meta">
                    {channelName(c.channel_id)} · {teamName(c.team_id)}
                  </span>
                  <span className="row-window">{windowLine(c, now)}</span>
                </a>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  )
}

/** The "⋮" button next to "Outros" and its menu. */
function MoreOptions({ onNewConversation }: { onNewConversation: () => void }) {
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
        </ul>
      )}
    </div>
  )
}
