package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/clock"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/event"
)

// eachOnFakeClock runs fn on both engines with an app whose Config.Clock is a fake (one per
// engine) and whose dispatcher is off, after configure adjusts the rest.
func eachOnFakeClock(t *testing.T, configure func(*app.Config), fn func(t *testing.T, env *apptest.Env, fake *clock.Fake)) {
	var fake *clock.Fake
	opts := apptest.Options{Configure: func(c *app.Config) {
		fake = clock.NewFake(time.Now().UTC().Truncate(time.Second))
		c.Clock, c.NoDispatcher = fake, true
		configure(c)
	}}
	apptest.EachWith(t, opts, func(t *testing.T, env *apptest.Env) { fn(t, env, fake) })
}

// The waiting sweep runs on the configured clock: a wait expires once that clock says the
// timeout has passed, however little real time went by.
func TestWaitingSweepFollowsTheClock(t *testing.T) {
	eachOnFakeClock(t, func(c *app.Config) { c.WaitingTimeout = time.Hour }, func(t *testing.T, env *apptest.Env, fake *clock.Fake) {
		events := env.App.Events.Subscribe(env.Demo.AccountID)
		defer events.Close()
		d := env.Demo
		phone, ch, team, tpl, now := "+5511987600001", d.ChannelID, d.TeamIDs[0], d.TemplateIDs["boas_vindas"], "now"
		st, err := env.App.Conversations.Start(env.Ctx(), conversation.Actor{}, conversation.StartInput{Contact: &contact.Input{Phone: &phone},
			ChannelID: &ch, TeamID: &team, SendType: &now, TemplateID: &tpl, Parameters: []byte(`{"nome":"Maria","atendente":"Ana"}`)})
		require.NoError(t, err)
		require.Equal(t, conversation.StatusWaiting, st.Conversation.Status)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, fake.WaitTimers(ctx, 2), "the sweepers (waits, event log) sleep on the clock")
		fake.Advance(time.Hour)
		for {
			select {
			case e := <-events.Events():
				if e.Kind == conversation.EventConversationWaitingExpired && e.ID == st.Conversation.ID {
					return
				}
			case <-ctx.Done():
				t.Fatal("the wait did not expire")
			}
		}
	})
}

// The API key rate limit refills on the configured clock.
func TestAPIKeyRateFollowsTheClock(t *testing.T) {
	eachOnFakeClock(t, func(c *app.Config) { c.APIKeyRate, c.APIKeyBurst = 1, 1 }, func(t *testing.T, env *apptest.Env, fake *clock.Fake) {
		require.Equal(t, http.StatusOK, env.Admin.Get("/api/v1/contacts").Status)
		r := env.Admin.Get("/api/v1/contacts")
		require.Equal(t, http.StatusTooManyRequests, r.Status)
		require.Equal(t, "1", r.Header.Get("Retry-After"))
		fake.Advance(time.Second)
		require.Equal(t, http.StatusOK, env.Admin.Get("/api/v1/contacts").Status)
	})
}

// The event log's sweeper runs on the configured clock: an event is replayable until the clock
// says event.Retention has passed, and is then deleted.
func TestEventLogSweepFollowsTheClock(t *testing.T) {
	eachOnFakeClock(t, func(*app.Config) {}, func(t *testing.T, env *apptest.Env, fake *clock.Fake) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, fake.WaitTimers(ctx, 1), "the sweeper ran once and sleeps on the clock")
		env.App.Events.Publish(ctx, env.Demo.AccountID, conversation.EventConversationUpdated, env.Demo.ChannelID)
		logged, err := env.App.Events.Since(ctx, env.Demo.AccountID, 0)
		require.NoError(t, err)
		require.Len(t, logged, 1)

		// Each run re-arms the sweeper's timer: a run has ended once a timer is waiting again.
		sweep := func(d time.Duration) {
			fake.Advance(d)
			require.NoError(t, fake.WaitTimers(ctx, 1))
		}
		sweep(event.Retention - time.Minute) // runs every 10 min (+10%): it ran, too early
		got, err := env.App.Events.Since(ctx, env.Demo.AccountID, logged[0].Seq)
		require.NoError(t, err, "kept while younger than the retention")
		require.Empty(t, got)
		sweep(12 * time.Minute)
		_, err = env.App.Events.Since(ctx, env.Demo.AccountID, logged[0].Seq)
		require.ErrorIs(t, err, event.ErrReset, "swept")
	})
}
