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

// The waiting sweep applies the account's own timeout: with the server's WAITING_TIMEOUT at 0
// (never) the sweeper still runs, and an account that chose an hour sees its wait expire once
// the clock has moved an hour, not before.
func TestWaitingSweepAppliesTheAccountsTimeout(t *testing.T) {
	eachOnFakeClock(t, func(c *app.Config) { c.WaitingTimeout = 0 }, func(t *testing.T, env *apptest.Env, fake *clock.Fake) {
		r := env.Admin.Patch("/api/v1/account", map[string]any{"waiting_timeout_seconds": 3600})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		events := env.App.Events.Subscribe(env.Demo.AccountID)
		defer events.Close()
		d := env.Demo
		phone, ch, team, tpl, now := "+5511987600002", d.ChannelID, d.TeamIDs[0], d.TemplateIDs["boas_vindas"], "now"
		st, err := env.App.Conversations.Start(env.Ctx(), conversation.Actor{}, conversation.StartInput{Contact: &contact.Input{Phone: &phone},
			ChannelID: &ch, TeamID: &team, SendType: &now, TemplateID: &tpl, Parameters: []byte(`{"nome":"Maria","atendente":"Ana"}`)})
		require.NoError(t, err)
		require.Equal(t, conversation.StatusWaiting, st.Conversation.Status)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		expired := func() bool {
			for {
				select {
				case e := <-events.Events():
					if e.Kind == conversation.EventConversationWaitingExpired && e.ID == st.Conversation.ID {
						return true
					}
				default:
					return false
				}
			}
		}
		// Each run re-arms its sweeper's timer: the runs have ended once both timers wait again.
		require.NoError(t, fake.WaitTimers(ctx, 2), "the sweepers (waits, event log) sleep on the clock")
		fake.Advance(50 * time.Minute)
		require.NoError(t, fake.WaitTimers(ctx, 2))
		require.False(t, expired(), "the wait expired before the account's hour")
		fake.Advance(12 * time.Minute)
		for {
			select {
			case e := <-events.Events():
				if e.Kind == conversation.EventConversationWaitingExpired && e.ID == st.Conversation.ID {
					return
				}
			case <-ctx.Done():
				t.Fatal("the wait did not expire after the account's hour")
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
		require.NoError(t, fake.WaitTimers(ctx, 2), "the sweepers (event log, waits) ran once and sleep on the clock")
		env.App.Events.Publish(ctx, env.Demo.AccountID, conversation.EventConversationUpdated, env.Demo.ChannelID)
		logged, err := env.App.Events.Since(ctx, env.Demo.AccountID, 0)
		require.NoError(t, err)
		require.Len(t, logged, 1)

		// Each run re-arms its sweeper's timer: the runs have ended once both timers wait again.
		sweep := func(d time.Duration) {
			fake.Advance(d)
			require.NoError(t, fake.WaitTimers(ctx, 2))
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
