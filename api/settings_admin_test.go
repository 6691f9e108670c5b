package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/clock"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/crmhook"
	"github.com/atendimento/atendimento/internal/store"
)

// newUser creates a user through the API and returns its id.
func newUser(t *testing.T, env *apptest.Env, email, role string, teams ...string) string {
	t.Helper()
	body := map[string]any{"name": "Pessoa " + role, "email": email, "password": "first-password-1", "role": role}
	if teams != nil {
		body["team_ids"] = teams
	}
	r := env.Admin.Post("/api/v1/users", body)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	return r.Str("id")
}

// TestLastAdmin: the account's last active admin can be neither deleted, demoted nor
// deactivated, whoever asks; with a second admin each works, and then the other is the last.
func TestLastAdmin(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		ana := userID(t, env, app.DemoAdminEmail)
		refuseAll := func(id string) {
			t.Helper()
			before := env.Admin.Get("/api/v1/users/" + id).JSON()
			problem(t, env.Admin.Patch("/api/v1/users/"+id, map[string]any{"role": "agent"}), http.StatusConflict, "last_admin")
			problem(t, env.Admin.Patch("/api/v1/users/"+id, map[string]any{"active": false}), http.StatusConflict, "last_admin")
			// Nothing of a refused change is saved, not even the fields beside the refused one.
			problem(t, env.Admin.Patch("/api/v1/users/"+id, map[string]any{"name": "Outro nome", "role": "agent"}), http.StatusConflict, "last_admin")
			problem(t, env.Admin.Delete("/api/v1/users/"+id), http.StatusConflict, "last_admin")
			require.Equal(t, before, env.Admin.Get("/api/v1/users/"+id).JSON())
		}
		refuseAll(ana)

		// An inactive admin does not count: a second admin, deactivated, leaves Ana the last.
		bia := newUser(t, env, "bia@example.com", "admin")
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/users/"+bia, map[string]any{"active": false}).Status)
		refuseAll(ana)

		// Reactivated, Bia lets Ana be demoted; then Bia is the last.
		r := env.Admin.Patch("/api/v1/users/"+bia, map[string]any{"active": true})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, true, r.JSON()["active"])
		r = env.Admin.Patch("/api/v1/users/"+ana, map[string]any{"role": "agent"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "agent", r.Str("role"))
		refuseAll(bia)

		// Agents may be changed and removed freely, and an admin among others may go.
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/users/"+ana, map[string]any{"role": "admin"}).Status)
		require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/users/"+bia).Status)
		refuseAll(ana)
		agent := userID(t, env, "agente@demo.atendimento.dev")
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/users/"+agent, map[string]any{"active": false}).Status)
		require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/users/"+agent).Status)
	})
}

