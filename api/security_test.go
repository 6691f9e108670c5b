package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/api"
	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/whatsapp"
)

// from returns an anonymous client whose requests come from ip, as a proxy on the loopback
// network would say in X-Forwarded-For (the test server trusts it; a client on the internet is
// not trusted to say so).
func from(env *apptest.Env, ip string) *apptest.Client {
	return env.Client("").WithHeader("X-Forwarded-For", ip)
}

func login(c *apptest.Client, email, password string) *apptest.Response {
	return c.Post("/api/v1/auth/login", map[string]string{"email": email, "password": password})
}

// locked requires a 429 login_locked problem whose Retry-After is within (0, max] seconds.
func locked(t *testing.T, r *apptest.Response, max int) {
	t.Helper()
	problem(t, r, http.StatusTooManyRequests, "login_locked")
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", r.Header.Get("Retry-After"))
	require.Greater(t, ra, 0)
	require.LessOrEqual(t, ra, max)
	require.Equal(t, float64(ra), r.JSON()["retry_after"], "the body's retry_after is the header's wait")
	require.Empty(t, r.Header.Values("Set-Cookie"))
}

func TestLoginLockout(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		admin, password := env.Demo.AdminEmail, env.Demo.AdminPassword
		attacker := from(env, "203.0.113.50")

		// Bodies that fail validation are not login attempts and do not count.
		for range 10 {
			r := attacker.Post("/api/v1/auth/login", map[string]string{"email": admin})
			problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		}
		// Five wrong passwords for one email (the email written differently each time: it is
		// normalised before counting) ...
		for i := range 5 {
			email := admin
			if i%2 == 1 {
				email = "  " + strings.ToUpper(admin)
			}
			problem(t, login(attacker, email, "wrong-password-"+strconv.Itoa(i)), http.StatusUnauthorized, "invalid_credentials")
		}
		// ... lock it for a minute: the right password is refused too, from any address, and the
		// answer is the same whether the password was right or not.
		locked(t, login(attacker, admin, password), 60)
		locked(t, login(from(env, "198.51.100.7"), admin, password), 60)
		locked(t, login(from(env, "198.51.100.7"), admin, "wrong"), 60)
		// A locked email does not lock its account's other users, nor the API.
		agentID := userID(t, env, "agente@demo.atendimento.dev")
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/users/"+agentID, map[string]any{"password": "agent-password-123"}).Status)
		require.Equal(t, http.StatusOK, login(attacker, "agente@demo.atendimento.dev", "agent-password-123").Status)
		require.Equal(t, http.StatusOK, env.Admin.Get("/api/v1/me").Status)

		// An unknown email locks the same way (no telling known from unknown emails).
		for range 5 {
			problem(t, login(from(env, "198.51.100.8"), "nobody@example.com", "x"), http.StatusUnauthorized, "invalid_credentials")
		}
		locked(t, login(from(env, "198.51.100.8"), "nobody@example.com", "x"), 60)

		// One address spraying passwords over many emails is locked after 20 failures, whatever
		// the emails; other addresses are not.
		sprayer := from(env, "203.0.113.99")
		for i := range 20 {
			problem(t, login(sprayer, "user"+strconv.Itoa(i)+"@example.com", "123456"), http.StatusUnauthorized, "invalid_credentials")
		}
		locked(t, login(sprayer, "agente@demo.atendimento.dev", "agent-password-123"), 60)
		require.Equal(t, http.StatusOK, login(from(env, "203.0.113.100"), "agente@demo.atendimento.dev", "agent-password-123").Status)
	})
}

func TestLoginLockoutParallel(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		// 40 parallel guesses: at most 5 reach the password check, the rest are refused.
		const n = 40
		statuses := make(chan int, n)
		for i := range n {
			go func() {
				statuses <- login(from(env, "203.0.113."+strconv.Itoa(i+1)), env.Demo.AdminEmail, "guess-"+strconv.Itoa(i)).Status
			}()
		}
		counts := map[int]int{}
		for range n {
			counts[<-statuses]++
		}
		require.Equal(t, n, counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests], counts)
		require.LessOrEqual(t, counts[http.StatusUnauthorized], 5, counts)
		locked(t, login(env.Client(""), env.Demo.AdminEmail, env.Demo.AdminPassword), 60)
	})
}

