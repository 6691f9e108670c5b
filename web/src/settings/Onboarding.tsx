import { useEffect, useState } from 'react'
import { api, type Channel } from '../api'
import { channelsApi } from '../api/channels'
import { t } from '../i18n/pt-BR'
import { problemText } from '../lib/errors'
import { navigate } from '../lib/hooks'
import { useSession } from '../state'
import { dismissOnboarding, onboardingDismissed, requestNewChannelForm } from './onboarding'

interface Props {
  /** The account's channels when the caller has them (the Canais screen); else fetched here. */
  channels?: Channel[]
  /** "Conectar número do WhatsApp"; default: open the channel form on the Canais screen. */
  onConnect?: () => void
  /** After the sandbox channel is ready; default: go to the Canais screen, where it is listed. */
  onSandbox?: () => void
}

/** A number the sandbox channel sends "from": nothing reaches WhatsApp, so any valid number does. */
const SANDBOX_NUMBER = '+55 11 90000-0000'

/**
 * The offer a fresh account's admin sees until a WhatsApp number is connected: connect one, or try
 * the product with the sandbox channel first (created if the account has none).
 */
export function Onboarding({ channels: given, onConnect, onSandbox }: Props) {
  const { user } = useSession()
  const [fetched, setFetched] = useState<Channel[] | null>(null)
  const [hidden, setHidden] = useState(() => onboardingDismissed(user.id))
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const channels = given ?? fetched

  useEffect(() => {
    if (given || hidden || user.role !== 'admin') return
    let live = true
    api.listChannels().then(
      (list) => live && setFetched(list),
      () => {},
    )
    return () => {
      live = false
    }
  }, [given, hidden, user.role])

  if (user.role !== 'admin' || hidden || !channels || channels.some((c) => c.provider === 'whatsapp_cloud')) return null

  const connect = () => {
    if (onConnect) return onConnect()
    requestNewChannelForm()
    navigate({ name: 'settings', section: 'canais' })
  }

  async function sandbox() {
    setBusy(true)
    setError(null)
    try {
      if (!channels?.some((c) => c.provider === 'sandbox')) {
        await channelsApi.createChannel({ name: t('onboarding.sandboxName'), provider: 'sandbox', phone_number: SANDBOX_NUMBER })
      }
      dismissOnboarding(user.id)
      setHidden(true)
      if (onSandbox) onSandbox()
      else navigate({ name: 'settings', section: 'canais' })
    } catch (err) {
      setError(problemText(err))
      setBusy(false)
    }
  }

  return (
    <section className="onboarding" aria-labelledby="onboarding-title">
      <h2 id="onboarding-title">{t('onboarding.title')}</h2>
      <p>{t('onboarding.body')}</p>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      <div className="onboarding-actions">
        <button type="button" className="button button-primary" onClick={connect}>
          {t('onboarding.connect')}
        </button>
        <button type="button" className="button" onClick={sandbox} disabled={busy}>
          {t('onboarding.sandbox')}
        </button>
        <button
          type="button"
          className="link-button"
          onClick={() => {
            dismissOnboarding(user.id)
            setHidden(true)
          }}
        >
          {t('onboarding.dismiss')}
        </button>
      </div>
    </section>
  )
}