// TestDeactivateUser: a deactivated user's sessions end, their login is refused (401
// user_inactive, while a wrong password stays invalid_credentials) and the API keys they created
// are refused; reactivated, they log in again and their keys work again.
func TestDeactivateUser(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		id := newUser(t, env, "carla@example.com", "admin")
		session := env.Login("carla@example.com", "first-password-1")
		require.Equal(t, http.StatusOK, session.Get("/api/v1/me").Status)
		r := session.Post("/api/v1/api-keys", map[string]any{"name": "CRM da Carla", "role": "agent"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		key := env.Client(r.Str("secret"))
		require.Equal(t, http.StatusOK, key.Get("/api/v1/me").Status)

		r = env.Admin.Patch("/api/v1/users/"+id, map[string]any{"active": false})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, false, r.JSON()["active"])
		problem(t, session.Get("/api/v1/me"), http.StatusUnauthorized, "unauthorized")
		problem(t, key.Get("/api/v1/me"), http.StatusUnauthorized, "unauthorized")
		login := env.Client("").Post("/api/v1/auth/login", map[string]any{"email": "carla@example.com", "password": "first-password-1"})
		problem(t, login, http.StatusUnauthorized, "user_inactive")
		require.Empty(t, login.Header.Values("Set-Cookie"))
		problem(t, env.Client("").Post("/api/v1/auth/login", map[string]any{"email": "carla@example.com", "password": "wrong-password-1"}),
			http.StatusUnauthorized, "invalid_credentials")
		found := false
		for _, u := range items(t, env.Admin.Get("/api/v1/users?limit=200")) {
			if u["id"] == id {
				found = true
				require.Equal(t, false, u["active"])
			}
		}
		require.True(t, found)

		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/users/"+id, map[string]any{"active": true}).Status)
		require.Equal(t, http.StatusOK, key.Get("/api/v1/me").Status)
		again := env.Login("carla@example.com", "first-password-1")
		require.Equal(t, http.StatusOK, again.Get("/api/v1/me").Status)
		// The old session stays ended.
		problem(t, session.Get("/api/v1/me"), http.StatusUnauthorized, "unauthorized")

		// An admin resets the password: the sessions end and only the new one logs in.
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/users/"+id, map[string]any{"password": "second-password-2"}).Status)
		problem(t, again.Get("/api/v1/me"), http.StatusUnauthorized, "unauthorized")
		problem(t, env.Client("").Post("/api/v1/auth/login", map[string]any{"email": "carla@example.com", "password": "first-password-1"}),
			http.StatusUnauthorized, "invalid_credentials")
		env.Login("carla@example.com", "second-password-2")

		// Removing the user revokes the keys they created.
		require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/users/"+id).Status)
		problem(t, key.Get("/api/v1/me"), http.StatusUnauthorized, "unauthorized")
	})
}

// TestUserTeams: a user is invited with their teams in one request; a bad team and a bad email
// are reported together and nothing is saved; team_ids replaces the memberships.
func TestUserTeams(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		vendas, suporte := env.Demo.TeamIDs[0], env.Demo.TeamIDs[1]
		before := snapshot(t, env.Admin, []string{"/api/v1/users", "/api/v1/teams"})
		r := env.Admin.Post("/api/v1/users", map[string]any{"name": "Dora", "email": "não é email", "password": "first-password-1", "role": "agent",
			"team_ids": []string{vendas, unknownID}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.ElementsMatch(t, []string{"email:email_invalid", "team_ids:team_not_found"}, r.FieldCodes())
		// A valid user with a bad team: still nothing saved.
		r = env.Admin.Post("/api/v1/users", map[string]any{"name": "Dora", "email": "dora@example.com", "password": "first-password-1", "role": "agent",
			"team_ids": []string{unknownID}})
		require.Equal(t, []string{"team_ids:team_not_found"}, r.FieldCodes())
		require.Equal(t, before, snapshot(t, env.Admin, []string{"/api/v1/users", "/api/v1/teams"}))

		id := newUser(t, env, "dora@example.com", "agent", vendas, suporte, vendas)
		u := env.Admin.Get("/api/v1/users/" + id)
		require.ElementsMatch(t, []any{vendas, suporte}, u.JSON()["team_ids"])
		require.Contains(t, env.Admin.Get("/api/v1/teams/" + vendas).JSON()["member_ids"], id)

		r = env.Admin.Patch("/api/v1/users/"+id, map[string]any{"team_ids": []string{suporte}})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, []any{suporte}, r.JSON()["team_ids"])
		require.NotContains(t, env.Admin.Get("/api/v1/teams/" + vendas).JSON()["member_ids"], id)
		// The team's other members are untouched.
		require.NotEmpty(t, env.Admin.Get("/api/v1/teams/" + vendas).JSON()["member_ids"])

		// A session user sees their teams in /me.
		dora := env.Login("dora@example.com", "first-password-1")
		me := dora.Get("/api/v1/me").JSON()["user"].(map[string]any)
		require.Equal(t, []any{suporte}, me["team_ids"])
		require.Equal(t, true, me["active"])
	})
}