func TestSessionFixation(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		// An attacker plants a session id they chose in the victim's browser, then the victim logs
		// in: the server issues a new id and never honours the planted one.
		planted := "attacker-chosen-session-id-0123456789"
		victim := env.Client("").WithHeader("Cookie", api.SessionCookie+"="+planted)
		r := login(victim, env.Demo.AdminEmail, env.Demo.AdminPassword)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		issued := sessionCookie(t, r).Value
		require.NotEqual(t, planted, issued)
		problem(t, victim.Get("/api/v1/me"), http.StatusUnauthorized, "unauthorized")
		require.Equal(t, http.StatusOK, env.Client("").WithHeader("Cookie", api.SessionCookie+"="+issued).Get("/api/v1/me").Status)

		// The attacker plants their own valid session instead: logging in as the victim does not
		// turn it into the victim's session; it stays the attacker's.
		agentID := userID(t, env, "agente@demo.atendimento.dev")
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/users/"+agentID, map[string]any{"password": "agent-password-123"}).Status)
		own := sessionCookie(t, login(env.Client(""), "agente@demo.atendimento.dev", "agent-password-123")).Value
		victim = env.Client("").WithHeader("Cookie", api.SessionCookie+"="+own)
		r = login(victim, env.Demo.AdminEmail, env.Demo.AdminPassword)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.NotEqual(t, own, sessionCookie(t, r).Value)
		me := victim.Get("/api/v1/me")
		require.Equal(t, http.StatusOK, me.Status)
		require.Equal(t, "agent", me.Str("role"), "the planted cookie must still be the attacker's own session")

		// A cookie jar that held an older session of the same user gets a fresh id at login.
		jar := env.Login(env.Demo.AdminEmail, env.Demo.AdminPassword)
		before := jar.Get("/api/v1/me").Str("csrf_token")
		again := env.Login(env.Demo.AdminEmail, env.Demo.AdminPassword)
		require.NotEqual(t, before, again.Get("/api/v1/me").Str("csrf_token"))
	})
}

// TestCSRFEveryUnsafeRoute sends every state-changing operation with a valid session cookie but
// without the CSRF token, with another session's token and with the token in a query string:
// each is 403 csrf_failed before the handler runs.
func TestCSRFEveryUnsafeRoute(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		r := login(env.Client(""), env.Demo.AdminEmail, env.Demo.AdminPassword)
		require.Equal(t, http.StatusOK, r.Status)
		cookie := env.Client("").WithHeader("Cookie", api.SessionCookie+"="+sessionCookie(t, r).Value)
		other := login(env.Client(""), env.Demo.AdminEmail, env.Demo.AdminPassword).Str("csrf_token")
		before := snapshot(t, env.Admin, adminLists)

		clients := map[string]*apptest.Client{
			"no token":              cookie,
			"another session's":     cookie.WithHeader(api.CSRFHeader, other),
			"empty token":           cookie.WithHeader(api.CSRFHeader, ""),
			"token as form content": cookie.WithHeader("Content-Type", "application/x-www-form-urlencoded"),
			"truncated token":       cookie.WithHeader(api.CSRFHeader, r.Str("csrf_token")[:len(r.Str("csrf_token"))-1]),
		}
		n := 0
		for _, op := range specOperations(t) {
			method, path, _ := strings.Cut(op, " ")
			if method == http.MethodGet || op == "POST /api/v1/auth/login" {
				continue
			}
			n++
			var body any
			if method != http.MethodDelete {
				body = map[string]any{}
			}
			for name, c := range clients {
				p := fillPath(path, someID)
				if name == "token as form content" {
					p += "?" + api.CSRFHeader + "=" + r.Str("csrf_token")
				}
				resp := c.Do(method, p, body)
				require.Equal(t, http.StatusForbidden, resp.Status, "%s with %s: %s", op, name, resp.Body)
				problem(t, resp, http.StatusForbidden, "csrf_failed")
				require.NotContains(t, string(resp.Body), r.Str("csrf_token"), "%s %s", op, name)
			}
		}
		require.Greater(t, n, 25)
		require.Equal(t, before, snapshot(t, env.Admin, adminLists), "a refused request changed data")

		// Safe methods need no token; with the right token the same cookie works.
		require.Equal(t, http.StatusOK, cookie.Get("/api/v1/contacts").Status)
		ok := cookie.WithHeader(api.CSRFHeader, r.Str("csrf_token")).Post("/api/v1/contacts", map[string]any{"name": "Com token", "phone": "11 92323-0001"})
		require.Equal(t, http.StatusCreated, ok.Status, string(ok.Body))
		// A bearer key needs no CSRF token: a browser never attaches one on its own.
		require.Equal(t, http.StatusCreated, env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Por chave", "phone": "11 92323-0002"}).Status)
		// A request with both a (bad) bearer key and a valid cookie is judged by the key alone.
		both := cookie.WithHeader(api.CSRFHeader, r.Str("csrf_token")).WithHeader("Authorization", "Bearer atd_not-a-key")
		problem(t, both.Get("/api/v1/me"), http.StatusUnauthorized, "unauthorized")
	})
}

