import { describe, expect, it } from 'vitest'
import type { Template } from '../api'
import {
  buttonUrlLabel,
  buttonVariables,
  fieldLabel,
  headerKey,
  initialValues,
  isAgentVariable,
  renderLocally,
  toParameters,
  variableDetails,
  variableLabel,
  variableOfField,
} from './template'

const named = { variables: ['nome', 'atendente'], parameter_format: 'NAMED' } as Template
const positional = { variables: ['1', '2'], parameter_format: 'POSITIONAL' } as Template

describe('template helpers', () => {
  it('labels variables as the help page does', () => {
    expect(variableLabel('nome')).toBe('[NOME]')
    expect(variableLabel('1')).toBe('[1]')
  })

  it('defaults agent-like variables to the agent’s name', () => {
    expect(isAgentVariable('atendente')).toBe(true)
    expect(isAgentVariable('nome_agente')).toBe(true)
    expect(isAgentVariable('nome')).toBe(false)
    expect(initialValues(named, 'Ana')).toEqual({ nome: '', atendente: 'Ana' })
  })

  it('builds an object by key in both formats', () => {
    expect(toParameters(named, { nome: 'João', atendente: 'Ana' })).toEqual({ nome: 'João', atendente: 'Ana' })
    expect(toParameters(positional, { '1': 'João', '2': 'março' })).toEqual({ '1': 'João', '2': 'março' })
    const withHeader = { variables: ['header.1', '1', 'button.0'], parameter_format: 'POSITIONAL' } as Template
    expect(toParameters(withHeader, { 'header.1': '42', '1': 'Ana', 'button.0': 'x' })).toEqual({ 'header.1': '42', '1': 'Ana', 'button.0': 'x' })
  })

  it('maps server field paths to variables in either convention', () => {
    expect(variableOfField(named, 'parameters.nome')).toBe('nome')
    expect(variableOfField(positional, 'parameters.2')).toBe('2')
    expect(variableOfField(positional, 'parameters[0]')).toBe('1')
    expect(variableOfField(positional, 'parameters.0')).toBe('1')
    const withHeader = { variables: ['header.1', '1', 'button.0'], parameter_format: 'POSITIONAL' } as Template
    expect(variableOfField(withHeader, 'parameters.header.1')).toBe('header.1')
    expect(variableOfField(withHeader, 'parameters.button.0')).toBe('button.0')
    expect(variableOfField(named, 'channel_id')).toBeNull()
  })

  it('renders locally with labels for blanks, header placeholders by their key', () => {
    expect(renderLocally('Olá {{nome}}, aqui é {{ atendente }}.', { nome: 'João', atendente: '' })).toBe(
      'Olá João, aqui é [ATENDENTE].',
    )
    const tpl = { parameter_format: 'POSITIONAL' } as Template
    expect(renderLocally('Protocolo {{1}}', { '1': 'Ana' }, (tok) => headerKey(tpl, tok))).toBe('Protocolo [1]')
    expect(renderLocally('Protocolo {{1}}', { 'header.1': '42' }, (tok) => headerKey(tpl, tok))).toBe('Protocolo 42')
  })

  it('labels fields in the help page’s form and says where values outside the body go', () => {
    const tpl = {
      variables: ['protocolo', 'nome', 'button.1'],
      variable_details: [
        { key: 'protocolo', component: 'HEADER', label: '[PROTOCOLO]', example: '2024-1' },
        { key: 'nome', component: 'BODY', label: '[NOME]', example: 'Maria' },
        { key: 'button.1', component: 'BUTTON', label: '[1]', example: null },
      ],
    } as unknown as Template
    expect(variableDetails(tpl).map(fieldLabel)).toEqual(['[PROTOCOLO] · cabeçalho', '[NOME]', '[1] · complemento do link do botão'])
    // A template without details (an older server) gets them from its keys.
    const bare = { variables: ['header.1', '1', 'button.0'] } as Template
    expect(variableDetails(bare)).toEqual([
      { key: 'header.1', component: 'HEADER', label: '[1]', example: null },
      { key: '1', component: 'BODY', label: '[1]', example: null },
      { key: 'button.0', component: 'BUTTON', label: '[1]', example: null },
    ])
  })

  it('finds the URL buttons of button.<i> keys, i the button’s position', () => {
    const tpl = {
      variables: ['nome', 'pedido', 'button.1'],
      parameter_format: 'NAMED',
      components: [
        { type: 'BODY', text: 'Olá {{nome}}, pedido {{pedido}}.' },
        { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Ok' }, { type: 'URL', text: 'Acompanhar', url: 'https://x.example/p/{{1}}' }] },
      ],
    } as Template
    expect(buttonVariables(tpl)).toEqual({ 'button.1': { type: 'URL', text: 'Acompanhar', url: 'https://x.example/p/{{1}}' } })
    expect(buttonUrlLabel('https://x.example/p/{{1}}', 'button.1')).toBe('https://x.example/p/[1]')
    expect(buttonUrlLabel('https://x.example/p/{{1}}', 'button.1', '42')).toBe('https://x.example/p/42')
    expect(buttonVariables({ ...tpl, components: [{ type: 'BODY', text: '{{nome}}' }] } as Template)).toEqual({})
  })
})
