import { useEffect, useState } from 'react'
import { api, type Contact } from '../api'
import { t } from '../i18n/pt-BR'
import { clearDraft, draftContactId } from '../lib/startDraft'
import { navigate, useRoute } from '../lib/hooks'
import { useDesk } from '../lib/useDesk'
import { useSession } from '../state'
import { ContactSearch } from './ContactSearch'
import { ConversationList } from './ConversationList'
import { ConversationView } from './ConversationView'
import { Dialog } from './Dialog'
import { NewContactForm } from './NewContactForm'
import { PhoneStart } from './PhoneStart'
import { QuickRepliesDialog } from './QuickRepliesDialog'
import { SendMessagePanel } from './SendMessagePanel'
import { TopBar } from './TopBar'
import { Onboarding } from '../settings/Onboarding'
import { formatPhone } from '../i18n/format'

type Panel = { kind: 'search' } | { kind: 'notFound'; phone: string } | { kind: 'send'; contact: Contact } | { kind: 'quickReplies' }

/** The "Atendimentos" screen: list and phone field on the left, the open conversation on the right. */
export function Workspace() {
  const { user } = useSession()
  const route = useRoute()
  const [panel, setPanel] = useState<Panel | null>(null)
  const [newContactDirty, setNewContactDirty] = useState(false)
  // A conversation a flow just opened: its view takes focus once loaded (not the phone field).
  const [focusId, setFocusId] = useState<string | null>(null)
  const selectedId = route.name === 'conversation' ? route.id : null
  const desk = useDesk(selectedId)

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
            desk={desk}
            selectedId={selectedId}
            onNewConversation={() => setPanel({ kind: 'search' })}
            onQuickReplies={() => setPanel({ kind: 'quickReplies' })}
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
              onChanged={desk.upsert}
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
      {panel?.kind === 'quickReplies' && <QuickRepliesDialog onClose={() => setPanel(null)} />}
      {panel?.kind === 'send' && (
        <SendMessagePanel
          contact={panel.contact}
          onClose={() => setPanel(null)}
          onStarted={(conv) => {
            desk.upsert(conv)
            desk.reveal(conv)
            openConversation(conv.id)
          }}
          onOpenExisting={openConversation}
        />
      )}
    </div>
  )
}
