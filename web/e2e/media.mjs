// End-to-end, media (issue 12): the built SPA against the real Go server, in Debian's Chromium.
// The agent attaches a PDF while the conversation waits (the upload's progress shows on a slowed
// connection) and it is queued; the contact "sends" a voice note through the sandbox, which
// releases the PDF; the voice note plays, its length is read and its speed changes; an image opens
// full size; a PDF downloads with its bytes intact. Every screen at 1280×800 and 390×844, checked by
// axe-core. The media files are made here (e2e/mediaFiles.mjs), nothing is downloaded.

import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { WAIT_MS, buildServer, ensureSpaBuilt, launchChromium, log, shot, startServer, tempDir } from './harness.mjs'
import { field, fitsViewport, hidden, look, until, visible } from './page.mjs'
import { oggOpus, pdf, png } from './mediaFiles.mjs'

const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

let tmp
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
  tmp = tempDir('atendimento-e2e-media-')
  await ensureSpaBuilt()
  const bin = await buildServer(tmp)
  const workDir = join(tmp, 'work')
  mkdirSync(workDir)
  server = await startServer(bin, workDir)
  log(`media: server at ${server.baseURL}`)
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
})
