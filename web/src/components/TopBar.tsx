import { t } from '../i18n/pt-BR'
import { routeHref, useRoute } from '../lib/hooks'
import { settingsSections } from '../settings/sections'
import { useSession } from '../state'

/** The bar above every signed-in screen: the product, where to go, who is signed in, "Sair". */
export function TopBar() {
  const { user, logout } = useSession()
  const route = useRoute()
  const inSettings = route.name === 'settings'
  // Settings are the admin's: agents are not shown the way there (the server refuses them anyway).
  const showSettings = user.role === 'admin' && settingsSections.length > 0
  return (
    <header className="topbar">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true" />
        {t('app.name')}
      </div>
      {showSettings && (
        <nav className="topbar-nav" aria-label={t('header.nav')}>
          <a href={routeHref({ name: 'inbox' })} aria-current={inSettings ? undefined : 'page'}>
            {t('inbox.title')}
          </a>
          <a href={routeHref({ name: 'settings', section: '' })} aria-current={inSettings ? 'page' : undefined}>
            {t('settings.title')}
          </a>
        </nav>
      )}
      <div className="topbar-user">
        <span className="muted small" title={user.email}>
          {t('header.signedInAs', { name: user.name })}
        </span>
        <button type="button" className="button button-ghost" onClick={logout}>
          {t('header.logout')}
        </button>
      </div>
    </header>
  )
}
