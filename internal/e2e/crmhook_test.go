package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/crmhook"
	"github.com/atendimento/atendimento/internal/store"
)

// hit is one request a receiver got.
type hit struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

// receiver is a CRM's webhook endpoint; answer decides each response's status.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	hits   []hit
	answer func(h hit, nth int) int // nth: how many times this delivery id was seen, from 1
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{answer: func(hit, int) int { return http.StatusNoContent }}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		h := hit{Header: req.Header.Clone(), Body: body, At: time.Now()}
		r.mu.Lock()
		r.hits = append(r.hits, h)
		nth := 0
		for _, x := range r.hits {
			if x.Header.Get(crmhook.DeliveryHeader) == h.Header.Get(crmhook.DeliveryHeader) {
				nth++
			}
		}
		answer := r.answer
		r.mu.Unlock()
		w.WriteHeader(answer(h, nth))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) URL() string { return r.srv.URL + "/hooks/atendimento" }

func (r *receiver) all() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

func (r *receiver) wait(t *testing.T, n int) []hit {
	t.Helper()
	waitFor(t, "webhook deliveries", func() bool { return len(r.all()) >= n })
	return r.all()
}

func signed(h hit, secret string) bool {
	return crmhook.Verify(h.Body, secret, h.Header.Get(crmhook.SignatureHeader))
}

var allowPrivate = apptest.Options{Configure: func(c *app.Config) {
	c.Webhooks.AllowPrivate = true
	c.Webhooks.BaseDelay = 200 * time.Millisecond
}}

