import { act, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { forgetAlerts } from '../lib/alerts'
import { ADMIN, COLLEAGUE, FakeApi } from './fakeApi'
import { renderApp } from './renderApp'

const tabs = () => screen.getByRole('tablist', { name: 'Filtrar atendimentos' })
const tab = (name: RegExp) => within(tabs()).getByRole('tab', { name })
const view = () => within(document.querySelector('.conversation') as HTMLElement)

afterEach(() => {
  // The ids of the fake repeat from test to test: one test's alert must not silence the next one's.
  forgetAlerts()
  localStorage.clear()
  vi.unstubAllGlobals()
})

/** A browser Notification that records what it was asked to show (the agent allowed them). */
function stubNotifications() {
  const shown: Array<{ title: string; body?: string }> = []
  class FakeNotification {
    static permission: NotificationPermission = 'granted'
    static requestPermission = vi.fn(async () => 'granted' as NotificationPermission)
    onclick: (() => void) | null = null
    constructor(title: string, o?: NotificationOptions) {
      shown.push({ title, body: o?.body })
    }
    close() {}
  }
  vi.stubGlobal('Notification', FakeNotification)
  return shown
}

/** A WebAudio context that counts the tones it is asked to play. */
function stubAudio() {
  const tones: number[] = []
  class FakeAudioContext {
    currentTime = 0
    destination = {}
    resume = async () => {}
    createOscillator() {
      const osc = { type: '', frequency: { value: 0 }, connect: (g: unknown) => g, start: () => tones.push(osc.frequency.value), stop: () => {} }
      return osc
    }
    createGain() {
      const g = { gain: { setValueAtTime: () => {}, exponentialRampToValueAtTime: () => {} }, connect: (d: unknown) => d }
      return g
    }
  }
  vi.stubGlobal('AudioContext', FakeAudioContext)
  return tones
}

describe('tabs, counts, unread and the title', () => {
  it('shows each tab with its count and unread; opening a conversation reads it and the title follows', async () => {
    const fake = new FakeApi()
    // Unassigned in the sales queue, with an unread message: it counts under "Outros".
    const joao = fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'active', windowOpenFor: 3_600_000 })
    const { user } = await renderApp({ fake })

    await waitFor(() => expect(tab(/^Meus/)).toHaveTextContent('Meus1, 1 não lida'))
    expect(tab(/^Outros/)).toHaveTextContent('Outros1, 1 não lida')
    expect(document.title).toBe('(2) Atendimento')
    const row = await screen.findByRole('link', { name: /Mariana Costa/ })
    expect(row).toHaveClass('is-unread')
    expect(row).toHaveTextContent('Oi, tudo bem?')
    expect(row).toHaveTextContent('Vendas WhatsApp · Vendas · Você')

    await user.click(row)
    await screen.findByRole('heading', { name: 'Mariana Costa', level: 2 })
    await waitFor(() => expect(fake.calls('POST', '/api/v1/conversations/cv-mariana/read')).toHaveLength(1))
    await waitFor(() => expect(document.title).toBe('(1) Atendimento'))
    expect(tab(/^Meus/)).toHaveTextContent(/^Meus1$/)
    expect(screen.getByRole('link', { name: /Mariana Costa/ })).not.toHaveClass('is-unread')

    // "Outros" lists João, in the queue.
    await user.click(tab(/^Outros/))
    expect(await screen.findByRole('link', { name: /João Silva/ })).toHaveTextContent('Na fila')
    expect(joao.assignee_id).toBeNull()
  })

  it('pages with "Carregar mais" and searches by name or phone on the server', async () => {
    const fake = new FakeApi()
    for (let i = 0; i < 60; i++) {
      fake.contacts.push({ ...fake.contacts[0], id: `ct-${i}`, name: `Cliente ${String(i).padStart(2, '0')}`, phone: `+55119000000${String(i).padStart(2, '0')}` })
      fake.addConversation({ contact_id: `ct-${i}`, channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'closed', updatedAgo: i * 60_000 })
    }
    const { user } = await renderApp({ fake })
    await user.click(tab(/^Encerrados/))
    await screen.findByRole('link', { name: /Cliente 00/ })
    const list = () => document.querySelectorAll('.conversation-rows li')
    expect(list()).toHaveLength(50)
    await user.click(screen.getByRole('button', { name: 'Carregar mais' }))
    await waitFor(() => expect(list()).toHaveLength(60))
    expect(screen.queryByRole('button', { name: 'Carregar mais' })).not.toBeInTheDocument()
    expect(fake.calls('GET', '/api/v1/conversations').at(-1)!.query.get('cursor')).toBe('50')

    await user.type(screen.getByRole('searchbox', { name: /Buscar atendimento/ }), '11 90000-0007')
    await waitFor(() => expect(list()).toHaveLength(1))
    expect(screen.getByRole('link', { name: /Cliente 07/ })).toBeInTheDocument()
    const last = fake.calls('GET', '/api/v1/conversations').at(-1)!
    expect(last.query.get('q')).toBe('11 90000-0007')
    expect(last.query.get('status')).toBe('closed')
  })

  it('filters "Outros" by team, channel and assignee', async () => {
    const fake = new FakeApi()
    fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'active', assignee_id: COLLEAGUE.id })
    fake.addConversation({ contact_id: 'ct-maria', channel_id: 'ch-suporte', team_id: 'tm-suporte', status: 'waiting' })
    const { user } = await renderApp({ fake })
    await user.click(tab(/^Outros/))
    await screen.findByRole('link', { name: /João Silva/ })
    expect(screen.getByRole('link', { name: /Maria Oliveira/ })).toBeInTheDocument()

    await user.selectOptions(screen.getByRole('combobox', { name: 'Responsável' }), 'Sem responsável (na fila)')
    await waitFor(() => expect(screen.queryByRole('link', { name: /João Silva/ })).not.toBeInTheDocument())
    expect(screen.getByRole('link', { name: /Maria Oliveira/ })).toBeInTheDocument()
    expect(fake.calls('GET', '/api/v1/conversations').at(-1)!.query.get('assignee_id')).toBe('none')

    await user.selectOptions(screen.getByRole('combobox', { name: 'Responsável' }), 'Bruno Lima')
    expect(await screen.findByRole('link', { name: /João Silva/ })).toHaveTextContent('Bruno Lima')
    await user.selectOptions(screen.getByRole('combobox', { name: 'Responsável' }), 'Qualquer um (menos eu)')
    await user.selectOptions(screen.getByRole('combobox', { name: 'Equipe' }), 'Suporte')
    await waitFor(() => expect(screen.queryByRole('link', { name: /João Silva/ })).not.toBeInTheDocument())
    expect(fake.calls('GET', '/api/v1/conversations').at(-1)!.query.get('team_id')).toBe('tm-suporte')
    await user.click(screen.getByRole('button', { name: 'Limpar filtros' }))
    expect(await screen.findByRole('link', { name: /João Silva/ })).toBeInTheDocument()
  })
})

