// Which templates a contact's marketing consent allows (the server's rule, shown before it refuses).

import type { Contact, Template } from '../api'
import { formatDayTime } from '../i18n/format'
import { t } from '../i18n/pt-BR'

/**
 * Why the template cannot go to the contact, or null when it can: a MARKETING template to a
 * contact who opted out is refused by the server (422 contact_opted_out); UTILITY and
 * AUTHENTICATION templates still go (Meta's rule too).
 */
export function unavailableReason(
  tpl: Pick<Template, 'category'> & Partial<Pick<Template, 'components'>>,
  contact: Pick<Contact, 'marketing_opted_out'> | null | undefined,
): string | null {
  // An image, video or document header is filled in "Parâmetros" (a file or a link); a location
  // header has no input here: the start would end in 422 template_unsupported, so the card says so first.
  const header = tpl.components?.find((c) => c.type === 'HEADER')
  if (header?.format && !['TEXT', 'IMAGE', 'VIDEO', 'DOCUMENT'].includes(header.format.toUpperCase())) return t('template.unavailableMediaHeader')
  if (contact?.marketing_opted_out && tpl.category === 'MARKETING') return t('template.unavailableOptedOut')
  return null
}

/** "Recebe mensagens de marketing" / "Não recebe mensagens de marketing desde 04/12/2026 10:00". */
export function consentLine(c: Pick<Contact, 'marketing_opted_out' | 'marketing_consent_at'>, zone?: string): string {
  const date = formatDayTime(c.marketing_consent_at, zone)
  if (c.marketing_opted_out) return date ? t('consent.optedOutSince', { date }) : t('consent.optedOut')
  return date ? t('consent.optedInSince', { date }) : t('consent.optedIn')
}
