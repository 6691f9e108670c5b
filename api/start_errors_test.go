package api_test

import (
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// knownStart is a valid start of boas_vindas to the demo contact João, by id.
func knownStart(env *apptest.Env) map[string]any {
	return map[string]any{
		"contact_id":  env.Demo.ContactID,
		"channel_id":  env.Demo.ChannelID,
		"team_id":     env.Demo.TeamIDs[0],
		"send_type":   "now",
		"template_id": env.Demo.TemplateIDs["boas_vindas"],
		"parameters":  map[string]any{"nome": "João", "atendente": "Ana"},
	}
}

func rfc3339(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }

// TestStartErrorCodes triggers every check of POST /conversations on an otherwise valid start and
// requires exactly the expected field errors: nothing else fails, and nothing is created.
func TestStartErrorCodes(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		other := newOtherChannel(t, env, "+55 11 4000-5555", "Cobranca")
		tpl := map[string]string{}
		for _, status := range []string{"PAUSED", "REJECTED", "DISABLED"} {
			r := env.Admin.Post("/api/v1/templates", templateBody(env.Demo.ChannelID, "modelo_"+strings.ToLower(status), "UTILITY", status))
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			tpl[status] = r.Str("id")
		}
		long := strings.Repeat("a", 1025)
		positional := func(params any) func(b map[string]any) {
			return func(b map[string]any) {
				b["template_id"] = env.Demo.TemplateIDs["oferta_semana"]
				b["parameters"] = params
			}
		}
		protocolo := func(params any) func(b map[string]any) {
			return func(b map[string]any) {
				b["template_id"] = env.Demo.TemplateIDs["protocolo_atendimento"]
				b["parameters"] = params
			}
		}
		param := func(nome any) func(b map[string]any) {
			return func(b map[string]any) { b["parameters"] = map[string]any{"nome": nome, "atendente": "Ana"} }
		}
		set := func(k string, v any) func(b map[string]any) { return func(b map[string]any) { b[k] = v } }
		drop := func(keys ...string) func(b map[string]any) {
			return func(b map[string]any) {
				for _, k := range keys {
					delete(b, k)
				}
			}
		}
		tests := []struct {
			name   string
			change func(b map[string]any)
			want   []string
		}{
			{"contact id unknown", set("contact_id", unknownID), []string{"contact_id:contact_not_found"}},
			{"contact id not an id", set("contact_id", "joao"), []string{"contact_id:contact_not_found"}},
			{"contact missing", drop("contact_id"), []string{"contact_id:contact_required"}},
			{"contact id empty", set("contact_id", ""), []string{"contact_id:contact_required"}},
			{"contact phone too short", func(b map[string]any) {
				delete(b, "contact_id")
				b["contact"] = map[string]any{"phone": "12345", "name": "X"}
			}, []string{"contact.phone:phone_invalid"}},
			{"contact phone letters", func(b map[string]any) {
				delete(b, "contact_id")
				b["contact"] = map[string]any{"phone": "telefone"}
			}, []string{"contact.phone:phone_invalid"}},
			{"contact without phone", func(b map[string]any) {
				delete(b, "contact_id")
				b["contact"] = map[string]any{"name": "Sem Telefone"}
			}, []string{"contact.phone:phone_invalid"}},
			{"channel unknown", set("channel_id", unknownID), []string{"channel_id:channel_not_found"}},
			{"channel not an id", set("channel_id", "whatsapp"), []string{"channel_id:channel_not_found"}},
			{"channel missing", drop("channel_id"), []string{"channel_id:channel_required"}},
			{"channel empty", set("channel_id", ""), []string{"channel_id:channel_required"}},
			{"team unknown", set("team_id", unknownID), []string{"team_id:team_not_found"}},
			{"team missing", drop("team_id"), []string{"team_id:team_required"}},
			{"team empty", set("team_id", ""), []string{"team_id:team_required"}},
			{"template empty", set("template_id", ""), []string{"template_id:template_required"}},
			{"team of another channel", set("team_id", other.TeamID), []string{"team_id:team_not_allowed_on_channel"}},
			{"template unknown", set("template_id", unknownID), []string{"template_id:template_not_found"}},
			{"template not an id", set("template_id", "boas_vindas"), []string{"template_id:template_not_found"}},
			{"template pending", func(b map[string]any) {
				b["template_id"] = env.Demo.TemplateIDs["pesquisa_satisfacao"]
				b["parameters"] = map[string]any{"nome": "João"}
			}, []string{"template_id:template_not_approved"}},
			{"template paused", func(b map[string]any) {
				b["template_id"] = tpl["PAUSED"]
				b["parameters"] = map[string]any{"nome": "João"}
			}, []string{"template_id:template_not_approved"}},
			{"template rejected", func(b map[string]any) {
				b["template_id"] = tpl["REJECTED"]
				b["parameters"] = map[string]any{"nome": "João"}
			}, []string{"template_id:template_not_approved"}},
			{"template disabled", func(b map[string]any) {
				b["template_id"] = tpl["DISABLED"]
				b["parameters"] = map[string]any{"nome": "João"}
			}, []string{"template_id:template_not_approved"}},
			{"template of another channel", func(b map[string]any) {
				b["template_id"] = other.TemplateID
				b["parameters"] = map[string]any{"nome": "João"}
			}, []string{"template_id:template_channel_mismatch"}},
			{"no template and window closed", drop("template_id", "parameters"), []string{"template_id:template_required"}},
			{"text without an open window", func(b map[string]any) {
				delete(b, "template_id")
				delete(b, "parameters")
				b["text"] = "Olá João!"
			}, []string{"template_id:template_required"}},
			{"blank text", func(b map[string]any) {
				delete(b, "template_id")
				delete(b, "parameters")
				b["text"] = "   "
			}, []string{"template_id:template_required"}},
			{"text and template", set("text", "Olá"), []string{"text:text_not_allowed"}},
			{"parameter missing", set("parameters", map[string]any{"nome": "João"}), []string{"parameters.atendente:parameter_missing"}},
			{"parameters absent", drop("parameters"), []string{"parameters.nome:parameter_missing", "parameters.atendente:parameter_missing"}},
			{"parameters null", set("parameters", nil), []string{"parameters.nome:parameter_missing", "parameters.atendente:parameter_missing"}},
			{"parameter unknown", set("parameters", map[string]any{"nome": "João", "atendente": "Ana", "loja": "Centro"}), []string{"parameters:parameter_unknown"}},
			{"parameter empty", param(""), []string{"parameters.nome:parameter_invalid"}},
			{"parameter whitespace", param("   "), []string{"parameters.nome:parameter_invalid"}},
			{"parameter newline", param("João\nSilva"), []string{"parameters.nome:parameter_invalid"}},
			{"parameter carriage return", param("João\r\nSilva"), []string{"parameters.nome:parameter_invalid"}},
			{"parameter tab", param("João\tSilva"), []string{"parameters.nome:parameter_invalid"}},
			{"parameter five spaces", param("João     Silva"), []string{"parameters.nome:parameter_invalid"}},
			{"parameter control character", param("João\x07"), []string{"parameters.nome:parameter_invalid"}},
			{"parameter over 1024 characters", param(long), []string{"parameters.nome:parameter_invalid"}},
			{"parameters make the body too long", param(strings.Repeat("a", 1000)), []string{"parameters:parameter_invalid"}},
			{"parameter not a string", param(true), []string{"parameters:parameter_invalid"}},
			{"parameter an object", param(map[string]any{"x": 1}), []string{"parameters:parameter_invalid"}},
			{"named parameters as an array", set("parameters", []string{"João", "Ana"}), []string{"parameters:parameter_invalid"}},
			{"parameters a string", set("parameters", "João"), []string{"parameters:parameter_invalid"}},
			{"positional too many", positional([]string{"Ana", "tênis", "20%", "hoje"}), []string{"parameters:parameter_unknown"}},
			{"positional too few", positional([]string{"Ana", "tênis"}), []string{"parameters.3:parameter_missing"}},
			{"positional empty value", positional([]string{"Ana", "", "20%"}), []string{"parameters.2:parameter_invalid"}},
			{"positional newline", positional([]string{"Ana", "tênis\nnovo", "20%"}), []string{"parameters.2:parameter_invalid"}},
			{"positional object key out of range", positional(map[string]any{"1": "Ana", "2": "tênis", "3": "20%", "4": "x"}), []string{"parameters:parameter_unknown"}},
			// Keys follow DESIGN.md § Parameter keys: header.1, the body's numbers, button.<i>.
			{"positional array fills only the body", protocolo([]string{"Ana", "troca"}), []string{
				"parameters.header.1:parameter_missing", "parameters.button.0:parameter_missing"}},
			{"positional header and button keys", protocolo(map[string]any{"header.1": "a\nb", "1": "Ana", "2": "troca", "button.0": " "}), []string{
				"parameters.header.1:parameter_invalid", "parameters.button.0:parameter_invalid"}},
			{"positional header value over 60 characters", protocolo(map[string]any{"header.1": strings.Repeat("1", 61), "1": "Ana", "2": "troca", "button.0": "x"}), []string{
				"parameters.header.1:parameter_invalid"}},
			{"cross-component numbers are not keys", protocolo(map[string]any{"1": "2024-7", "2": "Ana", "3": "troca", "4": "2024-7"}), []string{
				"parameters.header.1:parameter_missing", "parameters.button.0:parameter_missing", "parameters:parameter_unknown", "parameters:parameter_unknown"}},
			{"named URL button is button.<i>", func(b map[string]any) {
				b["template_id"] = env.Demo.TemplateIDs["atualizacao_pedido"]
				b["parameters"] = map[string]any{"nome": "João", "pedido": "A-1", "situacao": "ok", "1": "A-1"}
			}, []string{"parameters.button.0:parameter_missing", "parameters:parameter_unknown"}},
			{"scheduled in the past", func(b map[string]any) {
				b["send_type"], b["scheduled_at"] = "scheduled", rfc3339(-time.Minute)
			}, []string{"scheduled_at:scheduled_at_invalid"}},
			{"scheduled more than 30 days ahead", func(b map[string]any) {
				b["send_type"], b["scheduled_at"] = "scheduled", rfc3339(31*24*time.Hour)
			}, []string{"scheduled_at:scheduled_at_invalid"}},
			{"scheduled without scheduled_at", set("send_type", "scheduled"), []string{"scheduled_at:scheduled_at_invalid"}},
			{"scheduled_at unparseable", func(b map[string]any) {
				b["send_type"], b["scheduled_at"] = "scheduled", "amanhã às 10h"
			}, []string{"scheduled_at:scheduled_at_invalid"}},
			{"scheduled_at without a zone", func(b map[string]any) {
				b["send_type"], b["scheduled_at"] = "scheduled", time.Now().Add(time.Hour).Format("2006-01-02T15:04:05")
			}, []string{"scheduled_at:scheduled_at_invalid"}},
			{"scheduled_at with send_type now", set("scheduled_at", rfc3339(time.Hour)), []string{"scheduled_at:scheduled_at_invalid"}},
			{"send_type unknown", set("send_type", "later"), []string{"send_type:send_type_invalid"}},
			{"send_type upper case", set("send_type", "NOW"), []string{"send_type:send_type_invalid"}},
			{"send_type empty", set("send_type", ""), []string{"send_type:send_type_invalid"}},
			{"everything missing at once", func(b map[string]any) { clear(b) }, []string{"contact_id:contact_required",
				"channel_id:channel_required", "team_id:team_required", "template_id:template_required"}},
			{"everything wrong at once", func(b map[string]any) {
				delete(b, "contact_id")
				b["contact"] = map[string]any{"phone": "123"}
				b["channel_id"], b["team_id"], b["send_type"] = unknownID, unknownID, "later"
				b["template_id"] = env.Demo.TemplateIDs["pesquisa_satisfacao"]
				b["parameters"] = map[string]any{"nome": "a\tb", "extra": "x"}
			}, []string{"contact.phone:phone_invalid", "channel_id:channel_not_found", "team_id:team_not_found",
				"send_type:send_type_invalid", "template_id:template_not_approved", "parameters.nome:parameter_invalid",
				"parameters:parameter_unknown"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				body := knownStart(env)
				tc.change(body)
				r := env.Admin.Post("/api/v1/conversations", body)
				problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
				require.ElementsMatch(t, tc.want, r.FieldCodes(), string(r.Body))
			})
		}
		// None of the refused starts left a conversation or a contact behind.
		require.Empty(t, items(t, env.Admin.Get("/api/v1/conversations")))
		require.Len(t, items(t, env.Admin.Get("/api/v1/contacts")), 2)
	})
}

