package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/event"
)

// waitingTimeout is WAITING_TIMEOUT in these tests; the sweeper then checks every 100 ms.
const waitingTimeout = time.Second

func eachWaiting(t *testing.T, fn func(t *testing.T, env *apptest.Env)) {
	apptest.EachWith(t, apptest.Options{Configure: func(cfg *app.Config) { cfg.WaitingTimeout = waitingTimeout }}, fn)
}

// sandboxStart starts a conversation on the demo sandbox channel and returns its id and waiting_since.
func sandboxStart(t *testing.T, env *apptest.Env, phone string) (string, time.Time) {
	t.Helper()
	r := env.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": phone},
		"channel_id": env.Demo.ChannelID, "team_id": env.Demo.TeamIDs[0], "send_type": "now",
		"template_id": env.Demo.TemplateIDs["boas_vindas"], "parameters": map[string]any{"nome": "Maria", "atendente": "Ana"}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	require.Equal(t, "waiting", r.Str("status"))
	require.EqualValues(t, 0, r.JSON()["waiting_seconds"])
	since, err := time.Parse(time.RFC3339Nano, r.Str("waiting_since"))
	require.NoError(t, err)
	return r.Str("id"), since
}

// nextEvent waits for the next event of kind about id, skipping others (the demo data's own
// conversations expire too).
func nextEvent(t *testing.T, sub *event.Subscription, kind, id string, within time.Duration) (time.Time, bool) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e, ok := <-sub.Events():
			require.True(t, ok, "the event subscription was dropped")
			if e.Kind == kind && e.ID == id {
				return time.Now(), true
			}
		case <-deadline:
			return time.Time{}, false
		}
	}
}

func convMessages(t *testing.T, env *apptest.Env, convID string) []map[string]any {
	t.Helper()
	var out struct{ Items []map[string]any }
	env.Admin.Get("/api/v1/conversations/"+convID+"/messages").Decode(t, &out)
	return out.Items
}

func TestWaitingExpiresOnceAndStaysOpen(t *testing.T) {
	t.Parallel()
	eachWaiting(t, func(t *testing.T, env *apptest.Env) {
		sub := env.App.Events.Subscribe(env.Demo.AccountID)
		defer sub.Close()
		convID, since := sandboxStart(t, env, "21 99876-1001")
		queued := env.Admin.Post("/api/v1/conversations/"+convID+"/messages", map[string]any{"text": "Na fila"})
		require.Equal(t, "queued", queued.Str("status"))

		// The wait is reported once the timeout has passed, and not before.
		at, ok := nextEvent(t, sub, conversation.EventConversationWaitingExpired, convID, 10*time.Second)
		require.True(t, ok, "no %s event", conversation.EventConversationWaitingExpired)
		require.False(t, at.Before(since.Add(waitingTimeout)), "expired at %s, waiting since %s", at, since)
		// The account did not ask to close: the conversation keeps waiting, its queue intact.
		conv := env.Admin.Get("/api/v1/conversations/" + convID)
		require.Equal(t, "waiting", conv.Str("status"))
		require.Nil(t, conv.JSON()["closed_at"])
		require.GreaterOrEqual(t, conv.JSON()["waiting_seconds"], float64(1), "it shows how long it has waited")
		require.Equal(t, "queued", convMessages(t, env, convID)[1]["status"])
		// Each wait is reported once.
		_, again := nextEvent(t, sub, conversation.EventConversationWaitingExpired, convID, 500*time.Millisecond)
		require.False(t, again, "the same wait was reported twice")

		// A new wait (as after a re-engagement template) is reported again.
		require.NoError(t, env.App.DB.Conn(env.Ctx()).Exec("UPDATE conversations SET waiting_since = ? WHERE id = ?", time.Now().UTC(), convID).Error)
		_, ok = nextEvent(t, sub, conversation.EventConversationWaitingExpired, convID, 10*time.Second)
		require.True(t, ok, "a new wait was not reported")

		// The contact's reply still opens the conversation and releases the queue.
		in := env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "21 99876-1001", "text": "Oi"})
		require.Equal(t, http.StatusOK, in.Status, string(in.Body))
		waitFor(t, "the queue released", func() bool { return convMessages(t, env, convID)[1]["status"] == "delivered" })
		conv = env.Admin.Get("/api/v1/conversations/" + convID)
		require.Equal(t, "active", conv.Str("status"))
		require.Nil(t, conv.JSON()["waiting_seconds"])
	})
}

