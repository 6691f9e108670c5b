package store_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

// counted is a loader that counts its calls and returns the current value of *v.
func counted(calls *atomic.Int32, v *atomic.Int32) func() (int32, error) {
	return func() (int32, error) {
		calls.Add(1)
		return v.Load(), nil
	}
}

// listening makes db's caches live (on Postgres they are used only while the listener runs)
// and waits until they are.
func listening(t *testing.T, db *store.DB, c *store.Cache[int32]) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db.ListenCaches(ctx, nil)
	var calls, v atomic.Int32
	probe := 0
	require.Eventually(t, func() bool {
		probe++
		key := "probe-" + strconv.Itoa(probe)
		calls.Store(0)
		_, _ = c.Get(context.Background(), key, counted(&calls, &v))
		_, _ = c.Get(context.Background(), key, counted(&calls, &v))
		return calls.Load() == 1
	}, 10*time.Second, 20*time.Millisecond, "the caches never became live")
}

func TestCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := store.NewCache[int32](db, "things", time.Minute)
		listening(t, db, c)
		var calls, v atomic.Int32
		v.Store(1)

		got, err := c.Get(ctx, "a", counted(&calls, &v))
		require.NoError(t, err)
		require.EqualValues(t, 1, got)
		v.Store(2)
		got, _ = c.Get(ctx, "a", counted(&calls, &v))
		require.EqualValues(t, 1, got, "the second read is the kept one")
		require.EqualValues(t, 1, calls.Load())

		c.Changed(ctx, db)
		got, _ = c.Get(ctx, "a", counted(&calls, &v))
		require.EqualValues(t, 2, got, "a change outside a transaction empties it at once")

		t.Run("a failed load is not kept", func(t *testing.T) {
			boom := errors.New("boom")
			_, err := c.Get(ctx, "b", func() (int32, error) { return 0, boom })
			require.ErrorIs(t, err, boom)
			got, err := c.Get(ctx, "b", counted(&calls, &v))
			require.NoError(t, err)
			require.EqualValues(t, 2, got)
		})

		t.Run("a change in a transaction empties it again at the commit", func(t *testing.T) {
			v.Store(3)
			c.Changed(ctx, db)
			require.NoError(t, db.InTx(ctx, func(txCtx context.Context) error {
				v.Store(4)
				c.Changed(txCtx, db)
				v.Store(3) // a reader outside the transaction still sees the old rows …
				got, _ := c.Get(ctx, "a", counted(&calls, &v))
				require.EqualValues(t, 3, got)
				v.Store(4) // … until the commit
				return nil
			}))
			got, _ := c.Get(ctx, "a", counted(&calls, &v))
			require.EqualValues(t, 4, got, "the copy read before the commit was dropped")
		})

		t.Run("a change that rolls back still empties this instance's copy", func(t *testing.T) {
			_ = db.InTx(ctx, func(txCtx context.Context) error {
				c.Changed(txCtx, db)
				return errors.New("rolled back")
			})
			before := calls.Load()
			_, _ = c.Get(ctx, "a", counted(&calls, &v))
			require.Equal(t, before+1, calls.Load())
		})

		t.Run("a load overtaken by a change is not kept", func(t *testing.T) {
			got, _ := c.Get(ctx, "c", func() (int32, error) {
				c.Changed(ctx, db) // a write committed while this load read the old rows
				return 99, nil
			})
			require.EqualValues(t, 99, got)
			got, _ = c.Get(ctx, "c", counted(&calls, &v))
			require.EqualValues(t, 4, got)
		})

		t.Run("what a transaction that changed the table reads is not kept", func(t *testing.T) {
			_ = db.InTx(ctx, func(txCtx context.Context) error {
				v.Store(5) // a write of this transaction, visible only to it …
				c.Changed(txCtx, db)
				got, _ := c.Get(txCtx, "d", counted(&calls, &v))
				require.EqualValues(t, 5, got)
				return errors.New("… which rolls back")
			})
			v.Store(4)
			got, _ := c.Get(ctx, "d", counted(&calls, &v))
			require.EqualValues(t, 4, got)

			// Another transaction's reads (committed rows) are kept.
			require.NoError(t, db.InTx(ctx, func(txCtx context.Context) error {
				_, _ = c.Get(txCtx, "e", counted(&calls, &v))
				return nil
			}))
			before := calls.Load()
			_, _ = c.Get(ctx, "e", counted(&calls, &v))
			require.Equal(t, before, calls.Load())
		})

		t.Run("entries expire", func(t *testing.T) {
			short := store.NewCache[int32](db, "short", 30*time.Millisecond)
			_, _ = short.Get(ctx, "a", counted(&calls, &v))
			before := calls.Load()
			time.Sleep(50 * time.Millisecond)
			_, _ = short.Get(ctx, "a", counted(&calls, &v))
			require.Equal(t, before+1, calls.Load())
		})
	})
}

