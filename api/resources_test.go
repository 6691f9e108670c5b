package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store"
)

func TestContactPhoneForms(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		forms := []struct{ input, want string }{
			{"11 98765-4322", "+5511987654322"},
			{"(11) 98765-4323", "+5511987654323"},
			{"+55 11 98765-4324", "+5511987654324"},
			{"5511987654325", "+5511987654325"},
			{"011 98765-4326", "+5511987654326"},
			{"+5511987654327", "+5511987654327"},
			{"  21 3456-7890 ", "+552134567890"},
		}
		for _, tc := range forms {
			t.Run(tc.input, func(t *testing.T) {
				r := env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Cliente", "phone": tc.input})
				require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
				require.Equal(t, tc.want, r.Str("phone"))
			})
		}

		// Every form of one number is the same contact.
		r := env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Paula", "phone": "11 97777-1234"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		id := r.Str("id")
		for _, form := range []string{"11 97777-1234", "(11) 97777-1234", "+55 11 97777-1234", "5511977771234", "+5511977771234", "(011) 97777 1234"} {
			t.Run("duplicate "+form, func(t *testing.T) {
				r := env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Outra Paula", "phone": form})
				problem(t, r, http.StatusConflict, "contact_exists")
				require.Equal(t, id, r.Str("existing_id"))
				r = env.Admin.Get("/api/v1/contacts/lookup?phone=" + url.QueryEscape(form))
				require.Equal(t, http.StatusOK, r.Status, string(r.Body))
				require.Equal(t, id, r.Str("id"))
				require.Equal(t, "Paula", r.Str("name"))
			})
		}

		for _, bad := range []string{"12345", "11 8765-4321", "abc", "", "+55 11 98765-4321 ramal 2", strings.Repeat("1", 60)} {
			t.Run("invalid "+bad, func(t *testing.T) {
				r := env.Admin.Post("/api/v1/contacts", map[string]any{"name": "X", "phone": bad})
				problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
				require.Equal(t, []string{"phone:phone_invalid"}, r.FieldCodes())
			})
		}
		r = env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Sem telefone"})
		problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, []string{"phone:phone_invalid"}, r.FieldCodes())
	})
}

func TestContactSearchAndLookup(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		names := func(path string) []string {
			var out []string
			for _, it := range items(t, env.Admin.Get(path)) {
				out = append(out, it["name"].(string))
			}
			sort.Strings(out)
			return out
		}
		tests := []struct {
			q    string
			want []string
		}{
			{"joao", []string{"João da Silva"}},
			{"JOÃO", []string{"João da Silva"}},
			{"silva", []string{"João da Silva"}},
			{"conceicao", []string{"Maria Conceição"}},
			{"98765", []string{"João da Silva", "Maria Conceição"}}, // +5511987654321, +5521998765432
			{"987654321", []string{"João da Silva"}},
			{"(11) 98765", []string{"João da Silva"}},
			{"ninguem", nil},
			{"%", nil},
			{"_", nil},
		}
		for _, tc := range tests {
			t.Run(tc.q, func(t *testing.T) {
				require.Equal(t, tc.want, names("/api/v1/contacts?q="+url.QueryEscape(tc.q)))
			})
		}
		require.Equal(t, []string{"João da Silva", "Maria Conceição"}, names("/api/v1/contacts"))

		r := env.Admin.Get("/api/v1/contacts/lookup?phone=" + url.QueryEscape("(11) 98765-4321"))
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, env.Demo.ContactID, r.Str("id"))
		require.Equal(t, "+5511987654321", r.Str("phone"))
		problem(t, env.Admin.Get("/api/v1/contacts/lookup?phone="+url.QueryEscape("11 91111-2222")), http.StatusNotFound, "contact_not_found")
		for _, bad := range []string{"123", "", "abc"} {
			r := env.Admin.Get("/api/v1/contacts/lookup?phone=" + url.QueryEscape(bad))
			problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
			require.Equal(t, []string{"phone:phone_invalid"}, r.FieldCodes())
		}
	})
}

