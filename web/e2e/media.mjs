// End-to-end, media (issue 12): the built SPA against the real Go server, in Debian's Chromium.
// The agent attaches a PDF while the conversation waits (the upload's progress shows on a slowed
// connection) and it is queued; the contact "sends" a voice note through the sandbox, which
// releases the PDF; the voice note plays, its length is read and its speed changes; an image opens
// full size; a PDF downloads with its bytes intact. Every screen at 1280×800 and 390×844, checked by
// axe-core. Then, on a WhatsApp Cloud number whose Graph API is a local fake that checks what it
// is sent, a template with an image header starts through "Iniciar atendimento" with an image
// chosen in Parâmetros: the fake gets the upload, then the template with the header by Meta's
// media id. The media files are made here (e2e/mediaFiles.mjs), nothing is downloaded.

import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ARTIFACTS, WAIT_MS, buildServer, ensureSpaBuilt, launchChromium, log, shot, startServer, tempDir } from './harness.mjs'
import { dialog, field, fitsViewport, hidden, look, until, visible } from './page.mjs'
import { oggOpus, pdf, png } from './mediaFiles.mjs'

const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

const META = {
  phoneNumberId: '106540352242922',
  wabaId: '102290129340398',
  token: 'EAAG-e2e-media-token',
  appSecret: 'e2e-media-app-secret',
}

/** The parts of a multipart/form-data body: name → {filename, contentType, data}. */
function multipart(contentType, body) {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType ?? '')
  if (!boundary) return null
  const sep = Buffer.from(`--${boundary[1] ?? boundary[2]}`)
  const parts = {}
  let at = body.indexOf(sep)
  while (at >= 0) {
    const start = at + sep.length
    if (body.subarray(start, start + 2).toString() === '--') break
    const next = body.indexOf(sep, start)
    if (next < 0) break
    const part = body.subarray(start + 2, next - 2) // after CRLF, before the CRLF that ends it
    const headEnd = part.indexOf('\r\n\r\n')
    const head = part.subarray(0, headEnd).toString()
    // Quoted or not (Go's mime.FormatMediaType leaves a token bare: filename=colecao.png).
    const name = /[;\s]name="?([^";\r\n]*)/.exec(head)?.[1]
    if (name) {
      parts[name] = { filename: /[;\s]filename="?([^";\r\n]*)/.exec(head)?.[1], contentType: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1], data: part.subarray(headEnd + 4) }
    }
    at = next
  }
  return parts
}

/**
 * The Graph API as the dispatcher calls it: POST /{version}/{phone-number-id}/media (multipart:
 * messaging_product, type, file; all required, as Meta wants) and POST …/messages, with Meta's 190
 * for any other token. Records the uploads and the raw bodies of the sends.
 */
