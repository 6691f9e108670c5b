package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/api"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/account"
)

// someID is a well-formed id that names nothing.
const someID = "0190a000-0000-7000-8000-000000000000"

// specOperations lists openapi.yaml's operations under /api/v1 as "METHOD /path/{param}".
func specOperations(t *testing.T) []string {
	spec, _ := apptest.Spec(t)
	var ops []string
	for path, item := range spec.Paths.Map() {
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		for method := range item.Operations() {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// fillPath replaces every {param} of a spec path with id.
func fillPath(path, id string) string {
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			return path
		}
		j := strings.IndexByte(path[i:], '}')
		path = path[:i] + id + path[i+j+1:]
	}
}

func TestNoCredentialsIsUnauthorized(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		clients := map[string]*apptest.Client{
			"no credentials":      env.Client(""),
			"unknown api key":     env.Client("atd_this-key-does-not-exist-anywhere"),
			"demo key altered":    env.Client(env.Demo.APIKey + "x"),
			"not a bearer scheme": env.Client("").WithHeader("Authorization", "Basic "+env.Demo.APIKey),
			"empty bearer":        env.Client("").WithHeader("Authorization", "Bearer "),
			"unknown session":     env.Client("").WithHeader("Cookie", api.SessionCookie+"=not-a-session"),
		}
		ops := specOperations(t)
		require.Greater(t, len(ops), 30)
		for _, op := range ops {
			method, path, _ := strings.Cut(op, " ")
			if op == "POST /api/v1/auth/login" {
				continue // the one public route
			}
			var body any
			if method == http.MethodPost || method == http.MethodPatch {
				body = map[string]any{}
			}
			for name, c := range clients {
				r := c.Do(method, fillPath(path, someID), body)
				require.Equal(t, http.StatusUnauthorized, r.Status, "%s with %s: %s", op, name, r.Body)
				require.Equal(t, "unauthorized", r.Str("code"), "%s with %s", op, name)
				require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), op)
			}
		}
		// A path that matches no route under /api/v1 asks for credentials too, rather than
		// telling an anonymous caller which routes exist.
		resp, err := http.Get(env.Server.URL + "/api/v1/no-such-route")
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
}

func TestRevokedKeyIsUnauthorized(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		r := env.Admin.Post("/api/v1/api-keys", map[string]any{"name": "CRM", "role": "admin"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		id, secret := r.Str("id"), r.Str("secret")
		require.NotEmpty(t, secret)
		crm := env.Client(secret)

		me := crm.Get("/api/v1/me")
		require.Equal(t, http.StatusOK, me.Status)
		require.Equal(t, env.Demo.AccountID, me.Str("account_id"))
		require.Equal(t, id, me.Str("api_key_id"))

		// The secret is shown once: the list never carries it.
		list := env.Admin.Get("/api/v1/api-keys")
		require.Equal(t, http.StatusOK, list.Status)
		require.NotContains(t, string(list.Body), secret)

		require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/api-keys/"+id).Status)
		for _, path := range []string{"/api/v1/me", "/api/v1/contacts", "/api/v1/conversations"} {
			r := crm.Get(path)
			require.Equal(t, http.StatusUnauthorized, r.Status, path)
			require.Equal(t, "unauthorized", r.Str("code"), path)
		}
		r = crm.Post("/api/v1/contacts", map[string]any{"name": "Depois", "phone": "11 91234-5678"})
		require.Equal(t, http.StatusUnauthorized, r.Status)

		// Revoking twice is 404, and the other keys still work.
		again := env.Admin.Delete("/api/v1/api-keys/" + id)
		require.Equal(t, http.StatusNotFound, again.Status)
		require.Equal(t, "api_key_not_found", again.Str("code"))
		require.Equal(t, http.StatusOK, env.Admin.Get("/api/v1/me").Status)
	})
}

