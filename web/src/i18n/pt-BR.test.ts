import { describe, expect, it } from 'vitest'
import { errorCodeFamilies, errorCodes } from './errorCodes.gen'
import { errorText, t } from './pt-BR'

describe('error codes in pt-BR', () => {
  it('has a message of its own for every code the server answers with', () => {
    const missing = errorCodes.filter((code) => errorText(code, 'FALLBACK') === 'FALLBACK')
    expect(missing).toEqual([])
    expect(errorCodes.length).toBeGreaterThan(80)
  })

  it('translates a code built from a field name by its family', () => {
    expect(errorCodeFamilies).toContain('*_invalid')
    expect(errorText('phone_number_id_invalid')).toBe(t('error.*_invalid'))
    expect(errorText('phone_invalid')).toBe(t('error.phone_invalid'))
  })

  it("falls back to the server's message for a code it does not know", () => {
    expect(errorText('brand_new_code', 'texto do servidor')).toBe('texto do servidor')
    expect(errorText(undefined)).toBe(t('common.unexpected'))
  })
})