func TestContactUpdateAndDelete(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		r := env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Rita", "phone": "11 96666-0001", "email": "rita@example.com",
			"attributes": map[string]any{"cpf": "123", "vip": true}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		id := r.Str("id")
		require.Equal(t, map[string]any{"cpf": "123", "vip": true}, r.JSON()["attributes"])

		r = env.Admin.Patch("/api/v1/contacts/"+id, map[string]any{"name": "Rita Lee", "phone": "(11) 96666-0002"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "Rita Lee", r.Str("name"))
		require.Equal(t, "+5511966660002", r.Str("phone"))
		require.Equal(t, "rita@example.com", r.Str("email"), "fields not sent are kept")
		g := env.Admin.Get("/api/v1/contacts/" + id)
		require.Equal(t, "Rita Lee", g.Str("name"))
		require.Equal(t, "+5511966660002", g.Str("phone"))

		r = env.Admin.Patch("/api/v1/contacts/"+id, map[string]any{"phone": "11 98765-4321"})
		problem(t, r, http.StatusConflict, "contact_exists")
		require.Equal(t, env.Demo.ContactID, r.Str("existing_id"))
		r = env.Admin.Patch("/api/v1/contacts/"+id, map[string]any{"phone": "123", "email": "não é email"})
		problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.ElementsMatch(t, []string{"phone:phone_invalid", "email:email_invalid"}, r.FieldCodes())
		problem(t, env.Admin.Patch("/api/v1/contacts/"+unknownID, map[string]any{"name": "X"}), http.StatusNotFound, "contact_not_found")

		r = env.Admin.Delete("/api/v1/contacts/" + id)
		require.Equal(t, http.StatusNoContent, r.Status, string(r.Body))
		problem(t, env.Admin.Get("/api/v1/contacts/"+id), http.StatusNotFound, "contact_not_found")
		problem(t, env.Admin.Delete("/api/v1/contacts/"+id), http.StatusNotFound, "contact_not_found")
		problem(t, env.Admin.Get("/api/v1/contacts/not-an-id"), http.StatusNotFound, "contact_not_found")

		// A contact with a conversation keeps its history.
		start(t, env.Admin, knownStart(env))
		problem(t, env.Admin.Delete("/api/v1/contacts/"+env.Demo.ContactID), http.StatusConflict, "contact_in_use")
		require.Equal(t, http.StatusOK, env.Admin.Get("/api/v1/contacts/"+env.Demo.ContactID).Status)
	})
}

func TestChannelSecrets(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		secrets := map[string]string{
			"access_token": "EAAGtoken-secreto-0001",
			"app_secret":   "app-secret-segredo-0002",
			"verify_token": "verify-token-segredo-0003",
		}
		body := map[string]any{"name": "WhatsApp Vendas", "provider": "whatsapp_cloud", "phone_number": "+55 11 4000-2222",
			"phone_number_id": "106540352242922", "waba_id": "102290129340398"}
		for k, v := range secrets {
			body[k] = v
		}
		var responses [][]byte
		r := env.Admin.Post("/api/v1/channels", body)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		id := r.Str("id")
		responses = append(responses, r.Body)
		require.Equal(t, "+551140002222", r.Str("phone_number"))
		for _, k := range []string{"has_access_token", "has_app_secret", "has_verify_token"} {
			require.Equal(t, true, r.JSON()[k], k)
		}
		responses = append(responses, env.Admin.Get("/api/v1/channels/"+id).Body, env.Admin.Get("/api/v1/channels").Body)

		// Rotating one secret keeps the others.
		rotated := "EAAGtoken-novo-0004"
		r = env.Admin.Patch("/api/v1/channels/"+id, map[string]any{"name": "WhatsApp Vendas 2", "access_token": rotated})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		responses = append(responses, r.Body, env.Admin.Get("/api/v1/channels/"+id).Body)
		for i, b := range responses {
			for k, v := range secrets {
				require.False(t, bytes.Contains(b, []byte(v)), "response %d carries %s: %s", i, k, b)
			}
			require.False(t, bytes.Contains(b, []byte(rotated)), "response %d carries the new access_token", i)
		}
		got, err := env.App.Channels.Secrets(env.Ctx(), id)
		require.NoError(t, err)
		require.Equal(t, rotated, got.AccessToken)
		require.Equal(t, secrets["app_secret"], got.AppSecret)
		require.Equal(t, secrets["verify_token"], got.VerifyToken)

		// At rest they are encrypted.
		var access, app, verify string
		row := env.App.DB.Conn(context.Background()).Raw("SELECT access_token, app_secret, verify_token FROM channels WHERE id = ?", id).Row()
		require.NoError(t, row.Scan(&access, &app, &verify))
		for _, stored := range []string{access, app, verify} {
			require.NotEmpty(t, stored)
			for _, v := range append(slices.Collect(maps.Values(secrets)), rotated) {
				require.NotContains(t, stored, v)
			}
		}
	})
}

