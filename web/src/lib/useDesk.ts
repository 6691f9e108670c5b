// The inbox's state: the chosen tab's rows (a page at a time), its search and filters, the
// tabs' counts, unread marks, the title, and the alerts, all kept current by the live events.

import { useCallback, useEffect, useRef, useState } from 'react'
import { api, type Conversation, type ConversationCounts, type LiveEvent } from '../api'
import { formatPhone } from '../i18n/format'
import { t } from '../i18n/pt-BR'
import { useDirectory, useLiveEvents, useSession } from '../state'
import { firstTime, playTone, readPrefs, showNotification } from './alerts'
import { alertFor, belongs, documentTitle, NO_FILTER, sortRows, tabOf, tabQuery, totalUnread, type OthersFilter, type Tab } from './desk'
import { fresher } from './fresh'
import { navigate, useDebounced } from './hooks'

const PAGE = 50

export interface Desk {
  tab: Tab
  setTab: (t: Tab) => void
  q: string
  setQ: (q: string) => void
  filter: OthersFilter
  setFilter: (f: OthersFilter) => void
  rows: Conversation[]
  state: 'loading' | 'ready' | 'error'
  hasMore: boolean
  loadingMore: boolean
  loadMore: () => void
  reload: () => void
  counts: ConversationCounts | null
  /** A conversation changed here (a start, an action in its view): place it where it belongs. */
  upsert: (c: Conversation) => void
  /** Shows the tab a conversation is in (after a start). */
  reveal: (c: Conversation) => void
}

