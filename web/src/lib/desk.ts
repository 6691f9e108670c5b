// The desk's rules the SPA applies itself: which tab a conversation is in, what each tab asks the
// server for, where a live event puts a row, what deserves an alert, and the title's count.

import type { Conversation, ConversationCounts, ConversationFilter, LiveEvent, Message } from '../api'

export type Tab = 'mine' | 'waiting' | 'others' | 'closed'
export const TABS: Tab[] = ['mine', 'waiting', 'others', 'closed']

/** Filters of "Outros": a team, a channel, and whose (anyone's, the queue, one colleague). */
export interface OthersFilter {
  team_id: string
  channel_id: string
  /** '' anyone but me, 'none' the queue, or a colleague's id. */
  assignee: string
}
export const NO_FILTER: OthersFilter = { team_id: '', channel_id: '', assignee: '' }

const OPEN_STATUSES = ['scheduled', 'waiting', 'active']
const DONE_STATUSES = ['closed', 'cancelled', 'failed']

/** Which tab a conversation belongs to for the agent `me` (as GET /conversations/counts counts). */
export function tabOf(c: Conversation, me: string): Tab {
  if (DONE_STATUSES.includes(c.status)) return 'closed'
  if (c.assignee_id === me) return c.status === 'active' ? 'mine' : 'waiting'
  return 'others'
}

/** The query of GET /conversations for a tab, its search and (for "Outros") its filters. */
export function tabQuery(tab: Tab, q: string, f: OthersFilter = NO_FILTER): ConversationFilter {
  const search = q.trim() || undefined
  switch (tab) {
    case 'mine':
      return { assignee_id: 'me', status: 'active', q: search }
    case 'waiting':
      return { assignee_id: 'me', status: 'waiting,scheduled', q: search }
    case 'closed':
      return { status: 'closed', q: search }
    case 'others':
      return {
        status: OPEN_STATUSES.join(','),
        q: search,
        team_id: f.team_id || undefined,
        channel_id: f.channel_id || undefined,
        assignee_id: f.assignee || undefined,
      }
  }
}

/**
 * Whether a conversation, as a live event shows it, belongs in the list a tab shows. "Outros"
 * without an assignee filter is everyone's but mine (the server answers it; the rows that are
 * mine are left out here). A search is the server's to answer: a row already listed stays.
 */
export function belongs(c: Conversation, tab: Tab, me: string, f: OthersFilter = NO_FILTER): boolean {
  if (tab === 'closed') return c.status === 'closed'
  if (tabOf(c, me) !== tab) return false
  if (tab !== 'others') return true
  if (f.team_id && c.team_id !== f.team_id) return false
  if (f.channel_id && c.channel_id !== f.channel_id) return false
  if (f.assignee === 'none') return !c.assignee_id
  if (f.assignee) return c.assignee_id === f.assignee
  return true
}

/** Rows newest activity first (the server's order: updated_at desc, then id). */
export function sortRows(list: Conversation[]): Conversation[] {
  const key = (c: Conversation) => c.updated_at ?? c.created_at
  return [...list].sort((a, b) => key(b).localeCompare(key(a)) || b.id.localeCompare(a.id))
}

/** The unread messages of every tab the agent works from (what the browser tab's title shows). */
export function totalUnread(c: ConversationCounts | null): number {
  if (!c) return 0
  return c.mine.unread + c.waiting.unread + c.others.unread
}

/** "(3) Atendimento", or the bare name when nothing is unread. */
export function documentTitle(base: string, unread: number): string {
  return unread > 0 ? `(${unread}) ${base}` : base
}

/** What an alert is about: a waiting contact answered, or a conversation entered the agent's queue. */
export type AlertKind = 'replied' | 'arrived'
export interface Alert {
  kind: AlertKind
  conversationId: string
}

/**
 * Whether a live event deserves a sound and a notification for the agent `me`:
 * - a contact answers a conversation of mine that was waiting for them (the stored copy still says waiting);
 * - a conversation enters my queue: handed or transferred to me by someone else, or a new one
 *   (receptive) unassigned in one of my teams.
 * `before` is the copy the agent had before the event (undefined: never seen).
 */
export function alertFor(e: LiveEvent, before: Conversation | undefined, me: string, myTeams: Set<string>): Alert | null {
  switch (e.type) {
    case 'message.created': {
      const m: Message = e.data
      if (m.direction !== 'in' || !before) return null
      if (before.assignee_id === me && before.status === 'waiting') return { kind: 'replied', conversationId: m.conversation_id }
      return null
    }
    case 'conversation.updated': {
      const c = e.data
      // The reply's own message.created may have come first, or not at all (a replay that starts later).
      if (before?.status === 'waiting' && c.status === 'active' && c.assignee_id === me && before.assignee_id === me) {
        return { kind: 'replied', conversationId: c.id }
      }
      return null
    }
    case 'conversation.assigned':
    case 'conversation.transferred': {
      const c = e.data
      if (c.assignee_id === me && before?.assignee_id !== me) return { kind: 'arrived', conversationId: c.id }
      // Sent to one of my teams' queue.
      if (e.type === 'conversation.transferred' && !c.assignee_id && myTeams.has(c.team_id ?? '') && before?.team_id !== c.team_id) {
        return { kind: 'arrived', conversationId: c.id }
      }
      return null
    }
    case 'conversation.created': {
      const c = e.data
      if (before) return null
      if (c.assignee_id === me && c.origin === 'receptive') return { kind: 'arrived', conversationId: c.id }
      if (!c.assignee_id && myTeams.has(c.team_id ?? '')) return { kind: 'arrived', conversationId: c.id }
      return null
    }
    default:
      return null
  }
}
