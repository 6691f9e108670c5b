package e2e

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

// Without the dispatcher every event of these tests is published by the request that caused
// it, before its response: once a request returns, its events are in the log.
var noDispatcher = apptest.Options{Configure: func(c *app.Config) { c.NoDispatcher = true }}

// logged lists the account's event log after an id, as "id kind", in order: what a stream that
// reconnects with that id must replay.
func logged(t *testing.T, env *apptest.Env, after string) []string {
	t.Helper()
	var rows []struct {
		ID   int64
		Kind string
	}
	require.NoError(t, env.App.DB.Conn(context.Background()).Raw(`SELECT id, kind FROM event_log
		WHERE account_id = ? AND id > ? ORDER BY id`, env.Demo.AccountID, after).Scan(&rows).Error)
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strconv.FormatInt(r.ID, 10) + " " + r.Kind
	}
	return out
}

func withLastEventID(h http.Header, id string) http.Header {
	h = h.Clone()
	h.Set("Last-Event-ID", id)
	return h
}

// A stream that reconnects with Last-Event-ID gets exactly the events it missed, in order, with
// the ids the live stream gave them, then the live events, none twice.
func TestEventStreamReplaysAfterReconnect(t *testing.T) {
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		witness := openStream(t, env.Server.URL, bearer(env.Demo.APIKey)) // never disconnects
		first := openStream(t, env.Server.URL, bearer(env.Demo.APIKey))
		c1 := startSandbox(t, env.Admin, env.Demo, "21 99876-1011", env.Demo.TeamIDs[0])
		created := first.next(t)
		require.Equal(t, "conversation.created", created.Kind)
		require.Equal(t, c1, created.Data["id"])
		require.NotEmpty(t, created.ID)
		first.close()

		// Missed: the rest of c1's start, a second start, and a reply in c1.
		c2 := startSandbox(t, env.Admin, env.Demo, "21 99876-1012", env.Demo.TeamIDs[0])
		in := env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "21 99876-1011", "text": "Oi"})
		require.Equal(t, http.StatusOK, in.Status, string(in.Body))
		missed := logged(t, env, created.ID)
		require.GreaterOrEqual(t, len(missed), 4, "%v", missed)

		// The live stream sent the same events, with the same ids and resources.
		for witness.next(t).ID != created.ID {
		}
		var sent []sseEvent
		for range missed {
			sent = append(sent, witness.next(t))
		}

		again := openStream(t, env.Server.URL, withLastEventID(bearer(env.Demo.APIKey), created.ID))
		seen := map[string]bool{}
		var got []string
		for i := range missed {
			e := again.next(t)
			require.False(t, seen[e.ID], "duplicate id %s", e.ID)
			seen[e.ID] = true
			got = append(got, e.ID+" "+e.Kind)
			require.Equal(t, sent[i].ID+" "+sent[i].Kind, e.ID+" "+e.Kind)
			require.Equal(t, sent[i].Data["id"], e.Data["id"])
		}
		require.Equal(t, missed, got, "the missed events, in order")
		require.True(t, slices.ContainsFunc(sent, func(e sseEvent) bool { return e.Data["id"] == c2 }), "c2's start is among them")

		// Then the live ones, after the replay and none of it again.
		in = env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "21 99876-1012", "text": "Olá"})
		require.Equal(t, http.StatusOK, in.Status, string(in.Body))
		live := logged(t, env, lastID(t, missed))
		require.NotEmpty(t, live)
		for _, want := range live {
			e := again.next(t)
			require.False(t, seen[e.ID], "duplicate id %s", e.ID)
			seen[e.ID] = true
			require.Equal(t, want, e.ID+" "+e.Kind)
		}

		// The query parameter does the same for clients that cannot set headers.
		q := openStreamPath(t, env.Server.URL, "/api/v1/events?last_event_id="+created.ID, bearer(env.Demo.APIKey))
		require.Equal(t, missed[0], func() string { e := q.next(t); return e.ID + " " + e.Kind }())
	})
}

