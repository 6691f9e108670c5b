// Package e2e drives the whole product over HTTP: a conversation started with a template, the
// queue while it waits, the contact's reply on Meta's signed webhook, the release of the queue at
// a local fake of the Graph API, and the status webhooks that follow.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

const (
	token     = "EAAG-test-access-token"
	appSecret = "test-app-secret"
	verify    = "test-verify-token"
	pnid      = "106540352242922"
	waba      = "102290129340398"
)

// cloud is an environment with a whatsapp_cloud channel whose Graph API is a local fake.
type cloud struct {
	*apptest.Env
	fake      *whatsapptest.Fake
	channelID string
	teamID    string
	named     string // NAMED template: "Olá {{nome}}, aqui é {{atendente}}."
	barriers  int    // conversations settle started
}

func setupCloud(t testing.TB, fake *whatsapptest.Fake, env *apptest.Env) *cloud {
	t.Helper()
	c := &cloud{Env: env, fake: fake}
	r := env.Admin.Post("/api/v1/channels", map[string]any{"name": "Cloud", "provider": "whatsapp_cloud", "phone_number": "+55 11 4000-9999",
		"phone_number_id": pnid, "waba_id": waba, "access_token": token, "app_secret": appSecret, "verify_token": verify})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	c.channelID = r.Str("id")
	r = env.Admin.Post("/api/v1/teams", map[string]any{"name": "Cloud team", "channel_ids": []string{c.channelID}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	c.teamID = r.Str("id")
	r = env.Admin.Patch("/api/v1/channels/"+c.channelID, map[string]any{"default_team_id": c.teamID})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r = env.Admin.Post("/api/v1/templates", map[string]any{"channel_id": c.channelID, "name": "saudacao", "language": "pt_BR",
		"category": "UTILITY", "status": "APPROVED", "parameter_format": "NAMED",
		"components": []map[string]any{{"type": "BODY", "text": "Olá {{nome}}, aqui é {{atendente}}."}}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	c.named = r.Str("id")
	return c
}

func eachCloud(t *testing.T, fn func(t *testing.T, c *cloud)) {
	eachCloudWith(t, func(*app.Config) {}, fn)
}

// webhook posts a signed Meta notification to the channel's webhook.
func (c *cloud) webhook(t *testing.T, value map[string]any) *apptest.Response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": waba,
		"changes": []any{map[string]any{"field": "messages", "value": value}}}}})
	require.NoError(t, err)
	return c.Client("").WithHeader(whatsapp.SignatureHeader, whatsapp.Sign(body, appSecret)).Post("/webhooks/whatsapp/"+c.channelID, body)
}

func metadata() map[string]any {
	return map[string]any{"display_phone_number": "551140009999", "phone_number_id": pnid}
}

func inbound(from, id, text string, at time.Time) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "metadata": metadata(),
		"contacts": []any{map[string]any{"profile": map[string]any{"name": "João"}, "wa_id": from}},
		"messages": []any{map[string]any{"from": from, "id": id, "timestamp": fmt.Sprint(at.Unix()), "type": "text", "text": map[string]any{"body": text}}}}
}

func status(wamid, st, recipient string, at time.Time) map[string]any {
	s := map[string]any{"id": wamid, "status": st, "timestamp": fmt.Sprint(at.Unix()), "recipient_id": recipient}
	if st == "sent" || st == "delivered" {
		s["pricing"] = map[string]any{"billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular"}
	}
	return map[string]any{"messaging_product": "whatsapp", "metadata": metadata(), "statuses": []any{s}}
}

func (c *cloud) messages(t *testing.T, convID string) []map[string]any {
	t.Helper()
	r := c.Admin.Get("/api/v1/conversations/" + convID + "/messages?limit=200")
	require.Equal(t, http.StatusOK, r.Status)
	var out struct{ Items []map[string]any }
	r.Decode(t, &out)
	return out.Items
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, what, 10*time.Second, cond)
}

