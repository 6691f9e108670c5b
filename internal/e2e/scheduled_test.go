package e2e

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// lateness is how late a scheduled template may leave: the dispatcher sleeps until the next due
// row (apptest polls every 100 ms as a safety net); the rest is slack for a busy test machine.
const lateness = 2 * time.Second

// schedule starts a conversation whose opening template leaves at at ("Agendar mensagem").
func (c *cloud) schedule(t *testing.T, client *apptest.Client, phone string, at time.Time) (convID, msgID string) {
	t.Helper()
	r := client.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": phone, "name": "Cliente"},
		"channel_id": c.channelID, "team_id": c.teamID, "send_type": "scheduled", "scheduled_at": at.UTC().Format(time.RFC3339Nano),
		"template_id": c.named, "parameters": map[string]any{"nome": "Cliente", "atendente": "Ana"}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	require.Equal(t, "scheduled", r.Str("status"))
	opening := r.JSON()["opening_message"].(map[string]any)
	require.Equal(t, "scheduled", opening["status"])
	return r.Str("id"), opening["id"].(string)
}

// sentAt returns when the fake received the n-th (1-based) message send.
func sentAt(t *testing.T, f *whatsapptest.Fake, n int) (time.Time, []byte) {
	t.Helper()
	i := 0
	for _, r := range f.Requests() {
		if r.Method == http.MethodPost && r.Path == "/v25.0/"+pnid+"/messages" {
			if i++; i == n {
				return r.Time, r.Body
			}
		}
	}
	t.Fatalf("no send number %d", n)
	return time.Time{}, nil
}

const scheduledBody = `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987650301","type":"template",
	"template":{"name":"saudacao","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[
	{"type":"text","text":"Cliente","parameter_name":"nome"},{"type":"text","text":"Ana","parameter_name":"atendente"}]}]}}`

func TestScheduledStartLeavesAtItsTime(t *testing.T) {
	t.Parallel()
	eachCloud(t, func(t *testing.T, c *cloud) {
		at := time.Now().Add(2 * time.Second)
		convID, _ := c.schedule(t, c.Admin, "11 98765-0301", at)
		// A message typed meanwhile is queued behind the opening.
		queued := c.post(t, convID, "Assim que puder, me responda.")

		// Until its time the conversation stays scheduled. (That nothing reaches Meta before then
		// is proven by when the first send arrived, below.)
		conv := c.Admin.Get("/api/v1/conversations/" + convID)
		require.Equal(t, "scheduled", conv.Str("status"))
		require.Equal(t, "scheduled", c.messages(t, convID)[0]["status"])

		// Then the template leaves, with Meta's exact body, and the conversation waits for the reply.
		require.True(t, c.fake.WaitFor(1, 10*time.Second))
		when, body := sentAt(t, c.fake, 1)
		require.False(t, when.Before(at), "the template left early: sent at %s, scheduled for %s", when, at)
		require.WithinDuration(t, at, when, lateness)
		require.JSONEq(t, scheduledBody, string(body))
		waitFor(t, "the opening recorded as sent", func() bool { return c.messages(t, convID)[0]["status"] == "sent" })
		conv = c.Admin.Get("/api/v1/conversations/" + convID)
		require.Equal(t, "waiting", conv.Str("status"))
		since, err := time.Parse(time.RFC3339Nano, conv.Str("waiting_since"))
		require.NoError(t, err)
		require.False(t, since.Before(at), "waiting_since %s is before the scheduled time %s", since, at)

		// The queued message waits for the contact, as after any start.
		c.settle(t)
		require.Len(t, sentTo(c.fake, "+5511987650301"), 1, "the queued message left")
		msgs := c.messages(t, convID)
		require.Equal(t, queued, msgs[1]["id"])
		require.Equal(t, "queued", msgs[1]["status"])
	})
}

