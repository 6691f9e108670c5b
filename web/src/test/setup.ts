import '@testing-library/jest-dom/vitest'
import { cleanup } from '@testing-library/react'
import { afterEach } from 'vitest'
import { FakeEventSource } from './fakeEventSource'

afterEach(() => {
  cleanup()
  FakeEventSource.reset()
  window.location.hash = ''
})
