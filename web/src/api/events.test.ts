import { afterEach, describe, expect, it, vi } from 'vitest'
import { FakeEventSource } from '../test/fakeEventSource'
import { api } from '.'

describe('api.subscribeEvents', () => {
  afterEach(() => vi.useRealTimers())

  it('delivers named events with the resource as data', async () => {
    vi.stubGlobal('EventSource', FakeEventSource)
    const event = vi.fn()
    const close = api.subscribeEvents({ event })
    const es = FakeEventSource.instances[0]
    expect(es.url).toBe('/api/v1/events')
    expect(es.withCredentials).toBe(true)
    es.emit('message.updated', { id: 'm1', status: 'read' })
    es.emit('something.else', { id: 'x' })
    expect(event).toHaveBeenCalledExactlyOnceWith({ type: 'message.updated', data: { id: 'm1', status: 'read' } })
    close()
    expect(FakeEventSource.instances).toHaveLength(0)
  })

  it('retries with backoff, refetching each time, when the server answers without a stream', async () => {
    vi.useFakeTimers()
    vi.stubGlobal('EventSource', FakeEventSource)
    const reconnected = vi.fn()
    const close = api.subscribeEvents({ event: vi.fn(), reconnected })
    FakeEventSource.instances[0].fail() // e.g. 404: no /events yet, so it never opens
    expect(FakeEventSource.instances).toHaveLength(0)

    vi.advanceTimersByTime(4_999)
    expect(reconnected).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(reconnected).toHaveBeenCalledTimes(1)
    expect(FakeEventSource.instances).toHaveLength(1)

    FakeEventSource.instances[0].fail()
    vi.advanceTimersByTime(9_999) // doubled
    expect(reconnected).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(1)
    expect(reconnected).toHaveBeenCalledTimes(2)
    close()
  })
})
