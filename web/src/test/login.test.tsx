import { screen, waitFor } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { AGENT } from './fakeApi'
import { renderApp } from './renderApp'

describe('Login', () => {
  it('signs in with the session cookie, sends the CSRF header it was given, and signs out', async () => {
    const { fake, user } = await renderApp({ signedIn: false })

    expect(await screen.findByRole('heading', { name: 'Entrar' })).toBeInTheDocument()
    await user.type(screen.getByLabelText('E-mail'), AGENT.email)
    await user.type(screen.getByLabelText('Senha'), 'errada')
    await user.click(screen.getByRole('button', { name: 'Entrar' }))
    expect(await screen.findByText('E-mail ou senha incorretos.')).toBeInTheDocument()

    await user.clear(screen.getByLabelText('Senha'))
    await user.type(screen.getByLabelText('Senha'), AGENT.password)
    await user.click(screen.getByRole('button', { name: 'Entrar' }))
    expect(await screen.findByRole('heading', { name: 'Atendimentos', level: 1 })).toBeInTheDocument()
    expect(screen.getByText('Conectado como Ana Souza')).toBeInTheDocument()
    expect(fake.calls('POST', '/api/v1/auth/login').at(-1)!.body).toEqual({ email: AGENT.email, password: AGENT.password })

    await user.click(screen.getByRole('button', { name: 'Sair' }))
    expect(await screen.findByRole('heading', { name: 'Entrar' })).toBeInTheDocument()
    expect(fake.calls('POST', '/api/v1/auth/logout')[0].headers['x-csrf-token']).toBe(fake.csrfToken)
    expect(fake.sessionUser).toBeNull()
  })

  it('says how many minutes to wait after too many wrong passwords', async () => {
    const { fake, user } = await renderApp({ signedIn: false })
    fake.loginLockedFor = 541
    await user.type(await screen.findByLabelText('E-mail'), AGENT.email)
    await user.type(screen.getByLabelText('Senha'), 'errada')
    await user.click(screen.getByRole('button', { name: 'Entrar' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('Muitas tentativas sem sucesso. Por segurança, tente de novo em 10 min.')
  })

  it('returns to the login when the session expires', async () => {
    const { fake, user } = await renderApp()
    // The inbox has loaded everything it asks for at first (its counts included).
    await screen.findByRole('tab', { name: /Meus\s*1/ })
    fake.sessionUser = null
    await user.type(screen.getByLabelText('Digite o número com DDD'), '11987654321')
    await user.click(screen.getByRole('button', { name: 'Conversar' }))
    await waitFor(() => expect(screen.getByRole('heading', { name: 'Entrar' })).toBeInTheDocument())
  })
})
