// End-to-end: the built SPA against the real Go server (fresh SQLite database, demo data with the
// sandbox channel), driven in Debian's Chromium by playwright-core. `npm run test:e2e`.
//
// Covers both ways of starting a conversation (Método 1 by phone, Método 2 from Novo atendimento), a
// scheduled start, messages queued while waiting and released live (via /api/v1/events, no
// reload) by a simulated reply, validation errors shown at their fields, the pages at 1280×800
// and 390×844, keyboard use, and a twelve-variable template whose preview stays in view while Enter
// walks its fields. Each step leaves a screenshot in web/e2e-artifacts/.

import assert from 'node:assert/strict'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  ARTIFACTS,
  WAIT_MS,
  axeViolations,
  buildServer,
  ensureSpaBuilt,
  launchChromium,
  log,
  shot,
  startServer,
  tempDir,
} from './harness.mjs'
import {
  accessible,
  dialog,
  dismiss,
  errorAt,
  field,
  fieldError,
  fitsViewport,
  hidden,
  look,
  until,
  visible,
} from './page.mjs'

const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }
const ZONE = 'America/Sao_Paulo' // UTC−3 all year: local times differ from UTC on purpose

let tmp
let server
let context
let page
const pageErrors = []

const messages = (p) => p.getByRole('list', { name: 'Mensagens', exact: true }).getByRole('listitem')
const message = (p, text) => messages(p).filter({ hasText: text })
const QUEUE = 'Na fila: serão enviadas quando o contato responder'
/** A message still waiting in the queue below the history. */
const queuedMessage = (p, text) => p.getByRole('region', { name: QUEUE }).getByRole('listitem').filter({ hasText: text })
const RELEASED = 'enviada automaticamente após a resposta'

/** "14:05": an API time as a message shows it in São Paulo. */
function hourMinute(iso) {
  return new Intl.DateTimeFormat('pt-BR', { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso))
}

/** "04/12/2026 10:00": an API time as the SPA shows it in São Paulo. */
function dayTime(iso) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('pt-BR', { timeZone: ZONE, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(iso))
      .map((x) => [x.type, x.value]),
  )
  return `${parts.day}/${parts.month}/${parts.year} ${parts.hour}:${parts.minute}`
}

/** Signs in from the login screen. */
async function login(p) {
  await visible(p.getByRole('heading', { name: 'Entrar' }))
  await field(p, 'E-mail').fill(server.email)
  await field(p, 'Senha').fill(server.password)
  await p.getByRole('button', { name: 'Entrar' }).click()
  await visible(p.getByRole('heading', { name: 'Atendimentos' }))
}

/** Método 1's first step: the phone field at the bottom left and "Conversar". */
async function conversar(p, phone) {
  await field(p, 'Digite o número com DDD').fill(phone)
  await p.getByRole('button', { name: 'Conversar' }).click()
}

/**
 * The "Enviar mensagem" wizard from its first step to the conversation view: send type, team
 * (the demo has one channel, so that step is skipped), template, parameters, submit.
 */
async function wizard(p, { prefix, contactName, sendType = 'Iniciar atendimento', schedule, team, category, search, template, params, cardCost }) {
  const d = dialog(p, 'Enviar mensagem')
  await visible(d)
  await visible(d.getByText(contactName, { exact: true }))
  await visible(d.getByRole('heading', { name: 'Selecione o tipo de envio' }))
  // One channel in the demo: "Selecione um canal" is skipped and the channel is named instead.
  await visible(d.getByText('Canal: WhatsApp Loja Demo (sandbox)'))
  assert.equal(await d.getByRole('heading', { name: 'Selecione um canal' }).count(), 0)
  await fitsViewport(p, `${prefix} send step`)
  await look(p, `${prefix}-enviar-mensagem`)
  assert.equal(await d.getByRole('button', { name: 'Continuar' }).count(), 0, 'no step the help page does not name')
  await d.getByRole('button', { name: sendType }).click()
  if (schedule) {
    // Typed the Brazilian way, in Brasília time, whatever the browser's locale.
    await visible(d.getByText('Até 30 dias a partir de agora, no Horário de Brasília.'))
    await field(d, 'Data').fill(schedule.date)
    await field(d, 'Hora').fill(schedule.time)
    await d.getByRole('button', { name: team }).click() // choosing the team moves on
  } else {
    // The channel's default team (Suporte) is chosen for the agent: "Iniciar atendimento" goes
    // straight to "Modelo de mensagem"; "Voltar" returns to choose another.
    await visible(d.getByRole('heading', { name: 'Modelo de mensagem' }))
    if (team !== 'Suporte') {
      await d.getByRole('button', { name: 'Voltar' }).click()
      await visible(d.getByRole('heading', { name: 'Selecione uma equipe' }))
      await visible(d.getByRole('button', { name: 'Suporte', pressed: true }))
      await d.getByRole('button', { name: team }).click() // choosing the team moves on
    }
  }

  await visible(d.getByRole('heading', { name: 'Modelo de mensagem' }))
  await visible(d.getByRole('button', { name: 'Todos os modelos', pressed: true }))
  // Wait for each filter's answer (the search is debounced), not just for the card.
  if (category) {
    await d.getByRole('button', { name: category }).click()
    await visible(d.getByRole('button', { name: category, pressed: true }))
    await until(p, (c) => {
      const badges = [...document.querySelectorAll('[role="dialog"] .template-card .badge')].map((e) => e.textContent)
      return badges.length > 0 && badges.every((b) => b === c)
    }, category, `only ${category} templates`)
  }
  if (search) {
    await field(d, 'Pesquisar modelo').fill(search)
    await until(p, (q) => {
      const names = [...document.querySelectorAll('[role="dialog"] .template-card .template-name')].map((e) => e.textContent)
      return names.length > 0 && names.every((n) => n.includes(q))
    }, search, `only templates matching "${search}"`)
  }
  const card = d.getByRole('radio', { name: template })
  await visible(card)
  if (cardCost) {
    // Each card shows its cost for this contact (one estimate per category).
    const cost = d.locator('.template-card').filter({ has: p.getByRole('radio', { name: template, exact: true }) }).locator('.template-cost')
    await visible(cost)
    assert.match(await cost.innerText(), cardCost)
  }
  // Only approved templates: the demo's PENDING one never shows.
  assert.equal(await d.getByRole('radio', { name: 'pesquisa_satisfacao' }).count(), 0)
  await card.check()
  await look(p, `${prefix}-modelo`)
  await d.getByRole('button', { name: 'Definir parâmetros' }).click()

  await visible(d.getByRole('heading', { name: 'Parâmetros' }))
  for (const [label, value] of Object.entries(params)) await field(d, label).fill(value)
  return d
}

