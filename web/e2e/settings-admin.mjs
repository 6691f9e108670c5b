// End-to-end: the admin's "Configurações" sections Equipes, Atendentes, Chaves de API, Webhooks and
// Conta against the real Go server (fresh SQLite database with the demo data), in Debian's
// Chromium at 1280×800 and 390×844. An agent invited here logs in from a second browser and sees
// no settings; an API key is used with curl exactly as a person would, then revoked; a CRM webhook
// pointed at a local HTTP server fails first and succeeds on "Reenviar".

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, test } from 'node:test'
import { ARTIFACTS, WAIT_MS, buildServer, ensureSpaBuilt, launchChromium, log, startServer, tempDir } from './harness.mjs'
import { dialog, dismiss, errorAt, field, fitsViewport, hidden, look, until, visible } from './page.mjs'

const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }
const ZONE = 'America/Sao_Paulo'
const run = promisify(execFile)

let tmp
let server
let admin
let page
let agentContext
const pageErrors = []

/** A CRM on the loopback: answers 500 to the first delivery, 200 afterwards, and keeps them. */
const crm = { hits: [], url: '', server: null }

/** Shows the screen at both sizes: axe-core and a screenshot each, nothing wider than the phone. */
async function lookBoth(p, name) {
  await look(p, `settings-admin-${name}-desktop`)
  await p.setViewportSize(PHONE)
  await fitsViewport(p, `${name} at 390px`)
  await look(p, `settings-admin-${name}-phone`)
  await p.setViewportSize(DESKTOP)
}

async function login(p, email, password) {
  await visible(p.getByRole('heading', { name: 'Entrar' }))
  await field(p, 'E-mail').fill(email)
  await field(p, 'Senha').fill(password)
  await p.getByRole('button', { name: 'Entrar' }).click()
}

/** Opens a section from the side menu. */
async function section(p, name) {
  await p.getByRole('navigation', { name: 'Configurações' }).getByRole('link', { name, exact: true }).click()
  await visible(p.getByRole('heading', { name, level: 2 }))
}

const row = (p, text) => p.getByRole('row').filter({ hasText: text })

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true })
  tmp = tempDir('atendimento-e2e-settings-')
  crm.server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      crm.hits.push({ headers: req.headers, body })
      res.statusCode = crm.hits.length === 1 ? 500 : 200
      res.end(crm.hits.length === 1 ? 'CRM fora do ar' : 'ok')
    })
  })
  await new Promise((r) => crm.server.listen(0, '127.0.0.1', r))
  crm.url = `http://127.0.0.1:${crm.server.address().port}/webhooks/atendimento`
  await ensureSpaBuilt()
  const bin = await buildServer(tmp)
  const workDir = join(tmp, 'work')
  mkdirSync(workDir)
  // A CRM on the loopback is allowed, and one failed attempt fails a delivery (the default retries
  // for hours), so "Reenviar" has something to resend.
  server = await startServer(bin, workDir, { WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_MAX_ATTEMPTS: '1' })
  log(`server at ${server.baseURL}; CRM at ${crm.url}`)
  admin = await launchChromium(join(tmp, 'admin'), { viewport: DESKTOP, locale: 'pt-BR', timezoneId: ZONE })
  admin.setDefaultTimeout(WAIT_MS)
  await admin.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseURL })
  page = admin.pages()[0] ?? (await admin.newPage())
  page.on('pageerror', (err) => pageErrors.push(err.message))
})

after(async () => {
  await agentContext?.close().catch(() => {})
  await admin?.close().catch(() => {})
  await server?.stop()
  await new Promise((r) => crm.server?.close(r) ?? r())
})