// TestCacheAcrossInstances: two servers on one Postgres database; a write on one empties the
// other's copy through NOTIFY, and a server whose listener is not running does not cache.
func TestCacheAcrossInstances(t *testing.T) {
	u := storetest.PostgresURL(t) // skips (or fails with REQUIRE_POSTGRES) without Postgres
	open := func() *store.DB {
		db, err := store.Open(context.Background(), store.Options{URL: u})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	ctx := context.Background()
	a, b := open(), open()
	ca, cb := store.NewCache[int32](a, "things", time.Minute), store.NewCache[int32](b, "things", time.Minute)
	var calls, v atomic.Int32

	_, _ = cb.Get(ctx, "k", counted(&calls, &v))
	_, _ = cb.Get(ctx, "k", counted(&calls, &v))
	require.EqualValues(t, 2, calls.Load(), "without its listener an instance cannot hear the others' writes: no cache")

	listening(t, b, cb)
	v.Store(1)
	got, _ := cb.Get(ctx, "k", counted(&calls, &v))
	require.EqualValues(t, 1, got)
	v.Store(2)
	ca.Changed(context.Background(), a) // another instance writes
	require.Eventually(t, func() bool {
		got, _ := cb.Get(ctx, "k", counted(&calls, &v))
		return got == 2
	}, 5*time.Second, 10*time.Millisecond, "the other instance's write never reached this cache")
}

func TestAfterCommitBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var got [][]any
		var order []string
		flush := func(_ context.Context, items []any) {
			got = append(got, items)
			order = append(order, "batch")
		}
		plain := func(context.Context) { order = append(order, "plain") }

		store.AfterCommitBatch(ctx, "k", 1, flush)
		require.Equal(t, [][]any{{1}}, got, "outside a transaction: at once, alone")

		got, order = nil, nil
		require.NoError(t, db.InTx(ctx, func(ctx context.Context) error {
			store.AfterCommitBatch(ctx, "k", 1, flush)
			store.AfterCommitBatch(ctx, "k", 2, flush)
			require.Error(t, db.Savepoint(ctx, "sp", func(ctx context.Context) error {
				store.AfterCommitBatch(ctx, "k", "rolled back", flush)
				return errors.New("no")
			}))
			store.AfterCommitBatch(ctx, "k", 3, flush)
			store.AfterCommit(ctx, plain)
			store.AfterCommitBatch(ctx, "k", 4, flush)
			require.Empty(t, got, "nothing before the commit")
			return nil
		}))
		require.Equal(t, [][]any{{1, 2, 3}, {4}}, got, "one call per run of items, the rolled-back one dropped")
		require.Equal(t, []string{"batch", "plain", "batch"}, order, "a batch goes out before a later plain hook")

		got = nil
		_ = db.InTx(ctx, func(ctx context.Context) error {
			store.AfterCommitBatch(ctx, "k", 1, flush)
			return errors.New("rollback")
		})
		require.Empty(t, got)
	})
}

func TestCommitBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var order []string
		var prepared [][]any
		prepare := func(ctx context.Context, items []any) any {
			// In the transaction: a write here commits with it.
			var n int
			require.NoError(t, db.Conn(ctx).Raw("SELECT 1").Scan(&n).Error)
			prepared = append(prepared, items)
			order = append(order, "prepare")
			return len(items)
		}
		finish := func(_ context.Context, p any) { order = append(order, "finish "+strconv.Itoa(p.(int))) }
		plain := func(name string) func(context.Context) {
			return func(context.Context) { order = append(order, name) }
		}

		store.CommitBatch(ctx, "k", 1, prepare, finish)
		require.Equal(t, []string{"prepare", "finish 1"}, order, "outside a transaction: at once")

		order, prepared = nil, nil
		require.NoError(t, db.InTx(ctx, func(ctx context.Context) error {
			store.AfterCommit(ctx, plain("before"))
			store.CommitBatch(ctx, "k", 1, prepare, finish)
			require.Error(t, db.Savepoint(ctx, "sp", func(ctx context.Context) error {
				store.CommitBatch(ctx, "k", "rolled back", prepare, finish)
				return errors.New("no")
			}))
			store.AfterCommit(ctx, plain("after"))
			store.CommitBatch(ctx, "k", 2, prepare, finish)
			require.Empty(t, prepared, "prepared only once the body is done")
			return nil
		}))
		require.Equal(t, [][]any{{1, 2}}, prepared)
		require.Equal(t, []string{"prepare", "before", "finish 2", "after"}, order,
			"prepared before the commit, finished after it at the first item's place")

		order, prepared = nil, nil
		_ = db.InTx(ctx, func(ctx context.Context) error {
			store.CommitBatch(ctx, "k", 1, prepare, finish)
			return errors.New("rollback")
		})
		require.Empty(t, order, "a body that fails prepares nothing")
	})
}