func TestWaitingAutoCloseLeavesQueueUnsent(t *testing.T) {
	t.Parallel()
	eachWaiting(t, func(t *testing.T, env *apptest.Env) {
		r := env.Admin.Patch("/api/v1/account", map[string]any{"auto_close_waiting": true})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, true, r.JSON()["auto_close_waiting"])
		require.EqualValues(t, 1, r.JSON()["waiting_timeout_seconds"])
		sub := env.App.Events.Subscribe(env.Demo.AccountID)
		defer sub.Close()

		convID, since := sandboxStart(t, env, "21 99876-1002")
		var queued []string
		for i := 1; i <= 2; i++ {
			m := env.Admin.Post("/api/v1/conversations/"+convID+"/messages", map[string]any{"text": fmt.Sprint("fila ", i)})
			require.Equal(t, "queued", m.Str("status"))
			queued = append(queued, m.Str("id"))
		}
		at, ok := nextEvent(t, sub, conversation.EventConversationWaitingExpired, convID, 10*time.Second)
		require.True(t, ok, "no %s event", conversation.EventConversationWaitingExpired)
		require.False(t, at.Before(since.Add(waitingTimeout)))
		_, ok = nextEvent(t, sub, conversation.EventConversationUpdated, convID, 5*time.Second)
		require.True(t, ok, "no conversation.updated for the close")
		_, ok = nextEvent(t, sub, conversation.EventConversationClosed, convID, 5*time.Second)
		require.True(t, ok, "no conversation.closed for the automatic close")

		conv := env.Admin.Get("/api/v1/conversations/" + convID)
		require.Equal(t, "closed", conv.Str("status"))
		require.Nil(t, conv.JSON()["closed_reason"])
		require.NotNil(t, conv.JSON()["closed_at"])
		msgs := convMessages(t, env, convID)
		require.Len(t, msgs, 3)
		require.Equal(t, "delivered", msgs[0]["status"], "the opening template had gone out")
		for i, id := range queued {
			require.Equal(t, id, msgs[i+1]["id"])
			require.Equal(t, "queued", msgs[i+1]["status"], "queued messages stay unsent and visible")
		}

		// A late reply opens a new (receptive) conversation; the closed one's queue never leaves.
		in := env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "21 99876-1002", "text": "Oi, voltei"})
		require.Equal(t, http.StatusOK, in.Status, string(in.Body))
		settleSandbox(t, env)
		for _, m := range convMessages(t, env, convID)[1:] {
			require.Equal(t, "queued", m["status"])
		}
		require.Equal(t, "closed", env.Admin.Get("/api/v1/conversations/"+convID).Str("status"))
		var open struct {
			Items []struct{ ID, Status, Origin string }
		}
		env.Admin.Get("/api/v1/conversations?status=active&channel_id="+env.Demo.ChannelID).Decode(t, &open)
		found := false
		for _, c := range open.Items {
			found = found || (c.ID != convID && c.Origin == "receptive")
		}
		require.True(t, found, "the reply opened a receptive conversation")
	})
}

func TestWaitingReplyBeforeTimeoutDoesNotExpire(t *testing.T) {
	t.Parallel()
	eachWaiting(t, func(t *testing.T, env *apptest.Env) {
		r := env.Admin.Patch("/api/v1/account", map[string]any{"auto_close_waiting": true})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		sub := env.App.Events.Subscribe(env.Demo.AccountID)
		defer sub.Close()
		convID, _ := sandboxStart(t, env, "21 99876-1003")
		in := env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "21 99876-1003", "text": "Oi"})
		require.Equal(t, http.StatusOK, in.Status, string(in.Body))
		require.Equal(t, "active", env.Admin.Get("/api/v1/conversations/"+convID).Str("status"))
		_, expired := nextEvent(t, sub, conversation.EventConversationWaitingExpired, convID, waitingTimeout+time.Second)
		require.False(t, expired, "a conversation the contact answered expired")
		require.Equal(t, "active", env.Admin.Get("/api/v1/conversations/"+convID).Str("status"))
	})
}