func TestWebhookDeliverySigned(t *testing.T) {
	apptest.EachWith(t, allowPrivate, func(t *testing.T, env *apptest.Env) {
		rcv := newReceiver(t)
		r := env.Admin.Post("/api/v1/webhook-subscriptions", map[string]any{"url": rcv.URL(), "events": []string{"conversation.created", "message.updated"}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		subID, secret := r.Str("id"), r.Str("secret")
		require.Regexp(t, `^whsec_[A-Za-z0-9_-]{43}$`, secret)
		require.Equal(t, []any{"conversation.created", "message.updated"}, r.JSON()["events"])

		// The secret is shown once.
		list := env.Admin.Get("/api/v1/webhook-subscriptions")
		require.Equal(t, http.StatusOK, list.Status)
		items := list.JSON()["items"].([]any)
		require.Len(t, items, 1)
		require.Equal(t, subID, items[0].(map[string]any)["id"])
		require.NotContains(t, items[0], "secret")

		convID := startSandbox(t, env.Admin, env.Demo, "21 99876-2001", env.Demo.TeamIDs[0])
		// conversation.created, then message.updated as the sandbox sends and delivers the opening.
		hits := rcv.wait(t, 3)
		var created *hit
		for i, h := range hits {
			require.True(t, signed(h, secret), "signature of %s", h.Body)
			require.False(t, signed(h, "whsec_wrong"))
			require.Equal(t, "application/json", h.Header.Get("Content-Type"))
			require.True(t, store.ValidID(h.Header.Get(crmhook.DeliveryHeader)))
			require.NotEqual(t, "message.created", h.Header.Get(crmhook.EventHeader), "not subscribed")
			if h.Header.Get(crmhook.EventHeader) == "conversation.created" {
				created = &hits[i]
			}
		}
		require.NotNil(t, created)
		var body struct {
			ID        string         `json:"id"`
			Type      string         `json:"type"`
			AccountID string         `json:"account_id"`
			CreatedAt time.Time      `json:"created_at"`
			Data      map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(created.Body, &body))
		require.Equal(t, "conversation.created", body.Type)
		require.Equal(t, env.Demo.AccountID, body.AccountID)
		require.Equal(t, convID, body.Data["id"])
		require.Equal(t, "waiting", body.Data["status"])
		require.Equal(t, "+5521998762001", body.Data["contact"].(map[string]any)["phone"])

		// The attempts are visible.
		var deliveries struct{ Items []map[string]any }
		waitFor(t, "deliveries recorded", func() bool {
			r := env.Admin.Get("/api/v1/webhook-subscriptions/" + subID + "/deliveries")
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			r.Decode(t, &deliveries)
			if len(deliveries.Items) < 3 {
				return false
			}
			for _, d := range deliveries.Items {
				if d["status"] != "succeeded" {
					return false
				}
			}
			return true
		})
		for _, d := range deliveries.Items {
			atts := d["attempts"].([]any)
			require.Len(t, atts, 1)
			a := atts[0].(map[string]any)
			require.EqualValues(t, 1, a["attempt"])
			require.EqualValues(t, 204, a["status_code"])
			require.Nil(t, a["error"])
			require.Nil(t, d["next_attempt_at"])
			require.NotNil(t, d["delivered_at"])
		}

		// Deleting the subscription stops deliveries and removes them.
		require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/webhook-subscriptions/"+subID).Status)
		require.Equal(t, http.StatusNotFound, env.Admin.Get("/api/v1/webhook-subscriptions/"+subID+"/deliveries").Status)
		require.Equal(t, http.StatusNotFound, env.Admin.Delete("/api/v1/webhook-subscriptions/"+subID).Status)
	})
}

func TestWebhookRetriedWithBackoff(t *testing.T) {
	apptest.EachWith(t, allowPrivate, func(t *testing.T, env *apptest.Env) {
		rcv := newReceiver(t)
		rcv.answer = func(_ hit, nth int) int {
			if nth <= 2 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}
		r := env.Admin.Post("/api/v1/webhook-subscriptions", map[string]any{"url": rcv.URL(), "events": []string{"conversation.created"}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		subID := r.Str("id")
		startSandbox(t, env.Admin, env.Demo, "21 99876-2002", env.Demo.TeamIDs[0])

		hits := rcv.wait(t, 3)
		require.Equal(t, 3, len(hits), "requests")
		id := hits[0].Header.Get(crmhook.DeliveryHeader)
		for i, h := range hits {
			require.Equal(t, id, h.Header.Get(crmhook.DeliveryHeader), "one delivery, retried")
			require.Equal(t, hits[0].Body, h.Body, "the same body every time")
			require.Equal(t, []string{"1", "2", "3"}[i], h.Header.Get(crmhook.AttemptHeader))
		}
		// Backoff 1·base then 2·base (base 200 ms in this test).
		require.GreaterOrEqual(t, hits[1].At.Sub(hits[0].At), 190*time.Millisecond)
		require.GreaterOrEqual(t, hits[2].At.Sub(hits[1].At), 390*time.Millisecond)

		var d struct{ Items []map[string]any }
		waitFor(t, "delivery succeeded", func() bool {
			env.Admin.Get("/api/v1/webhook-subscriptions/"+subID+"/deliveries").Decode(t, &d)
			return len(d.Items) == 1 && d.Items[0]["status"] == "succeeded"
		})
		atts := d.Items[0]["attempts"].([]any)
		require.Len(t, atts, 3)
		for i, want := range []float64{500, 500, 200} {
			a := atts[i].(map[string]any)
			require.EqualValues(t, i+1, a["attempt"])
			require.Equal(t, want, a["status_code"])
			require.NotEmpty(t, a["attempted_at"])
			if want == 500 {
				require.Equal(t, "HTTP 500", a["error"])
				require.NotNil(t, a["next_attempt_at"], "a failed attempt says when the next one is")
			} else {
				require.Nil(t, a["error"])
				require.Nil(t, a["next_attempt_at"])
			}
		}
		require.Equal(t, "conversation.created", d.Items[0]["event"])
	})
}

func TestWebhookSubscriptionRules(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		post := func(body any) *apptest.Response { return env.Admin.Post("/api/v1/webhook-subscriptions", body) }
		ok := []string{"conversation.created"}
		for _, tc := range []struct {
			name string
			body map[string]any
			want []string
		}{
			{"loopback", map[string]any{"url": "http://127.0.0.1:9/hook", "events": ok}, []string{"url:url_not_allowed"}},
			{"loopback v6", map[string]any{"url": "http://[::1]/hook", "events": ok}, []string{"url:url_not_allowed"}},
			{"localhost", map[string]any{"url": "https://localhost/hook", "events": ok}, []string{"url:url_not_allowed"}},
			{"private", map[string]any{"url": "https://10.1.2.3/hook", "events": ok}, []string{"url:url_not_allowed"}},
			{"metadata", map[string]any{"url": "http://169.254.169.254/latest/meta-data", "events": ok}, []string{"url:url_not_allowed"}},
			{"mapped", map[string]any{"url": "http://[::ffff:192.168.0.1]/", "events": ok}, []string{"url:url_not_allowed"}},
			{"ftp", map[string]any{"url": "ftp://crm.example.com/hook", "events": ok}, []string{"url:url_invalid"}},
			{"relative", map[string]any{"url": "/hook", "events": ok}, []string{"url:url_invalid"}},
			{"javascript", map[string]any{"url": "javascript:alert(1)", "events": ok}, []string{"url:url_invalid"}},
			{"missing", map[string]any{}, []string{"url:required", "events:required"}},
			{"bad event", map[string]any{"url": "https://203.0.113.10/hook", "events": []string{"conversation.created", "nope"}}, []string{"events:event_invalid"}},
		} {
			r := post(tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", tc.name, r.Body)
			require.Equal(t, tc.want, r.FieldCodes(), tc.name)
		}
		// A public address is accepted (nothing is sent until an event happens).
		r := post(map[string]any{"url": "https://203.0.113.10/hook", "events": ok})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		subID := r.Str("id")

		// Admin only.
		_, agentKey, err := env.App.Accounts.CreateAPIKey(env.Ctx(), "agent", account.RoleAgent, "")
		require.NoError(t, err)
		agent := env.Client(agentKey)
		require.Equal(t, http.StatusForbidden, agent.Get("/api/v1/webhook-subscriptions").Status)
		require.Equal(t, http.StatusForbidden, agent.Post("/api/v1/webhook-subscriptions", map[string]any{"url": "https://203.0.113.10/", "events": ok}).Status)
		require.Equal(t, http.StatusForbidden, agent.Delete("/api/v1/webhook-subscriptions/"+subID).Status)
		require.Equal(t, http.StatusForbidden, agent.Get("/api/v1/webhook-subscriptions/"+subID+"/deliveries").Status)

		// Another account neither sees nor touches it.
		_, otherKey := env.NewAccount("Outra Loja")
		other := env.Client(otherKey)
		list := other.Get("/api/v1/webhook-subscriptions")
		require.Equal(t, http.StatusOK, list.Status)
		require.Empty(t, list.JSON()["items"])
		require.Equal(t, http.StatusNotFound, other.Get("/api/v1/webhook-subscriptions/"+subID+"/deliveries").Status)
		require.Equal(t, http.StatusNotFound, other.Delete("/api/v1/webhook-subscriptions/"+subID).Status)
		require.Equal(t, http.StatusNotFound, other.Delete("/api/v1/webhook-subscriptions/not-a-uuid").Status)
		require.Len(t, env.Admin.Get("/api/v1/webhook-subscriptions").JSON()["items"], 1)
	})
}