func TestStartChannelInactive(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		other := newOtherChannel(t, env, "+55 11 4000-6666", "Plantao")
		body := knownStart(env)
		body["channel_id"], body["team_id"], body["template_id"] = other.ChannelID, other.TeamID, other.TemplateID
		body["parameters"] = map[string]any{"nome": "João"}

		r := env.Admin.Patch("/api/v1/channels/"+other.ChannelID, map[string]any{"active": false})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, false, r.JSON()["active"])
		r = env.Admin.Post("/api/v1/conversations", body)
		problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, []string{"channel_id:channel_inactive"}, r.FieldCodes())

		// Reactivated, the same start goes through.
		r = env.Admin.Patch("/api/v1/channels/"+other.ChannelID, map[string]any{"active": true})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		start(t, env.Admin, body)
	})
}

// TestStartUserNotInTeam: a session agent may start only for a team they belong to; session
// admins and API keys are exempt.
func TestStartUserNotInTeam(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		vendas, suporte := env.Demo.TeamIDs[0], env.Demo.TeamIDs[1]
		newUser := func(email, role string, teams ...string) *apptest.Client {
			r := env.Admin.Post("/api/v1/users", map[string]any{"name": "Usuário " + role, "email": email, "password": "senha-segura-123", "role": role})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			uid := r.Str("id")
			for _, team := range teams {
				tr := env.Admin.Get("/api/v1/teams/" + team)
				require.Equal(t, http.StatusOK, tr.Status)
				var members []string
				for _, m := range tr.JSON()["member_ids"].([]any) {
					members = append(members, m.(string))
				}
				pr := env.Admin.Patch("/api/v1/teams/"+team, map[string]any{"member_ids": append(members, uid)})
				require.Equal(t, http.StatusOK, pr.Status, string(pr.Body))
			}
			return env.Login(email, "senha-segura-123")
		}
		agent := newUser("carla@demo.atendimento.dev", "agent", vendas)
		admin := newUser("diretora@demo.atendimento.dev", "admin") // in no team

		body := startBody(env, "11 91234-7001")
		body["team_id"] = suporte
		r := agent.Post("/api/v1/conversations", body)
		problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, []string{"team_id:user_not_in_team"}, r.FieldCodes())

		// The agent's own team is fine.
		body["team_id"] = vendas
		start(t, agent, body)

		// A session admin in no team, and the API key, may start for any team.
		body = startBody(env, "11 91234-7002")
		body["team_id"] = suporte
		start(t, admin, body)
		body = startBody(env, "11 91234-7003")
		body["team_id"] = suporte
		start(t, env.Admin, body)
	})
}