func TestChannelValidation(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		tests := []struct {
			name string
			body map[string]any
			want []string
		}{
			{"whatsapp_cloud without its ids and secrets", map[string]any{"name": "Cloud", "provider": "whatsapp_cloud", "phone_number": "+55 11 4000-3333"},
				[]string{"phone_number_id:required", "waba_id:required", "access_token:required", "app_secret:required", "verify_token:required"}},
			{"empty", map[string]any{}, []string{"name:required", "provider:provider_invalid", "phone_number:required"}},
			{"unknown provider and bad phone", map[string]any{"name": "X", "provider": "telegram", "phone_number": "123"},
				[]string{"provider:provider_invalid", "phone_number:phone_invalid"}},
			{"unknown default team", map[string]any{"name": "X", "provider": "sandbox", "phone_number": "+55 11 4000-3334", "default_team_id": unknownID},
				[]string{"default_team_id:team_not_found"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := env.Admin.Post("/api/v1/channels", tc.body)
				problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
				require.ElementsMatch(t, tc.want, r.FieldCodes())
			})
		}
		r := env.Admin.Patch("/api/v1/channels/"+env.Demo.ChannelID, map[string]any{"provider": "whatsapp_cloud"})
		problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, []string{"provider:provider_immutable"}, r.FieldCodes())
		problem(t, env.Admin.Get("/api/v1/channels/"+unknownID), http.StatusNotFound, "channel_not_found")
		problem(t, env.Admin.Delete("/api/v1/channels/"+unknownID), http.StatusNotFound, "channel_not_found")
	})
}

