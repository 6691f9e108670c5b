// Template helpers: the text a card shows, how variables are labelled, and the parameters body.

import type { FieldError, Template, TemplateButton, TemplateParameters } from '../api'
import { t } from '../i18n/pt-BR'

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

/** One variable of a template: its key, where its value goes, its bare label and Meta's example. */
export type VariableDetail = Template['variable_details'][number]

/**
 * The template's variables in order, with their details. The server sends `variable_details`
 * (DESIGN.md § Parameter keys); for a template without them the details are derived from the
 * key: `header.1` is the header's {{1}}, `button.<i>` the suffix of the button at position i.
 */
export function variableDetails(tpl: Template): VariableDetail[] {
  const given = new Map((tpl.variable_details ?? []).map((d) => [d.key, d]))
  return tpl.variables.map((key) => {
    const d = given.get(key)
    if (d) return d
    let m: RegExpExecArray | null
    if ((m = /^header\.(\w+)$/.exec(key))) return { key, component: 'HEADER', label: variableLabel(m[1]), example: null }
    if (/^button\.\d+$/.test(key)) return { key, component: 'BUTTON', label: variableLabel('1'), example: null }
    return { key, component: 'BODY', label: variableLabel(key), example: null }
  })
}

/**
 * The label of a variable's field: the help page's form ([NOME]), plus where the value goes when
 * it is outside the body ("[PROTOCOLO] · cabeçalho", "[1] · complemento do link do botão").
 */
export function fieldLabel(d: VariableDetail): string {
  if (d.component === 'HEADER') return t('params.placeHeader', { label: d.label })
  if (d.component === 'BUTTON') return t('params.placeButton', { label: d.label })
  return d.label
}

/** The key of a header placeholder: the name in a NAMED template, `header.<n>` in a POSITIONAL one. */
export function headerKey(tpl: Pick<Template, 'parameter_format'>, token: string): string {
  return tpl.parameter_format === 'POSITIONAL' ? `header.${token}` : token
}

/** The URL buttons with a dynamic suffix, by variable key (`button.<i>`, i the button's position). */
export function buttonVariables(tpl: Template): Record<string, TemplateButton> {
  const buttons = templateButtons(tpl)
  const out: Record<string, TemplateButton> = {}
  for (const key of tpl.variables) {
    const m = /^button\.(\d+)$/.exec(key)
    const b = m ? buttons[Number(m[1])] : undefined
    if (b) out[key] = b
  }
  return out
}

/** A URL button's link with its suffix filled: the value, or the variable's label (…/pedidos/[1]). */
export function buttonUrlLabel(url: string, _variable: string, value?: string): string {
  return url.replace(VAR, (_, token: string) => value?.trim() || variableLabel(token))
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

/**
 * Local rendering used until the server's preview arrives: blanks stay as their label ([NOME]).
 * `keyOf` maps a placeholder to its key (the header's {{1}} of a positional template is `header.1`).
 */
export function renderLocally(text: string, values: Record<string, string>, keyOf: (token: string) => string = (x) => x): string {
  return text.replace(VAR, (_, token: string) => values[keyOf(token)]?.trim() || variableLabel(token))
}

/** Variables that name the agent ("atendente", "agente", …) default to the agent's name. */
export function isAgentVariable(name: string): boolean {
  return /atendente|agente|agent|operador|vendedor|consultor/i.test(name)
}

/** Initial values: the agent's name where a variable names the agent, empty elsewhere. */
export function initialValues(tpl: Template, agentName: string): Record<string, string> {
  return Object.fromEntries(tpl.variables.map((v) => [v, isAgentVariable(v) ? agentName : '']))
}

/** The `parameters` body: an object by variable key, in both formats (`header.1`, `1`, `button.0`…). */
export function toParameters(tpl: Template, values: Record<string, string>): TemplateParameters {
  return Object.fromEntries(tpl.variables.map((v) => [v, values[v] ?? '']))
}

/**
 * The variable a field error points at, or null when it is not a parameter error. Accepts
 * `parameters.<key>` (`parameters.nome`, `parameters.1`, `parameters.header.1`,
 * `parameters.button.0`) and, for an array, `parameters[0]` / `parameters.0` (by index).
 */
export function variableOfField(tpl: Template | null, field: string): string | null {
  const m = /^parameters(?:\.([\w.]+)|\[(\d+)\])$/.exec(field)
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
