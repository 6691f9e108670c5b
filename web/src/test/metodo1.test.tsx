import { screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { renderApp } from './renderApp'
import { choiceNames, conversar, radioNames } from './helpers'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('Método 1: o campo "Digite o número com DDD" e "Conversar"', () => {
  it('finds the contact and starts a conversation through every step of the help page', async () => {
    const { fake, user } = await renderApp()

    // Passo 1: the phone field at the bottom left.
    const dialog = await conversar(user, '(11) 98765-4321')
    expect(fake.calls('GET', '/api/v1/contacts/lookup')[0].query.get('phone')).toBe('(11) 98765-4321')
    const d = within(dialog)

    // Passo 2: confirm the contact, choose "Iniciar atendimento" (no "Continuar": the choices move on).
    expect(d.getByText('João Silva')).toBeInTheDocument()
    expect(d.getByText('+55 11 98765-4321')).toBeInTheDocument()
    expect(d.queryByRole('button', { name: 'Continuar' })).not.toBeInTheDocument()
    expect(d.getByRole('heading', { name: 'Selecione o tipo de envio' })).toBeInTheDocument()
    expect(d.getByRole('button', { name: 'Agendar mensagem' })).toHaveAttribute('aria-pressed', 'false')
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    expect(d.getByRole('button', { name: 'Iniciar atendimento' })).toHaveAttribute('aria-pressed', 'true')

    // Passo 3: channel (inactive ones hidden), then only the teams linked to it that the agent is in.
    expect(d.getByRole('heading', { name: 'Selecione um canal' })).toBeInTheDocument()
    expect(choiceNames(d.getByRole('group', { name: 'Selecione um canal' }))).toEqual(['Vendas WhatsApp', 'Suporte WhatsApp'])
    // Suporte WhatsApp's default team, Suporte, is the agent's: choosing the channel moves on.
    await user.click(d.getByRole('button', { name: 'Suporte WhatsApp' }))
    expect(await d.findByRole('heading', { name: 'Modelo de mensagem' })).toBeInTheDocument()
    // "Voltar" returns to change them: the agent is offered only their teams (not Financeiro).
    await user.click(d.getByRole('button', { name: 'Voltar' }))
    expect(choiceNames(d.getByRole('group', { name: 'Selecione uma equipe' }))).toEqual(['Suporte'])
    expect(d.getByRole('button', { name: 'Suporte' })).toHaveAttribute('aria-pressed', 'true')
    await user.click(d.getByRole('button', { name: 'Vendas WhatsApp' }))
    await d.findByRole('heading', { name: 'Modelo de mensagem' })
    await user.click(d.getByRole('button', { name: 'Voltar' }))
    expect(choiceNames(d.getByRole('group', { name: 'Selecione uma equipe' }))).toEqual(['Vendas', 'Suporte'])
    expect(d.getByRole('button', { name: 'Vendas' })).toHaveAttribute('aria-pressed', 'true') // the channel's default team
    // Choosing the team moves on.
    await user.click(d.getByRole('button', { name: 'Vendas' }))

    // Passo 4: "Modelo de mensagem" with search and category filter; only approved ones.
    expect(d.getByRole('heading', { name: 'Modelo de mensagem' })).toBeInTheDocument()
    const list = d.getByRole('radiogroup', { name: 'Modelos aprovados' })
    await within(list).findByRole('radio', { name: 'boas_vindas' })
    expect(radioNames(list)).toEqual(['boas_vindas', 'lembrete_fatura', 'codigo_acesso'])
    expect(within(list).getByText(/da Loja Exemplo\. Podemos conversar\?/)).toBeInTheDocument()
    expect(within(list).getAllByText('[NOME]').length).toBeGreaterThan(0)
    expect(d.getByRole('button', { name: 'Todos os modelos' })).toHaveAttribute('aria-pressed', 'true')
    expect(d.getByRole('button', { name: 'Definir parâmetros' })).toBeDisabled()

    await user.click(d.getByRole('button', { name: 'Utilidade' }))
    await waitFor(() => expect(radioNames(list)).toEqual(['lembrete_fatura']))
    const q = fake.calls('GET', '/api/v1/templates').at(-1)!.query
    expect(Object.fromEntries(q)).toMatchObject({ channel_id: 'ch-vendas', status: 'APPROVED', category: 'UTILITY' })

    await user.click(d.getByRole('button', { name: 'Todos os modelos' }))
    await user.type(d.getByRole('searchbox', { name: 'Pesquisar modelo' }), 'conversar')
    await waitFor(() => expect(radioNames(list)).toEqual(['boas_vindas']))
    await user.click(within(list).getByRole('radio', { name: 'boas_vindas' }))
    await user.click(d.getByRole('button', { name: 'Definir parâmetros' }))

    // Passo 5: "Parâmetros", [ATENDENTE] defaults to the agent, live server preview, cost.
    expect(d.getByRole('heading', { name: 'Parâmetros' })).toBeInTheDocument()
    expect(d.getByLabelText('[ATENDENTE]')).toHaveValue('Ana Souza')
    await user.type(d.getByLabelText('[NOME]'), 'João')
    const preview = d.getByRole('region', { name: 'Pré-visualização' })
    await waitFor(() =>
      expect(preview).toHaveTextContent('Olá João, aqui é Ana Souza da Loja Exemplo. Podemos conversar?'),
    )
    await waitFor(() =>
      expect(fake.calls('POST', '/api/v1/templates/tp-boas-vindas/preview').at(-1)!.body).toEqual({
        parameters: { nome: 'João', atendente: 'Ana Souza' },
      }),
    )
    const cost = d.getByRole('region', { name: 'Custo estimado' })
    expect(await within(cost).findByText('R$ 0,36 por mensagem entregue · US$ 0,0625 · câmbio R$ 5,80 de 04/12/2026')).toBeInTheDocument()
    expect(within(cost).getByText('Conversa iniciada pela empresa')).toBeInTheDocument()
    expect(within(cost).getByText('Tabela de preços de 01/01/2026.')).toBeInTheDocument()

    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))

    // The conversation opens, waiting for the contact, and focus goes there (not back to the phone field).
    const heading = await screen.findByRole('heading', { name: 'João Silva', level: 2 })
    await waitFor(() => expect(heading).toHaveFocus())
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
    expect(screen.getByText('Aguardando a resposta do contato')).toBeInTheDocument()

    const [start] = fake.calls('POST', '/api/v1/conversations')
    expect(start.body).toEqual({
      contact_id: 'ct-joao',
      channel_id: 'ch-vendas',
      team_id: 'tm-vendas',
      send_type: 'now',
      template_id: 'tp-boas-vindas',
      parameters: { nome: 'João', atendente: 'Ana Souza' },
    })
    expect(start.headers['idempotency-key']).toMatch(UUID)
    expect(start.headers['x-csrf-token']).toBe(fake.csrfToken)

    const conv = fake.conversations.at(-1)!
    expect(window.location.hash).toBe(`#/atendimentos/${conv.id}`)
    const messages = screen.getByRole('list', { name: 'Mensagens' })
    expect(within(messages).getByText('Olá João, aqui é Ana Souza da Loja Exemplo. Podemos conversar?')).toBeInTheDocument()
    expect(within(messages).getByText('enviada')).toBeInTheDocument()

    // The list shows it under "Aguardando", selected.
    expect(screen.getByRole('tab', { name: /Aguardando/ })).toHaveAttribute('aria-selected', 'true')
    const row = screen.getByRole('link', { name: /João Silva/ })
    expect(row).toHaveAttribute('aria-current', 'page')
    expect(row).toHaveTextContent('Vendas WhatsApp · Vendas')
    expect(row).toHaveTextContent('Aguardando resposta')
  })

  it('offers to create the contact when the number is not found', async () => {
    const { fake, user } = await renderApp()
    await user.type(screen.getByLabelText('Digite o número com DDD'), '21 91234-5678')
    await user.click(screen.getByRole('button', { name: 'Conversar' }))

    const notFound = await screen.findByRole('dialog', { name: 'Contato não encontrado' })
    const n = within(notFound)
    expect(n.getByText(/Nenhum contato com o número 21 91234-5678/)).toBeInTheDocument()
    expect(n.getByLabelText('Telefone')).toHaveValue('21 91234-5678')
    await user.type(n.getByLabelText('Nome'), 'Pedro Lima')
    await user.click(n.getByRole('button', { name: 'Salvar contato' }))

    const send = await screen.findByRole('dialog', { name: 'Enviar mensagem' })
    expect(within(send).getByText('Pedro Lima')).toBeInTheDocument()
    expect(within(send).getByText('+55 21 91234-5678')).toBeInTheDocument()
    expect(fake.contacts.some((c) => c.phone === '+5521912345678')).toBe(true)
  })

  it('says at the field when the number is not valid', async () => {
    const { user } = await renderApp()
    const field = screen.getByLabelText('Digite o número com DDD')
    await user.type(field, '1234')
    await user.click(screen.getByRole('button', { name: 'Conversar' }))
    expect(await screen.findByText('Número inválido. Digite com DDD, por exemplo 11 98765-4321.')).toBeInTheDocument()
    expect(field).toHaveAttribute('aria-invalid', 'true')
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
  })

  it('skips "Selecione um canal" when the account has a single active channel', async () => {
    const { FakeApi } = await import('./fakeApi')
    const fake = new FakeApi()
    fake.channels = fake.channels.filter((c) => c.id === 'ch-vendas')
    const { user } = await renderApp({ fake })
    const dialog = await conversar(user, '11987654321')
    const d = within(dialog)
    expect(d.queryByRole('heading', { name: 'Selecione um canal' })).not.toBeInTheDocument()
    expect(d.getByText('Canal: Vendas WhatsApp')).toBeInTheDocument()
    expect(choiceNames(d.getByRole('group', { name: 'Selecione uma equipe' }))).toEqual(['Vendas', 'Suporte'])
    // The only channel and its default team are chosen: "Iniciar atendimento" goes straight to the templates.
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    expect(await d.findByRole('heading', { name: 'Modelo de mensagem' })).toBeInTheDocument()
  })
})
