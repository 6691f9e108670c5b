package api_test

// The authorization matrix: every route × {no credentials, bad key, revoked key, ended session,
// agent of another team, agent, admin, other account}. The cells other files already prove are
// named here; this file adds the missing ones.
//
//	no credentials, bad key, unknown session   TestNoCredentialsIsUnauthorized (every route → 401)
//	revoked key, ended sessions                TestEndedCredentialsEveryRoute (every route → 401)
//	agent (API key)                            TestAgentKeyRoles (admin routes → 403, the rest work)
//	agent (session)                            TestSessionAgentRoles (admin routes → 403)
//	agent of another team                      TestAgentOfAnotherTeam (every conversation route and
//	                                           state → 404; lists, filters, idempotent replays)
//	admin                                      TestAgentOfAnotherTeam (admin session sees all) and
//	                                           the resource tests
//	other account                              TestTenantIsolation (every route with an id → 404)
//	CSRF on cookie requests                    TestCSRFEveryUnsafeRoute (every unsafe route → 403)

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/api"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// everyRoute sends every /api/v1 operation but login with c and requires want and code.
func everyRoute(t *testing.T, c *apptest.Client, name string, want int, code string) int {
	t.Helper()
	n := 0
	for _, op := range specOperations(t) {
		if op == "POST /api/v1/auth/login" {
			continue
		}
		method, path, _ := strings.Cut(op, " ")
		var body any
		if method == http.MethodPost || method == http.MethodPatch {
			body = map[string]any{}
		}
		r := c.Do(method, fillPath(path, someID), body)
		require.Equal(t, want, r.Status, "%s with %s: %s", op, name, r.Body)
		require.Equal(t, code, r.Str("code"), "%s with %s", op, name)
		n++
	}
	return n
}

// cookieClient is a client that sends a session cookie and its CSRF token, without a jar.
func cookieClient(env *apptest.Env, r *apptest.Response) *apptest.Client {
	var token string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == api.SessionCookie {
			token = c.Value
		}
	}
	return env.Client("").WithHeader("Cookie", api.SessionCookie+"="+token).WithHeader(api.CSRFHeader, r.Str("csrf_token"))
}

func TestEndedCredentialsEveryRoute(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		clients := map[string]*apptest.Client{}
		// Revoked keys, of both roles.
		for _, role := range []string{"admin", "agent"} {
			r := env.Admin.Post("/api/v1/api-keys", map[string]any{"name": "revogada " + role, "role": role})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			c := env.Client(r.Str("secret"))
			require.Equal(t, http.StatusOK, c.Get("/api/v1/me").Status)
			require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/api-keys/"+r.Str("id")).Status)
			clients["revoked "+role+" key"] = c
		}
		// Sessions that ended: logged out; of a user since deleted; of a user whose password an
		// admin changed. Each sends its (once valid) CSRF token, so only the session decides.
		newUser := func(email string) string {
			r := env.Admin.Post("/api/v1/users", map[string]any{"name": "Temp", "email": email, "password": "temp-password-1", "role": "admin"})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			return r.Str("id")
		}
		loggedIn := func(email string) *apptest.Client {
			r := login(env.Client(""), email, "temp-password-1")
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			c := cookieClient(env, r)
			require.Equal(t, http.StatusOK, c.Get("/api/v1/me").Status)
			return c
		}
		newUser("saiu@example.com")
		out := loggedIn("saiu@example.com")
		require.Equal(t, http.StatusNoContent, out.Post("/api/v1/auth/logout", nil).Status)
		clients["logged-out session"] = out

		deleted := newUser("apagada@example.com")
		gone := loggedIn("apagada@example.com")
		require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/users/"+deleted).Status)
		clients["deleted user's session"] = gone

		changed := newUser("trocou@example.com")
		old := loggedIn("trocou@example.com")
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/users/"+changed, map[string]any{"password": "new-password-22"}).Status)
		clients["session before a password change"] = old

		demoted := newUser("rebaixada@example.com")
		was := loggedIn("rebaixada@example.com")
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/users/"+demoted, map[string]any{"role": "agent"}).Status)

		for name, c := range clients {
			require.Greater(t, everyRoute(t, c, name, http.StatusUnauthorized, "unauthorized"), 40)
		}
		// A demoted admin's open session takes the new role at once: admin routes are refused.
		problem(t, was.Get("/api/v1/api-keys"), http.StatusForbidden, "forbidden")
		problem(t, was.Post("/api/v1/users", map[string]any{"name": "X", "email": "x@example.com", "password": "x-password-1", "role": "admin"}), http.StatusForbidden, "forbidden")
		require.Equal(t, "agent", was.Get("/api/v1/me").Str("role"))
	})
}

