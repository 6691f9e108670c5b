// Package event is the broker of conversation and message changes. Domain services publish
// after commit; the broker fans each event out to the subscribers of its account (server-sent
// event streams) on this instance at once, hands it to its sinks (the CRM webhooks' enqueue),
// and on Postgres sends it to the other instances through NOTIFY on one channel, which each
// instance LISTENs to (an instance skips the notifications it sent itself).
//
// Events name a resource, and readers render its latest state, so clients apply them as
// upserts. Events of one writer leave in order; events of different writers (a request and the
// dispatcher, two instances) may be seen in another order than their commits.
//
// Every published event is first written to the event log (a table of this package), which
// numbers it: the database assigns the id (a Postgres sequence, a SQLite AUTOINCREMENT key), so
// ids are unique and grow in insert order across every instance, and the id travels with the
// event through NOTIFY. A stream that reconnects replays the log after the last id it received
// (Since); the log keeps Retention and Sweep deletes older rows. When the LISTEN connection
// comes back after a loss, the broker ends its streams, so their clients replay what the other
// instances published meanwhile.
//
// A limit: ids are given at insert and events fanned out just after, so two writers (or two
// instances, through NOTIFY) may deliver a higher id before a lower one, by the time between
// those steps. A client that disconnects in that moment resumes after the higher id and misses
// the lower one; the data of later events of the same resource still brings it up to date.
package event

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/atendimento/atendimento/internal/clock"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/template"
	"github.com/atendimento/atendimento/internal/worker"
)

// Channel is the Postgres NOTIFY channel that carries events between instances.
const Channel = "atendimento_events"

// DefaultBuffer is how many events a subscriber may have pending before it is dropped.
const DefaultBuffer = 256

// maxPayload bounds one NOTIFY's payload (Postgres refuses 8000 bytes and more).
const maxPayload = 7000

// Event names one change: which resource (Kind says conversation, message or template) of which
// account.
// It carries ids only; readers load the resource with the account's context.
type Event struct {
	// Seq is the event's id in the event log (the SSE id), 0 when it could not be logged.
	Seq       int64  `json:"seq,omitempty"`
	AccountID string `json:"account_id"`
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	// Origin is the instance that published the event, which fanned it out itself already.
	Origin string `json:"origin,omitempty"`
}

// Kinds lists the event kinds the broker carries.
var Kinds = []string{conversation.EventConversationCreated, conversation.EventConversationUpdated,
	conversation.EventConversationWaitingExpired, conversation.EventConversationAssigned, conversation.EventConversationTransferred,
	conversation.EventConversationClosed, conversation.EventConversationReopened, conversation.EventMessageCreated,
	conversation.EventMessageUpdated, template.EventTemplateUpdated}

// ValidKind reports whether k is one of Kinds.
func ValidKind(k string) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Sink is told about every event published on this instance, once, before it is fanned out.
type Sink interface {
	Handle(ctx context.Context, e Event)
}

// Broker publishes events and keeps this instance's subscribers.
type Broker struct {
	db     *store.DB
	log    *slog.Logger
	clock  clock.Clock
	sinks  []Sink
	buffer int
	// origin tells this instance's notifications from the others'.
	origin string
	// listening is closed once the first LISTEN is in place.
	listening  chan struct{}
	listenOnce sync.Once
	// listened is set by the first LISTEN (re)connect: the next ones are reconnects.
	listened atomic.Bool

	mu   sync.Mutex
	subs map[string]map[*Subscription]struct{}

	// On Postgres, Publish queues events for one notifier goroutine, which sends what has
	// accumulated as one NOTIFY: publishers (request handlers, the dispatcher) do not wait for
	// a round trip per event, and events leave in the order they were published.
	queue   chan Event
	running atomic.Bool
	w       *worker.Worker
}

var _ conversation.Publisher = (*Broker)(nil)

// New returns a broker; Start makes it receive the other instances' events on Postgres.
func New(db *store.DB, log *slog.Logger, sinks ...Sink) *Broker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Broker{db: db, log: log, clock: clock.Real{}, sinks: sinks, buffer: DefaultBuffer, subs: map[string]map[*Subscription]struct{}{},
		queue: make(chan Event, 4096), origin: uuid.NewString(), listening: make(chan struct{}), w: worker.New(nil)}
}

// AddSink adds a sink, told about every event after the sinks added before it. Wiring adds the
// sinks before Start and the first Publish: a sink that reads what the publishers changed (the
// CRM webhooks render the conversation an event names) is built after those publishers, which
// are themselves built on the broker.
func (b *Broker) AddSink(s Sink) { b.sinks = append(b.sinks, s) }

// SetClock sets the clock that dates the log's rows (tests pass a fake one; the retention
// sweep reads the same clock).
func (b *Broker) SetClock(c clock.Clock) { b.clock = clock.Or(c) }

// SetBuffer changes the per-subscriber buffer for subscriptions made after the call (tests).
func (b *Broker) SetBuffer(n int) { b.buffer = n }

// publishTimeout bounds what Publish does in the caller's goroutine (the sinks, a direct NOTIFY).
const publishTimeout = 2 * time.Second

