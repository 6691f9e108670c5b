import { useState } from 'react'
import { mediaUrl, type Message, type MessageMedia } from '../../api'
import { t } from '../../i18n/pt-BR'
import { formatSize, mapUrl, readContacts, readLocation, readReaction, readReply } from '../../lib/media'
import { formatPhone } from '../../i18n/format'
import { Dialog } from '../Dialog'
import { AudioPlayer } from './AudioPlayer'
import { DocumentIcon, PersonIcon, PinIcon } from './icons'
import './media.css'

/**
 * What a message says, in its bubble: its text, or its media (a player, a thumbnail, a download)
 * with the caption, or the readable form of a location, contact card, reaction or button reply.
 */
export function MessageContent({ m, text }: { m: Message; text: string }) {
  const content = m.content ?? null
  switch (m.type) {
    case 'location':
      return <LocationCard content={content} fallback={text} />
    case 'contacts':
      return <ContactCards content={content} fallback={text} />
    case 'reaction': {
      const emoji = readReaction(content)
      return <span className="bubble-text">{emoji ? t('media.reaction', { emoji }) : t('media.reactionRemoved')}</span>
    }
    case 'interactive':
    case 'button': {
      const reply = readReply(content, text)
      return <span className="bubble-text">{reply ? t('media.reply', { text: reply }) : text}</span>
    }
    case 'unsupported':
      return <span className="bubble-text muted">{text || t('media.unsupported')}</span>
  }
  if (!m.media) return <span className="bubble-text">{text}</span>
  const caption = m.media.caption || text
  return (
    <>
      <MediaBlock media={m.media} failure={m.error?.title} />
      {caption && <span className="bubble-text">{caption}</span>}
    </>
  )
}

function MediaBlock({ media, failure }: { media: MessageMedia; failure?: string }) {
  if (media.status === 'pending') {
    return (
      <span className="media-state small" role="status">
        {kindName(media)} · {t('media.pending')}
      </span>
    )
  }
  if (media.status === 'failed') {
    const reason = media.failure || failure
    return (
      <span className="media-state media-failed small">
        {kindName(media)} · {reason ? t('media.failed', { reason }) : t('media.failedUnknown')}
      </span>
    )
  }
  const src = mediaUrl(media.id)
  switch (media.kind) {
    case 'audio':
      return <AudioPlayer src={src} label={kindName(media)} />
    case 'video':
      return <video className="media-video" src={src} controls preload="metadata" aria-label={media.caption || t('media.video')} />
    case 'image':
      return <ImageThumb src={src} alt={media.caption || media.filename || t('media.image')} />
    case 'sticker':
      return <img className="media-sticker" src={src} alt={t('media.sticker')} loading="lazy" />
    default:
      return <DocumentCard media={media} src={src} />
  }
}

/** A message in a few words, for what screen readers are told: its text, caption, or what it is ("Mensagem de voz"). */
export function messageSummary(m: Message): string {
  const text = m.rendered_text || m.text || m.media?.caption || ''
  if (text) return text
  if (m.media) return kindName(m.media)
  if (m.type === 'location') return t('media.location')
  if (m.type === 'contacts') return t('media.contacts')
  if (m.type === 'reaction') return readReaction(m.content) ? t('media.reaction', { emoji: readReaction(m.content) }) : t('media.reactionRemoved')
  if (m.type === 'interactive' || m.type === 'button') return readReply(m.content)
  return ''
}

function kindName(media: MessageMedia): string {
  if (media.kind === 'audio') return media.voice ? t('media.voice') : t('media.audio')
  return t(`media.${media.kind}` as const)
}

/** A thumbnail that opens the image full size in a dialog (Esc, ×, a click outside close it). */
function ImageThumb({ src, alt }: { src: string; alt: string }) {
  const [open, setOpen] = useState(false)
  return (
    <>
      <button type="button" className="media-thumb" aria-label={`${t('media.openImage')}: ${alt}`} onClick={() => setOpen(true)}>
        <img src={src} alt="" loading="lazy" />
      </button>
      {open && (
        <Dialog title={t('media.imageDialog')} subtitle={alt} variant="wide" onClose={() => setOpen(false)}>
          <div className="dialog-body media-full">
            <img src={src} alt={alt} />
          </div>
        </Dialog>
      )}
    </>
  )
}

function DocumentCard({ media, src }: { media: MessageMedia; src: string }) {
  const name = media.filename || t('media.document')
  const size = formatSize(media.size)
  return (
    <span className="media-doc">
      <span className="media-doc-icon">
        <DocumentIcon size={28} />
      </span>
      <span className="media-doc-text">
        <span className="media-doc-name">{name}</span>
        <span className="small muted">{size}</span>
      </span>
      <a className="button button-ghost" href={src} download={media.filename || true} aria-label={t('media.downloadLabel', { name, size })}>
        {t('media.download')}
      </a>
    </span>
  )
}

function LocationCard({ content, fallback }: { content: unknown; fallback: string }) {
  const loc = readLocation(content)
  if (!loc) return <span className="bubble-text">{fallback || t('media.location')}</span>
  const place = [loc.name, loc.address].filter(Boolean).join(', ') || `${loc.latitude}, ${loc.longitude}`
  return (
    <span className="media-location">
      <span className="bubble-tag">
        <PinIcon size={14} /> {t('media.location')}
      </span>
      {loc.name && <strong>{loc.name}</strong>}
      {loc.address && <span>{loc.address}</span>}
      <a href={mapUrl(loc.latitude, loc.longitude)} target="_blank" rel="noopener noreferrer" aria-label={t('media.openMapLabel', { place })}>
        {t('media.openMap')}
      </a>
    </span>
  )
}

function ContactCards({ content, fallback }: { content: unknown; fallback: string }) {
  const cards = readContacts(content)
  if (cards.length === 0) return <span className="bubble-text">{fallback || t('media.contacts')}</span>
  return (
    <ul className="media-contacts" aria-label={t('media.contacts')}>
      {cards.map((c, i) => (
        <li key={i}>
          <span className="bubble-tag">
            <PersonIcon size={14} /> {t('media.contacts')}
          </span>
          <strong>{c.name}</strong>
          {c.phones.length === 0 && <span className="small muted">{t('media.noPhone')}</span>}
          {c.phones.map((p) => (
            <a key={p} href={`tel:${p.replace(/[^\d+]/g, '')}`}>
              {p.startsWith('+') ? formatPhone(p) : p}
            </a>
          ))}
        </li>
      ))}
    </ul>
  )
}
