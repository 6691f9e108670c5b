// The pieces the end-to-end run needs: the real Go server on a fresh SQLite database with the
// demo data, Debian's Chromium through playwright-core, screenshots, and waits that tolerate a
// loaded 2-core machine. No fixed sleeps: every wait is for something visible on the page.

import { execFile, spawn } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const WEB = join(dirname(fileURLToPath(import.meta.url)), '..')
export const REPO = join(WEB, '..')
export const ARTIFACTS = join(WEB, 'e2e-artifacts')
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

/** How long a wait for text or a role may take before the step fails (a loaded CI machine). */
export const WAIT_MS = Number(process.env.E2E_WAIT_MS || 30_000)

const run = promisify(execFile)

export function log(...args) {
  console.log(`[e2e ${new Date().toISOString().slice(11, 23)}]`, ...args)
}

/** Empties web/e2e-artifacts/ (git-ignored) for this run's screenshots and logs. */
export function freshArtifacts() {
  mkdirSync(ARTIFACTS, { recursive: true })
  for (const f of readdirSync(ARTIFACTS)) rmSync(join(ARTIFACTS, f), { recursive: true, force: true })
}

/** The newest modification time among the SPA's sources. */
function newestSource() {
  let newest = 0
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else newest = Math.max(newest, statSync(p).mtimeMs)
    }
  }
  walk(join(WEB, 'src'))
  for (const f of ['index.html', 'package.json', 'vite.config.ts']) newest = Math.max(newest, statSync(join(WEB, f)).mtimeMs)
  return newest
}

/** Builds web/dist (served by the Go server at /) when it is missing or older than the sources. */
export async function ensureSpaBuilt() {
  const index = join(WEB, 'dist', 'index.html')
  if (existsSync(index) && statSync(index).mtimeMs >= newestSource()) return
  log('web/dist is missing or stale: npm run build')
  await run('npm', ['run', 'build'], { cwd: WEB, maxBuffer: 64 << 20 })
}

/** go build -o <tmp>/atendimento ./cmd/atendimento, from the repository root. */
export async function buildServer(dir) {
  const bin = join(dir, 'atendimento')
  log('go build ./cmd/atendimento')
  await run('go', ['build', '-o', bin, './cmd/atendimento'], { cwd: REPO, maxBuffer: 64 << 20 })
  return bin
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Starts `atendimento serve` in a fresh temporary working directory (so ./data/atendimento.db is
 * new and gets the demo data), on a free loopback port, and reads the demo login from its stdout.
 * `extraEnv` adds or overrides settings (e.g. WHATSAPP_API_BASE_URL for a fake Graph API).
 */
export async function startServer(bin, workDir, extraEnv = {}) {
  const port = await freePort()
  const env = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith('BOOTSTRAP_') || k === 'DATABASE_URL') delete env[k]
  Object.assign(env, {
    HTTP_ADDR: `127.0.0.1:${port}`,
    WEB_DIR: join(WEB, 'dist'),
    DISPATCH_POLL: '200ms',
    TEMPLATE_SYNC_INTERVAL: '0',
    ...extraEnv,
  })
  const logFile = createWriteStream(join(ARTIFACTS, 'server.log'))
  const child = spawn(bin, ['serve'], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (b) => {
    out += b
    logFile.write(b)
  })
  child.stderr.on('data', (b) => logFile.write(b))
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))

  const baseURL = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  let creds = null
  while (Date.now() < deadline) {
    const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 100))])
    if (early) throw new Error(`the server exited early (${JSON.stringify(early)}); see e2e-artifacts/server.log`)
    const email = /Login:\s+(\S+)/.exec(out)?.[1]
    const password = /Password:\s+(\S+)/.exec(out)?.[1]
    const apiKey = /API key:\s+(\S+)/.exec(out)?.[1]
    if (email && password && !creds) creds = { email, password, apiKey }
    if (creds) {
      const ok = await fetch(`${baseURL}/readyz`).then((r) => r.ok, () => false)
      if (ok) break
    }
  }
  if (!creds) throw new Error('the server printed no demo login within 60 s; see e2e-artifacts/server.log')

  return {
    baseURL,
    ...creds,
    /** A call to the API as the demo admin's key: for checks the page cannot show. */
    async api(path, init = {}) {
      const r = await fetch(`${baseURL}/api/v1${path}`, {
        ...init,
        headers: { Authorization: `Bearer ${creds.apiKey}`, 'Content-Type': 'application/json', ...init.headers },
      })
      const body = await r.json().catch(() => null)
      if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${r.status} ${JSON.stringify(body)}`)
      return body
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 10_000))])
        if (!done) {
          child.kill('SIGKILL')
          await exited
        }
      }
      logFile.end()
    },
  }
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * Debian's Chromium with a fresh profile (--user-data-dir, which playwright-core passes for a
 * persistent context), driven by playwright-core; never `playwright install`.
 */
export async function launchChromium(profileDir, options = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium (or set CHROMIUM_PATH)`)
  }
  const { chromium } = await import('playwright-core')
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
    ...options,
  })
}

let shotCount = 0

/** Saves a full-page screenshot as e2e-artifacts/NN-name.png. */
export async function shot(page, name) {
  shotCount += 1
  const file = join(ARTIFACTS, `${String(shotCount).padStart(2, '0')}-${name}.png`)
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' })
  return file
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix))
}

let axeSource = null

/**
 * Runs axe-core (WCAG 2.x A/AA and best-practice rules) on what the page shows now and returns
 * the serious and critical violations as "rule: target" lines, so an assertion names each one.
 * `scope` is a CSS selector to limit the run to (the whole document by default).
 */
export async function axeViolations(page, scope = 'html') {
  // Evaluated through the DevTools protocol: the SPA's CSP (script-src 'self') rightly refuses an
  // injected <script>, and the test must not weaken it.
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
    await page.evaluate(axeSource)
  }
  const found = await page.evaluate(async (sel) => {
    const r = await window.axe.run(document.querySelector(sel), { resultTypes: ['violations'] })
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} — ${n.failureSummary?.split('\n')[1]?.trim() ?? v.help}`))
  }, scope)
  return found
}