func TestStartSucceeds(t *testing.T) {
	t.Parallel()
	eachOutboxStill(t, func(t *testing.T, env *apptest.Env) {
		oferta := env.Demo.TemplateIDs["oferta_semana"]
		inTwoDays := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		tests := []struct {
			name       string
			change     func(b map[string]any)
			status     string
			msgStatus  string
			rendered   string
			scheduled  *time.Time
			parameters map[string]any
		}{
			{name: "four spaces are allowed", change: func(b map[string]any) {
				b["parameters"] = map[string]any{"nome": "João    Silva", "atendente": "Ana"}
			}, status: "waiting", msgStatus: "pending", rendered: "Olá João    Silva, aqui é Ana da Loja Demo.",
				parameters: map[string]any{"nome": "João    Silva", "atendente": "Ana"}},
			{name: "positional parameters as an array", change: func(b map[string]any) {
				b["template_id"], b["parameters"] = oferta, []string{"Maria", "tênis", "20%"}
			}, status: "waiting", msgStatus: "pending", rendered: "Oferta da semana\n\nOi Maria! Esta semana o tênis está com 20% de desconto.",
				parameters: map[string]any{"1": "Maria", "2": "tênis", "3": "20%"}},
			{name: "positional parameters as an object", change: func(b map[string]any) {
				b["template_id"], b["parameters"] = oferta, map[string]any{"3": "30%", "1": "Pedro", "2": "boné"}
			}, status: "waiting", msgStatus: "pending", rendered: "Oi Pedro! Esta semana o boné está com 30% de desconto.",
				parameters: map[string]any{"1": "Pedro", "2": "boné", "3": "30%"}},
			{name: "positional header, body and URL button keys", change: func(b map[string]any) {
				b["template_id"], b["parameters"] = env.Demo.TemplateIDs["protocolo_atendimento"], map[string]any{"header.1": "2024-7", "1": "Ana", "2": "troca", "button.0": "2024-7"}
			}, status: "waiting", msgStatus: "pending", rendered: "Protocolo 2024-7\n\nOlá Ana, registramos o seu atendimento sobre troca.",
				parameters: map[string]any{"header.1": "2024-7", "1": "Ana", "2": "troca", "button.0": "2024-7"}},
			{name: "numbers are accepted as written", change: func(b map[string]any) {
				b["template_id"], b["parameters"] = env.Demo.TemplateIDs["lembrete_pagamento"], []any{"Ana", 150.5, "10/12"}
			}, status: "waiting", msgStatus: "pending", rendered: "Olá Ana, lembramos que a fatura de 150.5 vence em 10/12.",
				parameters: map[string]any{"1": "Ana", "2": "150.5", "3": "10/12"}},
			{name: "scheduled start", change: func(b map[string]any) {
				b["send_type"], b["scheduled_at"] = "scheduled", inTwoDays.Format(time.RFC3339)
			}, status: "scheduled", msgStatus: "scheduled", rendered: "Olá João, aqui é Ana da Loja Demo.", scheduled: &inTwoDays,
				parameters: map[string]any{"nome": "João", "atendente": "Ana"}},
			{name: "scheduled with an offset", change: func(b map[string]any) {
				b["send_type"], b["scheduled_at"] = "scheduled", inTwoDays.In(time.FixedZone("BRT", -3*3600)).Format(time.RFC3339)
			}, status: "scheduled", msgStatus: "scheduled", rendered: "Olá João, aqui é Ana da Loja Demo.", scheduled: &inTwoDays,
				parameters: map[string]any{"nome": "João", "atendente": "Ana"}},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				body := startBody(env, "11 91234-80"+string(rune('0'+i/10))+string(rune('0'+i%10)))
				tc.change(body)
				r := env.Admin.Post("/api/v1/conversations", body)
				require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
				var got struct {
					ID             string
					Status         string
					ScheduledAt    *time.Time `json:"scheduled_at"`
					OpeningMessage struct {
						ID, Status   string
						RenderedText string `json:"rendered_text"`
					} `json:"opening_message"`
				}
				r.Decode(t, &got)
				require.Equal(t, tc.status, got.Status)
				require.Equal(t, tc.msgStatus, got.OpeningMessage.Status)
				require.Contains(t, got.OpeningMessage.RenderedText, tc.rendered)
				if tc.scheduled != nil {
					require.NotNil(t, got.ScheduledAt)
					require.True(t, tc.scheduled.Equal(*got.ScheduledAt), "scheduled_at %v, want %v", got.ScheduledAt, tc.scheduled)
				} else {
					require.Nil(t, got.ScheduledAt)
				}

				// GET shows the same state, and the stored message has the parameters by variable.
				g := env.Admin.Get("/api/v1/conversations/" + got.ID)
				require.Equal(t, http.StatusOK, g.Status)
				require.Equal(t, tc.status, g.Str("status"))
				require.Equal(t, tc.msgStatus, g.JSON()["opening_message"].(map[string]any)["status"])
				msgs := items(t, env.Admin.Get("/api/v1/conversations/"+got.ID+"/messages"))
				require.Len(t, msgs, 1)
				require.Equal(t, tc.msgStatus, msgs[0]["status"])
				require.Equal(t, tc.parameters, msgs[0]["parameters"])
			})
		}
	})
}

