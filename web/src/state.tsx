// What the whole signed-in app shares: the agent, the live event stream, channels and teams.

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { api, type Channel, type LiveEvent, type Team, type User } from './api'

interface SessionValue {
  user: User
  logout: () => void
}

const SessionContext = createContext<SessionValue | null>(null)

export function SessionProvider({ value, children }: { value: SessionValue; children: ReactNode }) {
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}

/** The signed-in agent. */
export function useSession(): SessionValue {
  const v = useContext(SessionContext)
  if (!v) throw new Error('useSession outside SessionProvider')
  return v
}

type Listener = { event: (e: LiveEvent) => void; reconnected?: () => void }

const LiveContext = createContext<((l: Listener) => () => void) | null>(null)

/** Opens one event stream for the app and fans it out to the views that listen. */
export function LiveProvider({ children }: { children: ReactNode }) {
  const listeners = useRef(new Set<Listener>())
  useEffect(
    () =>
      api.subscribeEvents({
        event: (e) => listeners.current.forEach((l) => l.event(e)),
        reconnected: () => listeners.current.forEach((l) => l.reconnected?.()),
      }),
    [],
  )
  const subscribe = useCallback((l: Listener) => {
    listeners.current.add(l)
    return () => {
      listeners.current.delete(l)
    }
  }, [])
  return <LiveContext.Provider value={subscribe}>{children}</LiveContext.Provider>
}

/** Calls `onEvent` for every live event (and `onReconnect` after a dropped stream comes back). */
export function useLiveEvents(onEvent: (e: LiveEvent) => void, onReconnect?: () => void): void {
  const subscribe = useContext(LiveContext)
  const latest = useRef({ onEvent, onReconnect })
  useEffect(() => {
    latest.current = { onEvent, onReconnect }
  })
  useEffect(() => {
    if (!subscribe) return
    return subscribe({
      event: (e) => latest.current.onEvent(e),
      reconnected: () => latest.current.onReconnect?.(),
    })
  }, [subscribe])
}

interface DirectoryValue {
  channels: Channel[]
  teams: Team[]
  loaded: boolean
  channelName: (id: string) => string
  teamName: (id: string | null) => string
  /** The account's people (agents and admins), for names of assignees and authors. */
  users: User[]
  userName: (id: string | null | undefined) => string
  /** Teams the agent belongs to. */
  myTeamIds: Set<string>
}

const DirectoryContext = createContext<DirectoryValue | null>(null)

/** Loads the account's channels and teams once; every screen reads names from here. */
export function DirectoryProvider({ children }: { children: ReactNode }) {
  const { user } = useSession()
  const [channels, setChannels] = useState<Channel[]>([])
  const [teams, setTeams] = useState<Team[]>([])
  const [users, setUsers] = useState<User[]>([])
  const [loaded, setLoaded] = useState(false)

  useEffect(() => {
    let live = true
    Promise.all([api.listChannels(), api.listTeams()])
      .then(([c, tm]) => {
        if (!live) return
        setChannels(c)
        setTeams(tm)
      })
      .catch(() => {})
      .finally(() => live && setLoaded(true))
    // Names only: a list that does not load leaves "—" where a name would be.
    api.listUsers().then((u) => live && setUsers(u), () => {})
    return () => {
      live = false
    }
  }, [])

  const value = useMemo<DirectoryValue>(() => {
    const cn = new Map(channels.map((c) => [c.id, c.name]))
    const tn = new Map(teams.map((tm) => [tm.id, tm.name]))
    const un = new Map(users.map((u) => [u.id, u.name]))
    return {
      channels,
      teams,
      users,
      userName: (id) => (id ? un.get(id) : undefined) ?? '—',
      loaded,
      channelName: (id) => cn.get(id) ?? '—',
      teamName: (id) => (id ? tn.get(id) : undefined) ?? '—',
      myTeamIds: new Set(teams.filter((tm) => tm.member_ids.includes(user.id)).map((tm) => tm.id)),
    }
  }, [channels, teams, users, loaded, user.id])

  return <DirectoryContext.Provider value={value}>{children}</DirectoryContext.Provider>
}

export function useDirectory(): DirectoryValue {
  const v = useContext(DirectoryContext)
  if (!v) throw new Error('useDirectory outside DirectoryProvider')
  return v
}
