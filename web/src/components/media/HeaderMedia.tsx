import { useEffect, useId, useRef, useState } from 'react'
import { mediaUrl, type HeaderMedia, type MediaKind, type Template } from '../../api'
import { errorText, t } from '../../i18n/pt-BR'
import { formatSize } from '../../lib/media'
import { Field } from '../Field'
import { AttachmentPreview, useAttachment } from './Attachments'
import { DocumentIcon, ImageIcon, VideoIcon } from './icons'
import './media.css'

/** The media formats a template's header may have. */
export type HeaderFormat = 'IMAGE' | 'VIDEO' | 'DOCUMENT'

/** What the agent chose for the header: an uploaded file, or a link. Kept by the dialog across steps. */
export interface HeaderMediaValue {
  media_id?: string
  link?: string
  filename?: string
  size?: number
  kind?: MediaKind
  /** A data: URL of an uploaded image, for the preview. */
  preview?: string
}

/** The template's header media format, or null when its header is text or absent. */
export function headerFormat(template: Template | null | undefined): HeaderFormat | null {
  const f = template?.components.find((c) => c.type === 'HEADER')?.format?.toUpperCase()
  return f === 'IMAGE' || f === 'VIDEO' || f === 'DOCUMENT' ? f : null
}

/** What the file chooser offers for each format (the server still judges the bytes). */
const ACCEPT: Record<HeaderFormat, string> = {
  IMAGE: 'image/jpeg,image/png',
  VIDEO: 'video/mp4,video/3gpp',
  DOCUMENT: '.pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.txt,application/pdf',
}

/** A link Meta can fetch: https only. */
export const validLink = (link: string) => /^https:\/\/[^\s/]+\.[^\s]+$/i.test(link.trim())

/**
 * The body's `header_media` for what was chosen, or the code of what is wrong: `header_media_missing`
 * (nothing, or an upload not finished), `header_media_link_invalid` (a link that is not https).
 */
export function toHeaderMedia(v: HeaderMediaValue | null | undefined): HeaderMedia | 'header_media_missing' | 'header_media_link_invalid' {
  if (v?.media_id) return { media_id: v.media_id }
  if (v?.link?.trim()) return validLink(v.link) ? { link: v.link.trim() } : 'header_media_link_invalid'
  return 'header_media_missing'
}

interface Props {
  format: HeaderFormat
  value: HeaderMediaValue | null
  onChange: (v: HeaderMediaValue | null) => void
  error?: string
}

/** "Cabeçalho do modelo": upload a file (with progress) or give a public link. */
export function HeaderMediaField({ format, value, onChange, error }: Props) {
  const ids = useId()
  const [source, setSource] = useState<'upload' | 'link'>(value?.link !== undefined ? 'link' : 'upload')
  const a = useAttachment()
  const input = useRef<HTMLInputElement>(null)
  const changed = useRef(onChange)
  useEffect(() => {
    changed.current = onChange
  })

  // A finished upload becomes the value; a new choice of file clears the old one until it is up.
  const up = a.attachment?.uploaded
  const preview = a.attachment?.preview
  useEffect(() => {
    if (up) changed.current({ media_id: up.id, filename: up.filename, size: up.size, kind: up.kind, preview })
  }, [up, preview])

  const choose = (s: 'upload' | 'link') => {
    setSource(s)
    a.clear()
    onChange(s === 'link' ? { link: '' } : null)
  }
  const errorId = `${ids}-error`
  return (
    <section className="header-media" aria-labelledby={`${ids}-h`}>
      <h4 id={`${ids}-h`} className="visually-hidden">
        {t('headerMedia.heading')}
      </h4>
      <p className="muted small">{t(`headerMedia.hint.${format}` as const)}</p>
      <fieldset>
        <legend>{t('headerMedia.source')}</legend>
        <label>
          <input type="radio" name={`${ids}-source`} checked={source === 'upload'} onChange={() => choose('upload')} /> {t('headerMedia.upload')}
        </label>
        <label>
          <input type="radio" name={`${ids}-source`} checked={source === 'link'} onChange={() => choose('link')} /> {t('headerMedia.link')}
        </label>
      </fieldset>
      {source === 'upload' ? (
        <div className={`field${error ? ' field-invalid' : ''}`}>
          <div>
            <button
              type="button"
              className="button"
              aria-describedby={error ? errorId : undefined}
              onClick={() => input.current?.click()}
            >
              {t('headerMedia.choose')}
            </button>
            <input
              ref={input}
              type="file"
              className="visually-hidden"
              tabIndex={-1}
              aria-hidden="true"
              aria-label={t('headerMedia.choose')}
              accept={ACCEPT[format]}
              onChange={(e) => {
                onChange(null)
                a.attach(e.target.files)
                e.target.value = ''
              }}
            />
          </div>
          {a.attachment ? (
            <AttachmentPreview a={a} />
          ) : (
            value?.media_id && (
              <p className="small">
                {value.filename} {value.size ? `· ${formatSize(value.size)}` : ''} · {t('attach.uploaded')}
              </p>
            )
          )}
          {error && (
            <p id={errorId} className="field-error" role="alert">
              {error}
            </p>
          )}
        </div>
      ) : (
        <Field
          label={t('headerMedia.linkLabel')}
          type="url"
          inputMode="url"
          autoComplete="off"
          placeholder="https://"
          value={value?.link ?? ''}
          error={error}
          onChange={(e) => onChange({ link: e.target.value })}
        />
      )}
    </section>
  )
}

/** The header in the preview bubble: the image, the video's first frame, or the document's name. */
export function HeaderMediaPreview({ format, value }: { format: HeaderFormat; value: HeaderMediaValue | null }) {
  const linkName = value?.link ? decodeURIComponent(value.link.split(/[?#]/)[0].split('/').pop() || value.link) : ''
  if (!value?.media_id) {
    // A link's file lives elsewhere (the page loads nothing from other sites): name it.
    return (
      <span className="bubble-media bubble-tag">
        {format === 'DOCUMENT' ? <DocumentIcon size={14} /> : format === 'VIDEO' ? <VideoIcon size={14} /> : <ImageIcon size={14} />}{' '}
        {value?.link ? t('headerMedia.previewLink', { url: linkName }) : t(`media.${format.toLowerCase() as 'image' | 'video' | 'document'}`)}
      </span>
    )
  }
  if (format === 'IMAGE') {
    return (
      <span className="bubble-media">
        <img src={value.preview || mediaUrl(value.media_id)} alt={value.filename || t('media.image')} />
      </span>
    )
  }
  if (format === 'VIDEO') {
    return (
      <span className="bubble-media">
        <video src={mediaUrl(value.media_id)} preload="metadata" muted aria-label={value.filename || t('media.video')} />
      </span>
    )
  }
  return (
    <span className="bubble-media bubble-header">
      <DocumentIcon size={16} /> {value.filename || t('media.document')}
    </span>
  )
}

/**
 * What a start or a template send puts in its body for the header, or the error to show at the
 * header's field: `{}` for a template without a media header.
 */
export function headerMediaPart(template: Template, v: HeaderMediaValue | null): { header_media?: HeaderMedia; error?: string } {
  if (!headerFormat(template)) return {}
  const h = toHeaderMedia(v)
  if (h === 'header_media_link_invalid') return { error: t('headerMedia.linkInvalid') }
  if (h === 'header_media_missing') return { error: errorText('header_media_missing') }
  return { header_media: h }
}