func TestStartConversationAlreadyOpen(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		first := start(t, env.Admin, knownStart(env))

		// By id, and by the same phone in another form.
		byPhone := knownStart(env)
		delete(byPhone, "contact_id")
		byPhone["contact"] = map[string]any{"phone": "(11) 98765-4321"}
		scheduled := knownStart(env)
		scheduled["send_type"], scheduled["scheduled_at"] = "scheduled", rfc3339(time.Hour)
		for _, body := range []map[string]any{knownStart(env), byPhone, scheduled} {
			r := env.Admin.Post("/api/v1/conversations", body)
			problem(t, r, http.StatusConflict, "conversation_already_open")
			require.Equal(t, first, r.Str("existing_id"))
		}

		// Another channel is another conversation.
		other := newOtherChannel(t, env, "+55 11 4000-7777", "Outra")
		body := knownStart(env)
		body["channel_id"], body["team_id"], body["template_id"] = other.ChannelID, other.TeamID, other.TemplateID
		body["parameters"] = map[string]any{"nome": "João"}
		start(t, env.Admin, body)

		// A scheduled start counts as open too, until it is cancelled.
		r := env.Admin.Post("/api/v1/conversations/"+first+"/close", nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		sched := start(t, env.Admin, scheduled)
		r = env.Admin.Post("/api/v1/conversations", knownStart(env))
		problem(t, r, http.StatusConflict, "conversation_already_open")
		require.Equal(t, sched, r.Str("existing_id"))
		r = env.Admin.Post("/api/v1/conversations/"+sched+"/cancel", nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.NotEqual(t, first, start(t, env.Admin, knownStart(env)))
	})
}

