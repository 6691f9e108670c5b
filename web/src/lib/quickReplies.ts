// Picking a ready reply in the composer: the text "/abc" searches the replies by shortcut or text.

import type { QuickReply } from '../api'

/** The search after a leading "/" (one line, no space right after the slash), or null when the text is not one. */
export function slashQuery(text: string): string | null {
  const m = /^\/(\S[^\n]*|)$/.exec(text)
  return m ? m[1] : null
}

function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
}

/**
 * The replies matching a search, best first: shortcuts that start with it, then shortcuts that
 * contain it, then texts that contain it; the account's and the agent's alike, at most `max`.
 */
export function matchQuickReplies(list: QuickReply[], query: string, max = 8): QuickReply[] {
  const q = fold(query.trim())
  if (!q) return [...list].sort((a, b) => a.shortcut.localeCompare(b.shortcut)).slice(0, max)
  const rank = (r: QuickReply) => {
    const s = fold(r.shortcut)
    if (s.startsWith(q)) return 0
    if (s.includes(q)) return 1
    if (fold(r.text).includes(q)) return 2
    return -1
  }
  return list
    .map((r) => ({ r, k: rank(r) }))
    .filter((x) => x.k >= 0)
    .sort((a, b) => a.k - b.k || a.r.shortcut.localeCompare(b.r.shortcut))
    .slice(0, max)
    .map((x) => x.r)
}
