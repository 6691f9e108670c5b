// End-to-end: "Configurações › Canais" and "Modelos de mensagem" against the real Go server and a
// fake Graph API (a local node server that answers as Meta does). As the demo admin, at 1280×800
// and 390×844: the onboarding, connecting a whatsapp_cloud number, the webhook URL and verify
// token to paste into Meta, "Testar conexão" working and then failing with a wrong token, Meta's
// handshake and a signed webhook shown as "último webhook recebido", and the template sync.

import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ARTIFACTS, WAIT_MS, buildServer, ensureSpaBuilt, launchChromium, log, shot, startServer, tempDir } from './harness.mjs'
import { dialog, errorAt, field, fitsViewport, look, visible } from './page.mjs'

const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }
const PUBLIC_URL = 'https://atendimento.example.com'

const META = {
  phoneNumberId: '106540352242922',
  wabaId: '102290129340398',
  token: 'EAAG-e2e-system-user-token',
  appSecret: 'e2e-app-secret',
}

/** Meta's error body. */
const metaError = (status, code, message) => ({ status, body: { error: { message, type: 'OAuthException', code, fbtrace_id: 'Ae2e' } } })

/**
 * The Graph API as the server calls it: GET /{version}/{phone-number-id} and
 * GET /{version}/{waba-id}/message_templates, with Meta's 190 for any other token and 100 for any
 * other id. Records every request.
 */
