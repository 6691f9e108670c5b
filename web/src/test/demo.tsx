// `npm run demo`: the SPA in the browser against the in-memory fake API used by the tests, for
// working on screens without the Go server. Not part of the production build. The fake is on
// `window.atendimentoFake` (e.g. `atendimentoFake.contactReplies(id, 'Oi')` in the console).

import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import App from '../App'
import '../index.css'
import { FakeApi, protocoloTemplate } from './fakeApi'
import { FakeEventSource } from './fakeEventSource'

const fake = new FakeApi()
fake.contacts.push(
  { ...fake.contacts[0], id: 'ct-paulo', name: 'Paulo Mendes', phone: '+5548991234567' },
  { ...fake.contacts[0], id: 'ct-bia', name: 'Beatriz Rocha', phone: '+5511955554444' },
)
fake.addConversation({ contact_id: 'ct-paulo', channel_id: 'ch-vendas', team_id: 'tm-suporte', status: 'active', windowOpenFor: 40 * 60_000 })
fake.addConversation({ contact_id: 'ct-bia', channel_id: 'ch-suporte', team_id: 'tm-suporte', status: 'waiting' })
fake.addConversation({ contact_id: 'ct-maria', channel_id: 'ch-suporte', team_id: 'tm-financeiro', status: 'active', windowExpiredAgo: 7_200_000 })
// A template with a header variable and a URL button: its fields are labelled with their place.
fake.templates.push(protocoloTemplate('ch-suporte'))
if (new URLSearchParams(location.search).has('signedIn')) fake.signIn()

window.fetch = fake.fetch
;(window as unknown as { EventSource: unknown }).EventSource = FakeEventSource
;(window as unknown as { atendimentoFake: FakeApi }).atendimentoFake = fake

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
