import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { Dialog } from '../components/Dialog'
import { AGENT, FakeApi } from './fakeApi'
import { conversar } from './helpers'
import { renderApp } from './renderApp'

/** A form dialog like the app's: dirty once something is typed; "Cancelar" closes without asking. */
function FormDialog({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('')
  return (
    <>
      <button type="button">Abrir</button>
      <Dialog title="Novo contato" onClose={onClose} dirty={name !== ''}>
        <label>
          Nome
          <input value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="button" onClick={onClose}>
          Cancelar
        </button>
      </Dialog>
    </>
  )
}

function setup() {
  const onClose = vi.fn()
  const user = userEvent.setup()
  render(<FormDialog onClose={onClose} />)
  return { onClose, user, dialog: screen.getByRole('dialog', { name: 'Novo contato' }) }
}

// The previous test's cleanup assigns location.hash, whose popstate comes a task later: let it
// pass before a dialog opens, or it would read as this test's Back.
beforeEach(() => new Promise((resolve) => setTimeout(resolve, 20)))

const question = () => screen.queryByRole('alertdialog', { name: 'Descartar o que foi preenchido?' })

describe('Dialog: nothing typed is lost', () => {
  it('closes at once on Escape, a click outside and × while nothing was typed', async () => {
    const { onClose, user, dialog } = setup()
    await user.keyboard('{Escape}')
    expect(onClose).toHaveBeenCalledTimes(1)
    await user.click(dialog.parentElement!)
    expect(onClose).toHaveBeenCalledTimes(2)
    await user.click(within(dialog).getByRole('button', { name: 'Fechar' }))
    expect(onClose).toHaveBeenCalledTimes(3)
    expect(question()).not.toBeInTheDocument()
  })

  it('asks before Escape discards what was typed; "Continuar editando" keeps it and returns focus', async () => {
    const { onClose, user, dialog } = setup()
    const input = within(dialog).getByLabelText('Nome')
    expect(input).toHaveFocus()
    await user.type(input, 'Pedro')
    await user.keyboard('{Escape}')

    const q = question()!
    expect(q).toBeInTheDocument()
    expect(dialog).toContainElement(q)
    expect(onClose).not.toHaveBeenCalled()
    const keep = within(q).getByRole('button', { name: 'Continuar editando' })
    expect(keep).toHaveFocus()
    // Tab stays within the question.
    await user.tab()
    expect(within(q).getByRole('button', { name: 'Descartar' })).toHaveFocus()
    await user.tab()
    expect(keep).toHaveFocus()

    await user.click(keep)
    expect(question()).not.toBeInTheDocument()
    expect(input).toHaveValue('Pedro')
    expect(input).toHaveFocus()
    expect(onClose).not.toHaveBeenCalled()

    // Escape inside the question is "keep editing" too.
    await user.keyboard('{Escape}')
    expect(question()).toBeInTheDocument()
    await user.keyboard('{Escape}')
    expect(question()).not.toBeInTheDocument()
    expect(onClose).not.toHaveBeenCalled()
  })

  it('asks on a click outside and on ×; "Descartar" closes; the form’s own button does not ask', async () => {
    const { onClose, user, dialog } = setup()
    await user.type(within(dialog).getByLabelText('Nome'), 'Pedro')
    await user.click(dialog.parentElement!)
    expect(question()).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Continuar editando' }))
    await user.click(within(dialog).getByRole('button', { name: 'Fechar' }))
    await user.click(within(question()!).getByRole('button', { name: 'Descartar' }))
    expect(onClose).toHaveBeenCalledTimes(1)

    await user.click(within(dialog).getByRole('button', { name: 'Cancelar' }))
    expect(onClose).toHaveBeenCalledTimes(2)
  })

  it('the browser’s Back closes the dialog (asking first when something was typed) and stays on the page', async () => {
    const { onClose, user, dialog } = setup()
    await waitFor(() => expect(window.history.state?.atendimentoDialog).toBe(1))
    await user.type(within(dialog).getByLabelText('Nome'), 'Pedro')
    act(() => window.history.back())
    expect(await screen.findByRole('alertdialog', { name: 'Descartar o que foi preenchido?' })).toBeInTheDocument()
    expect(onClose).not.toHaveBeenCalled()
    // The entry is back, so a second Back asks again instead of leaving.
    await waitFor(() => expect(window.history.state?.atendimentoDialog).toBe(1))
    await user.click(screen.getByRole('button', { name: 'Descartar' }))
    expect(onClose).toHaveBeenCalledTimes(1)

    await user.clear(within(dialog).getByLabelText('Nome'))
    act(() => window.history.back())
    await waitFor(() => expect(onClose).toHaveBeenCalledTimes(2))
  })
})

describe('the app’s flows keep what was typed and the route', () => {
  it('Back with the "Enviar mensagem" wizard open closes it and leaves the inbox where it was', async () => {
    const { user } = await renderApp()
    const hash = window.location.hash
    const dialog = await conversar(user, '11987654321')
    await waitFor(() => expect(window.history.state?.atendimentoDialog).toBe(1))
    act(() => window.history.back())
    await waitFor(() => expect(dialog).not.toBeInTheDocument())
    expect(window.location.hash).toBe(hash)
    expect(screen.getByRole('heading', { name: 'Atendimentos', level: 1 })).toBeInTheDocument()
  })

  it('"Contato não encontrado" asks before Escape discards a typed name', async () => {
    const { user } = await renderApp()
    await user.type(screen.getByLabelText('Digite o número com DDD'), '21 91234-5678')
    await user.click(screen.getByRole('button', { name: 'Conversar' }))
    const dialog = await screen.findByRole('dialog', { name: 'Contato não encontrado' })
    await user.type(within(dialog).getByLabelText('Nome'), 'Pedro Lima')
    await user.keyboard('{Escape}')
    await user.click(within(dialog).getByRole('button', { name: 'Continuar editando' }))
    expect(within(dialog).getByLabelText('Nome')).toHaveValue('Pedro Lima')
    await user.keyboard('{Escape}')
    await user.click(within(dialog).getByRole('button', { name: 'Descartar' }))
    expect(dialog).not.toBeInTheDocument()
  })

  it('the first load names #/atendimentos in place', async () => {
    const before = window.history.length
    await renderApp()
    expect(window.location.hash).toBe('#/atendimentos')
    expect(window.history.length).toBe(before)
  })

  it('"Sair" takes the route back to the inbox: the next agent does not land on this conversation', async () => {
    const fake = new FakeApi()
    const conv = fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'waiting' })
    const { user } = await renderApp({ fake, hash: `#/atendimentos/${conv.id}` })
    await screen.findByRole('heading', { name: 'João Silva', level: 2 })

    await user.click(screen.getByRole('button', { name: 'Sair' }))
    expect(await screen.findByRole('heading', { name: 'Entrar' })).toBeInTheDocument()
    expect(window.location.hash).toBe('#/atendimentos')

    await user.type(screen.getByLabelText('E-mail'), AGENT.email)
    await user.type(screen.getByLabelText('Senha'), AGENT.password)
    await user.click(screen.getByRole('button', { name: 'Entrar' }))
    expect(await screen.findByRole('heading', { name: 'Atendimentos', level: 1 })).toBeInTheDocument()
    expect(screen.getByRole('heading', { name: 'Selecione um atendimento ou inicie um novo.', level: 2 })).toBeInTheDocument()
    expect(screen.queryByRole('heading', { name: 'João Silva', level: 2 })).not.toBeInTheDocument()
  })
})