// roleOf classifies every /api/v1 operation: "admin" ones refuse agents (403 forbidden), "agent"
// ones are open to every authenticated caller. A new operation must be added here.
var roleOf = map[string]string{
	"POST /api/v1/auth/logout": "agent",
	"GET /api/v1/me":           "agent",
	"GET /api/v1/account":      "agent",
	"PATCH /api/v1/account":    "admin",

	"GET /api/v1/users":            "agent",
	"POST /api/v1/users":           "admin",
	"GET /api/v1/users/{id}":       "agent",
	"PATCH /api/v1/users/{id}":     "admin",
	"DELETE /api/v1/users/{id}":    "admin",
	"GET /api/v1/api-keys":         "admin",
	"POST /api/v1/api-keys":        "admin",
	"DELETE /api/v1/api-keys/{id}": "admin",

	"GET /api/v1/contacts":                      "agent",
	"POST /api/v1/contacts":                     "agent",
	"GET /api/v1/contacts/lookup":               "agent",
	"GET /api/v1/contacts/{id}":                 "agent",
	"PATCH /api/v1/contacts/{id}":               "agent",
	"DELETE /api/v1/contacts/{id}":              "agent",
	"GET /api/v1/contacts/{id}/consent":         "agent",
	"POST /api/v1/contacts/{id}/consent":        "agent",
	"GET /api/v1/channels":                      "agent",
	"POST /api/v1/channels":                     "admin",
	"GET /api/v1/channels/{id}":                 "agent",
	"PATCH /api/v1/channels/{id}":               "admin",
	"DELETE /api/v1/channels/{id}":              "admin",
	"POST /api/v1/channels/{id}/templates/sync": "admin",
	"POST /api/v1/channels/{id}/test":           "admin",
	"GET /api/v1/teams":                         "agent",
	"POST /api/v1/teams":                        "admin",
	"GET /api/v1/teams/{id}":                    "agent",
	"PATCH /api/v1/teams/{id}":                  "admin",
	"DELETE /api/v1/teams/{id}":                 "admin",
	"GET /api/v1/templates":                     "agent",
	"POST /api/v1/templates":                    "admin",
	"GET /api/v1/templates/{id}":                "agent",
	"PATCH /api/v1/templates/{id}":              "admin",
	"DELETE /api/v1/templates/{id}":             "admin",
	"POST /api/v1/templates/{id}/preview":       "agent",
	"GET /api/v1/pricing/estimate":              "agent",

	"GET /api/v1/contacts/{id}/start-state":                   "agent",
	"POST /api/v1/conversations":                              "agent",
	"GET /api/v1/conversations":                               "agent",
	"GET /api/v1/conversations/{id}":                          "agent",
	"POST /api/v1/conversations/{id}/close":                   "agent",
	"POST /api/v1/conversations/{id}/cancel":                  "agent",
	"GET /api/v1/conversations/{id}/messages":                 "agent",
	"POST /api/v1/conversations/{id}/messages":                "agent",
	"DELETE /api/v1/conversations/{id}/messages/{message_id}": "agent",
	"GET /api/v1/conversations/counts":                        "agent",
	"POST /api/v1/conversations/{id}/assign":                  "agent",
	"POST /api/v1/conversations/{id}/transfer":                "agent",
	"POST /api/v1/conversations/{id}/notes":                   "agent",
	"POST /api/v1/conversations/{id}/read":                    "agent",
	"POST /api/v1/conversations/{id}/reopen":                  "agent",
	"GET /api/v1/contacts/{id}/notes":                         "agent",
	// Open to agents: each writes personal replies; the account's are checked in the domain (403).
	"GET /api/v1/quick-replies":              "agent",
	"POST /api/v1/quick-replies":             "agent",
	"PATCH /api/v1/quick-replies/{id}":       "agent",
	"DELETE /api/v1/quick-replies/{id}":      "agent",
	"POST /api/v1/quick-replies/{id}/render": "agent",

	"POST /api/v1/sandbox/channels/{id}/inbound": "agent",
	"POST /api/v1/media":                         "agent",
	"GET /api/v1/media/{id}":                     "agent",

	"GET /api/v1/events":                                                         "agent",
	"GET /api/v1/webhook-subscriptions":                                          "admin",
	"POST /api/v1/webhook-subscriptions":                                         "admin",
	"DELETE /api/v1/webhook-subscriptions/{id}":                                  "admin",
	"GET /api/v1/webhook-subscriptions/{id}/deliveries":                          "admin",
	"POST /api/v1/webhook-subscriptions/{id}/deliveries/{delivery_id}/redeliver": "admin",
}