func TestTeamsCRUD(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		var users []string
		for _, u := range items(t, env.Admin.Get("/api/v1/users")) {
			users = append(users, u["id"].(string))
		}
		require.Len(t, users, 2)
		sort.Strings(users)
		other := newOtherChannel(t, env, "+55 11 4000-4444", "Filial")
		strs := func(v any) []string {
			var out []string
			for _, s := range v.([]any) {
				out = append(out, s.(string))
			}
			return out
		}

		r := env.Admin.Post("/api/v1/teams", map[string]any{"name": "Financeiro", "channel_ids": []string{env.Demo.ChannelID, other.ChannelID, env.Demo.ChannelID},
			"member_ids": users})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		id := r.Str("id")
		chans := []string{env.Demo.ChannelID, other.ChannelID}
		sort.Strings(chans)
		require.Equal(t, chans, strs(r.JSON()["channel_ids"]), "deduplicated and sorted")
		require.Equal(t, users, strs(r.JSON()["member_ids"]))
		g := env.Admin.Get("/api/v1/teams/" + id)
		require.Equal(t, "Financeiro", g.Str("name"))
		require.Equal(t, chans, strs(g.JSON()["channel_ids"]))

		// Lists are replaced whole; a list not sent is kept.
		r = env.Admin.Patch("/api/v1/teams/"+id, map[string]any{"channel_ids": []string{other.ChannelID}})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, []string{other.ChannelID}, strs(r.JSON()["channel_ids"]))
		require.Equal(t, users, strs(r.JSON()["member_ids"]))
		r = env.Admin.Patch("/api/v1/teams/"+id, map[string]any{"name": "Cobrança", "member_ids": []string{}})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "Cobrança", r.Str("name"))
		require.Empty(t, r.JSON()["member_ids"])

		var onOther []string
		for _, it := range items(t, env.Admin.Get("/api/v1/teams?channel_id="+other.ChannelID)) {
			onOther = append(onOther, it["name"].(string))
		}
		sort.Strings(onOther)
		require.Equal(t, []string{"Cobrança", "Filial"}, onOther)

		bad := []struct {
			name string
			body map[string]any
			want []string
		}{
			{"unknown ids", map[string]any{"name": "Nova", "channel_ids": []string{unknownID, "x"}, "member_ids": []string{users[0], unknownID}},
				[]string{"channel_ids:channel_not_found", "channel_ids:channel_not_found", "member_ids:user_not_found"}},
			{"no name", map[string]any{}, []string{"name:required"}},
			{"blank name", map[string]any{"name": "  "}, []string{"name:name_invalid"}},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				r := env.Admin.Post("/api/v1/teams", tc.body)
				problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
				require.ElementsMatch(t, tc.want, r.FieldCodes())
			})
		}
		r = env.Admin.Patch("/api/v1/teams/"+id, map[string]any{"member_ids": []string{unknownID}})
		problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, []string{"member_ids:user_not_found"}, r.FieldCodes())
		problem(t, env.Admin.Post("/api/v1/teams", map[string]any{"name": "Vendas"}), http.StatusConflict, "team_exists")
		problem(t, env.Admin.Patch("/api/v1/teams/"+id, map[string]any{"name": "Suporte"}), http.StatusConflict, "team_exists")

		r = env.Admin.Delete("/api/v1/teams/" + id)
		require.Equal(t, http.StatusNoContent, r.Status, string(r.Body))
		problem(t, env.Admin.Get("/api/v1/teams/"+id), http.StatusNotFound, "team_not_found")
		problem(t, env.Admin.Delete("/api/v1/teams/"+id), http.StatusNotFound, "team_not_found")
		problem(t, env.Admin.Patch("/api/v1/teams/"+id, map[string]any{"name": "X"}), http.StatusNotFound, "team_not_found")
	})
}

