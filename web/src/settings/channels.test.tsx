// The Canais and Modelos de mensagem forms against a small in-memory server behind fetch: server
// field errors land at their fields in Portuguese, nothing is saved half-way, secrets are write-only,
// and leaving a changed form asks first.

import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Channel, Template, User } from '../api'
import { SessionProvider } from '../state'
import Channels from './Channels'
import { Onboarding } from './Onboarding'
import Templates from './Templates'

const T0 = '2026-01-01T00:00:00Z'
const ADMIN: User = { id: 'u-admin', name: 'Admin', email: 'admin@loja.com.br', role: 'admin', created_at: T0, updated_at: T0 } as User

type Body = Record<string, unknown>
interface Call {
  method: string
  path: string
  body: Body | undefined
}

function problem(status: number, code: string, errors: { field: string; code: string; message: string }[] = []) {
  return { status, body: { type: 'about:blank', title: code, status, code, errors } }
}

/** Channels and templates of one account, with the server's rules that the forms meet. */
class Server {
  channels: Channel[] = []
  templates: Template[] = []
  calls: Call[] = []
  testAnswer: { status: number; body: unknown } = { status: 200, body: {} }

  channel(over: Partial<Channel>): Channel {
    const ch: Channel = {
      id: `ch-${this.channels.length + 1}`,
      name: 'Canal',
      provider: 'sandbox',
      phone_number: '+5511940000000',
      phone_number_id: '',
      waba_id: '',
      active: true,
      default_team_id: null,
      has_access_token: false,
      has_app_secret: false,
      has_verify_token: false,
      webhook_url: null,
      last_webhook_at: null,
      created_at: T0,
      updated_at: T0,
      ...over,
    }
    this.channels.push(ch)
    return ch
  }

  /** The server's channel checks: every missing field at once, nothing stored on any error. */
  private validate(c: Body, existing?: Channel) {
    const errors: { field: string; code: string; message: string }[] = []
    const val = (k: string) => (k in c ? String(c[k] ?? '') : String((existing as unknown as Body | undefined)?.[k] ?? ''))
    if (!val('name').trim()) errors.push({ field: 'name', code: 'required', message: 'name is required' })
    if (!/^\+?[\d\s()-]{8,}$/.test(val('phone_number'))) errors.push({ field: 'phone_number', code: 'phone_invalid', message: 'bad phone' })
    if ((c.provider ?? existing?.provider) === 'whatsapp_cloud') {
      for (const k of ['phone_number_id', 'waba_id']) if (!val(k)) errors.push({ field: k, code: 'required', message: `${k} is required` })
      for (const k of ['access_token', 'app_secret', 'verify_token'] as const) {
        const has = existing?.[`has_${k}`]
        if (!c[k] && !has) errors.push({ field: k, code: 'required', message: `${k} is required` })
      }
    }
    return errors
  }