// call is one request of a role test; op names the spec operation it exercises.
type call struct {
	op   string
	path string
	body any
}

// request is one request: a method, a path and a body (nil for none).
type request struct {
	method, path string
	body         any
}

func TestAgentKeyRoles(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		for _, op := range specOperations(t) {
			if op == "POST /api/v1/auth/login" {
				continue
			}
			_, ok := roleOf[op]
			require.True(t, ok, "%s is not in roleOf: classify it as admin-only or open to agents, and exercise it below", op)
		}

		r := env.Admin.Post("/api/v1/api-keys", map[string]any{"name": "agent integration", "role": "agent"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		agentKey := r.Str("secret")
		agent := env.Client(agentKey)
		agentKeyID := r.Str("id")

		users := listIDs(t, env.Admin, "/api/v1/users")
		keys := listIDs(t, env.Admin, "/api/v1/api-keys")
		ch, team, tpl := env.Demo.ChannelID, env.Demo.TeamIDs[1], env.Demo.TemplateIDs["boas_vindas"]
		agentUser := userID(t, env, "agente@demo.atendimento.dev")
		hook := env.Admin.Post("/api/v1/webhook-subscriptions", map[string]any{"url": "https://203.0.113.10/hook", "events": []string{"conversation.created"}}).Str("id")
		// A first use records the key's last_used_at, which then holds for a minute: the snapshot
		// below compares data, not the key's use.
		require.Equal(t, http.StatusOK, agent.Get("/api/v1/me").Status)
		before := snapshot(t, env.Admin, adminLists)

		// Every admin-only operation, with real ids and valid bodies: without the role check each
		// would succeed.
		forbidden := []call{
			{"POST /api/v1/users", "/api/v1/users", map[string]any{"name": "Intrusa", "email": "intrusa@example.com", "password": "a-long-password", "role": "admin"}},
			{"PATCH /api/v1/users/{id}", "/api/v1/users/" + agentUser, map[string]any{"role": "admin"}},
			{"DELETE /api/v1/users/{id}", "/api/v1/users/" + agentUser, nil},
			{"GET /api/v1/api-keys", "/api/v1/api-keys", nil},
			{"POST /api/v1/api-keys", "/api/v1/api-keys", map[string]any{"name": "escalate", "role": "admin"}},
			{"DELETE /api/v1/api-keys/{id}", "/api/v1/api-keys/" + agentKeyID, nil},
			{"POST /api/v1/channels", "/api/v1/channels", map[string]any{"name": "Outro", "provider": "sandbox", "phone_number": "+55 11 4000-9999"}},
			{"PATCH /api/v1/channels/{id}", "/api/v1/channels/" + ch, map[string]any{"active": false}},
			{"DELETE /api/v1/channels/{id}", "/api/v1/channels/" + ch, nil},
			{"POST /api/v1/channels/{id}/templates/sync", "/api/v1/channels/" + ch + "/templates/sync", nil},
			{"POST /api/v1/channels/{id}/test", "/api/v1/channels/" + ch + "/test", nil},
			{"PATCH /api/v1/account", "/api/v1/account", map[string]any{"auto_close_waiting": true}},
			{"POST /api/v1/teams", "/api/v1/teams", map[string]any{"name": "Financeiro"}},
			{"PATCH /api/v1/teams/{id}", "/api/v1/teams/" + team, map[string]any{"member_ids": []string{}}},
			{"DELETE /api/v1/teams/{id}", "/api/v1/teams/" + team, nil},
			{"POST /api/v1/templates", "/api/v1/templates", map[string]any{"channel_id": ch, "name": "novo", "language": "pt_BR", "category": "UTILITY",
				"status": "APPROVED", "parameter_format": "POSITIONAL", "components": []map[string]any{{"type": "BODY", "text": "Oi {{1}}"}}}},
			{"PATCH /api/v1/templates/{id}", "/api/v1/templates/" + tpl, map[string]any{"status": "PAUSED"}},
			{"DELETE /api/v1/templates/{id}", "/api/v1/templates/" + tpl, nil},
			{"GET /api/v1/webhook-subscriptions", "/api/v1/webhook-subscriptions", nil},
			{"POST /api/v1/webhook-subscriptions", "/api/v1/webhook-subscriptions", map[string]any{"url": "https://203.0.113.11/hook", "events": []string{"message.created"}}},
			{"DELETE /api/v1/webhook-subscriptions/{id}", "/api/v1/webhook-subscriptions/" + hook, nil},
			{"GET /api/v1/webhook-subscriptions/{id}/deliveries", "/api/v1/webhook-subscriptions/" + hook + "/deliveries", nil},
			{"POST /api/v1/webhook-subscriptions/{id}/deliveries/{delivery_id}/redeliver", "/api/v1/webhook-subscriptions/" + hook + "/deliveries/" + unknownID + "/redeliver", nil},
		}
		covered := map[string]bool{}
		for _, c := range forbidden {
			method, _, _ := strings.Cut(c.op, " ")
			r := agent.Do(method, c.path, c.body)
			require.Equal(t, http.StatusForbidden, r.Status, "%s: %s", c.op, r.Body)
			require.Equal(t, "forbidden", r.Str("code"), c.op)
			covered[c.op] = true
		}
		require.Equal(t, before, snapshot(t, env.Admin, adminLists), "a refused request changed data")
		require.Len(t, users, len(listIDs(t, env.Admin, "/api/v1/users")))
		require.Len(t, keys, len(listIDs(t, env.Admin, "/api/v1/api-keys")))

		// Every agent operation succeeds with the agent key, in a working order.
		do := func(op, path string, body any, want int) *apptest.Response {
			t.Helper()
			method, _, _ := strings.Cut(op, " ")
			r := agent.Do(method, path, body)
			require.Equal(t, want, r.Status, "%s %s: %s", op, path, r.Body)
			covered[op] = true
			return r
		}
		me := do("GET /api/v1/me", "/api/v1/me", nil, 200)
		require.Equal(t, "agent", me.Str("role"))
		require.Equal(t, false, do("GET /api/v1/account", "/api/v1/account", nil, 200).JSON()["auto_close_waiting"], "a refused PATCH changed the account")
		do("GET /api/v1/users", "/api/v1/users", nil, 200)
		do("GET /api/v1/users/{id}", "/api/v1/users/"+agentUser, nil, 200)
		do("GET /api/v1/contacts", "/api/v1/contacts?q=joao", nil, 200)
		cid := do("POST /api/v1/contacts", "/api/v1/contacts", map[string]any{"name": "Carla", "phone": "11 91111-0001"}, 201).Str("id")
		do("GET /api/v1/contacts/{id}", "/api/v1/contacts/"+cid, nil, 200)
		do("PATCH /api/v1/contacts/{id}", "/api/v1/contacts/"+cid, map[string]any{"email": "carla@example.com"}, 200)
		do("GET /api/v1/contacts/lookup", "/api/v1/contacts/lookup?phone=(11)%2091111-0001", nil, 200)
		do("GET /api/v1/contacts/{id}/consent", "/api/v1/contacts/"+cid+"/consent", nil, 200)
		do("GET /api/v1/contacts/{id}/start-state", "/api/v1/contacts/"+cid+"/start-state?channel_id="+ch, nil, 200)
		do("POST /api/v1/contacts/{id}/consent", "/api/v1/contacts/"+cid+"/consent", map[string]any{"opted_out": false, "detail": "pediu por telefone"}, 201)
		do("GET /api/v1/channels", "/api/v1/channels", nil, 200)
		do("GET /api/v1/channels/{id}", "/api/v1/channels/"+ch, nil, 200)
		do("GET /api/v1/teams", "/api/v1/teams", nil, 200)
		do("GET /api/v1/teams/{id}", "/api/v1/teams/"+team, nil, 200)
		do("GET /api/v1/templates", "/api/v1/templates?status=APPROVED", nil, 200)
		do("GET /api/v1/templates/{id}", "/api/v1/templates/"+tpl, nil, 200)
		do("POST /api/v1/templates/{id}/preview", "/api/v1/templates/"+tpl+"/preview", map[string]any{"parameters": map[string]any{"nome": "Carla", "atendente": "Bruno"}}, 200)
		do("GET /api/v1/pricing/estimate", "/api/v1/pricing/estimate?template_id="+tpl+"&contact_id="+cid, nil, 200)
		start := map[string]any{"contact_id": cid, "channel_id": ch, "team_id": team, "send_type": "now", "template_id": tpl,
			"parameters": map[string]any{"nome": "Carla", "atendente": "Bruno"}}
		conv := do("POST /api/v1/conversations", "/api/v1/conversations", start, 201).Str("id")
		do("GET /api/v1/conversations", "/api/v1/conversations", nil, 200)
		do("GET /api/v1/conversations/{id}", "/api/v1/conversations/"+conv, nil, 200)
		msg := do("POST /api/v1/conversations/{id}/messages", "/api/v1/conversations/"+conv+"/messages", map[string]any{"text": "Oi"}, 201).Str("id")
		do("GET /api/v1/conversations/{id}/messages", "/api/v1/conversations/"+conv+"/messages", nil, 200)
		do("DELETE /api/v1/conversations/{id}/messages/{message_id}", "/api/v1/conversations/"+conv+"/messages/"+msg, nil, 204)
		do("POST /api/v1/sandbox/channels/{id}/inbound", "/api/v1/sandbox/channels/"+ch+"/inbound", map[string]any{"from": "11 91111-0001", "text": "Pode falar"}, 200)
		do("POST /api/v1/conversations/{id}/close", "/api/v1/conversations/"+conv+"/close", nil, 200)
		do("POST /api/v1/conversations/{id}/reopen", "/api/v1/conversations/"+conv+"/reopen", nil, 200)
		do("GET /api/v1/conversations/counts", "/api/v1/conversations/counts", nil, 200)
		do("POST /api/v1/conversations/{id}/assign", "/api/v1/conversations/"+conv+"/assign", map[string]any{"user_id": nil}, 200)
		do("POST /api/v1/conversations/{id}/assign", "/api/v1/conversations/"+conv+"/assign", map[string]any{"user_id": nil, "force": true}, 403)
		do("POST /api/v1/conversations/{id}/transfer", "/api/v1/conversations/"+conv+"/transfer", map[string]any{"team_id": team}, 200)
		do("POST /api/v1/conversations/{id}/notes", "/api/v1/conversations/"+conv+"/notes", map[string]any{"text": "Nota"}, 201)
		do("POST /api/v1/conversations/{id}/read", "/api/v1/conversations/"+conv+"/read", nil, 200)
		do("GET /api/v1/contacts/{id}/notes", "/api/v1/contacts/"+cid+"/notes", nil, 200)
		reply := env.Admin.Post("/api/v1/quick-replies", map[string]any{"shortcut": "oi", "text": "Oi {{nome}}", "scope": "account"})
		require.Equal(t, http.StatusCreated, reply.Status, string(reply.Body))
		qr := "/api/v1/quick-replies/" + reply.Str("id")
		do("GET /api/v1/quick-replies", "/api/v1/quick-replies", nil, 200)
		do("POST /api/v1/quick-replies/{id}/render", qr+"/render", map[string]any{"conversation_id": conv}, 200)
		// An agent key writes no account reply, and has no personal ones.
		do("POST /api/v1/quick-replies", "/api/v1/quick-replies", map[string]any{"shortcut": "x", "text": "x", "scope": "account"}, 403)
		do("PATCH /api/v1/quick-replies/{id}", qr, map[string]any{"text": "x"}, 403)
		do("DELETE /api/v1/quick-replies/{id}", qr, nil, 403)
		scheduled := startBody(env, "11 91111-0002")
		scheduled["send_type"], scheduled["scheduled_at"] = "scheduled", time.Now().Add(2*time.Hour).UTC().Format(time.RFC3339)
		conv2 := do("POST /api/v1/conversations", "/api/v1/conversations", scheduled, 201).Str("id")
		do("POST /api/v1/conversations/{id}/cancel", "/api/v1/conversations/"+conv2+"/cancel", nil, 200)
		spare := do("POST /api/v1/contacts", "/api/v1/contacts", map[string]any{"name": "Avulso", "phone": "11 91111-0003"}, 201).Str("id")
		do("DELETE /api/v1/contacts/{id}", "/api/v1/contacts/"+spare, nil, 204)
		require.Equal(t, http.StatusOK, streamStatus(t, env, agentKey))
		covered["GET /api/v1/events"] = true
		// An agent key uploads a file and reads it back (multipart, so not through do).
		up := upload(t, agent, "nota.pdf", "", pdfBytes)
		require.Equal(t, http.StatusCreated, up.Status, string(up.Body))
		require.Equal(t, http.StatusOK, agent.Get("/api/v1/media/"+up.Str("id")).Status)
		covered["POST /api/v1/media"], covered["GET /api/v1/media/{id}"] = true, true
		do("POST /api/v1/auth/logout", "/api/v1/auth/logout", nil, 204)

		for op := range roleOf {
			require.True(t, covered[op], "%s was not exercised", op)
		}
	})
}

