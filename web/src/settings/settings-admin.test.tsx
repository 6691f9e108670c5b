import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import type { User } from '../api'
import { SessionProvider } from '../state'
import AccountSettings from './AccountSettings'
import Agents from './Agents'
import ApiKeys from './ApiKeys'

const T0 = '2026-12-01T12:00:00Z'
const ANA: User = { id: 'u-ana', name: 'Ana Souza', email: 'ana@loja.com.br', role: 'admin', active: true, team_ids: [], created_at: T0, updated_at: T0 }

type Call = { method: string; path: string; body: unknown }

/**
 * A fetch answering the admin routes a test names: `routes['POST /api/v1/users']` returns
 * [status, body]. Every call is recorded, so a test can prove what was (not) sent.
 */
function server(routes: Record<string, (body: unknown) => [number, unknown]>) {
  const calls: Call[] = []
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://localhost')
    const method = init.method ?? 'GET'
    const body = init.body ? JSON.parse(String(init.body)) : undefined
    calls.push({ method, path: url.pathname, body })
    const handler = routes[`${method} ${url.pathname}`]
    const [status, out] = handler ? handler(body) : [404, { code: 'route_not_found', status: 404, title: 'Not Found' }]
    const type = status >= 400 ? 'application/problem+json' : 'application/json'
    return new Response(status === 204 ? null : JSON.stringify(out), { status, headers: { 'Content-Type': type } })
  })
  return calls
}

const page = <T,>(items: T[]) => [200, { items, next_cursor: null }] as [number, unknown]

function renderAs(ui: React.ReactNode) {
  return render(<SessionProvider value={{ user: ANA, logout: () => {} }}>{ui}</SessionProvider>)
}

/** The texts of the field errors an input points at. */
function errorOf(el: HTMLElement): string {
  return (el.getAttribute('aria-describedby') ?? '')
    .split(/\s+/)
    .map((id) => document.getElementById(id))
    .filter((n) => n?.classList.contains('field-error'))
    .map((n) => n!.textContent)
    .join(' ')
}

describe('Atendentes', () => {
  it('shows every server field error at its field, in Portuguese, and asks before losing what was typed', async () => {
    const user = userEvent.setup()
    const calls = server({
      'GET /api/v1/users': () => page([ANA]),
      'GET /api/v1/teams': () => page([{ id: 'tm-1', name: 'Vendas', channel_ids: [], member_ids: [], created_at: T0, updated_at: T0 }]),
      'POST /api/v1/users': () => [
        422,
        {
          type: 'about:blank',
          title: 'Unprocessable Entity',
          status: 422,
          code: 'validation_failed',
          errors: [
            { field: 'email', code: 'email_invalid', message: 'email is not a valid address' },
            { field: 'password', code: 'password_invalid', message: 'password must have 8 to 72 characters' },
            { field: 'team_ids', code: 'team_not_found', message: 'x is not a team' },
          ],
        },
      ],
    })
    renderAs(<Agents />)
    await user.click(await screen.findByRole('button', { name: 'Convidar atendente' }))
    const d = within(screen.getByRole('dialog', { name: 'Convidar atendente' }))
    await user.type(d.getByLabelText('Nome'), 'Carla')
    await user.type(d.getByLabelText('E-mail'), 'carla@')
    await user.type(d.getByLabelText('Primeira senha'), 'curta')
    await user.click(d.getByRole('checkbox', { name: 'Vendas' }))
    await user.click(d.getByRole('button', { name: 'Convidar' }))

    await waitFor(() => expect(errorOf(d.getByLabelText('E-mail'))).toBe('E-mail inválido.'))
    expect(errorOf(d.getByLabelText('Primeira senha'))).toBe('A senha deve ter de 8 a 72 caracteres.')
    expect(d.getByRole('group', { name: 'Equipes' })).toHaveTextContent('Equipe não encontrada')
    const sent = calls.find((c) => c.method === 'POST')
    expect(sent?.body).toEqual({ name: 'Carla', email: 'carla@', password: 'curta', role: 'agent', team_ids: ['tm-1'] })

    // Escape with the form filled asks first; keeping on editing keeps what was typed.
    await user.keyboard('{Escape}')
    const ask = await screen.findByRole('alertdialog', { name: 'Descartar o que foi preenchido?' })
    await user.click(within(ask).getByRole('button', { name: 'Continuar editando' }))
    expect(d.getByLabelText('Nome')).toHaveValue('Carla')
  })
})

