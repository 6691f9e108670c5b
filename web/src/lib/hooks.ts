// Small hooks shared by the screens.

import { useEffect, useRef, useState, useSyncExternalStore } from 'react'

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

/**
 * Where the app is: the inbox, one conversation (`#/atendimentos/<id>`), or a section of the
 * admin's "Configurações" (`#/configuracoes/<section>`, `section` empty for the first one).
 */
export type Route = { name: 'inbox' } | { name: 'conversation'; id: string } | { name: 'settings'; section: string }

function parseHash(hash: string): Route {
  const m = /^#\/atendimentos\/([\w-]+)$/.exec(hash)
  if (m) return { name: 'conversation', id: m[1] }
  const s = /^#\/configuracoes(?:\/([\w-]+))?$/.exec(hash)
  if (s) return { name: 'settings', section: s[1] ?? '' }
  return { name: 'inbox' }
}

/** The hash a route lives at. */
export function routeHref(to: Route): string {
  if (to.name === 'conversation') return conversationHref(to.id)
  if (to.name === 'settings') return to.section ? `#/configuracoes/${to.section}` : '#/configuracoes'
  return '#/atendimentos'
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
  window.location.hash = routeHref(to)
}

/** Replaces the current history entry with a route: no new entry for Back to return to. */
export function replaceRoute(to: Route): void {
  const hash = routeHref(to)
  if (window.location.hash === hash) return
  window.history.replaceState(window.history.state, '', hash)
  // replaceState fires no hashchange: tell useRoute's subscribers ourselves.
  window.dispatchEvent(new HashChangeEvent('hashchange'))
}

/** The first load names its screen in place (an empty or unknown hash becomes #/atendimentos). */
export function normaliseRoute(): void {
  if (parseHash(window.location.hash).name === 'inbox' && window.location.hash !== '#/atendimentos') {
    replaceRoute({ name: 'inbox' })
  }
}

// Open dialogs, innermost last. Each has one history entry of its own above the page's, so the
// browser's Back closes the dialog instead of leaving the screen.
type BackEntry = { onBack: () => void }
const dialogStack: BackEntry[] = []
const MARK = 'atendimentoDialog'

function depthOf(state: unknown): number {
  const v = state && typeof state === 'object' ? (state as Record<string, unknown>)[MARK] : undefined
  return typeof v === 'number' ? v : 0
}

/**
 * How many of our dialog entries sit above the page's entry in the browser's history. A reload
 * keeps the entry it happened on: a dialog reopened by it (the start flow's draft) adopts that
 * entry instead of pushing a second one that Back would only pop.
 */
let pushed = depthOf(window.history.state)
let syncQueued = false
/** Our own history.go is on its way: its popstate is not the user's Back. */
let selfTraversal = false
let listening = false

/** Brings the history in line with the open dialogs, once the current render has settled. */
function scheduleSync(): void {
  if (syncQueued) return
  syncQueued = true
  queueMicrotask(() => {
    syncQueued = false
    // A navigation (a new hash) since: our entries are behind it and no longer ours to remove.
    if (pushed > 0 && depthOf(window.history.state) !== pushed) pushed = 0
    while (pushed < dialogStack.length) {
      pushed += 1
      window.history.pushState({ ...(window.history.state ?? {}), [MARK]: pushed }, '')
    }
    if (pushed > dialogStack.length) {
      selfTraversal = true
      window.history.go(dialogStack.length - pushed)
      pushed = dialogStack.length
    }
  })
}

/** Back (or Forward) to an entry below the innermost dialog's: that dialog is asked to close. */
function onPopState(e: PopStateEvent): void {
  pushed = depthOf(e.state)
  if (selfTraversal) {
    selfTraversal = false
    scheduleSync()
    return
  }
  const top = dialogStack[dialogStack.length - 1]
  if (top && pushed < dialogStack.length) top.onBack()
  scheduleSync()
}

/**
 * While the calling dialog is mounted, the browser's Back calls `onBack` (which closes it, or asks
 * first) instead of leaving the page the dialog is on.
 */
export function useBackCloses(onBack: () => void): void {
  const latest = useRef(onBack)
  useEffect(() => {
    latest.current = onBack
  })
  useEffect(() => {
    const entry: BackEntry = { onBack: () => latest.current() }
    if (!listening) {
      // Stays for the page's life: the popstate of our own history.go may come after the last close.
      window.addEventListener('popstate', onPopState)
      listening = true
    }
    dialogStack.push(entry)
    scheduleSync()
    return () => {
      dialogStack.splice(dialogStack.indexOf(entry), 1)
      scheduleSync()
    }
  }, [])
}
