import { lazy, Suspense, useCallback, useEffect, useState } from 'react'
import { api, onUnauthorized, type Session } from './api'
import { Login } from './components/Login'
import { t } from './i18n/pt-BR'
import { normaliseRoute, replaceRoute } from './lib/hooks'
import { clearDraft } from './lib/startDraft'

// The workspace loads after the login (or while /me answers): the login screen's download is small.
const SignedIn = lazy(() => import('./SignedIn'))

type AuthState = { status: 'loading' } | { status: 'anonymous' } | { status: 'signed-in'; session: Session }

/** Asks the server who is signed in, then shows the login or the workspace. */
export default function App() {
  const [auth, setAuth] = useState<AuthState>({ status: 'loading' })

  useEffect(() => {
    normaliseRoute()
    let live = true
    api
      .me()
      .then((session) => live && setAuth({ status: 'signed-in', session }))
      .catch(() => live && setAuth({ status: 'anonymous' }))
    onUnauthorized(() => setAuth({ status: 'anonymous' }))
    return () => {
      live = false
      onUnauthorized(null)
    }
  }, [])

  const logout = useCallback(() => {
    // The next person to sign in starts at the inbox, not in this agent's conversation, and
    // does not find this one's half-filled start.
    replaceRoute({ name: 'inbox' })
    clearDraft()
    api
      .logout()
      .catch(() => {})
      .finally(() => setAuth({ status: 'anonymous' }))
  }, [])

  const splash = (
    <div className="splash" role="status">
      {t('app.loading')}
    </div>
  )
  if (auth.status === 'loading') return splash
  if (auth.status === 'anonymous') {
    return <Login onSignedIn={(session) => setAuth({ status: 'signed-in', session })} />
  }
  return (
    <Suspense fallback={splash}>
      <SignedIn session={auth.session} logout={logout} />
    </Suspense>
  )
}