describe('owning a conversation', () => {
  it('"Assumir" takes one from the queue; when someone took it meanwhile, says who', async () => {
    const fake = new FakeApi()
    const joao = fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'active', windowOpenFor: 3_600_000 })
    const maria = fake.addConversation({ contact_id: 'ct-maria', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'active', windowOpenFor: 3_600_000 })
    const { user } = await renderApp({ fake, hash: `#/atendimentos/${joao.id}` })
    await screen.findByText('Sem responsável: na fila da equipe')
    await user.click(view().getByRole('button', { name: 'Assumir' }))
    await view().findByText('Responsável: Você')
    expect(fake.calls('POST', `/api/v1/conversations/${joao.id}/assign`).map((r) => r.body)).toEqual([{ user_id: 'u-ana' }])
    expect(view().queryByRole('button', { name: 'Assumir' })).not.toBeInTheDocument()
    await waitFor(() => expect(tab(/^Meus/)).toHaveTextContent(/^Meus2/))

    // Maria's: Bruno takes it first (no event reached us yet).
    await act(async () => void (window.location.hash = `#/atendimentos/${maria.id}`))
    await screen.findByRole('heading', { name: 'Maria Oliveira', level: 2 })
    maria.assignee_id = COLLEAGUE.id
    await user.click(view().getByRole('button', { name: 'Assumir' }))
    expect(await view().findByRole('alert')).toHaveTextContent('Bruno Lima já assumiu este atendimento.')
    expect(await view().findByText('Responsável: Bruno Lima')).toBeInTheDocument()
  })

  it('transfers to a team of the channel and a colleague, with a note that shows as an internal note', async () => {
    const fake = new FakeApi()
    const { user } = await renderApp({ fake, hash: '#/atendimentos/cv-mariana' })
    await screen.findByRole('heading', { name: 'Mariana Costa', level: 2 })
    await user.click(view().getByRole('button', { name: 'Transferir' }))
    const d = screen.getByRole('dialog', { name: 'Transferir atendimento' })
    // Financeiro does not serve the sales channel.
    const teamSelect = within(d).getByRole('combobox', { name: 'Equipe' })
    expect(within(teamSelect).getAllByRole('option').map((o) => o.textContent)).toEqual(['Vendas', 'Suporte'])
    const who = within(d).getByRole('combobox', { name: 'Atendente (opcional)' })
    expect(within(who).getAllByRole('option').map((o) => o.textContent)).toEqual(['Qualquer pessoa da equipe (fila)', 'Bruno Lima'])
    await user.selectOptions(who, 'Bruno Lima')
    await user.type(within(d).getByLabelText('Nota para quem recebe (opcional)'), 'Cliente quer trocar o tamanho.')
    await user.click(within(d).getByRole('button', { name: 'Transferir' }))

    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument())
    expect(fake.calls('POST', '/api/v1/conversations/cv-mariana/transfer').map((r) => r.body)).toEqual([
      { team_id: 'tm-vendas', user_id: COLLEAGUE.id, note: 'Cliente quer trocar o tamanho.' },
    ])
    const note = (await view().findByText('Cliente quer trocar o tamanho.')).closest('li')!
    expect(note).toHaveClass('message-note')
    expect(note).toHaveTextContent('Nota interna de Ana Souza')
    expect(view().getByText('Responsável: Bruno Lima')).toBeInTheDocument()
    // No longer mine: it left "Meus".
    await waitFor(() => expect(tab(/^Meus/)).toHaveTextContent(/^Meus$/))
  })
})

