import { screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it, vi } from 'vitest'
import { formatInZone, splitInZone, zonedToUTC } from '../i18n/format'
import { renderApp } from './renderApp'
import { conversar, toParameters } from './helpers'

const DAY = 24 * 3_600_000

describe('"Enviar mensagem": scheduling, server validation and conflicts', () => {
  it('schedules in Brasília time, typed as dd/mm/aaaa hh:mm, and sends the instant in UTC', async () => {
    const { fake, user } = await renderApp()
    const dialog = await conversar(user, '11 98765-4321')
    const d = within(dialog)
    await user.click(d.getByRole('button', { name: 'Agendar mensagem' }))
    expect(d.getByText('Até 30 dias a partir de agora, no Horário de Brasília.')).toBeInTheDocument()
    const date = d.getByLabelText('Data')
    const time = d.getByLabelText('Hora')
    // The default is the next full hour, shown the Brazilian way.
    expect(date).toHaveValue(splitInZone(Date.now() + 3_600_000).date)

    // The past and more than 30 days ahead are refused at this step, before anything else is filled.
    const yesterday = splitInZone(Date.now() - DAY)
    await user.clear(date)
    await user.type(date, yesterday.date.replace(/\//g, '')) // the slashes come by themselves
    expect(date).toHaveValue(yesterday.date)
    expect(await d.findByText('Escolha uma data e hora no futuro.')).toBeInTheDocument()
    await user.click(d.getByRole('button', { name: 'Vendas WhatsApp' }))
    await user.click(d.getByRole('button', { name: 'Vendas' }))
    expect(d.getByRole('heading', { name: 'Selecione o tipo de envio' })).toBeInTheDocument() // did not move on
    await user.clear(date)
    await user.type(date, splitInZone(Date.now() + 31 * DAY).date)
    expect(await d.findByText('Escolha uma data em até 30 dias.')).toBeInTheDocument()
    // Each field is read with the error, the format and the zone.
    expect(date).toHaveAccessibleDescription('Escolha uma data em até 30 dias. Até 30 dias a partir de agora, no Horário de Brasília.')
    expect(time).toHaveAccessibleDescription(/Horário de Brasília/)
    expect(d.getByRole('button', { name: 'Selecionar modelo de mensagem' })).toBeDisabled()

    const tomorrow = splitInZone(Date.now() + DAY)
    await user.clear(date)
    await user.type(date, tomorrow.date)
    await user.clear(time)
    await user.type(time, '1430')
    expect(time).toHaveValue('14:30')
    await user.click(d.getByRole('button', { name: 'Vendas' })) // choosing the team moves on
    await user.click(await d.findByRole('radio', { name: 'codigo_acesso' }))
    await user.click(d.getByRole('button', { name: 'Definir parâmetros' }))
    await user.type(d.getByLabelText('[1]'), '482913')
    expect(d.getByText(`Envio agendado para ${tomorrow.date} 14:30 (Horário de Brasília) · Canal: Vendas WhatsApp · Equipe: Vendas`)).toBeInTheDocument()
    await user.click(d.getByRole('button', { name: 'Agendar' }))

    expect(await screen.findByText('Mensagem agendada')).toBeInTheDocument()
    const body = fake.calls('POST', '/api/v1/conversations')[0].body as Record<string, unknown>
    expect(body.send_type).toBe('scheduled')
    // Brasília is UTC−3: 14:30 there is 17:30Z, whatever the browser's zone.
    expect(body.scheduled_at).toBe(zonedToUTC(tomorrow.date, '14:30'))
    expect(body.scheduled_at).toMatch(/T17:30:00Z$/)
    expect(body.parameters).toEqual({ '1': '482913' }) // positional template: an object by key
  })

  it('puts every 422 error at its field, and sends the agent back to fix earlier steps', async () => {
    const { fake, user } = await renderApp()
    fake.scheduleLimitDays = 1 // the server refuses what the SPA allowed
    const dialog = await conversar(user, '11 98765-4321')
    const d = within(dialog)
    await user.click(d.getByRole('button', { name: 'Agendar mensagem' }))
    const date = d.getByLabelText('Data')
    await user.clear(date)
    await user.type(date, splitInZone(Date.now() + 3 * DAY).date)
    await user.click(d.getByRole('button', { name: 'Vendas WhatsApp' }))
    await user.click(d.getByRole('button', { name: 'Vendas' }))
    await user.click(await d.findByRole('radio', { name: 'boas_vindas' }))
    await user.click(d.getByRole('button', { name: 'Definir parâmetros' }))

    // A blank parameter is caught before any request.
    await user.clear(d.getByLabelText('[ATENDENTE]'))
    await user.type(d.getByLabelText('[NOME]'), 'João      Silva') // six spaces: parameter_invalid
    await user.click(d.getByRole('button', { name: 'Agendar' }))
    expect(await d.findByText('Preencha este parâmetro.')).toBeInTheDocument()
    expect(d.getByLabelText('[ATENDENTE]')).toHaveAttribute('aria-invalid', 'true')
    expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(0)

    await user.type(d.getByLabelText('[ATENDENTE]'), 'Ana')
    await user.click(d.getByRole('button', { name: 'Agendar' }))
    await waitFor(() => expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(1))

    const nome = d.getByLabelText('[NOME]')
    await waitFor(() => expect(nome).toHaveAttribute('aria-invalid', 'true'))
    expect(nome).toHaveAccessibleDescription(/Valor inválido: não use quebras de linha/)
    expect(d.getByLabelText('[ATENDENTE]')).not.toHaveAttribute('aria-invalid')
    const summary = d.getByText('Corrija os campos indicados.').closest('[role="alert"]') as HTMLElement
    expect(summary).toHaveTextContent('Escolha uma data e hora no futuro, em até 30 dias.')

    await user.click(within(summary).getByRole('button', { name: 'Alterar' }))
    expect(d.getByLabelText('Data')).toHaveAttribute('aria-invalid', 'true')
    expect(d.getByText('Escolha uma data e hora no futuro, em até 30 dias.')).toBeInTheDocument()
  })

  it('says at the first step that the contact already has an open conversation on the channel', async () => {
    const { fake, user } = await renderApp()
    const dialog = await conversar(user, '31 99111-2222') // Mariana already talks on Vendas
    const d = within(dialog)
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await user.click(d.getByRole('button', { name: 'Vendas WhatsApp' }))
    expect(await d.findByText('Já existe um atendimento aberto com Mariana Costa neste canal.')).toBeInTheDocument()
    expect(d.getByRole('heading', { name: 'Selecione o tipo de envio' })).toBeInTheDocument() // not moved on
    expect(fake.calls('GET', '/api/v1/contacts/ct-mariana/start-state').at(-1)!.query.get('channel_id')).toBe('ch-vendas')
    // Another channel has nothing open: the flow goes on there.
    await user.click(d.getByRole('button', { name: 'Suporte WhatsApp' }))
    expect(await d.findByRole('heading', { name: 'Modelo de mensagem' })).toBeInTheDocument()
    await user.click(d.getByRole('button', { name: 'Voltar' }))
    await user.click(d.getByRole('button', { name: 'Vendas WhatsApp' }))

    await user.click(await d.findByRole('button', { name: 'Abrir atendimento existente' }))
    expect(await screen.findByRole('heading', { name: 'Mariana Costa', level: 2 })).toBeInTheDocument()
    expect(window.location.hash).toBe('#/atendimentos/cv-mariana')
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
    expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(0)
  })

  it('offers the free text inside an open 24-hour window, and says until when', async () => {
    const { fake, user } = await renderApp()
    // Maria wrote an hour ago on Vendas; that conversation is closed, the window still open.
    fake.addConversation({ id: 'cv-maria', contact_id: 'ct-maria', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'closed', windowOpenFor: 23 * 3_600_000 })
    const expires = fake.conversations.find((c) => c.id === 'cv-maria')!.window.expires_at!
    const dialog = await conversar(user, '21 99876-5432')
    const d = within(dialog)
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await user.click(d.getByRole('button', { name: 'Vendas WhatsApp' }))
    const until = `O contato escreveu nas últimas 24 horas: a janela está aberta até ${formatInZone(expires)}. Você pode enviar uma mensagem de texto ou um modelo.`
    await d.findByRole('heading', { name: 'Modelo de mensagem' }) // choosing the channel moved on
    expect(await d.findByText(until)).toBeInTheDocument()
    await user.click(d.getByRole('button', { name: 'Enviar mensagem de texto' }))
    expect(d.getByRole('heading', { name: 'Mensagem de texto' })).toBeInTheDocument()
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    expect(await d.findByText('Digite a mensagem.')).toBeInTheDocument()
    await user.type(d.getByLabelText('Mensagem'), 'Oi Maria, vi sua mensagem!')
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await waitFor(() => expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(1))
    expect(fake.calls('POST', '/api/v1/conversations')[0].body).toEqual({
      contact_id: 'ct-maria',
      channel_id: 'ch-vendas',
      team_id: 'tm-vendas',
      send_type: 'now',
      text: 'Oi Maria, vi sua mensagem!',
    })
    // Inside the window the conversation is active at once.
    expect(await screen.findByRole('heading', { name: 'Maria Oliveira', level: 2 })).toBeInTheDocument()
    expect(fake.conversations.at(-1)!.status).toBe('active')
  })

  it('says so on the text step when the window closed meanwhile (422 template_required), with a way back', async () => {
    const { fake, user } = await renderApp()
    fake.addConversation({ id: 'cv-maria', contact_id: 'ct-maria', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'closed', windowOpenFor: 23 * 3_600_000 })
    const dialog = await conversar(user, '21 99876-5432')
    const d = within(dialog)
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await user.click(d.getByRole('button', { name: 'Vendas WhatsApp' }))
    await user.click(await d.findByRole('button', { name: 'Enviar mensagem de texto' }))
    await user.type(d.getByLabelText('Mensagem'), 'Oi Maria')
    fake.conversations.find((c) => c.id === 'cv-maria')!.window = { open: false, expires_at: new Date(Date.now() - 1000).toISOString() }
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    const alert = (await d.findByText('Corrija os campos indicados.')).closest('[role="alert"]') as HTMLElement
    expect(alert).toHaveTextContent('Escolha um modelo de mensagem aprovado: fora da janela de 24 horas, só um modelo inicia ou retoma a conversa.')
    await user.click(within(alert).getByRole('button', { name: 'Alterar' }))
    expect(d.getByRole('heading', { name: 'Modelo de mensagem' })).toBeInTheDocument()
  })

  it("says so when the contact's window cannot be read, and tries again", async () => {
    const { fake, user } = await renderApp()
    let failures = 1
    const fetch = fake.fetch
    vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) =>
      String(input).includes('/start-state') && failures-- > 0
        ? Promise.resolve(new Response(JSON.stringify({ type: 'about:blank', title: 'x', status: 503, code: 'database_unavailable', errors: [] }), { status: 503 }))
        : fetch(input, init),
    )
    const dialog = await conversar(user, '11 98765-4321')
    const d = within(dialog)
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await user.click(d.getByRole('button', { name: 'Vendas WhatsApp' }))
    expect(await d.findByText('O sistema está temporariamente indisponível. Tente de novo em instantes.')).toBeInTheDocument()
    expect(d.getByRole('heading', { name: 'Selecione o tipo de envio' })).toBeInTheDocument()
    // Once read, the choices already made move on.
    await user.click(d.getByRole('button', { name: 'Tentar de novo' }))
    expect(await d.findByRole('heading', { name: 'Modelo de mensagem' })).toBeInTheDocument()
  })

  it("forgets a 409 met on one channel when the agent goes back and picks another", async () => {
    const { fake, user } = await renderApp()
    const dialog = await conversar(user, '11 98765-4321')
    const d = within(dialog)
    await toParameters(user, dialog, { channel: 'Vendas WhatsApp', template: 'boas_vindas' })
    fake.addConversation({ id: 'cv-joao', contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'waiting' })
    await user.type(d.getByLabelText('[NOME]'), 'João')
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    expect(await d.findByText('Já existe um atendimento aberto com João Silva neste canal.')).toBeInTheDocument()
    await user.click(d.getByRole('button', { name: 'Voltar' }))
    await user.click(d.getByRole('button', { name: 'Voltar' }))
    await user.click(d.getByRole('button', { name: 'Suporte WhatsApp' }))
    expect(await d.findByRole('heading', { name: 'Modelo de mensagem' })).toBeInTheDocument()
    expect(d.queryByText('Já existe um atendimento aberto com João Silva neste canal.')).not.toBeInTheDocument()
  })

  it('on a 409 conversation_already_open at the last step offers the existing conversation, and retries with the same key', async () => {
    const { fake, user } = await renderApp()
    const dialog = await conversar(user, '11 98765-4321')
    const d = within(dialog)
    await toParameters(user, dialog, { channel: 'Vendas WhatsApp', template: 'boas_vindas' })
    // Meanwhile a colleague opened a conversation with João on the same channel.
    fake.addConversation({ id: 'cv-joao', contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'waiting' })
    await user.type(d.getByLabelText('[NOME]'), 'João')
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))

    expect(await d.findByText('Já existe um atendimento aberto com João Silva neste canal.')).toBeInTheDocument()
    // A retry of the same form reuses its Idempotency-Key; a changed form gets a new one.
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await waitFor(() => expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(2))
    await user.type(d.getByLabelText('[NOME]'), ' Silva')
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await waitFor(() => expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(3))
    const keys = fake.calls('POST', '/api/v1/conversations').map((r) => r.headers['idempotency-key'])
    expect(keys[0]).toBe(keys[1])
    expect(keys[2]).not.toBe(keys[0])

    await user.click(await d.findByRole('button', { name: 'Abrir atendimento existente' }))
    expect(await screen.findByRole('heading', { name: 'João Silva', level: 2 })).toBeInTheDocument()
    expect(window.location.hash).toBe('#/atendimentos/cv-joao')
  })

  it('comes back to the same step with what was filled after a reload', async () => {
    const first = await renderApp()
    const opened = await conversar(first.user, '11 98765-4321')
    await toParameters(first.user, opened, { channel: 'Vendas WhatsApp', template: 'boas_vindas' })
    let d = within(opened)
    await first.user.type(d.getByLabelText('[NOME]'), 'João')
    first.unmount()

    // A new page in the same tab (session storage kept): the flow reopens at "Parâmetros".
    const again = await renderApp({ fake: first.fake })
    const dialog = await screen.findByRole('dialog', { name: 'Enviar mensagem' })
    d = within(dialog)
    expect(await d.findByRole('heading', { name: 'Parâmetros' })).toBeInTheDocument()
    expect(d.getByLabelText('[NOME]')).toHaveValue('João')
    await again.user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await waitFor(() => expect(first.fake.calls('POST', '/api/v1/conversations')).toHaveLength(1))
    // A start clears the draft: the next reload opens nothing.
    expect(sessionStorage.getItem('atendimento.startDraft')).toBeNull()
  })
})

