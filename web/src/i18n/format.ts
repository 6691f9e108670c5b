// Dates, money, durations and phone numbers, formatted the Brazilian way. Instants are shown in
// the account's time zone (passed in; components get it from useAccountZone), never the browser's.

import { LOCALE, t } from './pt-BR'

/**
 * The time zone times are shown in until the account's is known: Brasília, the default of every
 * new account. Components read the account's with useAccountZone() (AccountZoneProvider).
 */
export const ACCOUNT_ZONE = 'America/Sao_Paulo'

/** One Intl formatter per (kind, zone): building them is costly and lists format many times. */
const formatters = new Map<string, Intl.DateTimeFormat>()
function formatter(kind: 'dateTime' | 'time' | 'parts', zone: string): Intl.DateTimeFormat {
  const key = `${kind}|${zone}`
  let f = formatters.get(key)
  if (!f) {
    // A zone this browser does not know (older tzdata) falls back to Brasília rather than throw.
    let timeZone = zone
    try {
      new Intl.DateTimeFormat(LOCALE, { timeZone })
    } catch {
      timeZone = ACCOUNT_ZONE
    }
    f =
      kind === 'dateTime'
        ? new Intl.DateTimeFormat(LOCALE, { dateStyle: 'short', timeStyle: 'short', timeZone })
        : kind === 'time'
          ? new Intl.DateTimeFormat(LOCALE, { hour: '2-digit', minute: '2-digit', timeZone })
          : new Intl.DateTimeFormat(LOCALE, { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone })
    formatters.set(key, f)
  }
  return f
}

/** A valid instant, or null. */
function instant(iso: string | null | undefined): Date | null {
  if (!iso) return null
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? null : d
}

/** "27/11/2026, 14:30" in the account's time zone (zone), whatever the browser's. */
export function formatDateTime(iso: string | null | undefined, zone = ACCOUNT_ZONE): string {
  const d = instant(iso)
  return d ? formatter('dateTime', zone).format(d) : ''
}

/** "04/12/2026 10:00" (dd/MM/yyyy HH:mm, no comma) in the account's time zone (zone). */
export function formatDayTime(iso: string | null | undefined, zone = ACCOUNT_ZONE): string {
  const d = instant(iso)
  if (!d) return ''
  const p: Record<string, string> = {}
  for (const { type, value } of formatter('parts', zone).formatToParts(d)) p[type] = value
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`
}

/** "14:30" in the account's time zone (zone). */
export function formatTime(iso: string | null | undefined, zone = ACCOUNT_ZONE): string {
  const d = instant(iso)
  return d ? formatter('time', zone).format(d) : ''
}

const dateOnly = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'short' })

/** "01/07/2026"; a bare date (YYYY-MM-DD) is read as a calendar day, not as UTC midnight. */
export function formatDate(value: string | null | undefined): string {
  if (!value) return ''
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  const d = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : new Date(value)
  return Number.isNaN(d.getTime()) ? value : dateOnly.format(d)
}

/**
 * "R$ 0,35" / "US$ 0,0625"; accepts the decimal string some APIs prefer for money. Amounts under
 * one unit keep up to 4 decimals unless `maxFractionDigits` says otherwise ("R$ 0,36" for reais
 * a customer reads to the cent; "R$ 5,7512" for an exchange rate).
 */
export function formatMoney(amount: number | string, currency: string, maxFractionDigits?: number): string {
  const n = typeof amount === 'string' ? Number(amount) : amount
  const fractionDigits = Math.max(2, maxFractionDigits ?? (Math.abs(n) < 1 && n !== 0 ? 4 : 2))
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

/** "Horário de Brasília" for the account's zone, or the zone's IANA name. */
export function zoneLabel(zone = ACCOUNT_ZONE): string {
  return zone === 'America/Sao_Paulo' ? t('time.zone.brasilia') : zone
}

/** The zone's offset from UTC, in ms, at the instant t. */
function zoneOffset(t: number, zone: string): number {
  const p: Record<string, string> = {}
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  })
  for (const { type, value } of f.formatToParts(new Date(t))) p[type] = value
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(t / 1000) * 1000
}

/** A date typed as dd/mm/aaaa and a time as hh:mm, wall time in zone, as RFC 3339 UTC; null when not a real moment. */
export function zonedToUTC(date: string, time: string, zone = ACCOUNT_ZONE): string | null {
  const dm = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(date.trim())
  const tm = /^(\d{2}):(\d{2})$/.exec(time.trim())
  if (!dm || !tm) return null
  const [d, mo, y, h, mi] = [+dm[1], +dm[2], +dm[3], +tm[1], +tm[2]]
  if (h > 23 || mi > 59) return null
  const wall = Date.UTC(y, mo - 1, d, h, mi)
  const check = new Date(wall)
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null // 31/02
  let utc = wall - zoneOffset(wall, zone)
  utc = wall - zoneOffset(utc, zone) // the offset at the moment itself, across a change of offset
  return new Date(utc).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** An instant as { date: 'dd/mm/aaaa', time: 'hh:mm' } in zone. */
export function splitInZone(iso: string | number | Date, zone = ACCOUNT_ZONE): { date: string; time: string } {
  const p: Record<string, string> = {}
  const f = new Intl.DateTimeFormat(LOCALE, { timeZone: zone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
  for (const { type, value } of f.formatToParts(new Date(iso))) p[type] = value
  return { date: `${p.day}/${p.month}/${p.year}`, time: `${p.hour}:${p.minute}` }
}

/** "05/12/2026 10:00" in zone, whatever the browser's locale and zone. */
export function formatInZone(iso: string | null | undefined, zone = ACCOUNT_ZONE): string {
  if (!iso || Number.isNaN(new Date(iso).getTime())) return ''
  const { date, time } = splitInZone(iso, zone)
  return `${date} ${time}`
}
