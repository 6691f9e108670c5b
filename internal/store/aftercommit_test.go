package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

func TestAfterCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := store.WithAccount(context.Background(), "acc-1")
		var ran []string
		hook := func(name string) func(context.Context) {
			return func(ctx context.Context) {
				// The hook acts for the registering context's account, outside any transaction:
				// a statement it runs is not part of the committed one.
				require.Equal(t, "acc-1", store.AccountID(ctx), name)
				var n int
				require.NoError(t, db.Conn(ctx).Raw("SELECT 1").Scan(&n).Error)
				ran = append(ran, name)
			}
		}

		t.Run("outside a transaction it runs at once", func(t *testing.T) {
			ran = nil
			store.AfterCommit(ctx, hook("now"))
			require.Equal(t, []string{"now"}, ran)
		})

		t.Run("commit runs each hook once, in order, after the outermost commit", func(t *testing.T) {
			ran = nil
			require.NoError(t, db.InTx(ctx, func(ctx context.Context) error {
				store.AfterCommit(ctx, hook("a"))
				require.NoError(t, db.InTx(ctx, func(ctx context.Context) error {
					store.AfterCommit(ctx, hook("nested"))
					return nil
				}))
				require.Empty(t, ran, "a nested commit is not the commit")
				store.AfterCommit(ctx, hook("b"))
				return nil
			}))
			require.Equal(t, []string{"a", "nested", "b"}, ran)
		})

		t.Run("rollback drops them", func(t *testing.T) {
			ran = nil
			boom := errors.New("boom")
			err := db.InTx(ctx, func(ctx context.Context) error {
				store.AfterCommit(ctx, hook("dropped"))
				return boom
			})
			require.ErrorIs(t, err, boom)
			require.Empty(t, ran)
		})

		t.Run("a failed statement drops them", func(t *testing.T) {
			ran = nil
			err := db.InTx(ctx, func(ctx context.Context) error {
				store.AfterCommit(ctx, hook("dropped"))
				return db.Conn(ctx).Exec("SELECT * FROM no_such_table").Error
			})
			require.Error(t, err)
			require.Empty(t, ran)
		})
	})
}
