import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type ReactNode } from 'react'
import { t } from '../i18n/pt-BR'
import { useBackCloses } from '../lib/hooks'

interface Props {
  title: string
  onClose: () => void
  children: ReactNode
  /** "side" slides in from the left as the seed's lateral search bar; "wide" fits the wizard. */
  variant?: 'center' | 'wide' | 'side'
  /** Extra line under the title (e.g. the step counter). */
  subtitle?: string
  /**
   * Something typed would be lost: Escape, a click outside, × and the browser's Back ask before
   * closing, and a reload or closing the tab makes the browser ask (beforeunload). Buttons of
   * the dialog's own (Cancelar, a submit) close without asking.
   */
  dirty?: boolean
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex="0"]'

/**
 * A modal panel: labelled by its title, closes on Escape, a click outside or the browser's Back
 * (asking first when `dirty`), keeps keyboard focus inside.
 */
export function Dialog({ title, onClose, children, variant = 'center', subtitle, dirty = false }: Props) {
  const titleId = useId()
  const ref = useRef<HTMLDivElement>(null)
  const confirmRef = useRef<HTMLDivElement>(null)
  const closeRef = useRef(onClose)
  const dirtyRef = useRef(dirty)
  const [confirming, setConfirming] = useState(false)
  const confirmingRef = useRef(confirming)
  // Before paint, not after: a Back or Escape right after typing must already see `dirty`.
  useLayoutEffect(() => {
    closeRef.current = onClose
    dirtyRef.current = dirty
    confirmingRef.current = confirming
  })

  /** Every way out that is not the dialog's own button: asks when something would be lost. */
  const requestClose = useCallback(() => {
    if (dirtyRef.current) setConfirming(true)
    else closeRef.current()
  }, [])
  useBackCloses(requestClose)

  // A reload, a closed tab or a typed address would lose what was typed too: the browser asks.
  useEffect(() => {
    if (!dirty) return
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault()
      e.returnValue = '' // older browsers ask only when it is set
    }
    window.addEventListener('beforeunload', onBeforeUnload)
    return () => window.removeEventListener('beforeunload', onBeforeUnload)
  }, [dirty])

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null
    const el = ref.current
    const first = el?.querySelector<HTMLElement>('[autofocus], input, select, textarea, button:not(.dialog-close)')
    ;(first ?? el)?.focus()
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation()
        if (confirmingRef.current) setConfirming(false)
        else requestClose()
      } else if (e.key === 'Tab' && el) {
        // While asking, Tab stays within the question.
        const scope = confirmRef.current ?? el
        const items = Array.from(scope.querySelectorAll<HTMLElement>(FOCUSABLE))
        if (items.length === 0) return
        const [a, z] = [items[0], items[items.length - 1]]
        if (!scope.contains(document.activeElement)) {
          e.preventDefault()
          a.focus()
        } else if (e.shiftKey && document.activeElement === a) {
          e.preventDefault()
          z.focus()
        } else if (!e.shiftKey && document.activeElement === z) {
          e.preventDefault()
          a.focus()
        }
      }
    }
    el?.addEventListener('keydown', onKey)
    return () => {
      el?.removeEventListener('keydown', onKey)
      previous?.focus?.()
    }
  }, [requestClose])

  // While the question is open, the form behind it cannot be reached; afterwards focus returns
  // to where it was (or to the dialog).
  useEffect(() => {
    const el = ref.current
    if (!el || !confirming) return
    const before = document.activeElement as HTMLElement | null
    const others = Array.from(el.children).filter((c) => c !== confirmRef.current)
    others.forEach((c) => c.setAttribute('inert', ''))
    el.scrollTop = 0
    confirmRef.current?.querySelector<HTMLElement>('.confirm-keep')?.focus()
    return () => {
      others.forEach((c) => c.removeAttribute('inert'))
      if (before && el.contains(before) && !before.closest('[inert]')) before.focus()
      else el.focus()
    }
  }, [confirming])

  return (
    <div className={`overlay overlay-${variant}`} onMouseDown={(e) => e.target === e.currentTarget && requestClose()}>
      <div ref={ref} className={`dialog dialog-${variant}`} role="dialog" aria-modal="true" aria-labelledby={titleId} tabIndex={-1}>
        <div className="dialog-head">
          <div>
            <h2 id={titleId}>{title}</h2>
            {subtitle && <p className="muted small">{subtitle}</p>}
          </div>
          <button type="button" className="icon-button dialog-close" onClick={requestClose} aria-label={t('common.close')}>
            ×
          </button>
        </div>
        {children}
        {confirming && (
          <div className="dialog-confirm-layer" ref={confirmRef}>
            <ConfirmBox
              message={t('dialog.discardQuestion')}
              confirmLabel={t('dialog.discard')}
              cancelLabel={t('dialog.keepEditing')}
              onConfirm={() => {
                setConfirming(false)
                closeRef.current()
              }}
              onCancel={() => setConfirming(false)}
            />
          </div>
        )}
      </div>
    </div>
  )
}

