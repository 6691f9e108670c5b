import { Suspense, useEffect } from 'react'
import { TopBar } from '../components/TopBar'
import { t } from '../i18n/pt-BR'
import { replaceRoute, routeHref } from '../lib/hooks'
import { useSession } from '../state'
import { settingsSections } from './sections'

/** "Configurações": the admin's screens, a side menu of sections and the chosen one. */
export function Settings({ section }: { section: string }) {
  const { user } = useSession()
  const current = settingsSections.find((s) => s.id === section) ?? settingsSections[0]
  const allowed = user.role === 'admin' && current !== undefined

  useEffect(() => {
    // Agents (and an empty menu) have no settings: back to the inbox without a history entry.
    if (!allowed) replaceRoute({ name: 'inbox' })
    else if (section !== current.id) replaceRoute({ name: 'settings', section: current.id })
  }, [allowed, section, current])

  if (!allowed) return null
  return (
    <div className="app">
      <a className="skip-link" href="#content">
        {t('app.skipToContent')}
      </a>
      <TopBar />
      <div className="settings">
        <nav className="settings-nav" aria-label={t('settings.title')}>
          <h1 className="settings-title">{t('settings.title')}</h1>
          <ul>
            {settingsSections.map((s) => (
              <li key={s.id}>
                <a href={routeHref({ name: 'settings', section: s.id })} aria-current={s.id === current.id ? 'page' : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main className="settings-main" id="content" tabIndex={-1}>
          <Suspense
            fallback={
              <p className="muted" role="status">
                {t('app.loading')}
              </p>
            }
          >
            <current.Component />
          </Suspense>
        </main>
      </div>
    </div>
  )
}
