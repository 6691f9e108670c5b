import type { Session } from './api'
import { Workspace } from './components/Workspace'
import { DirectoryProvider, LiveProvider, SessionProvider } from './state'

/** Everything after the login, in its own chunk: the login screen does not download it. */
export default function SignedIn({ session, logout }: { session: Session; logout: () => void }) {
  return (
    <SessionProvider value={{ user: session.user, logout }}>
      <LiveProvider>
        <DirectoryProvider>
          <Workspace />
        </DirectoryProvider>
      </LiveProvider>
    </SessionProvider>
  )
}
