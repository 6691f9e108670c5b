import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react'
import { api, ApiError, type Conversation, type Message } from '../api'
import { formatDateTime, formatPhone, formatRemaining, formatTime } from '../i18n/format'
import { useAccountZone } from '../i18n/zone'
import { errorText, t } from '../i18n/pt-BR'
import { problemText } from '../lib/errors'
import { fresher, fresherMessage, mergeFetched } from '../lib/fresh'
import { arrangeMessages, byTime, type HistoryItem } from '../lib/history'
import { useNow } from '../lib/hooks'
import { useDirectory, useLiveEvents, useSession } from '../state'
import { initials } from '../lib/text'
import { Composer } from './Composer'
import { ContactConsent } from './ContactConsent'
import { ContactPanel } from './ContactPanel'
import { CloseDialog, TransferDialog } from './DeskDialogs'
import { ConfirmDialog } from './Dialog'
import { TemplateSendDialog } from './TemplateSendDialog'
import { AttachButton, AttachmentPreview, canSend, useAttachment } from './media/Attachments'
import { MessageContent, messageSummary } from './media/MessageMedia'

/** What a screen reader hears about a change of one message (nothing for most changes). */
function announcement(before: Message | undefined, after: Message, contactName: string): string {
  const text = shorten(messageSummary(after))
  if (!before) return after.direction === 'in' ? t('conversation.announceInbound', { name: contactName, text }) : ''
  if (before.status === after.status) return ''
  if (before.status === 'queued') return t('conversation.announceReleased', { name: contactName })
  if (after.status === 'delivered' || after.status === 'read' || after.status === 'failed') {
    return t('conversation.announceStatus', { text, status: t(`message.status.${after.status}` as const) })
  }
  return ''
}

/** Adds or updates a message, keeping the newer copy when an older one arrives late. */
function upsertMessage(list: Message[], m: Message): Message[] {
  const i = list.findIndex((x) => x.id === m.id)
  if (i === -1) return [...list, m].sort(byTime)
  const keep = fresherMessage(list[i], m)
  if (keep === list[i]) return list
  const next = [...list]
  next[i] = keep
  return next
}

/** Whether free text can go out now: only inside an open 24 h window. */
function windowOpen(c: Conversation, now: number): boolean {
  if (!c.window?.open) return false
  return !c.window.expires_at || Date.parse(c.window.expires_at) > now
}

interface Props {
  id: string
  /** Tells the list about changes made here (close, cancel, fresh loads). */
  onChanged: (c: Conversation) => void
  /** Just opened by a flow (a start): the heading takes focus once loaded, then `onFocused`. */
  autoFocus?: boolean
  onFocused?: () => void
}

type Pending = 'close' | 'cancel' | 'transfer' | null

const OPEN_STATUSES = ['scheduled', 'waiting', 'active']

