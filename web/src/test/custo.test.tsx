import { waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { fakeTemplate, FakeApi } from './fakeApi'
import { renderApp } from './renderApp'
import { conversar, toParameters } from './helpers'

/** Método 1 up to "Modelo de mensagem" on the Vendas channel, for João. */
async function toTemplates(fake?: FakeApi) {
  const { user, fake: f } = await renderApp({ fake })
  const dialog = await conversar(user, '(11) 98765-4321')
  const d = within(dialog)
  await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
  await user.click(d.getByRole('button', { name: 'Vendas WhatsApp' }))
  await d.findByRole('heading', { name: 'Modelo de mensagem' })
  const list = d.getByRole('radiogroup', { name: 'Modelos aprovados' })
  await within(list).findByRole('radio', { name: 'boas_vindas' })
  return { user, fake: f, dialog, d, list }
}

/** The card around a template's radio. */
function card(list: HTMLElement, name: string): HTMLElement {
  return within(list).getByRole('radio', { name }).closest('.template-card') as HTMLElement
}

describe('Custo estimado: em reais com o câmbio da conta, o dólar ao lado', () => {
  it('each card shows its cost for the contact, one estimate per category', async () => {
    const fake = new FakeApi()
    // Two more of each billable kind: they reuse their category's estimate.
    fake.templates.push(
      fakeTemplate('tp-oferta', 'ch-vendas', 'oferta_semana', 'MARKETING', 'Oferta da semana para {{nome}}!'),
      fakeTemplate('tp-entrega', 'ch-vendas', 'entrega_pedido', 'UTILITY', 'Seu pedido {{1}} saiu para entrega.'),
    )
    const { list } = await toTemplates(fake)
    await waitFor(() => expect(within(card(list, 'oferta_semana')).getByText('Custo para este contato: R$ 0,36 (US$ 0,0625)')).toBeInTheDocument())
    expect(within(card(list, 'boas_vindas')).getByText('Custo para este contato: R$ 0,36 (US$ 0,0625)')).toBeInTheDocument()
    expect(within(card(list, 'lembrete_fatura')).getByText('Custo para este contato: R$ 0,04 (US$ 0,0068)')).toBeInTheDocument()
    expect(within(card(list, 'entrega_pedido')).getByText('Custo para este contato: R$ 0,04 (US$ 0,0068)')).toBeInTheDocument()
    expect(within(card(list, 'codigo_acesso')).getByText('Custo para este contato: R$ 0,04 (US$ 0,0068)')).toBeInTheDocument()
    // The cost is part of the card's description for a screen reader.
    const radio = within(list).getByRole('radio', { name: 'oferta_semana' })
    expect(radio).toHaveAccessibleDescription(/Custo para este contato: R\$\s0,36 \(US\$\s0,0625\)$/)

    // One request per category, for its first template, all for this contact.
    const asked = fake.calls('GET', '/api/v1/pricing/estimate')
    expect(asked.map((r) => r.query.get('template_id'))).toEqual(['tp-boas-vindas', 'tp-fatura', 'tp-codigo'])
    expect(new Set(asked.map((r) => r.query.get('contact_id')))).toEqual(new Set([fake.contacts[0].id]))
  })

  it('cards that cannot be chosen show no cost and ask for none', async () => {
    const fake = new FakeApi()
    fake.contacts[0].marketing_opted_out = true
    const { list } = await toTemplates(fake)
    await waitFor(() => expect(within(card(list, 'lembrete_fatura')).getByText(/^Custo para este contato/)).toBeInTheDocument())
    expect(within(card(list, 'boas_vindas')).queryByText(/^Custo para este contato/)).not.toBeInTheDocument()
    expect(fake.calls('GET', '/api/v1/pricing/estimate').map((r) => r.query.get('template_id'))).toEqual(['tp-fatura', 'tp-codigo'])
  })

  it('names the charge, shows reais first with the dollars, the rate and its date', async () => {
    const { user, dialog } = await renderApp().then(async ({ user }) => ({ user, dialog: await conversar(user, '(11) 98765-4321') }))
    await toParameters(user, dialog, { channel: 'Vendas WhatsApp', template: 'boas_vindas' })
    const cost = within(dialog).getByRole('region', { name: 'Custo estimado' })
    expect(await within(cost).findByText('R$ 0,36 por mensagem entregue · US$ 0,0625 · câmbio R$ 5,80 de 04/12/2026')).toBeInTheDocument()
    expect(within(cost).getByText('Conversa iniciada pela empresa')).toBeInTheDocument()
    expect(within(cost).queryByText(/Sem câmbio definido/)).not.toBeInTheDocument()
  })

  it('without an exchange rate: US$ only, with a note on who sets it', async () => {
    const fake = new FakeApi()
    fake.account = { ...fake.account, exchange_rate: null, exchange_rate_date: null }
    const { list, user, dialog } = await toTemplates(fake)
    await waitFor(() => expect(within(card(list, 'boas_vindas')).getByText('Custo para este contato: US$ 0,0625')).toBeInTheDocument())
    await user.click(within(list).getByRole('radio', { name: 'boas_vindas' }))
    await user.click(within(dialog).getByRole('button', { name: 'Definir parâmetros' }))
    const cost = await within(dialog).findByRole('region', { name: 'Custo estimado' })
    expect(await within(cost).findByText('US$ 0,0625 por mensagem entregue')).toBeInTheDocument()
    expect(within(cost).getByText('Sem câmbio definido: um administrador pode defini-lo nas configurações da conta.')).toBeInTheDocument()
    expect(within(cost).getByText('Conversa iniciada pela empresa')).toBeInTheDocument()
  })

  it('inside the open window a utility template is not charged', async () => {
    const fake = new FakeApi()
    // João replied an hour ago; the conversation was closed, the window is still open.
    fake.addConversation({ contact_id: fake.contacts[0].id, channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'closed', windowOpenFor: 5 * 3_600_000 })
    const { list, user, dialog } = await toTemplates(fake)
    await waitFor(() =>
      expect(within(card(list, 'lembrete_fatura')).getByText('Sem cobrança para este contato: a janela de 24 horas está aberta')).toBeInTheDocument(),
    )
    expect(within(card(list, 'boas_vindas')).getByText('Custo para este contato: R$ 0,36 (US$ 0,0625)')).toBeInTheDocument()
    await user.click(within(list).getByRole('radio', { name: 'lembrete_fatura' }))
    await user.click(within(dialog).getByRole('button', { name: 'Definir parâmetros' }))
    const cost = await within(dialog).findByRole('region', { name: 'Custo estimado' })
    expect(await within(cost).findByText('Sem cobrança: a janela de 24 horas está aberta')).toBeInTheDocument()
    expect(within(cost).queryByText('Conversa iniciada pela empresa')).not.toBeInTheDocument()
  })
})