  handle(method: string, path: string, body: Body | undefined): { status: number; body?: unknown } {
    this.calls.push({ method, path, body })
    if (method === 'GET' && path === '/channels') return { status: 200, body: { items: this.channels, next_cursor: null } }
    if (method === 'GET' && path === '/teams') return { status: 200, body: { items: [], next_cursor: null } }
    if (method === 'POST' && path === '/channels') {
      const errors = this.validate(body ?? {})
      if (errors.length) return problem(422, 'validation_failed', errors)
      const b = body ?? {}
      const ch = this.channel({
        name: String(b.name),
        provider: b.provider as Channel['provider'],
        phone_number: String(b.phone_number),
        phone_number_id: String(b.phone_number_id ?? ''),
        waba_id: String(b.waba_id ?? ''),
        has_access_token: !!b.access_token,
        has_app_secret: !!b.app_secret,
        has_verify_token: !!b.verify_token,
      })
      if (ch.provider === 'whatsapp_cloud') ch.webhook_url = `https://atendimento.example.com/webhooks/whatsapp/${ch.id}`
      return { status: 201, body: ch }
    }
    let m = /^\/channels\/([\w-]+)$/.exec(path)
    if (method === 'PATCH' && m) {
      const ch = this.channels.find((c) => c.id === m![1])!
      const errors = this.validate(body ?? {}, ch)
      if (errors.length) return problem(422, 'validation_failed', errors)
      Object.assign(ch, { ...body, access_token: undefined, app_secret: undefined, verify_token: undefined })
      return { status: 200, body: ch }
    }
    m = /^\/channels\/([\w-]+)\/test$/.exec(path)
    if (method === 'POST' && m) return this.testAnswer
    if (method === 'GET' && path === '/templates') return { status: 200, body: { items: this.templates, next_cursor: null } }
    if (method === 'POST' && path === '/templates') {
      const b = body ?? {}
      const errors = []
      if (!/^[a-z0-9_]+$/.test(String(b.name ?? ''))) errors.push({ field: 'name', code: 'name_invalid', message: 'bad name' })
      const comps = (b.components as { type: string; text: string }[]) ?? []
      if (!comps[0]?.text?.trim()) errors.push({ field: 'components[0].text', code: 'body_missing', message: 'the body text is empty' })
      if (errors.length) return problem(422, 'validation_failed', errors)
      return { status: 201, body: { id: 'tpl-new', variables: [], variable_details: [], unusable_reason: null, ...b } }
    }
    return problem(404, 'route_not_found')
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const u = new URL(String(input), 'http://localhost')
    const path = u.pathname.replace(/^\/api\/v1/, '')
    const body = init?.body ? (JSON.parse(String(init.body)) as Body) : undefined
    const r = this.handle(init?.method ?? 'GET', path, body)
    return new Response(r.body === undefined ? null : JSON.stringify(r.body), {
      status: r.status,
      headers: { 'Content-Type': r.status >= 400 ? 'application/problem+json' : 'application/json' },
    })
  }
}

let server: Server
beforeEach(() => {
  server = new Server()
  vi.stubGlobal('fetch', server.fetch)
  localStorage.clear()
})
afterEach(() => vi.unstubAllGlobals())

function renderWithSession(ui: React.ReactNode) {
  const user = userEvent.setup()
  render(<SessionProvider value={{ user: ADMIN, logout: () => {} }}>{ui}</SessionProvider>)
  return user
}

