package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// TestTwoInstancesDeliverExactlyOnce runs two server instances, each with its dispatcher, on one
// Postgres: conversations started and released through either instance reach the provider
// exactly once each, in order per conversation.
func TestTwoInstancesDeliverExactlyOnce(t *testing.T) {
	url := storetest.PostgresURL(t)
	fake := whatsapptest.NewFake(t)
	fake.SetAccessToken(token)
	fake.SetLatency(time.Millisecond)
	configure := func(cfg *app.Config) {
		cfg.WhatsAppAPIBaseURL = fake.URL
		cfg.Dispatch.ChannelRate = 100000
	}
	open := func() *store.DB {
		db, err := store.Open(context.Background(), store.Options{URL: url, MaxOpenConns: 8})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	envA := apptest.New(t, open(), apptest.Options{Configure: configure})
	c := setupCloud(t, fake, envA)

	cfgB := app.Config{SecretKey: "test-secret-key-0123456789", BcryptCost: bcrypt.MinCost}
	configure(&cfgB)
	cfgB.Dispatch.Poll = 100 * time.Millisecond
	b, err := app.NewWithDB(context.Background(), cfgB, slog.New(slog.DiscardHandler), open())
	require.NoError(t, err)
	b.Start(context.Background())
	t.Cleanup(b.Stop)
	envB := &apptest.Env{T: t, App: b, Demo: envA.Demo}
	srvB := newServer(t, b)
	envB.Server = srvB
	viaB := envB.Client(envA.Demo.APIKey)

	const convs, each = 30, 10
	var wg sync.WaitGroup
	for i := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := c.Admin
			if i%2 == 1 {
				client = viaB
			}
			r := client.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": fmt.Sprintf("11 9%04d-%04d", 5000+i, i)},
				"channel_id": c.channelID, "team_id": c.teamID, "send_type": "now", "template_id": c.named,
				"parameters": map[string]any{"nome": "Cliente", "atendente": "Ana"}})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			id := r.Str("id")
			for j := range each {
				require.Equal(t, http.StatusCreated, client.Post("/api/v1/conversations/"+id+"/messages", map[string]any{"text": fmt.Sprintf("c%d-m%d", i, j)}).Status)
			}
			// The reply lands on the other instance.
			hook := c
			if i%2 == 0 {
				hook = &cloud{Env: envB, channelID: c.channelID}
			}
			require.Equal(t, http.StatusOK, hook.webhook(t, inbound(fmt.Sprintf("55119%04d%04d", 5000+i, i), fmt.Sprintf("wamid.two.%d", i), "oi", time.Now())).Status)
		}()
	}
	wg.Wait()
	want := convs * (each + 1)
	require.True(t, fake.WaitFor(want, 30*time.Second), "got %d of %d", fake.Count(), want)
	// Stopped, each dispatcher has finished (and recorded) every send it started.
	envA.App.Stop()
	b.Stop()
	total, distinct, inOrder := delivered(t, fake)
	require.Equal(t, want, distinct)
	require.Equal(t, want, total, "no message was sent twice")
	require.True(t, inOrder)
}

// TestAnotherInstancesCommitWakesThisDispatcher: on Postgres a start committed by one instance
// wakes the dispatcher of another (NOTIFY) at once, though that one only polls hourly; an
// instance ignores its own wake-ups' NOTIFY (its dispatcher was woken in process), not the
// others'.
func TestAnotherInstancesCommitWakesThisDispatcher(t *testing.T) {
	url := storetest.PostgresURL(t)
	fake := whatsapptest.NewFake(t)
	fake.SetAccessToken(token)
	open := func() *store.DB {
		db, err := store.Open(context.Background(), store.Options{URL: url, MaxOpenConns: 8})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	// A takes the requests and sends nothing; B sends, and would poll only after half an hour.
	envA := apptest.New(t, open(), apptest.Options{Configure: func(cfg *app.Config) {
		cfg.WhatsAppAPIBaseURL = fake.URL
		cfg.NoDispatcher = true
	}})
	c := setupCloud(t, fake, envA)
	cfgB := app.Config{SecretKey: "test-secret-key-0123456789", BcryptCost: bcrypt.MinCost, WhatsAppAPIBaseURL: fake.URL}
	cfgB.Dispatch.Poll = time.Hour
	b, err := app.NewWithDB(context.Background(), cfgB, slog.New(slog.DiscardHandler), open())
	require.NoError(t, err)
	b.Start(context.Background())
	t.Cleanup(b.Stop)
	waitFor(t, "B listens", func() bool { return b.DB.CachesLive() })
	// B's first claim, at its start, found nothing; it now sleeps on its poll.
	time.Sleep(200 * time.Millisecond)

	r := c.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "11 95555-0001"},
		"channel_id": c.channelID, "team_id": c.teamID, "send_type": "now", "template_id": c.named,
		"parameters": map[string]any{"nome": "Cliente", "atendente": "Ana"}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	require.True(t, fake.WaitFor(1, 10*time.Second), "B's dispatcher was not woken by A's start")
}