func TestTemplatesCreate(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		ch := env.Demo.ChannelID
		comps := func(c ...map[string]any) []map[string]any { return c }
		body := func(name, format string, components any) map[string]any {
			return map[string]any{"channel_id": ch, "name": name, "language": "pt_BR", "category": "UTILITY", "status": "APPROVED",
				"parameter_format": format, "components": components}
		}
		good := []struct {
			name string
			body map[string]any
			vars []string
		}{
			{"named", body("entrega_named", "NAMED", comps(
				map[string]any{"type": "HEADER", "format": "TEXT", "text": "Pedido {{pedido}}"},
				map[string]any{"type": "BODY", "text": "Olá {{nome}}, o pedido {{pedido}} sai {{quando}}. Obrigado, {{nome}}!"},
				map[string]any{"type": "FOOTER", "text": "Loja Demo"})), []string{"pedido", "nome", "quando"}},
			{"positional", body("entrega_pos", "POSITIONAL", comps(
				map[string]any{"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}"},
				map[string]any{"type": "BODY", "text": "Olá {{1}}, o pedido sai {{2}}."},
				map[string]any{"type": "BUTTONS", "buttons": []map[string]any{{"type": "URL", "text": "Ver", "url": "https://loja.example.com/p/{{1}}"}}})),
				[]string{"header.1", "1", "2", "button.0"}},
			{"without variables", body("aviso", "NAMED", comps(map[string]any{"type": "BODY", "text": "Loja fechada amanhã."})), []string{}},
		}
		for _, tc := range good {
			t.Run(tc.name, func(t *testing.T) {
				r := env.Admin.Post("/api/v1/templates", tc.body)
				require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
				var got struct {
					Variables       []string
					VariableDetails []struct{ Key string } `json:"variable_details"`
					Name            string
				}
				r.Decode(t, &got)
				require.Equal(t, tc.vars, got.Variables)
				keys := []string{}
				for _, d := range got.VariableDetails {
					keys = append(keys, d.Key)
				}
				require.Equal(t, tc.vars, keys)
				g := env.Admin.Get("/api/v1/templates/" + r.Str("id"))
				require.Equal(t, http.StatusOK, g.Status)
				var again struct{ Variables []string }
				g.Decode(t, &again)
				require.Equal(t, tc.vars, again.Variables)
			})
		}

		// Name and language are unique per channel.
		r := env.Admin.Post("/api/v1/templates", body("entrega_named", "NAMED", comps(map[string]any{"type": "BODY", "text": "Oi"})))
		problem(t, r, http.StatusConflict, "template_exists")
		en := body("entrega_named", "NAMED", comps(map[string]any{"type": "BODY", "text": "Hi"}))
		en["language"] = "en_US"
		r = env.Admin.Post("/api/v1/templates", en)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		other := newOtherChannel(t, env, "+55 11 4000-1111", "Outra")
		elsewhere := body("entrega_named", "NAMED", comps(map[string]any{"type": "BODY", "text": "Oi"}))
		elsewhere["channel_id"] = other.ChannelID
		r = env.Admin.Post("/api/v1/templates", elsewhere)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))

		set := func(k string, v any) map[string]any {
			b := body("novo_modelo", "NAMED", comps(map[string]any{"type": "BODY", "text": "Olá {{nome}}"}))
			b[k] = v
			return b
		}
		bad := []struct {
			name string
			body map[string]any
			want []string
		}{
			{"empty", map[string]any{}, []string{"channel_id:required", "name:required", "language:required", "category:required", "status:required", "components:required"}},
			{"name with spaces", set("name", "Novo Modelo"), []string{"name:name_invalid"}},
			{"language", set("language", "portugues"), []string{"language:language_invalid"}},
			{"category", set("category", "PROMO"), []string{"category:category_invalid"}},
			{"status", set("status", "LIVE"), []string{"status:status_invalid"}},
			{"parameter format", set("parameter_format", "MIXED"), []string{"parameter_format:parameter_format_invalid"}},
			{"unknown channel", set("channel_id", unknownID), []string{"channel_id:channel_not_found"}},
			{"components not an array", set("components", "Olá"), []string{"components:components_invalid"}},
			{"no body", set("components", comps(map[string]any{"type": "FOOTER", "text": "rodapé"})), []string{"components:body_missing"}},
			{"positional variable in a NAMED template", set("components", comps(map[string]any{"type": "BODY", "text": "Olá {{1}}"})),
				[]string{"components[0].text:variables_invalid"}},
			{"positional out of order", set("parameter_format", "POSITIONAL"), []string{"components[0].text:variables_invalid"}},
			{"footer with a variable", set("components", comps(map[string]any{"type": "BODY", "text": "Oi"}, map[string]any{"type": "FOOTER", "text": "{{x}}"})),
				[]string{"components[1].text:variables_invalid"}},
			{"two bodies", set("components", comps(map[string]any{"type": "BODY", "text": "a"}, map[string]any{"type": "BODY", "text": "b"})),
				[]string{"components[1].type:component_invalid"}},
			{"body too long", set("components", comps(map[string]any{"type": "BODY", "text": strings.Repeat("a", 1025)})),
				[]string{"components[0].text:body_too_long"}},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				r := env.Admin.Post("/api/v1/templates", tc.body)
				problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
				require.ElementsMatch(t, tc.want, r.FieldCodes())
			})
		}
	})
}

