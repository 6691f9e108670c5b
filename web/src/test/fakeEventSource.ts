// A stand-in for the browser's EventSource: the fake API broadcasts through it.

type Listener = (e: MessageEvent<string>) => void

export class FakeEventSource {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSED = 2
  static instances: FakeEventSource[] = []
  /** The id broadcast gives its next event, as the server's log would. */
  static nextId = 1

  readonly url: string
  readonly withCredentials: boolean
  readyState = FakeEventSource.CONNECTING
  onopen: ((e: Event) => void) | null = null
  onerror: ((e: Event) => void) | null = null
  onmessage: ((e: MessageEvent<string>) => void) | null = null
  /** The browser's last event id: what it sends as Last-Event-ID when it reconnects by itself. */
  lastEventId = ''
  private listeners = new Map<string, Set<Listener>>()

  constructor(url: string | URL, init?: { withCredentials?: boolean }) {
    this.url = String(url)
    this.withCredentials = !!init?.withCredentials
    FakeEventSource.instances.push(this)
    queueMicrotask(() => this.open())
  }

  addEventListener(type: string, fn: Listener): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set())
    this.listeners.get(type)!.add(fn)
  }

  removeEventListener(type: string, fn: Listener): void {
    this.listeners.get(type)?.delete(fn)
  }

  close(): void {
    this.readyState = FakeEventSource.CLOSED
    FakeEventSource.instances = FakeEventSource.instances.filter((x) => x !== this)
  }

  /** Delivers one named event whose data is the JSON of `data`, with an id when given. */
  emit(type: string, data: unknown, id?: string): void {
    if (this.readyState === FakeEventSource.CLOSED) return
    if (id) this.lastEventId = id
    const ev = new MessageEvent(type, { data: JSON.stringify(data), lastEventId: this.lastEventId })
    this.listeners.get(type)?.forEach((fn) => fn(ev))
    if (type === 'message') this.onmessage?.(ev)
  }

  /** The connection drops (the browser would then retry). */
  drop(): void {
    this.readyState = FakeEventSource.CONNECTING
    this.onerror?.(new Event('error'))
  }

  /** The server answered without a stream (e.g. 404): the browser gives up on this source. */
  fail(): void {
    this.readyState = FakeEventSource.CLOSED
    this.onerror?.(new Event('error'))
  }

  open(): void {
    if (this.readyState === FakeEventSource.CLOSED) return
    this.readyState = FakeEventSource.OPEN
    this.onopen?.(new Event('open'))
  }

  /** Delivers an event to every open source, with the next id. */
  static broadcast(type: string, data: unknown): void {
    const id = String(FakeEventSource.nextId++)
    for (const es of FakeEventSource.instances) es.emit(type, data, id)
  }

  static reset(): void {
    FakeEventSource.instances = []
    FakeEventSource.nextId = 1
  }
}
