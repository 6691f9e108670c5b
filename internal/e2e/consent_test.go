package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/whatsapp"
)

// signedRaw posts body to the cloud channel's webhook as Meta would, signed.
func (c *cloud) signedRaw(t *testing.T, channelID string, body []byte) *apptest.Response {
	t.Helper()
	return c.Client("").WithHeader(whatsapp.SignatureHeader, whatsapp.Sign(body, appSecret)).Post("/webhooks/whatsapp/"+channelID, body)
}

// fixture posts testdata/consent/<name> to the cloud channel's webhook and requires a 200.
func (c *cloud) fixture(t *testing.T, name string) map[string]any {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "consent", name))
	require.NoError(t, err)
	r := c.signedRaw(t, c.channelID, body)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	return r.JSON()
}

// contactByPhone returns the contact with the phone (any form).
func (c *cloud) contactByPhone(t *testing.T, phone string) map[string]any {
	t.Helper()
	r := c.Admin.Get("/api/v1/contacts/lookup?phone=" + phone)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	return r.JSON()
}

// history returns a contact's consent history, newest first.
func (c *cloud) history(t *testing.T, contactID string) []map[string]any {
	t.Helper()
	r := c.Admin.Get("/api/v1/contacts/" + contactID + "/consent")
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var out struct{ Items []map[string]any }
	r.Decode(t, &out)
	return out.Items
}

// createContact creates a contact and returns its id.
func (c *cloud) createContact(t *testing.T, phone string) string {
	t.Helper()
	r := c.Admin.Post("/api/v1/contacts", map[string]any{"name": "Cliente", "phone": phone})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	return r.Str("id")
}

// subscribe registers a CRM receiver for the event kinds (the env must allow private URLs).
func (c *cloud) subscribe(t *testing.T, events ...string) *receiver {
	t.Helper()
	rcv := newReceiver(t)
	r := c.Admin.Post("/api/v1/webhook-subscriptions", map[string]any{"url": rcv.URL(), "events": events})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	return rcv
}

