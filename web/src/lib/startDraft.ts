// The "Enviar mensagem" flow kept in session storage while it is filled, so a reload mid-flow
// returns to the same step with what was filled. One draft per tab, of one agent: logout, a start
// and a close clear it, and another agent signing in on the tab never sees it.

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

interface Stored {
  userId?: string
  contactId?: string
  draft?: StartDraft
}

function read(userId: string): Stored | null {
  try {
    const raw = sessionStorage.getItem(KEY)
    const d = raw ? (JSON.parse(raw) as Stored) : null
    return d && d.userId === userId ? d : null
  } catch {
    return null
  }
}

/** This agent's draft of the flow with this contact, if the tab has one. */
export function loadDraft(userId: string, contactId: string): StartDraft | null {
  const d = read(userId)
  return d?.contactId === contactId && d.draft ? d.draft : null
}

/** The contact whose flow this agent had open when the tab reloaded, if any. */
export function draftContactId(userId: string): string | null {
  return read(userId)?.contactId ?? null
}

export function saveDraft(userId: string, contactId: string, draft: StartDraft): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ userId, contactId, draft }))
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
