// The "Enviar mensagem" flow kept in session storage while it is filled, so a reload mid-flow
// returns to the same step with what was filled. One draft per tab; logout and a start clear it.

import type { SendType, Template } from '../api'

export interface StartDraft {
  step: 'send' | 'template' | 'parameters' | 'text'
  sendType: SendType | null
  schedule: { date: string; time: string }
  channelId: string | null
  teamId: string | null
  template: Template | null
  values: Record<string, string>
  text: string
}

const KEY = 'atendimento.startDraft'

/** The draft of the flow with this contact, if the tab has one. */
export function loadDraft(contactId: string): StartDraft | null {
  try {
    const raw = sessionStorage.getItem(KEY)
    if (!raw) return null
    const d = JSON.parse(raw) as { contactId?: string; draft?: StartDraft }
    return d.contactId === contactId && d.draft ? d.draft : null
  } catch {
    return null
  }
}

/** The contact whose flow was open when the tab reloaded, if any. */
export function draftContactId(): string | null {
  try {
    const raw = sessionStorage.getItem(KEY)
    return raw ? ((JSON.parse(raw) as { contactId?: string }).contactId ?? null) : null
  } catch {
    return null
  }
}

export function saveDraft(contactId: string, draft: StartDraft): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ contactId, draft }))
  } catch {
    // Storage full or disabled: the flow still works, a reload just starts over.
  }
}

export function clearDraft(): void {
  try {
    sessionStorage.removeItem(KEY)
  } catch {
    // nothing to clear
  }
}
