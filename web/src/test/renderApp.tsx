import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { vi } from 'vitest'
import App from '../App'
import { FakeApi } from './fakeApi'
import { FakeEventSource } from './fakeEventSource'

/** Renders the whole app against a fresh fake API (signed in unless told otherwise). */
export async function renderApp(opts: { fake?: FakeApi; signedIn?: boolean; hash?: string } = {}) {
  const fake = opts.fake ?? new FakeApi()
  if (opts.signedIn !== false) fake.signIn()
  vi.stubGlobal('fetch', fake.fetch)
  vi.stubGlobal('EventSource', FakeEventSource)
  window.location.hash = opts.hash ?? ''
  const user = userEvent.setup()
  const utils = render(<App />)
  if (opts.signedIn !== false) await screen.findByRole('heading', { name: 'Atendimentos', level: 1 })
  return { fake, user, ...utils }
}