func TestCloudFlowEndToEnd(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		base := c.fake.Count()
		// Brazil: Meta reports the account without the ninth digit.
		c.fake.SetWaID("+5511987650001", "551187650001")
		r := c.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "11 98765-0001", "name": "João"},
			"channel_id": c.channelID, "team_id": c.teamID, "send_type": "now", "template_id": c.named,
			"parameters": map[string]any{"nome": "João", "atendente": "Ana"}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		convID := r.Str("id")

		// The opening template reaches the Graph API with exactly Meta's body.
		require.True(t, c.fake.WaitFor(base+1, 10*time.Second))
		msgs := c.fake.Messages()
		opening := msgs[len(msgs)-1]
		require.Equal(t, "/v25.0/"+pnid+"/messages", c.fake.Requests()[len(c.fake.Requests())-1].Path)
		require.JSONEq(t, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987650001","type":"template",
			"template":{"name":"saudacao","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[
			{"type":"text","text":"João","parameter_name":"nome"},{"type":"text","text":"Ana","parameter_name":"atendente"}]}]}}`, string(opening.Body))
		waitFor(t, "opening sent", func() bool { return c.messages(t, convID)[0]["status"] == "sent" })

		// Three messages typed while waiting are queued and do not leave.
		var queued []string
		for i := 1; i <= 3; i++ {
			m := c.Admin.Post("/api/v1/conversations/"+convID+"/messages", map[string]any{"text": fmt.Sprintf("mensagem %d", i)})
			require.Equal(t, http.StatusCreated, m.Status, string(m.Body))
			require.Equal(t, "queued", m.Str("status"))
			queued = append(queued, m.Str("id"))
		}
		c.settle(t)
		require.Len(t, sentTo(c.fake, "+5511987650001"), 1, "a message queued while waiting left")

		// The reply arrives from the 12-digit wa_id: it matches the contact, opens the window, releases the queue.
		now := time.Now()
		w := c.webhook(t, inbound("551187650001", "wamid.in.1", "Oi, pode falar", now))
		require.Equal(t, http.StatusOK, w.Status, string(w.Body))
		waitFor(t, "the queue at the fake", func() bool { return len(sentTo(c.fake, "+5511987650001")) >= 4 })
		all := sentTo(c.fake, "+5511987650001")[1:]
		for i, m := range all {
			require.JSONEq(t, fmt.Sprintf(`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987650001","type":"text","text":{"preview_url":false,"body":"mensagem %d"}}`, i+1), string(m.Body))
		}
		conv := c.Admin.Get("/api/v1/conversations/" + convID)
		require.Equal(t, "active", conv.Str("status"))
		window := conv.JSON()["window"].(map[string]any)
		require.Equal(t, true, window["open"])

		// Status webhooks move every outbound message to read; a late "sent" does not move it back.
		waitFor(t, "queue sent", func() bool {
			for _, m := range c.messages(t, convID) {
				if m["direction"] == "out" && m["status"] != "sent" {
					return false
				}
			}
			return true
		})
		for _, m := range c.messages(t, convID) {
			if m["direction"] != "out" {
				continue
			}
			wamid := m["provider_message_id"].(string)
			for _, st := range []string{"delivered", "read", "sent", "delivered"} {
				require.Equal(t, http.StatusOK, c.webhook(t, status(wamid, st, "551187650001", now)).Status)
			}
		}
		final := c.messages(t, convID)
		require.Len(t, final, 5)
		require.Equal(t, "in", final[4]["direction"], "the reply is stored after the messages queued before it")
		for i, m := range final {
			if i == 4 {
				require.Equal(t, "received", m["status"])
				continue
			}
			require.Equal(t, "read", m["status"], "message %d", i)
			require.NotNil(t, m["pricing"])
		}
		// The contact now carries the wa_id Meta reported.
		ct := c.Admin.Get("/api/v1/contacts/lookup?phone=11987650001")
		require.Equal(t, "551187650001", ct.Str("wa_id"))

		// Replaying the inbound webhook changes nothing.
		require.Equal(t, http.StatusOK, c.webhook(t, inbound("551187650001", "wamid.in.1", "Oi, pode falar", now)).Status)
		require.Len(t, c.messages(t, convID), 5)
	})
}

func TestWebhookSignatureAndHandshake(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
		path := "/webhooks/whatsapp/" + c.channelID
		require.Equal(t, http.StatusUnauthorized, c.Client("").Post(path, body).Status)
		require.Equal(t, http.StatusUnauthorized, c.Client("").WithHeader(whatsapp.SignatureHeader, whatsapp.Sign(body, "wrong")).Post(path, body).Status)
		require.Equal(t, http.StatusOK, c.Client("").WithHeader(whatsapp.SignatureHeader, whatsapp.Sign(body, appSecret)).Post(path, body).Status)
		bad := []byte(`{"object":`)
		require.Equal(t, http.StatusBadRequest, c.Client("").WithHeader(whatsapp.SignatureHeader, whatsapp.Sign(bad, appSecret)).Post(path, bad).Status)

		ok := c.Client("").Get(path + "?hub.mode=subscribe&hub.verify_token=" + verify + "&hub.challenge=12345")
		require.Equal(t, http.StatusOK, ok.Status)
		require.Equal(t, "12345", string(bytes.TrimSpace(ok.Body)))
		require.Equal(t, http.StatusForbidden, c.Client("").Get(path+"?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1").Status)
	})
}

func TestSandboxFlowEndToEnd(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		r := env.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "21 99876-0002"},
			"channel_id": env.Demo.ChannelID, "team_id": env.Demo.TeamIDs[0], "send_type": "now",
			"template_id": env.Demo.TemplateIDs["boas_vindas"], "parameters": map[string]any{"nome": "Maria", "atendente": "Ana"}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		convID := r.Str("id")
		for i := 1; i <= 3; i++ {
			require.Equal(t, "queued", env.Admin.Post("/api/v1/conversations/"+convID+"/messages", map[string]any{"text": fmt.Sprint("fila ", i)}).Str("status"))
		}
		get := func() []map[string]any {
			var out struct{ Items []map[string]any }
			env.Admin.Get("/api/v1/conversations/"+convID+"/messages").Decode(t, &out)
			return out.Items
		}
		waitFor(t, "opening delivered", func() bool { return get()[0]["status"] == "delivered" || dump(t, env) })
		in := env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "(21) 99876-0002", "text": "Oi!"})
		require.Equal(t, http.StatusOK, in.Status, string(in.Body))
		waitFor(t, "queue delivered", func() bool {
			for _, m := range get() {
				if m["direction"] == "out" && m["status"] != "delivered" {
					return false
				}
			}
			return true
		})
		msgs := get()
		require.Len(t, msgs, 5)
		require.Equal(t, "in", msgs[4]["direction"], "the reply was stored after the queued messages were posted")
		for i := 1; i <= 3; i++ {
			require.Equal(t, fmt.Sprint("fila ", i), msgs[i]["text"])
		}
		require.Equal(t, "active", env.Admin.Get("/api/v1/conversations/"+convID).Str("status"))
	})
}

func dump(t *testing.T, env *apptest.Env) bool {
	t.Log(env.Logs.String())
	return false
}