describe('"Enviar mensagem" asks before discarding what was filled', () => {
  it('asks on Escape once a choice is made, and keeps the flow on "Continuar editando"', async () => {
    const { user } = await renderApp()
    await conversar(user, '11 98765-4321')
    // Nothing chosen yet: Escape closes at once.
    await user.keyboard('{Escape}')
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Enviar mensagem' })).not.toBeInTheDocument())

    const again = within(await conversar(user, '11 98765-4321'))
    await user.click(again.getByRole('button', { name: 'Iniciar atendimento' }))
    await user.click(again.getByRole('button', { name: 'Vendas WhatsApp' }))
    await again.findByRole('heading', { name: 'Modelo de mensagem' })
    await user.keyboard('{Escape}')
    const ask = await screen.findByRole('alertdialog', { name: 'Descartar o que foi preenchido?' })
    await user.click(within(ask).getByRole('button', { name: 'Continuar editando' }))
    expect(again.getByRole('heading', { name: 'Modelo de mensagem' })).toBeInTheDocument()
    await user.keyboard('{Escape}')
    await user.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Descartar' }))
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Enviar mensagem' })).not.toBeInTheDocument())
    expect(sessionStorage.getItem('atendimento.startDraft')).toBeNull() // discarded: a reload opens nothing
  })
})