describe('closing and cancelling ask first', () => {
  it('"Encerrar" asks "Encerrar o atendimento com João Silva?" with an optional reason; "Voltar" calls nothing; confirming closes', async () => {
    const fake = new FakeApi()
    const conv = fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'waiting', assignee_id: 'u-ana' })
    fake.addMessage(conv.id, { direction: 'out', type: 'text', text: 'Na fila', status: 'queued' })
    const { user } = await renderApp({ fake, hash: `#/atendimentos/${conv.id}` })
    await screen.findByRole('heading', { name: 'João Silva', level: 2 })

    const encerrar = screen.getByRole('button', { name: 'Encerrar' })
    await user.click(encerrar)
    const q = screen.getByRole('dialog', { name: 'Encerrar o atendimento com João Silva?' })
    expect(within(q).getByText(/Mensagens na fila não serão enviadas/)).toBeInTheDocument()
    // The reasons are the account's list, none chosen by default.
    const reason = await within(q).findByRole('combobox', { name: 'Motivo do encerramento (opcional)' })
    expect(within(reason).getAllByRole('option').map((o) => o.textContent)).toEqual(['Sem motivo', 'Resolvido', 'Sem resposta do contato'])
    await user.click(within(q).getByRole('button', { name: 'Voltar' }))
    expect(q).not.toBeInTheDocument()
    await waitFor(() => expect(encerrar).toHaveFocus())
    expect(fake.calls('POST', /\/close$/)).toHaveLength(0)

    await user.click(encerrar)
    await user.keyboard('{Escape}')
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
    expect(fake.calls('POST', /\/close$/)).toHaveLength(0)

    await user.click(encerrar)
    await user.selectOptions(await screen.findByRole('combobox', { name: 'Motivo do encerramento (opcional)' }), 'Resolvido')
    await user.click(screen.getByRole('button', { name: 'Encerrar atendimento' }))
    expect(await screen.findByText('Este atendimento foi encerrado.')).toBeInTheDocument()
    expect(fake.calls('POST', `/api/v1/conversations/${conv.id}/close`).map((r) => r.body)).toEqual([{ reason: 'Resolvido' }])
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
    expect(screen.getByText(/Motivo: Resolvido/)).toBeInTheDocument()
  })

  it('"Cancelar agendamento" asks before cancelling', async () => {
    const fake = new FakeApi()
    const conv = fake.addConversation({ contact_id: 'ct-joao', channel_id: 'ch-vendas', team_id: 'tm-vendas', status: 'scheduled' })
    const { user } = await renderApp({ fake, hash: `#/atendimentos/${conv.id}` })
    await screen.findByRole('heading', { name: 'João Silva', level: 2 })

    await user.click(screen.getByRole('button', { name: 'Cancelar agendamento' }))
    const q = screen.getByRole('alertdialog', { name: 'Cancelar o agendamento para João Silva?' })
    expect(fake.calls('POST', /\/cancel$/)).toHaveLength(0)
    await user.click(within(q).getByRole('button', { name: 'Cancelar agendamento' }))
    expect(await screen.findByText('Este agendamento foi cancelado.')).toBeInTheDocument()
    expect(fake.calls('POST', `/api/v1/conversations/${conv.id}/cancel`)).toHaveLength(1)
  })
})
