package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// metaTemplate is a template as Meta's message_templates lists it.
func metaTemplate(id, name, status, format, body string) whatsapp.Template {
	comps, _ := json.Marshal([]map[string]any{{"type": "BODY", "text": body}, {"type": "FOOTER", "text": "Loja Exemplo"}})
	return whatsapp.Template{ID: id, Name: name, Language: "pt_BR", Status: status, Category: "UTILITY", ParameterFormat: format, Components: comps}
}

// syncResult is the body of POST /channels/{id}/templates/sync.
type syncResult struct {
	Synced, Created, Updated, Unchanged, Disabled int
	Templates                                     []struct {
		ID, Name, Status string
		ExternalID       string `json:"external_id"`
		Variables        []string
		Components       json.RawMessage
	}
}

func (c *cloud) sync(t *testing.T) syncResult {
	t.Helper()
	r := c.Admin.Post("/api/v1/channels/"+c.channelID+"/templates/sync", nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var out syncResult
	r.Decode(t, &out)
	return out
}

// statuses returns the channel's templates' statuses by name, as the API lists them.
func (c *cloud) statuses(t *testing.T) map[string]string {
	t.Helper()
	r := c.Admin.Get("/api/v1/templates?limit=200&channel_id=" + c.channelID)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var list struct {
		Items []struct{ Name, Status string }
	}
	r.Decode(t, &list)
	out := map[string]string{}
	for _, it := range list.Items {
		out[it.Name] = it.Status
	}
	return out
}

func TestTemplateSyncPullsMapsAndUpserts(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		// Seven templates over four pages; statuses Meta has and the product does not model.
		c.fake.SetPageSize(2)
		c.fake.SetTemplates(waba,
			metaTemplate("9001", "pedido_confirmado", "APPROVED", "NAMED", "Olá {{nome}}, seu pedido {{pedido}} foi confirmado."),
			metaTemplate("9002", "lembrete", "APPROVED", "", "Olá {{1}}, lembrete para {{2}}."),
			metaTemplate("9003", "em_recurso", "IN_APPEAL", "", "Texto {{1}}"),
			metaTemplate("9004", "apagando", "PENDING_DELETION", "", "Texto {{1}}"),
			metaTemplate("9005", "no_limite", "LIMIT_EXCEEDED", "", "Texto {{1}}"),
			metaTemplate("9006", "arquivado", "ARCHIVED", "", "Texto {{1}}"),
			metaTemplate("9007", "pausado", "PAUSED", "", "Texto {{1}}"),
		)
		res := c.sync(t)
		require.Equal(t, 7, res.Synced)
		require.Equal(t, 7, res.Created)
		require.Zero(t, res.Updated+res.Unchanged+res.Disabled)
		require.Len(t, res.Templates, 7)
		require.Equal(t, "pedido_confirmado", res.Templates[0].Name, "Meta's order")
		require.Equal(t, "9001", res.Templates[0].ExternalID)
		require.Equal(t, []string{"nome", "pedido"}, res.Templates[0].Variables)
		require.JSONEq(t, `[{"type":"BODY","text":"Olá {{nome}}, seu pedido {{pedido}} foi confirmado."},{"type":"FOOTER","text":"Loja Exemplo"}]`,
			string(res.Templates[0].Components))
		require.Equal(t, []string{"1", "2"}, res.Templates[1].Variables, "no parameter_format means positional")
		want := map[string]string{"pedido_confirmado": "APPROVED", "lembrete": "APPROVED", "em_recurso": "PENDING", "apagando": "DISABLED",
			"no_limite": "DISABLED", "arquivado": "DISABLED", "pausado": "PAUSED", "saudacao": "APPROVED"}
		require.Equal(t, want, c.statuses(t), "the hand-registered saudacao is left as it is")

		// The listing went through every page, with the channel's token.
		var pages int
		for _, r := range c.fake.Requests() {
			if r.Method == http.MethodGet && r.Path == "/v25.0/"+waba+"/message_templates" {
				pages++
				require.Equal(t, "Bearer "+token, r.Header.Get("Authorization"))
			}
		}
		require.Equal(t, 4, pages)

		// Nothing changed at Meta: nothing is written.
		again := c.sync(t)
		require.Equal(t, syncCounts{7, 0, 0, 7, 0}, counts(again))

		// A synced template starts a conversation; its name and language go to Meta.
		base := c.fake.Count()
		r := c.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "11 98765-0101"},
			"channel_id": c.channelID, "team_id": c.teamID, "send_type": "now", "template_id": res.Templates[0].ID,
			"parameters": map[string]any{"nome": "João", "pedido": "123"}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.True(t, c.fake.WaitFor(base+1, 10*time.Second))
		require.JSONEq(t, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987650101","type":"template",
			"template":{"name":"pedido_confirmado","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[
			{"type":"text","text":"João","parameter_name":"nome"},{"type":"text","text":"123","parameter_name":"pedido"}]}]}}`,
			string(c.fake.Messages()[base].Body))

		// At Meta one template is paused, one reinstated and one deleted: the sync follows.
		c.fake.SetTemplates(waba,
			metaTemplate("9001", "pedido_confirmado", "PAUSED", "NAMED", "Olá {{nome}}, seu pedido {{pedido}} foi confirmado."),
			metaTemplate("9002", "lembrete", "APPROVED", "", "Olá {{1}}, lembrete para {{2}}."),
			metaTemplate("9003", "em_recurso", "APPROVED", "", "Texto {{1}}"),
			metaTemplate("9004", "apagando", "PENDING_DELETION", "", "Texto {{1}}"),
			metaTemplate("9005", "no_limite", "LIMIT_EXCEEDED", "", "Texto {{1}}"),
			metaTemplate("9006", "arquivado", "ARCHIVED", "", "Texto {{1}}"),
		)
		changed := c.sync(t)
		require.Equal(t, syncCounts{6, 0, 2, 4, 1}, counts(changed))
		want["pedido_confirmado"], want["em_recurso"], want["pausado"] = "PAUSED", "APPROVED", "DISABLED"
		require.Equal(t, want, c.statuses(t))

		// A paused template no longer starts conversations.
		r = c.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "11 98765-0102"},
			"channel_id": c.channelID, "team_id": c.teamID, "send_type": "now", "template_id": res.Templates[0].ID,
			"parameters": map[string]any{"nome": "Ana", "pedido": "124"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Contains(t, r.FieldCodes(), "template_id:template_not_approved")
	})
}

type syncCounts struct{ synced, created, updated, unchanged, disabled int }

func counts(r syncResult) syncCounts {
	return syncCounts{r.Synced, r.Created, r.Updated, r.Unchanged, r.Disabled}
}

func TestTemplateSyncErrors(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		// A sandbox channel has no provider to pull from.
		r := c.Admin.Post("/api/v1/channels/"+c.Demo.ChannelID+"/templates/sync", nil)
		require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
		require.Equal(t, "channel_not_syncable", r.Str("code"))

		r = c.Admin.Post("/api/v1/channels/00000000-0000-4000-8000-000000000000/templates/sync", nil)
		require.Equal(t, http.StatusNotFound, r.Status)
		require.Equal(t, "channel_not_found", r.Str("code"))

		// Meta refuses the channel's token: 502 naming Meta's code and title; nothing changes.
		before := c.statuses(t)
		r = c.Admin.Patch("/api/v1/channels/"+c.channelID, map[string]any{"access_token": "EAAG-revoked"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		r = c.Admin.Post("/api/v1/channels/"+c.channelID+"/templates/sync", nil)
		require.Equal(t, http.StatusBadGateway, r.Status, string(r.Body))
		require.Equal(t, "provider_error", r.Str("code"))
		require.Contains(t, r.Str("detail"), "error 190")
		require.NotContains(t, string(r.Body), "EAAG", "the token never shows")
		require.Equal(t, before, c.statuses(t))

		// A Meta outage (and a page that fails midway) is a 502 too, and stores nothing.
		r = c.Admin.Patch("/api/v1/channels/"+c.channelID, map[string]any{"access_token": token})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		c.fake.SetPageSize(1)
		c.fake.SetTemplates(waba, metaTemplate("9101", "um", "APPROVED", "", "Um {{1}}"), metaTemplate("9102", "dois", "APPROVED", "", "Dois {{1}}"))
		c.fake.SetRespond(func(req whatsapptest.Request) *whatsapptest.Response {
			if req.Query.Get("after") != "" {
				return &whatsapptest.Response{Status: http.StatusServiceUnavailable, Body: whatsapptest.ErrorBody(131016, "Service unavailable", "")}
			}
			return nil
		})
		r = c.Admin.Post("/api/v1/channels/"+c.channelID+"/templates/sync", nil)
		require.Equal(t, http.StatusBadGateway, r.Status, string(r.Body))
		require.Equal(t, "provider_error", r.Str("code"))
		require.Contains(t, r.Str("detail"), "131016")
		require.Equal(t, before, c.statuses(t))

	})
}

func TestPeriodicTemplateSync(t *testing.T) {
	eachCloudWith(t, func(cfg *app.Config) { cfg.TemplateSyncInterval = 200 * time.Millisecond }, func(t *testing.T, c *cloud) {
		c.fake.SetTemplates(waba, metaTemplate("9201", "periodico", "PENDING", "", "Oi {{1}}"))
		waitFor(t, "the periodic sync to store the template", func() bool { return c.statuses(t)["periodico"] == "PENDING" })
		c.fake.SetTemplates(waba, metaTemplate("9201", "periodico", "APPROVED", "", "Oi {{1}}"))
		waitFor(t, "the periodic sync to approve it", func() bool { return c.statuses(t)["periodico"] == "APPROVED" })
	})
}

// templateWebhook posts a signed message_template_status_update for the channel's WABA.
func (c *cloud) templateWebhook(t *testing.T, event, templateID, name string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": waba, "time": time.Now().Unix(),
		"changes": []any{map[string]any{"field": "message_template_status_update", "value": map[string]any{"event": event,
			"message_template_id": templateID, "message_template_name": name, "message_template_language": "pt_BR", "reason": "NONE"}}}}}})
	require.NoError(t, err)
	r := c.Client("").WithHeader(whatsapp.SignatureHeader, whatsapp.Sign(body, appSecret)).Post("/webhooks/whatsapp/"+c.channelID, body)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.EqualValues(t, 1, r.JSON()["templates"], string(r.Body))
}

func TestTemplateStatusWebhookPausesStarts(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		startBody := func(phone string) map[string]any {
			return map[string]any{"contact": map[string]any{"phone": phone}, "channel_id": c.channelID, "team_id": c.teamID,
				"send_type": "now", "template_id": c.named, "parameters": map[string]any{"nome": "João", "atendente": "Ana"}}
		}
		// Meta pauses the template (the hand-registered one has no Meta id: it matches by name and language).
		c.templateWebhook(t, "PAUSED", "778899", "saudacao")
		require.Equal(t, "PAUSED", c.Admin.Get("/api/v1/templates/"+c.named).Str("status"))
		r := c.Admin.Post("/api/v1/conversations", startBody("11 98765-0201"))
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"template_id:template_not_approved"}, r.FieldCodes())
		// A scheduled start is refused the same way, and nothing reached Meta.
		sched := startBody("11 98765-0202")
		sched["send_type"], sched["scheduled_at"] = "scheduled", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		r = c.Admin.Post("/api/v1/conversations", sched)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"template_id:template_not_approved"}, r.FieldCodes())
		require.Zero(t, c.fake.Count())

		// Reinstated, it starts conversations again.
		c.templateWebhook(t, "REINSTATED", "778899", "saudacao")
		r = c.Admin.Post("/api/v1/conversations", startBody("11 98765-0201"))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.True(t, c.fake.WaitFor(1, 10*time.Second))
	})
}