function startFakeGraph() {
  const requests = []
  const templates = [
    {
      id: '9001',
      name: 'pedido_confirmado',
      language: 'pt_BR',
      status: 'APPROVED',
      category: 'UTILITY',
      parameter_format: 'NAMED',
      components: [{ type: 'BODY', text: 'Olá {{nome}}, seu pedido {{pedido}} foi confirmado.' }],
    },
    {
      id: '9002',
      name: 'promocao_pausada',
      language: 'pt_BR',
      status: 'PAUSED',
      category: 'MARKETING',
      components: [{ type: 'BODY', text: 'Oferta para {{1}}!' }],
    },
    {
      id: '9003',
      name: 'catalogo_com_imagem',
      language: 'pt_BR',
      status: 'APPROVED',
      category: 'MARKETING',
      components: [
        { type: 'HEADER', format: 'IMAGE' },
        { type: 'BODY', text: 'Veja as novidades, {{1}}.' },
      ],
    },
    {
      id: '9004',
      name: 'convite_com_local',
      language: 'pt_BR',
      status: 'APPROVED',
      category: 'MARKETING',
      components: [
        { type: 'HEADER', format: 'LOCATION' },
        { type: 'BODY', text: 'Venha nos visitar, {{1}}.' },
      ],
    },
  ]
  const answer = (req) => {
    const url = new URL(req.url, 'http://graph')
    const parts = url.pathname.split('/').filter(Boolean)
    if (req.headers.authorization !== `Bearer ${META.token}`)
      return metaError(401, 190, 'Invalid OAuth access token - Cannot parse access token')
    if (req.method === 'GET' && parts.length === 2 && parts[1] === META.phoneNumberId) {
      return {
        status: 200,
        body: { display_phone_number: '+55 11 4000-9999', verified_name: 'Loja Exemplo', quality_rating: 'GREEN', id: META.phoneNumberId },
      }
    }
    if (req.method === 'GET' && parts.length === 3 && parts[1] === META.wabaId && parts[2] === 'message_templates') {
      return { status: 200, body: { data: templates, paging: { cursors: { before: 'a', after: 'b' } } } }
    }
    return metaError(400, 100, `Unsupported get request. Object with ID '${parts[1]}' does not exist`)
  }
  const srv = createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, auth: req.headers.authorization })
    const { status, body } = answer(req)
    res.writeHead(status, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify(body))
  })
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${srv.address().port}`, requests, close: () => srv.close() }))
  })
}

let tmp
let graph
let server
let context
let page
const pageErrors = []

async function login(p) {
  await visible(p.getByRole('heading', { name: 'Entrar' }))
  await field(p, 'E-mail').fill(server.email)
  await field(p, 'Senha').fill(server.password)
  await p.getByRole('button', { name: 'Entrar' }).click()
  await visible(p.getByRole('heading', { name: 'Atendimentos' }))
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true }) // run.mjs empties it; alone, this file only needs it to exist
  tmp = tempDir('atendimento-e2e-settings-')
  graph = await startFakeGraph()
  await ensureSpaBuilt()
  const bin = await buildServer(tmp)
  const workDir = join(tmp, 'work')
  mkdirSync(workDir)
  server = await startServer(bin, workDir, { WHATSAPP_API_BASE_URL: graph.url, PUBLIC_URL })
  log(`server at ${server.baseURL}, fake Graph API at ${graph.url}`)
  context = await launchChromium(join(tmp, 'profile'), { viewport: DESKTOP, locale: 'pt-BR', timezoneId: 'America/Sao_Paulo' })
  context.setDefaultTimeout(WAIT_MS)
  page = context.pages()[0] ?? (await context.newPage())
  page.on('pageerror', (err) => pageErrors.push(err.message))
})

after(async () => {
  await context?.close().catch(() => {})
  await server?.stop().catch(() => {})
  graph?.close()
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

/** A step that leaves a FAIL- screenshot when it fails; steps share the page, in order. */
function step(name, fn) {
  test(name, async () => {
    try {
      await fn()
    } catch (err) {
      await shot(page, `FAIL-settings-${name.replace(/[^\w]+/g, '-').slice(0, 40)}`).catch(() => {})
      throw err
    }
  })
}

const card = (name) => page.getByRole('listitem').filter({ has: page.getByRole('heading', { name, exact: true }) })
let channelId = ''
let verifyToken = ''

describe('Configurações › Canais and Modelos de mensagem', { concurrency: 1 }, () => {
  step('a fresh account offers to connect a number (onboarding)', async () => {
    await page.goto(server.baseURL)
    await login(page)
    await visible(page.getByRole('heading', { name: 'Conecte seu número do WhatsApp' }))
    await visible(page.getByRole('button', { name: 'Usar o canal de teste (sandbox)' }))
    await look(page, 'settings-onboarding')
    await page.getByRole('button', { name: 'Conectar número do WhatsApp' }).click()
    await visible(dialog(page, 'Conectar número do WhatsApp'))
    assert.match(page.url(), /#\/configuracoes\/canais$/)
  })

  step('connect a whatsapp_cloud channel: field errors first, then saved', async () => {
    const d = dialog(page, 'Conectar número do WhatsApp')
    await visible(d.getByText('Em WhatsApp › Configuração da API (API Setup)', { exact: false }))
    const token = field(d, 'Token de verificação do webhook')
    verifyToken = await token.inputValue()
    assert.match(verifyToken, /^[\w-]{43}$/, 'a random verify token is proposed')
    await look(page, 'settings-channel-form')
    await field(d, 'Nome do canal').fill('WhatsApp Vendas')
    await field(d, 'Número de telefone').fill('11 4000-9999')
    await d.getByRole('button', { name: 'Salvar' }).click()
    await errorAt(field(d, 'ID do número de telefone (Phone number ID)'), 'Preencha este campo.')
    await errorAt(field(d, 'Token de acesso permanente'), 'Preencha este campo.')
    await visible(d.getByText('Corrija os campos indicados. Nada foi salvo.'))
    await look(page, 'settings-channel-form-errors')
    assert.equal((await server.api('/channels')).items.filter((c) => c.provider === 'whatsapp_cloud').length, 0, 'nothing saved')

    await field(d, 'ID do número de telefone (Phone number ID)').fill(META.phoneNumberId)
    await field(d, 'ID da conta do WhatsApp Business (WABA ID)').fill(META.wabaId)
    await field(d, 'Token de acesso permanente').fill(META.token)
    await field(d, 'Chave secreta do app (App secret)').fill(META.appSecret)
    await d.getByRole('button', { name: 'Salvar' }).click()
    await visible(card('WhatsApp Vendas'))
    const ch = (await server.api('/channels')).items.find((c) => c.provider === 'whatsapp_cloud')
    channelId = ch.id
    assert.equal(ch.has_verify_token, true)
    assert.equal(JSON.stringify(ch).includes(META.token), false, 'secrets are write-only')
  })

  step('the screen shows what to paste into Meta: callback URL and verify token', async () => {
    const c = card('WhatsApp Vendas')
    assert.equal(await field(c, 'URL de retorno (Callback URL)').inputValue(), `${PUBLIC_URL}/webhooks/whatsapp/${channelId}`)
    assert.equal(await field(c, 'Token de verificação (Verify token)').inputValue(), verifyToken)
    await visible(c.getByText('Nenhum webhook recebido ainda.', { exact: false }))
    await visible(card('WhatsApp Loja Demo (sandbox)').getByText('Canal de teste (sandbox)', { exact: true }))
    await look(page, 'settings-channels-webhook')
  })

  step('"Testar conexão" succeeds, then fails in Portuguese with a wrong token', async () => {
    const c = card('WhatsApp Vendas')
    await c.getByRole('button', { name: 'Testar conexão' }).click()
    await visible(c.getByText('Conexão funcionando: +55 11 4000-9999 (Loja Exemplo), qualidade GREEN.'))
    const asked = graph.requests.filter((r) => r.url.startsWith(`/v25.0/${META.phoneNumberId}?`))
    assert.equal(asked.length, 1)
    assert.equal(asked[0].auth, `Bearer ${META.token}`)
    await look(page, 'settings-channel-test-ok')

    await c.getByRole('button', { name: 'Editar WhatsApp Vendas' }).click()
    const d = dialog(page, 'Editar canal')
    await d.getByRole('button', { name: 'Alterar: Token de acesso permanente' }).click()
    await field(d, 'Token de acesso permanente').fill('EAAG-token-revogado')
    await d.getByRole('button', { name: 'Salvar' }).click()
    await visible(c.getByRole('button', { name: 'Testar conexão' }))
    await c.getByRole('button', { name: 'Testar conexão' }).click()
    await visible(c.getByText('A Meta recusou o token de acesso', { exact: false }))
    await look(page, 'settings-channel-test-wrong-token')

    // The right token back, for the sync below.
    await c.getByRole('button', { name: 'Editar WhatsApp Vendas' }).click()
    await d.getByRole('button', { name: 'Alterar: Token de acesso permanente' }).click()
    await field(d, 'Token de acesso permanente').fill(META.token)
    await d.getByRole('button', { name: 'Salvar' }).click()
    await c.getByRole('button', { name: 'Testar conexão' }).click()
    await visible(c.getByText('Conexão funcionando', { exact: false }))
  })

  step("Meta's handshake and a signed webhook: shown as último webhook recebido", async () => {
    const path = new URL(await field(card('WhatsApp Vendas'), 'URL de retorno (Callback URL)').inputValue()).pathname
    const q = new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.verify_token': verifyToken, 'hub.challenge': '1158201444' })
    const hs = await fetch(`${server.baseURL}${path}?${q}`)
    assert.equal(hs.status, 200)
    assert.equal(await hs.text(), '1158201444')
    q.set('hub.verify_token', 'outro')
    assert.equal((await fetch(`${server.baseURL}${path}?${q}`)).status, 403)

    const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: META.wabaId, changes: [] }] })
    const sig = `sha256=${createHmac('sha256', META.appSecret).update(body).digest('hex')}`
    const wh = await fetch(`${server.baseURL}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': sig },
      body,
    })
    assert.equal(wh.status, 200, await wh.text())

    await page.reload()
    await visible(card('WhatsApp Vendas').getByText('Último webhook recebido:', { exact: false }))
    await look(page, 'settings-channels-last-webhook')
  })

  step('Modelos de mensagem: sync, counts, and why a template cannot be used', async () => {
    await page.getByRole('navigation', { name: 'Configurações' }).getByRole('link', { name: 'Modelos de mensagem' }).click()
    await visible(page.getByRole('heading', { name: 'Modelos de mensagem', level: 2 }))
    await page.getByRole('button', { name: 'Sincronizar agora' }).click()
    await visible(page.getByText('Sincronização concluída: 4 criados, 0 atualizados, 0 sem mudança, 0 com falha.'))
    await visible(card('pedido_confirmado').getByText('Pode ser usado'))
    await visible(card('pedido_confirmado').getByText('Variáveis: [NOME], [PEDIDO]'))
    await visible(card('promocao_pausada').getByText('a Meta pausou o modelo', { exact: false }))
    // An image header is sent with the start's header_media; a location header is not yet.
    await visible(card('catalogo_com_imagem').getByText('Pode ser usado'))
    await visible(card('convite_com_local').getByText('o cabeçalho pede uma localização', { exact: false }))
    await look(page, 'settings-templates-synced')
    await page.getByRole('button', { name: 'Sincronizar agora' }).click()
    await visible(page.getByText('Sincronização concluída: 0 criados, 0 atualizados, 4 sem mudança, 0 com falha.'))
  })

  step('the same screens at 390×844', async () => {
    await page.setViewportSize(PHONE)
    try {
      await fitsViewport(page, 'templates on a phone')
      await look(page, 'settings-templates-phone')
      await page.getByRole('navigation', { name: 'Configurações' }).getByRole('link', { name: 'Canais' }).click()
      await visible(card('WhatsApp Vendas'))
      await fitsViewport(page, 'channels on a phone')
      await look(page, 'settings-channels-phone')
      await page.getByRole('button', { name: 'Editar WhatsApp Vendas' }).click()
      const d = dialog(page, 'Editar canal')
      await visible(d)
      await fitsViewport(page, 'channel form on a phone')
      await look(page, 'settings-channel-form-phone')
      // A changed form asks before it is left.
      await field(d, 'Nome do canal').fill('WhatsApp Vendas 2')
      await page.keyboard.press('Escape')
      const ask = page.getByRole('alertdialog', { name: 'Descartar o que foi preenchido?' })
      await visible(ask)
      await ask.getByRole('button', { name: 'Descartar' }).click()
      await visible(card('WhatsApp Vendas'))
      await page.goto(`${server.baseURL}/#/atendimentos`)
      await visible(page.getByRole('heading', { name: 'Atendimentos' }))
      assert.equal(
        await page.getByRole('heading', { name: 'Conecte seu número do WhatsApp' }).count(),
        0,
        'a connected number ends the onboarding',
      )
      await look(page, 'settings-inbox-connected-phone')
    } finally {
      await page.setViewportSize(DESKTOP)
    }
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page')
  })
})
