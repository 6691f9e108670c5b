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

  it('resumes after the last id on a reconnect, without refetching', async () => {
    vi.useFakeTimers()
    vi.stubGlobal('EventSource', FakeEventSource)
    const event = vi.fn()
    const reconnected = vi.fn()
    const close = api.subscribeEvents({ event, reconnected })
    const es = FakeEventSource.instances[0]
    es.open()
    es.emit('message.created', { id: 'm1' }, '7')
    es.emit('message.updated', { id: 'm1' }) // no id: the last one stays
    // The browser reconnects by itself, sending Last-Event-ID: the server replays what was missed.
    es.drop()
    expect(es.lastEventId).toBe('7')
    es.open()
    es.emit('message.updated', { id: 'm1', status: 'read' }, '8') // replayed
    expect(event).toHaveBeenCalledTimes(3)
    expect(reconnected).not.toHaveBeenCalled()

    // When the browser gives up, the new stream asks for what followed the last id.
    es.fail()
    vi.advanceTimersByTime(5_000)
    expect(FakeEventSource.instances).toHaveLength(1)
    expect(FakeEventSource.instances[0].url).toBe('/api/v1/events?last_event_id=8')
    FakeEventSource.instances[0].open()
    expect(reconnected).not.toHaveBeenCalled()
    close()
  })

  it('refetches on a reset and resumes from the id it carries', async () => {
    vi.useFakeTimers()
    vi.stubGlobal('EventSource', FakeEventSource)
    const reconnected = vi.fn()
    const close = api.subscribeEvents({ event: vi.fn(), reconnected })
    const es = FakeEventSource.instances[0]
    es.open()
    es.emit('reset', {}, '42') // the id asked for is older than the server's log
    expect(reconnected).toHaveBeenCalledTimes(1)
    es.fail()
    vi.advanceTimersByTime(5_000)
    expect(FakeEventSource.instances[0].url).toBe('/api/v1/events?last_event_id=42')
    expect(reconnected).toHaveBeenCalledTimes(1)
    close()
  })
})