// sessionCookie returns the session cookie a login response set.
func sessionCookie(t *testing.T, r *apptest.Response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == api.SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", api.SessionCookie, r.Header.Values("Set-Cookie"))
	return nil
}

func TestSessionLogin(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		anon := env.Client("")
		for _, creds := range []map[string]string{
			{"email": env.Demo.AdminEmail, "password": env.Demo.AdminPassword + "x"},
			{"email": "nobody@example.com", "password": env.Demo.AdminPassword},
		} {
			r := anon.Post("/api/v1/auth/login", creds)
			require.Equal(t, http.StatusUnauthorized, r.Status, string(r.Body))
			require.Equal(t, "invalid_credentials", r.Str("code"))
			require.Empty(t, r.Header.Values("Set-Cookie"))
		}

		r := anon.Post("/api/v1/auth/login", map[string]string{"email": strings.ToUpper(env.Demo.AdminEmail), "password": env.Demo.AdminPassword})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		ck := sessionCookie(t, r)
		require.True(t, ck.HttpOnly, "the session cookie must be HttpOnly")
		require.Equal(t, http.SameSiteLaxMode, ck.SameSite)
		require.Equal(t, "/", ck.Path)
		require.NotEmpty(t, ck.Value)
		csrf := r.Str("csrf_token")
		require.NotEmpty(t, csrf)
		require.Equal(t, api.CSRFHeader, r.Str("csrf_header"))
		require.NotContains(t, string(r.Body), ck.Value, "the session token is only in the cookie")

		cookie := env.Client("").WithHeader("Cookie", api.SessionCookie+"="+ck.Value)
		me := cookie.Get("/api/v1/me")
		require.Equal(t, http.StatusOK, me.Status, string(me.Body))
		var got struct {
			User      struct{ Email, Role string }
			AccountID string  `json:"account_id"`
			APIKeyID  *string `json:"api_key_id"`
			CSRFToken string  `json:"csrf_token"`
		}
		me.Decode(t, &got)
		require.Equal(t, env.Demo.AdminEmail, got.User.Email)
		require.Equal(t, "admin", got.User.Role)
		require.Equal(t, env.Demo.AccountID, got.AccountID)
		require.Nil(t, got.APIKeyID)
		require.Equal(t, csrf, got.CSRFToken)

		// State-changing cookie requests need the session's CSRF token.
		newContact := map[string]any{"name": "Pela Sessão", "phone": "11 92222-0001"}
		for name, c := range map[string]*apptest.Client{
			"without the header": cookie,
			"with a wrong token": cookie.WithHeader(api.CSRFHeader, csrf+"x"),
			"with another name":  cookie.WithHeader("X-XSRF-Token", csrf),
		} {
			for _, req := range []request{
				{"POST", "/api/v1/contacts", newContact},
				{"PATCH", "/api/v1/contacts/" + env.Demo.ContactID, map[string]any{"name": "Trocado"}},
				{"DELETE", "/api/v1/contacts/" + env.Demo.ContactID, nil},
				{"POST", "/api/v1/auth/logout", nil},
			} {
				r := c.Do(req.method, req.path, req.body)
				require.Equal(t, http.StatusForbidden, r.Status, "%s %s %s: %s", req.method, req.path, name, r.Body)
				require.Equal(t, "csrf_failed", r.Str("code"))
			}
		}
		require.Equal(t, http.StatusNotFound, env.Admin.Get("/api/v1/contacts/lookup?phone=11922220001").Status, "a refused request created a contact")
		require.Equal(t, "João da Silva", env.Admin.Get("/api/v1/contacts/"+env.Demo.ContactID).Str("name"))

		withToken := cookie.WithHeader(api.CSRFHeader, csrf)
		created := withToken.Post("/api/v1/contacts", newContact)
		require.Equal(t, http.StatusCreated, created.Status, string(created.Body))
		require.Equal(t, http.StatusOK, withToken.Patch("/api/v1/contacts/"+created.Str("id"), map[string]any{"name": "Renomeado"}).Status)

		// A second login is a new session with its own token and cookie.
		r2 := anon.Post("/api/v1/auth/login", map[string]string{"email": env.Demo.AdminEmail, "password": env.Demo.AdminPassword})
		require.Equal(t, http.StatusOK, r2.Status)
		require.NotEqual(t, ck.Value, sessionCookie(t, r2).Value)
		require.NotEqual(t, csrf, r2.Str("csrf_token"))

		// Logout ends the session on the server and clears the cookie.
		out := withToken.Post("/api/v1/auth/logout", nil)
		require.Equal(t, http.StatusNoContent, out.Status, string(out.Body))
		cleared := sessionCookie(t, out)
		require.True(t, cleared.MaxAge < 0 || cleared.Value == "", "logout must clear the cookie: %v", cleared)
		for _, c := range []*apptest.Client{cookie, withToken} {
			r := c.Get("/api/v1/me")
			require.Equal(t, http.StatusUnauthorized, r.Status)
			require.Equal(t, "unauthorized", r.Str("code"))
		}
		require.Equal(t, http.StatusUnauthorized, withToken.Post("/api/v1/contacts", map[string]any{"name": "Depois", "phone": "11 92222-0002"}).Status)
		// The other session lives on.
		other := env.Client("").WithHeader("Cookie", api.SessionCookie+"="+sessionCookie(t, r2).Value)
		require.Equal(t, http.StatusOK, other.Get("/api/v1/me").Status)
	})
}