describe('Configurações (admin): Equipes, Atendentes, Chaves de API, Webhooks, Conta', { concurrency: 1 }, () => {
  test('the admin reaches the settings from the top bar; the menu lists the sections', async () => {
    await page.goto(server.baseURL)
    await login(page, server.email, server.password)
    await visible(page.getByRole('heading', { name: 'Atendimentos' }))
    await page.getByRole('navigation', { name: 'Navegação principal' }).getByRole('link', { name: 'Configurações' }).click()
    const menu = page.getByRole('navigation', { name: 'Configurações' })
    await visible(menu)
    for (const name of ['Equipes', 'Atendentes', 'Chaves de API', 'Webhooks', 'Conta']) {
      await visible(menu.getByRole('link', { name, exact: true }))
    }
  })

  test('Equipes: a form that asks before losing what was typed, the server error at its field, a new team', async () => {
    await section(page, 'Equipes')
    await visible(row(page, 'Vendas'))
    await lookBoth(page, 'equipes')

    await page.getByRole('button', { name: 'Nova equipe' }).click()
    let d = dialog(page, 'Nova equipe')
    await visible(d)
    await field(d, 'Nome').fill('Financeiro')
    // Escape with something typed asks first; "Continuar editando" keeps it.
    await page.keyboard.press('Escape')
    const ask = page.getByRole('alertdialog', { name: 'Descartar o que foi preenchido?' })
    await visible(ask)
    await ask.getByRole('button', { name: 'Continuar editando' }).click()
    await hidden(ask)
    assert.equal(await field(d, 'Nome').inputValue(), 'Financeiro')

    // A blank name: the server's error at the field, in Portuguese; nothing saved.
    await field(d, 'Nome').fill('   ')
    await d.getByRole('button', { name: 'Salvar' }).click()
    await errorAt(field(d, 'Nome'), 'Nome inválido')
    await lookBoth(page, 'equipes-erro')

    await field(d, 'Nome').fill('Financeiro')
    await d.getByRole('checkbox', { name: 'WhatsApp Loja Demo (sandbox)' }).check()
    await d.getByRole('checkbox', { name: 'Ana Souza' }).check()
    await d.getByRole('button', { name: 'Salvar' }).click()
    await hidden(d)
    await visible(row(page, 'Financeiro').getByText('WhatsApp Loja Demo (sandbox)'))
    await visible(row(page, 'Financeiro').getByText('Ana Souza'))

    // A duplicate name lands at the name field too.
    await page.getByRole('button', { name: 'Nova equipe' }).click()
    d = dialog(page, 'Nova equipe')
    await field(d, 'Nome').fill('Financeiro')
    await d.getByRole('button', { name: 'Salvar' }).click()
    await errorAt(field(d, 'Nome'), 'Já existe uma equipe com este nome.')
    await dismiss(page, d)

    // Deleting asks first and says what happens to its conversations.
    await row(page, 'Financeiro').getByRole('button', { name: 'Excluir a equipe Financeiro' }).click()
    const confirm = page.getByRole('alertdialog', { name: 'Excluir a equipe Financeiro?' })
    await visible(confirm.getByText(/atendimentos encerrados da equipe mantêm o histórico/))
    await look(page, 'settings-admin-equipes-excluir')
    await confirm.getByRole('button', { name: 'Cancelar' }).click()
    await hidden(confirm)
    await visible(row(page, 'Financeiro'))
  })

  test('Atendentes: invite an agent with a first password and a team; field errors in Portuguese', async () => {
    await section(page, 'Atendentes')
    await visible(row(page, 'Bruno Lima'))
    await lookBoth(page, 'atendentes')
    await page.getByRole('button', { name: 'Convidar atendente' }).click()
    const d = dialog(page, 'Convidar atendente')
    await field(d, 'Nome').fill('Carla Dias')
    await field(d, 'E-mail').fill('carla@')
    await field(d, 'Primeira senha').fill('curta')
    await d.getByRole('checkbox', { name: 'Financeiro' }).check()
    await d.getByRole('button', { name: 'Convidar' }).click()
    // Every failing field at once, each at its field.
    await errorAt(field(d, 'E-mail'), 'E-mail inválido.')
    await errorAt(field(d, 'Primeira senha'), 'A senha deve ter de 8 a 72 caracteres.')
    await lookBoth(page, 'atendentes-convite-erros')
    assert.equal((await server.api('/users?limit=200')).items.length, 2, 'nothing saved')

    await field(d, 'E-mail').fill('carla@loja.com.br')
    await field(d, 'Primeira senha').fill('primeira-senha-1')
    await d.getByRole('button', { name: 'Convidar' }).click()
    await hidden(d)
    const carla = row(page, 'Carla Dias')
    await visible(carla.getByText('Financeiro'))
    await visible(carla.getByText('Ativo'))
    await visible(carla.getByText('Atendente', { exact: true }))
  })

  test('the new agent, in a second browser, sees no settings; #/configuracoes sends them back', async () => {
    agentContext = await launchChromium(join(tmp, 'agent'), { viewport: DESKTOP, locale: 'pt-BR', timezoneId: ZONE })
    agentContext.setDefaultTimeout(WAIT_MS)
    const p = agentContext.pages()[0] ?? (await agentContext.newPage())
    p.on('pageerror', (err) => pageErrors.push(`agent: ${err.message}`))
    await p.goto(server.baseURL)
    await login(p, 'carla@loja.com.br', 'primeira-senha-1')
    await visible(p.getByRole('heading', { name: 'Atendimentos' }))
    await visible(p.getByText('Conectado como Carla Dias'))
    assert.equal(await p.getByRole('link', { name: 'Configurações' }).count(), 0, 'no way to the settings')
    await lookBoth(p, 'agente-sem-configuracoes')
    await p.goto(`${server.baseURL}/#/configuracoes/equipes`)
    await until(p, () => window.location.hash === '#/atendimentos', undefined, 'the agent is sent back to the inbox')
    await visible(p.getByRole('heading', { name: 'Atendimentos' }))
    assert.equal(await p.getByRole('navigation', { name: 'Configurações' }).count(), 0)

    // The admin deactivates Carla: her session ends, and her password no longer logs in.
    await row(page, 'Carla Dias').getByRole('button', { name: 'Desativar Carla Dias' }).click()
    const confirm = page.getByRole('alertdialog', { name: 'Desativar Carla Dias?' })
    await visible(confirm.getByText(/sai na hora e não consegue mais entrar/))
    await confirm.getByRole('button', { name: 'Desativar' }).click()
    await visible(row(page, 'Carla Dias').getByText('Desativado'))
    await p.reload()
    await login(p, 'carla@loja.com.br', 'primeira-senha-1')
    await visible(p.getByText('Este usuário foi desativado. Fale com um administrador da conta.'))
    await look(p, 'settings-admin-agente-desativado')
    await row(page, 'Carla Dias').getByRole('button', { name: 'Reativar Carla Dias' }).click()
    await visible(row(page, 'Carla Dias').getByText('Ativo'))
    await p.getByRole('button', { name: 'Entrar' }).click()
    await visible(p.getByRole('heading', { name: 'Atendimentos' }))
  })

  test('Chaves de API: created and shown once with a copy button, used with curl, revoked → 401', async () => {
    await section(page, 'Chaves de API')
    await lookBoth(page, 'chaves')
    await page.getByRole('button', { name: 'Nova chave' }).click()
    let d = dialog(page, 'Nova chave de API')
    await d.getByRole('button', { name: 'Criar chave' }).click()
    await errorAt(field(d, 'Nome'), 'Preencha este campo.')
    await field(d, 'Nome').fill('CRM')
    await d.getByRole('button', { name: 'Criar chave' }).click()
    d = dialog(page, 'Chave CRM criada')
    await visible(d.getByText('Copie a chave agora e guarde-a em local seguro: ela não será mostrada de novo.'))
    const key = await field(d, 'Chave').inputValue()
    assert.match(key, /^atd_[A-Za-z0-9_-]{43}$/)
    await d.getByRole('button', { name: 'Copiar' }).click()
    await visible(d.getByText('Copiado para a área de transferência.'))
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key)
    await lookBoth(page, 'chaves-criada')
    await d.getByRole('button', { name: 'Concluído' }).click()
    await hidden(d)
    await visible(row(page, 'CRM').getByText('Nunca usada'))

    // As the README tells a person: curl with the Bearer key.
    const me = await run('curl', ['-sS', '-H', `Authorization: Bearer ${key}`, `${server.baseURL}/api/v1/me`])
    assert.equal(JSON.parse(me.stdout).role, 'agent')
    await section(page, 'Atendentes')
    await section(page, 'Chaves de API')
    await hidden(row(page, 'CRM').getByText('Nunca usada'))

    await row(page, 'CRM').getByRole('button', { name: 'Revogar a chave CRM' }).click()
    const confirm = page.getByRole('alertdialog', { name: 'Revogar a chave CRM?' })
    await visible(confirm.getByText(/deixam de ter acesso imediatamente/))
    await look(page, 'settings-admin-chaves-revogar')
    await confirm.getByRole('button', { name: 'Revogar' }).click()
    await visible(row(page, 'CRM').getByText(/Revogada em/))
    const refused = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${key}`, `${server.baseURL}/api/v1/me`])
    assert.equal(refused.stdout, '401')
  })

  test('Webhooks: a CRM webhook fails first, "Reenviar" succeeds, the log shows both attempts', async () => {
    await section(page, 'Webhooks')
    await lookBoth(page, 'webhooks')
    await page.getByRole('button', { name: 'Novo webhook' }).click()
    let d = dialog(page, 'Novo webhook')
    await field(d, 'Endereço (URL)').fill('ftp://crm')
    await d.getByRole('button', { name: 'Criar webhook' }).click()
    await errorAt(field(d, 'Endereço (URL)'), 'Endereço inválido')
    await visible(d.getByText('Tipo de evento desconhecido.').or(d.getByText('Preencha este campo.')))
    await field(d, 'Endereço (URL)').fill(crm.url)
    await d.getByRole('checkbox', { name: /Atendimento criado/ }).check()
    await d.getByRole('button', { name: 'Criar webhook' }).click()
    d = dialog(page, 'Webhook criado')
    const secret = await field(d, 'Segredo de assinatura').inputValue()
    assert.match(secret, /^whsec_/)
    await visible(d.getByText(/não será mostrado de novo/))
    await look(page, 'settings-admin-webhook-criado')
    await d.getByRole('button', { name: 'Concluído' }).click()
    await visible(row(page, crm.url))

    // A contact writes in on the sandbox channel: a conversation is created, and the CRM told.
    const channels = await server.api('/channels')
    const sandbox = channels.items.find((c) => c.provider === 'sandbox')
    await server.api(`/sandbox/channels/${sandbox.id}/inbound`, { method: 'POST', body: JSON.stringify({ from: '11 97777-0001', text: 'Oi!' }) })

    await row(page, crm.url).getByRole('button', { name: `Ver as entregas de ${crm.url}` }).click()
    const log = page.getByRole('region', { name: `Entregas para ${crm.url}` })
    await visible(log)
    const refresh = log.getByRole('button', { name: 'Atualizar' })
    const failed = log.getByRole('listitem').filter({ hasText: 'Falhou' })
    for (let i = 0; (await failed.count()) === 0; i++) {
      assert.ok(i < 100, 'the delivery did not fail')
      await refresh.click()
      await page.waitForTimeout(200) // polling interval, not an assertion
    }
    await visible(failed.getByText('resposta HTTP 500'))
    await lookBoth(page, 'webhooks-entrega-falhou')
    await failed.getByRole('button', { name: 'Reenviar' }).click()
    const delivered = log.getByRole('listitem').filter({ hasText: 'Entregue' })
    for (let i = 0; (await delivered.count()) === 0; i++) {
      assert.ok(i < 100, 'the redelivery did not succeed')
      await refresh.click()
      await page.waitForTimeout(200) // polling interval, not an assertion
    }
    await visible(delivered.getByText(/Tentativa 1 em .*resposta HTTP 500/))
    await visible(delivered.getByText(/Tentativa 2 em .*resposta HTTP 200/))
    await lookBoth(page, 'webhooks-reenviada')
    assert.equal(crm.hits.length, 2)
    assert.equal(crm.hits[0].headers['x-atendimento-delivery'], crm.hits[1].headers['x-atendimento-delivery'], 'the same delivery, sent again')
    assert.equal(crm.hits[1].headers['x-atendimento-attempt'], '2')
  })

  test('Conta: name, region, time zone, auto-close and the exchange rate; errors at their fields', async () => {
    await section(page, 'Conta')
    await visible(page.getByText('America/Sao_Paulo'))
    await lookBoth(page, 'conta')
    await page.getByRole('button', { name: 'Editar' }).click()
    const d = dialog(page, 'Editar conta')
    await field(d, 'Nome da empresa').fill('')
    await field(d, 'Câmbio (R$ por US$ 1)').fill('250')
    await d.getByRole('button', { name: 'Salvar' }).click()
    await errorAt(field(d, 'Nome da empresa'), 'Preencha este campo.')
    await errorAt(field(d, 'Câmbio (R$ por US$ 1)'), 'Câmbio inválido')
    await lookBoth(page, 'conta-erros')
    await field(d, 'Nome da empresa').fill('Loja Demo Ltda')
    await d.getByLabel('Fuso horário').selectOption('America/Manaus')
    await d.getByRole('checkbox', { name: 'Encerrar automaticamente o atendimento quando a espera expirar' }).check()
    await field(d, 'Câmbio (R$ por US$ 1)').fill('5,25')
    await d.getByRole('button', { name: 'Salvar' }).click()
    await hidden(d)
    await visible(page.getByText('Loja Demo Ltda'))
    await visible(page.getByText('America/Manaus'))
    await visible(page.getByText(/R\$ 5,25 por US\$ 1/))
    await visible(page.getByText('O atendimento é encerrado automaticamente'))
    const acc = await server.api('/account')
    assert.equal(acc.time_zone, 'America/Manaus')
    assert.equal(acc.exchange_rate, 5.25)
    assert.equal(acc.auto_close_waiting, true)
  })

  test('Conta: the waiting timeout, the server error at its field; a reload asks while unsaved', async () => {
    await section(page, 'Conta')
    await visible(page.getByText('(definido pelo servidor: WAITING_TIMEOUT)'))
    await page.getByRole('button', { name: 'Editar' }).click()
    const d = dialog(page, 'Editar conta')
    await d.getByLabel('Espera pela resposta').selectOption('days')
    await field(d, 'Dias de espera').fill('31')
    await d.getByRole('button', { name: 'Salvar' }).click()
    await errorAt(field(d, 'Dias de espera'), 'Tempo de espera inválido')
    await lookBoth(page, 'conta-espera-erro')
    assert.equal((await server.api('/account')).waiting_timeout_is_default, true, 'nothing saved')

    // Unsaved: a reload makes the browser ask (beforeunload); staying keeps what was typed.
    let asked = ''
    const onDialog = (dlg) => {
      asked = dlg.type()
      void dlg.dismiss()
    }
    page.on('dialog', onDialog)
    await page.reload({ timeout: 2000 }).catch(() => {})
    page.off('dialog', onDialog)
    assert.equal(asked, 'beforeunload', 'a reload with unsaved changes did not ask')
    await visible(field(d, 'Dias de espera'))

    await field(d, 'Dias de espera').fill('2')
    await d.getByRole('button', { name: 'Salvar' }).click()
    await hidden(d)
    await visible(page.getByText('2 dia(s)'))
    const acc = await server.api('/account')
    assert.equal(acc.waiting_timeout_seconds, 2 * 86400)
    assert.equal(acc.waiting_timeout_is_default, false)

    // "Nunca", then back to the server's default.
    await page.getByRole('button', { name: 'Editar' }).click()
    await d.getByLabel('Espera pela resposta').selectOption('never')
    await d.getByRole('button', { name: 'Salvar' }).click()
    await hidden(d)
    assert.equal((await server.api('/account')).waiting_timeout_seconds, 0)
    await page.getByRole('button', { name: 'Editar' }).click()
    await d.getByLabel('Espera pela resposta').selectOption('default')
    await d.getByRole('button', { name: 'Salvar' }).click()
    await hidden(d)
    assert.equal((await server.api('/account')).waiting_timeout_is_default, true)
    await visible(page.getByText('(definido pelo servidor: WAITING_TIMEOUT)'))
  })

  test('no page error', () => {
    assert.deepEqual(pageErrors, [])
  })
})