function startFakeGraph() {
  const uploads = []
  const sends = []
  const srv = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const parts = new URL(req.url, 'http://graph').pathname.split('/').filter(Boolean)
      const reply = (status, obj) => {
        res.writeHead(status, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify(obj))
      }
      const bad = (message) => reply(400, { error: { message, type: 'OAuthException', code: 100, fbtrace_id: 'Ae2e' } })
      if (req.headers.authorization !== `Bearer ${META.token}`)
        return reply(401, { error: { message: 'Invalid OAuth access token', type: 'OAuthException', code: 190, fbtrace_id: 'Ae2e' } })
      if (req.method === 'POST' && parts.length === 3 && parts[1] === META.phoneNumberId && parts[2] === 'media') {
        const form = multipart(req.headers['content-type'], body)
        if (!form || form.messaging_product?.data.toString() !== 'whatsapp' || !form.type || !form.file) return bad('(#100) Invalid parameter')
        const id = `upload.${uploads.length + 1}`
        uploads.push({ id, type: form.type.data.toString(), filename: form.file.filename, contentType: form.file.contentType, data: form.file.data })
        return reply(200, { id })
      }
      if (req.method === 'POST' && parts.length === 3 && parts[1] === META.phoneNumberId && parts[2] === 'messages') {
        const raw = body.toString('utf8')
        const json = JSON.parse(raw)
        sends.push({ raw, json })
        return reply(200, {
          messaging_product: 'whatsapp',
          contacts: [{ input: json.to, wa_id: json.to.slice(1) }],
          messages: [{ id: `wamid.e2e.media.${sends.length}`, message_status: 'accepted' }],
        })
      }
      return bad(`Unsupported ${req.method.toLowerCase()} request.`)
    })
  })
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${srv.address().port}`, uploads, sends, close: () => srv.close() }))
  })
}

let tmp
let graph
let server
let context
let page
let conversationId
const pageErrors = []

const messages = (p) => p.getByRole('list', { name: 'Mensagens', exact: true }).getByRole('listitem')
const QUEUE = 'Na fila: serão enviadas quando o contato responder'
const composerFile = (p) => p.locator('form.composer input[type="file"]')
const sandboxFile = (p) => p.locator('form.sandbox-form input[type="file"]')

/** The contact "sends" a file: the sandbox form's attachment, then "Simular resposta". */
async function simulate(p, file, caption = '') {
  const sandbox = p.locator('details.sandbox')
  if (!(await sandbox.evaluate((el) => el.open))) await sandbox.locator('summary').click()
  await sandboxFile(p).setInputFiles(file)
  await visible(sandbox.getByText('Arquivo pronto para enviar'))
  if (caption) await field(sandbox, 'Resposta do contato').fill(caption)
  await sandbox.getByRole('button', { name: 'Simular resposta' }).click()
  await hidden(sandbox.getByRole('group', { name: 'Anexo' }))
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true }) // run.mjs empties it; alone, this file only needs it to exist
  tmp = tempDir('atendimento-e2e-media-')
  await ensureSpaBuilt()
  const bin = await buildServer(tmp)
  const workDir = join(tmp, 'work')
  mkdirSync(workDir)
  graph = await startFakeGraph()
  server = await startServer(bin, workDir, { WHATSAPP_API_BASE_URL: graph.url })
  log(`media: server at ${server.baseURL}, fake Graph API at ${graph.url}`)
  context = await launchChromium(join(tmp, 'profile'), { viewport: DESKTOP, locale: 'pt-BR', timezoneId: 'America/Sao_Paulo', acceptDownloads: true })
  context.setDefaultTimeout(WAIT_MS)
  page = context.pages()[0] ?? (await context.newPage())
  page.on('pageerror', (err) => pageErrors.push(err.message))

  // A conversation with João that waits for his reply, started through the API (the start flow
  // itself is run.mjs's subject).
  const contact = await server.api(`/contacts/lookup?phone=${encodeURIComponent('+5511987654321')}`)
  const channel = (await server.api('/channels')).items[0]
  const team = (await server.api('/teams')).items.find((t) => t.channel_ids.includes(channel.id))
  const template = (await server.api(`/templates?channel_id=${channel.id}&status=APPROVED&limit=200`)).items.find((t) => t.name === 'boas_vindas')
  const conv = await server.api('/conversations', {
    method: 'POST',
    body: JSON.stringify({
      contact_id: contact.id,
      channel_id: channel.id,
      team_id: team.id,
      template_id: template.id,
      parameters: Object.fromEntries(template.variables.map((v) => [v, v === 'atendente' ? 'Ana Souza' : 'João'])),
      send_type: 'now',
    }),
  })
  conversationId = conv.id
})

after(async () => {
  await context?.close().catch(() => {})
  await server?.stop().catch(() => {})
  graph?.close()
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

function step(name, fn) {
  test(name, async () => {
    try {
      await fn()
    } catch (err) {
      await shot(page, `FAIL-media-${name.replace(/[^\w]+/g, '-').slice(0, 40)}`).catch(() => {})
      throw err
    }
  })
}

describe('media in the SPA against the real server', { concurrency: 1 }, () => {
  step('an attachment queued while waiting: progress on a slow upload, the preview, "Colocar na fila"', async () => {
    await page.goto(server.baseURL)
    await visible(page.getByRole('heading', { name: 'Entrar' }))
    await field(page, 'E-mail').fill(server.email)
    await field(page, 'Senha').fill(server.password)
    await page.getByRole('button', { name: 'Entrar' }).click()
    await visible(page.getByRole('heading', { name: 'Atendimentos' }))
    await page.goto(`${server.baseURL}/#/atendimentos/${conversationId}`)
    await visible(page.getByRole('heading', { name: 'João da Silva', level: 2 }))
    await visible(page.getByText('Aguardando a resposta do contato'))

    // A slow uplink (64 KB/s) so the progress is seen moving, as on a phone's connection.
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 64 * 1024 })
    const boleto = pdf('Boleto de marco', 400_000)
    await composerFile(page).setInputFiles({ name: 'boleto-marco.pdf', mimeType: 'application/pdf', buffer: boleto })
    const preview = page.locator('form.composer').getByRole('group', { name: 'Anexo' })
    await visible(preview.getByText('boleto-marco.pdf'))
    await visible(preview.getByText(/^40\d KB$/))
    const bar = preview.getByRole('progressbar', { name: 'Envio do arquivo boleto-marco.pdf' })
    await until(page, () => {
      const v = Number(document.querySelector('form.composer progress')?.getAttribute('value'))
      return v > 0 && v < 100
    }, null, 'the upload reports progress between 0 and 100 %')
    assert.match(await preview.getByText(/^Enviando arquivo: \d+%$/).innerText(), /^Enviando arquivo: \d+%$/)
    await look(page, 'media-upload-progress-1280')
    await visible(preview.getByText('Arquivo pronto para enviar'))
    assert.equal(await bar.count(), 0)
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
    await cdp.detach()

    await field(page, 'Mensagem').fill('Segue o boleto de março')
    await look(page, 'media-attachment-ready-1280')
    await page.getByRole('button', { name: 'Colocar na fila' }).click()
    const queued = page.getByRole('region', { name: QUEUE }).getByRole('listitem').filter({ hasText: 'Segue o boleto de março' })
    await visible(queued.getByRole('link', { name: /^Baixar boleto-marco\.pdf \(40\d KB\)$/ }))
    await visible(queued.getByText('na fila'))
    await hidden(preview)
    await fitsViewport(page, 'queued attachment')
    await look(page, 'media-queued-1280')
  })

  step('the contact sends a voice note: it releases the queue, plays, shows its length, changes speed', async () => {
    await simulate(page, { name: 'audio.ogg', mimeType: 'audio/ogg', buffer: oggOpus(3) })
    const player = page.getByLabel('Mensagem de voz', { exact: true })
    await visible(player)
    // The queued PDF went out after the reply, marked as such.
    const released = messages(page).filter({ hasText: 'Segue o boleto de março' })
    await visible(released.getByText('enviada automaticamente após a resposta'))
    await hidden(page.getByRole('region', { name: QUEUE }))

    const voice = messages(page).filter({ has: player })
    await visible(voice.getByText('0:03'))
    const speed = voice.getByRole('button', { name: 'Velocidade de reprodução: 1×' })
    await speed.click()
    await visible(voice.getByRole('button', { name: 'Velocidade de reprodução: 1,5×' }))
    await player.evaluate((el) => el.play())
    await until(page, () => {
      const a = document.querySelector('audio[aria-label="Mensagem de voz"]')
      return a && a.currentTime > 0.3 && a.playbackRate === 1.5
    }, null, 'the voice note plays at 1,5×')
    await player.evaluate((el) => el.pause())
    await look(page, 'media-voice-note-1280')
  })

  step('the contact sends an image: the thumbnail opens it full size, Esc closes', async () => {
    await simulate(page, { name: 'foto.png', mimeType: 'image/png', buffer: png(96, 64) }, 'Foto do produto')
    const thumb = page.getByRole('button', { name: 'Ver imagem em tamanho real: Foto do produto' })
    await visible(thumb)
    await until(page, () => document.querySelector('.media-thumb img')?.naturalWidth === 96, null, 'the thumbnail loaded')
    await thumb.click()
    const d = page.getByRole('dialog', { name: 'Imagem' })
    await visible(d.getByRole('img', { name: 'Foto do produto' }))
    await until(page, () => document.querySelector('.media-full img')?.naturalHeight === 64, null, 'the full image loaded')
    await look(page, 'media-image-full-1280')
    await page.keyboard.press('Escape')
    await hidden(d)
  })

  step('the contact sends a PDF: name, size and a download with the same bytes', async () => {
    const bytes = pdf('Nota fiscal 123')
    await simulate(page, { name: 'nota-fiscal.pdf', mimeType: 'application/pdf', buffer: bytes })
    const link = page.getByRole('link', { name: /^Baixar nota-fiscal\.pdf \(\d+ B\)$/ })
    await visible(link)
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
    assert.equal(download.suggestedFilename(), 'nota-fiscal.pdf')
    const saved = await download.path()
    assert.deepEqual(readFileSync(saved), bytes)
    await look(page, 'media-documents-1280')
  })

  step('the same screens at 390×844', async () => {
    await page.setViewportSize(PHONE)
    await page.reload()
    await visible(page.getByLabel('Mensagem de voz', { exact: true }))
    await fitsViewport(page, 'media conversation on a phone')
    await look(page, 'media-conversation-390')
    await page.getByRole('button', { name: 'Ver imagem em tamanho real: Foto do produto' }).click()
    const d = page.getByRole('dialog', { name: 'Imagem' })
    await visible(d)
    await fitsViewport(page, 'full image on a phone')
    await look(page, 'media-image-full-390')
    await page.keyboard.press('Escape')
    await hidden(d)
    await composerFile(page).setInputFiles({ name: 'comprovante.png', mimeType: 'image/png', buffer: png(64, 64) })
    await visible(page.locator('form.composer').getByText('Arquivo pronto para enviar'))
    await fitsViewport(page, 'attachment on a phone')
    await look(page, 'media-attachment-390')
    await page.getByRole('button', { name: 'Remover anexo comprovante.png' }).click()
    await page.setViewportSize(DESKTOP)
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page')
  })

  step('a media template starts with an uploaded image: "Iniciar atendimento", the image in Parâmetros, Meta gets it by id', async () => {
    // A WhatsApp Cloud number beside the sandbox (its Graph API is the fake), a team of the
    // admin's on it, and an approved template whose header is an image, as a sync would bring.
    const admin = (await server.api('/users')).items.find((u) => u.email === server.email)
    const channel = await server.api('/channels', {
      method: 'POST',
      body: JSON.stringify({
        name: 'WhatsApp Cloud', provider: 'whatsapp_cloud', phone_number: '+55 11 4000-9999', phone_number_id: META.phoneNumberId,
        waba_id: META.wabaId, access_token: META.token, app_secret: META.appSecret, verify_token: 'e2e-media-verify',
      }),
    })
    const team = await server.api('/teams', { method: 'POST', body: JSON.stringify({ name: 'Vendas Cloud', channel_ids: [channel.id], member_ids: [admin.id] }) })
    await server.api(`/channels/${channel.id}`, { method: 'PATCH', body: JSON.stringify({ default_team_id: team.id }) })
    await server.api('/templates', {
      method: 'POST',
      body: JSON.stringify({
        channel_id: channel.id, name: 'colecao_com_foto', language: 'pt_BR', category: 'UTILITY', status: 'APPROVED', parameter_format: 'NAMED',
        components: [{ type: 'HEADER', format: 'IMAGE' }, { type: 'BODY', text: 'Olá {{nome}}, chegou a nova coleção!' }],
      }),
    })

    await page.goto(`${server.baseURL}/#/atendimentos`)
    await page.reload() // the SPA reads the new channel
    await visible(page.getByRole('heading', { name: 'Atendimentos' }))
    await field(page, 'Digite o número com DDD').fill('(21) 99876-5432')
    await page.getByRole('button', { name: 'Conversar' }).click()
    const d = dialog(page, 'Enviar mensagem')
    await visible(d.getByText('Maria Conceição', { exact: true }))
    // Two numbers now: "Selecione um canal" beside the send type.
    await visible(d.getByRole('heading', { name: 'Selecione um canal' }))
    await d.getByRole('button', { name: /^WhatsApp Cloud/ }).click()
    await d.getByRole('button', { name: 'Iniciar atendimento' }).click()
    const modelo = d.getByRole('heading', { name: 'Modelo de mensagem' })
    const pickTeam = d.getByRole('button', { name: 'Vendas Cloud' })
    await visible(modelo.or(pickTeam))
    if (!(await modelo.isVisible())) await pickTeam.click()
    await visible(modelo)
    await d.getByRole('radio', { name: 'colecao_com_foto' }).check()
    await d.getByRole('button', { name: 'Definir parâmetros' }).click()
    await visible(d.getByRole('heading', { name: 'Parâmetros' }))

    // Without the image the start is refused on the page, nothing leaves.
    await field(d, '[NOME]').fill('Maria')
    await d.getByRole('button', { name: 'Iniciar atendimento' }).click()
    await visible(d.getByText('Este modelo tem imagem, vídeo ou documento no cabeçalho: envie o arquivo ou um link.'))
    assert.equal(graph.uploads.length + graph.sends.length, 0)

    const image = png(120, 80)
    await d.locator('section.header-media input[type="file"]').setInputFiles({ name: 'colecao.png', mimeType: 'image/png', buffer: image })
    await visible(d.locator('section.header-media').getByText('Arquivo pronto para enviar'))
    await visible(d.getByText('Olá Maria, chegou a nova coleção!'))
    await look(page, 'media-template-image-header-1280')
    await d.getByRole('button', { name: 'Iniciar atendimento' }).click()
    await hidden(d)
    await visible(page.getByRole('heading', { name: 'Maria Conceição', level: 2 }))
    await visible(page.getByText('Aguardando a resposta do contato'))

    // The dispatcher uploaded the image to the number (multipart, as Meta wants it), then sent
    // the template with the header image by Meta's id.
    const deadline = Date.now() + WAIT_MS
    while (graph.sends.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    assert.equal(graph.uploads.length, 1, 'one upload')
    const [up] = graph.uploads
    assert.deepEqual({ type: up.type, filename: up.filename, contentType: up.contentType }, { type: 'image/png', filename: 'colecao.png', contentType: 'image/png' })
    assert.deepEqual(up.data, image, 'the uploaded bytes are the chosen file')
    assert.equal(graph.sends.length, 1, 'one send')
    assert.deepEqual(graph.sends[0].json, {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '+5521998765432',
      type: 'template',
      template: {
        name: 'colecao_com_foto',
        language: { code: 'pt_BR' },
        components: [
          { type: 'header', parameters: [{ type: 'image', image: { id: up.id } }] },
          { type: 'body', parameters: [{ type: 'text', text: 'Maria', parameter_name: 'nome' }] },
        ],
      },
    })
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page')
  })
})