// template registers an approved NAMED template ({{nome}}) on the cloud channel.
func (c *cloud) template(t *testing.T, name, category, externalID string) string {
	t.Helper()
	r := c.Admin.Post("/api/v1/templates", map[string]any{"channel_id": c.channelID, "name": name, "language": "pt_BR",
		"category": category, "status": "APPROVED", "parameter_format": "NAMED", "external_id": externalID,
		"components": []map[string]any{{"type": "BODY", "text": "Olá {{nome}}, temos novidades."}}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	return r.Str("id")
}

func TestConsentKeywords(t *testing.T) {
	t.Parallel()
	eachCloud(t, func(t *testing.T, c *cloud) {
		now := time.Now()
		cases := []struct {
			text     string
			optedOut bool
		}{{"SAIR", true}, {" sair! ", true}, {"Sáir", true}, {"PARAR", true}, {"descadastrar", true}, {"vou sair agora", false}}
		for i, tc := range cases {
			from := fmt.Sprintf("55119876510%02d", i)
			r := c.webhook(t, inbound(from, fmt.Sprintf("wamid.kw.%d", i), tc.text, now))
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			ct := c.contactByPhone(t, "%2B"+from)
			require.Equal(t, tc.optedOut, ct["marketing_opted_out"], "%q", tc.text)
			h := c.history(t, ct["id"].(string))
			if !tc.optedOut {
				require.Empty(t, h, "%q records nothing", tc.text)
				require.Nil(t, ct["marketing_consent_at"])
				continue
			}
			require.Len(t, h, 1)
			require.Equal(t, "keyword", h[0]["source"])
			require.Equal(t, true, h[0]["opted_out"])
			require.Equal(t, now.UTC().Truncate(time.Second).Format(time.RFC3339), h[0]["at"])
			require.NotNil(t, ct["marketing_consent_at"])
		}

		// VOLTAR opts the first contact (SAIR) back in; a replay of the same message records nothing more.
		from := "5511987651000"
		r := c.webhook(t, inbound(from, "wamid.kw.voltar", "Voltar.", now.Add(time.Minute)))
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		r = c.webhook(t, inbound(from, "wamid.kw.voltar", "Voltar.", now.Add(time.Minute)))
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		ct := c.contactByPhone(t, "%2B"+from)
		require.Equal(t, false, ct["marketing_opted_out"])
		h := c.history(t, ct["id"].(string))
		require.Len(t, h, 2)
		require.Equal(t, []any{false, true}, []any{h[0]["opted_out"], h[1]["opted_out"]}, "newest first")

		// Every inbound message is still stored; nothing was sent (no confirmation configured).
		convs := c.Admin.Get("/api/v1/conversations?contact_id=" + ct["id"].(string))
		var list struct{ Items []struct{ ID string } }
		convs.Decode(t, &list)
		require.Len(t, list.Items, 1)
		require.Len(t, c.messages(t, list.Items[0].ID), 2)
		require.Zero(t, c.fake.Count())
	})
}

func TestConsentConfirmationAndSettings(t *testing.T) {
	t.Parallel()
	eachCloud(t, func(t *testing.T, c *cloud) {
		acc := c.Admin.Get("/api/v1/account")
		require.Equal(t, []any{"SAIR", "PARAR", "STOP", "CANCELAR", "DESCADASTRAR"}, acc.JSON()["opt_out_keywords"])
		require.Equal(t, []any{"VOLTAR"}, acc.JSON()["opt_in_keywords"])
		require.Equal(t, "", acc.Str("opt_out_confirmation"))

		r := c.Admin.Patch("/api/v1/account", map[string]any{"opt_out_keywords": []string{"sair", "SAIR!"}, "opt_in_keywords": []string{"Sair"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.ElementsMatch(t, []string{"opt_out_keywords[1]:keyword_invalid", "opt_in_keywords[0]:keyword_invalid"}, r.FieldCodes())

		const reply = "Pronto, você não receberá mais ofertas. Responda VOLTAR para voltar."
		r = c.Admin.Patch("/api/v1/account", map[string]any{"opt_out_keywords": []string{"Chega", "SAIR"}, "opt_out_confirmation": reply})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, []any{"Chega", "SAIR"}, r.JSON()["opt_out_keywords"])

		from := "5511987652001"
		require.Equal(t, http.StatusOK, c.webhook(t, inbound(from, "wamid.chega", "chega!!", time.Now())).Status)
		require.Equal(t, true, c.contactByPhone(t, "%2B"+from)["marketing_opted_out"])
		// The confirmation goes as a text reply inside the window the message opened, through the outbox.
		require.True(t, c.fake.WaitFor(1, 10*time.Second))
		msgs := c.fake.Messages()
		require.Len(t, msgs, 1)
		require.Equal(t, "text", msgs[0].Type)
		var sent struct{ Text struct{ Body string } }
		require.NoError(t, json.Unmarshal(msgs[0].Body, &sent))
		require.Equal(t, reply, sent.Text.Body)
	})
}

func TestConsentRefusesMarketing(t *testing.T) {
	t.Parallel()
	eachCloud(t, func(t *testing.T, c *cloud) {
		marketing := c.template(t, "promo", "MARKETING", "")
		contactID := c.createContact(t, "11 98765-3001")
		r := c.Admin.Post("/api/v1/contacts/"+contactID+"/consent", map[string]any{"opted_out": true, "detail": "pediu por telefone"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.Equal(t, "api", r.Str("source"))
		require.Nil(t, r.JSON()["user_id"])
		require.Equal(t, true, c.Admin.Get("/api/v1/contacts/" + contactID).JSON()["marketing_opted_out"])

		body := func(tpl string) map[string]any {
			return map[string]any{"contact_id": contactID, "channel_id": c.channelID, "team_id": c.teamID, "send_type": "now",
				"template_id": tpl, "parameters": map[string]any{"nome": "Cliente"}}
		}
		// Refused with the other failing checks, all at once.
		bad := body(marketing)
		bad["team_id"] = "00000000-0000-4000-8000-000000000000"
		r = c.Admin.Post("/api/v1/conversations", bad)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.ElementsMatch(t, []string{"team_id:team_not_found", "contact:contact_opted_out"}, r.FieldCodes())
		r = c.Admin.Post("/api/v1/conversations", body(marketing))
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"contact:contact_opted_out"}, r.FieldCodes())

		// A UTILITY template still goes.
		utility := body(c.named)
		utility["parameters"] = map[string]any{"nome": "Cliente", "atendente": "Ana"}
		r = c.Admin.Post("/api/v1/conversations", utility)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		convID := r.Str("id")

		// Inside the conversation: the marketing template is refused, text in the window goes.
		r = c.Admin.Post("/api/v1/conversations/"+convID+"/messages", map[string]any{"template_id": marketing, "parameters": map[string]any{"nome": "Cliente"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"contact:contact_opted_out"}, r.FieldCodes())
		require.Equal(t, http.StatusOK, c.webhook(t, inbound("5511987653001", "wamid.r1", "oi", time.Now())).Status)
		c.post(t, convID, "Tudo certo com seu pedido.")

		// Opting back in (recorded by a logged-in user: source agent) lets marketing go again.
		r = c.Login(c.Demo.AdminEmail, c.Demo.AdminPassword).Post("/api/v1/contacts/"+contactID+"/consent", map[string]any{"opted_out": false})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.Equal(t, "agent", r.Str("source"))
		require.NotEmpty(t, r.Str("user_id"))
		r = c.Admin.Post("/api/v1/conversations/"+convID+"/messages", map[string]any{"template_id": marketing, "parameters": map[string]any{"nome": "Cliente"}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.Len(t, c.history(t, contactID), 2)
	})
}

func TestConsentFailsQueuedMarketing(t *testing.T) {
	t.Parallel()
	eachCloudWith(t, allowPrivate.Configure, func(t *testing.T, c *cloud) {
		rcv := c.subscribe(t, "message.updated")
		marketing := c.template(t, "promo", "MARKETING", "")
		contactID := c.createContact(t, "11 99876-5040")
		// A marketing send waits in the outbox: a scheduled start.
		r := c.Admin.Post("/api/v1/conversations", map[string]any{"contact_id": contactID, "channel_id": c.channelID, "team_id": c.teamID,
			"send_type": "scheduled", "scheduled_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
			"template_id": marketing, "parameters": map[string]any{"nome": "Cliente"}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		convID := r.Str("id")
		msgID := r.JSON()["opening_message"].(map[string]any)["id"].(string)

		// Meta's stop (for the wa_id without the ninth digit) fails it.
		ack := c.fixture(t, "stop.json")
		require.EqualValues(t, 1, ack["preferences"])
		msgs := c.messages(t, convID)
		require.Len(t, msgs, 1)
		require.Equal(t, "failed", msgs[0]["status"])
		require.Equal(t, map[string]any{"code": float64(131050), "title": "contact_opted_out"}, msgs[0]["error"])
		require.Equal(t, "failed", c.Admin.Get("/api/v1/conversations/"+convID).Str("status"))

		// The agent sees it: message.updated for the message.
		hit := rcv.wait(t, 1)[0]
		var env struct {
			Type string
			Data map[string]any
		}
		require.NoError(t, json.Unmarshal(hit.Body, &env))
		require.Equal(t, "message.updated", env.Type)
		require.Equal(t, msgID, env.Data["id"])
		require.Equal(t, "failed", env.Data["status"])
		require.Zero(t, c.fake.Count(), "nothing reached Meta")
	})
}

func TestConsentMetaPreferences(t *testing.T) {
	t.Parallel()
	eachCloud(t, func(t *testing.T, c *cloud) {
		contactID := c.createContact(t, "11 99876-5040")

		// resume (later) arrives before stop (earlier): the latest by Meta's timestamp stays.
		require.EqualValues(t, 1, c.fixture(t, "resume.json")["preferences"])
		require.EqualValues(t, 1, c.fixture(t, "stop.json")["preferences"])
		ct := c.Admin.Get("/api/v1/contacts/" + contactID).JSON()
		require.Equal(t, false, ct["marketing_opted_out"])
		require.Equal(t, time.Unix(1767225960, 0).UTC().Format(time.RFC3339), ct["marketing_consent_at"])
		// Replays change nothing and are kept once.
		c.fixture(t, "stop.json")
		c.fixture(t, "resume.json")
		h := c.history(t, contactID)
		require.Len(t, h, 2)
		require.Equal(t, []any{"meta", "meta"}, []any{h[0]["source"], h[1]["source"]})
		require.Equal(t, []any{false, true}, []any{h[0]["opted_out"], h[1]["opted_out"]})
		require.Equal(t, "User requested to resume marketing messages", h[0]["detail"])

		// An unknown wa_id is acknowledged, ignored and logged.
		ack := c.fixture(t, "stop_unknown.json")
		require.EqualValues(t, 0, ack["preferences"])
		require.Contains(t, c.Logs.String(), "marketing preference for an unknown contact ignored")
	})
}

func TestTemplateQualityAndCategory(t *testing.T) {
	t.Parallel()
	eachCloudWith(t, allowPrivate.Configure, func(t *testing.T, c *cloud) {
		rcv := c.subscribe(t, "template.updated")
		tpl := c.template(t, "aviso_pedido", "UTILITY", "806312974732579")
		require.Equal(t, "UNKNOWN", c.Admin.Get("/api/v1/templates/"+tpl).Str("quality"))
		contactID := c.createContact(t, "11 98765-6060")
		estimate := func() map[string]any {
			r := c.Admin.Get("/api/v1/pricing/estimate?template_id=" + tpl + "&contact_id=" + contactID)
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			return r.JSON()
		}
		before := estimate()
		require.Equal(t, "UTILITY", before["category"])

		require.EqualValues(t, 1, c.fixture(t, "quality_red.json")["templates"])
		require.Equal(t, "RED", c.Admin.Get("/api/v1/templates/"+tpl).Str("quality"))
		require.EqualValues(t, 1, c.fixture(t, "category_marketing.json")["templates"])
		got := c.Admin.Get("/api/v1/templates/" + tpl)
		require.Equal(t, "MARKETING", got.Str("category"))
		after := estimate()
		require.Equal(t, "MARKETING", after["category"])
		require.Greater(t, after["amount"].(float64), before["amount"].(float64), "marketing rates")

		// A replay is acknowledged and changes nothing; each real change was announced.
		c.fixture(t, "quality_red.json")
		hits := rcv.wait(t, 2)
		var kinds, qualities, categories []string
		for _, h := range hits {
			var env struct {
				Type string
				Data map[string]any
			}
			require.NoError(t, json.Unmarshal(h.Body, &env))
			require.Equal(t, tpl, env.Data["id"])
			kinds = append(kinds, env.Type)
			qualities = append(qualities, env.Data["quality"].(string))
			categories = append(categories, env.Data["category"].(string))
		}
		require.Equal(t, []string{"template.updated", "template.updated"}, kinds)
		require.Contains(t, qualities, "RED")
		require.Contains(t, categories, "MARKETING")
	})
}

// pywaDir is the real-world corpus shared beside the repository, when it is there.
const pywaDir = "../../../shared/fixtures/meta-webhooks/pywa"

// TestPywaCorpusReplayed replays every case of the shared corpus of Meta's webhook bodies (pywa,
// MIT) to a channel with the corpus' own phone number id and WABA: each is acknowledged, and the
// marketing preferences and quality update take effect. Skipped when the corpus is absent.
func TestPywaCorpusReplayed(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(pywaDir, "*.json"))
	if len(files) == 0 {
		t.Skip("no corpus at " + pywaDir)
	}
	t.Parallel()
	eachCloudWith(t, func(*app.Config) {}, func(t *testing.T, c *cloud) {
		contactID := c.createContact(t, "+1 650-555-1234")
		tpl := c.Admin.Post("/api/v1/templates", map[string]any{"channel_id": c.channelID, "name": "welcome_template", "language": "en_US",
			"category": "UTILITY", "status": "APPROVED", "parameter_format": "POSITIONAL", "external_id": "806312974732579",
			"components": []map[string]any{{"type": "BODY", "text": "Welcome {{1}}"}}}).Str("id")
		for _, f := range files {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			var cases map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(raw, &cases), f)
			names := make([]string, 0, len(cases))
			for n := range cases {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				r := c.signedRaw(t, c.channelID, cases[n])
				require.Equal(t, http.StatusOK, r.Status, "%s %s: %s", filepath.Base(f), n, r.Body)
			}
		}
		require.Equal(t, "YELLOW", c.Admin.Get("/api/v1/templates/"+tpl).Str("quality"))
		h := c.history(t, contactID)
		require.NotEmpty(t, h, "user_marketing_preferences recorded")
		for _, e := range h {
			require.Equal(t, "meta", e["source"])
			require.Equal(t, false, e["opted_out"], "resume and signup opt in")
		}
	})
}
