package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestParameterKeysReachMeta starts conversations with templates that have a header variable, body
// variables and a URL button, keyed as DESIGN.md § Parameter keys says, and checks the exact
// request the Graph API receives: each value in its own component, named ones with their
// parameter_name, the button's suffix at its 0-based index.
func TestParameterKeysReachMeta(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		create := func(name, format string, comps []map[string]any) string {
			r := c.Admin.Post("/api/v1/templates", map[string]any{"channel_id": c.channelID, "name": name, "language": "pt_BR",
				"category": "UTILITY", "status": "APPROVED", "parameter_format": format, "components": comps})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			return r.Str("id")
		}
		buttons := map[string]any{"type": "BUTTONS", "buttons": []map[string]any{
			{"type": "QUICK_REPLY", "text": "Sair"},
			{"type": "URL", "text": "Acompanhar", "url": "https://loja.example.com/p/{{1}}", "example": []string{"https://loja.example.com/p/2024-1"}},
		}}
		positional := create("protocolo_pos", "POSITIONAL", []map[string]any{
			{"type": "HEADER", "format": "TEXT", "text": "Protocolo {{1}}", "example": map[string]any{"header_text": []string{"2024-1"}}},
			{"type": "BODY", "text": "Olá {{1}}, seu pedido sobre {{2}} foi aberto, {{1}}."},
			buttons,
		})
		named := create("protocolo_nom", "NAMED", []map[string]any{
			{"type": "HEADER", "format": "TEXT", "text": "Protocolo {{protocolo}}"},
			{"type": "BODY", "text": "Olá {{nome}}, seu pedido sobre {{assunto}} foi aberto."},
			buttons,
		})

		g := c.Admin.Get("/api/v1/templates/" + positional)
		require.Equal(t, http.StatusOK, g.Status)
		require.JSONEq(t, `[{"key":"header.1","component":"HEADER","label":"[1]","example":"2024-1"},
			{"key":"1","component":"BODY","label":"[1]","example":null},{"key":"2","component":"BODY","label":"[2]","example":null},
			{"key":"button.1","component":"BUTTON","label":"[1]","example":"2024-1"}]`, string(mustJSON(t, g.JSON()["variable_details"])))

		cases := []struct {
			phone, template string
			params          map[string]any
			want            string
		}{
			{"11 98765-0101", positional, map[string]any{"header.1": "2024-7", "1": "Ana", "2": "troca", "button.1": "2024-7"},
				`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987650101","type":"template",
				"template":{"name":"protocolo_pos","language":{"code":"pt_BR"},"components":[
				{"type":"header","parameters":[{"type":"text","text":"2024-7"}]},
				{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"troca"}]},
				{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"2024-7"}]}]}}`},
			{"11 98765-0102", named, map[string]any{"protocolo": "2024-8", "nome": "Bia", "assunto": "troca", "button.1": "2024-8"},
				`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987650102","type":"template",
				"template":{"name":"protocolo_nom","language":{"code":"pt_BR"},"components":[
				{"type":"header","parameters":[{"type":"text","text":"2024-8","parameter_name":"protocolo"}]},
				{"type":"body","parameters":[{"type":"text","text":"Bia","parameter_name":"nome"},{"type":"text","text":"troca","parameter_name":"assunto"}]},
				{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"2024-8"}]}]}}`},
		}
		for _, tc := range cases {
			base := c.fake.Count()
			r := c.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": tc.phone},
				"channel_id": c.channelID, "team_id": c.teamID, "send_type": "now", "template_id": tc.template, "parameters": tc.params})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			require.True(t, c.fake.WaitFor(base+1, 10*time.Second))
			msgs := c.fake.Messages()
			require.JSONEq(t, tc.want, string(msgs[len(msgs)-1].Body))
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
