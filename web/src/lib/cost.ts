// The estimated cost of a template message as the SPA writes it: reais first when the account
// has an exchange rate, with the rate card's US dollars beside them.

import type { PriceEstimate } from '../api'
import { formatDate, formatMoney } from '../i18n/format'
import { t } from '../i18n/pt-BR'

/** The parts of a known, billable amount: what is read first, the dollars beside it, the rate used. */
export interface CostParts {
  /** "R$ 0,36" at the account's rate, or "US$ 0,0625" when the account has none. */
  main: string
  /** "US$ 0,0625" when `main` is in reais. */
  usd: string | null
  /** "câmbio R$ 5,80 de 04/12/2026" when `main` is in reais. */
  rate: string | null
}

/** The parts of an estimate's amount; null when the amount is unknown. */
export function costParts(e: PriceEstimate): CostParts | null {
  if (e.amount === null) return null
  const usd = formatMoney(e.amount, e.currency)
  const local = e.local
  if (!local) return { main: usd, usd: null, rate: null }
  // Reais are read to the cent, unless the amount is smaller than one.
  const cents = local.amount === 0 || local.amount >= 0.01 ? 2 : 4
  return {
    main: formatMoney(local.amount, local.currency, cents),
    usd,
    rate: t('params.costRate', { rate: formatMoney(local.exchange_rate, local.currency, 4), date: formatDate(local.exchange_rate_date) }),
  }
}

/** "R$ 0,36 por mensagem entregue · US$ 0,0625 · câmbio R$ 5,80 de 04/12/2026" (or the dollars alone). */
export function costLine(p: CostParts): string {
  return [t('params.costPerMessage', { amount: p.main }), p.usd, p.rate].filter(Boolean).join(' · ')
}

/** The cost a template card shows: "R$ 0,36 (US$ 0,0625)", "US$ 0,0625", or null when unknown. */
export function cardCost(e: PriceEstimate): string | null {
  if (!e.billable) return t('template.costFree')
  const p = costParts(e)
  if (!p) return null
  return t('template.cost', { cost: p.usd ? `${p.main} (${p.usd})` : p.main })
}
