import { describe, expect, it } from 'vitest'
import { formatDuration, formatSize, guessKind, mapUrl, nextSpeed, readContacts, readLocation, readReaction, readReply, speedLabel } from './media'

describe('media helpers', () => {
  it('formats sizes and lengths the Brazilian way', () => {
    expect(formatSize(850)).toBe('850 B')
    expect(formatSize(12_300)).toBe('12 KB')
    expect(formatSize(1_500_000)).toBe('1,5 MB')
    expect(formatSize(100_000_000)).toBe('100 MB')
    expect(formatDuration(7.4)).toBe('0:07')
    expect(formatDuration(65)).toBe('1:05')
    expect(formatDuration(3723)).toBe('1:02:03')
    expect(formatDuration(Number.NaN)).toBe('')
    expect(formatDuration(Infinity)).toBe('')
  })

  it('cycles the speeds 1× → 1,5× → 2× → 1×', () => {
    expect([1, 1.5, 2].map(nextSpeed)).toEqual([1.5, 2, 1])
    expect(nextSpeed(0.75)).toBe(1)
    expect([1, 1.5, 2].map(speedLabel)).toEqual(['1×', '1,5×', '2×'])
  })

  it('guesses a file’s kind for its preview', () => {
    expect(guessKind({ type: 'image/png', name: 'a.png' })).toBe('image')
    expect(guessKind({ type: 'image/webp', name: 'a.webp' })).toBe('sticker')
    expect(guessKind({ type: 'audio/ogg', name: 'a.ogg' })).toBe('audio')
    expect(guessKind({ type: 'application/pdf', name: 'a.pdf' })).toBe('document')
    expect(guessKind({ type: '', name: 'x' })).toBe('document')
  })

  it('reads Meta’s location, contacts, reaction and replies, as the object or under its type', () => {
    const loc = { latitude: -23.5613, longitude: -46.6565, name: 'Loja Paulista', address: 'Av. Paulista, 1000' }
    expect(readLocation(loc)).toEqual(loc)
    expect(readLocation({ location: loc })).toEqual(loc)
    expect(readLocation({ latitude: 'x' })).toBeNull()
    expect(mapUrl(-23.5613, -46.6565)).toBe('https://www.openstreetmap.org/?mlat=-23.5613&mlon=-46.6565#map=16/-23.5613/-46.6565')

    const contacts = [
      { name: { formatted_name: 'Carlos Lima', first_name: 'Carlos' }, phones: [{ phone: '+55 11 91234-5678', type: 'CELL' }, { wa_id: '5511988887777' }] },
      { name: { first_name: 'Bia', last_name: 'Souza' } },
    ]
    expect(readContacts({ contacts })).toEqual([
      { name: 'Carlos Lima', phones: ['+55 11 91234-5678', '5511988887777'] },
      { name: 'Bia Souza', phones: [] },
    ])
    expect(readContacts(contacts)).toHaveLength(2)

    expect(readReaction({ message_id: 'wamid.1', emoji: '👍' })).toBe('👍')
    expect(readReaction({ reaction: { message_id: 'wamid.1' } })).toBe('')
    expect(readReply({ type: 'button_reply', button_reply: { id: 'b1', title: 'Sim, confirmo' } })).toBe('Sim, confirmo')
    expect(readReply({ interactive: { type: 'list_reply', list_reply: { id: 'l1', title: 'Segunda via' } } })).toBe('Segunda via')
    expect(readReply({ button: { text: 'Falar com atendente', payload: 'p' } })).toBe('Falar com atendente')
    expect(readReply(null, 'texto')).toBe('texto')
  })
})
