import { act, fireEvent, screen, waitFor, within } from '@testing-library/react'
import type { UserEvent } from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { FakeApi } from './fakeApi'
import { conversar } from './helpers'
import { renderApp } from './renderApp'

const UNAVAILABLE = 'Indisponível: o contato pediu para não receber mensagens de marketing'
// 13:00 UTC is 10:00 in São Paulo (the tests' zone).
const OPTED_OUT_AT = '2026-12-04T13:00:00Z'

/** The accessible description of an element (the ids its aria-describedby names, joined). */
function description(el: HTMLElement): string {
  return (el.getAttribute('aria-describedby') ?? '')
    .split(/\s+/)
    .map((id) => document.getElementById(id)?.textContent ?? '')
    .join(' ')
}

/** "Enviar mensagem" up to "Modelo de mensagem" on the sales channel. */
async function toTemplates(user: UserEvent, dialog: HTMLElement) {
  const d = within(dialog)
  await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
  await user.click(d.getByRole('button', { name: 'Vendas WhatsApp' })) // its default team, Vendas, is chosen: on to the templates
  await d.findByRole('radio', { name: 'lembrete_fatura' })
}

describe('marketing consent in the start flow', () => {
  it('shows the opt-out at the contact and marks MARKETING templates unavailable before the parameters step', async () => {
    const fake = new FakeApi()
    fake.recordConsent('ct-joao', true, { at: OPTED_OUT_AT })
    const { user } = await renderApp({ fake })
    const dialog = await conversar(user, '11 98765-4321')
    const d = within(dialog)
    const contact = d.getByRole('region', { name: 'Contato' })
    expect(within(contact).getByText('Não recebe mensagens de marketing desde 04/12/2026 10:00')).toBeInTheDocument()

    await toTemplates(user, dialog)
    const marketing = d.getByRole('radio', { name: 'boas_vindas' })
    expect(marketing).toBeDisabled()
    expect(description(marketing)).toContain(UNAVAILABLE)
    expect(marketing.closest('label')).toHaveTextContent(UNAVAILABLE)
    for (const name of ['lembrete_fatura', 'codigo_acesso']) {
      const card = d.getByRole('radio', { name })
      expect(card).toBeEnabled()
      expect(card.closest('label')).not.toHaveTextContent(UNAVAILABLE)
    }

    // The card cannot be chosen, so the parameters step stays out of reach.
    await user.click(marketing.closest('label')!)
    expect(marketing).not.toBeChecked()
    expect(d.getByRole('button', { name: 'Definir parâmetros' })).toBeDisabled()

    // A utility template still goes.
    await user.click(d.getByRole('radio', { name: 'lembrete_fatura' }))
    await user.click(d.getByRole('button', { name: 'Definir parâmetros' }))
    expect(await d.findByRole('heading', { name: 'Parâmetros' })).toBeInTheDocument()
    await user.type(d.getByLabelText('[1]'), 'João')
    await user.type(d.getByLabelText('[2]'), 'R$ 120')
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    expect(await screen.findByText('Aguardando a resposta do contato')).toBeInTheDocument()
    expect(fake.calls('POST', '/api/v1/conversations')).toHaveLength(1)
  })

  it('lets the agent mark the contact as opted out, after a confirmation, and the cards follow', async () => {
    const { fake, user } = await renderApp()
    const dialog = await conversar(user, '11 98765-4321')
    const d = within(dialog)
    expect(d.getByText('Recebe mensagens de marketing')).toBeInTheDocument()

    // Cancelling records nothing.
    await user.click(d.getByRole('button', { name: 'Marcar como descadastrado' }))
    expect(d.getByText(/Marcar João Silva como descadastrado\?/)).toHaveFocus()
    await user.click(d.getByRole('button', { name: 'Não alterar' }))
    expect(fake.calls('POST', '/api/v1/contacts/ct-joao/consent')).toHaveLength(0)
    await waitFor(() => expect(d.getByRole('button', { name: 'Marcar como descadastrado' })).toHaveFocus())
    expect(d.getByText('Recebe mensagens de marketing')).toBeInTheDocument()

    await user.click(d.getByRole('button', { name: 'Marcar como descadastrado' }))
    await user.type(d.getByLabelText('Observação (opcional)'), 'Pediu por telefone')
    await user.click(d.getByRole('button', { name: 'Confirmar' }))
    expect(await d.findByText(/^Não recebe mensagens de marketing desde \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/)).toBeInTheDocument()
    const [post] = fake.calls('POST', '/api/v1/contacts/ct-joao/consent')
    expect(post.body).toEqual({ opted_out: true, detail: 'Pediu por telefone' })
    expect(post.headers['x-csrf-token']).toBe(fake.csrfToken)
    expect(d.getByRole('button', { name: 'Reativar marketing' })).toBeInTheDocument()

    // The history names the agent as the source and keeps the note.
    await user.click(d.getByRole('button', { name: 'Ver histórico' }))
    const history = await d.findByRole('list', { name: 'Histórico de consentimento de João Silva' })
    const [entry] = within(history).getAllByRole('listitem')
    expect(entry).toHaveTextContent('Descadastrado')
    expect(entry).toHaveTextContent('atendente')
    expect(entry).toHaveTextContent('“Pediu por telefone”')

    await toTemplates(user, dialog)
    expect(d.getByRole('radio', { name: 'boas_vindas' })).toBeDisabled()
    expect(d.getByRole('radio', { name: 'codigo_acesso' })).toBeEnabled()
  })

  it('lists the history newest first with each source in Portuguese', async () => {
    const fake = new FakeApi()
    fake.recordConsent('ct-joao', true, { source: 'csv', at: '2026-11-01T12:00:00Z' })
    fake.recordConsent('ct-joao', false, { source: 'api', at: '2026-11-02T12:00:00Z' })
    fake.recordConsent('ct-joao', true, { source: 'meta', detail: 'stop', at: '2026-11-03T12:00:00Z' })
    fake.recordConsent('ct-joao', false, { source: 'agent', at: '2026-11-04T12:00:00Z' })
    fake.recordConsent('ct-joao', true, { source: 'keyword', detail: 'SAIR', at: OPTED_OUT_AT })
    const { user } = await renderApp({ fake })
    const d = within(await conversar(user, '11 98765-4321'))
    const toggle = d.getByRole('button', { name: 'Ver histórico' })
    expect(toggle).toHaveAttribute('aria-expanded', 'false')
    await user.click(toggle)
    expect(d.getByRole('button', { name: 'Ocultar histórico' })).toHaveAttribute('aria-expanded', 'true')
    const items = within(await d.findByRole('list', { name: /Histórico de consentimento/ })).getAllByRole('listitem')
    expect(items.map((li) => li.textContent)).toEqual([
      'Descadastrado 04/12/2026 10:00 · palavra-chave“SAIR”',
      'Reativado 04/11/2026 09:00 · atendente',
      'Descadastrado 03/11/2026 09:00 · preferência no WhatsApp“stop”',
      'Reativado 02/11/2026 09:00 · API',
      'Descadastrado 01/11/2026 09:00 · importação CSV',
    ])
  })

  it('shows the server\'s 422 contact_opted_out at the contact, in Portuguese, with the contact refreshed', async () => {
    const { fake, user } = await renderApp()
    const dialog = await conversar(user, '11 98765-4321')
    const d = within(dialog)
    await toTemplates(user, dialog)
    await user.click(d.getByRole('radio', { name: 'boas_vindas' }))
    await user.click(d.getByRole('button', { name: 'Definir parâmetros' }))
    await user.type(await d.findByLabelText('[NOME]'), 'João')
    // The contact answers "SAIR" while the agent fills in the parameters.
    fake.recordConsent('ct-joao', true, { at: OPTED_OUT_AT })
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))

    const alert = await d.findByText('Corrija os campos indicados.')
    expect(alert.closest('[role="alert"]')).toHaveTextContent('O contato pediu para não receber mensagens de marketing.')
    await user.click(within(alert.closest('[role="alert"]') as HTMLElement).getByRole('button', { name: 'Alterar' }))
    const contact = d.getByRole('region', { name: 'Contato' })
    expect(within(contact).getByRole('alert')).toHaveTextContent('O contato pediu para não receber mensagens de marketing.')
    expect(within(contact).getByText('Não recebe mensagens de marketing desde 04/12/2026 10:00')).toBeInTheDocument()

    // Back at the templates, the marketing one is no longer a choice.
    await user.click(d.getByRole('button', { name: 'Iniciar atendimento' }))
    expect(await d.findByRole('radio', { name: 'boas_vindas' })).toBeDisabled()
    expect(d.getByRole('button', { name: 'Definir parâmetros' })).toBeDisabled()
  })
})

