// Small hooks shared by the screens.

import { useEffect, useState, useSyncExternalStore } from 'react'

/** The value, once it has stopped changing for `ms` milliseconds. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value)
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms)
    return () => clearTimeout(id)
  }, [value, ms])
  return v
}

/** The current time, refreshed every `ms` (for "time left in the window"). */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(id)
  }, [ms])
  return now
}

/** Where the app is: the inbox, or one conversation (`#/atendimentos/<id>`). */
export type Route = { name: 'inbox' } | { name: 'conversation'; id: string }

function parseHash(hash: string): Route {
  const m = /^#\/atendimentos\/([\w-]+)$/.exec(hash)
  return m ? { name: 'conversation', id: m[1] } : { name: 'inbox' }
}

function subscribeHash(cb: () => void): () => void {
  window.addEventListener('hashchange', cb)
  return () => window.removeEventListener('hashchange', cb)
}

/** Hash routing: works from any static host, including the Go server serving web/dist. */
export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribeHash, () => window.location.hash)
  return parseHash(hash)
}

export function conversationHref(id: string): string {
  return `#/atendimentos/${id}`
}

export function navigate(to: Route): void {
  window.location.hash = to.name === 'conversation' ? conversationHref(to.id) : '#/atendimentos'
}
