// Dates, money, durations and phone numbers, formatted the Brazilian way.

import { LOCALE, t } from './pt-BR'

const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'short', timeStyle: 'short' })
const time = new Intl.DateTimeFormat(LOCALE, { hour: '2-digit', minute: '2-digit' })
const dateOnly = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'short' })

/** "27/11/2026, 14:30" in the browser's time zone. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? '' : dateTime.format(d)
}

const parts = new Intl.DateTimeFormat(LOCALE, {
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
})

/** "04/12/2026 10:00" (dd/MM/yyyy HH:mm, no comma) in the browser's time zone. */
export function formatDayTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  const p: Record<string, string> = {}
  for (const { type, value } of parts.formatToParts(d)) p[type] = value
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`
}

/** "14:30" in the browser's time zone. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? '' : time.format(d)
}

/** "01/07/2026"; a bare date (YYYY-MM-DD) is read as a calendar day, not as UTC midnight. */
export function formatDate(value: string | null | undefined): string {
  if (!value) return ''
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  const d = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : new Date(value)
  return Number.isNaN(d.getTime()) ? value : dateOnly.format(d)
}

/** "R$ 0,35" / "US$ 0,06"; accepts the decimal string some APIs prefer for money. */
export function formatMoney(amount: number | string, currency: string): string {
  const n = typeof amount === 'string' ? Number(amount) : amount
  const fractionDigits = Math.abs(n) < 1 && n !== 0 ? 4 : 2
  return new Intl.NumberFormat(LOCALE, {
    style: 'currency',
    currency: currency.toUpperCase(),
    minimumFractionDigits: 2,
    maximumFractionDigits: fractionDigits,
  }).format(n)
}

/** "3 h 05 min", "12 min", "menos de 1 min" for the time left in a window. */
export function formatRemaining(ms: number): string {
  if (ms < 60_000) return t('time.remaining.lessThanMinute')
  const totalMin = Math.floor(ms / 60_000)
  const h = Math.floor(totalMin / 60)
  const m = totalMin % 60
  if (h === 0) return t('time.remaining.minutes', { m })
  return t('time.remaining.hours', { h, m: String(m).padStart(2, '0') })
}

/** "+55 11 98765-4321" for Brazilian E.164 numbers; other numbers are shown as given. */
export function formatPhone(e164: string): string {
  const m = /^\+55(\d{2})(\d{4,5})(\d{4})$/.exec(e164)
  if (!m) return e164
  return `+55 ${m[1]} ${m[2]}-${m[3]}`
}

/** The value for an <input type="datetime-local"> from a Date, in the browser's time zone. */
export function toLocalInputValue(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`
}

/** An <input type="datetime-local"> value (local wall time) as an RFC 3339 UTC string. */
export function localInputToUTC(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null
  const d = new Date(value) // no offset: the spec reads it as local time
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** The IANA name of the browser's time zone, for the scheduling hint. */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone
}
