import { useCallback, useEffect, useId, useRef, useState, type ClipboardEvent, type DragEvent } from 'react'
import { api, ApiError, type Id, type MediaKind, type Message, type UploadedMedia } from '../../api'
import { t } from '../../i18n/pt-BR'
import { fieldErrorText, problemText } from '../../lib/errors'
import { formatSize, guessKind } from '../../lib/media'
import { DocumentIcon, MicIcon, PaperclipIcon, VideoIcon } from './icons'
import './media.css'

/** Images up to this size are previewed from the file itself (a data: URL: the page's CSP allows no blob:). */
const PREVIEW_MAX_BYTES = 5_000_000

/** A file attached in the composer: uploading as soon as it is chosen, so sending only waits for the rest. */
export interface Attachment {
  file: File
  kind: MediaKind
  /** A data: URL of an image to show while it uploads ('' for other kinds). */
  preview: string
  /** 0…1 of the upload sent. */
  progress: number
  uploaded: UploadedMedia | null
  /** Why the upload failed (pt-BR), '' while it is fine. */
  error: string
}

export type AttachmentState = ReturnType<typeof useAttachment>

/**
 * One attachment of the composer: attached by the button, a drop or a paste; uploaded at once to
 * POST /media with its progress; removed (aborting the upload) or cleared once sent.
 */
export function useAttachment() {
  const [attachment, setAttachment] = useState<Attachment | null>(null)
  const [note, setNote] = useState('')
  const [dragging, setDragging] = useState(false)
  const job = useRef<{ ac: AbortController; done: Promise<UploadedMedia> } | null>(null)

  const clear = useCallback(() => {
    job.current?.ac.abort()
    job.current = null
    setAttachment(null)
    setNote('')
  }, [])
  useEffect(() => () => job.current?.ac.abort(), [])

  const attach = useCallback((files: FileList | File[] | null) => {
    const list = Array.from(files ?? [])
    if (list.length === 0) return
    // One file per message, as WhatsApp sends them: the first is kept and the agent told.
    setNote(list.length > 1 ? t('attach.one') : '')
    const file = list[0]
    job.current?.ac.abort()
    const ac = new AbortController()
    const update = (patch: Partial<Attachment>) => setAttachment((a) => (a && a.file === file ? { ...a, ...patch } : a))
    setAttachment({ file, kind: guessKind(file), preview: '', progress: 0, uploaded: null, error: '' })
    if (file.type.startsWith('image/') && file.size <= PREVIEW_MAX_BYTES && typeof FileReader !== 'undefined') {
      const reader = new FileReader()
      reader.onload = () => typeof reader.result === 'string' && !ac.signal.aborted && update({ preview: reader.result })
      reader.readAsDataURL(file)
    }
    const done = api.uploadMedia(file, { signal: ac.signal, onProgress: (sent, total) => update({ progress: total ? sent / total : 0 }) })
    job.current = { ac, done }
    done.then(
      (uploaded) => update({ uploaded, kind: uploaded.kind, progress: 1 }),
      (err) => {
        if (!ac.signal.aborted) update({ error: problemText(err) })
      },
    )
  }, [])

  /** The stored media, once the upload has finished (rejects as the upload did). */
  const ready = useCallback((): Promise<UploadedMedia> => job.current?.done ?? Promise.reject(new Error('nothing attached')), [])

  // Drag-and-drop onto the whole composer; only drags that carry files are taken.
  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files')
  const dropProps = {
    onDragEnter: (e: DragEvent) => {
      if (!hasFiles(e)) return
      e.preventDefault()
      setDragging(true)
    },
    onDragOver: (e: DragEvent) => {
      if (!hasFiles(e)) return
      e.preventDefault()
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'
    },
    onDragLeave: (e: DragEvent) => {
      // Leaving for a child of the composer is not leaving the composer.
      if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false)
    },
    onDrop: (e: DragEvent) => {
      setDragging(false)
      if (!e.dataTransfer?.files?.length) return
      e.preventDefault()
      attach(e.dataTransfer.files)
    },
  }
  /** A pasted image or file is attached; pasted text stays ordinary typing. */
  const onPaste = (e: ClipboardEvent) => {
    const files = e.clipboardData?.files
    if (!files?.length) return
    e.preventDefault()
    attach(files)
  }

  return { attachment, note, dragging, attach, clear, ready, dropProps, onPaste }
}