func TestStartIdempotencyKey(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		keyed := env.Admin.WithHeader("Idempotency-Key", "pedido-4711")
		body := startBody(env, "11 91234-9001")

		first := keyed.Post("/api/v1/conversations", body)
		require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
		require.Empty(t, first.Header.Get("Idempotent-Replayed"))

		again := keyed.Post("/api/v1/conversations", body)
		require.Equal(t, first.Status, again.Status)
		require.Equal(t, string(first.Body), string(again.Body), "the replay is byte for byte the first response")
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		require.Len(t, items(t, env.Admin.Get("/api/v1/conversations")), 1)
		msgs := items(t, env.Admin.Get("/api/v1/conversations/"+first.Str("id")+"/messages"))
		require.Len(t, msgs, 1, "one opening message, not two")

		// The same key with another body is refused, and changes nothing.
		changed := maps.Clone(body)
		changed["parameters"] = map[string]any{"nome": "Joana", "atendente": "Ana"}
		r := keyed.Post("/api/v1/conversations", changed)
		problem(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused")
		require.Equal(t, []string{"Idempotency-Key:idempotency_key_reused"}, r.FieldCodes())
		require.Len(t, items(t, env.Admin.Get("/api/v1/conversations")), 1)

		// Without the key the same body is a new attempt: the conversation is already open.
		r = env.Admin.Post("/api/v1/conversations", body)
		problem(t, r, http.StatusConflict, "conversation_already_open")

		// A refused start is not remembered: fixed, the same key goes through.
		retry := env.Admin.WithHeader("Idempotency-Key", "tentativa-2")
		bad := startBody(env, "11 91234-9002")
		bad["parameters"] = map[string]any{"nome": "João"}
		r = retry.Post("/api/v1/conversations", bad)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		ok := retry.Post("/api/v1/conversations", startBody(env, "11 91234-9002"))
		require.Equal(t, http.StatusCreated, ok.Status, string(ok.Body))
		require.Empty(t, ok.Header.Get("Idempotent-Replayed"))

		// Over-long keys are refused.
		r = env.Admin.WithHeader("Idempotency-Key", strings.Repeat("k", 256)).Post("/api/v1/conversations", startBody(env, "11 91234-9003"))
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Contains(t, r.FieldCodes(), "Idempotency-Key:idempotency_key_invalid")
	})
}

