import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { toLocalInputValue } from '../i18n/format'
import { renderApp } from './renderApp'
import { conversar, toParameters } from './helpers'

const DAY = 24 * 3_600_000

describe('"Enviar mensagem": scheduling, server validation and conflicts', () => {
  it('schedules in local time and sends the instant in UTC', async () => {
    const { fake, user } = await renderApp()
    const dialog = await conversar(user, '11 98765-4321')
    const d = within(dialog)
    await user.click(d.getByRole('radio', { name: 'Agendar mensagem' }))
    const when = d.getByLabelText('Data e hora do envio')
    expect(d.getByText('Horário local (America/Sao_Paulo).')).toBeInTheDocument()

    const tomorrow = new Date(Date.now() + DAY)
    tomorrow.setHours(14, 30, 0, 0)
    fireEvent.change(when, { target: { value: toLocalInputValue(tomorrow) } })
    await user.click(d.getByRole('radio', { name: 'Vendas WhatsApp' }))
    await user.click(d.getByRole('radio', { name: 'Vendas' }))
    await user.click(d.getByRole('button', { name: 'Continuar' }))
    await user.click(await d.findByRole('radio', { name: 'codigo_acesso' }))
    await user.click(d.getByRole('button', { name: 'Definir parâmetros' }))
    await user.type(d.getByLabelText('[1]'), '482913')
    expect(d.getByRole('button', { name: 'Agendar' })).toBeInTheDocument()
    await user.click(d.getByRole('button', { name: 'Agendar' }))

    expect(await screen.findByText('Mensagem agendada')).toBeInTheDocument()
    const body = fake.calls('POST', '/api/v1/conversations')[0].body as Record<string, unknown>
    expect(body.send_type).toBe('scheduled')
    // São Paulo is UTC−3: 14:30 local is 17:30Z.
    expect(body.scheduled_at).toMatch(/T17:30:00Z$/)
    expect(Date.parse(body.scheduled_at as string)).toBe(tomorrow.getTime())
    expect(body.parameters).toEqual({ '1': '482913' }) // positional template: an object by key
  })

  it('puts every 422 error at its field, and sends the agent back to fix earlier steps', async () => {
    const { fake, user } = await renderApp()
    const dialog = await conversar(user, '11 98765-4321')
    const d = within(dialog)
    await user.click(d.getByRole('radio', { name: 'Agendar mensagem' }))
    // 40 days ahead: the browser accepts it, the server (30-day limit) does not.
    const far = new Date(Date.now() + 40 * DAY)
    far.setHours(10, 0, 0, 0)
    fireEvent.change(d.getByLabelText('Data e hora do envio'), { target: { value: toLocalInputValue(far) } })
    await user.click(d.getByRole('radio', { name: 'Vendas WhatsApp' }))
    await user.click(d.getByRole('radio', { name: 'Vendas' }))
    await user.click(d.getByRole('button', { name: 'Continuar' }))
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
    const when = d.getByLabelText('Data e hora do envio')
    expect(when).toHaveAttribute('aria-invalid', 'true')
    expect(when).toHaveAccessibleDescription(/Escolha uma data e hora no futuro, em até 30 dias\./)
  })

  it('on 409 conversation_already_open offers to open the existing conversation', async () => {
    const { fake, user } = await renderApp()
    const dialog = await conversar(user, '31 99111-2222') // Mariana already talks on Vendas
    const d = within(dialog)
    await toParameters(user, dialog, { channel: 'Vendas WhatsApp', team: 'Vendas', template: 'boas_vindas' })
    await user.type(d.getByLabelText('[NOME]'), 'Mariana')
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))

    expect(await d.findByText('Já existe um atendimento aberto com Mariana Costa neste canal.')).toBeInTheDocument()
    // A retry of the same form reuses its Idempotency-Key; a changed form gets a new one.
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await waitFor(() => expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(2))
    await user.type(d.getByLabelText('[NOME]'), ' Costa')
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await waitFor(() => expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(3))
    const keys = fake.calls('POST', '/api/v1/conversations').map((r) => r.headers['idempotency-key'])
    expect(keys[0]).toBe(keys[1])
    expect(keys[2]).not.toBe(keys[0])

    await user.click(await d.findByRole('button', { name: 'Abrir atendimento existente' }))
    expect(await screen.findByRole('heading', { name: 'Mariana Costa', level: 2 })).toBeInTheDocument()
    expect(window.location.hash).toBe('#/atendimentos/cv-mariana')
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
  })
})
