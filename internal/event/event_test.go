package event_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/clock"
	"github.com/atendimento/atendimento/internal/conversation"
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

// Every published event is logged with an id the database assigns; Since replays an account's
// events after an id, in order, and answers ErrReset for an id it cannot replay from.
func TestLogReplaysAfterAnID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := event.New(db, nil)
		ctx := context.Background()
		acc, other := store.NewID(), store.NewID()
		s := b.Subscribe(acc)
		b.Publish(ctx, acc, "conversation.created", "c1")
		first := next(t, s)
		require.Positive(t, first.Seq)
		b.Publish(ctx, other, "conversation.created", "theirs")
		b.Publish(ctx, acc, "message.created", "m1")
		b.Publish(ctx, acc, "message.updated", "m1")
		live := []event.Event{next(t, s), next(t, s)}

		got, err := b.Since(ctx, acc, first.Seq)
		require.NoError(t, err)
		require.Len(t, got, 2, "only the account's events after the id")
		for i, e := range got {
			require.Equal(t, live[i].Seq, e.Seq, "replay has the live events' ids")
			require.Equal(t, live[i].Kind, e.Kind)
			require.Equal(t, live[i].ID, e.ID)
		}
		require.Greater(t, got[1].Seq, got[0].Seq)
		latest, err := b.Latest(ctx, acc)
		require.NoError(t, err)
		require.Equal(t, got[1].Seq, latest)

		all, err := b.Since(ctx, acc, 0)
		require.NoError(t, err)
		require.Len(t, all, 3, "0: everything retained")
		none, err := b.Since(ctx, acc, latest)
		require.NoError(t, err)
		require.Empty(t, none)

		theirs, err := b.Since(ctx, other, 0)
		require.NoError(t, err)
		require.Len(t, theirs, 1)
		for _, bad := range []int64{-1, latest + 1000, theirs[0].Seq} {
			_, err := b.Since(ctx, acc, bad)
			require.ErrorIs(t, err, event.ErrReset, "id %d", bad)
		}
		latest, err = b.Latest(ctx, store.NewID())
		require.NoError(t, err)
		require.Zero(t, latest, "an account with no events")
	})
}

// A reconnect further behind than MaxReplay events resets instead of replaying them all.
func TestLogResetsWhenTooFarBehind(t *testing.T) {
	db := storetest.SQLite(t)
	b := event.New(db, nil)
	ctx := context.Background()
	acc := store.NewID()
	for i := range event.MaxReplay + 1 {
		b.Publish(ctx, acc, "message.updated", fmt.Sprint(i))
	}
	_, err := b.Since(ctx, acc, 0)
	require.ErrorIs(t, err, event.ErrReset)
	all, err := b.Since(ctx, acc, 1) // the first id SQLite's AUTOINCREMENT gives in a fresh database
	require.NoError(t, err)
	require.Len(t, all, event.MaxReplay)
}

// The sweep deletes, in bounded batches, the events logged before the time it is given (the
// app passes its clock's now minus Retention); a reconnect from a swept id resets.
func TestLogSweep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		b := event.New(db, nil)
		b.SetClock(clk)
		ctx := context.Background()
		acc := store.NewID()
		s := b.Subscribe(acc)
		for i := range 3 {
			b.Publish(ctx, acc, "message.updated", fmt.Sprint(i))
		}
		old := next(t, s)
		clk.Advance(event.Retention)
		b.Publish(ctx, acc, "message.updated", "recent")

		n, err := b.Sweep(ctx, clk.Now().Add(-event.Retention), 2)
		require.NoError(t, err)
		require.EqualValues(t, 0, n, "exactly Retention old: kept")
		clk.Advance(time.Second)
		n, err = b.Sweep(ctx, clk.Now().Add(-event.Retention), 2)
		require.NoError(t, err)
		require.EqualValues(t, 2, n, "a bounded batch")
		n, err = b.Sweep(ctx, clk.Now().Add(-event.Retention), 2)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)

		_, err = b.Since(ctx, acc, old.Seq)
		require.ErrorIs(t, err, event.ErrReset, "swept")
		left, err := b.Since(ctx, acc, 0)
		require.NoError(t, err)
		require.Len(t, left, 1)
		require.Equal(t, "recent", left[0].ID)
	})
}

// When the LISTEN connection comes back after a loss, the broker ends its streams: they missed
// the other instances' events meanwhile, and their clients reconnect and replay them from the log.
func TestListenReconnectEndsStreams(t *testing.T) {
	// A name of this test's own, so the terminate below reaches only its LISTEN connection, never
	// those of the packages testing beside it on the same database.
	name := "listen-reconnect-" + store.NewID()
	url := storetest.PostgresURL(t) + "&application_name=" + name
	db, err := store.Open(context.Background(), store.Options{URL: url, MaxOpenConns: 2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	b := event.New(db, nil)
	ctx, cancel := context.WithCancel(context.Background())
	b.Start(ctx)
	t.Cleanup(func() { cancel(); b.Stop() })
	s := b.Subscribe(store.NewID())

	var killed int
	require.NoError(t, db.Conn(ctx).Raw(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = ? AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`, name).Scan(&killed).Error)
	require.Equal(t, 1, killed)
	select {
	case _, open := <-s.Events():
		require.False(t, open, "the stream ends")
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end after LISTEN reconnected")
	}
	// Streams opened after the reconnect live on.
	s2Account := store.NewID()
	s2 := b.Subscribe(s2Account)
	b.Publish(context.Background(), s2Account, "conversation.updated", "c1")
	require.Equal(t, "c1", next(t, s2).ID)
}

// TestLogInTx: on SQLite a transaction's changes are logged in it (a rollback leaves none, and
// they cost no write transaction of their own) and announced with their ids after the commit;
// on Postgres they are logged only after the commit, so ids never appear out of order.
func TestLogInTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := event.New(db, nil)
		acc := store.NewID()
		ctx := store.WithAccount(context.Background(), acc)
		s := b.Subscribe(acc)
		changes := []conversation.Change{{AccountID: acc, Kind: "conversation.created", ID: "c1"}, {AccountID: acc, Kind: "message.created", ID: "m1"}}

		_ = db.InTx(ctx, func(ctx context.Context) error {
			b.LogInTx(ctx, changes)
			return fmt.Errorf("rolled back")
		})
		logged, err := b.Since(ctx, acc, 0)
		require.NoError(t, err)
		require.Empty(t, logged, "a rolled-back transaction logs nothing")

		var out any
		require.NoError(t, db.InTx(ctx, func(ctx context.Context) error {
			out = b.LogInTx(ctx, changes)
			inside, err := b.Since(context.Background(), acc, 0)
			require.NoError(t, err)
			if db.Dialect() == store.Postgres {
				require.Empty(t, inside)
			}
			return nil
		}))
		b.Announce(ctx, out)
		first, second := next(t, s), next(t, s)
		require.Equal(t, []string{"c1", "m1"}, []string{first.ID, second.ID})
		require.Positive(t, first.Seq)
		require.Greater(t, second.Seq, first.Seq)
		logged, err = b.Since(ctx, acc, 0)
		require.NoError(t, err)
		require.Len(t, logged, 2)
		require.Equal(t, first.Seq, logged[0].Seq)
	})
}
