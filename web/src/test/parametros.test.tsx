import { waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { FakeApi, fakeTemplate, protocoloTemplate } from './fakeApi'
import { renderApp } from './renderApp'
import { conversar, toParameters } from './helpers'

/** A NAMED template with its variable in the header only. */
function aviso() {
  return fakeTemplate('tp-aviso', 'ch-vendas', 'aviso_protocolo', 'UTILITY', '', {
    parameter_format: 'NAMED',
    components: [
      {
        type: 'HEADER',
        format: 'TEXT',
        text: 'Protocolo {{protocolo}}',
        example: { header_text_named_params: [{ param_name: 'protocolo', example: '2024-9' }] },
      },
      { type: 'BODY', text: 'Olá {{nome}}, seu atendimento foi registrado.' },
    ],
  })
}

/** A NAMED template with twelve body variables. */
function doze() {
  const names = ['nome', 'pedido', 'produto', 'cor', 'tamanho', 'valor', 'parcelas', 'loja', 'endereco', 'data', 'hora', 'atendente']
  return fakeTemplate('tp-doze', 'ch-vendas', 'confirmacao_completa', 'UTILITY', names.map((n) => `${n}: {{${n}}}.`).join(' '))
}

async function setup(...templates: ReturnType<typeof fakeTemplate>[]) {
  const fake = new FakeApi()
  fake.templates.push(...templates)
  const app = await renderApp({ fake })
  const dialog = await conversar(app.user, '11 98765-4321')
  return { ...app, dialog, d: within(dialog) }
}

describe('"Parâmetros": keys, labels, examples and Enter', () => {
  it('shows header variables as labels on the cards, never {{protocolo}}', async () => {
    const { user, d } = await setup(protocoloTemplate(), aviso())
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await user.click(d.getByRole('button', { name: 'Vendas WhatsApp' })) // its default team: on to the templates
    const card = (await d.findByRole('radio', { name: 'aviso_protocolo' })).closest('label')!
    expect(card.textContent).toContain('Protocolo [PROTOCOLO]')
    expect(card.textContent).not.toContain('{{')
    const pos = d.getByRole('radio', { name: 'protocolo_atendimento' }).closest('label')!
    expect(pos.textContent).toContain('Protocolo [1]')
    expect(pos.textContent).not.toContain('{{')
  })

  it('labels each field as the help page does, says where values outside the body go, and shows Meta’s example', async () => {
    const { fake, user, dialog, d } = await setup(protocoloTemplate())
    await toParameters(user, dialog, { channel: 'Vendas WhatsApp', team: 'Vendas', template: 'protocolo_atendimento' })
    const fields = d.getAllByRole('textbox')
    const labels = fields.map((f) => document.querySelector(`label[for="${f.id}"]`)?.textContent)
    expect(labels).toEqual(['[1] · cabeçalho', '[1]', '[2]', '[1] · complemento do link do botão'])
    expect(fields.map((f) => f.getAttribute('placeholder'))).toEqual(['2024-000123', 'Maria', 'troca de produto', '2024-000123'])

    // The local preview never shows {{1}}: blanks are their labels, in the header too.
    const preview = d.getByTestId('params-preview')
    expect(preview.textContent).toContain('Protocolo [1]')
    expect(preview.textContent).not.toContain('{{')

    await user.type(d.getByLabelText('[1] · cabeçalho'), '2024-7')
    await user.type(d.getByLabelText('[1]'), 'Ana')
    await user.type(d.getByLabelText('[2]'), 'troca')
    await user.type(d.getByLabelText('[1] · complemento do link do botão'), '2024-7')
    await waitFor(() => expect(within(preview).getByText('Protocolo 2024-7')).toBeInTheDocument())
    expect(within(preview).getByText('https://loja.example.com/p/2024-7')).toBeInTheDocument()

    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await waitFor(() => expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(1))
    expect((fake.calls('POST', '/api/v1/conversations')[0].body as Record<string, unknown>).parameters).toEqual({
      'header.1': '2024-7',
      '1': 'Ana',
      '2': 'troca',
      'button.1': '2024-7',
    })
  })

  it('puts a server error on parameters.header.1 at the header’s field', async () => {
    const { fake, user, dialog, d } = await setup(protocoloTemplate())
    await toParameters(user, dialog, { channel: 'Vendas WhatsApp', team: 'Vendas', template: 'protocolo_atendimento' })
    await user.type(d.getByLabelText('[1] · cabeçalho'), 'a     b')
    await user.type(d.getByLabelText('[1]'), 'Ana')
    await user.type(d.getByLabelText('[2]'), 'troca')
    await user.type(d.getByLabelText('[1] · complemento do link do botão'), 'x')
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    const header = d.getByLabelText('[1] · cabeçalho')
    await waitFor(() => expect(header).toHaveAttribute('aria-invalid', 'true'))
    expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(1) // the server's 422 named parameters.header.1
    expect(d.getByLabelText('[1]')).not.toHaveAttribute('aria-invalid')
  })

  it('Enter moves to the next field and starts from the last one; Enter elsewhere is untouched', async () => {
    const { fake, user, d } = await setup(doze())
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await user.click(d.getByRole('button', { name: 'Vendas WhatsApp' })) // its default team: on to the templates
    // Enter in the template search does not pick, advance or submit anything.
    await user.type(d.getByRole('searchbox', { name: 'Pesquisar modelo' }), 'confirmacao{Enter}')
    expect(d.getByRole('heading', { name: 'Modelo de mensagem' })).toBeInTheDocument()
    await user.click(await d.findByRole('radio', { name: 'confirmacao_completa' }))
    await user.click(d.getByRole('button', { name: 'Definir parâmetros' }))
    await d.findByRole('heading', { name: 'Parâmetros' })

    const fields = d.getAllByRole('textbox')
    expect(fields).toHaveLength(12)
    await user.click(fields[0])
    for (let i = 0; i < 11; i++) {
      if (!(fields[i] as HTMLInputElement).value) await user.keyboard(`valor ${i}`)
      await user.keyboard('{Enter}')
      expect(fields[i + 1]).toHaveFocus()
    }
    // Shift+Enter is not "next".
    await user.keyboard('{Shift>}{Enter}{/Shift}')
    expect(fields[11]).toHaveFocus()
    expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(0)
    // Enter in the last field starts, as the "Iniciar atendimento" button does.
    await user.keyboard('{Enter}')
    await waitFor(() => expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(1))
    const sent = (fake.calls('POST', '/api/v1/conversations')[0].body as { parameters: Record<string, string> }).parameters
    expect(Object.keys(sent)).toHaveLength(12)
    expect(sent.hora).toBe('valor 10')
    expect(sent.atendente).toBeTruthy() // the agent's name, filled in for them
  })

  it('Enter in the last field with blanks flags them instead of starting', async () => {
    const { fake, user, dialog, d } = await setup()
    await toParameters(user, dialog, { channel: 'Vendas WhatsApp', team: 'Vendas', template: 'lembrete_fatura' })
    const [first, last] = d.getAllByRole('textbox')
    expect(first).toHaveAttribute('placeholder', 'Maria')
    await user.click(last)
    await user.keyboard('março{Enter}')
    await waitFor(() => expect(first).toHaveAttribute('aria-invalid', 'true'))
    expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(0)
  })
})