describe('notes and quick replies in the composer', () => {
  it('writes an internal note with the "Nota interna" switch, never as a message', async () => {
    const fake = new FakeApi()
    const { user } = await renderApp({ fake, hash: '#/atendimentos/cv-mariana' })
    await screen.findByRole('heading', { name: 'Mariana Costa', level: 2 })
    await user.click(view().getByRole('radio', { name: 'Nota interna' }))
    await user.type(view().getByLabelText('Nota interna (só a equipe vê)'), 'Já ofereci cupom.{Enter}')
    const note = (await view().findByText('Já ofereci cupom.')).closest('li')!
    expect(note).toHaveClass('message-note')
    expect(within(note).getByText('Nota interna de Ana Souza')).toBeInTheDocument()
    expect(fake.calls('POST', '/api/v1/conversations/cv-mariana/notes').map((r) => r.body)).toEqual([{ text: 'Já ofereci cupom.' }])
    expect(fake.calls('POST', '/api/v1/conversations/cv-mariana/messages')).toHaveLength(0)
  })

  it('"/" opens the ready replies; arrows choose; Enter inserts the text filled for this contact', async () => {
    const fake = new FakeApi()
    const { user } = await renderApp({ fake, hash: '#/atendimentos/cv-mariana' })
    await screen.findByRole('heading', { name: 'Mariana Costa', level: 2 })
    const box = view().getByRole('combobox', { name: 'Mensagem' })
    await user.type(box, '/')
    const list = await view().findByRole('listbox', { name: 'Respostas rápidas' })
    expect(within(list).getAllByRole('option').map((o) => o.textContent)).toEqual([
      '/ola Olá {{primeiro_nome}}, aqui é {{atendente}}. Como posso ajudar?',
      '/prazo O prazo de entrega é de 5 dias úteis.',
      '/tchau Obrigada pelo contato, {{nome}}!',
    ])
    expect(box).toHaveAttribute('aria-expanded', 'true')
    await user.keyboard('{ArrowDown}')
    expect(within(list).getAllByRole('option')[1]).toHaveAttribute('aria-selected', 'true')
    expect(box.getAttribute('aria-activedescendant')).toBe(within(list).getAllByRole('option')[1].id)
    await user.keyboard('{ArrowUp}{Enter}')
    await waitFor(() => expect(box).toHaveValue('Olá Mariana, aqui é Ana Souza. Como posso ajudar?'))
    expect(fake.calls('POST', '/api/v1/quick-replies/qr-ola/render').map((r) => r.body)).toEqual([{ conversation_id: 'cv-mariana' }])
    expect(view().queryByRole('listbox')).not.toBeInTheDocument()
    await user.keyboard('{Enter}')
    expect(await view().findByText('Olá Mariana, aqui é Ana Souza. Como posso ajudar?', { selector: '.bubble-text' })).toBeInTheDocument()

    // The search reads shortcuts and texts: "entrega" is in the text of /prazo.
    await user.type(box, '/entrega')
    await waitFor(() => expect(view().getAllByRole('option').map((o) => o.textContent)).toEqual(['/prazo O prazo de entrega é de 5 dias úteis.']))
    await user.clear(box)

    // Escape closes the list and leaves the text.
    await user.type(box, '/xyz')
    expect(await view().findByText('Nenhuma resposta rápida encontrada.')).toBeInTheDocument()
    await user.keyboard('{Escape}')
    expect(view().queryByText('Nenhuma resposta rápida encontrada.')).not.toBeInTheDocument()
    expect(box).toHaveValue('/xyz')
  })

  it('manages personal ready replies; only admins choose the account scope', async () => {
    const fake = new FakeApi()
    const { user } = await renderApp({ fake })
    await user.click(screen.getByRole('button', { name: 'Outras opções' }))
    await user.click(screen.getByRole('menuitem', { name: 'Respostas rápidas' }))
    const d = await screen.findByRole('dialog', { name: 'Respostas rápidas' })
    await within(d).findByText('/tchau')
    // The account's replies are read-only for an agent.
    expect(within(d).queryByRole('button', { name: 'Editar /ola' })).not.toBeInTheDocument()
    expect(within(d).getByRole('button', { name: 'Editar /tchau' })).toBeInTheDocument()
    expect(within(d).queryByRole('group', { name: 'Quem pode usar' })).not.toBeInTheDocument()

    await user.type(within(d).getByLabelText('Atalho'), 'pix')
    await user.type(within(d).getByLabelText('Texto'), 'Nossa chave {{{{pix}}')
    await user.click(within(d).getByRole('button', { name: 'Adicionar resposta' }))
    expect(await within(d).findByText('Use só os campos {{nome}}, {{primeiro_nome}} e {{atendente}}.')).toBeInTheDocument()
    await user.clear(within(d).getByLabelText('Texto'))
    await user.type(within(d).getByLabelText('Texto'), 'Nossa chave é loja@exemplo.com')
    await user.click(within(d).getByRole('button', { name: 'Adicionar resposta' }))
    expect(await within(d).findByText('/pix')).toBeInTheDocument()
    expect(fake.calls('POST', '/api/v1/quick-replies').at(-1)!.body).toEqual({ shortcut: 'pix', text: 'Nossa chave é loja@exemplo.com', scope: 'personal' })

    await user.click(within(d).getByRole('button', { name: 'Excluir /tchau' }))
    await waitFor(() => expect(within(d).queryByText('/tchau')).not.toBeInTheDocument())
  })

  it('lets an admin write an account-wide reply', async () => {
    const fake = new FakeApi()
    fake.signIn(ADMIN)
    const { user } = await renderApp({ fake, signedIn: false })
    await screen.findByRole('heading', { name: 'Atendimentos', level: 1 })
    await user.click(screen.getByRole('button', { name: 'Outras opções' }))
    await user.click(screen.getByRole('menuitem', { name: 'Respostas rápidas' }))
    const d = await screen.findByRole('dialog', { name: 'Respostas rápidas' })
    await within(d).findByText('/ola')
    expect(within(d).getByRole('button', { name: 'Editar /ola' })).toBeInTheDocument()
    await user.type(within(d).getByLabelText('Atalho'), 'horario')
    await user.type(within(d).getByLabelText('Texto'), 'Atendemos das 8h às 18h.')
    await user.click(within(d).getByRole('radio', { name: 'Toda a conta' }))
    await user.click(within(d).getByRole('button', { name: 'Adicionar resposta' }))
    await within(d).findByText('/horario')
    expect(fake.quickReplies.find((r) => r.shortcut === 'horario')).toMatchObject({ scope: 'account', owner_id: null })
  })
})

