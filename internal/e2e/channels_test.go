package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

const publicURL = "https://atendimento.example.com"

// testConnection posts "Testar conexão" for the cloud channel.
func (c *cloud) testConnection(t *testing.T) *apptest.Response {
	t.Helper()
	return c.Admin.Post("/api/v1/channels/"+c.channelID+"/test", nil)
}

// requireProblem checks a problem's status and code, and that the same code sits at field in errors[].
func requireProblem(t *testing.T, r *apptest.Response, status int, code, field string) {
	t.Helper()
	require.Equal(t, status, r.Status, string(r.Body))
	require.Equal(t, code, r.Str("code"), string(r.Body))
	var p struct {
		Errors []struct{ Field, Code string }
	}
	r.Decode(t, &p)
	if field == "" {
		require.Empty(t, p.Errors, string(r.Body))
		return
	}
	require.Len(t, p.Errors, 1, string(r.Body))
	require.Equal(t, field, p.Errors[0].Field)
	require.Equal(t, code, p.Errors[0].Code)
}

func TestChannelTestConnection(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		c.fake.SetPhoneNumber(whatsapp.PhoneNumber{ID: pnid, DisplayPhoneNumber: "+55 11 4000-9999", VerifiedName: "Loja Exemplo", QualityRating: "GREEN"})

		r := c.testConnection(t)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.JSONEq(t, `{"display_phone_number":"+55 11 4000-9999","verified_name":"Loja Exemplo","quality_rating":"GREEN","phone_number_matches":true}`, string(r.Body))
		reqs := c.fake.Requests()
		last := reqs[len(reqs)-1]
		require.Equal(t, http.MethodGet, last.Method)
		require.Equal(t, "/v25.0/"+pnid, last.Path)
		require.Equal(t, "display_phone_number,verified_name,quality_rating", last.Query.Get("fields"))
		require.Equal(t, "Bearer "+token, last.Header.Get("Authorization"), "the channel's own token")
		require.Empty(t, last.Body)

		// Meta's number is not the channel's: the id belongs to another number.
		c.fake.SetPhoneNumber(whatsapp.PhoneNumber{ID: pnid, DisplayPhoneNumber: "+55 21 3000-0000", VerifiedName: "Outra", QualityRating: "YELLOW"})
		r = c.testConnection(t)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, false, r.JSON()["phone_number_matches"])

		// Each refusal names what to fix, at its field.
		c.fake.FailNext(1, http.StatusForbidden, whatsapptest.ErrorBody(200, "Requires whatsapp_business_messaging permission", ""), nil)
		requireProblem(t, c.testConnection(t), http.StatusUnprocessableEntity, "whatsapp_permission_missing", "access_token")
		c.fake.FailNext(1, http.StatusForbidden, whatsapptest.ErrorBody(10, "Application does not have permission for this action", ""), nil)
		requireProblem(t, c.testConnection(t), http.StatusUnprocessableEntity, "whatsapp_permission_missing", "access_token")
		c.fake.FailNext(1, http.StatusNotFound, "<html>Not Found</html>", nil)
		requireProblem(t, c.testConnection(t), http.StatusUnprocessableEntity, "whatsapp_phone_number_id_invalid", "phone_number_id")
		c.fake.FailNext(1, http.StatusInternalServerError, whatsapptest.ErrorBody(1, "An unknown error occurred", ""), nil)
		requireProblem(t, c.testConnection(t), http.StatusBadGateway, "provider_error", "")

		// A wrong id: the fake answers as Meta does (code 100, subcode 33).
		r = c.Admin.Patch("/api/v1/channels/"+c.channelID, map[string]any{"phone_number_id": "999999999"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		r = c.testConnection(t)
		requireProblem(t, r, http.StatusUnprocessableEntity, "whatsapp_phone_number_id_invalid", "phone_number_id")
		require.Contains(t, r.Str("detail"), "error 100", "Meta's code is in the detail")

		// A wrong (or expired) token: Meta's 190.
		r = c.Admin.Patch("/api/v1/channels/"+c.channelID, map[string]any{"phone_number_id": pnid, "access_token": "EAAG-revoked"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		r = c.testConnection(t)
		requireProblem(t, r, http.StatusUnprocessableEntity, "whatsapp_token_invalid", "access_token")
		require.NotContains(t, string(r.Body), "EAAG-revoked", "the token is never echoed")

		// Meta cannot be reached.
		c.fake.Close()
		requireProblem(t, c.testConnection(t), http.StatusBadGateway, "whatsapp_unreachable", "")

		// A sandbox channel has nothing to test.
		r = c.Admin.Post("/api/v1/channels/"+c.Demo.ChannelID+"/test", nil)
		requireProblem(t, r, http.StatusConflict, "channel_not_testable", "")
		r = c.Admin.Post("/api/v1/channels/"+unknownChannel+"/test", nil)
		require.Equal(t, http.StatusNotFound, r.Status, string(r.Body))
	})
}

const unknownChannel = "00000000-0000-4000-8000-000000000000"

func TestChannelTestIsForAdmins(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		r := c.Admin.Post("/api/v1/users", map[string]any{"name": "Bia", "email": "bia@example.com", "password": "agent-password-123", "role": "agent"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		agent := c.Login("bia@example.com", "agent-password-123")
		r = agent.Post("/api/v1/channels/"+c.channelID+"/test", nil)
		require.Equal(t, http.StatusForbidden, r.Status, string(r.Body))
		require.Empty(t, c.fake.Requests(), "nothing reached Meta")
	})
}

func TestChannelWebhookURLFromPublicURL(t *testing.T) {
	eachCloudWith(t, func(cfg *app.Config) { cfg.PublicURL = publicURL }, func(t *testing.T, c *cloud) {
		r := c.Admin.Get("/api/v1/channels/" + c.channelID)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, publicURL+"/webhooks/whatsapp/"+c.channelID, r.Str("webhook_url"))
		for _, s := range []string{token, appSecret, verify} {
			require.NotContains(t, string(r.Body), s, "secrets stay write-only")
		}
		r = c.Admin.Get("/api/v1/channels/" + c.Demo.ChannelID)
		require.Nil(t, r.JSON()["webhook_url"], "a sandbox channel has no webhook")
	})
	eachCloud(t, func(t *testing.T, c *cloud) {
		r := c.Admin.Get("/api/v1/channels/" + c.channelID)
		require.Contains(t, r.JSON(), "webhook_url")
		require.Nil(t, r.JSON()["webhook_url"], "without PUBLIC_URL the server cannot know its address")
	})
}

