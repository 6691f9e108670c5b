import { describe, expect, it } from 'vitest'
import { formatDayTime } from '../i18n/format'
import { consentLine, unavailableReason } from './consent'

describe('marketing consent', () => {
  it('says whether the contact receives marketing messages, and since when (dd/MM/yyyy HH:mm, local time)', () => {
    expect(consentLine({ marketing_opted_out: false, marketing_consent_at: null })).toBe('Recebe mensagens de marketing')
    expect(consentLine({ marketing_opted_out: true, marketing_consent_at: null })).toBe('Não recebe mensagens de marketing')
    // São Paulo is UTC−3.
    expect(consentLine({ marketing_opted_out: true, marketing_consent_at: '2026-12-04T13:00:00Z' })).toBe(
      'Não recebe mensagens de marketing desde 04/12/2026 10:00',
    )
    expect(consentLine({ marketing_opted_out: false, marketing_consent_at: '2026-01-02T03:04:00Z' })).toBe(
      'Recebe mensagens de marketing desde 02/01/2026 00:04',
    )
  })

  it('rules out only MARKETING templates, and only for a contact who opted out', () => {
    const reason = 'Indisponível: o contato pediu para não receber mensagens de marketing'
    expect(unavailableReason({ category: 'MARKETING' }, { marketing_opted_out: true })).toBe(reason)
    expect(unavailableReason({ category: 'UTILITY' }, { marketing_opted_out: true })).toBeNull()
    expect(unavailableReason({ category: 'AUTHENTICATION' }, { marketing_opted_out: true })).toBeNull()
    expect(unavailableReason({ category: 'MARKETING' }, { marketing_opted_out: false })).toBeNull()
    expect(unavailableReason({ category: 'MARKETING' }, null)).toBeNull()
  })

  it('formats dates as dd/MM/yyyy HH:mm with a 24-hour clock', () => {
    expect(formatDayTime('2026-12-04T23:59:00Z')).toBe('04/12/2026 20:59')
    expect(formatDayTime('2026-07-01T03:00:00Z')).toBe('01/07/2026 00:00')
    expect(formatDayTime(null)).toBe('')
    expect(formatDayTime('not a date')).toBe('')
  })
})

describe('templates that cannot be sent', () => {
  it('says why on the card: a location header, before the parameters step (image, video and document headers are filled there)', () => {
    const header = (format: string) => ({ category: 'UTILITY' as const, components: [{ type: 'HEADER', format }, { type: 'BODY', text: 'Olá' }] })
    expect(unavailableReason(header('LOCATION'), null)).toMatch(/^Indisponível: o cabeçalho deste modelo tem uma localização/)
    expect(unavailableReason(header('IMAGE'), null)).toBeNull()
    expect(unavailableReason(header('document'), null)).toBeNull()
    expect(unavailableReason(header('VIDEO'), null)).toBeNull()
    expect(unavailableReason(header('TEXT'), null)).toBeNull()
    expect(unavailableReason({ category: 'UTILITY', components: [{ type: 'BODY', text: 'Olá' }] }, null)).toBeNull()
  })
})