func TestTemplatesFilters(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		other := newOtherChannel(t, env, "+55 11 4000-1212", "Matriz") // saudacao_matriz, MARKETING, APPROVED
		names := func(query string) []string {
			out := []string{}
			for _, it := range items(t, env.Admin.Get("/api/v1/templates?"+query)) {
				out = append(out, it["name"].(string))
			}
			sort.Strings(out)
			return out
		}
		demo := []string{"atualizacao_pedido", "boas_vindas", "codigo_verificacao", "lembrete_pagamento", "oferta_semana", "pesquisa_satisfacao", "protocolo_atendimento"}
		tests := []struct {
			query string
			want  []string
		}{
			{"", append(slices.Clone(demo), "saudacao_matriz")},
			{"channel_id=" + env.Demo.ChannelID, demo},
			{"channel_id=" + other.ChannelID, []string{"saudacao_matriz"}},
			{"channel_id=" + unknownID, []string{}},
			{"category=UTILITY", []string{"atualizacao_pedido", "lembrete_pagamento", "protocolo_atendimento"}},
			{"category=authentication", []string{"codigo_verificacao"}},
			{"status=PENDING", []string{"pesquisa_satisfacao"}},
			{"category=MARKETING&status=APPROVED", []string{"boas_vindas", "oferta_semana", "saudacao_matriz"}},
			{"category=MARKETING&status=APPROVED&channel_id=" + env.Demo.ChannelID, []string{"boas_vindas", "oferta_semana"}},
			{"q=pedido", []string{"atualizacao_pedido"}},
			{"q=" + url.QueryEscape("verificação"), []string{"codigo_verificacao"}},
			{"q=OFERTA", []string{"oferta_semana"}},
			{"q=" + url.QueryEscape("Loja Demo"), []string{"boas_vindas", "pesquisa_satisfacao"}},
			{"q=nada-disso", []string{}},
			{"q=%25", []string{}},
		}
		for _, tc := range tests {
			t.Run(tc.query, func(t *testing.T) {
				require.Equal(t, tc.want, names(tc.query))
			})
		}
	})
}