interface ConfirmBoxProps {
  message: string
  detail?: string
  confirmLabel: string
  cancelLabel: string
  onConfirm: () => void
  onCancel: () => void
  busy?: boolean
}

/** The question itself: an alertdialog whose safe answer ("keep") has focus first. */
export function ConfirmBox({ message, detail, confirmLabel, cancelLabel, onConfirm, onCancel, busy }: ConfirmBoxProps) {
  const id = useId()
  return (
    <div className="confirm-box" role="alertdialog" aria-modal="true" aria-labelledby={`${id}-q`} aria-describedby={detail ? `${id}-d` : undefined}>
      <p id={`${id}-q`} className="confirm-question">
        {message}
      </p>
      {detail && (
        <p id={`${id}-d`} className="muted small">
          {detail}
        </p>
      )}
      <div className="confirm-buttons">
        <button type="button" className="button confirm-keep" onClick={onCancel}>
          {cancelLabel}
        </button>
        <button type="button" className="button button-danger" onClick={onConfirm} disabled={busy}>
          {confirmLabel}
        </button>
      </div>
    </div>
  )
}

interface ConfirmDialogProps extends ConfirmBoxProps {
  /** Where focus goes back to when the question closes (the button that asked it). */
  returnFocus?: () => void
}

/**
 * A question over the whole screen ("Encerrar o atendimento com João?"): focus starts on the safe
 * answer, Escape and a click outside are that answer, and focus goes back where it came from.
 */
export function ConfirmDialog({ returnFocus, ...box }: ConfirmDialogProps) {
  const ref = useRef<HTMLDivElement>(null)
  const cancel = useRef(box.onCancel)
  const giveBack = useRef(returnFocus)
  useEffect(() => {
    cancel.current = box.onCancel
    giveBack.current = returnFocus
  })
  useBackCloses(() => cancel.current())
  useEffect(() => {
    const el = ref.current
    const previous = document.activeElement as HTMLElement | null
    el?.querySelector<HTMLElement>('.confirm-keep')?.focus()
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation()
        cancel.current()
      } else if (e.key === 'Tab' && el) {
        const items = Array.from(el.querySelectorAll<HTMLElement>(FOCUSABLE))
        const i = items.indexOf(document.activeElement as HTMLElement)
        e.preventDefault()
        items[(i + (e.shiftKey ? -1 : 1) + items.length) % items.length]?.focus()
      }
    }
    el?.addEventListener('keydown', onKey)
    return () => {
      el?.removeEventListener('keydown', onKey)
      if (giveBack.current) giveBack.current()
      else previous?.focus?.()
    }
  }, [])
  return (
    <div className="overlay overlay-center" ref={ref} onMouseDown={(e) => e.target === e.currentTarget && cancel.current()}>
      <ConfirmBox {...box} />
    </div>
  )
}