func TestChannelLastWebhookAt(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		get := func() any {
			r := c.Admin.Get("/api/v1/channels/" + c.channelID)
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			require.Contains(t, r.JSON(), "last_webhook_at")
			return r.JSON()["last_webhook_at"]
		}
		require.Nil(t, get(), "no webhook yet")

		// A delivery whose signature does not verify is not the channel's webhook working.
		body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
		r := c.Client("").WithHeader(whatsapp.SignatureHeader, whatsapp.Sign(body, "wrong-secret")).Post("/webhooks/whatsapp/"+c.channelID, body)
		require.Equal(t, http.StatusUnauthorized, r.Status)
		require.Nil(t, get())

		before := time.Now().UTC().Add(-time.Second)
		require.Equal(t, http.StatusOK, c.signedRaw(t, c.channelID, body).Status)
		first, ok := get().(string)
		require.True(t, ok)
		at, err := time.Parse(time.RFC3339Nano, first)
		require.NoError(t, err)
		require.True(t, at.After(before) && at.Before(time.Now().Add(time.Second)), at)

		// Within the minute nothing is written again: the time stays the first delivery's.
		time.Sleep(2 * time.Millisecond) // so that a second write would store a different time
		require.Equal(t, http.StatusOK, c.signedRaw(t, c.channelID, body).Status)
		require.Equal(t, first, get())

		// Editing the channel keeps it.
		r = c.Admin.Patch("/api/v1/channels/"+c.channelID, map[string]any{"name": "Cloud renomeado"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, first, r.JSON()["last_webhook_at"])
	})
}