func TestExpireWaitingDirectly(t *testing.T) {
	t.Parallel()
	// The sweeper is off (WAITING_TIMEOUT 0); the service is driven by hand.
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		keep, _ := sandboxStart(t, env, "21 99876-1004")
		closeID, _ := sandboxStart(t, env, "21 99876-1005")
		other, _ := env.NewAccount("Outra")
		ctx := env.Ctx()
		svc := env.App.Conversations
		asked := map[string]int{}
		autoClose := func(accountID string) conversation.AutoClose {
			return func(_ context.Context, id string) (bool, error) {
				asked[id]++
				return id == accountID, nil
			}
		}
		// The server's default is an hour; no account has a timeout of its own.
		hour := conversation.WaitingRules{Default: time.Hour}
		later := time.Now().Add(time.Hour + time.Minute)
		// Nothing has waited an hour yet.
		done, err := svc.ExpireWaiting(ctx, time.Now(), hour, autoClose(other))
		require.NoError(t, err)
		require.Empty(t, done)

		// An hour and a minute later every wait has run out: the demo account keeps them open.
		done, err = svc.ExpireWaiting(ctx, later, hour, autoClose(other))
		require.NoError(t, err)
		ids := map[string]bool{}
		for _, d := range done {
			require.Equal(t, env.Demo.AccountID, d.AccountID)
			require.False(t, d.Closed)
			ids[d.ConversationID] = true
		}
		require.True(t, ids[keep] && ids[closeID])
		require.Equal(t, 1, asked[env.Demo.AccountID], "the account's setting is read once per sweep")
		// Reported once: the next sweep finds nothing.
		done, err = svc.ExpireWaiting(ctx, later, hour, autoClose(other))
		require.NoError(t, err)
		require.Empty(t, done)

		// A new wait of an account that auto-closes is closed.
		require.NoError(t, env.App.DB.Conn(ctx).Exec("UPDATE conversations SET waiting_since = ? WHERE id = ?", time.Now().UTC(), closeID).Error)
		done, err = svc.ExpireWaiting(ctx, later, hour, autoClose(env.Demo.AccountID))
		require.NoError(t, err)
		require.Equal(t, []conversation.Expired{{AccountID: env.Demo.AccountID, ConversationID: closeID, Closed: true}}, done)
		require.Equal(t, "closed", env.Admin.Get("/api/v1/conversations/"+closeID).Str("status"))
		require.Equal(t, "waiting", env.Admin.Get("/api/v1/conversations/"+keep).Str("status"))
	})
}

// TestExpireWaitingPerAccount: each account's own waiting timeout decides when its waits expire,
// shorter or longer than the server's default, or never; an account that set none follows the
// default, and one account's rule never moves another's.
func TestExpireWaitingPerAccount(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		ctx := env.Ctx()
		svc := env.App.Conversations
		convID, _ := sandboxStart(t, env, "21 99876-1006")
		other, otherKey := env.NewAccount("Outra")
		never := func(context.Context, string) (bool, error) { return false, nil }
		waitedFor := func(d time.Duration) {
			t.Helper()
			require.NoError(t, env.App.DB.Conn(ctx).Exec("UPDATE conversations SET waiting_since = ?, waiting_expired_at = NULL WHERE id = ?",
				time.Now().UTC().Add(-d), convID).Error)
		}
		setOwn := func(c *apptest.Client, v any) {
			t.Helper()
			r := c.Patch("/api/v1/account", map[string]any{"waiting_timeout_seconds": v})
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		}
		// sweep runs a sweep with the accounts' rules and the server's default def, and reports
		// whether the demo conversation's wait has expired (read back, so the app's own sweeper,
		// which may run meanwhile, cannot change the answer).
		sweep := func(def time.Duration) bool {
			t.Helper()
			own, err := env.App.Accounts.WaitingTimeouts(ctx)
			require.NoError(t, err)
			_, err = svc.ExpireWaiting(ctx, time.Now(), conversation.WaitingRules{Default: def, Accounts: own}, never)
			require.NoError(t, err)
			var n int64
			require.NoError(t, env.App.DB.Conn(ctx).Table("conversations").Where("id = ? AND waiting_expired_at IS NOT NULL", convID).Count(&n).Error)
			return n == 1
		}
		const def = 72 * time.Hour

		// Another account's rule of an hour leaves the demo account on the default.
		setOwn(env.Client(otherKey), 3600)
		own, err := env.App.Accounts.WaitingTimeouts(ctx)
		require.NoError(t, err)
		require.Equal(t, time.Hour, own[other])
		waitedFor(2 * time.Hour)
		require.False(t, sweep(def), "two hours is within the server's 72 h")

		// Its own hour: two hours of waiting have run out.
		setOwn(env.Admin, 3600)
		require.True(t, sweep(def), "the account's own hour was not applied")

		// Longer than the default: 100 h. Two hours, and 80 h, are within it.
		setOwn(env.Admin, 100*3600)
		waitedFor(80 * time.Hour)
		require.False(t, sweep(def), "80 h expired under the account's 100 h")
		waitedFor(101 * time.Hour)
		require.True(t, sweep(def))

		// Never: not even after 30 days, whatever the server's default.
		setOwn(env.Admin, 0)
		waitedFor(31 * 24 * time.Hour)
		require.False(t, sweep(def), "a wait expired on an account that chose never")
		require.False(t, sweep(time.Hour))
		// Back to the default (null): the 31 days have run out.
		setOwn(env.Admin, nil)
		require.True(t, sweep(def))

		// With the server's default at never, an account's own timeout still applies.
		setOwn(env.Admin, 3600)
		waitedFor(2 * time.Hour)
		require.True(t, sweep(0))
		setOwn(env.Admin, nil)
		waitedFor(2 * time.Hour)
		require.False(t, sweep(0))
	})
}
