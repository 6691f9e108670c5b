import { useId, useState } from 'react'
import { t } from '../i18n/pt-BR'
import { askNotificationPermission, notificationPermission, playTone, useAlertPrefs } from '../lib/alerts'

/**
 * The two switches of the agent's alerts (kept in this browser): a sound, and a browser
 * notification, which asks the browser's permission when turned on.
 */
export function AlertSwitches() {
  const id = useId()
  const [prefs, setPrefs] = useAlertPrefs()
  const [permission, setPermission] = useState(notificationPermission)

  async function toggleNotify(on: boolean) {
    if (!on) return setPrefs({ notify: false })
    const p = await askNotificationPermission()
    setPermission(p)
    setPrefs({ notify: p === 'granted' })
  }

  return (
    <fieldset className="alert-switches">
      <legend className="small">{t('alerts.legend')}</legend>
      <label className="switch" htmlFor={`${id}-sound`}>
        <input
          id={`${id}-sound`}
          type="checkbox"
          role="switch"
          checked={prefs.sound}
          onChange={(e) => {
            setPrefs({ sound: e.target.checked })
            if (e.target.checked) playTone() // a sample, and the click unlocks audio in the browser
          }}
        />
        {t('alerts.sound')}
      </label>
      <label className="switch" htmlFor={`${id}-notify`}>
        <input
          id={`${id}-notify`}
          type="checkbox"
          role="switch"
          checked={prefs.notify && permission === 'granted'}
          disabled={permission === 'unsupported' || permission === 'denied'}
          aria-describedby={permission === 'denied' || permission === 'unsupported' ? `${id}-why` : undefined}
          onChange={(e) => void toggleNotify(e.target.checked)}
        />
        {t('alerts.notify')}
      </label>
      {(permission === 'denied' || permission === 'unsupported') && (
        <p id={`${id}-why`} className="muted small">
          {permission === 'denied' ? t('alerts.denied') : t('alerts.unsupported')}
        </p>
      )}
    </fieldset>
  )
}
