import { useCallback, useEffect, useState } from 'react'
import { api, type Contact, type Conversation } from '../api'
import { t } from '../i18n/pt-BR'
import { fresher } from '../lib/fresh'
import { clearDraft, draftContactId } from '../lib/startDraft'
import { navigate, useRoute } from '../lib/hooks'
import { useLiveEvents, useSession } from '../state'
import { ContactSearch } from './ContactSearch'
import { ConversationList } from './ConversationList'
import { ConversationView } from './ConversationView'
import { Dialog } from './Dialog'
import { NewContactForm } from './NewContactForm'
import { PhoneStart } from './PhoneStart'
import { SendMessagePanel } from './SendMessagePanel'
import { TopBar } from './TopBar'
import { Onboarding } from '../settings/Onboarding'
import { formatPhone } from '../i18n/format'

type Panel = { kind: 'search' } | { kind: 'notFound'; phone: string } | { kind: 'send'; contact: Contact }

function sortConversations(list: Conversation[]): Conversation[] {
  const key = (c: Conversation) => c.updated_at ?? c.created_at
  return [...list].sort((a, b) => key(b).localeCompare(key(a)))
}

/** The account's conversations, kept current by the live event stream. */
function useInbox() {
  const [items, setItems] = useState<Conversation[]>([])
  const [state, setState] = useState<'loading' | 'ready' | 'error'>('loading')

  const load = useCallback(() => {
    api
      .listConversations()
      .then((list) => {
        // Keep the newer copy of each row: live events may have overtaken this answer.
        setItems((cur) => {
          const byId = new Map(cur.map((c) => [c.id, c]))
          const fetched = new Set(list.map((c) => c.id))
          return sortConversations([...list.map((c) => fresher(byId.get(c.id), c)), ...cur.filter((c) => !fetched.has(c.id))])
        })
        setState('ready')
      })
      .catch(() => setState('error'))
  }, [])

  useEffect(load, [load])

  const upsert = useCallback((c: Conversation) => {
    setItems((list) => {
      const keep = fresher(
        list.find((x) => x.id === c.id),
        c,
      )
      return sortConversations([keep, ...list.filter((x) => x.id !== c.id)])
    })
  }, [])

  useLiveEvents((e) => {
    if (e.type.startsWith('conversation.')) upsert(e.data as Conversation)
  }, load)

  return { items, state, upsert, reload: load }
}

/** The "Atendimentos" screen: list and phone field on the left, the open conversation on the right. */
export function Workspace() {
  const { user } = useSession()
  const route = useRoute()
  const inbox = useInbox()
  const [panel, setPanel] = useState<Panel | null>(null)
  const [newContactDirty, setNewContactDirty] = useState(false)
  // A conversation a flow just opened: its view takes focus once loaded (not the phone field).
  const [focusId, setFocusId] = useState<string | null>(null)
  const selectedId = route.name === 'conversation' ? route.id : null

  // A reload in the middle of "Enviar mensagem" reopens it where it was (lib/startDraft).
  useEffect(() => {
    const id = draftContactId(user.id)
    if (!id) return
    let live = true
    api.getContact(id).then(
      (contact) => live && setPanel((p) => p ?? { kind: 'send', contact }),
      () => clearDraft(),
    )
    return () => {
      live = false
    }
  }, [user.id])

  const openConversation = (id: string) => {
    setPanel(null)
    setFocusId(id)
    navigate({ name: 'conversation', id })
  }

  return (
    <div className="app">
      <a className="skip-link" href="#content">
        {t('app.skipToContent')}
      </a>
      <TopBar />
      <div className={`workspace${selectedId ? ' has-selection' : ''}`}>
        <aside className="sidebar">
          <ConversationList
            conversations={inbox.items}
            state={inbox.state}
            onRetry={inbox.reload}
            selectedId={selectedId}
            onNewConversation={() => setPanel({ kind: 'search' })}
          />
          <PhoneStart
            onFound={(contact) => setPanel({ kind: 'send', contact })}
            onNotFound={(phone) => setPanel({ kind: 'notFound', phone })}
          />
        </aside>
        <main className="main" id="content" tabIndex={-1}>
          {selectedId ? (
            <ConversationView
              key={selectedId}
              id={selectedId}
              onChanged={inbox.upsert}
              autoFocus={focusId === selectedId}
              onFocused={() => setFocusId(null)}
            />
          ) : (
            <div className="empty-state">
              {/* A fresh account: the admin is offered to connect a number, or the sandbox. */}
              <Onboarding />
              <div className="empty-illustration" aria-hidden="true" />
              <h2>{t('inbox.selectPrompt')}</h2>
              <p className="muted">{t('inbox.selectHint')}</p>
            </div>
          )}
        </main>
      </div>

      {panel?.kind === 'search' && (
        <ContactSearch onClose={() => setPanel(null)} onPick={(contact) => setPanel({ kind: 'send', contact })} />
      )}
      {panel?.kind === 'notFound' && (
        <Dialog title={t('notFound.title')} onClose={() => setPanel(null)} dirty={newContactDirty}>
          <p className="muted">{t('notFound.body', { phone: formatPhone(panel.phone) })}</p>
          <NewContactForm
            initialPhone={panel.phone}
            onCreated={(contact) => setPanel({ kind: 'send', contact })}
            onCancel={() => setPanel(null)}
            onDirtyChange={setNewContactDirty}
          />
        </Dialog>
      )}
      {panel?.kind === 'send' && (
        <SendMessagePanel
          contact={panel.contact}
          onClose={() => setPanel(null)}
          onStarted={(conv) => {
            inbox.upsert(conv)
            openConversation(conv.id)
          }}
          onOpenExisting={openConversation}
        />
      )}
    </div>
  )
}