func lastID(t *testing.T, rows []string) string {
	t.Helper()
	id, _, _ := strings.Cut(rows[len(rows)-1], " ")
	return id
}

// An id the log cannot replay from (not a number, unknown, another account's, swept) gives a
// reset event, not an error: the client reloads. The reset carries the newest id, from which
// the next reconnect replays.
func TestEventStreamResetsOnAnUnknownID(t *testing.T) {
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		startSandbox(t, env.Admin, env.Demo, "21 99876-1013", env.Demo.TeamIDs[0])
		newest := logged(t, env, "0")
		latest := lastID(t, newest)
		for _, bad := range []string{"garbage", "-3", "99999999999", "1.5"} {
			s := openStream(t, env.Server.URL, withLastEventID(bearer(env.Demo.APIKey), bad))
			e := s.next(t)
			require.Equal(t, "reset", e.Kind, bad)
			require.Equal(t, latest, e.ID, bad)
			require.Empty(t, e.Data)
			s.close()
		}
		// From the reset's id: nothing to replay, then the live events.
		s := openStream(t, env.Server.URL, withLastEventID(bearer(env.Demo.APIKey), latest))
		c := startSandbox(t, env.Admin, env.Demo, "21 99876-1014", env.Demo.TeamIDs[0])
		e := s.next(t)
		require.Equal(t, "conversation.created", e.Kind)
		require.Equal(t, c, e.Data["id"])
	})
}

// The log is in the database: a stream on instance B replays, after a reconnect, an event
// published on instance A while it was away.
func TestEventsReplayAcrossInstancesOnPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	cfg := app.Config{SecretKey: "test-secret-key-0123456789", BcryptCost: bcrypt.MinCost, WhatsAppAPIBaseURL: "http://127.0.0.1:1",
		WhatsAppAPIVersion: "v25.0", NoDispatcher: true}
	a1, srv1 := pgInstance(t, url, cfg)
	demo, err := a1.Demo(ctx)
	require.NoError(t, err)
	_, srv2 := pgInstance(t, url, cfg)
	c1, c2 := clientFor(t, srv1.URL, demo.APIKey), clientFor(t, srv2.URL, demo.APIKey)

	on2 := openStream(t, srv2.URL, bearer(demo.APIKey))
	first := c1.startConversation(demo, "21 99876-1015")
	created := on2.await(t, "conversation.created", has("id", first)) // live, through NOTIFY
	require.NotEmpty(t, created.ID)
	on2.close()

	missed := c1.startConversation(demo, "21 99876-1016") // on instance 1 while 2's client is away
	again := openStream(t, srv2.URL, withLastEventID(bearer(demo.APIKey), created.ID))
	seen := map[string]bool{created.ID: true}
	prev, _ := strconv.ParseInt(created.ID, 10, 64)
	var kinds []string
	for len(kinds) < 3 {
		e := again.next(t)
		require.False(t, seen[e.ID], "duplicate id %s", e.ID)
		seen[e.ID] = true
		id, err := strconv.ParseInt(e.ID, 10, 64)
		require.NoError(t, err)
		require.Greater(t, id, prev, "in order")
		prev = id
		kinds = append(kinds, e.Kind)
		if e.Kind == "conversation.created" {
			require.Equal(t, missed, e.Data["id"])
		}
	}
	// The opening message of the first conversation, then the second conversation and its
	// opening: all published on instance 1, replayed by instance 2.
	require.Equal(t, []string{"message.created", "conversation.created", "message.created"}, kinds)

	// Then the live events, from either instance, not again.
	third := c2.startConversation(demo, "21 99876-1017")
	e := again.next(t)
	require.Equal(t, "conversation.created", e.Kind)
	require.Equal(t, third, e.Data["id"])
	require.False(t, seen[e.ID])
}