describe('closing, reopening and "Encerrados"', () => {
  it('a closed conversation leaves "Meus" for "Encerrados" with its reason, and reopens while the window is open', async () => {
    const fake = new FakeApi()
    const { user } = await renderApp({ fake, hash: '#/atendimentos/cv-mariana' })
    await screen.findByRole('heading', { name: 'Mariana Costa', level: 2 })
    await user.click(view().getByRole('button', { name: 'Encerrar' }))
    const d = screen.getByRole('dialog', { name: 'Encerrar o atendimento com Mariana Costa?' })
    await user.selectOptions(await within(d).findByRole('combobox', { name: /Motivo/ }), 'Resolvido')
    await user.click(within(d).getByRole('button', { name: 'Encerrar atendimento' }))
    await view().findByText('Este atendimento foi encerrado.')
    await waitFor(() => expect(screen.queryByRole('link', { name: /Mariana Costa/ })).not.toBeInTheDocument())

    await user.click(tab(/^Encerrados/))
    expect(await screen.findByRole('link', { name: /Mariana Costa/ })).toHaveTextContent('Motivo: Resolvido')

    await user.click(view().getByRole('button', { name: 'Reabrir' }))
    await waitFor(() => expect(view().queryByText('Este atendimento foi encerrado.')).not.toBeInTheDocument())
    expect(fake.calls('POST', '/api/v1/conversations/cv-mariana/reopen')).toHaveLength(1)
    await waitFor(() => expect(screen.queryByRole('link', { name: /Mariana Costa/ })).not.toBeInTheDocument())
  })

  it('offers no "Reabrir" once the window has closed', async () => {
    const fake = new FakeApi()
    const c = fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'closed', windowExpiredAgo: 3_600_000 })
    await renderApp({ fake, hash: `#/atendimentos/${c.id}` })
    await screen.findByText('Este atendimento foi encerrado.')
    expect(view().queryByRole('button', { name: 'Reabrir' })).not.toBeInTheDocument()
  })

  it('lets the admin keep the list of close reasons in "Configurações"', async () => {
    const fake = new FakeApi()
    fake.signIn(ADMIN)
    const { user } = await renderApp({ fake, signedIn: false, hash: '#/configuracoes/encerramento' })
    await screen.findByRole('heading', { name: 'Motivos de encerramento', level: 2 })
    const list = await screen.findByRole('list', { name: 'Motivos de encerramento' })
    expect(within(list).getAllByRole('listitem').map((li) => li.firstChild!.textContent)).toEqual(['Resolvido', 'Sem resposta do contato'])
    await user.type(screen.getByLabelText('Novo motivo'), 'resolvido{Enter}')
    expect(await screen.findByText('Este motivo já está na lista.')).toBeInTheDocument()
    await user.clear(screen.getByLabelText('Novo motivo'))
    await user.type(screen.getByLabelText('Novo motivo'), 'Venda realizada{Enter}')
    await user.click(screen.getByRole('button', { name: 'Subir Venda realizada' }))
    await user.click(screen.getByRole('button', { name: 'Remover o motivo Resolvido' }))
    await user.click(screen.getByRole('button', { name: 'Salvar motivos' }))
    expect(await screen.findByText('Motivos salvos.')).toBeInTheDocument()
    expect(fake.calls('PATCH', '/api/v1/account').map((r) => r.body)).toEqual([{ close_reasons: ['Venda realizada', 'Sem resposta do contato'] }])
    expect(fake.account.close_reasons).toEqual(['Venda realizada', 'Sem resposta do contato'])
  })
})

