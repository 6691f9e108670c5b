import { describe, expect, it } from 'vitest'
import type { Template } from '../api'
import { buttonUrlLabel, buttonVariables, initialValues, isAgentVariable, renderLocally, toParameters, variableLabel, variableOfField } from './template'

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

  it('builds an object for named and an array for positional templates', () => {
    expect(toParameters(named, { nome: 'João', atendente: 'Ana' })).toEqual({ nome: 'João', atendente: 'Ana' })
    expect(toParameters(positional, { '1': 'João', '2': 'março' })).toEqual(['João', 'março'])
  })

  it('maps server field paths to variables in either convention', () => {
    expect(variableOfField(named, 'parameters.nome')).toBe('nome')
    expect(variableOfField(positional, 'parameters.2')).toBe('2')
    expect(variableOfField(positional, 'parameters[0]')).toBe('1')
    expect(variableOfField(positional, 'parameters.0')).toBe('1')
    expect(variableOfField(named, 'channel_id')).toBeNull()
  })

  it('renders locally with placeholders for blanks', () => {
    expect(renderLocally('Olá {{nome}}, aqui é {{ atendente }}.', { nome: 'João', atendente: '' })).toBe(
      'Olá João, aqui é [ATENDENTE].',
    )
  })

  it('finds the variables of URL buttons (the last ones, in button order)', () => {
    const tpl = {
      variables: ['nome', 'pedido', '1'],
      parameter_format: 'NAMED',
      components: [
        { type: 'BODY', text: 'Olá {{nome}}, pedido {{pedido}}.' },
        { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Ok' }, { type: 'URL', text: 'Acompanhar', url: 'https://x.example/p/{{1}}' }] },
      ],
    } as Template
    expect(buttonVariables(tpl)).toEqual({ '1': { type: 'URL', text: 'Acompanhar', url: 'https://x.example/p/{{1}}' } })
    expect(buttonUrlLabel('https://x.example/p/{{1}}', '1')).toBe('https://x.example/p/[1]')
    expect(buttonUrlLabel('https://x.example/p/{{1}}', '1', '42')).toBe('https://x.example/p/42')
    const positional = { ...tpl, variables: ['1', '2', '3'], parameter_format: 'POSITIONAL' } as Template
    expect(Object.keys(buttonVariables(positional))).toEqual(['3'])
    expect(buttonVariables({ ...tpl, components: [{ type: 'BODY', text: '{{nome}}' }] } as Template)).toEqual({})
  })
})
