// Package event is the broker of conversation and message changes. Domain services publish
// after commit; the broker hands each event to its sinks (the CRM webhooks' enqueue) on the
// instance that published it, and fans it out to the subscribers of its account (server-sent
// event streams) on every instance: on Postgres through NOTIFY on one channel, which each
// instance LISTENs to; on SQLite, where one process owns the database, directly.
package event

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/store"
)

// Channel is the Postgres NOTIFY channel that carries events between instances.
const Channel = "atendimento_events"

// DefaultBuffer is how many events a subscriber may have pending before it is dropped.
const DefaultBuffer = 256

// Event names one change: which resource (Kind says conversation or message) of which account.
// It carries ids only; readers load the resource with the account's context.
type Event struct {
	// Seq numbers the events this instance fanned out, in order (the SSE id).
	Seq       uint64 `json:"-"`
	AccountID string `json:"account_id"`
	Kind      string `json:"kind"`
	ID        string `json:"id"`
}

// Kinds lists the event kinds the broker carries.
var Kinds = []string{conversation.EventConversationCreated, conversation.EventConversationUpdated,
	conversation.EventConversationWaitingExpired, conversation.EventMessageCreated, conversation.EventMessageUpdated}

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
	sinks  []Sink
	buffer int

	seq  atomic.Uint64
	mu   sync.Mutex
	subs map[string]map[*Subscription]struct{}
}

var _ conversation.Publisher = (*Broker)(nil)

// New returns a broker; Start makes it receive the other instances' events on Postgres.
func New(db *store.DB, log *slog.Logger, sinks ...Sink) *Broker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Broker{db: db, log: log, sinks: sinks, buffer: DefaultBuffer, subs: map[string]map[*Subscription]struct{}{}}
}

// SetBuffer changes the per-subscriber buffer for subscriptions made after the call (tests).
func (b *Broker) SetBuffer(n int) { b.buffer = n }

// Publish implements conversation.Publisher. It never fails the caller: the change is already
// committed, so a broken NOTIFY is logged and the event is lost for streams (not for sinks,
// which ran before it).
func (b *Broker) Publish(ctx context.Context, accountID, kind, id string) {
	if accountID == "" || id == "" {
		return
	}
	// The request that caused the change may end now; the event must still go out.
	ctx = store.WithAccount(context.WithoutCancel(ctx), accountID)
	e := Event{AccountID: accountID, Kind: kind, ID: id}
	for _, s := range b.sinks {
		s.Handle(ctx, e)
	}
	if b.db.Dialect() != store.Postgres {
		b.fanout(e)
		return
	}
	payload, err := json.Marshal(e)
	if err == nil {
		err = b.db.Notify(ctx, Channel, string(payload))
	}
	if err != nil {
		b.log.Warn("event: notify failed; streams miss this event", "kind", kind, "id", id, "err", err.Error())
	}
}

// Start listens for every instance's events on Postgres until ctx ends (no-op on SQLite).
func (b *Broker) Start(ctx context.Context) {
	b.db.Listen(ctx, b.log, []string{Channel}, b.notified)
}

func (b *Broker) notified(_, payload string) {
	if payload == "" {
		return // a (re)connect: events sent while disconnected are gone; clients reload on their own
	}
	var e Event
	if err := json.Unmarshal([]byte(payload), &e); err != nil || e.AccountID == "" {
		b.log.Warn("event: ignoring malformed notification", "payload", payload)
		return
	}
	b.fanout(e)
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
	e.Seq = b.seq.Add(1)
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
