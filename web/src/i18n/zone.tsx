// The account's time zone for the whole signed-in app: every time an agent or admin reads is in
// it, not in the browser's zone, so "10:00" is the same moment on every screen.

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { api } from '../api'
import { ACCOUNT_ZONE } from './format'

interface ZoneValue {
  zone: string
  /** Reads the account again (after an admin changed its time zone). */
  refresh: () => void
}

const ZoneContext = createContext<ZoneValue>({ zone: ACCOUNT_ZONE, refresh: () => {} })

/**
 * Loads the account's time zone once (Brasília until it arrives, or if it cannot be read) and
 * gives it to useAccountZone(). `zone` fixes it instead (tests, stories).
 */
export function AccountZoneProvider({ children, zone: fixed }: { children: ReactNode; zone?: string }) {
  const [zone, setZone] = useState(fixed ?? ACCOUNT_ZONE)
  const [tick, setTick] = useState(0)
  useEffect(() => {
    if (fixed) return
    let live = true
    api.getAccount().then(
      (a) => live && a.time_zone && setZone(a.time_zone),
      () => {}, // keep the default: a time shown in Brasília beats no screen
    )
    return () => {
      live = false
    }
  }, [fixed, tick])
  const refresh = useCallback(() => setTick((n) => n + 1), [])
  const value = useMemo(() => ({ zone: fixed ?? zone, refresh }), [fixed, zone, refresh])
  return <ZoneContext.Provider value={value}>{children}</ZoneContext.Provider>
}

/** The IANA time zone of the signed-in account ("America/Sao_Paulo"). */
export function useAccountZone(): string {
  return useContext(ZoneContext).zone
}

/** Asks the provider to read the account's time zone again. */
export function useRefreshAccountZone(): () => void {
  return useContext(ZoneContext).refresh
}