before(async () => {
  tmp = tempDir('atendimento-e2e-')
  await ensureSpaBuilt()
  const bin = await buildServer(tmp)
  const workDir = join(tmp, 'work')
  mkdirSync(workDir)
  server = await startServer(bin, workDir)
  log(`server at ${server.baseURL} (demo login ${server.email})`)
  context = await launchChromium(join(tmp, 'profile'), { viewport: DESKTOP, locale: 'pt-BR', timezoneId: ZONE })
  context.setDefaultTimeout(WAIT_MS)
  page = context.pages()[0] ?? (await context.newPage())
  const watch = (p) => {
    p.on('pageerror', (err) => pageErrors.push(`${p.url()}: ${err.message}`))
  }
  context.on('page', watch)
  watch(page)
  log(`artifacts in ${ARTIFACTS}`)
})

after(async () => {
  await context?.close().catch(() => {})
  await server?.stop().catch(() => {})
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

/**
 * A step of the run: starts from a freshly loaded inbox (so one failure does not leave a dialog
 * open for the next), and leaves a FAIL- screenshot when it fails.
 */
function step(name, fn, { fresh = true } = {}) {
  test(name, async () => {
    try {
      if (fresh) {
        // A step that failed mid-flow leaves its draft in session storage: start without it.
        if (page.url().startsWith(server.baseURL)) await page.evaluate(() => sessionStorage.clear())
        await page.goto('about:blank')
        await page.goto(`${server.baseURL}/#/atendimentos`)
        await visible(page.getByRole('heading', { name: 'Atendimentos' }))
      }
      await fn()
    } catch (err) {
      for (const p of context.pages()) {
        await shot(p, `FAIL-${name.replace(/[^\w]+/g, '-').slice(0, 40)}`).catch(() => {})
      }
      throw err
    }
  })
}

describe('Atendimento SPA against the real server', { concurrency: 1 }, () => {
  step('login with the demo admin (1280×800)', async () => {
    // Cold load of the login screen: what it downloads, compressed, and that the workspace is not in it.
    const loaded = []
    const onResponse = (r) => loaded.push(r)
    page.on('response', onResponse)
    await page.goto(server.baseURL)
    await visible(page.getByRole('heading', { name: 'Entrar' }))
    page.off('response', onResponse)
    let bytes = 0
    for (const r of loaded) {
      const path = new URL(r.url()).pathname
      bytes += (await r.request().sizes()).responseBodySize
      if (/^\/assets\/.+\.(js|css)$/.test(path)) {
        assert.equal(r.headers()['content-encoding'], 'br', `${path} is served precompressed with brotli`)
      }
      assert.ok(!/^\/assets\/SignedIn-/.test(path), `the login screen does not download the workspace (${path})`)
    }
    log(`cold load of the login screen: ${loaded.length} responses, ${bytes} bytes on the wire`)
    assert.ok(bytes < 100_000, `the login screen downloads ${bytes} bytes (< 100 kB)`)
    await fitsViewport(page, 'login')
    await look(page, 'login-1280')
    await login(page)
    await visible(page.getByText('Conectado como Ana Souza'))
    for (const tab of ['Meus', 'Aguardando', 'Outros']) await visible(page.getByRole('tab', { name: tab }))
    await visible(field(page, 'Digite o número com DDD'))
    await fitsViewport(page, 'atendimentos')
    await look(page, 'atendimentos-1280')
  }, { fresh: false })

  step('keyboard: Tab to the phone field, type, Enter and Space on "Conversar"', async () => {
    await page.goto(`${server.baseURL}/#/atendimentos`)
    await visible(page.getByRole('heading', { name: 'Atendimentos' }))
    const phone = field(page, 'Digite o número com DDD')
    const conversarBtn = page.getByRole('button', { name: 'Conversar' })

    const tabTo = async (locator, what) => {
      for (let i = 0; i < 40; i++) {
        if (await locator.evaluate((el) => el === document.activeElement)) return
        await page.keyboard.press('Tab')
      }
      throw new Error(`Tab never reached ${what}`)
    }
    const focusRing = (locator) =>
      locator.evaluate((el) => {
        const s = getComputedStyle(el)
        return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== 'none')
      })

    // Enter on the focused button.
    await page.locator('body').focus()
    await tabTo(phone, 'the phone field')
    assert.ok(await focusRing(phone), 'the focused phone field shows a focus ring')
    await page.keyboard.type('11 98765-4321')
    await page.keyboard.press('Tab')
    assert.ok(await conversarBtn.evaluate((el) => el === document.activeElement), 'Tab from the phone field reaches "Conversar"')
    assert.ok(await focusRing(conversarBtn), '"Conversar" shows a focus ring')
    await look(page, 'keyboard-focus-conversar')
    await page.keyboard.press('Enter')
    const d = dialog(page, 'Enviar mensagem')
    await visible(d.getByText('João da Silva', { exact: true }))
    assert.ok(await d.evaluate((el) => el.contains(document.activeElement)), 'focus moves into the dialog')
    await look(page, 'keyboard-enter-dialog')
    await page.keyboard.press('Escape')
    await hidden(d)

    // Space on the focused button.
    await tabTo(phone, 'the phone field (again)')
    await page.keyboard.type('(21) 99876-5432')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Space')
    await visible(d.getByText('Maria Conceição', { exact: true }))
    await page.keyboard.press('Escape')
    await hidden(d)

    // Enter inside the field submits the form too.
    await tabTo(phone, 'the phone field (third time)')
    await page.keyboard.type('11987654321')
    await page.keyboard.press('Enter')
    await visible(d.getByText('João da Silva', { exact: true }))
    // The wizard's first step by keyboard: "Iniciar atendimento" is reachable and Space chooses it
    // (the demo's one channel and its default team are chosen: on to "Modelo de mensagem").
    const now = d.getByRole('button', { name: 'Iniciar atendimento' })
    await tabTo(now, '"Iniciar atendimento"')
    await page.keyboard.press('Space')
    await visible(d.getByRole('heading', { name: 'Modelo de mensagem' }))
    await dismiss(page, d)
  })

  let joaoConversation
  step('Método 1: "Conversar" finds João, "Iniciar atendimento" with boas_vindas', async () => {
    // The admin sets the account's exchange rate (API, demo admin's key): costs read in reais.
    const account = await server.api('/account', { method: 'PATCH', body: JSON.stringify({ exchange_rate: 5.8 }) })
    assert.equal(account.exchange_rate, 5.8)
    const rateDay = account.exchange_rate_date.split('-').reverse().join('/')
    await conversar(page, '11 98765-4321')
    const d = await wizard(page, {
      prefix: 'metodo1',
      contactName: 'João da Silva',
      team: 'Vendas',
      search: 'boas',
      template: 'boas_vindas',
      params: { '[NOME]': 'João' },
      cardCost: /^Custo para este contato: R\$\s0,36 \(US\$\s0,0625\)$/,
    })
    // [ATENDENTE] defaults to the agent's name; the preview is the server's rendering.
    assert.equal(await field(d, '[ATENDENTE]').inputValue(), 'Ana Souza')
    await visible(d.getByText('Olá João, aqui é Ana Souza da Loja Demo. Podemos conversar sobre o seu atendimento?'))
    await visible(d.getByRole('heading', { name: 'Custo estimado' }))
    await visible(d.getByText('Conversa iniciada pela empresa', { exact: true }))
    await visible(d.getByText(new RegExp(`^R\\$\\s0,36 por mensagem entregue · US\\$\\s0,0625 · câmbio R\\$\\s5,80 de ${rateDay}$`)))
    await look(page, 'metodo1-parametros')
    await d.getByRole('button', { name: 'Iniciar atendimento' }).click()
    await hidden(d)

    await visible(page.getByRole('heading', { name: 'João da Silva', level: 2 }))
    await visible(page.getByText('Aguardando a resposta do contato'))
    await visible(message(page, 'Olá João, aqui é Ana Souza'))
    // Focus follows the start to the conversation, not back to the phone field.
    await until(page, () => document.activeElement?.matches('.conversation h2'), null, 'focus on the conversation heading')
    joaoConversation = /#\/atendimentos\/([\w-]+)/.exec(page.url())?.[1]
    assert.ok(joaoConversation, `the URL names the conversation: ${page.url()}`)
    // The row in "Aguardando" shows contact, channel, team and status.
    const row = page.getByRole('tabpanel').getByRole('link', { name: /João da Silva/ })
    await visible(row)
    await visible(row.getByText('WhatsApp Loja Demo (sandbox) · Vendas'))
    await fitsViewport(page, 'conversation')
    await look(page, 'metodo1-conversa-aguardando')
  })

  step('queued messages go out live when the contact replies (Simular resposta)', async () => {
    await page.goto(`${server.baseURL}/#/atendimentos/${joaoConversation}`)
    await visible(page.getByText('Aguardando a resposta do contato'))
    const texts = ['Primeira mensagem na fila', 'Segunda mensagem na fila']
    const composer = field(page, 'Mensagem')
    for (const text of texts) {
      await composer.fill(text)
      await page.getByRole('button', { name: 'Colocar na fila' }).click()
      await visible(queuedMessage(page, text).getByText('na fila', { exact: true }))
    }
    await visible(page.getByRole('button', { name: `Retirar da fila: “${texts[0]}”` }))
    // Waiting apart, below the history, in posting order.
    const waiting = await page.getByRole('region', { name: QUEUE }).getByRole('listitem').allInnerTexts()
    assert.ok(waiting.length === 2 && waiting[0].includes(texts[0]) && waiting[1].includes(texts[1]), waiting.join(' | '))
    assert.equal(await message(page, texts[0]).count(), 0, 'a queued message is not history yet')
    // The history scrolls by keyboard.
    const scroller = page.getByRole('region', { name: 'Histórico da conversa' })
    assert.equal(await scroller.getAttribute('tabindex'), '0')
    await fitsViewport(page, 'conversation with a queue')
    await accessible(page, 'conversation with a queue (1280×800)')
    await look(page, 'fila-na-fila')
    await page.setViewportSize(PHONE)
    await visible(queuedMessage(page, texts[1]))
    await fitsViewport(page, 'conversation with a queue 390')
    await accessible(page, 'conversation with a queue (390×844)')
    await look(page, 'phone-fila-na-fila')
    await page.setViewportSize(DESKTOP)

    // A second tab on the same conversation only learns of the reply through /api/v1/events.
    const watcher = await context.newPage()
    await watcher.goto(`${server.baseURL}/#/atendimentos/${joaoConversation}`)
    for (const text of texts) await visible(queuedMessage(watcher, text).getByText('na fila', { exact: true }))
    await watcher.evaluate(() => {
      window.__e2eNoReload = true
    })

    await page.getByText('Canal de teste: simular uma resposta do contato').click()
    await field(page, 'Resposta do contato').fill('Oi! Pode falar.')
    await page.getByRole('button', { name: 'Simular resposta' }).click()

    for (const p of [page, watcher]) {
      await visible(message(p, 'Oi! Pode falar.'))
      for (const text of texts) {
        await visible(message(p, text).getByText('entregue', { exact: true }))
        await visible(message(p, text).getByText(RELEASED, { exact: true }))
      }
      await visible(p.getByText(/Janela de 24 horas aberta/))
      await hidden(p.getByText('Aguardando a resposta do contato'))
      await hidden(p.getByRole('region', { name: QUEUE }))
    }
    assert.equal(await watcher.evaluate(() => window.__e2eNoReload), true, 'the watching tab was not reloaded')
    // The opening template, the reply, then what the reply released, in posting order.
    for (const p of [page, watcher]) {
      const order = await messages(p).allInnerTexts()
      const at = (s) => order.findIndex((x) => x.includes(s))
      assert.ok(at('Olá João') === 0 && at('Oi! Pode falar.') === 1 && at(texts[0]) === 2 && at(texts[1]) === 3, order.join(' | '))
    }
    assert.equal(await message(page, 'Oi! Pode falar.').getByText(RELEASED).count(), 0)
    assert.equal(await message(page, 'Olá João').getByText(RELEASED).count(), 0)
    // Each shows the time it was sent (the server's sent_at), not the time it was written.
    const { items } = await server.api(`/conversations/${joaoConversation}/messages`)
    for (const text of texts) {
      const m = items.find((x) => x.text === text)
      assert.ok(m.sent_at, `${text} has a sent_at`)
      assert.equal(await message(page, text).locator('time').getAttribute('datetime'), m.sent_at)
      assert.equal(await message(page, text).locator('time').innerText(), hourMinute(m.sent_at))
    }
    await accessible(watcher, 'conversation after the release (1280×800)')
    await shot(watcher, 'fila-entregue-aba-observadora')
    await watcher.close()
    await look(page, 'fila-entregue')

    // Inside the window the composer sends at once.
    await composer.fill('Mensagem com a janela aberta')
    await page.getByRole('button', { name: 'Enviar', exact: true }).click()
    await visible(message(page, 'Mensagem com a janela aberta').getByText('entregue', { exact: true }))
  })

  step('Método 2: "⋮" → "Novo atendimento", search Maria, "Agendar mensagem" (local time sent as UTC)', async () => {
    await page.getByRole('button', { name: 'Outras opções' }).click()
    await page.getByRole('menuitem', { name: 'Novo atendimento' }).click()
    const side = dialog(page, 'Novo atendimento')
    await visible(side)
    await field(side, 'Pesquisar contato').fill('Mar')
    const result = side.getByRole('button', { name: /Maria Conceição/ })
    await visible(result)
    await look(page, 'metodo2-pesquisa')
    await result.click()

    // Two days ahead at 10:30 Brasília time (UTC−3) is 13:30 UTC.
    const day = new Date(Date.now() + 2 * 86_400_000).toLocaleDateString('en-CA', { timeZone: ZONE })
    const [y, mo, dd] = day.split('-')
    const d = await wizard(page, {
      prefix: 'metodo2-agendar',
      contactName: 'Maria Conceição',
      sendType: 'Agendar mensagem',
      schedule: { date: `${dd}/${mo}/${y}`, time: '10:30' },
      team: 'Suporte',
      category: 'Utilidade',
      template: 'atualizacao_pedido',
      params: { '[NOME]': 'Maria', '[PEDIDO]': '12345', '[SITUACAO]': 'enviado', '[1] · complemento do link do botão': '12345' },
    })
    // The URL button's suffix says which link it completes, and the preview shows the button.
    await visible(d.getByText('Final do link do botão “Acompanhar pedido”: https://loja.example.com/pedidos/[1]'))
    await visible(d.getByRole('list', { name: 'Botões da mensagem' }).getByText('https://loja.example.com/pedidos/12345'))
    assert.equal(await d.getByRole('radio', { name: 'boas_vindas' }).count(), 0, 'the Utilidade filter hides marketing templates')
    await visible(d.getByText('Olá Maria, o seu pedido 12345 foi atualizado: enviado.'))
    await visible(d.getByText(`Envio agendado para ${dd}/${mo}/${y} 10:30 (Horário de Brasília) · Canal: WhatsApp Loja Demo (sandbox) · Equipe: Suporte`))
    await look(page, 'metodo2-agendar-parametros')
    await d.getByRole('button', { name: 'Agendar', exact: true }).click()
    await hidden(d)

    await visible(page.getByRole('heading', { name: 'Maria Conceição', level: 2 }))
    await visible(page.getByText('Mensagem agendada'))
    await visible(page.getByRole('button', { name: 'Cancelar agendamento' }))
    const id = /#\/atendimentos\/([\w-]+)/.exec(page.url())?.[1]
    const conv = await server.api(`/conversations/${id}`)
    assert.equal(conv.status, 'scheduled')
    assert.equal(new Date(conv.scheduled_at).toISOString(), new Date(`${day}T13:30:00Z`).toISOString(), 'scheduled_at is the local time in UTC')
    await look(page, 'metodo2-agendado')

    // "Cancelar agendamento" asks first; "Voltar" keeps the schedule.
    await page.getByRole('button', { name: 'Cancelar agendamento' }).click()
    const ask = page.getByRole('alertdialog', { name: 'Cancelar o agendamento para Maria Conceição?' })
    await visible(ask)
    assert.ok(await ask.getByRole('button', { name: 'Voltar' }).evaluate((el) => el === document.activeElement), 'focus on the safe answer')
    await accessible(page, 'cancel confirmation')
    await look(page, 'metodo2-cancelar-pergunta')
    await ask.getByRole('button', { name: 'Voltar' }).click()
    await hidden(ask)
    assert.equal((await server.api(`/conversations/${id}`)).status, 'scheduled')
    await page.getByRole('button', { name: 'Cancelar agendamento' }).click()
    await ask.getByRole('button', { name: 'Cancelar agendamento' }).click()
    await visible(page.getByText('Este agendamento foi cancelado.'))
    assert.equal((await server.api(`/conversations/${id}`)).status, 'cancelled')
  })

  step('Método 2: "Novo contato" shows the phone error at its field, then starts', async () => {
    await page.getByRole('button', { name: 'Outras opções' }).click()
    await page.getByRole('menuitem', { name: 'Novo atendimento' }).click()
    const side = dialog(page, 'Novo atendimento')
    await field(side, 'Pesquisar contato').fill('Carla Mendes')
    await visible(side.getByText('Nenhum contato encontrado.'))
    await side.getByRole('button', { name: 'Novo contato' }).click()
    await visible(side.getByRole('heading', { name: 'Novo contato' }))
    assert.equal(await field(side, 'Nome').inputValue(), 'Carla Mendes', 'the search text becomes the name')

    const phone = field(side, 'Telefone')
    await phone.fill('12345')
    await side.getByRole('button', { name: 'Salvar contato' }).click()
    await errorAt(phone, 'Número inválido')
    await look(page, 'novo-contato-erro-no-campo')

    await phone.fill('31 99123-4567')
    assert.equal(await fieldError(phone), 'Número inválido. Digite com DDD, por exemplo 11 98765-4321.', 'the error stays until the next save')
    await side.getByRole('button', { name: 'Salvar contato' }).click()
    await hidden(side)

    const d = await wizard(page, {
      prefix: 'novo-contato',
      contactName: 'Carla Mendes',
      team: 'Vendas',
      category: 'Marketing',
      template: 'oferta_semana',
      params: { '[1]': '', '[2]': 'tênis', '[3]': '20%' },
    })
    // An empty parameter is flagged at its field on submit, and nothing is sent.
    await d.getByRole('button', { name: 'Iniciar atendimento' }).click()
    await errorAt(field(d, '[1]'), 'Preencha este parâmetro.')
    // The server's verdict on a value (five spaces in a row) lands at that field too.
    await field(d, '[1]').fill('Carla     Mendes')
    await errorAt(field(d, '[1]'), 'Valor inválido')
    // Submitted anyway, the server's 422 lands on the same field and nothing starts.
    const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/conversations') && r.request().method() === 'POST')
    await d.getByRole('button', { name: 'Iniciar atendimento' }).click()
    assert.equal((await refused).status(), 422)
    await visible(d.getByRole('button', { name: 'Iniciar atendimento' }))
    await errorAt(field(d, '[1]'), 'Valor inválido')
    await look(page, 'parametros-erro-no-campo')
    await field(d, '[1]').fill('Carla')
    await visible(d.getByText('Oi Carla! Esta semana o tênis está com 20% de desconto. Quer saber mais?'))
    assert.equal(await fieldError(field(d, '[1]')), null)
    // A reload mid-flow returns to the same step with what was filled.
    await page.reload()
    await visible(d.getByRole('heading', { name: 'Parâmetros' }))
    assert.equal(await field(d, '[1]').inputValue(), 'Carla')
    assert.equal(await field(d, '[2]').inputValue(), 'tênis')
    await visible(d.getByText('Oi Carla! Esta semana o tênis está com 20% de desconto. Quer saber mais?'))
    // Back on the reopened flow asks first (one entry for the dialog, not two).
    await page.goBack()
    const ask = page.getByRole('alertdialog', { name: 'Descartar o que foi preenchido?' })
    await visible(ask)
    await ask.getByRole('button', { name: 'Continuar editando' }).click()
    await visible(d.getByRole('heading', { name: 'Parâmetros' }))
    await d.getByRole('button', { name: 'Iniciar atendimento' }).click()
    await hidden(d)
    await visible(page.getByRole('heading', { name: 'Carla Mendes', level: 2 }))
    await visible(page.getByText('Aguardando a resposta do contato'))
    await look(page, 'novo-contato-conversa')
  })

  step('Método 1: an unknown number offers to create the contact', async () => {
    await page.goto(`${server.baseURL}/#/atendimentos`)
    await conversar(page, '(47) 98888-7777')
    const nf = dialog(page, 'Contato não encontrado')
    await visible(nf.getByText(/Nenhum contato com o número/))
    assert.equal(await field(nf, 'Telefone').inputValue(), '(47) 98888-7777')
    await nf.getByRole('button', { name: 'Salvar contato' }).click()
    await errorAt(field(nf, 'Nome'), 'Preencha este campo.')
    await field(nf, 'Nome').fill('Pedro Alves')
    // The browser's Back with a typed name asks first, and never leaves the app.
    await page.goBack()
    const ask = nf.getByRole('alertdialog', { name: 'Descartar o que foi preenchido?' })
    await visible(ask)
    assert.ok(page.url().startsWith(server.baseURL), `still in the app: ${page.url()}`)
    await look(page, 'voltar-pergunta-descartar')
    await ask.getByRole('button', { name: 'Continuar editando' }).click()
    await hidden(ask)
    assert.equal(await field(nf, 'Nome').inputValue(), 'Pedro Alves')
    await look(page, 'metodo1-contato-nao-encontrado')
    await nf.getByRole('button', { name: 'Salvar contato' }).click()
    const d = dialog(page, 'Enviar mensagem')
    await visible(d.getByText('Pedro Alves', { exact: true }))
    await visible(d.getByText('+55 47 98888-7777'))
    await look(page, 'metodo1-novo-contato-enviar')
    await d.getByRole('button', { name: 'Cancelar' }).click()
    await hidden(d)
  })

  step('starting João again says at the first step that a conversation is already open', async () => {
    await conversar(page, '11 98765-4321')
    const d = dialog(page, 'Enviar mensagem')
    await visible(d.getByText('João da Silva', { exact: true }))
    await d.getByRole('button', { name: 'Iniciar atendimento' }).click()
    await visible(d.getByText('Já existe um atendimento aberto com João da Silva neste canal.'))
    // Known before the template and parameters: the flow does not move on.
    await visible(d.getByRole('heading', { name: 'Selecione o tipo de envio' }))
    assert.equal(await d.getByRole('heading', { name: 'Modelo de mensagem' }).count(), 0)
    await accessible(page, 'send step with a conversation already open')
    await look(page, 'ja-aberto-etapa-1')
    await d.getByRole('button', { name: 'Abrir atendimento existente' }).click()
    await hidden(d)
    await page.waitForURL(`**/#/atendimentos/${joaoConversation}`)
    await visible(message(page, 'Segunda mensagem na fila'))
  })

  step('the browser’s Back with the wizard open closes it and stays in the app', async () => {
    const inbox = page.url()
    await conversar(page, '11 98765-4321')
    const d = dialog(page, 'Enviar mensagem')
    await visible(d.getByText('João da Silva', { exact: true }))
    await page.goBack()
    const ask = page.getByRole('alertdialog', { name: 'Descartar o que foi preenchido?' })
    // Closed at once, or (when something was chosen) asked first.
    await until(page, () => !document.querySelector('[role="dialog"]') || !!document.querySelector('[role="alertdialog"]'), null, 'Back closes the wizard or asks')
    if (await ask.isVisible()) await ask.getByRole('button', { name: 'Descartar' }).click()
    await hidden(d)
    assert.equal(page.url(), inbox, 'the inbox, not about:blank')
    await visible(page.getByRole('heading', { name: 'Atendimentos' }))
    await visible(field(page, 'Digite o número com DDD'))
  })

  step('inside an open 24-hour window the start offers free text and says until when', async () => {
    // Lia wrote a minute ago; her (receptive) conversation was closed, her window is still open.
    const { items: channels } = await server.api('/channels')
    const sandbox = channels.find((c) => c.provider === 'sandbox')
    await server.api(`/sandbox/channels/${sandbox.id}/inbound`, {
      method: 'POST',
      body: JSON.stringify({ from: '+55 11 94321-0876', name: 'Lia Souza', text: 'Vocês abrem sábado?' }),
    })
    const lia = await server.api(`/contacts/lookup?phone=${encodeURIComponent('11943210876')}`)
    const { items: hers } = await server.api(`/conversations?contact_id=${lia.id}`)
    for (const c of hers) await server.api(`/conversations/${c.id}/close`, { method: 'POST' })
    await server.api('/templates', {
      method: 'POST',
      body: JSON.stringify({
        channel_id: sandbox.id, name: 'promo_com_imagem', language: 'pt_BR', category: 'UTILITY', status: 'APPROVED',
        parameter_format: 'NAMED',
        components: [{ type: 'HEADER', format: 'IMAGE', example: { header_handle: ['https://loja.example.com/promo.jpg'] } }, { type: 'BODY', text: 'Chegou a nova coleção!' }],
      }),
    })
    const state = await server.api(`/contacts/${lia.id}/start-state?channel_id=${sandbox.id}`)
    assert.equal(state.window.open, true)

    await conversar(page, '11 94321-0876')
    const d = dialog(page, 'Enviar mensagem')
    await visible(d.getByText('Lia Souza', { exact: true }))
    const until = `O contato escreveu nas últimas 24 horas: a janela está aberta até ${dayTime(state.window.expires_at)}. Você pode enviar uma mensagem de texto ou um modelo.`
    await visible(d.getByText(until))
    await d.getByRole('button', { name: 'Iniciar atendimento' }).click()
    await visible(d.getByRole('heading', { name: 'Modelo de mensagem' }))
    // A template with an image header can be chosen (Parâmetros asks for the image).
    const media = d.getByRole('radio', { name: 'promo_com_imagem' })
    await visible(media)
    assert.ok(!(await media.isDisabled()), 'an image-header template can be chosen')
    await d.getByRole('button', { name: 'Enviar mensagem de texto' }).click()
    await visible(d.getByRole('heading', { name: 'Mensagem de texto' }))
    await look(page, 'janela-aberta-texto-livre')
    await field(d, 'Mensagem').fill('Oi Lia! Abrimos sim, das 9h às 13h.')
    await d.getByRole('button', { name: 'Iniciar atendimento' }).click()
    await hidden(d)
    await visible(page.getByRole('heading', { name: 'Lia Souza', level: 2 }))
    await visible(message(page, 'Oi Lia! Abrimos sim, das 9h às 13h.'))
    const id = /#\/atendimentos\/([\w-]+)/.exec(page.url())?.[1]
    assert.equal((await server.api(`/conversations/${id}`)).status, 'active', 'free text inside the window: the conversation is active at once')
  })

  step('"Encerrar" asks before closing a conversation (with an optional reason)', async () => {
    const { items: channels } = await server.api('/channels')
    const sandbox = channels.find((c) => c.provider === 'sandbox')
    await server.api(`/sandbox/channels/${sandbox.id}/inbound`, {
      method: 'POST',
      body: JSON.stringify({ from: '+55 11 96666-5555', name: 'Rafael Lima', text: 'Bom dia, preciso de ajuda' }),
    })
    const { items } = await server.api('/conversations')
    const conv = items.find((c) => c.contact.phone === '+5511966665555' && c.status === 'active')
    assert.ok(conv, 'the reply opened a conversation')
    await page.goto(`${server.baseURL}/#/atendimentos/${conv.id}`)
    await visible(page.getByRole('heading', { name: 'Rafael Lima', level: 2 }))

    const encerrar = page.getByRole('button', { name: 'Encerrar', exact: true })
    await encerrar.click()
    const ask = page.getByRole('dialog', { name: 'Encerrar o atendimento com Rafael Lima?' })
    await visible(ask)
    await accessible(page, 'close confirmation')
    await look(page, 'encerrar-pergunta')
    await page.keyboard.press('Escape')
    await hidden(ask)
    assert.ok(await encerrar.evaluate((el) => el === document.activeElement), 'focus back on "Encerrar"')
    assert.equal((await server.api(`/conversations/${conv.id}`)).status, 'active', 'Escape closes nothing')

    await encerrar.click()
    await ask.getByRole('button', { name: 'Encerrar atendimento' }).click()
    await visible(page.getByText('Este atendimento foi encerrado.'))
    assert.equal((await server.api(`/conversations/${conv.id}`)).status, 'closed')
    await look(page, 'encerrado')
  })

  step('"Sair" takes the route back to the inbox: the next sign-in does not land on the conversation', async () => {
    await page.goto(`${server.baseURL}/#/atendimentos/${joaoConversation}`)
    await visible(page.getByRole('heading', { name: 'João da Silva', level: 2 }))
    await page.getByRole('button', { name: 'Sair' }).click()
    await visible(page.getByRole('heading', { name: 'Entrar' }))
    assert.equal(new URL(page.url()).hash, '#/atendimentos')
    await login(page)
    await visible(page.getByText('Selecione um atendimento ou inicie um novo.'))
    assert.equal(await page.getByRole('heading', { name: 'João da Silva', level: 2 }).count(), 0)
  })

  step('consent: "SAIR" opts the contact out, the start flow rules out marketing templates, the contact shows its consent (both sizes, axe)', async () => {
    // A contact of its own, so the other steps' contacts keep receiving marketing.
    const { items: channels } = await server.api('/channels')
    const sandbox = channels.find((c) => c.provider === 'sandbox')
    await server.api(`/sandbox/channels/${sandbox.id}/inbound`, {
      method: 'POST',
      body: JSON.stringify({ from: '+55 11 97777-6666', name: 'Beatriz Santos', text: '  Sair ' }),
    })
    const beatriz = await server.api(`/contacts/lookup?phone=${encodeURIComponent('11977776666')}`)
    assert.equal(beatriz.marketing_opted_out, true, 'the keyword reply opted the contact out')
    const since = `Não recebe mensagens de marketing desde ${dayTime(beatriz.marketing_consent_at)}`
    // Her "Sair" opened a (receptive) conversation; closed, it no longer blocks a start.
    const { items: hers } = await server.api(`/conversations?contact_id=${beatriz.id}`)
    for (const c of hers) await server.api(`/conversations/${c.id}/close`, { method: 'POST' })

    // The start flow: the consent at the confirmed contact, with its history.
    await conversar(page, '11 97777-6666')
    const d = dialog(page, 'Enviar mensagem')
    await visible(d.getByText('Beatriz Santos', { exact: true }))
    const contactCard = d.getByRole('region', { name: 'Contato' })
    await visible(contactCard.getByText(since, { exact: true }))
    await contactCard.getByRole('button', { name: 'Ver histórico' }).click()
    const history = contactCard.getByRole('list', { name: 'Histórico de consentimento de Beatriz Santos' })
    await visible(history.getByRole('listitem').filter({ hasText: 'palavra-chave' }))
    assert.match(await history.getByRole('listitem').first().innerText(), /^Descadastrado \d{2}\/\d{2}\/\d{4} \d{2}:\d{2} · palavra-chave\s+“\s*Sair\s*”$/)
    await fitsViewport(page, 'consent at the contact')
    await accessible(page, 'send step with the consent history')
    await look(page, 'consent-contato-descadastrado')

    await d.getByRole('button', { name: 'Iniciar atendimento' }).click()
    await visible(d.getByRole('heading', { name: 'Modelo de mensagem' }))
    const reason = 'Indisponível: o contato pediu para não receber mensagens de marketing'
    // The card around a template's radio (`has` is matched inside each card).
    const cardOf = (name) => d.locator('.template-card').filter({ has: page.getByRole('radio', { name, exact: true }) })
    for (const name of ['boas_vindas', 'oferta_semana']) {
      const card = d.getByRole('radio', { name })
      await visible(card)
      assert.ok(await card.isDisabled(), `${name} (MARKETING) cannot be chosen`)
      await visible(cardOf(name).getByText(reason, { exact: true }))
    }
    for (const name of ['atualizacao_pedido', 'codigo_verificacao']) {
      const card = d.getByRole('radio', { name })
      assert.ok(await card.isEnabled(), `${name} (UTILITY/AUTHENTICATION) stays available`)
      assert.equal(await cardOf(name).getByText(reason).count(), 0)
    }
    assert.ok(await d.getByRole('button', { name: 'Definir parâmetros' }).isDisabled(), 'no template chosen yet')
    await d.getByRole('radio', { name: 'atualizacao_pedido' }).check()
    assert.ok(await d.getByRole('button', { name: 'Definir parâmetros' }).isEnabled(), 'a utility template leads to the parameters')
    await fitsViewport(page, 'templates for an opted-out contact')
    await accessible(page, 'templates for an opted-out contact')
    await look(page, 'consent-modelos-indisponiveis')

    await page.setViewportSize(PHONE)
    await visible(cardOf('boas_vindas').getByText(reason))
    await fitsViewport(page, 'templates for an opted-out contact 390')
    await accessible(page, 'templates for an opted-out contact 390')
    await look(page, 'consent-modelos-indisponiveis-390')
    await d.getByRole('button', { name: 'Voltar' }).click()
    await visible(contactCard.getByText(since, { exact: true }))
    await fitsViewport(page, 'consent at the contact 390')
    await accessible(page, 'send step 390')
    await look(page, 'consent-contato-390')
    await d.getByRole('button', { name: 'Cancelar' }).click()
    await hidden(d)

    // The keyword reply opened a receptive conversation: its contact info shows the consent too.
    const { items: convs } = await server.api(`/conversations?contact_id=${beatriz.id}`)
    assert.equal(convs.length, 1)
    await page.goto(`${server.baseURL}/#/atendimentos/${convs[0].id}`)
    const info = page.getByRole('region', { name: 'Dados do contato Beatriz Santos' })
    await visible(info.getByText(since, { exact: true }))
    await fitsViewport(page, 'conversation with consent 390')
    await accessible(page, 'conversation with consent 390')
    await look(page, 'consent-conversa-390')

    await page.setViewportSize(DESKTOP)
    // The agent reactivates marketing (the contact asked to), after a confirmation.
    await info.getByRole('button', { name: 'Reativar marketing' }).click()
    await visible(info.getByText(/Reativar as mensagens de marketing para Beatriz Santos\?/))
    await field(info, 'Observação (opcional)').fill('Pediu para voltar a receber ofertas')
    await accessible(page, 'consent confirmation')
    await look(page, 'consent-confirmacao')
    await info.getByRole('button', { name: 'Confirmar' }).click()
    await visible(info.getByText(/^Recebe mensagens de marketing desde \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/))
    await info.getByRole('button', { name: 'Ver histórico' }).click()
    const entries = info.getByRole('list', { name: 'Histórico de consentimento de Beatriz Santos' }).getByRole('listitem')
    await visible(entries.filter({ hasText: 'atendente' }))
    assert.deepEqual(
      (await entries.allInnerTexts()).map((x) => x.split(' ')[0]),
      ['Reativado', 'Descadastrado'],
      'newest first',
    )
    const after = await server.api(`/contacts/${beatriz.id}`)
    assert.equal(after.marketing_opted_out, false)
    const { items: facts } = await server.api(`/contacts/${beatriz.id}/consent`)
    assert.deepEqual(facts.map((f) => [f.opted_out, f.source, f.detail]), [
      [false, 'agent', 'Pediu para voltar a receber ofertas'],
      [true, 'keyword', facts[1].detail],
    ])
    await fitsViewport(page, 'conversation with consent history')
    await accessible(page, 'conversation with consent history')
    await look(page, 'consent-conversa-reativado')
  })

  step('a long template (twelve variables): the preview stays in view, Enter walks the fields and starts', async () => {
    const { items: channels } = await server.api('/channels')
    const names = ['nome', 'pedido', 'produto', 'cor', 'tamanho', 'valor', 'parcelas', 'loja', 'endereco', 'data', 'hora', 'atendente']
    await server.api('/templates', {
      method: 'POST',
      body: JSON.stringify({
        channel_id: channels[0].id, name: 'confirmacao_completa', language: 'pt_BR', category: 'UTILITY', status: 'APPROVED',
        parameter_format: 'NAMED',
        components: [
          { type: 'HEADER', format: 'TEXT', text: 'Protocolo {{protocolo}}',
            example: { header_text_named_params: [{ param_name: 'protocolo', example: '2024-000123' }] } },
          { type: 'BODY', text: names.map((n) => `${n}: {{${n}}}.`).join(' '),
            example: { body_text_named_params: names.map((n) => ({ param_name: n, example: `ex-${n}` })) } },
        ],
      }),
    })
    await server.api('/contacts', { method: 'POST', body: JSON.stringify({ name: 'Paula Reis', phone: '11 97654-1212' }) })
    await conversar(page, '11 97654-1212')
    const d = await wizard(page, { prefix: 'longo', contactName: 'Paula Reis', team: 'Vendas', search: 'confirmacao', template: 'confirmacao_completa', params: {} })
    // The header's variable is labelled with its place, Meta's examples are the placeholders.
    const header = field(d, '[PROTOCOLO] · cabeçalho')
    await visible(header)
    assert.equal(await header.getAttribute('placeholder'), '2024-000123')
    assert.equal(await field(d, '[NOME]').getAttribute('placeholder'), 'ex-nome')

    const inputs = d.locator('.params-fields input')
    assert.equal(await inputs.count(), 13)
    const preview = d.getByTestId('params-preview')
    const inView = async (what) => {
      const box = await preview.boundingBox()
      const vp = page.viewportSize()
      assert.ok(box, `${what}: the preview is rendered`)
      assert.ok(box.y >= 0 && box.y + box.height <= vp.height && box.x >= 0 && box.x + box.width <= vp.width,
        `${what}: the preview ${JSON.stringify(box)} is inside the ${vp.width}×${vp.height} viewport`)
    }
    // Enter in each field moves to the next (typing as it goes); the preview stays in view.
    await inputs.nth(0).click()
    for (let i = 0; i < 12; i++) {
      if (!(await inputs.nth(i).inputValue())) await page.keyboard.type(`v${i}`)
      await page.keyboard.press('Enter')
      await until(page, (n) => document.activeElement === document.querySelectorAll('.params-fields input')[n], i + 1, `Enter moves to field ${i + 2}`)
    }
    await inView('1280×800, last field focused')
    const scrolled = await d.locator('.dialog-body').evaluate((el) => el.scrollTop)
    assert.ok(scrolled > 0, 'the fields scrolled to reach the last one')
    await visible(preview.getByText('Protocolo v0'))
    await look(page, 'longo-1280-ultimo-campo')

    // On a phone the preview sticks to the bottom of the dialog and can be collapsed.
    await page.setViewportSize(PHONE)
    await inputs.nth(1).focus()
    await inView('390×844, second field focused')
    for (const n of [6, 12]) {
      await inputs.nth(n).focus()
      await inView(`390×844, field ${n + 1} focused`)
      // The focused field is above the sticky preview, not under it.
      const [input, box] = [await inputs.nth(n).boundingBox(), await preview.boundingBox()]
      assert.ok(input.y >= 0 && input.y + input.height <= box.y, `field ${n + 1} ${JSON.stringify(input)} is above the preview ${JSON.stringify(box)}`)
    }
    await fitsViewport(page, 'long template 390')
    await look(page, 'longo-390-ultimo-campo')
    await preview.getByRole('button', { name: 'Ocultar pré-visualização' }).click()
    await hidden(preview.locator('.phone-frame'))
    await look(page, 'longo-390-previa-oculta')
    await preview.getByRole('button', { name: 'Mostrar pré-visualização' }).click()
    await visible(preview.locator('.phone-frame'))
    await page.setViewportSize(DESKTOP)

    // Enter in the last field starts the conversation, as the button does.
    await inputs.nth(12).focus()
    await page.keyboard.press('Enter')
    await hidden(d)
    await visible(page.getByRole('heading', { name: 'Paula Reis', level: 2 }))
    await visible(message(page, 'nome: v1.'))
  })

  step('phone size (390×844): list, phone field, side search, wizard, conversation, login', async () => {
    await page.setViewportSize(PHONE)
    await page.goto(`${server.baseURL}/#/atendimentos`)
    await visible(page.getByRole('heading', { name: 'Atendimentos' }))
    const phone = field(page, 'Digite o número com DDD')
    await phone.scrollIntoViewIfNeeded()
    await visible(phone)
    await visible(page.getByRole('button', { name: 'Conversar' }))
    await fitsViewport(page, 'atendimentos 390')
    await look(page, 'phone-atendimentos')

    await page.getByRole('tab', { name: /Aguardando/ }).click()
    await visible(page.getByRole('tabpanel').getByRole('link', { name: /Carla Mendes/ }))
    await look(page, 'phone-aba-aguardando')

    // A contact with nothing open yet (João's conversation would be offered at the first step).
    await server.api('/contacts', { method: 'POST', body: JSON.stringify({ name: 'Paula Ramos', phone: '11 96321-0987' }) })
    await page.getByRole('button', { name: 'Outras opções' }).click()
    await page.getByRole('menuitem', { name: 'Novo atendimento' }).click()
    const side = dialog(page, 'Novo atendimento')
    await field(side, 'Pesquisar contato').fill('11 96321')
    await visible(side.getByRole('button', { name: /Paula Ramos/ }))
    await fitsViewport(page, 'side search 390')
    await look(page, 'phone-novo-atendimento')
    await side.getByRole('button', { name: /Paula Ramos/ }).click()

    const d = await wizard(page, {
      prefix: 'phone',
      contactName: 'Paula Ramos',
      team: 'Suporte',
      template: 'codigo_verificacao',
      category: 'Autenticação',
      params: { '[1]': '123456' },
    })
    await fitsViewport(page, 'parameters 390')
    await look(page, 'phone-parametros')
    await dismiss(page, d, 'Fechar')

    await page.goto(`${server.baseURL}/#/atendimentos/${joaoConversation}`)
    await visible(message(page, 'Mensagem com a janela aberta'))
    await visible(field(page, 'Mensagem'))
    await fitsViewport(page, 'conversation 390')
    await look(page, 'phone-conversa')
    await page.getByRole('link', { name: 'Voltar aos atendimentos' }).click()
    await visible(field(page, 'Digite o número com DDD'))

    // Método 1 at this size too, to the end: the phone field, "Conversar", the steps the help page
    // names, "Iniciar atendimento", and the conversation waiting for the contact.
    await server.api('/contacts', { method: 'POST', body: JSON.stringify({ name: 'Rui Costa', phone: '11 95432-1098' }) })
    await conversar(page, '11 95432-1098')
    const m1 = await wizard(page, {
      prefix: 'phone-metodo1',
      contactName: 'Rui Costa',
      team: 'Vendas',
      template: 'boas_vindas',
      params: { '[NOME]': 'Rui' },
    })
    await m1.getByRole('button', { name: 'Iniciar atendimento' }).click()
    await hidden(m1)
    await visible(page.getByRole('heading', { name: 'Rui Costa', level: 2 }))
    await visible(page.getByText('Aguardando a resposta do contato'))
    await fitsViewport(page, 'started conversation 390')
    await look(page, 'phone-metodo1-conversa')
    await page.getByRole('link', { name: 'Voltar aos atendimentos' }).click()
    await visible(field(page, 'Digite o número com DDD'))

    await page.getByRole('button', { name: 'Sair' }).click()
    await visible(page.getByRole('heading', { name: 'Entrar' }))
    await fitsViewport(page, 'login 390')
    await look(page, 'phone-login')
  })

  test('no uncaught errors in the pages', () => {
    assert.deepEqual(pageErrors, [])
  })
})
