import type { Session } from './api'
import { Workspace } from './components/Workspace'
import { AccountZoneProvider } from './i18n/zone'
import { useRoute } from './lib/hooks'
import { Settings } from './settings/Settings'
import { DirectoryProvider, LiveProvider, SessionProvider } from './state'

/** Everything after the login, in its own chunk: the login screen does not download it. */
export default function SignedIn({ session, logout }: { session: Session; logout: () => void }) {
  return (
    <SessionProvider value={{ user: session.user, logout }}>
      <AccountZoneProvider>
        <LiveProvider>
          <DirectoryProvider>
            <Screen />
          </DirectoryProvider>
        </LiveProvider>
      </AccountZoneProvider>
    </SessionProvider>
  )
}

/** The inbox and its conversations, or the admin's settings. */
function Screen() {
  const route = useRoute()
  return route.name === 'settings' ? <Settings section={route.section} /> : <Workspace />
}