func TestScheduledStartCancelledSendsNothing(t *testing.T) {
	t.Parallel()
	eachCloud(t, func(t *testing.T, c *cloud) {
		at := time.Now().Add(2 * time.Second)
		convID, _ := c.schedule(t, c.Admin, "11 98765-0301", at)
		queued := c.post(t, convID, "Mensagem na fila")

		r := c.Admin.Post("/api/v1/conversations/"+convID+"/cancel", nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "cancelled", r.Str("status"))
		require.Equal(t, "cancelled", r.JSON()["opening_message"].(map[string]any)["status"])

		// Past its time, nothing went out: a start scheduled just after it has left, and so has
		// everything the dispatcher claimed with it or before it.
		c.schedule(t, c.Admin, "11 98765-0302", at.Add(time.Millisecond))
		waitFor(t, "the later scheduled start at the fake", func() bool { return len(sentTo(c.fake, "+5511987650302")) == 1 })
		c.settle(t)
		require.Empty(t, sentTo(c.fake, "+5511987650301"), "a cancelled start was sent")
		msgs := c.messages(t, convID)
		require.Equal(t, "cancelled", msgs[0]["status"])
		require.Equal(t, queued, msgs[1]["id"])
		require.Equal(t, "queued", msgs[1]["status"], "a queued message of a cancelled start stays unsent and visible")
		require.Equal(t, "cancelled", c.Admin.Get("/api/v1/conversations/"+convID).Str("status"))

		// Cancelling twice, or after the start went out, is a conflict.
		r = c.Admin.Post("/api/v1/conversations/"+convID+"/cancel", nil)
		require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
		require.Equal(t, "conversation_not_scheduled", r.Str("code"))

		// The contact is free for a new start.
		again, _ := c.schedule(t, c.Admin, "11 98765-0301", time.Now().Add(time.Hour))
		require.NotEqual(t, convID, again)
	})
}

func TestScheduledStartSurvivesRestart(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			fake := whatsapptest.NewFake(t)
			fake.SetAccessToken(token)
			db := e.Open(t)
			env := apptest.New(t, db, apptest.Options{Configure: func(cfg *app.Config) { cfg.WhatsAppAPIBaseURL = fake.URL }})
			c := setupCloud(t, fake, env)
			at := time.Now().Add(3 * time.Second)
			convID, msgID := c.schedule(t, c.Admin, "11 98765-0301", at)

			// The server stops before the time comes.
			env.App.Stop()
			env.Server.Close()

			// Another server process starts on the same database, with its own connections.
			db2, err := store.Open(ctx, store.Options{URL: db.URL()})
			require.NoError(t, err)
			t.Cleanup(func() { _ = db2.Close() })
			a2, err := app.NewWithDB(ctx, env.App.Config, slog.New(slog.DiscardHandler), db2)
			require.NoError(t, err)
			a2.Start(ctx)
			t.Cleanup(a2.Stop)
			srv := httptest.NewServer(a2.Handler)
			t.Cleanup(srv.Close)
			env2 := &apptest.Env{T: t, App: a2, Server: srv, Demo: env.Demo}
			admin := env2.Client(env.Demo.APIKey)
			env2.Admin = admin
			require.Equal(t, "scheduled", admin.Get("/api/v1/conversations/"+convID).Str("status"))
			require.Zero(t, fake.Count())

			// The new process sends it at its time, once.
			require.True(t, fake.WaitFor(1, 10*time.Second))
			when, body := sentAt(t, fake, 1)
			require.False(t, when.Before(at), "sent at %s, scheduled for %s", when, at)
			require.WithinDuration(t, at, when, lateness)
			require.JSONEq(t, scheduledBody, string(body))
			waitFor(t, "the conversation to wait for the reply", func() bool {
				return admin.Get("/api/v1/conversations/"+convID).Str("status") == "waiting"
			})
			var msgs struct{ Items []map[string]any }
			require.NoError(t, json.Unmarshal(admin.Get("/api/v1/conversations/"+convID+"/messages").Body, &msgs))
			require.Equal(t, msgID, msgs.Items[0]["id"])
			require.Equal(t, "sent", msgs.Items[0]["status"])
			c2 := &cloud{Env: env2, fake: fake, channelID: c.channelID, teamID: c.teamID, named: c.named}
			c2.settle(t)
			require.Len(t, sentTo(fake, "+5511987650301"), 1, "sent twice")
		})
	}
}