// Publish implements conversation.Publisher. It never fails the caller: the change is already
// committed. This instance's streams get the event at once, whatever the state of the LISTEN
// connection; a broken NOTIFY is logged and only the other instances' streams miss the event.
// It does not block on Postgres unless the notifier is not running or is 4096 events behind,
// when it notifies itself.
func (b *Broker) Publish(ctx context.Context, accountID, kind, id string) {
	if accountID == "" || id == "" {
		return
	}
	e := Event{AccountID: accountID, Kind: kind, ID: id, Origin: b.origin}
	// The request that caused the change may end now; the event must still go out, within a
	// bound: the log and the sinks write the database, which may have stopped answering.
	ctx, cancel := context.WithTimeout(store.WithAccount(context.WithoutCancel(ctx), accountID), publishTimeout)
	defer cancel()
	// First the log, which gives the event its id; then the streams (memory only), then the
	// sinks (database writes): a stream must not wait on them, nor see events of later changes
	// first. An event the log could not take still goes out live, without an id.
	seq, err := b.record(ctx, e)
	if err != nil {
		b.log.Warn("event: not logged; a reconnecting stream will not replay it", "kind", kind, "err", err.Error())
	}
	e.Seq = seq
	b.fanout(e)
	for _, s := range b.sinks {
		s.Handle(ctx, e)
	}
	if b.db.Dialect() != store.Postgres {
		return
	}
	if b.running.Load() {
		select {
		case b.queue <- e:
			return
		default:
		}
	}
	b.notify(ctx, []Event{e})
}

var _ conversation.BatchPublisher = (*Broker)(nil)

// PublishAll publishes many changes, in order, as Publish does one by one, but logs them with
// one multi-row insert (a group of inbound messages announces two changes per message).
func (b *Broker) PublishAll(ctx context.Context, changes []conversation.Change) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	b.announce(ctx, b.logAll(ctx, changes))
}

var _ conversation.TxPublisher = (*Broker)(nil)

// LogInTx logs changes in the context's transaction, for Announce to publish once it commits.
// Only where one writer at a time commits (SQLite) do the log's ids then follow the order in
// which the changes become visible; on Postgres it logs nothing and Announce publishes as
// PublishAll does, after the commit (a reconnecting stream must never find a lower id appear
// after a higher one it has seen).
func (b *Broker) LogInTx(ctx context.Context, changes []conversation.Change) any {
	if b.db.Dialect() == store.Postgres {
		return changes
	}
	return b.logAll(ctx, changes)
}

