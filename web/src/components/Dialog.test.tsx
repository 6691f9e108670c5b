import { render } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { Dialog } from './Dialog'

/** Fires what the browser fires before a reload or a closed tab; true when the page asked to stay. */
function reloadAsks(): boolean {
  const e = new Event('beforeunload', { cancelable: true })
  window.dispatchEvent(e)
  return e.defaultPrevented
}

describe('Dialog with unsaved changes', () => {
  it('asks before a reload or a closed tab only while something typed would be lost', () => {
    const view = render(
      <Dialog title="Editar conta" onClose={() => {}} dirty={false}>
        <input />
      </Dialog>,
    )
    expect(reloadAsks()).toBe(false)
    view.rerender(
      <Dialog title="Editar conta" onClose={() => {}} dirty>
        <input />
      </Dialog>,
    )
    expect(reloadAsks()).toBe(true)
    view.rerender(
      <Dialog title="Editar conta" onClose={() => {}} dirty={false}>
        <input />
      </Dialog>,
    )
    expect(reloadAsks()).toBe(false)
    view.rerender(
      <Dialog title="Editar conta" onClose={() => {}} dirty>
        <input />
      </Dialog>,
    )
    view.unmount()
    expect(reloadAsks()).toBe(false)
  })
})
