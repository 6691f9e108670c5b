// The agent's alerts: a short tone made with WebAudio (no sound file to download) and a browser
// notification, each behind a switch kept in localStorage.

import { useCallback, useSyncExternalStore } from 'react'

export interface AlertPrefs {
  sound: boolean
  notify: boolean
}

const KEY = 'atendimento.alerts'
const DEFAULTS: AlertPrefs = { sound: true, notify: false }
const listeners = new Set<() => void>()
let cached: { raw: string | null; value: AlertPrefs } | null = null

/** The switches as stored (sound on, notifications off until the agent turns them on). */
export function readPrefs(): AlertPrefs {
  let raw: string | null = null
  try {
    raw = localStorage.getItem(KEY)
  } catch {
    // Storage refused (private mode): the defaults.
  }
  if (cached && cached.raw === raw) return cached.value
  let value = DEFAULTS
  try {
    const v = raw ? (JSON.parse(raw) as Partial<AlertPrefs>) : {}
    value = { sound: typeof v.sound === 'boolean' ? v.sound : DEFAULTS.sound, notify: typeof v.notify === 'boolean' ? v.notify : DEFAULTS.notify }
  } catch {
    value = DEFAULTS
  }
  cached = { raw, value }
  return value
}

export function writePrefs(p: AlertPrefs): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(p))
  } catch {
    // Not kept: the switch still works for this page.
  }
  listeners.forEach((l) => l())
}

function subscribe(l: () => void): () => void {
  listeners.add(l)
  window.addEventListener('storage', l)
  return () => {
    listeners.delete(l)
    window.removeEventListener('storage', l)
  }
}

/** The switches and a setter; every tab of the app sees a change. */
export function useAlertPrefs(): [AlertPrefs, (p: Partial<AlertPrefs>) => void] {
  const prefs = useSyncExternalStore(subscribe, readPrefs)
  const set = useCallback((p: Partial<AlertPrefs>) => writePrefs({ ...readPrefs(), ...p }), [])
  return [prefs, set]
}

/** Whether the browser can show notifications, and what the agent said ('default': not asked yet). */
export function notificationPermission(): NotificationPermission | 'unsupported' {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission
}

/** Asks the browser for the permission (only ever from a click on the switch). */
export async function askNotificationPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (typeof Notification === 'undefined') return 'unsupported'
  if (Notification.permission !== 'default') return Notification.permission
  return Notification.requestPermission()
}

let audio: AudioContext | null = null

/** Two short rising notes (about 0.3 s), synthesised: no file, nothing fetched. */
export function playTone(): void {
  const AC = globalThis.AudioContext ?? (globalThis as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext
  if (!AC) return
  try {
    audio ??= new AC()
    const ctx = audio
    void ctx.resume?.()
    const start = ctx.currentTime
    ;[660, 880].forEach((freq, i) => {
      const osc = ctx.createOscillator()
      const gain = ctx.createGain()
      osc.type = 'sine'
      osc.frequency.value = freq
      const t0 = start + i * 0.15
      gain.gain.setValueAtTime(0.0001, t0)
      gain.gain.exponentialRampToValueAtTime(0.2, t0 + 0.02)
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.14)
      osc.connect(gain).connect(ctx.destination)
      osc.start(t0)
      osc.stop(t0 + 0.15)
    })
  } catch {
    // A browser that refuses audio before a gesture: the notification and the title still tell.
  }
}

/** Shows a browser notification when allowed; a click brings the app forward on the conversation. */
export function showNotification(title: string, body: string, onClick: () => void): void {
  if (notificationPermission() !== 'granted') return
  try {
    const n = new Notification(title, { body, tag: `atendimento-${title}-${body}` })
    n.onclick = () => {
      window.focus()
      onClick()
      n.close()
    }
  } catch {
    // Some browsers allow notifications only from a service worker: the sound and title remain.
  }
}

const recent = new Map<string, number>()

/** False for the same alert again within a few seconds (a reply comes as a message and an update). */
export function firstTime(key: string, now = Date.now(), withinMs = 10_000): boolean {
  const at = recent.get(key)
  recent.set(key, now)
  return at === undefined || now - at > withinMs
}

/** Forgets the alerts given (a new session, or a test that starts afresh). */
export function forgetAlerts(): void {
  recent.clear()
}
