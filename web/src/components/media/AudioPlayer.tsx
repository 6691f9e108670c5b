import { useEffect, useRef, useState } from 'react'
import { t } from '../../i18n/pt-BR'
import { formatDuration, nextSpeed, speedLabel } from '../../lib/media'
import './media.css'

interface Props {
  src: string
  /** The player's accessible name ("Mensagem de voz", "Áudio"). */
  label: string
}

/**
 * A voice note or audio in place: the browser's own controls (play, seek, volume, all reachable by
 * keyboard), its length beside it, and a speed toggle 1× → 1,5× → 2× as WhatsApp has.
 */
export function AudioPlayer({ src, label }: Props) {
  const ref = useRef<HTMLAudioElement>(null)
  const [rate, setRate] = useState(1)
  const [duration, setDuration] = useState(Number.NaN)
  const probing = useRef(false)

  // Loading a source resets playbackRate to defaultPlaybackRate: set both, so the choice holds.
  useEffect(() => {
    const el = ref.current
    if (!el) return
    el.defaultPlaybackRate = rate
    el.playbackRate = rate
  }, [rate])

  const readDuration = (el: HTMLAudioElement) => {
    if (Number.isFinite(el.duration)) {
      setDuration(el.duration)
      if (probing.current) {
        probing.current = false
        el.currentTime = 0
      }
    } else if (el.duration === Infinity && !probing.current) {
      // Some recordings carry no length in their header: seeking past the end makes the browser find it.
      probing.current = true
      el.currentTime = Number.MAX_SAFE_INTEGER
    }
  }

  const length = formatDuration(duration)
  return (
    <div className="audio-player">
      <audio
        ref={ref}
        src={src}
        controls
        preload="metadata"
        aria-label={label}
        onLoadedMetadata={(e) => readDuration(e.currentTarget)}
        onDurationChange={(e) => readDuration(e.currentTarget)}
      />
      <button
        type="button"
        className="button button-ghost speed-toggle"
        aria-label={t('media.speed', { speed: speedLabel(rate) })}
        onClick={() => setRate(nextSpeed)}
      >
        {speedLabel(rate)}
      </button>
      {length && (
        <span className="audio-duration small">
          <span className="visually-hidden">{t('media.duration')} </span>
          {length}
        </span>
      )}
    </div>
  )
}
