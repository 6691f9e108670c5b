// The onboarding's "Conectar número do WhatsApp" opens the channel form on the Canais screen: the
// route names only the section, so the request waits here until that screen takes it.

let newChannelRequested = false

/** Asks the Canais screen to open the new-channel form when it next mounts. */
export function requestNewChannelForm(): void {
  newChannelRequested = true
}

/** True once after requestNewChannelForm. */
export function takeNewChannelRequest(): boolean {
  const v = newChannelRequested
  newChannelRequested = false
  return v
}

const DISMISSED = 'atendimento.onboarding.dismissed'

/** Whether the admin chose the sandbox or "Agora não" in this browser. */
export function onboardingDismissed(userId: string): boolean {
  try {
    return localStorage.getItem(`${DISMISSED}.${userId}`) === '1'
  } catch {
    return false
  }
}

export function dismissOnboarding(userId: string): void {
  try {
    localStorage.setItem(`${DISMISSED}.${userId}`, '1')
  } catch {
    // Private mode without storage: the offer comes back next time, which is harmless.
  }
}