/** "Conversa": header, state banner, messages with their status, and the composer. */
export function ConversationView({ id, onChanged, autoFocus, onFocused }: Props) {
  const { user } = useSession()
  const { channelName, teamName, userName, channels } = useDirectory()
  const now = useNow(15_000)
  const [conv, setConv] = useState<Conversation | null>(null)
  const [messages, setMessages] = useState<Message[]>([])
  const [loadError, setLoadError] = useState('')
  const [actionError, setActionError] = useState('')
  const [templateOpen, setTemplateOpen] = useState(false)
  const [confirm, setConfirm] = useState<Pending>(null)
  const [busy, setBusy] = useState(false)
  const [live, setLive] = useState('')
  const [showContact, setShowContact] = useState(false)
  const scrollRef = useRef<HTMLDivElement>(null)
  const headingRef = useRef<HTMLHeadingElement>(null)
  const messagesRef = useRef(messages)
  const convRef = useRef(conv)
  useEffect(() => {
    messagesRef.current = messages
    convRef.current = conv
  })
  const changed = useRef(onChanged)
  useEffect(() => {
    changed.current = onChanged
  }, [onChanged])

  const load = useCallback(
    () =>
      Promise.all([api.getConversation(id), api.listMessages(id)]).then(
        ([c, m]) => {
          // Events may have overtaken this answer while it was on its way: keep the newer copies.
          setConv((cur) => fresher(cur, c))
          setMessages((cur) => mergeFetched(cur, m).sort(byTime))
          setLoadError('')
          changed.current(c)
        },
        (err) => setLoadError(err instanceof ApiError && err.status === 404 ? t('conversation.loadError') : problemText(err)),
      ),
    [id],
  )

  useEffect(() => {
    void load()
  }, [load])

  useLiveEvents(
    (e) => {
      if (e.type === 'message.created' || e.type === 'message.updated') {
        if (e.data.conversation_id !== id) return
        const before = messagesRef.current.find((x) => x.id === e.data.id)
        const next = upsertMessage(messagesRef.current, e.data)
        // Only a change that made it in (not an older copy arriving late) is announced.
        if (next !== messagesRef.current && next.includes(e.data)) {
          const c = convRef.current
          const said = announcement(before, e.data, c?.contact?.name || formatPhone(c?.contact?.phone ?? ''))
          if (said) setLive(said)
        }
        setMessages((list) => upsertMessage(list, e.data))
      } else if (e.type !== 'template.updated' && e.data.id === id) {
        setConv((cur) => fresher(cur, e.data))
      }
    },
    () => void load(),
  )

  const loaded = conv !== null
  useEffect(() => {
    const el = scrollRef.current
    if (el) el.scrollTop = el.scrollHeight
  }, [messages.length, loaded])

  const focused = useRef(onFocused)
  useEffect(() => {
    focused.current = onFocused
  })
  useEffect(() => {
    if (!autoFocus || !loaded) return
    headingRef.current?.focus()
    focused.current?.()
  }, [autoFocus, loaded])

  if (loadError) {
    return (
      <div className="conversation">
        <a className="back-link" href="#/atendimentos">
          ← {t('conversation.back')}
        </a>
        <p className="alert alert-error" role="alert">
          {loadError}
        </p>
      </div>
    )
  }
  if (!conv) {
    return (
      <p className="muted pad" role="status">
        {t('common.loading')}
      </p>
    )
  }

  const act = async (fn: () => Promise<Conversation>) => {
    setActionError('')
    setBusy(true)
    try {
      const c = await fn()
      setConv((cur) => fresher(cur, c))
      onChanged(c)
    } catch (err) {
      if (err instanceof ApiError && err.code === 'conversation_already_assigned') {
        // Someone took it meanwhile: say who, and show the conversation as it is now.
        const who = err.problem.assignee_name || userName(err.problem.assignee_id)
        setActionError(t('desk.alreadyAssigned', { name: who }))
        void load()
      } else {
        setActionError(problemText(err))
      }
    } finally {
      setBusy(false)
      setConfirm(null)
    }
  }
  const done = (c: Conversation) => {
    setConv((cur) => fresher(cur, c))
    onChanged(c)
    setConfirm(null)
    returnFocus()
  }

  const withdraw = async (m: Message) => {
    setActionError('')
    try {
      await api.withdrawMessage(conv.id, m.id)
      setMessages((list) => list.filter((x) => x.id !== m.id))
    } catch (err) {
      setActionError(problemText(err))
      void load()
    }
  }

  // Back to the button that asked, or to the heading once the button is gone (closed, cancelled).
  const returnFocus = () =>
    requestAnimationFrame(() => {
      const button = document.querySelector<HTMLElement>('.conversation-head .button')
      ;(button ?? headingRef.current)?.focus()
    })

  const open = windowOpen(conv, now)
  const isOpen = OPEN_STATUSES.includes(conv.status)
  const mine = conv.assignee_id === user.id
  const canTake = isOpen && !mine && (!conv.assignee_id || user.role === 'admin')
  const canTransfer = isOpen && (mine || !conv.assignee_id || user.role === 'admin')
  const canReopen = conv.status === 'closed' && open
  const closedForGood = conv.status === 'closed' || conv.status === 'cancelled' || conv.status === 'failed'
  const needsTemplate = conv.status === 'active' && !open
  const failedOpening = messages.find((m) => m.direction === 'out' && m.status === 'failed' && m.error)
  const contactName = conv.contact?.name || formatPhone(conv.contact?.phone ?? '')
  const { history, queue } = arrangeMessages(messages)

  return (
    <div className="conversation">
      <header className="conversation-head">
        <a className="back-link" href="#/atendimentos" aria-label={t('conversation.back')}>
          ←
        </a>
        <span className="avatar" aria-hidden="true">
          {initials(conv.contact?.name ?? '')}
        </span>
        <div className="conversation-title">
          <h2 ref={headingRef} tabIndex={-1}>
            {contactName}
          </h2>
          <p className="muted small">
            {formatPhone(conv.contact?.phone ?? '')} ·{' '}
            {t('conversation.channelTeam', { channel: channelName(conv.channel_id), team: teamName(conv.team_id) })}
          </p>
          <p className="muted small assignee-line">
            {conv.assignee_id
              ? t('conversation.assignee', { name: mine ? t('row.assignee.me') : conv.assignee_name || userName(conv.assignee_id) })
              : t('conversation.unassigned')}
            {conv.status === 'closed' && conv.closed_reason ? ` · ${t('row.closedReason', { reason: conv.closed_reason })}` : ''}
          </p>
        </div>
        <span className={`badge status-${conv.status}`}>{t(`status.${conv.status}` as const)}</span>
        <div className="conversation-actions">
          {canTake && (
            <button
              type="button"
              className="button button-primary"
              disabled={busy}
              onClick={() => act(() => api.assignConversation(conv.id, user.id, user.role === 'admin' && !!conv.assignee_id))}
            >
              {t('conversation.take')}
            </button>
          )}
          {canTransfer && (
            <button type="button" className="button button-ghost" onClick={() => setConfirm('transfer')}>
              {t('conversation.transfer')}
            </button>
          )}
          {conv.status === 'scheduled' && (
            <button type="button" className="button button-ghost" onClick={() => setConfirm('cancel')}>
              {t('conversation.cancelSchedule')}
            </button>
          )}
          {(conv.status === 'waiting' || conv.status === 'active') && (
            <button type="button" className="button button-ghost" onClick={() => setConfirm('close')}>
              {t('conversation.close')}
            </button>
          )}
          {canReopen && (
            <button type="button" className="button button-ghost" disabled={busy} onClick={() => act(() => api.reopenConversation(conv.id))}>
              {t('conversation.reopen')}
            </button>
          )}
          <button
            type="button"
            className="button button-ghost"
            aria-expanded={showContact}
            aria-controls={`contact-panel-${conv.id}`}
            onClick={() => setShowContact((v) => !v)}
          >
            {t('conversation.contactPanel')}
          </button>
        </div>
      </header>
      {showContact && conv.contact && (
        <div id={`contact-panel-${conv.id}`}>
          <ContactPanel
            contact={conv.contact}
            currentId={conv.id}
            onChange={(contact) => setConv((cur) => (cur ? { ...cur, contact } : cur))}
          />
        </div>
      )}
      {conv.contact && (
        <section className="conversation-consent" aria-label={t('conversation.contactInfo', { name: contactName })}>
          <ContactConsent contact={conv.contact} onChange={(contact) => setConv((cur) => (cur ? { ...cur, contact } : cur))} />
        </section>
      )}

      <Banner conv={conv} now={now} open={open} failedReason={conv.failure?.title || failedOpening?.error?.title} contactName={contactName} />
      {actionError && (
        <p className="alert alert-error" role="alert">
          {actionError}
        </p>
      )}

      {/* Scrollable by keyboard; the live line below says what changed, not the whole list. */}
      <div className="messages-scroll" ref={scrollRef} tabIndex={0} role="region" aria-label={t('conversation.history')}>
        <ol className="messages" aria-label={t('conversation.messages')}>
          {history.length === 0 && <li className="muted pad">{t('conversation.noMessages')}</li>}
          {history.map((h) => (
            <MessageItem key={h.m.id} item={h} contactName={contactName} />
          ))}
        </ol>
        {queue.length > 0 && (
          <section className="queue" aria-labelledby={`queue-${conv.id}`}>
            <h3 id={`queue-${conv.id}`} className="queue-title">
              {t('conversation.queueTitle')}
            </h3>
            <ol className="messages queue-list" aria-label={t('conversation.queueList')}>
              {queue.map((m) => (
                <MessageItem
                  key={m.id}
                  item={{ m, at: m.created_at, released: false }}
                  contactName={contactName}
                  onWithdraw={() => withdraw(m)}
                />
              ))}
            </ol>
          </section>
        )}
      </div>
      <p className="visually-hidden conversation-live" role="status" aria-live="polite">
        {live}
      </p>

      {!closedForGood && needsTemplate && (
        <div className="window-closed" role="region" aria-labelledby="window-closed-title">
          <h3 id="window-closed-title">{t('conversation.windowClosedTitle')}</h3>
          <p className="muted">{t('conversation.windowClosedBody')}</p>
          <button type="button" className="button button-primary" onClick={() => setTemplateOpen(true)}>
            {t('conversation.chooseTemplate')}
          </button>
        </div>
      )}
      {!closedForGood && (
        <Composer
          key={needsTemplate ? 'note' : 'any'}
          conv={conv}
          queued={conv.status === 'waiting' || conv.status === 'scheduled'}
          canMessage={!needsTemplate}
          onSent={(m) => setMessages((list) => upsertMessage(list, m))}
          onTemplateRequired={() => setConv({ ...conv, window: { open: false, expires_at: conv.window?.expires_at ?? null } })}
          onClosed={() => void load()}
        />
      )}

      {!closedForGood && channels.find((c) => c.id === conv.channel_id)?.provider === 'sandbox' && (
        <SandboxReply conv={conv} onDone={() => void load()} />
      )}

      {confirm === 'close' && (
        <CloseDialog conv={conv} contactName={contactName} queued={queue.length > 0} onClose={() => setConfirm(null)} onDone={done} />
      )}
      {confirm === 'transfer' && <TransferDialog conv={conv} onClose={() => setConfirm(null)} onDone={done} />}
      {confirm === 'cancel' && (
        <ConfirmDialog
          message={t('conversation.confirmCancel', { name: contactName })}
          detail={t('conversation.confirmCancelDetail')}
          confirmLabel={t('conversation.confirmCancelYes')}
          cancelLabel={t('conversation.keep')}
          busy={busy}
          onConfirm={() => act(() => api.cancelConversation(conv.id))}
          onCancel={() => setConfirm(null)}
          returnFocus={returnFocus}
        />
      )}

      {templateOpen && (
        <TemplateSendDialog
          conversation={conv}
          onClose={() => setTemplateOpen(false)}
          onSent={(m) => {
            setMessages((list) => upsertMessage(list, m))
            setTemplateOpen(false)
            void load()
          }}
        />
      )}
    </div>
  )
}

