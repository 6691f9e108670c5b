package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

// On SQLite the transactions wait for the one write lock in the process (a mutex, holding no
// connection meanwhile): one enters when the previous one ends; a panic or an error releases
// the lock; a wait ends with the caller's context, as an unavailable database. Postgres
// transactions run side by side.
func TestWriteTransactionsQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sqlite := db.Dialect() == store.SQLite

		// Two transactions at once: on SQLite the second enters only after the first ended.
		inside, release := make(chan struct{}), make(chan struct{})
		var mu sync.Mutex
		var order []string
		go func() {
			_ = db.InTx(ctx, func(ctx context.Context) error {
				close(inside)
				<-release
				mu.Lock()
				order = append(order, "first ends")
				mu.Unlock()
				return nil
			})
		}()
		<-inside
		second := make(chan error, 1)
		go func() {
			second <- db.InTx(ctx, func(ctx context.Context) error {
				mu.Lock()
				order = append(order, "second runs")
				mu.Unlock()
				return nil
			})
		}()
		if sqlite {
			// The second waits in the process, holding no connection (SQLite's own wait polls
			// the lock with growing sleeps, on a connection of the pool). Given time to reach
			// its wait, only the first transaction's connection is in use.
			time.Sleep(200 * time.Millisecond)
			require.Equal(t, 1, db.SQL().Stats().InUse, "the waiting transaction took a connection")
			// While the first holds the slot, a caller whose context ends gives up, unavailable.
			short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			err := db.InTx(short, func(context.Context) error { return nil })
			cancel()
			require.True(t, store.IsUnavailable(err), "%v", err)
		} else {
			require.NoError(t, <-second, "Postgres runs them side by side")
		}
		close(release)
		if sqlite {
			require.NoError(t, <-second)
			require.Equal(t, []string{"first ends", "second runs"}, order)
		}

		// A panic in a transaction, and an error, leave the slot free.
		require.Panics(t, func() {
			_ = db.InTx(ctx, func(context.Context) error { panic("boom") })
		})
		boom := errors.New("boom")
		require.ErrorIs(t, db.InTx(ctx, func(context.Context) error { return boom }), boom)
		done := make(chan error, 1)
		go func() { done <- db.InTx(ctx, func(context.Context) error { return nil }) }()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("a transaction after a panic never entered")
		}
	})
}