describe('Canais', () => {
  it('shows every server field error at its field in Portuguese and saves nothing', async () => {
    const user = renderWithSession(<Channels />)
    // A fresh account: the onboarding offers to connect a number.
    const offer = await screen.findByRole('region', { name: 'Conecte seu número do WhatsApp' })
    await user.click(within(offer).getByRole('button', { name: 'Conectar número do WhatsApp' }))
    const dialog = await screen.findByRole('dialog', { name: 'Conectar número do WhatsApp' })
    // The verify token is proposed, random and long.
    const verify = within(dialog).getByLabelText('Token de verificação do webhook') as HTMLInputElement
    expect(verify.value).toMatch(/^[\w-]{43}$/)
    await user.type(within(dialog).getByLabelText('Nome do canal'), 'WhatsApp Vendas')
    await user.type(within(dialog).getByLabelText('Número de telefone'), 'abc')
    await user.click(within(dialog).getByRole('button', { name: 'Salvar' }))

    expect(await within(dialog).findByText(/Número inválido/)).toBeInTheDocument()
    const pnid = within(dialog).getByLabelText('ID do número de telefone (Phone number ID)')
    expect(pnid).toHaveAttribute('aria-invalid', 'true')
    expect(within(dialog).getByLabelText('ID da conta do WhatsApp Business (WABA ID)')).toHaveAttribute('aria-invalid', 'true')
    expect(within(dialog).getByLabelText('Token de acesso permanente')).toHaveAttribute('aria-invalid', 'true')
    expect(within(dialog).getByLabelText('Chave secreta do app (App secret)')).toHaveAttribute('aria-invalid', 'true')
    expect(within(dialog).getAllByText('Preencha este campo.').length).toBeGreaterThanOrEqual(4)
    expect(within(dialog).getByText('Corrija os campos indicados. Nada foi salvo.')).toBeInTheDocument()
    expect(server.channels).toHaveLength(0)

    // Fixed: saved once, and the screen shows what to paste into Meta, the token once.
    await user.clear(within(dialog).getByLabelText('Número de telefone'))
    await user.type(within(dialog).getByLabelText('Número de telefone'), '11 4000-9999')
    await user.type(pnid, '106540352242922')
    await user.type(within(dialog).getByLabelText('ID da conta do WhatsApp Business (WABA ID)'), '102290129340398')
    await user.type(within(dialog).getByLabelText('Token de acesso permanente'), 'EAAG-token')
    await user.type(within(dialog).getByLabelText('Chave secreta do app (App secret)'), 'app-secret')
    const token = verify.value
    await user.click(within(dialog).getByRole('button', { name: 'Salvar' }))
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument())
    expect(server.channels).toHaveLength(1)
    const post = server.calls.filter((c) => c.method === 'POST' && c.path === '/channels').at(-1)!
    expect(post.body).toMatchObject({
      provider: 'whatsapp_cloud',
      verify_token: token,
      access_token: 'EAAG-token',
      app_secret: 'app-secret',
    })
    expect(screen.getByLabelText('URL de retorno (Callback URL)')).toHaveValue('https://atendimento.example.com/webhooks/whatsapp/ch-1')
    expect(screen.getByLabelText('Token de verificação (Verify token)')).toHaveValue(token)
    expect(screen.getByText(/Nenhum webhook recebido ainda/)).toBeInTheDocument()
  })

  it('edits without resending secrets, and asks before discarding changes', async () => {
    server.channel({
      name: 'WhatsApp Vendas',
      provider: 'whatsapp_cloud',
      phone_number_id: '1065',
      waba_id: '1022',
      has_access_token: true,
      has_app_secret: true,
      has_verify_token: true,
      last_webhook_at: '2026-01-02T13:05:00Z',
    })
    const user = renderWithSession(<Channels />)
    expect(await screen.findByText(/Último webhook recebido: /)).toBeInTheDocument()
    expect(screen.getByText(/não tem PUBLIC_URL configurada/)).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Editar WhatsApp Vendas' }))
    const dialog = await screen.findByRole('dialog', { name: 'Editar canal' })
    // Secrets are never shown: "Definido" with "Alterar".
    expect(within(dialog).queryByLabelText('Token de acesso permanente')).not.toBeInTheDocument()
    expect(within(dialog).getAllByText('Definido (não é exibido)')).toHaveLength(3)

    await user.type(within(dialog).getByLabelText('Nome do canal'), ' 2')
    await user.keyboard('{Escape}')
    expect(await screen.findByText('Descartar o que foi preenchido?')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Continuar editando' }))
    expect(screen.getByRole('dialog', { name: 'Editar canal' })).toBeInTheDocument()

    await user.click(within(dialog).getByRole('button', { name: 'Alterar: Token de acesso permanente' }))
    await user.type(within(dialog).getByLabelText('Token de acesso permanente'), 'EAAG-novo')
    await user.click(within(dialog).getByRole('button', { name: 'Salvar' }))
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument())
    const patch = server.calls.find((c) => c.method === 'PATCH')!
    expect(patch.body).toMatchObject({ name: 'WhatsApp Vendas 2', access_token: 'EAAG-novo' })
    expect(patch.body).not.toHaveProperty('app_secret')
    expect(patch.body).not.toHaveProperty('verify_token')
  })

  it('says in Portuguese what "Testar conexão" found wrong', async () => {
    server.channel({ name: 'Cloud', provider: 'whatsapp_cloud', has_access_token: true, has_app_secret: true, has_verify_token: true })
    const user = renderWithSession(<Channels />)
    server.testAnswer = {
      status: 200,
      body: { display_phone_number: '+55 11 4000-9999', verified_name: 'Loja', quality_rating: 'GREEN', phone_number_matches: true },
    }
    await user.click(await screen.findByRole('button', { name: 'Testar conexão' }))
    expect(await screen.findByText(/Conexão funcionando: \+55 11 4000-9999 \(Loja\)/)).toBeInTheDocument()
    server.testAnswer = problem(422, 'whatsapp_token_invalid', [{ field: 'access_token', code: 'whatsapp_token_invalid', message: 'x' }])
    await user.click(screen.getByRole('button', { name: 'Testar conexão' }))
    expect(await screen.findByText(/A Meta recusou o token de acesso/)).toBeInTheDocument()
  })
})