describe('Chaves de API', () => {
  it('shows a new key once, with the warning and a copy button', async () => {
    const user = userEvent.setup()
    const writeText = vi.fn(async () => {})
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    const key = { id: 'k-1', name: 'CRM', role: 'agent', prefix: 'atd_abcd', last_used_at: null, revoked_at: null, created_at: T0 }
    let listed: unknown[] = []
    server({
      'GET /api/v1/api-keys': () => page(listed),
      'POST /api/v1/api-keys': () => {
        listed = [key]
        return [201, { ...key, secret: 'atd_segredo-que-so-aparece-uma-vez' }]
      },
    })
    renderAs(<ApiKeys />)
    expect(await screen.findByText('Nenhuma chave criada.')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Nova chave' }))
    await user.type(screen.getByLabelText('Nome'), 'CRM')
    await user.click(screen.getByRole('button', { name: 'Criar chave' }))
    const d = within(await screen.findByRole('dialog', { name: 'Chave CRM criada' }))
    expect(d.getByLabelText('Chave')).toHaveValue('atd_segredo-que-so-aparece-uma-vez')
    expect(d.getByRole('note')).toHaveTextContent('ela não será mostrada de novo')
    await user.click(d.getByRole('button', { name: 'Copiar' }))
    expect(writeText).toHaveBeenCalledWith('atd_segredo-que-so-aparece-uma-vez')
    expect(await d.findByText('Copiado para a área de transferência.')).toBeInTheDocument()
    await user.click(d.getByRole('button', { name: 'Concluído' }))
    // The list never shows the secret again.
    expect(await screen.findByText('Nunca usada')).toBeInTheDocument()
    expect(screen.queryByText(/atd_segredo/)).not.toBeInTheDocument()
  })
})

describe('Conta', () => {
  const account = {
    id: 'acc-1',
    name: 'Loja Demo',
    default_region: 'BR',
    time_zone: 'America/Sao_Paulo',
    auto_close_waiting: false,
    waiting_timeout_seconds: 259200,
    opt_out_keywords: [],
    opt_in_keywords: [],
    opt_out_confirmation: '',
    exchange_rate: null,
    exchange_rate_date: null,
    created_at: T0,
    updated_at: T0,
  }

  it('sends only what changed, reads a comma as the decimal mark, and refuses a rate that is not a number without asking the server', async () => {
    const user = userEvent.setup()
    const calls = server({
      'GET /api/v1/account': () => [200, account],
      'PATCH /api/v1/account': (body) => [200, { ...account, ...(body as object), exchange_rate_date: '2026-12-05' }],
    })
    renderAs(<AccountSettings />)
    expect(await screen.findByText('3 dia(s)')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Editar' }))
    const d = within(screen.getByRole('dialog', { name: 'Editar conta' }))
    const rate = d.getByLabelText('Câmbio (R$ por US$ 1)')
    await user.type(rate, 'cinco')
    await user.click(d.getByRole('button', { name: 'Salvar' }))
    expect(errorOf(rate)).toContain('Câmbio inválido')
    expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(0)

    await user.clear(rate)
    await user.type(rate, '5,8')
    await user.click(d.getByRole('checkbox', { name: 'Encerrar automaticamente o atendimento quando a espera expirar' }))
    await user.click(d.getByRole('button', { name: 'Salvar' }))
    await waitFor(() => expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(1))
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ auto_close_waiting: true, exchange_rate: 5.8 })
  })

  it('edits the waiting timeout: the server default, then days or hours; a client and a server error at the field in Portuguese', async () => {
    const user = userEvent.setup()
    const own = { ...account, waiting_timeout_is_default: true, default_waiting_timeout_seconds: 259200 }
    const calls = server({
      'GET /api/v1/account': () => [200, own],
      'PATCH /api/v1/account': (body) =>
        (body as { waiting_timeout_seconds?: number }).waiting_timeout_seconds === 31 * 86400
          ? [
              422,
              {
                code: 'validation_failed',
                status: 422,
                title: 'Unprocessable Entity',
                errors: [{ field: 'waiting_timeout_seconds', code: 'waiting_timeout_invalid', message: 'bad' }],
              },
            ]
          : [200, { ...own, ...(body as object), waiting_timeout_is_default: false }],
    })
    renderAs(<AccountSettings />)
    expect(await screen.findByText('(definido pelo servidor: WAITING_TIMEOUT)')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Editar' }))
    const d = within(screen.getByRole('dialog', { name: 'Editar conta' }))
    const mode = d.getByLabelText('Espera pela resposta')
    expect(mode).toHaveValue('default')
    expect(within(mode).getByRole('option', { name: 'Padrão do servidor (3 dia(s))' })).toBeInTheDocument()

    await user.selectOptions(mode, 'days')
    const days = d.getByLabelText('Dias de espera')
    await user.clear(days)
    await user.type(days, '1,5')
    await user.click(d.getByRole('button', { name: 'Salvar' }))
    expect(errorOf(days)).toContain('Tempo de espera inválido')
    expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(0)

    await user.clear(days)
    await user.type(days, '31')
    await user.click(d.getByRole('button', { name: 'Salvar' }))
    await waitFor(() => expect(errorOf(days)).toContain('Tempo de espera inválido: use horas inteiras, de 1 hora a 30 dias'))
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ waiting_timeout_seconds: 31 * 86400 })

    await user.selectOptions(mode, 'hours')
    const hours = d.getByLabelText('Horas de espera')
    await user.clear(hours)
    await user.type(hours, '36')
    await user.click(d.getByRole('button', { name: 'Salvar' }))
    await waitFor(() => expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(2))
    expect(calls.filter((c) => c.method === 'PATCH')[1].body).toEqual({ waiting_timeout_seconds: 36 * 3600 })
  })
})