function Banner(props: { conv: Conversation; now: number; open: boolean; failedReason?: string; contactName: string }) {
  const zone = useAccountZone()
  const { conv } = props
  switch (conv.status) {
    case 'scheduled':
      return (
        <div className="banner banner-info" role="status">
          <strong>{t('conversation.scheduledTitle')}</strong>
          <p>{t('conversation.scheduledBody', { date: formatDateTime(conv.scheduled_at, zone) })}</p>
        </div>
      )
    case 'waiting':
      return (
        <div className="banner banner-waiting" role="status">
          <strong>{t('conversation.waitingTitle')}</strong>
          <p>{t('conversation.waitingBody', { name: props.contactName })}</p>
        </div>
      )
    case 'active':
      return props.open && conv.window.expires_at ? (
        <p className="window-line" role="status">
          {t('conversation.windowOpen', { remaining: formatRemaining(Date.parse(conv.window.expires_at) - props.now) })}
        </p>
      ) : null
    case 'closed':
      return <div className="banner banner-muted">{t('conversation.closedBody')}</div>
    case 'cancelled':
      return <div className="banner banner-muted">{t('conversation.cancelledBody')}</div>
    case 'failed':
      return (
        <div className="banner banner-error" role="alert">
          {t('conversation.failedBody', { reason: props.failedReason ?? t('status.failed') })}
        </div>
      )
  }
}