describe('the agent\'s note on a consent change', () => {
  it('shows the server\'s detail_invalid at the note, in Portuguese, and records nothing', async () => {
    const { fake, user } = await renderApp()
    const d = within(await conversar(user, '11 98765-4321'))
    await user.click(d.getByRole('button', { name: 'Marcar como descadastrado' }))
    // The input stops at 500 characters; a pasted value set directly reaches the server's check.
    fireEvent.change(d.getByLabelText('Observação (opcional)'), { target: { value: 'x'.repeat(501) } })
    await user.click(d.getByRole('button', { name: 'Confirmar' }))
    await waitFor(() => expect(d.getByLabelText('Observação (opcional)')).toHaveAttribute('aria-invalid', 'true'))
    expect(d.getByText('A observação pode ter no máximo 500 caracteres, sem quebras de linha.')).toBeInTheDocument()
    expect(fake.consents.get('ct-joao')).toBeUndefined()
    expect(d.getByText('Recebe mensagens de marketing')).toBeInTheDocument()
  })
})

describe('template quality on the cards', () => {
  it('warns at YELLOW, warns strongly at RED, and says nothing at GREEN or UNKNOWN', async () => {
    const fake = new FakeApi()
    const set = (id: string, quality: 'GREEN' | 'YELLOW' | 'RED' | 'UNKNOWN') => {
      fake.templates.find((x) => x.id === id)!.quality = quality
    }
    set('tp-boas-vindas', 'GREEN')
    set('tp-fatura', 'YELLOW')
    set('tp-codigo', 'RED')
    const { user } = await renderApp({ fake })
    const dialog = await conversar(user, '11 98765-4321')
    const d = within(dialog)
    await toTemplates(user, dialog)

    const card = (name: string) => d.getByRole('radio', { name }).closest('label') as HTMLElement
    expect(within(card('lembrete_fatura')).getByText('Qualidade em atenção')).toBeInTheDocument()
    expect(description(d.getByRole('radio', { name: 'lembrete_fatura' }))).toContain('Qualidade em atenção')
    expect(within(card('codigo_acesso')).getByText('Qualidade baixa: a Meta pode pausar este modelo')).toHaveClass('quality-red')
    expect(description(d.getByRole('radio', { name: 'codigo_acesso' }))).toContain('Qualidade baixa')
    expect(card('boas_vindas')).not.toHaveTextContent(/Qualidade/)
    // A warning does not stop the agent from choosing the template.
    expect(d.getByRole('radio', { name: 'codigo_acesso' })).toBeEnabled()
  })

  it('follows Meta\'s quality and category updates live (template.updated)', async () => {
    const fake = new FakeApi()
    fake.recordConsent('ct-joao', true)
    const { user } = await renderApp({ fake })
    const dialog = await conversar(user, '11 98765-4321')
    const d = within(dialog)
    await toTemplates(user, dialog)
    expect(d.getByRole('radio', { name: 'lembrete_fatura' })).toBeEnabled()

    // Meta rates the utility template RED and reclassifies it as MARKETING.
    const tpl = fake.templates.find((x) => x.id === 'tp-fatura')!
    Object.assign(tpl, { quality: 'RED', category: 'MARKETING', updated_at: new Date().toISOString() })
    act(() => fake.emit('template.updated', tpl))
    const card = d.getByRole('radio', { name: 'lembrete_fatura' })
    await waitFor(() => expect(card).toBeDisabled())
    expect(description(card)).toContain(UNAVAILABLE)
    expect(description(card)).toContain('Qualidade baixa: a Meta pode pausar este modelo')
  })
})