// spaDir is a minimal built SPA: index.html and one hashed asset.
func spaDir(t *testing.T) string {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>Atendimento</title>"), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "assets"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "assets", "index-AbC123.js"), []byte("console.log(1)"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "favicon.svg"), []byte("<svg/>"), 0o600))
	return dir
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	dir := spaDir(t)
	apptest.EachWith(t, apptest.Options{Configure: func(c *app.Config) { c.WebDir = dir; c.NoDispatcher = true }}, func(t *testing.T, env *apptest.Env) {
		get := func(path string, headers map[string]string) *http.Response {
			t.Helper()
			req, err := http.NewRequest(http.MethodGet, env.Server.URL+path, nil)
			require.NoError(t, err)
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			return resp
		}
		bearer := map[string]string{"Authorization": "Bearer " + env.Demo.APIKey}
		common := func(t *testing.T, path string, h http.Header) {
			t.Helper()
			require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
			require.Equal(t, "DENY", h.Get("X-Frame-Options"), path)
			require.Equal(t, "no-referrer", h.Get("Referrer-Policy"), path)
			require.Equal(t, "same-origin", h.Get("Cross-Origin-Opener-Policy"), path)
			csp := h.Get("Content-Security-Policy")
			require.Contains(t, csp, "frame-ancestors 'none'", path)
			require.Contains(t, csp, "base-uri 'none'", path)
			require.NotContains(t, csp, "unsafe-eval", path)
			require.Empty(t, h.Get("Strict-Transport-Security"), "HSTS only behind HTTPS (COOKIE_SECURE)")
		}

		// API answers, successes and errors alike: nothing stored, nothing loaded, never framed.
		for _, c := range []struct {
			path    string
			headers map[string]string
			status  int
		}{
			{"/api/v1/me", bearer, 200},
			{"/api/v1/contacts", bearer, 200},
			{"/api/v1/contacts/" + env.Demo.ContactID, bearer, 200},
			{"/api/v1/conversations", bearer, 200},
			{"/api/v1/users", bearer, 200},
			{"/api/v1/contacts", nil, 401},
			{"/api/v1/contacts/" + someID, bearer, 404},
			{"/api/v1/no-such-route", bearer, 404},
			{"/api/v1/contacts?limit=0", bearer, 422},
			{"/healthz", nil, 200},
			{"/readyz", nil, 200},
			{"/metrics", nil, 200},
			{"/webhooks/whatsapp/" + env.Demo.ChannelID + "?hub.mode=subscribe", nil, 403},
		} {
			resp := get(c.path, c.headers)
			require.Equal(t, c.status, resp.StatusCode, c.path)
			common(t, c.path, resp.Header)
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), c.path)
			require.Equal(t, "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'", resp.Header.Get("Content-Security-Policy"), c.path)
		}
		// The login response (it carries the CSRF token) and its refusal are not stored either.
		r := login(env.Client(""), env.Demo.AdminEmail, env.Demo.AdminPassword)
		require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
		common(t, "login", r.Header)
		r = login(env.Client(""), env.Demo.AdminEmail, "wrong")
		require.Equal(t, "no-store", r.Header.Get("Cache-Control"))

		// The SPA's index.html (for / and every client-side route): a strict policy, no inline
		// script or style, requests only to its own origin.
		for _, p := range []string{"/", "/atendimentos", "/atendimentos/novo?x=1", "/assets"} {
			resp := get(p, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, p)
			require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"), p)
			common(t, p, resp.Header)
			require.Equal(t, "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
				resp.Header.Get("Content-Security-Policy"), p)
			require.NotContains(t, resp.Header.Get("Content-Security-Policy"), "unsafe-inline", p)
			require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"), p)
		}
		// Its hashed assets may be cached for good; other files are revalidated.
		resp := get("/assets/index-AbC123.js", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		common(t, "asset", resp.Header)
		require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
		resp = get("/favicon.svg", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))

		// The API docs: only their own files; Swagger UI needs inline styles, never inline script.
		resp = get("/docs", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		common(t, "/docs", resp.Header)
		csp := resp.Header.Get("Content-Security-Policy")
		require.Contains(t, csp, "script-src 'self';")
		require.Contains(t, csp, "default-src 'self';")
		require.Contains(t, csp, "object-src 'none'")
		require.NotContains(t, strings.SplitN(strings.SplitN(csp, "script-src", 2)[1], ";", 2)[0], "unsafe-inline")
		for _, p := range []string{"/docs/assets/swagger-ui-bundle.js", "/docs/assets/docs-init.js", "/openapi.yaml"} {
			resp = get(p, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, p)
			common(t, p, resp.Header)
			require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"), p)
		}
		// The event stream (personal data) is not stored either.
		require.Equal(t, http.StatusOK, streamStatus(t, env, env.Demo.APIKey))
	})
}

