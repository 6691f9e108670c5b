import { useCallback, useEffect, useState } from 'react'
import { api, onUnauthorized, type Session } from './api'
import { Login } from './components/Login'
import { Workspace } from './components/Workspace'
import { t } from './i18n/pt-BR'
import { DirectoryProvider, LiveProvider, SessionProvider } from './state'

type AuthState = { status: 'loading' } | { status: 'anonymous' } | { status: 'signed-in'; session: Session }

/** Asks the server who is signed in, then shows the login or the workspace. */
export default function App() {
  const [auth, setAuth] = useState<AuthState>({ status: 'loading' })

  useEffect(() => {
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
    api
      .logout()
      .catch(() => {})
      .finally(() => setAuth({ status: 'anonymous' }))
  }, [])

  if (auth.status === 'loading') {
    return (
      <div className="splash" role="status">
        {t('app.loading')}
      </div>
    )
  }
  if (auth.status === 'anonymous') {
    return <Login onSignedIn={(session) => setAuth({ status: 'signed-in', session })} />
  }
  return (
    <SessionProvider value={{ user: auth.session.user, logout }}>
      <LiveProvider>
        <DirectoryProvider>
          <Workspace />
        </DirectoryProvider>
      </LiveProvider>
    </SessionProvider>
  )
}
