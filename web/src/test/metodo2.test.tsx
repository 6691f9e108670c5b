import { screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { renderApp } from './renderApp'

async function openNovoAtendimento(user: Awaited<ReturnType<typeof renderApp>>['user']) {
  const tabs = screen.getByRole('tablist', { name: 'Filtrar atendimentos' })
  expect(within(tabs).getByRole('tab', { name: /Outros/ })).toBeInTheDocument()
  await user.click(screen.getByRole('button', { name: 'Outras opções' }))
  await user.click(within(screen.getByRole('menu')).getByRole('menuitem', { name: 'Novo atendimento' }))
  return screen.findByRole('dialog', { name: 'Novo atendimento' })
}

describe('Método 2: ⋮ → "Novo atendimento"', () => {
  it('searches as you type (debounced) and opens "Enviar mensagem" for the chosen contact', async () => {
    const { fake, user } = await renderApp()
    const side = within(await openNovoAtendimento(user))

    await user.type(side.getByRole('searchbox', { name: 'Pesquisar contato' }), 'mari')
    const results = await side.findByRole('list', { name: 'Contatos encontrados' })
    expect(within(results).getAllByRole('button').map((b) => b.textContent)).toEqual([
      'MOMaria Oliveira+55 21 99876-5432',
      'MCMariana Costa+55 31 99111-2222',
    ])
    // One request for the whole word, not one per keystroke.
    expect(fake.calls('GET', '/api/v1/contacts').map((r) => r.query.get('q'))).toEqual(['mari'])

    await user.click(within(results).getByRole('button', { name: /Maria Oliveira/ }))
    const send = await screen.findByRole('dialog', { name: 'Enviar mensagem' })
    expect(within(send).getByText('Maria Oliveira')).toBeInTheDocument()
    expect(screen.queryByRole('dialog', { name: 'Novo atendimento' })).not.toBeInTheDocument()
  })

  it('creates a contact inline with "Novo contato", errors at the field, and offers the existing one on 409', async () => {
    const { fake, user } = await renderApp()
    const side = within(await openNovoAtendimento(user))

    await user.type(side.getByRole('searchbox', { name: 'Pesquisar contato' }), 'Carla')
    expect(await side.findByText('Nenhum contato encontrado.')).toBeInTheDocument()
    await user.click(side.getByRole('button', { name: 'Novo contato' }))

    expect(side.getByRole('heading', { name: 'Novo contato' })).toBeInTheDocument()
    const name = side.getByLabelText('Nome')
    const phone = side.getByLabelText('Telefone')
    expect(name).toHaveValue('Carla') // what was typed in the search
    await user.type(name, ' Dias')
    await user.type(phone, '123')
    await user.click(side.getByRole('button', { name: 'Salvar contato' }))
    expect(await side.findByText('Número inválido. Digite com DDD, por exemplo 11 98765-4321.')).toBeInTheDocument()
    expect(phone).toHaveAttribute('aria-invalid', 'true')
    expect(name).not.toHaveAttribute('aria-invalid')

    // Maria's number: the server answers 409 contact_exists with existing_id.
    await user.clear(phone)
    await user.type(phone, '(21) 99876-5432')
    await user.click(side.getByRole('button', { name: 'Salvar contato' }))
    expect(await side.findByText('Já existe um contato com este telefone.')).toBeInTheDocument()
    await user.click(side.getByRole('button', { name: 'Usar contato existente' }))
    const send = await screen.findByRole('dialog', { name: 'Enviar mensagem' })
    expect(within(send).getByText('Maria Oliveira')).toBeInTheDocument()
    expect(fake.contacts.filter((c) => c.phone === '+5521998765432')).toHaveLength(1)
    expect(fake.calls('POST', '/api/v1/contacts').every((r) => r.headers['x-csrf-token'] === fake.csrfToken)).toBe(true)
  })

  it('continues with the new contact once it is created', async () => {
    const { fake, user } = await renderApp()
    const side = within(await openNovoAtendimento(user))
    await user.click(side.getByRole('button', { name: 'Novo contato' }))
    await user.type(side.getByLabelText('Nome'), 'Carla Dias')
    await user.type(side.getByLabelText('Telefone'), '11 97777-6666')
    await user.click(side.getByRole('button', { name: 'Salvar contato' }))

    const send = within(await screen.findByRole('dialog', { name: 'Enviar mensagem' }))
    expect(send.getByText('Carla Dias')).toBeInTheDocument()
    expect(send.getByText('+55 11 97777-6666')).toBeInTheDocument()
    await waitFor(() => expect(fake.contacts.at(-1)).toMatchObject({ name: 'Carla Dias', phone: '+5511977776666' }))
  })
})
