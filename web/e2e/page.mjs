// Page helpers every end-to-end file shares: waits that tolerate a loaded machine, fields by their
// labels and their errors, dialogs, and look() (axe-core, then a screenshot) for every screen.

import assert from 'node:assert/strict'
import { WAIT_MS, axeViolations, shot } from './harness.mjs'

/** Waits until the locator is visible (generous for a loaded machine) and returns it. */
export async function visible(locator, timeout = WAIT_MS) {
  await locator.first().waitFor({ state: 'visible', timeout })
  return locator
}

export async function hidden(locator, timeout = WAIT_MS) {
  await locator.first().waitFor({ state: 'hidden', timeout })
}

/** Polls a condition in the page until it holds (no fixed sleeps as assertions). */
export async function until(p, fn, arg, message, timeout = WAIT_MS) {
  try {
    await p.waitForFunction(fn, arg, { timeout, polling: 100 })
  } catch (err) {
    throw new Error(`${message}: ${err.message.split('\n')[0]}`)
  }
}

/** Nothing wider than the viewport: no sideways scrolling, every dialog inside the screen. */
export async function fitsViewport(p, what) {
  const r = await p.evaluate(() => {
    const vw = document.documentElement.clientWidth
    const wide = []
    for (const el of document.querySelectorAll('[role="dialog"], .app, .login-card, .main, .sidebar, .composer')) {
      const b = el.getBoundingClientRect()
      if (b.width > 0 && (b.left < -1 || b.right > vw + 1)) wide.push(`${el.className || el.getAttribute('role')} ${Math.round(b.left)}..${Math.round(b.right)}`)
    }
    return { vw, scrollWidth: document.documentElement.scrollWidth, wide }
  })
  assert.ok(r.scrollWidth <= r.vw + 1, `${what}: the page scrolls sideways (${r.scrollWidth}px > ${r.vw}px)`)
  assert.deepEqual(r.wide, [], `${what}: elements outside the ${r.vw}px viewport`)
}

/** The input named by its label, e.g. field(page, 'Digite o número com DDD'). */
export const field = (scope, label) => scope.getByLabel(label, { exact: true })

/** The text of the error paragraph the input points at with aria-describedby. */
export async function fieldError(input) {
  await visible(input)
  const handle = await input.elementHandle()
  return handle.evaluate((el) => {
    if (el.getAttribute('aria-invalid') !== 'true') return null
    const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean)
    const err = ids.map((id) => document.getElementById(id)).find((n) => n && n.classList.contains('field-error'))
    return err ? err.textContent : null
  })
}

/** Waits until the input shows `text` as its field error. */
export async function errorAt(input, text) {
  const deadline = Date.now() + WAIT_MS
  let last = null
  while (Date.now() < deadline) {
    last = await fieldError(input)
    if (last && last.includes(text)) return last
    await input.page().waitForTimeout(100) // polling interval, not an assertion
  }
  throw new Error(`expected the field error "${text}" at the field, got ${JSON.stringify(last)}`)
}

export const dialog = (p, name) => p.getByRole('dialog', { name })
/**
 * Closes a dialog by Escape (or × when `by` says so); if it asks "Descartar o que foi
 * preenchido?" (something was typed), answers "Descartar".
 */
export async function dismiss(p, d, by = 'Escape') {
  if (by === 'Escape') await p.keyboard.press('Escape')
  else await d.getByRole('button', { name: 'Fechar' }).click()
  const ask = p.getByRole('alertdialog', { name: 'Descartar o que foi preenchido?' })
  const deadline = Date.now() + WAIT_MS
  while (Date.now() < deadline) {
    if ((await d.count()) === 0) return
    if (await ask.isVisible()) {
      await ask.getByRole('button', { name: 'Descartar' }).click()
      await hidden(d)
      return
    }
    await p.waitForTimeout(50)
  }
  throw new Error('the dialog did not close')
}

/** A screenshot of a screen, which axe-core checks first: every screen the run shows, at both sizes. */
export async function look(p, name) {
  await accessible(p, name)
  await shot(p, name)
}

/** No serious or critical axe-core violation on what the page shows now. */
export async function accessible(p, what) {
  const found = await axeViolations(p)
  assert.deepEqual(found, [], `${what}: axe-core found serious or critical violations`)
}