// Announce publishes what LogInTx returned, once the transaction has committed.
func (b *Broker) Announce(ctx context.Context, logged any) {
	if changes, ok := logged.([]conversation.Change); ok {
		b.PublishAll(ctx, changes)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	b.announce(ctx, logged.([]Event))
}

// logAll logs changes and returns their events with their ids (without ids when the log could
// not take them: they still go out live).
func (b *Broker) logAll(ctx context.Context, changes []conversation.Change) []Event {
	var events []Event
	for _, c := range changes {
		if c.AccountID != "" && c.ID != "" {
			events = append(events, Event{AccountID: c.AccountID, Kind: c.Kind, ID: c.ID, Origin: b.origin})
		}
	}
	if len(events) == 0 {
		return nil
	}
	seqs, err := b.recordAll(ctx, events)
	if err != nil {
		b.log.Warn("event: not logged; a reconnecting stream will not replay them", "events", len(events), "err", err.Error())
	}
	for i := range events {
		if i < len(seqs) {
			events[i].Seq = seqs[i]
		}
	}
	return events
}

// announce sends logged events to this instance's streams, the sinks and, on Postgres, the
// other instances.
func (b *Broker) announce(ctx context.Context, events []Event) {
	if len(events) == 0 {
		return
	}
	for i := range events {
		b.fanout(events[i])
	}
	for _, e := range events {
		ectx := store.WithAccount(ctx, e.AccountID)
		for _, s := range b.sinks {
			s.Handle(ectx, e)
		}
	}
	if b.db.Dialect() != store.Postgres {
		return
	}
	for i, e := range events {
		if b.running.Load() {
			select {
			case b.queue <- e:
				continue
			default:
			}
		}
		// No notifier, or it is far behind: send the rest now, in payloads that fit.
		rest := events[i:]
		for len(rest) > 0 {
			n, size := 0, 2
			for n < len(rest) && (n == 0 || size+eventSize(rest[n]) < maxPayload-300) {
				size += eventSize(rest[n])
				n++
			}
			b.notify(ctx, rest[:n])
			rest = rest[n:]
		}
		return
	}
}

// notify sends events as one NOTIFY whose payload is their JSON array.
func (b *Broker) notify(ctx context.Context, events []Event) {
	payload, err := json.Marshal(events)
	if err == nil {
		err = b.db.Notify(ctx, Channel, string(payload))
	}
	if err != nil {
		b.log.Warn("event: notify failed; streams miss these events", "events", len(events), "err", err.Error())
	}
}

// listenWait bounds how long Start waits for the LISTEN connection.
const listenWait = 10 * time.Second

// Start listens for every instance's events and runs the notifier on Postgres until Stop or the
// end of ctx (no-op on SQLite, and on a broker already started). It returns once LISTEN is in
// place (or after listenWait, logged), so a server never serves streams that cannot yet hear
// the other instances.
func (b *Broker) Start(ctx context.Context) {
	if b.db.Dialect() != store.Postgres {
		return
	}
	if !b.w.Start(ctx, b.run) {
		return
	}
	select {
	case <-b.listening:
	case <-ctx.Done():
	case <-time.After(listenWait):
		b.log.Warn("event: LISTEN not in place yet; streams miss other instances' events until it is", "waited", listenWait.String())
	}
}

// Stop ends LISTEN and the notifier, and waits for the notifier to send what was queued.
func (b *Broker) Stop() { b.w.Stop() }

// run is the broker's worker: the LISTEN connection (its own goroutine, ended with ctx) and the
// notifier.
func (b *Broker) run(ctx context.Context) {
	b.running.Store(true)
	b.db.Listen(ctx, b.log, []string{Channel}, b.notified)
	b.notifier(ctx)
}

func (b *Broker) notifier(ctx context.Context) {
	send := context.WithoutCancel(ctx)
	for {
		select {
		case <-ctx.Done():
			b.running.Store(false)
			for b.sendBatch(send, nil) {
			}
			return
		case e := <-b.queue:
			b.sendBatch(send, &e)
		}
	}
}

// sendBatch sends first (if any) and whatever else is queued, up to one payload; it reports
// whether it sent anything.
func (b *Broker) sendBatch(ctx context.Context, first *Event) bool {
	var batch []Event
	size := 2
	if first != nil {
		batch, size = append(batch, *first), size+eventSize(*first)
	}
	for size < maxPayload-300 {
		select {
		case e := <-b.queue:
			batch, size = append(batch, e), size+eventSize(e)
			continue
		default:
		}
		break
	}
	if len(batch) == 0 {
		return false
	}
	b.notify(ctx, batch)
	return true
}

// eventSize is an upper bound of an event's JSON length (ids are UUIDs, kinds are short).
func eventSize(e Event) int { return 80 + len(e.AccountID) + len(e.Kind) + len(e.ID) + len(e.Origin) }

func (b *Broker) notified(_, payload string) {
	if payload == "" {
		if b.listened.Swap(true) {
			// A reconnect: the other instances' events sent while LISTEN was down never reach
			// this instance's open streams. They are in the log: end the streams, whose clients
			// reconnect with their last id and get them replayed.
			b.log.Warn("event: LISTEN reconnected; ending this instance's streams so they replay what they missed", "streams", b.Subscribers())
			b.CloseAll()
			return
		}
		b.listenOnce.Do(func() { close(b.listening) })
		return
	}
	var events []Event
	if err := json.Unmarshal([]byte(payload), &events); err != nil {
		b.log.Warn("event: ignoring malformed notification", "payload", payload)
		return
	}
	for _, e := range events {
		if e.AccountID != "" && e.Origin != b.origin {
			b.fanout(e)
		}
	}
}

// fanout hands e to the account's subscribers without ever blocking: a subscriber whose buffer
// is full is dropped (its channel closed), so one slow client cannot hold up the others.
func (b *Broker) fanout(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	subs := b.subs[e.AccountID]
	if len(subs) == 0 {
		return
	}
	for s := range subs {
		select {
		case s.ch <- e:
		default:
			b.log.Warn("event: dropping a subscriber that does not keep up", "account_id", e.AccountID)
			b.removeLocked(s)
			s.dropped.Store(true)
		}
	}
}

// Subscribe returns a subscription to accountID's events on this instance. Close it when done.
func (b *Broker) Subscribe(accountID string) *Subscription {
	s := &Subscription{b: b, accountID: accountID, ch: make(chan Event, b.buffer)}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.subs[accountID]
	if m == nil {
		m = map[*Subscription]struct{}{}
		b.subs[accountID] = m
	}
	m[s] = struct{}{}
	return s
}

// CloseAll ends every subscription of this instance (graceful shutdown: open streams end, so
// the HTTP server need not wait for them).
func (b *Broker) CloseAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.subs {
		for s := range m {
			b.removeLocked(s)
		}
	}
}

// Subscribers counts this instance's subscriptions (metrics and tests).
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.subs {
		n += len(m)
	}
	return n
}

func (b *Broker) removeLocked(s *Subscription) {
	m := b.subs[s.accountID]
	if _, ok := m[s]; !ok {
		return
	}
	delete(m, s)
	if len(m) == 0 {
		delete(b.subs, s.accountID)
	}
	close(s.ch)
}

// Subscription receives one account's events.
type Subscription struct {
	b         *Broker
	accountID string
	ch        chan Event
	dropped   atomic.Bool
}

// Events delivers the events in order; it is closed when the subscriber is dropped or closed.
func (s *Subscription) Events() <-chan Event { return s.ch }

// Dropped reports whether the broker dropped the subscription because its buffer was full.
func (s *Subscription) Dropped() bool { return s.dropped.Load() }

// Close ends the subscription; it is safe to call more than once.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.removeLocked(s)
}