func TestSecurityHeadersBehindHTTPS(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, apptest.Options{Configure: func(c *app.Config) { c.SecureCookies = true; c.NoDispatcher = true }}, func(t *testing.T, env *apptest.Env) {
		for _, p := range []string{"/api/v1/me", "/healthz", "/docs"} {
			r := env.Admin.Get(p)
			require.Equal(t, http.StatusOK, r.Status, p)
			require.Equal(t, "max-age=31536000", r.Header.Get("Strict-Transport-Security"), p)
		}
		r := login(env.Client(""), env.Demo.AdminEmail, env.Demo.AdminPassword)
		require.Equal(t, http.StatusOK, r.Status)
		require.True(t, sessionCookie(t, r).Secure)
	})
}

// rateLimited is a server whose API keys may make 2 requests a second, in bursts of 4.
var rateLimited = apptest.Options{Configure: func(c *app.Config) { c.NoDispatcher = true; c.APIKeyRate = 2; c.APIKeyBurst = 4 }}

func TestAPIKeyRateLimit(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, rateLimited, func(t *testing.T, env *apptest.Env) {
		// A second key of the same account has its own bucket. A session makes it (sessions are
		// not limited), so the first key's bucket is still full.
		session := env.Login(env.Demo.AdminEmail, env.Demo.AdminPassword)
		second := env.Client(session.Post("/api/v1/api-keys", map[string]any{"name": "CRM", "role": "agent"}).Str("secret"))
		paths := []string{"/api/v1/me", "/api/v1/contacts", "/api/v1/conversations", "/api/v1/templates"}
		for i := range 4 {
			r := env.Admin.Get(paths[i])
			require.Equal(t, http.StatusOK, r.Status, "request %d of the burst: %s", i+1, r.Body)
		}
		// The fifth, on any route (a write too), is refused with Retry-After; nothing is done.
		for _, r := range []*apptest.Response{
			env.Admin.Get("/api/v1/contacts"),
			env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Excedente", "phone": "11 92424-0001"}),
			env.Admin.Delete("/api/v1/contacts/" + env.Demo.ContactID),
		} {
			problem(t, r, http.StatusTooManyRequests, "rate_limited")
			require.Equal(t, "1", r.Header.Get("Retry-After"))
		}
		// Other callers are not affected: the other key, sessions, anonymous operations.
		require.Equal(t, http.StatusOK, second.Get("/api/v1/me").Status)
		for range 10 {
			require.Equal(t, http.StatusOK, session.Get("/api/v1/me").Status)
		}
		require.Equal(t, http.StatusOK, env.Client("").Get("/healthz").Status)
		// Bad keys are refused (401) before any bucket: they cannot spend a real key's tokens.
		require.Equal(t, http.StatusUnauthorized, env.Client("atd_guess").Get("/api/v1/me").Status)

		// After Retry-After, the key works again at its rate. A refused request spends nothing,
		// so each request below is answered once its bucket has refilled a token.
		admitted := func(path string) *apptest.Response {
			var r *apptest.Response
			require.Eventually(t, func() bool { r = env.Admin.Get(path); return r.Status != http.StatusTooManyRequests },
				10*time.Second, 50*time.Millisecond, "%s is still refused", path)
			return r
		}
		require.Equal(t, http.StatusOK, admitted("/api/v1/me").Status)
		require.Equal(t, http.StatusNotFound, admitted("/api/v1/contacts/lookup?phone=11924240001").Status, "the refused POST created a contact")
		require.Equal(t, http.StatusOK, admitted("/api/v1/contacts/"+env.Demo.ContactID).Status, "the refused DELETE deleted the contact")
	})
}