// userID finds a user of the demo account by email.
func userID(t *testing.T, env *apptest.Env, email string) string {
	t.Helper()
	var list struct{ Items []struct{ ID, Email string } }
	r := env.Admin.Get("/api/v1/users?limit=200")
	require.Equal(t, http.StatusOK, r.Status)
	r.Decode(t, &list)
	for _, u := range list.Items {
		if u.Email == email {
			return u.ID
		}
	}
	t.Fatalf("no user %s", email)
	return ""
}

// agentSession gives the demo agent (team Vendas only) a password and logs it in.
func agentSession(t *testing.T, env *apptest.Env) (client *apptest.Client, id, password string) {
	t.Helper()
	id = userID(t, env, "agente@demo.atendimento.dev")
	password = "agent-password-123"
	_, err := env.App.Accounts.UpdateUser(env.Ctx(), id, account.UserInput{Password: &password})
	require.NoError(t, err)
	return env.Login("agente@demo.atendimento.dev", password), id, password
}

func TestSessionAgentSeesOnlyItsTeams(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		vendas, suporte := env.Demo.TeamIDs[0], env.Demo.TeamIDs[1]
		onTeam := func(phone, team string) map[string]any {
			b := startBody(env, phone)
			b["team_id"] = team
			return b
		}
		r := env.Admin.Post("/api/v1/conversations", onTeam("11 93333-0001", suporte))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		sup, supMsg := r.Str("id"), r.JSON()["opening_message"].(map[string]any)["id"].(string)
		r = env.Admin.Post("/api/v1/conversations", onTeam("11 93333-0002", vendas))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		ven := r.Str("id")
		supBefore := env.Admin.Get("/api/v1/conversations/" + sup).Body

		agent, agentID, _ := agentSession(t, env)
		me := agent.Get("/api/v1/me")
		require.Equal(t, "agent", me.Str("role"))

		listed := listIDs(t, agent, "/api/v1/conversations")
		require.Contains(t, listed, ven)
		require.NotContains(t, listed, sup)
		require.Empty(t, listIDs(t, agent, "/api/v1/conversations?team_id="+suporte))
		require.Empty(t, listIDs(t, agent, "/api/v1/conversations?status=waiting&channel_id="+env.Demo.ChannelID+"&team_id="+suporte))
		require.ElementsMatch(t, []string{sup, ven}, listIDs(t, env.Admin, "/api/v1/conversations"))

		require.Equal(t, http.StatusOK, agent.Get("/api/v1/conversations/"+ven).Status)
		require.Equal(t, http.StatusOK, agent.Get("/api/v1/conversations/"+ven+"/messages").Status)
		for _, c := range []request{
			{"GET", "/api/v1/conversations/" + sup, nil},
			{"GET", "/api/v1/conversations/" + sup + "/messages", nil},
			{"POST", "/api/v1/conversations/" + sup + "/messages", map[string]any{"text": "Oi"}},
			{"DELETE", "/api/v1/conversations/" + sup + "/messages/" + supMsg, nil},
			{"POST", "/api/v1/conversations/" + sup + "/close", nil},
			{"POST", "/api/v1/conversations/" + sup + "/cancel", nil},
		} {
			r := agent.Do(c.method, c.path, c.body)
			require.Equal(t, http.StatusNotFound, r.Status, "%s %s: %s", c.method, c.path, r.Body)
			require.Equal(t, "conversation_not_found", r.Str("code"), c.path)
		}
		require.Equal(t, string(supBefore), string(env.Admin.Get("/api/v1/conversations/"+sup).Body))
		require.Len(t, env.Admin.Get("/api/v1/conversations/" + sup + "/messages").JSON()["items"], 1)

		// Starting: only with a team the agent is in.
		r = agent.Post("/api/v1/conversations", onTeam("11 93333-0003", suporte))
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"team_id:user_not_in_team"}, r.FieldCodes())
		r = agent.Post("/api/v1/conversations", onTeam("11 93333-0003", vendas))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.Contains(t, listIDs(t, agent, "/api/v1/conversations"), r.Str("id"))

		// A session agent is refused the admin routes too.
		for _, c := range []request{
			{"GET", "/api/v1/api-keys", nil},
			{"POST", "/api/v1/teams", map[string]any{"name": "Minha"}},
			{"PATCH", "/api/v1/teams/" + suporte, map[string]any{"member_ids": []string{agentID}}},
			{"PATCH", "/api/v1/users/" + agentID, map[string]any{"role": "admin"}},
		} {
			r := agent.Do(c.method, c.path, c.body)
			require.Equal(t, http.StatusForbidden, r.Status, "%s %s: %s", c.method, c.path, r.Body)
			require.Equal(t, "forbidden", r.Str("code"))
		}

		// A new password set by an admin ends the agent's sessions.
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/users/"+agentID, map[string]any{"password": "another-password-456"}).Status)
		require.Equal(t, http.StatusUnauthorized, agent.Get("/api/v1/me").Status)
	})
}