describe('marketing consent in the contact search', () => {
  it('marks the contacts who opted out in the results', async () => {
    const fake = new FakeApi()
    fake.recordConsent('ct-maria', true)
    const { user } = await renderApp({ fake })
    await user.click(screen.getByRole('button', { name: 'Outras opções' }))
    await user.click(screen.getByRole('menuitem', { name: 'Novo atendimento' }))
    const side = await screen.findByRole('dialog', { name: 'Novo atendimento' })
    await user.type(within(side).getByLabelText('Pesquisar contato'), 'Mari')
    const maria = await within(side).findByRole('button', { name: /Maria Oliveira/ })
    expect(maria).toHaveTextContent('Não recebe mensagens de marketing')
    expect(within(side).getByRole('button', { name: /Mariana Costa/ })).not.toHaveTextContent('Não recebe')
  })
})

describe('marketing consent in the conversation view', () => {
  it('shows the contact\'s consent and lets the agent reactivate marketing after a confirmation', async () => {
    const fake = new FakeApi()
    fake.recordConsent('ct-mariana', true, { at: OPTED_OUT_AT })
    const { user } = await renderApp({ fake, hash: '#/atendimentos/cv-mariana' })
    const info = await screen.findByRole('region', { name: 'Dados do contato Mariana Costa' })
    expect(within(info).getByText('Não recebe mensagens de marketing desde 04/12/2026 10:00')).toBeInTheDocument()

    await user.click(within(info).getByRole('button', { name: 'Reativar marketing' }))
    expect(within(info).getByText(/Reativar as mensagens de marketing para Mariana Costa\?/)).toBeInTheDocument()
    await user.click(within(info).getByRole('button', { name: 'Confirmar' }))
    expect(await within(info).findByText(/^Recebe mensagens de marketing desde/)).toBeInTheDocument()
    expect(fake.calls('POST', '/api/v1/contacts/ct-mariana/consent')[0].body).toEqual({ opted_out: false })
    await waitFor(() => expect(within(info).getByRole('button', { name: 'Marcar como descadastrado' })).toHaveFocus())
  })

  it('shows a queued marketing message failed by the opt-out in Portuguese', async () => {
    const fake = new FakeApi()
    fake.addMessage('cv-mariana', {
      direction: 'out',
      type: 'template',
      status: 'failed',
      rendered_text: 'Promoção da semana',
      error: { code: 131050, title: 'contact_opted_out' },
    })
    await renderApp({ fake, hash: '#/atendimentos/cv-mariana' })
    expect(await screen.findByText('falhou: O contato pediu para não receber mensagens de marketing.')).toBeInTheDocument()
  })
})