func TestAPIKeyRateLimitSustained(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, rateLimited, func(t *testing.T, env *apptest.Env) {
		// Hammering for 3 s gets about burst + rate × 3 = 10 requests through, not more.
		ok, refused := 0, 0
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			r := env.Admin.Get("/api/v1/me")
			switch r.Status {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				refused++
			default:
				t.Fatalf("unexpected %d: %s", r.Status, r.Body)
			}
			// Pacing, not waiting for anything: the count depends on the 3 s window, not on the
			// pace, and hammering flat out would only burn the shared CI machine's CPU.
			time.Sleep(20 * time.Millisecond)
		}
		require.GreaterOrEqual(t, ok, 9)
		require.LessOrEqual(t, ok, 11)
		require.Positive(t, refused)
	})
}

// TestNULAndBadBytesAreRefused: PostgreSQL refuses a NUL in text and jsonb, and invalid UTF-8 in
// any text, with an error that would be a 500. Every way in is closed: JSON bodies (any string or
// key, any depth), query parameters, the Idempotency-Key header; Meta's signed webhook keeps the
// message with U+FFFD in place of the NUL.
func TestNULAndBadBytesAreRefused(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		tpl := env.Demo.TemplateIDs["boas_vindas"]
		before := snapshot(t, env.Admin, adminLists)
		for _, c := range []struct {
			method, path, body string
			field              string
		}{
			{"POST", "/api/v1/teams", `{"name":"Vendas\u0000"}`, "name"},
			{"POST", "/api/v1/api-keys", `{"name":"a\u0000b","role":"admin"}`, "name"},
			{"POST", "/api/v1/users", `{"name":"Ana","email":"ana2@example.com","password":"\u0000aaaaaaaaa","role":"agent"}`, "password"},
			{"POST", "/api/v1/contacts", `{"name":"Ana","phone":"11 91234-0000","attributes":{"k":["x","\u0000"]}}`, "attributes.k[1]"},
			{"POST", "/api/v1/contacts", `{"name":"Ana","phone":"11 91234-0000","attributes":{"k\u0000":1}}`, "attributes.k\uFFFD"},
			{"POST", "/api/v1/channels", `{"name":"C","provider":"sandbox","phone_number":"+55 11 4000-1234","access_token":"\u0000"}`, "access_token"},
			{"POST", "/api/v1/templates", `{"channel_id":"` + env.Demo.ChannelID + `","name":"t","language":"pt_BR","category":"UTILITY","status":"APPROVED",
				"parameter_format":"POSITIONAL","components":[{"type":"BODY","text":"Oi {{1}}\u0000"}]}`, "components[0].text"},
			{"POST", "/api/v1/templates/" + tpl + "/preview", `{"parameters":{"nome":"a\u0000","atendente":"b"}}`, "parameters.nome"},
			{"POST", "/api/v1/conversations", `{"contact":{"phone":"11 91234-0001","name":"Ana"},"channel_id":"` + env.Demo.ChannelID + `",
				"team_id":"` + env.Demo.TeamIDs[0] + `","send_type":"now","template_id":"` + tpl + `","parameters":{"nome":"\u0000","atendente":"b"}}`, "parameters.nome"},
			{"POST", "/api/v1/conversations/" + someID + "/messages", `{"text":"oi\u0000"}`, "text"},
			{"POST", "/api/v1/sandbox/channels/" + env.Demo.ChannelID + "/inbound", `{"from":"11 91234-0009","text":"oi\u0000"}`, "text"},
			{"POST", "/api/v1/webhook-subscriptions", `{"url":"https://203.0.113.10/\u0000","events":["message.created"]}`, "url"},
			{"PATCH", "/api/v1/account", `{"name":"\u0000"}`, "name"},
		} {
			r := env.Admin.Do(c.method, c.path, c.body)
			problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
			require.Equal(t, []string{c.field + ":invalid_characters"}, r.FieldCodes(), "%s %s", c.method, c.path)
		}
		for _, p := range []string{"/api/v1/contacts?q=a%00b", "/api/v1/contacts?q=%ff", "/api/v1/templates?q=%00", "/api/v1/conversations?cursor=%c3%28",
			"/api/v1/contacts/lookup?phone=11%00", "/api/v1/users?limit=1&cursor=%00"} {
			r := env.Admin.Get(p)
			problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
			require.Len(t, r.FieldCodes(), 1, p)
			require.Contains(t, r.FieldCodes()[0], ":invalid_characters", p)
		}
		for _, key := range []string{"\xe9t\xe9", "a\tb", "\xff"} {
			r := env.Admin.WithHeader("Idempotency-Key", key).Post("/api/v1/conversations", startBody(env, "11 91234-0002"))
			problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
			require.Equal(t, []string{"Idempotency-Key:idempotency_key_invalid"}, r.FieldCodes(), "%q", key)
		}
		require.Equal(t, before, snapshot(t, env.Admin, adminLists))
		// A key with non-ASCII letters is fine.
		r := env.Admin.WithHeader("Idempotency-Key", "pedido-ação-1").Post("/api/v1/conversations", startBody(env, "11 91234-0003"))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))

		// Meta's webhook: the signed body's NUL becomes U+FFFD and the message is kept.
		r = env.Admin.Post("/api/v1/channels", map[string]any{"name": "Cloud", "provider": "whatsapp_cloud", "phone_number": "+55 11 4000-7777",
			"phone_number_id": "1065400001", "waba_id": "1022900001", "access_token": "EAAG-nul-test", "app_secret": "nul-test-secret", "verify_token": "v"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		ch := r.Str("id")
		body := `{"object":"whatsapp_business_account","entry":[{"id":"1022900001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
			"metadata":{"display_phone_number":"551140007777","phone_number_id":"1065400001"},
			"contacts":[{"profile":{"name":"Zé\u0000"},"wa_id":"5511912340077"}],
			"messages":[{"from":"5511912340077","id":"wamid.nul1","timestamp":"1767225600","type":"text","text":{"body":"oi\u0000 \\u0000 tudo bem"}}]}}]}]}`
		r = env.Client("").WithHeader(whatsapp.SignatureHeader, whatsapp.Sign([]byte(body), "nul-test-secret")).Post("/webhooks/whatsapp/"+ch, body)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.EqualValues(t, 1, r.JSON()["messages"])
		var convs struct{ Items []struct{ ID string } }
		env.Admin.Get("/api/v1/conversations?channel_id="+ch).Decode(t, &convs)
		require.Len(t, convs.Items, 1)
		msgs := items(t, env.Admin.Get("/api/v1/conversations/"+convs.Items[0].ID+"/messages"))
		require.Len(t, msgs, 1)
		require.Equal(t, "oi\uFFFD \\u0000 tudo bem", msgs[0]["text"])

		// A profile name with control characters is cleaned; a sender that is no number is
		// skipped, and the delivery's other messages are kept (a 4xx would make Meta retry the
		// whole delivery for days).
		body = `{"object":"whatsapp_business_account","entry":[{"id":"1022900001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
			"metadata":{"display_phone_number":"551140007777","phone_number_id":"1065400001"},
			"contacts":[{"profile":{"name":"Ana\nMaria\u0085 \t"},"wa_id":"5511912340078"}],
			"messages":[{"from":"+1","id":"wamid.bad1","timestamp":"1767225600","type":"text","text":{"body":"x"}},
				{"from":"5511912340078","id":"wamid.ok2","timestamp":"1767225600","type":"text","text":{"body":"olá"}}]}}]}]}`
		r = env.Client("").WithHeader(whatsapp.SignatureHeader, whatsapp.Sign([]byte(body), "nul-test-secret")).Post("/webhooks/whatsapp/"+ch, body)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.EqualValues(t, 1, r.JSON()["messages"])
		r = env.Admin.Get("/api/v1/contacts/lookup?phone=%2B5511912340078")
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "Ana Maria", r.Str("name"))
	})
}