/** The inbox of the signed-in agent; `openId` is the conversation on screen (its messages are read). */
export function useDesk(openId: string | null): Desk {
  const { user } = useSession()
  const { myTeamIds } = useDirectory()
  const me = user.id
  const [tab, setTabState] = useState<Tab>('mine')
  const [q, setQ] = useState('')
  const search = useDebounced(q, 300)
  const [filter, setFilter] = useState<OthersFilter>(NO_FILTER)
  const [rows, setRows] = useState<Conversation[]>([])
  const [cursor, setCursor] = useState<string | null>(null)
  const [state, setState] = useState<'loading' | 'ready' | 'error'>('loading')
  const [loadingMore, setLoadingMore] = useState(false)
  const [counts, setCounts] = useState<ConversationCounts | null>(null)
  // Every copy of a conversation seen (any tab, any event): what an event changed from.
  const known = useRef(new Map<string, Conversation>())
  // The answer of the latest list request only: a slower earlier one must not overwrite it.
  const generation = useRef(0)
  const view = useRef({ tab, filter, openId, myTeamIds })
  useEffect(() => {
    view.current = { tab, filter, openId, myTeamIds }
  })

  // Who owned each conversation (and in which team) before its latest assignment or transfer
  // event: the server sends conversation.updated first, so `known` already holds the new owner
  // when conversation.assigned arrives.
  const owners = useRef(new Map<string, Pick<Conversation, 'assignee_id' | 'team_id'>>())

  const remember = useCallback((list: Conversation[], ownership = true) => {
    for (const c of list) {
      const keep = fresher(known.current.get(c.id), c)
      known.current.set(c.id, keep)
      if (ownership) owners.current.set(c.id, { assignee_id: keep.assignee_id, team_id: keep.team_id })
    }
  }, [])

  const loadCounts = useCallback(() => {
    api.conversationCounts().then(setCounts, () => {})
  }, [])
  const countsTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const refreshCounts = useCallback(() => {
    clearTimeout(countsTimer.current)
    countsTimer.current = setTimeout(loadCounts, 250)
  }, [loadCounts])
  useEffect(() => () => clearTimeout(countsTimer.current), [])

  /** Fetches the tab's first page; `fresh` (another tab, search or filter) empties the list first. */
  const load = useCallback((fresh = false) => {
    const gen = ++generation.current
    if (fresh) setRows([])
    setState((s) => (s === 'ready' && !fresh ? s : 'loading'))
    api.conversationPage(tabQuery(tab, search, filter), null, PAGE).then(
      (page) => {
        if (gen !== generation.current) return
        remember(page.items)
        setRows(sortRows(page.items.filter((c) => belongs(c, tab, me, filter) || tab === 'closed')))
        setCursor(page.next_cursor)
        setState('ready')
      },
      () => gen === generation.current && setState('error'),
    )
  }, [tab, search, filter, me, remember])

  useEffect(() => load(true), [load])

  // Counts, and the agent's waiting conversations (an alert needs to know they were waiting).
  useEffect(() => {
    loadCounts()
    api.conversationPage(tabQuery('waiting', ''), null, 200).then((p) => remember(p.items), () => {})
  }, [loadCounts, remember])

  const loadMore = useCallback(() => {
    if (!cursor || loadingMore) return
    const gen = generation.current
    setLoadingMore(true)
    api
      .conversationPage(tabQuery(tab, search, filter), cursor, PAGE)
      .then(
        (page) => {
          if (gen !== generation.current) return
          remember(page.items)
          setRows((cur) => {
            const have = new Set(cur.map((c) => c.id))
            return sortRows([...cur, ...page.items.filter((c) => !have.has(c.id))])
          })
          setCursor(page.next_cursor)
        },
        () => {},
      )
      .finally(() => setLoadingMore(false))
  }, [cursor, loadingMore, tab, search, filter, remember])

  const place = useCallback(
    (c: Conversation) => {
      const { tab: shown, filter: f } = view.current
      setRows((cur) => {
        const rest = cur.filter((x) => x.id !== c.id)
        const had = cur.find((x) => x.id === c.id)
        const keep = fresher(had, c)
        return belongs(keep, shown, me, f) ? sortRows([keep, ...rest]) : rest
      })
    },
    [me],
  )

  /** A copy from the REST API (an answer to this agent): its unread count is the caller's. */
  const upsert = useCallback(
    (c: Conversation, ownership = true) => {
      // On screen: read, whatever a copy fetched just before the read mark says.
      if (c.id === view.current.openId) c = { ...c, unread_count: 0 }
      remember([c], ownership)
      place(known.current.get(c.id)!)
      refreshCounts()
    },
    [place, remember, refreshCounts],
  )

  /**
   * A copy from the event stream (the same for every agent): the unread count stays ours. One
   * never seen before is placed at once, then fetched for the caller's own unread count.
   */
  const upsertEvent = useCallback(
    (e: LiveEvent & { data: Conversation }) => {
      const before = known.current.get(e.data.id)
      const owning = e.type !== 'conversation.updated'
      upsert({ ...e.data, unread_count: before?.unread_count ?? 0 }, owning)
      if (!before) api.getConversation(e.data.id).then((c) => upsert(c, false), () => {})
    },
    [upsert],
  )

  const setUnread = useCallback(
    (id: string, n: (old: number) => number) => {
      const c = known.current.get(id)
      if (!c) return
      const next = { ...c, unread_count: n(c.unread_count ?? 0) }
      known.current.set(id, next)
      setRows((cur) => cur.map((x) => (x.id === id ? { ...x, unread_count: next.unread_count } : x)))
    },
    [],
  )

  // Opening a conversation reads it: the mark and the counts clear.
  const markRead = useCallback(
    (id: string) => {
      setUnread(id, () => 0)
      api.markRead(id).then(refreshCounts, () => {})
    },
    [refreshCounts, setUnread],
  )
  useEffect(() => {
    if (openId) markRead(openId)
  }, [openId, markRead])

  const alert = useCallback((e: LiveEvent) => {
    const id = e.type.startsWith('message.') ? (e.data as { conversation_id: string }).conversation_id : (e.data as Conversation).id
    let before = known.current.get(id)
    if (e.type === 'conversation.assigned' || e.type === 'conversation.transferred') {
      const owner = owners.current.get(id)
      before = before && owner ? { ...before, ...owner } : undefined
    }
    const a = alertFor(e, before, me, view.current.myTeamIds)
    if (!a || !firstTime(`${a.kind}:${a.conversationId}`)) return
    // Already looking at it: nothing to call the agent's attention to.
    if (view.current.openId === a.conversationId && document.visibilityState === 'visible' && document.hasFocus()) return
    const c = e.type.startsWith('message.') ? known.current.get(id) : (e.data as Conversation)
    const name = c?.contact?.name || formatPhone(c?.contact?.phone ?? '')
    const prefs = readPrefs()
    if (prefs.sound) playTone()
    if (prefs.notify) {
      showNotification(t(a.kind === 'replied' ? 'alert.repliedTitle' : 'alert.arrivedTitle'), t('alert.body', { name }), () =>
        navigate({ name: 'conversation', id: a.conversationId }),
      )
    }
  }, [me])

  useLiveEvents(
    (e) => {
      if (e.type === 'template.updated') return
      alert(e)
      if (e.type === 'message.created') {
        const m = e.data
        const c = known.current.get(m.conversation_id)
        if (c) {
          const last = { direction: m.direction, type: m.type, preview: m.rendered_text || m.text || '', at: m.created_at }
          const next = { ...c, last_message: last }
          known.current.set(c.id, next)
          setRows((cur) => cur.map((x) => (x.id === c.id ? { ...x, last_message: last } : x)))
        }
        if (m.direction === 'in') {
          if (view.current.openId === m.conversation_id) markRead(m.conversation_id)
          else setUnread(m.conversation_id, (n) => n + 1)
          refreshCounts()
        }
        return
      }
      if (e.type === 'message.updated') return
      upsertEvent(e)
    },
    () => {
      load()
      loadCounts()
    },
  )

  // The browser tab says how many messages wait: "(3) Atendimento".
  const unread = totalUnread(counts)
  useEffect(() => {
    document.title = documentTitle(t('app.name'), unread)
  }, [unread])
  useEffect(() => () => void (document.title = t('app.name')), [])

  const setTab = useCallback((next: Tab) => setTabState(next), [])
  const reveal = useCallback((c: Conversation) => setTabState(tabOf(c, me)), [me])

  return {
    tab,
    setTab,
    q,
    setQ,
    filter,
    setFilter,
    rows,
    state,
    hasMore: cursor !== null,
    loadingMore,
    loadMore,
    reload: () => load(),
    counts,
    upsert,
    reveal,
  }
}
