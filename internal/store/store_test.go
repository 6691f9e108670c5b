package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

func TestMigrateTwiceAndConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// storetest already migrated once: every embedded migration is recorded, once.
		var before int64
		require.NoError(t, db.Conn(ctx).Raw("SELECT count(*) FROM schema_migrations").Scan(&before).Error)
		require.Positive(t, before)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = db.Migrate(ctx) }()
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		var n int64
		require.NoError(t, db.Conn(ctx).Raw("SELECT count(*) FROM schema_migrations").Scan(&n).Error)
		require.Equal(t, before, n)
	})
}

func TestTenantRequiresAccount(t *testing.T) {
	db := storetest.SQLite(t)
	var rows []map[string]any
	err := db.Tenant(context.Background(), "contacts").Find(&rows).Error
	require.ErrorIs(t, err, store.ErrNoAccount)
}

// IsForeignKey recognises a foreign-key violation on both engines, and nothing else.
func TestIsForeignKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		acc := store.NewID()
		require.NoError(t, db.Conn(ctx).Exec("INSERT INTO accounts (id, name, default_region, created_at, updated_at) VALUES (?, 'A', 'BR', ?, ?)", acc, store.Now(), store.Now()).Error)
		err := db.Conn(ctx).Exec("INSERT INTO team_members (account_id, team_id, user_id) VALUES (?, ?, ?)", acc, store.NewID(), store.NewID()).Error
		require.Error(t, err)
		require.True(t, store.IsForeignKey(err), "%v", err)
		dup := db.Conn(ctx).Exec("INSERT INTO accounts (id, name, default_region, created_at, updated_at) VALUES (?, 'A', 'BR', ?, ?)", acc, store.Now(), store.Now()).Error
		require.Error(t, dup)
		require.False(t, store.IsForeignKey(dup), "%v", dup)
		require.False(t, store.IsForeignKey(nil))
	})
}