func TestTemplatePreview(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		type preview struct {
			Header, Body, Footer, Text string
			Buttons                    []struct{ Type, Text, URL string }
			Labels                     map[string]string
		}
		get := func(tpl string, params any) (preview, *apptest.Response) {
			r := env.Admin.Post("/api/v1/templates/"+env.Demo.TemplateIDs[tpl]+"/preview", map[string]any{"parameters": params})
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			var p preview
			r.Decode(t, &p)
			return p, r
		}
		previewCodes := func(r *apptest.Response) []string {
			var p struct {
				Errors []struct{ Field, Code string }
			}
			require.NoError(t, json.Unmarshal(r.Body, &p))
			out := []string{}
			for _, e := range p.Errors {
				out = append(out, e.Field+":"+e.Code)
			}
			return out
		}

		p, r := get("atualizacao_pedido", map[string]any{"nome": "João", "pedido": "A-77", "situacao": "enviado", "button.0": "A-77"})
		require.Equal(t, "Olá João, o seu pedido A-77 foi atualizado: enviado.", p.Body)
		require.Len(t, p.Buttons, 1)
		require.Equal(t, "URL", p.Buttons[0].Type)
		require.Equal(t, "Acompanhar pedido", p.Buttons[0].Text)
		require.Equal(t, "https://loja.example.com/pedidos/A-77", p.Buttons[0].URL)
		require.Empty(t, previewCodes(r))

		p, r = get("atualizacao_pedido", map[string]any{"nome": "João"})
		require.Equal(t, "Olá João, o seu pedido [PEDIDO] foi atualizado: [SITUACAO].", p.Body)
		require.Equal(t, "https://loja.example.com/pedidos/[1]", p.Buttons[0].URL)
		require.Equal(t, map[string]string{"nome": "[NOME]", "pedido": "[PEDIDO]", "situacao": "[SITUACAO]", "button.0": "[1]"}, p.Labels)
		require.ElementsMatch(t, []string{"parameters.pedido:parameter_missing", "parameters.situacao:parameter_missing", "parameters.button.0:parameter_missing"}, previewCodes(r))

		// POSITIONAL with a header variable and a URL button: header.1, the body's 1 and 2, button.0.
		p, r = get("protocolo_atendimento", map[string]any{"header.1": "2024-7", "1": "Ana", "2": "troca", "button.0": "2024-7"})
		require.Equal(t, "Protocolo 2024-7", p.Header)
		require.Equal(t, "Olá Ana, registramos o seu atendimento sobre troca. Acompanhe pelo link abaixo.", p.Body)
		require.Equal(t, "https://loja.example.com/protocolos/2024-7", p.Buttons[0].URL)
		require.Empty(t, previewCodes(r))
		p, r = get("protocolo_atendimento", []string{"Ana", "troca"})
		require.Equal(t, "Protocolo [1]", p.Header)
		require.Equal(t, "Olá Ana, registramos o seu atendimento sobre troca. Acompanhe pelo link abaixo.", p.Body)
		require.Equal(t, "https://loja.example.com/protocolos/[1]", p.Buttons[0].URL)
		require.Equal(t, map[string]string{"header.1": "[1]", "1": "[1]", "2": "[2]", "button.0": "[1]"}, p.Labels)
		require.Equal(t, []string{"parameters.header.1:parameter_missing", "parameters.button.0:parameter_missing"}, previewCodes(r))

		p, _ = get("oferta_semana", []string{"Ana"})
		require.Equal(t, "Oferta da semana", p.Header)
		require.Equal(t, "Oi Ana! Esta semana o [2] está com [3] de desconto. Quer saber mais?", p.Body)
		require.Equal(t, "Oferta da semana\n\nOi Ana! Esta semana o [2] está com [3] de desconto. Quer saber mais?", p.Text)

		p, _ = get("boas_vindas", nil)
		require.Equal(t, "Olá [NOME], aqui é [ATENDENTE] da Loja Demo. Podemos conversar sobre o seu atendimento?", p.Body)
		require.Equal(t, "Responda SAIR para não receber mais mensagens", p.Footer)
		require.Equal(t, p.Body+"\n\n"+p.Footer, p.Text)
		require.Empty(t, p.Header)
		require.Empty(t, p.Buttons)

		// The preview reports exactly the parameter errors a start with the same parameters gets.
		cases := []struct {
			name   string
			tpl    string
			params any
		}{
			{"missing", "boas_vindas", map[string]any{"nome": "João"}},
			{"empty and unknown", "boas_vindas", map[string]any{"nome": "", "atendente": "Ana", "loja": "x"}},
			{"tab, newline, five spaces", "boas_vindas", map[string]any{"nome": "a\tb", "atendente": "a\nb"}},
			{"five spaces", "boas_vindas", map[string]any{"nome": "a     b", "atendente": "Ana"}},
			{"too long", "boas_vindas", map[string]any{"nome": strings.Repeat("x", 1025), "atendente": "Ana"}},
			{"array for NAMED", "boas_vindas", []string{"João", "Ana"}},
			{"positional too many", "oferta_semana", []string{"a", "b", "c", "d"}},
			{"positional missing and blank", "oferta_semana", []string{"a", " "}},
			{"url suffix missing", "atualizacao_pedido", map[string]any{"nome": "João", "pedido": "1", "situacao": "ok"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, r := get(tc.tpl, tc.params)
				fromPreview := previewCodes(r)
				require.NotEmpty(t, fromPreview)
				body := startBody(env, "11 91234-3333")
				body["template_id"], body["parameters"] = env.Demo.TemplateIDs[tc.tpl], tc.params
				s := env.Admin.Post("/api/v1/conversations", body)
				require.Equal(t, http.StatusUnprocessableEntity, s.Status, string(s.Body))
				require.ElementsMatch(t, s.FieldCodes(), fromPreview)
			})
		}

		problem(t, env.Admin.Post("/api/v1/templates/"+unknownID+"/preview", map[string]any{}), http.StatusNotFound, "template_not_found")
	})
}

