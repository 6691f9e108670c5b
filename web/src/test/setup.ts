import '@testing-library/jest-dom/vitest'
import { cleanup, configure } from '@testing-library/react'
import { afterEach } from 'vitest'
import { FakeEventSource } from './fakeEventSource'

// findBy*/waitFor wait up to 1 s by default: too tight on a busy 2-core machine.
configure({ asyncUtilTimeout: 5_000 })

afterEach(() => {
  cleanup()
  FakeEventSource.reset()
  window.location.hash = ''
  sessionStorage.clear() // the start flow's draft belongs to one test
})