function shorten(s: string, n = 40): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s
}

function MessageItem({ item, contactName, onWithdraw }: { item: HistoryItem; contactName: string; onWithdraw?: () => void }) {
  const zone = useAccountZone()
  const { m, at, released } = item
  const text = m.rendered_text || m.text || ''
  const inbound = m.direction === 'in'
  if (m.type === 'note' || m.direction === 'internal') return <NoteItem m={m} />
  return (
    <li className={`message ${inbound ? 'message-in' : 'message-out'} message-${m.status}`}>
      <span className="visually-hidden">
        {inbound ? t('message.from.contact', { name: contactName }) : t('message.from.agent')}:
      </span>
      <div className="bubble-wrap">
        <div className={`bubble ${inbound ? 'bubble-in' : 'bubble-out'}`}>
          {m.type === 'template' && <span className="bubble-tag">{t('message.template')}</span>}
          <MessageContent m={m} text={text} />
          <span className="bubble-meta">
            <time dateTime={at} title={released ? t('message.queuedAt', { time: formatTime(m.created_at, zone) }) : undefined}>
              {formatTime(at, zone)}
            </time>
            {!inbound && <MessageStatus m={m} />}
          </span>
        </div>
        {released && <span className="released-mark small">{t('message.released')}</span>}
        {m.status === 'queued' && onWithdraw && (
          <button
            type="button"
            className="link-button small"
            aria-label={t('message.withdrawLabel', { text: shorten(text) })}
            onClick={onWithdraw}
          >
            {t('message.withdraw')}
          </button>
        )}
      </div>
    </li>
  )
}

