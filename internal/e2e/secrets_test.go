package e2e

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// The secrets of TestSecretsNeverInLogs: recognisable, and distinct for each channel and rotation.
const (
	leakToken1  = "EAAG-LEAKCHECK-access-token-one-7f3a9c"
	leakSecret1 = "LEAKCHECK-app-secret-one-b81e"
	leakVerify1 = "LEAKCHECK-verify-token-one-55d0"
	leakToken2  = "EAAG-LEAKCHECK-access-token-two-c4e1d2"
	leakSecret2 = "LEAKCHECK-app-secret-two-09aa"
	leakVerify2 = "LEAKCHECK-verify-token-two-3b7f"
	leakToken3  = "EAAG-LEAKCHECK-access-token-three-2a2a"
	leakPNID    = "106540352249999"
	leakWABA    = "102290129349999"
)

// TestSecretsNeverInLogs drives everything that touches a whatsapp_cloud channel's secrets —
// create, read, list, rotate, refused writes, template sync, sends that succeed, fail and retry,
// the verification handshake and signed deliveries, right and wrong — plus logins, API keys and a
// CRM webhook, with every log line captured from Debug up. No secret appears in any log line, nor
// in any response after the one that creates it.
func TestSecretsNeverInLogs(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fake := whatsapptest.NewFake(t)
			fake.SetAccessToken(leakToken1)
			fake.SetTemplates(leakWABA, whatsapp.Template{Name: "saudacao", Language: "pt_BR", Category: "UTILITY", Status: "APPROVED",
				ParameterFormat: "NAMED", Components: json.RawMessage(`[{"type":"BODY","text":"Olá {{nome}}"}]`)})
			crm := newReceiver(t)
			env := apptest.New(t, e.Open(t), apptest.Options{LogLevel: slog.LevelDebug, Configure: func(c *app.Config) {
				c.WhatsAppAPIBaseURL = fake.URL
				c.Webhooks.AllowPrivate = true
				fast(c)
			}})
			var responses []string
			do := func(c *apptest.Client, method, path string, body any) *apptest.Response {
				t.Helper()
				r := c.Do(method, path, body)
				responses = append(responses, string(r.Body)+" "+strings.Join(r.Header.Values("Location"), ""))
				return r
			}

			// Create, read, list. A refused create and a refused update carry secrets too.
			ch := map[string]any{"name": "Cloud", "provider": "whatsapp_cloud", "phone_number": "+55 11 4000-9999",
				"phone_number_id": leakPNID, "waba_id": leakWABA, "access_token": leakToken1, "app_secret": leakSecret1, "verify_token": leakVerify1}
			bad := map[string]any{}
			for k, v := range ch {
				bad[k] = v
			}
			bad["provider"], bad["phone_number"] = "telegram", "not a phone"
			r := do(env.Admin, "POST", "/api/v1/channels", bad)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
			r = do(env.Admin, "POST", "/api/v1/channels", ch)
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			chID := r.Str("id")
			require.Equal(t, true, r.JSON()["has_access_token"])
			do(env.Admin, "GET", "/api/v1/channels/"+chID, nil)
			do(env.Admin, "GET", "/api/v1/channels", nil)
			r = do(env.Admin, "PATCH", "/api/v1/channels/"+chID, map[string]any{"access_token": leakToken3, "phone_number": "x"})
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
			r = do(env.Admin, "POST", "/api/v1/teams", map[string]any{"name": "Cloud team", "channel_ids": []string{chID}})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			team := r.Str("id")
			do(env.Admin, "PATCH", "/api/v1/channels/"+chID, map[string]any{"default_team_id": team})

			// Template sync with the token, then with a token Meta refuses (401, code 190).
			r = do(env.Admin, "POST", "/api/v1/channels/"+chID+"/templates/sync", nil)
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			var tpl string
			for _, it := range itemsOf(t, do(env.Admin, "GET", "/api/v1/templates?channel_id="+chID, nil)) {
				tpl = it["id"].(string)
			}
			require.NotEmpty(t, tpl)

			// CRM webhook: its signing secret is shown once.
			r = do(env.Admin, "POST", "/api/v1/webhook-subscriptions", map[string]any{"url": crm.URL(), "events": []string{"conversation.created", "message.updated"}})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			crmSecret := r.Str("secret")
			require.NotEmpty(t, crmSecret)

			// Sends: one succeeds; one fails with 500 then succeeds; one with a network reset; one
			// refused for good.
			start := func(phone string) string {
				t.Helper()
				r := do(env.Admin, "POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": phone}, "channel_id": chID,
					"team_id": team, "send_type": "now", "template_id": tpl, "parameters": map[string]any{"nome": "Ana"}})
				require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
				return r.Str("id")
			}
			base := fake.Count()
			conv := start("11 98888-0001")
			require.True(t, fake.WaitFor(base+1, 10*time.Second))
			fake.FailNext(1, http.StatusInternalServerError, whatsapptest.ErrorBody(1, "An unknown error occurred", "try again"), nil)
			start("11 98888-0002")
			require.True(t, fake.WaitFor(base+2, 10*time.Second))
			fake.SetRespond(func(req whatsapptest.Request) *whatsapptest.Response {
				if strings.Contains(string(req.Body), "5511988880003") {
					return &whatsapptest.Response{Hangup: true}
				}
				if strings.Contains(string(req.Body), "5511988880004") {
					return &whatsapptest.Response{Status: http.StatusBadRequest, Body: whatsapptest.ErrorBody(131026, "Message undeliverable", "not on WhatsApp")}
				}
				return nil
			})
			start("11 98888-0003")
			failed := start("11 98888-0004")
			waitFor(t, "the undeliverable start fails", func() bool {
				return env.Admin.Get("/api/v1/conversations/"+failed).Str("status") == "failed"
			})
			fake.SetRespond(nil)

			// Meta's webhook: the handshake with the right and a wrong token; deliveries signed
			// with the app secret, with another secret, unsigned.
			verify := func(token string) *apptest.Response {
				q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {token}, "hub.challenge": {"1158201444"}}
				return do(env.Client(""), "GET", "/webhooks/whatsapp/"+chID+"?"+q.Encode(), nil)
			}
			require.Equal(t, http.StatusOK, verify(leakVerify1).Status)
			require.Equal(t, http.StatusForbidden, verify(leakVerify1+"x").Status)
			reply, err := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": leakWABA,
				"changes": []any{map[string]any{"field": "messages", "value": map[string]any{"messaging_product": "whatsapp",
					"metadata": map[string]any{"display_phone_number": "551140009999", "phone_number_id": leakPNID},
					"contacts": []any{map[string]any{"profile": map[string]any{"name": "Ana"}, "wa_id": "5511988880001"}},
					"messages": []any{map[string]any{"from": "5511988880001", "id": "wamid.leak1", "timestamp": strconv.FormatInt(time.Now().Unix(), 10), "type": "text",
						"text": map[string]any{"body": "oi"}}}}}}}}})
			require.NoError(t, err)
			hook := func(sig string) *apptest.Response {
				c := env.Client("")
				if sig != "" {
					c = c.WithHeader(whatsapp.SignatureHeader, sig)
				}
				return do(c, "POST", "/webhooks/whatsapp/"+chID, reply)
			}
			require.Equal(t, http.StatusUnauthorized, hook(whatsapp.Sign(reply, leakSecret2)).Status)
			require.Equal(t, http.StatusUnauthorized, hook("").Status)
			require.Equal(t, http.StatusUnauthorized, hook("sha256="+leakSecret1).Status)
			require.Equal(t, http.StatusOK, hook(whatsapp.Sign(reply, leakSecret1)).Status)
			r = do(env.Admin, "POST", "/api/v1/conversations/"+conv+"/messages", map[string]any{"text": "tudo bem?"})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			// Wait for this text itself: counting sends after the POST could miss it, since the
			// dispatcher may have sent it before the count was read.
			waitSent(t, fake, "tudo bem?")

			// Rotate every secret; the old ones stop working, the new ones work.
			fake.SetAccessToken(leakToken2)
			r = do(env.Admin, "PATCH", "/api/v1/channels/"+chID, map[string]any{"access_token": leakToken2, "app_secret": leakSecret2, "verify_token": leakVerify2})
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			require.Equal(t, http.StatusForbidden, verify(leakVerify1).Status)
			require.Equal(t, http.StatusOK, verify(leakVerify2).Status)
			require.Equal(t, http.StatusUnauthorized, hook(whatsapp.Sign(reply, leakSecret1)).Status)
			require.Equal(t, http.StatusOK, hook(whatsapp.Sign(reply, leakSecret2)).Status)
			r = do(env.Admin, "POST", "/api/v1/channels/"+chID+"/templates/sync", nil)
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			start("11 98888-0005")
			waitSent(t, fake, "5511988880005")
			// A token Meta no longer accepts: sync and sends fail with its 401 (code 190).
			fake.SetAccessToken("EAAG-someone-else")
			r = do(env.Admin, "POST", "/api/v1/channels/"+chID+"/templates/sync", nil)
			require.Equal(t, http.StatusBadGateway, r.Status, string(r.Body))
			refused := start("11 98888-0006")
			waitFor(t, "the send with a refused token ends", func() bool {
				st := env.Admin.Get("/api/v1/conversations/" + refused).Str("status")
				return st == "failed"
			})

			// Logins (right, wrong), an API key created, used and revoked, a CSRF refusal.
			password := env.Demo.AdminPassword
			require.Equal(t, http.StatusUnauthorized, do(env.Client(""), "POST", "/api/v1/auth/login", map[string]any{"email": env.Demo.AdminEmail, "password": "LEAKCHECK-wrong-password"}).Status)
			login := do(env.Client(""), "POST", "/api/v1/auth/login", map[string]any{"email": env.Demo.AdminEmail, "password": password})
			require.Equal(t, http.StatusOK, login.Status)
			csrf := login.Str("csrf_token")
			var session string
			for _, c := range (&http.Response{Header: login.Header}).Cookies() {
				session = c.Value
			}
			sess := env.Client("").WithHeader("Cookie", "atendimento_session="+session)
			require.Equal(t, http.StatusForbidden, do(sess, "POST", "/api/v1/contacts", map[string]any{"name": "x", "phone": "11 98888-0100"}).Status)
			r = do(env.Admin, "POST", "/api/v1/api-keys", map[string]any{"name": "CRM", "role": "admin"})
			require.Equal(t, http.StatusCreated, r.Status)
			key, keyID := r.Str("secret"), r.Str("id")
			require.Equal(t, http.StatusOK, do(env.Client(key), "GET", "/api/v1/channels/"+chID, nil).Status)
			do(env.Admin, "DELETE", "/api/v1/api-keys/"+keyID, nil)
			require.Equal(t, http.StatusUnauthorized, do(env.Client(key), "GET", "/api/v1/me", nil).Status)

			crm.wait(t, 3)
			// The background work (dispatcher retries, CRM deliveries) has logged what it will once
			// the outbox and the CRM deliveries are drained and the app has stopped.
			waitFor(t, "the outbox and the CRM deliveries drained", func() bool {
				var n int64
				require.NoError(t, env.App.DB.Conn(env.Ctx()).Raw(`SELECT (SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status IN ('pending', 'scheduled'))
  + (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending')`).Scan(&n).Error)
				return n == 0
			})
			env.App.Stop()

			logs := env.Logs.String()
			require.Greater(t, strings.Count(logs, "\n"), 50, "too few log lines to prove anything")
			require.Contains(t, logs, `"status":401`, "the refused webhooks were logged")
			secrets := map[string]string{
				"access token 1": leakToken1, "app secret 1": leakSecret1, "verify token 1": leakVerify1,
				"access token 2": leakToken2, "app secret 2": leakSecret2, "verify token 2": leakVerify2,
				"refused access token": leakToken3, "SECRET_KEY": env.App.Config.SecretKey,
				"demo API key": env.Demo.APIKey, "new API key": key, "CRM signing secret": crmSecret,
				"admin password": password, "wrong password": "LEAKCHECK-wrong-password", "session token": session, "CSRF token": csrf,
			}
			for name, s := range secrets {
				require.NotEmpty(t, s, name)
				require.NotContains(t, logs, s, "the %s is in the logs", name)
				if name != "new API key" && name != "CRM signing secret" && name != "CSRF token" {
					for _, body := range responses {
						require.NotContains(t, body, s, "the %s is in a response", name)
					}
				}
			}
			require.NotContains(t, logs, "LEAKCHECK")
		})
	}
}

func itemsOf(t *testing.T, r *apptest.Response) []map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var out struct{ Items []map[string]any }
	r.Decode(t, &out)
	return out.Items
}

// waitSent waits until the fake has accepted a message whose body contains want.
func waitSent(t *testing.T, fake *whatsapptest.Fake, want string) {
	t.Helper()
	waitFor(t, "a send with "+want+" reaches the fake", func() bool {
		for _, m := range fake.Messages() {
			if bytes.Contains(m.Body, []byte(want)) {
				return true
			}
		}
		return false
	})
}