func TestPricingEstimate(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		type estimate struct {
			Category     string
			Billable     bool
			Amount       *float64
			Currency     string
			RateCardDate string `json:"rate_card_date"`
		}
		get := func(tpl string) estimate {
			r := env.Admin.Get("/api/v1/pricing/estimate?template_id=" + env.Demo.TemplateIDs[tpl] + "&contact_id=" + env.Demo.ContactID)
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			var e estimate
			r.Decode(t, &e)
			return e
		}
		for _, tc := range []struct {
			tpl, category string
			amount        float64
		}{{"boas_vindas", "MARKETING", 0.0625}, {"atualizacao_pedido", "UTILITY", 0.0068}, {"codigo_verificacao", "AUTHENTICATION", 0.0068}} {
			t.Run(tc.tpl, func(t *testing.T) {
				e := get(tc.tpl)
				require.Equal(t, tc.category, e.Category)
				require.True(t, e.Billable)
				require.NotNil(t, e.Amount)
				require.InDelta(t, tc.amount, *e.Amount, 1e-9)
				require.Equal(t, "USD", e.Currency)
				require.Equal(t, "2026-01-01", e.RateCardDate)
			})
		}

		bad := []struct {
			name, query string
			want        []string
		}{
			{"both missing", "", []string{"template_id:template_required", "contact_id:contact_required"}},
			{"both empty", "template_id=&contact_id=", []string{"template_id:template_required", "contact_id:contact_required"}},
			{"template missing", "contact_id=" + env.Demo.ContactID, []string{"template_id:template_required"}},
			{"contact missing", "template_id=" + env.Demo.TemplateIDs["boas_vindas"], []string{"contact_id:contact_required"}},
			{"unknown ids", "template_id=" + unknownID + "&contact_id=" + unknownID, []string{"template_id:template_not_found", "contact_id:contact_not_found"}},
			{"not ids", "template_id=x&contact_id=y", []string{"template_id:template_not_found", "contact_id:contact_not_found"}},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				r := env.Admin.Get("/api/v1/pricing/estimate?" + tc.query)
				problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
				require.ElementsMatch(t, tc.want, r.FieldCodes())
			})
		}
	})
}

// TestTemplateStoredKeysAreDerived: a template stored before keys followed DESIGN.md § Parameter
// keys (its variables column numbered across header, body and button) reads, previews and
// starts with today's keys, which come from the components.
func TestTemplateStoredKeysAreDerived(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		id := env.Demo.TemplateIDs["protocolo_atendimento"]
		res, err := env.App.DB.SQL().Exec(`UPDATE templates SET variables = '["1","2","3","4"]' WHERE id = `+placeholder(env), id)
		require.NoError(t, err)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		g := env.Admin.Get("/api/v1/templates/" + id)
		require.Equal(t, http.StatusOK, g.Status)
		require.Equal(t, []any{"header.1", "1", "2", "button.0"}, g.JSON()["variables"])
		body := startBody(env, "11 91234-7001")
		body["template_id"], body["parameters"] = id, map[string]any{"header.1": "7", "1": "Ana", "2": "troca", "button.0": "7"}
		r := env.Admin.Post("/api/v1/conversations", body)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	})
}

func placeholder(env *apptest.Env) string {
	if env.App.DB.Dialect() == store.Postgres {
		return "$1"
	}
	return "?"
}