/** An internal note: its own look, and said as a note (never sent to the contact). */
function NoteItem({ m }: { m: Message }) {
  const zone = useAccountZone()
  const { userName } = useDirectory()
  const author = m.author_name || userName(m.author_id)
  return (
    <li className="message message-note">
      <div className="note-card">
        <span className="note-tag">{t('message.noteBy', { name: author })}</span>
        <span className="bubble-text">{m.text}</span>
        <span className="bubble-meta">
          <time dateTime={m.created_at}>{formatTime(m.created_at, zone)}</time>
        </span>
      </div>
    </li>
  )
}

function MessageStatus({ m }: { m: Message }) {
  if (m.status === 'failed') {
    return (
      <span className="msg-status status-failed" title={m.error ? String(m.error.code) : undefined}>
        {m.error?.title ? t('message.failedReason', { reason: errorText(m.error.title, m.error.title) }) : t('message.status.failed')}
      </span>
    )
  }
  return <span className={`msg-status status-${m.status}`}>{t(`message.status.${m.status}` as const)}</span>
}

/** On a sandbox channel, stands in for the contact's WhatsApp so the whole flow can be tried. */
function SandboxReply({ conv, onDone }: { conv: Conversation; onDone: () => void }) {
  const id = useId()
  const [text, setText] = useState('')
  const [error, setError] = useState('')
  const attach = useAttachment()

  async function submit(e: FormEvent) {
    e.preventDefault()
    if (!canSend(attach, text)) return
    setError('')
    try {
      const from = { from: conv.contact.phone, name: conv.contact.name }
      const media = attach.attachment ? await attach.ready() : null
      await api.simulateInbound(conv.channel_id, media ? { ...from, media_id: media.id, ...(text.trim() ? { caption: text.trim() } : {}) } : { ...from, text: text.trim() })
      attach.clear()
      setText('')
      onDone()
    } catch (err) {
      setError(problemText(err))
    }
  }

  return (
    <details className="sandbox">
      <summary>{t('sandbox.summary')}</summary>
      <form onSubmit={submit} className="sandbox-form">
        <label htmlFor={id} className="visually-hidden">
          {t('sandbox.label')}
        </label>
        <input id={id} value={text} placeholder={t('sandbox.placeholder')} onChange={(e) => setText(e.target.value)} />
        <AttachButton a={attach} label={t('sandbox.attach')} />
        <button type="submit" className="button">
          {t('sandbox.submit')}
        </button>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <div className="sandbox-attach">
          <AttachmentPreview a={attach} />
        </div>
      </form>
    </details>
  )
}