// TestAPIKeyLastUsed: a key's last_used_at is null until used, set by its first use, and then
// written at most once a minute.
func TestAPIKeyLastUsed(t *testing.T) {
	t.Parallel()
	var clk *clock.Fake
	opts := apptest.Options{Configure: func(c *app.Config) {
		c.NoDispatcher = true
		clk = clock.NewFake(time.Now())
		c.Clock = clk
	}}
	apptest.EachWith(t, opts, func(t *testing.T, env *apptest.Env) {
		r := env.Admin.Post("/api/v1/api-keys", map[string]any{"name": "ERP", "role": "agent"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		id := r.Str("id")
		key := env.Client(r.Str("secret"))
		lastUsed := func() any {
			for _, k := range items(t, env.Admin.Get("/api/v1/api-keys?limit=200")) {
				if k["id"] == id {
					return k["last_used_at"]
				}
			}
			t.Fatal("key not listed")
			return nil
		}
		require.Nil(t, lastUsed())

		require.Equal(t, http.StatusOK, key.Get("/api/v1/me").Status)
		first, ok := lastUsed().(string)
		require.True(t, ok)
		at, err := time.Parse(time.RFC3339, first)
		require.NoError(t, err)
		require.WithinDuration(t, time.Now(), at, time.Minute)

		// Within the minute, further uses do not write it again.
		require.Equal(t, http.StatusOK, key.Get("/api/v1/me").Status)
		require.Equal(t, first, lastUsed())

		// Once it is older than a minute, the next use moves it.
		clk.Advance(2 * time.Minute)
		require.Equal(t, http.StatusOK, key.Get("/api/v1/me").Status)
		moved, err := time.Parse(time.RFC3339, lastUsed().(string))
		require.NoError(t, err)
		require.True(t, moved.After(at.Add(time.Minute)), "last_used_at %v not moved from %v", moved, at)
		old := time.Now().Add(-2 * time.Minute).UTC()

		// A refused (revoked) key records no use.
		require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/api-keys/"+id).Status)
		require.NoError(t, env.App.DB.Conn(env.Ctx()).Exec("UPDATE api_keys SET last_used_at = ? WHERE id = ?", old, id).Error)
		require.Equal(t, http.StatusUnauthorized, key.Get("/api/v1/me").Status)
		stale, err := time.Parse(time.RFC3339, lastUsed().(string))
		require.NoError(t, err)
		require.WithinDuration(t, old, stale, time.Second)
	})
}

// flaky answers the first `fail` requests with 500, then 200, and counts them.
type flaky struct {
	mu   sync.Mutex
	fail int
	hits int
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	f.mu.Lock()
	f.hits++
	failing := f.hits <= f.fail
	f.mu.Unlock()
	if failing {
		http.Error(w, "CRM fora do ar", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// TestRedeliverWebhook: a delivery that failed for good is queued again by "Reenviar" and the
// worker makes one more attempt (the log shows both); only a failed delivery may be redelivered.
func TestRedeliverWebhook(t *testing.T) {
	t.Parallel()
	opts := apptest.Options{Configure: func(c *app.Config) {
		c.Webhooks.AllowPrivate, c.Webhooks.MaxAttempts = true, 1
	}}
	apptest.EachWith(t, opts, func(t *testing.T, env *apptest.Env) {
		crm := &flaky{fail: 1}
		srv := httptest.NewServer(crm)
		t.Cleanup(srv.Close)
		r := env.Admin.Post("/api/v1/webhook-subscriptions", map[string]any{"url": srv.URL, "events": []string{"conversation.created"}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		sub := r.Str("id")
		start(t, env.Admin, startBody(env, "11 95555-0101"))

		deliveries := func() []map[string]any {
			return items(t, env.Admin.Get("/api/v1/webhook-subscriptions/"+sub+"/deliveries"))
		}
		require.Eventually(t, func() bool {
			d := deliveries()
			return len(d) == 1 && d[0]["status"] == crmhook.StatusFailed
		}, 10*time.Second, 20*time.Millisecond)
		d := deliveries()[0]
		id := d["id"].(string)
		require.Len(t, d["attempts"], 1)
		require.EqualValues(t, 500, d["attempts"].([]any)[0].(map[string]any)["status_code"])

		// Unknown delivery, another subscription's path, a bad id.
		problem(t, env.Admin.Post("/api/v1/webhook-subscriptions/"+sub+"/deliveries/"+unknownID+"/redeliver", nil), http.StatusNotFound, "webhook_delivery_not_found")
		problem(t, env.Admin.Post("/api/v1/webhook-subscriptions/"+sub+"/deliveries/nope/redeliver", nil), http.StatusNotFound, "webhook_delivery_not_found")
		// Another subscription, to a receiver of its own: its deliveries are not counted below.
		elsewhere := httptest.NewServer(&flaky{})
		t.Cleanup(elsewhere.Close)
		other := env.Admin.Post("/api/v1/webhook-subscriptions", map[string]any{"url": elsewhere.URL, "events": []string{"message.updated"}}).Str("id")
		problem(t, env.Admin.Post("/api/v1/webhook-subscriptions/"+other+"/deliveries/"+id+"/redeliver", nil), http.StatusNotFound, "webhook_delivery_not_found")
		problem(t, env.Admin.Post("/api/v1/webhook-subscriptions/"+unknownID+"/deliveries/"+id+"/redeliver", nil), http.StatusNotFound, "webhook_subscription_not_found")

		r = env.Admin.Post("/api/v1/webhook-subscriptions/"+sub+"/deliveries/"+id+"/redeliver", nil)
		require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
		require.Equal(t, id, r.Str("id"))
		require.Contains(t, []string{crmhook.StatusPending, crmhook.StatusSucceeded}, r.Str("status"))

		require.Eventually(t, func() bool { return deliveries()[0]["status"] == crmhook.StatusSucceeded }, 10*time.Second, 20*time.Millisecond)
		atts := deliveries()[0]["attempts"].([]any)
		require.Len(t, atts, 2)
		require.EqualValues(t, 500, atts[0].(map[string]any)["status_code"])
		require.EqualValues(t, 200, atts[1].(map[string]any)["status_code"])
		require.EqualValues(t, 2, atts[1].(map[string]any)["attempt"])

		// A succeeded (or pending) delivery is not redelivered.
		problem(t, env.Admin.Post("/api/v1/webhook-subscriptions/"+sub+"/deliveries/"+id+"/redeliver", nil), http.StatusConflict, "webhook_delivery_not_failed")
		crm.mu.Lock()
		require.Equal(t, 2, crm.hits)
		crm.mu.Unlock()
	})
}

// TestDeleteTeamWithOpenConversations: a team with open conversations is not deleted (they
// would be out of every agent's sight); once they are closed it is, and their history stays.
func TestDeleteTeamWithOpenConversations(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		r := env.Admin.Post("/api/v1/teams", map[string]any{"name": "Temporária", "channel_ids": []string{env.Demo.ChannelID}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		team := r.Str("id")
		body := startBody(env, "11 95555-0202")
		body["team_id"] = team
		conv := start(t, env.Admin, body)

		r = env.Admin.Delete("/api/v1/teams/" + team)
		problem(t, r, http.StatusConflict, "team_has_open_conversations")
		require.EqualValues(t, 1, r.JSON()["open_conversations"])
		require.Equal(t, http.StatusOK, env.Admin.Get("/api/v1/teams/"+team).Status)

		require.Equal(t, http.StatusOK, env.Admin.Post("/api/v1/conversations/"+conv+"/close", nil).Status)
		require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/teams/"+team).Status)
		c := env.Admin.Get("/api/v1/conversations/" + conv)
		require.Equal(t, http.StatusOK, c.Status)
		require.Nil(t, c.JSON()["team_id"])
	})
}

// TestAccountTimeZone: the account's time zone defaults to Brasília and takes IANA names only.
func TestAccountTimeZone(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		require.Equal(t, "America/Sao_Paulo", env.Admin.Get("/api/v1/account").Str("time_zone"))
		for _, bad := range []string{"", "Local", "Brasil/Recife", "UTC+3"} {
			r := env.Admin.Patch("/api/v1/account", map[string]any{"time_zone": bad, "name": "Loja Nova"})
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, bad)
			require.Equal(t, []string{"time_zone:time_zone_invalid"}, r.FieldCodes(), bad)
		}
		require.Equal(t, "Loja Demo", env.Admin.Get("/api/v1/account").Str("name"), "nothing saved half-way")
		r := env.Admin.Patch("/api/v1/account", map[string]any{"time_zone": "America/Manaus"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "America/Manaus", r.Str("time_zone"))
		require.Equal(t, "America/Manaus", env.Admin.Get("/api/v1/account").Str("time_zone"))
	})
}

// TestAccountWaitingTimeout: an account may choose its own waiting timeout (whole hours from an
// hour to 30 days, or 0 for never) or follow the server's (null); anything else is 422
// waiting_timeout_invalid at the field, and nothing else of the request is saved.
func TestAccountWaitingTimeout(t *testing.T) {
	t.Parallel()
	opts := apptest.Options{Configure: func(c *app.Config) { c.NoDispatcher, c.WaitingTimeout = true, 72*time.Hour }}
	apptest.EachWith(t, opts, func(t *testing.T, env *apptest.Env) {
		timeouts := func(r *apptest.Response) []any {
			j := r.JSON()
			return []any{j["waiting_timeout_seconds"], j["waiting_timeout_is_default"], j["default_waiting_timeout_seconds"]}
		}
		const server = float64(72 * 3600)
		require.Equal(t, []any{server, true, server}, timeouts(env.Admin.Get("/api/v1/account")))

		for _, bad := range []any{-3600, 1800, 3599, 5400, 3600.5, 31 * 86400, 30*86400 + 3600} {
			r := env.Admin.Patch("/api/v1/account", map[string]any{"waiting_timeout_seconds": bad, "name": "Loja Nova"})
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%v: %s", bad, r.Body)
			require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			require.Equal(t, []string{"waiting_timeout_seconds:waiting_timeout_invalid"}, r.FieldCodes(), bad)
		}
		a := env.Admin.Get("/api/v1/account")
		require.Equal(t, "Loja Demo", a.Str("name"), "nothing saved half-way")
		require.Equal(t, []any{server, true, server}, timeouts(a))

		for _, c := range []struct {
			set  any
			want []any
		}{
			{3600, []any{float64(3600), false, server}},
			{30 * 86400, []any{float64(30 * 86400), false, server}},
			{0, []any{float64(0), false, server}}, // never: not the same as the default
			{nil, []any{server, true, server}},
			{2 * 86400, []any{float64(2 * 86400), false, server}},
		} {
			r := env.Admin.Patch("/api/v1/account", map[string]any{"waiting_timeout_seconds": c.set})
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			require.Equal(t, c.want, timeouts(r), "%v", c.set)
			require.Equal(t, c.want, timeouts(env.Admin.Get("/api/v1/account")), "%v", c.set)
		}
		// Another setting leaves the timeout alone.
		r := env.Admin.Patch("/api/v1/account", map[string]any{"auto_close_waiting": true})
		require.Equal(t, []any{float64(2 * 86400), false, server}, timeouts(r))

		// Agents read it and cannot change it.
		newUser(t, env, "wt-agent@example.com", "agent")
		agent := env.Login("wt-agent@example.com", "first-password-1")
		require.Equal(t, http.StatusOK, agent.Get("/api/v1/account").Status)
		problem(t, agent.Patch("/api/v1/account", map[string]any{"waiting_timeout_seconds": 3600}), http.StatusForbidden, "forbidden")
	})
}

// TestDeleteTeamRacingAStart: a start that names the team, still in its transaction when the
// team's deletion begins, is seen by the deletion's check (409, the conversation keeps its team)
// instead of losing its team to the delete after the check said none was open.
func TestDeleteTeamRacingAStart(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		r := env.Admin.Post("/api/v1/teams", map[string]any{"name": "Corrida", "channel_ids": []string{env.Demo.ChannelID}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		team := r.Str("id")

		inserted, release := make(chan string), make(chan struct{})
		txDone := make(chan error, 1)
		go func() {
			txDone <- env.App.DB.InTx(env.Ctx(), func(ctx context.Context) error {
				phone, ch, tpl, now := "+5511955550303", env.Demo.ChannelID, env.Demo.TemplateIDs["boas_vindas"], "now"
				st, err := env.App.Conversations.Start(ctx, conversation.Actor{}, conversation.StartInput{Contact: &contact.Input{Phone: &phone},
					ChannelID: &ch, TeamID: &team, SendType: &now, TemplateID: &tpl, Parameters: []byte(`{"nome":"Maria","atendente":"Ana"}`)})
				if err != nil {
					close(inserted)
					return err
				}
				inserted <- st.Conversation.ID
				<-release
				return nil
			})
		}()
		conv, ok := <-inserted
		if !ok {
			t.Fatalf("the start failed: %v", <-txDone)
		}

		deleted := make(chan *apptest.Response, 1)
		go func() { deleted <- env.Admin.Delete("/api/v1/teams/" + team) }()
		// The deletion must be waiting for the start's transaction before it commits.
		if env.App.DB.Dialect() == store.Postgres {
			require.Eventually(t, func() bool {
				var n int64
				require.NoError(t, env.App.DB.Conn(context.Background()).Raw(`SELECT count(*) FROM pg_stat_activity
					WHERE wait_event_type = 'Lock' AND query LIKE '%FROM "teams"%FOR UPDATE%'`).Scan(&n).Error)
				return n > 0
			}, 10*time.Second, 10*time.Millisecond, "the deletion does not wait on the team's row")
		} else {
			// SQLite's wait for its write lock is inside the driver, out of sight: give the
			// deletion time to reach it (the outcome must be the same if it has not).
			time.Sleep(300 * time.Millisecond)
		}
		close(release)
		require.NoError(t, <-txDone)

		r = <-deleted
		problem(t, r, http.StatusConflict, "team_has_open_conversations")
		require.EqualValues(t, 1, r.JSON()["open_conversations"])
		c := env.Admin.Get("/api/v1/conversations/" + conv)
		require.Equal(t, team, c.Str("team_id"), "the open conversation lost its team")
		require.Equal(t, http.StatusOK, env.Admin.Get("/api/v1/teams/"+team).Status)
	})
}

// TestStartRacingATeamDelete: a start whose team is deleted between its checks and its insert
// (the deletion committed first) answers 422 team_not_found, not a 500. Postgres only: there the
// start's insert waits on the deleting transaction's lock and then meets the foreign key; on
// SQLite the single write lock keeps the two apart.
func TestStartRacingATeamDelete(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		if env.App.DB.Dialect() != store.Postgres {
			t.Skip("needs Postgres row locks")
		}
		r := env.Admin.Post("/api/v1/teams", map[string]any{"name": "Some", "channel_ids": []string{env.Demo.ChannelID}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		team := r.Str("id")

		locked, release := make(chan struct{}), make(chan struct{})
		txDone := make(chan error, 1)
		go func() {
			txDone <- env.App.DB.InTx(env.Ctx(), func(ctx context.Context) error {
				err := env.App.Teams.Delete(ctx, team, nil, nil)
				close(locked)
				<-release
				return err
			})
		}()
		<-locked
		started := make(chan *apptest.Response, 1)
		go func() {
			body := startBody(env, "11 95555-0404")
			body["team_id"] = team
			started <- env.Admin.Post("/api/v1/conversations", body)
		}()
		require.Eventually(t, func() bool {
			var n int64
			require.NoError(t, env.App.DB.Conn(context.Background()).Raw(`SELECT count(*) FROM pg_stat_activity
				WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO "conversations"%'`).Scan(&n).Error)
			return n > 0
		}, 10*time.Second, 10*time.Millisecond, "the start does not wait on the deleted team")
		close(release)
		require.NoError(t, <-txDone)
		r = <-started
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"team_id:team_not_found"}, r.FieldCodes())
	})
}