func TestStartIdempotencyKeyRace(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		const n = 20
		keyed := env.Admin.WithHeader("Idempotency-Key", "corrida-1")
		body := startBody(env, "11 91234-9101")
		resps := make([]*apptest.Response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { resps[i] = keyed.Post("/api/v1/conversations", body) })
		}
		wg.Wait()
		id := ""
		replayed := 0
		for _, r := range resps {
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			if id == "" {
				id = r.Str("id")
			}
			require.Equal(t, id, r.Str("id"))
			if r.Header.Get("Idempotent-Replayed") == "true" {
				replayed++
			}
		}
		require.Equal(t, n-1, replayed, "one request did the work, the others replayed it")
		require.Equal(t, []string{id}, ids(items(t, env.Admin.Get("/api/v1/conversations"))))
		require.Len(t, items(t, env.Admin.Get("/api/v1/conversations/"+id+"/messages")), 1)
	})
}

// TestStartIdempotencyKeyPerAccount: keys are scoped to the account, so another company may use
// the same key for its own start.
func TestStartIdempotencyKeyPerAccount(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		first := env.Admin.WithHeader("Idempotency-Key", "compartilhada").Post("/api/v1/conversations", startBody(env, "11 91234-9201"))
		require.Equal(t, http.StatusCreated, first.Status, string(first.Body))

		_, key := env.NewAccount("Outra Loja")
		second := env.Client(key)
		r := second.Post("/api/v1/channels", map[string]any{"name": "Canal", "provider": "sandbox", "phone_number": "+55 21 4000-0001"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		channelID := r.Str("id")
		r = second.Post("/api/v1/teams", map[string]any{"name": "Atendimento", "channel_ids": []string{channelID}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		teamID := r.Str("id")
		r = second.Post("/api/v1/templates", templateBody(channelID, "ola", "MARKETING", "APPROVED"))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		body := map[string]any{"contact": map[string]any{"phone": "11 91234-9201"}, "channel_id": channelID, "team_id": teamID,
			"send_type": "now", "template_id": r.Str("id"), "parameters": map[string]any{"nome": "João"}}

		got := second.WithHeader("Idempotency-Key", "compartilhada").Post("/api/v1/conversations", body)
		require.Equal(t, http.StatusCreated, got.Status, string(got.Body))
		require.Empty(t, got.Header.Get("Idempotent-Replayed"))
		require.NotEqual(t, first.Str("id"), got.Str("id"))

		// Each account replays its own response.
		again := env.Admin.WithHeader("Idempotency-Key", "compartilhada").Post("/api/v1/conversations", startBody(env, "11 91234-9201"))
		require.Equal(t, string(first.Body), string(again.Body))
		again = second.WithHeader("Idempotency-Key", "compartilhada").Post("/api/v1/conversations", body)
		require.Equal(t, string(got.Body), string(again.Body))
	})
}
