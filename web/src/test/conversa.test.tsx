import { act, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { FakeApi } from './fakeApi'
import { FakeEventSource } from './fakeEventSource'
import { renderApp } from './renderApp'

function waitingWithJoao() {
  const fake = new FakeApi()
  const conv = fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'waiting', assignee_id: 'u-ana' })
  return { fake, conv }
}

/** The open conversation (the list beside it shows each row's last message too). */
const view = () => within(document.querySelector('.conversation') as HTMLElement)
const item = (text: string) => view().getByText(text).closest('li') as HTMLElement
/** The polite line that tells screen readers what changed. */
const live = () => document.querySelector('.conversation-live') as HTMLElement

describe('"Conversa": waiting, the queue and live updates', () => {
  it('explains the wait, queues messages marked "na fila", lets them be withdrawn, and drains on the reply', async () => {
    const { fake, conv } = waitingWithJoao()
    const { user } = await renderApp({ fake, hash: `#/atendimentos/${conv.id}` })

    expect(await screen.findByRole('heading', { name: 'João Silva', level: 2 })).toBeInTheDocument()
    expect(screen.getByText('Aguardando a resposta do contato')).toBeInTheDocument()
    expect(
      screen.getByText(/João Silva ainda não respondeu\. Você pode escrever agora: as mensagens ficam na fila/),
    ).toBeInTheDocument()

    // The live stream is open, with the session cookie.
    expect(FakeEventSource.instances).toHaveLength(1)
    expect(FakeEventSource.instances[0].url).toBe('/api/v1/events')
    expect(FakeEventSource.instances[0].withCredentials).toBe(true)

    const composer = screen.getByLabelText('Mensagem')
    await user.type(composer, 'Primeira na fila')
    await user.click(screen.getByRole('button', { name: 'Colocar na fila' }))
    expect(await screen.findByText('Primeira na fila')).toBeInTheDocument()
    await user.type(composer, 'Segunda na fila{Enter}')
    expect(await screen.findByText('Segunda na fila')).toBeInTheDocument()
    expect(within(item('Primeira na fila')).getByText('na fila')).toBeInTheDocument()
    expect(within(item('Segunda na fila')).getByText('na fila')).toBeInTheDocument()
    // They wait apart, below the history, in posting order.
    const queue = screen.getByRole('region', { name: 'Na fila: serão enviadas quando o contato responder' })
    expect(within(queue).getAllByRole('listitem').map((li) => li.querySelector('.bubble-text')!.textContent)).toEqual([
      'Primeira na fila',
      'Segunda na fila',
    ])
    expect(within(screen.getByRole('list', { name: 'Mensagens' })).queryByText('Primeira na fila')).not.toBeInTheDocument()

    await user.click(screen.getByRole('button', { name: 'Retirar da fila: “Segunda na fila”' }))
    await waitFor(() => expect(screen.queryByText('Segunda na fila')).not.toBeInTheDocument())
    expect(fake.calls('DELETE', /\/messages\//)).toHaveLength(1)
    expect(fake.messages.some((m) => m.text === 'Segunda na fila')).toBe(false)

    // The contact replies: no reload, the banner goes, the queue drains, statuses tick.
    const requestsBefore = fake.requests.length
    act(() => fake.contactReplies(conv.id, 'Oi! Pode falar.'))
    expect(await screen.findByText('Oi! Pode falar.')).toBeInTheDocument()
    expect(screen.queryByText('Aguardando a resposta do contato')).not.toBeInTheDocument()
    expect(within(item('Primeira na fila')).getByText('enviada')).toBeInTheDocument()
    expect(screen.queryByText('na fila')).not.toBeInTheDocument()
    expect(screen.queryByRole('button', { name: /Retirar da fila/ })).not.toBeInTheDocument()
    expect(screen.queryByRole('region', { name: /^Na fila/ })).not.toBeInTheDocument()
    // The history tells it as it happened: the reply, then what it released, marked, at the time it went out.
    const history = within(screen.getByRole('list', { name: 'Mensagens' }))
      .getAllByRole('listitem')
      .map((li) => li.querySelector('.bubble-text')!.textContent)
    expect(history).toEqual(['Oi! Pode falar.', 'Primeira na fila'])
    expect(within(item('Primeira na fila')).getByText('enviada automaticamente após a resposta')).toBeInTheDocument()
    const firstMsg = fake.messages.find((m) => m.text === 'Primeira na fila')!
    expect(item('Primeira na fila').querySelector('time')).toHaveAttribute('datetime', firstMsg.sent_at)
    expect(within(item('Oi! Pode falar.')).queryByText('enviada automaticamente após a resposta')).not.toBeInTheDocument()
    expect(screen.getByText(/^Janela de 24 horas aberta: (23 h 59 min|24 h 00 min)$/)).toBeInTheDocument()
    // No refetch: only the read mark of the reply that arrived on screen, and the tabs' counts.
    const since = fake.requests.slice(requestsBefore).map((r) => `${r.method} ${r.path}`)
    expect(since.filter((x) => !x.endsWith(`/conversations/${conv.id}/read`) && x !== 'GET /api/v1/conversations/counts')).toEqual([])

    const first = fake.messages.find((m) => m.text === 'Primeira na fila')!
    act(() => fake.setStatus(first.id, 'delivered'))
    expect(await within(item('Primeira na fila')).findByText('entregue')).toBeInTheDocument()
    expect(live()).toHaveTextContent('Mensagem “Primeira na fila”: entregue')
    act(() => fake.setStatus(first.id, 'read'))
    expect(await within(item('Primeira na fila')).findByText('lida')).toBeInTheDocument()
    expect(live()).toHaveTextContent('Mensagem “Primeira na fila”: lida')

    // Now inside the window, text goes out at once.
    await user.type(screen.getByLabelText('Mensagem'), 'Agora vai direto')
    await user.click(screen.getByRole('button', { name: 'Enviar' }))
    expect(await within(await view().findByText('Agora vai direto').then((e) => e.closest('li')!)).findByText('enviada')).toBeInTheDocument()
    expect(within(item('Agora vai direto')).queryByText('enviada automaticamente após a resposta')).not.toBeInTheDocument()
  })

  it('announces a reply and status changes politely, once, and the history scrolls by keyboard', async () => {
    const { fake, conv } = waitingWithJoao()
    const queued = fake.addMessage(conv.id, { direction: 'out', type: 'text', text: 'Na fila', status: 'queued' })
    await renderApp({ fake, hash: `#/atendimentos/${conv.id}` })
    await screen.findByText('Na fila')
    const scroller = screen.getByRole('region', { name: 'Histórico da conversa' })
    expect(scroller).toHaveAttribute('tabindex', '0')
    expect(scroller).toContainElement(screen.getByRole('list', { name: 'Mensagens' }))
    expect(live()).toHaveTextContent(/^$/)

    act(() => fake.contactReplies(conv.id, 'Oi! Pode falar.'))
    await waitFor(() => expect(within(item('Na fila')).getByText('enviada')).toBeInTheDocument())
    // The release is said once; the reply was said before it.
    expect(live()).toHaveTextContent('Mensagens da fila enviadas após a resposta de João Silva')
    act(() => fake.setStatus(queued.id, 'delivered'))
    await waitFor(() => expect(live()).toHaveTextContent('Mensagem “Na fila”: entregue'))
    // A copy older than what is shown changes nothing and says nothing.
    act(() => fake.emit('message.updated', { ...fake.messages.find((m) => m.id === queued.id)!, status: 'sent', updated_at: queued.created_at }))
    expect(live()).toHaveTextContent('Mensagem “Na fila”: entregue')
    act(() => fake.contactReplies(conv.id, 'Mais uma coisa'))
    await waitFor(() => expect(live()).toHaveTextContent('João Silva respondeu: “Mais uma coisa”'))
  })

  it('says in pt-BR when a message left the queue before it could be withdrawn', async () => {
    const { fake, conv } = waitingWithJoao()
    const m = fake.addMessage(conv.id, { direction: 'out', type: 'text', text: 'Já foi', status: 'queued' })
    const { user } = await renderApp({ fake, hash: `#/atendimentos/${conv.id}` })
    await screen.findByText('Já foi')
    m.status = 'pending' // released on the server; the event has not arrived yet
    await user.click(screen.getByRole('button', { name: 'Retirar da fila: “Já foi”' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('Esta mensagem já foi enviada e não pode mais ser retirada da fila.')
    expect(await within(item('Já foi')).findByText('enviando')).toBeInTheDocument()
  })

  it('shows a failed message with the provider’s reason', async () => {
    const { fake, conv } = waitingWithJoao()
    await renderApp({ fake, hash: `#/atendimentos/${conv.id}` })
    await screen.findByRole('heading', { name: 'João Silva', level: 2 })
    const failed = fake.addMessage(conv.id, { direction: 'out', type: 'text', text: 'Olá', status: 'sent' })
    act(() => fake.emit('message.created', failed))
    act(() => fake.setStatus(failed.id, 'failed', { code: 131026, title: 'Mensagem não entregue' }))
    const status = await screen.findByText('falhou: Mensagem não entregue')
    expect(status).toHaveAttribute('title', '131026')
  })

  it('asks for a template instead of free text outside the window, and re-engages with one', async () => {
    const fake = new FakeApi()
    const conv = fake.addConversation({
      contact_id: 'ct-joao',
      channel_id: 'ch-vendas',
      team_id: 'tm-vendas',
      status: 'active',
      windowExpiredAgo: 3_600_000,
    })
    const { user } = await renderApp({ fake, hash: `#/atendimentos/${conv.id}` })
    await screen.findByRole('heading', { name: 'João Silva', level: 2 })

    expect(screen.getByRole('heading', { name: 'A janela de 24 horas terminou' })).toBeInTheDocument()
    expect(screen.queryByLabelText('Mensagem')).not.toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Escolher modelo de mensagem' }))

    const dialog = within(await screen.findByRole('dialog', { name: 'Enviar modelo de mensagem' }))
    await user.click(await dialog.findByRole('radio', { name: 'lembrete_fatura' }))
    await user.click(dialog.getByRole('button', { name: 'Definir parâmetros' }))
    await user.type(dialog.getByLabelText('[1]'), 'João')
    await user.type(dialog.getByLabelText('[2]'), 'março')
    const cost = dialog.getByRole('region', { name: 'Custo estimado' })
    expect(await within(cost).findByText('R$ 0,04 por mensagem entregue · US$ 0,0068 · câmbio R$ 5,80 de 04/12/2026')).toBeInTheDocument()
    await user.click(dialog.getByRole('button', { name: 'Enviar modelo' }))

    expect(await screen.findByText('Olá João, sua fatura de março vence amanhã.')).toBeInTheDocument()
    expect(fake.calls('POST', `/api/v1/conversations/${conv.id}/messages`)[0].body).toEqual({
      template_id: 'tp-fatura',
      parameters: { '1': 'João', '2': 'março' },
    })
    // Re-engaged: waiting again, so the composer queues until the reply.
    expect(await screen.findByText('Aguardando a resposta do contato')).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Colocar na fila' })).toBeInTheDocument()
  })
})

describe('sandbox channels', () => {
  it('let the agent simulate the contact’s reply, which releases the queue', async () => {
    const { fake, conv } = waitingWithJoao()
    fake.addMessage(conv.id, { direction: 'out', type: 'text', text: 'Na fila', status: 'queued' })
    const { user } = await renderApp({ fake, hash: `#/atendimentos/${conv.id}` })
    await screen.findByText('Na fila')

    // The sandbox's panel shows once the channel is known, which may come after the messages.
    await user.click(await screen.findByText('Canal de teste: simular uma resposta do contato'))
    await user.type(screen.getByLabelText('Resposta do contato'), 'Oi! Pode falar sim.')
    await user.click(screen.getByRole('button', { name: 'Simular resposta' }))

    expect(await view().findByText('Oi! Pode falar sim.')).toBeInTheDocument()
    expect(fake.calls('POST', '/api/v1/sandbox/channels/ch-vendas/inbound')[0].body).toEqual({
      from: '+5511987654321',
      name: 'João Silva',
      text: 'Oi! Pode falar sim.',
    })
    await waitFor(() => expect(within(item('Na fila')).getByText('enviada')).toBeInTheDocument())
    expect(screen.queryByText('Aguardando a resposta do contato')).not.toBeInTheDocument()
  })
})

describe('"Atendimentos" list', () => {
  it('shows tabs with contact, channel, team, status and window, and adds conversations that arrive live', async () => {
    const fake = new FakeApi()
    const { user } = await renderApp({ fake })

    const tabs = screen.getByRole('tablist', { name: 'Filtrar atendimentos' })
    const row = await screen.findByRole('link', { name: /Mariana Costa/ })
    await waitFor(() => expect(within(tabs).getAllByRole('tab').map((t) => t.textContent)).toEqual(['Meus1, 1 não lida', 'Aguardando', 'Outros', 'Encerrados']))
    expect(row).toHaveTextContent('Ativo')
    expect(row).toHaveTextContent('Vendas WhatsApp · Vendas')
    expect(row).toHaveTextContent(/Janela: 4 h 5\d min/)

    // A contact writes in on another channel (receptive start): it shows up without a reload.
    act(() => {
      const c = fake.addConversation({
        contact_id: 'ct-maria',
        channel_id: 'ch-suporte',
        team_id: 'tm-financeiro',
        status: 'active',
        origin: 'receptive',
        windowOpenFor: 24 * 3_600_000,
      })
      fake.emit('conversation.created', c)
    })
    await user.click(within(tabs).getByRole('tab', { name: /Outros/ }))
    const other = await screen.findByRole('link', { name: /Maria Oliveira/ })
    expect(other).toHaveTextContent('Suporte WhatsApp · Financeiro')

    // Keyboard: arrows move between tabs.
    await user.keyboard('{ArrowLeft}')
    expect(within(tabs).getByRole('tab', { name: /Aguardando/ })).toHaveAttribute('aria-selected', 'true')
    expect(screen.getByText('Nenhum atendimento aguardando resposta.')).toBeInTheDocument()
  })

  it('after a reconnect, gets the missed events from the stream instead of refetching', async () => {
    const fake = new FakeApi()
    await renderApp({ fake })
    await screen.findByRole('link', { name: /Mariana Costa/ })
    const mariana = fake.conversations.find((c) => c.contact.id === 'ct-mariana')!
    act(() => fake.emit('conversation.updated', mariana)) // the stream has an id to resume from
    const before = fake.calls('GET', '/api/v1/conversations').length
    const es = FakeEventSource.instances[0]
    act(() => es.drop())
    expect(es.lastEventId).not.toBe('') // the browser sends it as Last-Event-ID
    // Missed while disconnected, and replayed by the server after the reconnect.
    const joao = fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'waiting', assignee_id: 'u-ana' })
    act(() => {
      es.open()
      fake.emit('conversation.created', joao)
    })
    expect(await screen.findByRole('tab', { name: /^Aguardando\s*1$/ })).toBeInTheDocument()
    expect(fake.calls('GET', '/api/v1/conversations')).toHaveLength(before)
  })

  it('refetches when the stream says reset', async () => {
    const fake = new FakeApi()
    await renderApp({ fake })
    await screen.findByRole('link', { name: /Mariana Costa/ })
    const before = fake.calls('GET', '/api/v1/conversations').length
    fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'waiting', assignee_id: 'u-ana' })
    act(() => FakeEventSource.instances[0].emit('reset', {}, '99'))
    await waitFor(() => expect(fake.calls('GET', '/api/v1/conversations').length).toBe(before + 1))
    expect(await screen.findByRole('tab', { name: /^Aguardando\s*1$/ })).toBeInTheDocument()
  })

  it('refetches after the event stream reconnects with no id to resume from', async () => {
    const fake = new FakeApi()
    await renderApp({ fake })
    await screen.findByRole('link', { name: /Mariana Costa/ })
    const before = fake.calls('GET', '/api/v1/conversations').length
    // Missed while disconnected: no event for this one.
    fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'waiting', assignee_id: 'u-ana' })
    act(() => {
      FakeEventSource.instances[0].drop()
      FakeEventSource.instances[0].open()
    })
    await waitFor(() => expect(fake.calls('GET', '/api/v1/conversations').length).toBe(before + 1))
    expect(await screen.findByRole('tab', { name: /^Aguardando\s*1$/ })).toBeInTheDocument()
  })
})
