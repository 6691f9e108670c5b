// What the history and the composer read from media: sizes and lengths the Brazilian way, the
// fields Meta puts in location, contacts, reaction and reply messages, and a file's likely kind.

import type { MediaKind } from '../api'
import { LOCALE } from '../i18n/pt-BR'

/** "850 B", "12 KB", "1,5 MB" (decimal units, as WhatsApp and file managers show them). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return ''
  if (bytes < 1000) return `${bytes} B`
  const units = ['KB', 'MB', 'GB']
  let n = bytes / 1000
  let i = 0
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000
    i++
  }
  const digits = n < 10 ? 1 : 0
  return `${new Intl.NumberFormat(LOCALE, { maximumFractionDigits: digits }).format(n)} ${units[i]}`
}

/** "0:07", "1:05", "1:02:03"; empty while the length is unknown (NaN, Infinity). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return ''
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/** The speeds a voice note cycles through, and how each is read ("1,5×"). */
export const SPEEDS = [1, 1.5, 2] as const
export const speedLabel = (rate: number) => `${new Intl.NumberFormat(LOCALE).format(rate)}×`
/** The speed after `rate` (back to 1× after the fastest, or from a speed not in the list). */
export function nextSpeed(rate: number): number {
  const i = SPEEDS.findIndex((s) => s === rate)
  return SPEEDS[(i + 1) % SPEEDS.length]
}

/** The kind a chosen file will likely be, for its preview only (the server judges the bytes). */
export function guessKind(file: { type: string; name: string }): MediaKind {
  const type = file.type.toLowerCase()
  if (type === 'image/webp') return 'sticker'
  if (type.startsWith('image/')) return 'image'
  if (type.startsWith('audio/')) return 'audio'
  if (type.startsWith('video/')) return 'video'
  return 'document'
}

/** The OpenStreetMap page centred on a point, with a marker. */
export function mapUrl(latitude: number, longitude: number): string {
  return `https://www.openstreetmap.org/?mlat=${latitude}&mlon=${longitude}#map=16/${latitude}/${longitude}`
}

export interface Location {
  latitude: number
  longitude: number
  name: string
  address: string
}

export interface ContactCard {
  name: string
  phones: string[]
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v)
const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '')
/** `content` holds Meta's object itself, or Meta's message with the object under its type. */
const part = (content: unknown, key: string): unknown => (isObj(content) && key in content ? content[key] : content)

/** A location message's point and names, or null when the content has no usable point. */
export function readLocation(content: unknown): Location | null {
  const c = part(content, 'location')
  if (!isObj(c)) return null
  const latitude = Number(c.latitude)
  const longitude = Number(c.longitude)
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude) || c.latitude === null || c.longitude === null) return null
  return { latitude, longitude, name: str(c.name), address: str(c.address) }
}

/** The cards of a contacts message: each one's name and phone numbers. */
export function readContacts(content: unknown): ContactCard[] {
  const list = part(content, 'contacts')
  if (!Array.isArray(list)) return []
  return list.filter(isObj).map((c) => {
    const name = isObj(c.name) ? str(c.name.formatted_name) || [str(c.name.first_name), str(c.name.last_name)].filter(Boolean).join(' ') : str(c.name)
    const phones = Array.isArray(c.phones) ? c.phones.filter(isObj).map((p) => str(p.phone) || str(p.wa_id)).filter(Boolean) : []
    return { name, phones }
  })
}

/** A reaction's emoji (empty: the contact removed their reaction). */
export function readReaction(content: unknown): string {
  const c = part(content, 'reaction')
  return isObj(c) ? str(c.emoji) : ''
}

/** The title of a button or list reply (interactive), or of a template's quick-reply button (button). */
export function readReply(content: unknown, fallback = ''): string {
  const i = part(content, 'interactive')
  if (isObj(i)) {
    for (const k of ['button_reply', 'list_reply', 'nfm_reply']) {
      const r = i[k]
      if (isObj(r) && (r.title || r.body)) return str(r.title) || str(r.body)
    }
  }
  const b = part(content, 'button')
  if (isObj(b) && (b.text || b.payload)) return str(b.text) || str(b.payload)
  return fallback
}
