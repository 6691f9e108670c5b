import { render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { api } from '../api'
import { formatDateTime, formatDayTime, formatTime } from './format'
import { AccountZoneProvider, useAccountZone } from './zone'

// 15:30 UTC on 5 Dec 2026: 12:30 in Brasília, 11:30 in Manaus, 00:30 the next day in Tokyo.
const AT = '2026-12-05T15:30:00Z'

describe("times in the account's time zone, not the browser's", () => {
  it('formats an instant in the zone it is given', () => {
    expect(formatTime(AT, 'America/Sao_Paulo')).toBe('12:30')
    expect(formatTime(AT, 'America/Manaus')).toBe('11:30')
    expect(formatTime(AT, 'Asia/Tokyo')).toBe('00:30')
    expect(formatDayTime(AT, 'Asia/Tokyo')).toBe('06/12/2026 00:30')
    expect(formatDayTime(AT, 'America/Sao_Paulo')).toBe('05/12/2026 12:30')
    expect(formatDateTime(AT, 'America/Manaus')).toBe('05/12/2026, 11:30')
    // Brasília when no zone is given (a new account's), and for a zone this browser does not know.
    expect(formatTime(AT)).toBe('12:30')
    expect(formatTime(AT, 'Nowhere/Atlantis')).toBe('12:30')
    expect(formatTime('not a date', 'America/Manaus')).toBe('')
  })

  afterEach(() => vi.restoreAllMocks())

  function Clock() {
    const zone = useAccountZone()
    return <p>{`${zone} ${formatTime(AT, zone)}`}</p>
  }

  it("AccountZoneProvider gives the account's zone to the screens (Brasília until it is read)", async () => {
    let answer: (v: Awaited<ReturnType<typeof api.getAccount>>) => void = () => {}
    vi.spyOn(api, 'getAccount').mockReturnValue(new Promise((r) => (answer = r)))
    render(
      <AccountZoneProvider>
        <Clock />
      </AccountZoneProvider>,
    )
    expect(screen.getByText('America/Sao_Paulo 12:30')).toBeInTheDocument()
    answer({ time_zone: 'Asia/Tokyo' } as Awaited<ReturnType<typeof api.getAccount>>)
    await waitFor(() => expect(screen.getByText('Asia/Tokyo 00:30')).toBeInTheDocument())
  })

  it('a fixed zone needs no request', () => {
    const spy = vi.spyOn(api, 'getAccount')
    render(
      <AccountZoneProvider zone="America/Manaus">
        <Clock />
      </AccountZoneProvider>,
    )
    expect(screen.getByText('America/Manaus 11:30')).toBeInTheDocument()
    expect(spy).not.toHaveBeenCalled()
  })
})
