import { screen, waitFor, within } from '@testing-library/react'
import { expect } from 'vitest'
import type { UserEvent } from '@testing-library/user-event'

/** The accessible names of radios (our option cards label them by their title). */
export function radioNames(container: HTMLElement): string[] {
  return within(container)
    .queryAllByRole('radio')
    .map((el) => {
      const by = el.getAttribute('aria-labelledby')
      return (by ? document.getElementById(by)?.textContent : el.getAttribute('aria-label')) ?? ''
    })
}

/** The accessible names of the option buttons in a group ("Selecione um canal", "Selecione uma equipe"). */
export function choiceNames(group: HTMLElement): string[] {
  return within(group)
    .queryAllByRole('button')
    .map((el) => el.textContent ?? '')
}

/** Método 1 up to the "Enviar mensagem" panel for a phone number. */
export async function conversar(user: UserEvent, phone: string): Promise<HTMLElement> {
  await user.type(screen.getByLabelText('Digite o número com DDD'), phone)
  await user.click(screen.getByRole('button', { name: 'Conversar' }))
  return screen.findByRole('dialog', { name: 'Enviar mensagem' })
}

/** From the first step of "Enviar mensagem" to the "Parâmetros" step. */
export async function toParameters(
  user: UserEvent,
  dialog: HTMLElement,
  o: { type?: 'Iniciar atendimento' | 'Agendar mensagem'; channel?: string; team?: string; template: string },
): Promise<void> {
  const d = within(dialog)
  // The help page's order: the send type, the channel, the team; the last choice moves on.
  await user.click(d.getByRole('button', { name: o.type ?? 'Iniciar atendimento' }))
  if (o.channel) await user.click(d.getByRole('button', { name: o.channel }))
  if (o.team) {
    // "Iniciar atendimento" with the channel's default team moves on by itself; "Voltar" returns
    // to choose another, and choosing it moves on.
    await waitFor(() =>
      expect(d.queryByRole('heading', { name: 'Modelo de mensagem' }) ?? d.queryByRole('button', { name: o.team })).toBeTruthy(),
    )
    if (d.queryByRole('heading', { name: 'Modelo de mensagem' })) await user.click(d.getByRole('button', { name: 'Voltar' }))
    await user.click(d.getByRole('button', { name: o.team }))
  }
  if (o.type === 'Agendar mensagem' && !o.team) await user.click(d.getByRole('button', { name: 'Selecionar modelo de mensagem' }))
  await user.click(await d.findByRole('radio', { name: o.template }))
  await user.click(d.getByRole('button', { name: 'Definir parâmetros' }))
  await d.findByRole('heading', { name: 'Parâmetros' })
}