/**
 * Sends the attachment with the text as its caption (POST /conversations/{id}/messages
 * `{media_id, caption}`). WhatsApp shows no caption on audio or stickers: there the text follows
 * as a message of its own. Clears the attachment once the media message exists.
 */
export async function sendAttachment(conversationId: Id, a: AttachmentState, text: string): Promise<Message[]> {
  const media = await a.ready()
  const captioned = media.kind !== 'audio' && media.kind !== 'sticker'
  const first = await api.postMessage(conversationId, captioned && text ? { media_id: media.id, caption: text } : { media_id: media.id })
  a.clear()
  if (captioned || !text) return [first]
  return [first, await api.postMessage(conversationId, { text })]
}

/** What a failed send says: the field errors themselves (a caption too long, a file not ready), else the problem. */
export function sendErrorText(err: unknown): string {
  if (err instanceof ApiError && err.fieldErrors.length) return err.fieldErrors.map(fieldErrorText).join(' ')
  return problemText(err)
}

/** Whether the composer may send: something typed or attached, and no upload that failed. */
export function canSend(a: AttachmentState, text: string): boolean {
  if (a.attachment?.error) return false
  return !!text.trim() || !!a.attachment
}

/** The paperclip button with its hidden file input. */
export function AttachButton({ a, label = t('attach.button'), disabled }: { a: AttachmentState; label?: string; disabled?: boolean }) {
  const input = useRef<HTMLInputElement>(null)
  return (
    <>
      <button type="button" className="button button-ghost attach-button" aria-label={label} title={label} disabled={disabled} onClick={() => input.current?.click()}>
        <PaperclipIcon />
      </button>
      <input
        ref={input}
        type="file"
        className="visually-hidden"
        tabIndex={-1}
        aria-hidden="true"
        aria-label={label}
        onChange={(e) => {
          a.attach(e.target.files)
          e.target.value = '' // the same file chosen again is a new choice
        }}
      />
    </>
  )
}

/** The attached file: a thumbnail or its name and size, the upload's progress, its error, and "Remover". */
export function AttachmentPreview({ a }: { a: AttachmentState }) {
  const id = useId()
  const { attachment: at, note } = a
  if (!at) return note ? <p className="small muted attach-note">{note}</p> : null
  const percent = Math.round(at.progress * 100)
  return (
    <div className="attachment" role="group" aria-label={t('attach.preview')}>
      {at.preview ? (
        <img className="attachment-thumb" src={at.preview} alt="" />
      ) : (
        <span className="attachment-icon">{at.kind === 'audio' ? <MicIcon size={28} /> : at.kind === 'video' ? <VideoIcon size={28} /> : <DocumentIcon size={28} />}</span>
      )}
      <span className="attachment-text">
        <span className="attachment-name">{at.file.name}</span>
        <span className="small muted">{formatSize(at.file.size)}</span>
        {!at.error &&
          (at.uploaded ? (
            <span className="small attachment-ready">{t('attach.uploaded')}</span>
          ) : (
            <>
              <progress id={id} max={100} value={percent} aria-label={t('attach.progress', { name: at.file.name })} />
              <span className="small muted">{t('attach.uploading', { percent })}</span>
            </>
          ))}
        {at.error && (
          <span className="field-error" role="alert">
            {t('attach.failedUpload', { reason: at.error })}
          </span>
        )}
        {note && <span className="small muted">{note}</span>}
      </span>
      <button type="button" className="link-button" aria-label={t('attach.removeLabel', { name: at.file.name })} onClick={a.clear}>
        {t('attach.remove')}
      </button>
    </div>
  )
}

/** "Solte o arquivo para anexar", over the composer while a file is dragged over it. */
export function DropHint({ a }: { a: AttachmentState }) {
  return a.dragging ? (
    <div className="drop-hint" aria-hidden="true">
      {t('attach.drop')}
    </div>
  ) : null
}
