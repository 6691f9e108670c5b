package event_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/event"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

type recordingSink struct {
	mu     sync.Mutex
	events []event.Event
}

func (r *recordingSink) Handle(ctx context.Context, e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if store.AccountID(ctx) != e.AccountID {
		panic("sink context acts for another account")
	}
	r.events = append(r.events, e)
}

func next(t *testing.T, s *event.Subscription) event.Event {
	t.Helper()
	select {
	case e, ok := <-s.Events():
		require.True(t, ok, "subscription closed")
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return event.Event{}
}

// onlyNext publishes a marker to s's account and requires it to be the next event s receives:
// what the test published before it (fanned out in publishing order) did not reach s.
func onlyNext(t *testing.T, b *event.Broker, s *event.Subscription, account string) {
	t.Helper()
	b.Publish(context.Background(), account, "conversation.updated", "marker")
	require.Equal(t, "marker", next(t, s).ID)
}

func TestFanOutPerAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		sink := &recordingSink{}
		b := event.New(db, nil, sink)
		ctx, cancel := context.WithCancel(context.Background())
		b.Start(ctx)
		t.Cleanup(func() { cancel(); b.Stop() })

		a1, a2 := store.NewID(), store.NewID()
		s1, s1b, s2 := b.Subscribe(a1), b.Subscribe(a1), b.Subscribe(a2)
		require.Equal(t, 3, b.Subscribers())
		b.Publish(ctx, a1, "conversation.created", "c1")
		b.Publish(ctx, a1, "message.created", "m1")
		b.Publish(ctx, "", "message.created", "ignored")

		for _, s := range []*event.Subscription{s1, s1b} {
			e := next(t, s)
			require.Equal(t, event.Event{Seq: e.Seq, AccountID: a1, Kind: "conversation.created", ID: "c1", Origin: e.Origin}, e)
			e2 := next(t, s)
			require.Equal(t, "m1", e2.ID)
			require.Greater(t, e2.Seq, e.Seq)
		}
		require.Len(t, sink.events, 2, "sinks see each published event once")
		onlyNext(t, b, s2, a2)

		s1.Close()
		s1.Close()
		_, open := <-s1.Events()
		require.False(t, open)
		require.Equal(t, 2, b.Subscribers())
		b.CloseAll()
		require.Equal(t, 0, b.Subscribers())
	})
}

func TestSlowSubscriberIsDropped(t *testing.T) {
	db := storetest.SQLite(t)
	b := event.New(db, nil)
	b.SetBuffer(2)
	acc := store.NewID()
	slow, fast := b.Subscribe(acc), b.Subscribe(acc)
	ctx := context.Background()
	for i := range 3 {
		b.Publish(ctx, acc, "message.updated", fmt.Sprint(i))
		next(t, fast)
	}
	// The slow one got two, then was dropped instead of blocking the publisher.
	require.Equal(t, "0", next(t, slow).ID)
	require.Equal(t, "1", next(t, slow).ID)
	_, open := <-slow.Events()
	require.False(t, open)
	require.True(t, slow.Dropped())
	require.False(t, fast.Dropped())
	require.Equal(t, 1, b.Subscribers())
}

// Two brokers on one Postgres are two server instances: each one's subscribers get every
// event, in publishing order, although the notifier batches them into few NOTIFYs.
func TestEventsCrossBrokersOnPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	open := func() *event.Broker {
		db, err := store.Open(context.Background(), store.Options{URL: url, MaxOpenConns: 4})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		b := event.New(db, nil)
		b.SetBuffer(1000) // the test reads after publishing everything
		ctx, cancel := context.WithCancel(context.Background())
		b.Start(ctx)
		t.Cleanup(func() { cancel(); b.Stop() })
		return b
	}
	// Start returns once LISTEN is in place: b2 hears what b1 publishes right after it.
	b1, b2 := open(), open()
	acc, other := store.NewID(), store.NewID()
	on1, on2, otherOn2 := b1.Subscribe(acc), b2.Subscribe(acc), b2.Subscribe(other)

	const n = 500
	for i := range n {
		b1.Publish(context.Background(), acc, "message.updated", fmt.Sprint(i))
	}
	for _, s := range []*event.Subscription{on1, on2} {
		for i := range n {
			require.Equal(t, fmt.Sprint(i), next(t, s).ID)
		}
	}
	// b2 got all of b1's NOTIFYs, so b2's next one reaches b1 after them: b1 skipped its own
	// (it fanned them out when they were published) if the marker is what comes next.
	b2.Publish(context.Background(), acc, "message.updated", "marker")
	require.Equal(t, "marker", next(t, on1).ID)
	require.Equal(t, "marker", next(t, on2).ID)
	// Through b1's NOTIFYs, which reach b2 in order: none of acc's came before it.
	onlyNext(t, b1, otherOn2, other)
}

// A stream hears its own instance's events whatever the state of the LISTEN connection (not
// yet in place after a start, or reconnecting after a network error): they never make the round
// trip through Postgres. Here the broker never listens at all.
func TestOwnEventsDoNotWaitForListen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		sink := &recordingSink{}
		b := event.New(db, nil, sink)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		b.Start(ctx) // its LISTEN ends before it begins
		b.Stop()
		acc := store.NewID()
		s := b.Subscribe(acc)
		b.Publish(context.Background(), acc, "conversation.created", "c1")
		require.Equal(t, "c1", next(t, s).ID)
		require.Len(t, sink.events, 1)
	})
}