func TestDeactivatedChannelKeepsHistoryAndTakesNoStarts(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		convID := c.start(t, "11 98765-0001")
		r := c.Admin.Patch("/api/v1/channels/"+c.channelID, map[string]any{"active": false})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, false, r.JSON()["active"])

		r = c.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "11 98765-0002"},
			"channel_id": c.channelID, "team_id": c.teamID, "send_type": "now", "template_id": c.named,
			"parameters": map[string]any{"nome": "Cliente", "atendente": "Ana"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Contains(t, r.FieldCodes(), "channel_id:channel_inactive")

		// Its conversations stay readable, and the channel is still listed.
		r = c.Admin.Get("/api/v1/conversations/" + convID)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.NotEmpty(t, c.messages(t, convID))
		r = c.Admin.Get("/api/v1/channels")
		require.Equal(t, http.StatusOK, r.Status)
		require.Contains(t, string(r.Body), c.channelID)

		// Reactivated, it starts again.
		r = c.Admin.Patch("/api/v1/channels/"+c.channelID, map[string]any{"active": true})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		c.start(t, "11 98765-0003")
	})
}

func TestTemplateSyncCountsFailures(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		// Components Meta sent as an object, not an array: unreadable.
		bad, _ := json.Marshal(map[string]any{"type": "BODY", "text": "Veja {{1}}"})
		c.fake.SetTemplates(waba,
			metaTemplate("9101", "novo", "APPROVED", "", "Olá {{1}}"),
			whatsapp.Template{ID: "9102", Name: "carrossel", Language: "pt_BR", Status: "APPROVED", Category: "MARKETING", Components: bad},
		)
		res := c.Admin.Post("/api/v1/channels/"+c.channelID+"/templates/sync", nil)
		require.Equal(t, http.StatusOK, res.Status, string(res.Body))
		var out struct {
			Synced, Created, Updated, Unchanged, Disabled, Failed int
			Failures                                              []struct {
				Name, Language string
				Errors         []struct{ Field, Code string }
			}
		}
		res.Decode(t, &out)
		require.Equal(t, 1, out.Created)
		require.Equal(t, 1, out.Failed)
		require.Len(t, out.Failures, 1)
		require.Equal(t, "carrossel", out.Failures[0].Name)
		require.Equal(t, "pt_BR", out.Failures[0].Language)
		require.NotEmpty(t, out.Failures[0].Errors)
		require.Equal(t, "components_invalid", out.Failures[0].Errors[0].Code)
		require.NotContains(t, c.statuses(t), "carrossel", "nothing stored for it")

		// Again: the good one is unchanged, the bad one fails again.
		res = c.Admin.Post("/api/v1/channels/"+c.channelID+"/templates/sync", nil)
		res.Decode(t, &out)
		require.Equal(t, []int{0, 0, 1, 1}, []int{out.Created, out.Updated, out.Unchanged, out.Failed})
	})
}

func TestTemplatesSayWhyTheyCannotBeUsed(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		reg := func(name, status string, comps []map[string]any) map[string]any {
			r := c.Admin.Post("/api/v1/templates", map[string]any{"channel_id": c.channelID, "name": name, "language": "pt_BR",
				"category": "UTILITY", "status": status, "components": comps})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			return r.JSON()
		}
		body := map[string]any{"type": "BODY", "text": "Olá {{1}}"}
		cases := []struct {
			name, status string
			comps        []map[string]any
			want         any
		}{
			{"aprovado", "APPROVED", []map[string]any{body}, nil},
			{"pendente", "PENDING", []map[string]any{body}, "pending"},
			{"rejeitado", "REJECTED", []map[string]any{body}, "rejected"},
			{"pausado", "PAUSED", []map[string]any{body}, "paused"},
			{"desativado", "DISABLED", []map[string]any{body}, "disabled"},
			{"com_imagem", "APPROVED", []map[string]any{{"type": "HEADER", "format": "IMAGE"}, body}, nil}, // sent with header_media
			{"com_local", "APPROVED", []map[string]any{{"type": "HEADER", "format": "LOCATION"}, body}, "media_header_unsupported"},
			{"com_cupom", "APPROVED", []map[string]any{body, {"type": "BUTTONS", "buttons": []map[string]any{{"type": "COPY_CODE", "example": "CUPOM10"}}}}, "button_unsupported"},
		}
		for _, tc := range cases {
			got := reg(tc.name, tc.status, tc.comps)
			require.Contains(t, got, "unusable_reason")
			require.Equal(t, tc.want, got["unusable_reason"], tc.name)
		}
		// The list says it too, so the settings screen and API clients see why.
		r := c.Admin.Get("/api/v1/templates?limit=200&channel_id=" + c.channelID)
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, len(cases)+1, strings.Count(string(r.Body), `"unusable_reason"`))
	})
}