describe('Onboarding', () => {
  it('is offered to the admin of an account without a WhatsApp number, never to an agent', async () => {
    server.channel({ name: 'Demo (sandbox)' })
    const { unmount } = render(
      <SessionProvider value={{ user: ADMIN, logout: () => {} }}>
        <Onboarding />
      </SessionProvider>,
    )
    expect(await screen.findByRole('button', { name: 'Usar o canal de teste (sandbox)' })).toBeInTheDocument()
    unmount()
    const agent = { ...ADMIN, id: 'u-agent', role: 'agent' } as User
    render(
      <SessionProvider value={{ user: agent, logout: () => {} }}>
        <Onboarding />
      </SessionProvider>,
    )
    await waitFor(() => expect(server.calls.filter((c) => c.path === '/channels')).toHaveLength(1))
    expect(screen.queryByRole('region', { name: 'Conecte seu número do WhatsApp' })).not.toBeInTheDocument()
  })

  it('"Usar o canal de teste" creates the sandbox channel when the account has none', async () => {
    const user = renderWithSession(<Onboarding onSandbox={() => {}} />)
    await user.click(await screen.findByRole('button', { name: 'Usar o canal de teste (sandbox)' }))
    await waitFor(() => expect(server.channels).toHaveLength(1))
    expect(server.channels[0]).toMatchObject({ name: 'Canal de teste', provider: 'sandbox' })
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Conecte seu número do WhatsApp' })).not.toBeInTheDocument())
  })
})

describe('Modelos de mensagem', () => {
  it('registers a sandbox template with errors at their fields, and says why a template cannot be used', async () => {
    const ch = server.channel({ name: 'Canal de teste' })
    server.templates = [
      {
        id: 'tpl-1',
        channel_id: ch.id,
        external_id: '',
        name: 'promo',
        language: 'pt_BR',
        category: 'MARKETING',
        status: 'PAUSED',
        parameter_format: 'NAMED',
        components: [{ type: 'BODY', text: 'Olá {{nome}}!' }],
        variables: ['nome'],
        variable_details: [{ key: 'nome', component: 'BODY', label: '[NOME]', example: null }],
        quality: 'RED',
        unusable_reason: 'paused',
        created_at: T0,
        updated_at: T0,
      },
    ]
    const user = renderWithSession(<Templates />)
    expect(await screen.findByText(/a Meta pausou o modelo/)).toBeInTheDocument()
    expect(screen.getByText('Variáveis: [NOME]')).toBeInTheDocument()

    await user.click(screen.getByRole('button', { name: 'Cadastrar modelo' }))
    const dialog = await screen.findByRole('dialog', { name: 'Cadastrar modelo' })
    await user.type(within(dialog).getByLabelText('Nome do modelo'), 'Boas Vindas')
    await user.click(within(dialog).getByRole('button', { name: 'Cadastrar' }))
    expect(await within(dialog).findByLabelText('Nome do modelo')).toHaveAttribute('aria-invalid', 'true')
    expect(within(dialog).getByLabelText('Texto da mensagem')).toHaveAttribute('aria-invalid', 'true')

    await user.clear(within(dialog).getByLabelText('Nome do modelo'))
    await user.type(within(dialog).getByLabelText('Nome do modelo'), 'boas_vindas')
    await user.type(within(dialog).getByLabelText('Texto da mensagem'), 'Oi {{{{nome}}, aqui é {{{{atendente}}.')
    expect(within(dialog).getByText(/Variáveis encontradas: nome, atendente/)).toBeInTheDocument()
    await user.click(within(dialog).getByRole('button', { name: 'Cadastrar' }))
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument())
    const post = server.calls.find((c) => c.method === 'POST' && c.path === '/templates' && (c.body as Body).name === 'boas_vindas')!
    expect(post.body).toMatchObject({
      channel_id: ch.id,
      parameter_format: 'NAMED',
      status: 'APPROVED',
      components: [{ type: 'BODY', text: 'Oi {{nome}}, aqui é {{atendente}}.' }],
    })
  })
})
