import { describe, expect, it, vi } from 'vitest'
import { formatDate, formatMoney, formatPhone, formatRemaining } from './format'
import { errorText, ptBR, t } from './pt-BR'

describe('pt-BR formatting', () => {
  it('formats money in BRL and USD the Brazilian way', () => {
    expect(formatMoney(0.35, 'BRL')).toBe('R$\u00a00,35')
    expect(formatMoney('0.0625', 'usd')).toBe('US$\u00a00,0625')
    expect(formatMoney(12.5, 'BRL')).toBe('R$\u00a012,50')
  })

  it('formats the time left in the window', () => {
    expect(formatRemaining(3 * 3_600_000 + 5 * 60_000)).toBe('3 h 05 min')
    expect(formatRemaining(12 * 60_000 + 59_000)).toBe('12 min')
    expect(formatRemaining(30_000)).toBe('menos de 1 min')
  })

  it('reads a calendar date without shifting it by the time zone', () => {
    expect(formatDate('2026-07-01')).toBe('01/07/2026')
  })

  it('shows Brazilian E.164 numbers with DDD', () => {
    expect(formatPhone('+5511987654321')).toBe('+55 11 98765-4321')
    expect(formatPhone('+551133334444')).toBe('+55 11 3333-4444')
    expect(formatPhone('+14155550100')).toBe('+14155550100')
  })
})

describe('message catalogue', () => {
  it('fills placeholders', () => {
    expect(t('params.conflict', { name: 'João' })).toBe('Já existe um atendimento aberto com João neste canal.')
  })

  it('translates API error codes, falling back to the server message', () => {
    expect(errorText('phone_invalid')).toMatch(/^Número inválido/)
    expect(errorText('something_new', 'Server says no')).toBe('Server says no')
  })

  it('holds every label the help page tells users to click, exactly as written', () => {
    const labels = Object.values(ptBR) as string[]
    for (const label of [
      'Atendimentos',
      'Conversar',
      'Enviar mensagem',
      'Selecione o tipo de envio',
      'Iniciar atendimento',
      'Agendar mensagem',
      'Selecione um canal',
      'Selecione uma equipe',
      'Modelo de mensagem',
      'Todos os modelos',
      'Definir parâmetros',
      'Parâmetros',
      'Outros',
      'Novo atendimento',
      'Novo contato',
      'Digite o número com DDD',
    ]) {
      expect(labels).toContain(label)
    }
  })
})

describe('schedules in the account zone (Brasília), whatever the browser', () => {
  it('reads dd/mm/aaaa hh:mm as Brasília wall time', async () => {
    const { zonedToUTC, formatInZone, splitInZone } = await import('./format')
    expect(zonedToUTC('05/12/2026', '10:00')).toBe('2026-12-05T13:00:00Z')
    expect(zonedToUTC('5/12/2026', '10:00')).toBeNull()
    expect(zonedToUTC('31/02/2026', '10:00')).toBeNull()
    expect(zonedToUTC('05/12/2026', '24:00')).toBeNull()
    expect(zonedToUTC('05/12/2026', '10:00', 'Europe/Lisbon')).toBe('2026-12-05T10:00:00Z')
    expect(formatInZone('2026-12-05T13:00:00Z')).toBe('05/12/2026 10:00')
    expect(splitInZone('2026-12-31T23:30:00Z')).toEqual({ date: '31/12/2026', time: '20:30' })
    // A browser in another zone reads and shows the same Brasília hour.
    vi.stubEnv('TZ', 'Asia/Tokyo')
    try {
      expect(new Date('2026-12-05T13:00:00Z').getHours()).toBe(22)
      expect(zonedToUTC('05/12/2026', '10:00')).toBe('2026-12-05T13:00:00Z')
      expect(formatInZone('2026-12-05T13:00:00Z')).toBe('05/12/2026 10:00')
    } finally {
      vi.unstubAllEnvs()
    }
  })
})
