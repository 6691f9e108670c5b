package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

// teamRow is the part of a teams row the test reads back.
type teamRow struct{ ID, Name string }

func (teamRow) TableName() string { return "teams" }

var errNoTeam = apperr.NotFound("team_not_found", "no such team")

// TestListPagesNewestFirst walks a list two rows a page: List, FetchPage and Get are the list
// skeleton and get-by-id shape every domain service uses.
func TestListPagesNewestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		acc := store.NewID()
		ctx := store.WithAccount(context.Background(), acc)
		now := store.Now()
		require.NoError(t, db.Conn(ctx).Exec("INSERT INTO accounts (id, name, created_at, updated_at) VALUES (?, 'a', ?, ?)", acc, now, now).Error)
		var ids []string
		for i := range 5 {
			id := store.NewID()
			ids = append(ids, id)
			require.NoError(t, db.Conn(ctx).Exec("INSERT INTO teams (id, account_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
				id, acc, fmt.Sprint("t", i), now, now).Error)
		}
		id := func(r teamRow) string { return r.ID }
		name := func(r teamRow) string { return r.Name }

		var got []string
		p := store.Page{Limit: 2}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 3)
			names, next, err := store.List(p, db.Tenant(ctx, "teams"), id, name)
			require.NoError(t, err)
			got = append(got, names...)
			if next == nil {
				break
			}
			p.Cursor = *next
		}
		require.Equal(t, []string{"t4", "t3", "t2", "t1", "t0"}, got)

		rows, next, err := store.FetchPage(store.Page{}, db.Tenant(ctx, "teams"), id)
		require.NoError(t, err)
		require.Nil(t, next)
		require.Len(t, rows, 5)

		_, _, err = store.List(store.Page{Limit: store.MaxLimit + 1}, db.Tenant(ctx, "teams"), id, name)
		require.Equal(t, []string{"limit:limit_invalid"}, apperr.FieldsOf(err).Codes())

		r, err := store.Get[teamRow](db.Tenant(ctx, "teams"), ids[1], errNoTeam)
		require.NoError(t, err)
		require.Equal(t, "t1", r.Name)
		for _, missing := range []string{"not-a-uuid", store.NewID()} {
			r, err = store.Get[teamRow](db.Tenant(ctx, "teams"), missing, errNoTeam)
			require.ErrorIs(t, err, errNoTeam)
			require.Zero(t, r)
		}
		other := store.WithAccount(context.Background(), store.NewID())
		_, err = store.Get[teamRow](db.Tenant(other, "teams"), ids[1], errNoTeam)
		require.ErrorIs(t, err, errNoTeam, "another account's row is not found")
	})
}