describe('alerts', () => {
  it('a waiting contact who replies rings and notifies (once), when the switches are on', async () => {
    const shown = stubNotifications()
    const tones = stubAudio()
    localStorage.setItem('atendimento.alerts', JSON.stringify({ sound: true, notify: true }))
    const fake = new FakeApi()
    const c = fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'waiting', assignee_id: 'u-ana' })
    await renderApp({ fake })
    await waitFor(() => expect(tab(/^Aguardando/)).toHaveTextContent(/^Aguardando1/))
    await waitFor(() => expect(fake.calls('GET', '/api/v1/conversations').some((r) => r.query.get('status') === 'waiting,scheduled')).toBe(true))
    await act(async () => {
      fake.contactReplies(c.id, 'Oi, pode sim!')
      await new Promise((r) => setTimeout(r, 50))
    })
    await waitFor(() => expect(shown).toEqual([{ title: 'O contato respondeu', body: 'João Silva' }]))
    expect(tones).toEqual([660, 880])
    // It is active now, under "Meus", bold with its unread message.
    const row = await screen.findByRole('link', { name: /João Silva/ })
    expect(row).toHaveClass('is-unread')
    await waitFor(() => expect(document.title).toBe('(2) Atendimento'))
  })

  it('a conversation transferred to me arrives live with a notification; switches off stay silent', async () => {
    const shown = stubNotifications()
    const tones = stubAudio()
    localStorage.setItem('atendimento.alerts', JSON.stringify({ sound: false, notify: true }))
    const fake = new FakeApi()
    const c = fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'active', assignee_id: COLLEAGUE.id, windowOpenFor: 3_600_000 })
    await renderApp({ fake })
    await screen.findByRole('link', { name: /Mariana Costa/ })
    // Bruno transfers it to Ana (as the server: the update, then the transfer, then the note).
    act(() => {
      c.assignee_id = 'u-ana'
      c.unread_count = 7 // an event's copy is everyone's: not Ana's count
      c.updated_at = new Date().toISOString()
      fake.emit('conversation.updated', c)
      fake.emit('conversation.transferred', c)
      fake.emit('message.created', fake.addNote(c.id, 'Cliente VIP', COLLEAGUE))
    })
    const row = await screen.findByRole('link', { name: /João Silva/ })
    await waitFor(() => expect(shown).toEqual([{ title: 'Novo atendimento para você', body: 'João Silva' }]))
    // Never seen before: fetched for Ana's own unread count (the contact's one message).
    await waitFor(() => expect(row.querySelector('.row-unread')).toHaveTextContent('1 não lida'))
    expect(tones).toEqual([])
    await waitFor(() => expect(tab(/^Meus/)).toHaveTextContent(/^Meus2/))
  })

  it('the notification switch asks the browser first; the sound switch is kept', async () => {
    stubNotifications()
    ;(Notification as unknown as { permission: string }).permission = 'default'
    const { user } = await renderApp()
    const notify = screen.getByRole('switch', { name: 'Notificação do navegador' })
    expect(notify).not.toBeChecked()
    ;(Notification as unknown as { requestPermission: () => Promise<string> }).requestPermission = vi.fn(async () => {
      ;(Notification as unknown as { permission: string }).permission = 'granted'
      return 'granted'
    })
    await user.click(notify)
    await waitFor(() => expect(notify).toBeChecked())
    await user.click(screen.getByRole('switch', { name: 'Som' }))
    expect(JSON.parse(localStorage.getItem('atendimento.alerts')!)).toEqual({ sound: false, notify: true })
  })
})

