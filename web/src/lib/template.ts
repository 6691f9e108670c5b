// Template helpers: the text a card shows, how variables are labelled, and the parameters body.

import type { FieldError, Template, TemplateButton, TemplateParameters } from '../api'

const VAR = /\{\{\s*([\w.]+)\s*\}\}/g

/** The seed's notation for a variable: `nome` → "[NOME]". */
export function variableLabel(name: string): string {
  return `[${name.toUpperCase()}]`
}

/** The BODY text of a template (the part that carries the variables). */
export function bodyText(tpl: Template): string {
  return tpl.components.find((c) => c.type === 'BODY')?.text ?? ''
}

/** Text of a component type other than BODY, when it has one. */
export function componentText(tpl: Template, type: 'HEADER' | 'FOOTER'): string {
  return tpl.components.find((c) => c.type === type)?.text ?? ''
}

/** The buttons of the template's first BUTTONS component. */
export function templateButtons(tpl: Template): TemplateButton[] {
  return tpl.components.find((c) => c.type === 'BUTTONS')?.buttons ?? []
}

/**
 * The variables that fill a URL button's dynamic suffix, with their button. The server lists a
 * template's variables header first, then body, then one per URL button with a suffix (keyed
 * "1", "2"… in a NAMED template, numbered after the body's in a POSITIONAL one), so they are the
 * last ones, in button order.
 */
export function buttonVariables(tpl: Template): Record<string, TemplateButton> {
  const dynamic = templateButtons(tpl).filter((b) => b.type.toUpperCase() === 'URL' && /\{\{/.test(b.url ?? ''))
  const vars = tpl.variables.slice(Math.max(0, tpl.variables.length - dynamic.length))
  if (vars.length !== dynamic.length) return {}
  return Object.fromEntries(vars.map((v, i) => [v, dynamic[i]]))
}

/** A URL button's link with its suffix filled: the value, or the variable's label (…/pedidos/[1]). */
export function buttonUrlLabel(url: string, variable: string, value?: string): string {
  return url.replace(VAR, () => value?.trim() || variableLabel(variable))
}

/** Splits text into literal parts and variable names, for highlighting on cards. */
export function splitVariables(text: string): Array<{ text: string } | { variable: string }> {
  const out: Array<{ text: string } | { variable: string }> = []
  let last = 0
  for (const m of text.matchAll(VAR)) {
    if (m.index > last) out.push({ text: text.slice(last, m.index) })
    out.push({ variable: m[1] })
    last = m.index + m[0].length
  }
  if (last < text.length) out.push({ text: text.slice(last) })
  return out
}

/** Local rendering used until the server's preview arrives: blanks stay as [NOME]. */
export function renderLocally(text: string, values: Record<string, string>): string {
  return text.replace(VAR, (_, name: string) => values[name]?.trim() || variableLabel(name))
}

/** Variables that name the agent ("atendente", "agente", …) default to the agent's name. */
export function isAgentVariable(name: string): boolean {
  return /atendente|agente|agent|operador|vendedor|consultor/i.test(name)
}

/** Initial values: the agent's name where a variable names the agent, empty elsewhere. */
export function initialValues(tpl: Template, agentName: string): Record<string, string> {
  return Object.fromEntries(tpl.variables.map((v) => [v, isAgentVariable(v) ? agentName : '']))
}

/** The `parameters` body: an object for NAMED templates, an array in order for POSITIONAL. */
export function toParameters(tpl: Template, values: Record<string, string>): TemplateParameters {
  if (tpl.parameter_format === 'POSITIONAL') return tpl.variables.map((v) => values[v] ?? '')
  return Object.fromEntries(tpl.variables.map((v) => [v, values[v] ?? '']))
}

/**
 * The variable a field error points at, or null when it is not a parameter error. Accepts
 * `parameters.nome`, `parameters.1` (positional by name) and `parameters[0]` / `parameters.0`
 * (positional by index), so either convention on the server lands on the right field.
 */
export function variableOfField(tpl: Template | null, field: string): string | null {
  const m = /^parameters(?:\.([\w]+)|\[(\d+)\])$/.exec(field)
  if (!m) return null
  const name = m[1] ?? m[2]
  if (!tpl) return name
  if (tpl.variables.includes(name) && m[2] === undefined) return name
  const idx = Number(name)
  if (Number.isInteger(idx) && idx >= 0 && idx < tpl.variables.length) return tpl.variables[idx]
  return name
}

/** Groups parameter errors by variable name. */
export function parameterErrors(tpl: Template | null, errors: FieldError[]): Record<string, FieldError> {
  const out: Record<string, FieldError> = {}
  for (const e of errors) {
    const v = variableOfField(tpl, e.field)
    if (v && !out[v]) out[v] = e
  }
  return out
}