func TestSessionAgentRoles(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		agent, _, _ := agentSession(t, env)
		before := snapshot(t, env.Admin, adminLists)
		n := 0
		for _, op := range specOperations(t) {
			if roleOf[op] != "admin" {
				continue
			}
			method, path, _ := strings.Cut(op, " ")
			var body any
			if method == http.MethodPost || method == http.MethodPatch {
				body = map[string]any{}
			}
			r := agent.Do(method, fillPath(path, someID), body)
			problem(t, r, http.StatusForbidden, "forbidden")
			n++
		}
		require.Greater(t, n, 20)
		require.Equal(t, before, snapshot(t, env.Admin, adminLists))
	})
}

// TestAgentOfAnotherTeam: a session agent in Vendas only, against Suporte's conversations in every
// state, on every conversation route. Each is 404 conversation_not_found (existence is not
// revealed), nothing changes, and no message leaves.
func TestAgentOfAnotherTeam(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		vendas, suporte := env.Demo.TeamIDs[0], env.Demo.TeamIDs[1]
		tpl := env.Demo.TemplateIDs["boas_vindas"]
		params := map[string]any{"nome": "Carla", "atendente": "Bruno"}
		onTeam := func(phone, team string) map[string]any {
			b := startBody(env, phone)
			b["team_id"] = team
			return b
		}
		type target struct{ conv, queued, state string }
		var targets []target
		// waiting, with a queued message
		w := start(t, env.Admin, onTeam("11 93434-0001", suporte))
		q := env.Admin.Post("/api/v1/conversations/"+w+"/messages", map[string]any{"text": "na fila"})
		require.Equal(t, "queued", q.Str("status"))
		targets = append(targets, target{w, q.Str("id"), "waiting"})
		// scheduled
		sb := onTeam("11 93434-0002", suporte)
		sb["send_type"], sb["scheduled_at"] = "scheduled", time.Now().Add(2*time.Hour).UTC().Format(time.RFC3339)
		s := start(t, env.Admin, sb)
		targets = append(targets, target{s, env.Admin.Get("/api/v1/conversations/" + s).JSON()["opening_message"].(map[string]any)["id"].(string), "scheduled"})
		// active, window open (the contact replied)
		a := start(t, env.Admin, onTeam("11 93434-0003", suporte))
		r := env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "11 93434-0003", "text": "oi"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "active", env.Admin.Get("/api/v1/conversations/"+a).Str("status"))
		targets = append(targets, target{a, someID, "active"})
		// closed
		c := start(t, env.Admin, onTeam("11 93434-0004", suporte))
		require.Equal(t, http.StatusOK, env.Admin.Post("/api/v1/conversations/"+c+"/close", nil).Status)
		targets = append(targets, target{c, someID, "closed"})
		// receptive: a contact wrote first; the channel's default team owns it
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/channels/"+env.Demo.ChannelID, map[string]any{"default_team_id": suporte}).Status)
		r = env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "11 93434-0005", "text": "olá"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var rec string
		for _, id := range listIDs(t, env.Admin, "/api/v1/conversations?status=active") {
			if id != a {
				rec = id
			}
		}
		require.NotEmpty(t, rec)
		targets = append(targets, target{rec, someID, "receptive"})

		agent, _, _ := agentSession(t, env)
		mine := start(t, agent, onTeam("11 93434-0009", vendas))

		watched := []string{"/api/v1/conversations?limit=200", "/api/v1/contacts?limit=200"}
		for _, tg := range targets {
			watched = append(watched, "/api/v1/conversations/"+tg.conv, "/api/v1/conversations/"+tg.conv+"/messages")
		}
		before := snapshot(t, env.Admin, watched)

		for _, tg := range targets {
			base := "/api/v1/conversations/" + tg.conv
			for _, rq := range []request{
				{"GET", base, nil},
				{"GET", base + "/messages", nil},
				{"GET", base + "/messages?after=0&limit=1", nil},
				{"POST", base + "/messages", map[string]any{"text": "invasão"}},
				{"POST", base + "/messages", map[string]any{"template_id": tpl, "parameters": params}},
				{"DELETE", base + "/messages/" + tg.queued, nil},
				{"POST", base + "/close", nil},
				{"POST", base + "/cancel", nil},
			} {
				r := agent.Do(rq.method, rq.path, rq.body)
				require.Equal(t, http.StatusNotFound, r.Status, "%s %s %s: %s", tg.state, rq.method, rq.path, r.Body)
				require.Equal(t, "conversation_not_found", r.Str("code"), "%s %s %s", tg.state, rq.method, rq.path)
			}
		}
		// Lists and every filter show only the agent's team.
		for _, p := range []string{"/api/v1/conversations", "/api/v1/conversations?team_id=" + suporte,
			"/api/v1/conversations?status=scheduled,waiting,active,closed,failed,cancelled",
			"/api/v1/conversations?channel_id=" + env.Demo.ChannelID, "/api/v1/conversations?status=active&team_id=" + suporte} {
			for _, id := range listIDs(t, agent, p) {
				require.Equal(t, mine, id, "%s shows another team's conversation", p)
			}
		}
		// The contacts of those conversations are the account's (contacts are shared), but their
		// conversations are not reachable through them.
		for _, tg := range targets {
			ct := env.Admin.Get("/api/v1/conversations/" + tg.conv).JSON()["contact"].(map[string]any)["id"].(string)
			require.Empty(t, listIDs(t, agent, "/api/v1/conversations?contact_id="+ct), tg.state)
		}
		// Starting on the other team is refused, with the other team's open conversation's
		// existence not revealed either (the team check comes first).
		r = agent.Post("/api/v1/conversations", onTeam("11 93434-0001", suporte))
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Contains(t, r.FieldCodes(), "team_id:user_not_in_team")
		require.NotContains(t, string(r.Body), w)
		require.Equal(t, before, snapshot(t, env.Admin, watched), "a refused request changed another team's data")

		// Replaying an admin's Idempotency-Key with the same body does not hand the agent the
		// other team's conversation.
		body := onTeam("11 93434-0006", suporte)
		first := env.Admin.WithHeader("Idempotency-Key", "pedido-77").Post("/api/v1/conversations", body)
		require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
		r = agent.WithHeader("Idempotency-Key", "pedido-77").Post("/api/v1/conversations", body)
		require.NotEqual(t, http.StatusCreated, r.Status, string(r.Body))
		require.Empty(t, r.Header.Get("Idempotent-Replayed"))
		require.NotContains(t, string(r.Body), first.Str("id"))

		// The admin cell: an admin session reaches every one of them.
		admin := env.Login(env.Demo.AdminEmail, env.Demo.AdminPassword)
		for _, tg := range targets {
			require.Equal(t, http.StatusOK, admin.Get("/api/v1/conversations/"+tg.conv).Status, tg.state)
		}
		// The positive control: the agent works its own team's conversation.
		require.Equal(t, http.StatusOK, agent.Get("/api/v1/conversations/"+mine).Status)
		require.Equal(t, http.StatusCreated, agent.Post("/api/v1/conversations/"+mine+"/messages", map[string]any{"text": "oi"}).Status)
		require.Equal(t, http.StatusOK, agent.Post("/api/v1/conversations/"+mine+"/close", nil).Status)
	})
}