describe('the contact side panel', () => {
  it('shows and edits the details, lists other conversations and the notes', async () => {
    const fake = new FakeApi()
    const old = fake.addConversation({ contact_id: 'ct-mariana', channel_id: 'ch-suporte', team_id: 'tm-suporte', status: 'closed' })
    fake.addNote(old.id, 'Pediu nota fiscal.', COLLEAGUE)
    const { user } = await renderApp({ fake, hash: '#/atendimentos/cv-mariana' })
    await screen.findByRole('heading', { name: 'Mariana Costa', level: 2 })
    await user.click(view().getByRole('button', { name: 'Dados do contato' }))
    const panel = within(await view().findByRole('complementary', { name: 'Contato' }))
    expect(await panel.findByRole('link', { name: 'Suporte WhatsApp · Encerrado' })).toHaveAttribute('href', `#/atendimentos/${old.id}`)
    expect(await panel.findByText('Pediu nota fiscal.')).toBeInTheDocument()
    expect(panel.getByText(/Bruno Lima ·/)).toBeInTheDocument()

    await user.click(panel.getByRole('button', { name: 'Editar contato' }))
    await user.clear(panel.getByLabelText('Nome'))
    await user.type(panel.getByLabelText('Nome'), 'Mariana C. Costa')
    await user.type(panel.getByLabelText('E-mail'), 'não-é-email')
    await user.click(panel.getByRole('button', { name: 'Salvar contato' }))
    expect(await panel.findByRole('alert')).toBeInTheDocument()
    await user.clear(panel.getByLabelText('E-mail'))
    await user.type(panel.getByLabelText('E-mail'), 'mariana@exemplo.com')
    await user.click(panel.getByRole('button', { name: 'Salvar contato' }))
    expect(await view().findByRole('heading', { name: 'Mariana C. Costa' })).toBeInTheDocument()
    expect(fake.calls('PATCH', '/api/v1/contacts/ct-mariana').at(-1)!.body).toEqual({ name: 'Mariana C. Costa', email: 'mariana@exemplo.com' })
    expect(panel.getByText('mariana@exemplo.com')).toBeInTheDocument()
  })
})
