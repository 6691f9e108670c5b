// The account's close reasons as the admin edits them (the server checks the same: ≤ 30, 1..80 characters, unique).

import { t } from '../i18n/pt-BR'

export const MAX_REASONS = 30
export const MAX_LENGTH = 80

/** Why a reason cannot join the list, or null (1..80 characters, not there already, at most 30). */
export function reasonProblem(reason: string, list: string[]): string | null {
  const r = reason.trim()
  if (r.length < 1 || r.length > MAX_LENGTH) return t('closeReasons.invalidLength', { max: MAX_LENGTH })
  if (list.some((x) => x.toLocaleLowerCase('pt-BR') === r.toLocaleLowerCase('pt-BR'))) return t('closeReasons.duplicate')
  if (list.length >= MAX_REASONS) return t('closeReasons.tooMany', { max: MAX_REASONS })
  return null
}
