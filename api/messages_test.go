package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// msgPath is the messages collection of a conversation.
func msgPath(convID string) string { return "/api/v1/conversations/" + convID + "/messages" }

// postText posts free text and requires a 201; it returns the message.
func postText(t *testing.T, c *apptest.Client, convID, text string) map[string]any {
	t.Helper()
	r := c.Post(msgPath(convID), map[string]any{"text": text})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	return r.JSON()
}

func seqOf(m map[string]any) int { return int(m["seq"].(float64)) }

func TestMessagesQueueInPostingOrder(t *testing.T) {
	t.Parallel()
	eachOutboxStill(t, func(t *testing.T, env *apptest.Env) {
		conv := start(t, env.Admin, startBody(env, "11 91234-1001"))
		texts := []string{"Olá! Separei o seu pedido.", "Ele sai amanhã.", "Qualquer dúvida, estou aqui."}
		for i, text := range texts {
			m := postText(t, env.Admin, conv, text)
			require.Equal(t, "queued", m["status"])
			require.Equal(t, "out", m["direction"])
			require.Equal(t, "text", m["type"])
			require.Equal(t, text, m["text"])
			require.Equal(t, conv, m["conversation_id"])
			require.Equal(t, i+2, seqOf(m), "the opening template is seq 1")
		}
		msgs := items(t, env.Admin.Get(msgPath(conv)))
		require.Len(t, msgs, 4)
		for i, m := range msgs {
			require.Equal(t, i+1, seqOf(m))
		}
		require.Equal(t, "template", msgs[0]["type"])
		require.Equal(t, "pending", msgs[0]["status"])
		for i, text := range texts {
			require.Equal(t, text, msgs[i+1]["text"])
			require.Equal(t, "queued", msgs[i+1]["status"])
		}

		// The history pages in order too.
		var seen []int
		cursor := ""
		for range 10 {
			r := env.Admin.Get(msgPath(conv) + "?limit=3&cursor=" + cursor)
			for _, m := range items(t, r) {
				seen = append(seen, seqOf(m))
			}
			next, _ := r.JSON()["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		require.Equal(t, []int{1, 2, 3, 4}, seen)

		// A scheduled conversation queues as well.
		body := startBody(env, "11 91234-1002")
		body["send_type"], body["scheduled_at"] = "scheduled", rfc3339(time.Hour)
		sched := start(t, env.Admin, body)
		require.Equal(t, "queued", postText(t, env.Admin, sched, "Até breve")["status"])
	})
}

func TestMessagesPostRefused(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		conv := start(t, env.Admin, startBody(env, "11 91234-1101"))
		tests := []struct {
			name string
			body any
			want []string
		}{
			{"empty object", map[string]any{}, []string{"text:text_required"}},
			{"blank text", map[string]any{"text": " \n "}, []string{"text:text_required"}},
			{"text too long", map[string]any{"text": strings.Repeat("a", 4097)}, []string{"text:text_invalid"}},
			{"text and template", map[string]any{"text": "oi", "template_id": env.Demo.TemplateIDs["boas_vindas"],
				"parameters": map[string]any{"nome": "João", "atendente": "Ana"}}, []string{"text:text_not_allowed"}},
			{"template missing parameters", map[string]any{"template_id": env.Demo.TemplateIDs["boas_vindas"]},
				[]string{"parameters.nome:parameter_missing", "parameters.atendente:parameter_missing"}},
			{"template pending", map[string]any{"template_id": env.Demo.TemplateIDs["pesquisa_satisfacao"], "parameters": map[string]any{"nome": "João"}},
				[]string{"template_id:template_not_approved"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := env.Admin.Post(msgPath(conv), tc.body)
				require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
				if tc.want != nil {
					require.ElementsMatch(t, tc.want, r.FieldCodes())
				}
			})
		}
		require.Len(t, items(t, env.Admin.Get(msgPath(conv))), 1, "nothing was stored")

		r := env.Admin.Post(msgPath(unknownID), map[string]any{"text": "oi"})
		problem(t, r, http.StatusNotFound, "conversation_not_found")
		r = env.Admin.Get(msgPath("nao-e-um-id"))
		problem(t, r, http.StatusNotFound, "conversation_not_found")
	})
}

func TestMessagesParallelPosts(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		const n = 20
		conv := start(t, env.Admin, startBody(env, "11 91234-1201"))
		resps := make([]*apptest.Response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				resps[i] = env.Admin.Post(msgPath(conv), map[string]any{"text": fmt.Sprintf("mensagem %d", i)})
			})
		}
		wg.Wait()
		var seqs []int
		bySeq := map[int]string{}
		for _, r := range resps {
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			m := r.JSON()
			require.Equal(t, "queued", m["status"])
			seqs = append(seqs, seqOf(m))
			bySeq[seqOf(m)] = m["text"].(string)
		}
		sort.Ints(seqs)
		want := make([]int, n)
		for i := range want {
			want[i] = i + 2
		}
		require.Equal(t, want, seqs, "distinct, consecutive sequence numbers after the opening message")

		msgs := items(t, env.Admin.Get(msgPath(conv)+"?limit=200"))
		require.Len(t, msgs, n+1)
		for i, m := range msgs {
			require.Equal(t, i+1, seqOf(m))
			if i > 0 {
				require.Equal(t, bySeq[i+1], m["text"], "the history shows each message at the seq it was given")
			}
		}
	})
}

func TestMessagesWithdraw(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		conv := start(t, env.Admin, startBody(env, "11 91234-1301"))
		other := start(t, env.Admin, startBody(env, "11 91234-1302"))
		opening := env.Admin.Get("/api/v1/conversations/" + conv).JSON()["opening_message"].(map[string]any)["id"].(string)
		keep := postText(t, env.Admin, conv, "fica")["id"].(string)
		gone := postText(t, env.Admin, conv, "sai")["id"].(string)
		last := postText(t, env.Admin, conv, "fica também")["id"].(string)

		r := env.Admin.Delete(msgPath(conv) + "/" + gone)
		require.Equal(t, http.StatusNoContent, r.Status, string(r.Body))
		require.Empty(t, r.Body)
		msgs := items(t, env.Admin.Get(msgPath(conv)))
		require.Equal(t, []string{opening, keep, last}, ids(msgs))

		tests := []struct {
			name, path string
			status     int
			code       string
		}{
			{"again", msgPath(conv) + "/" + gone, http.StatusNotFound, "message_not_found"},
			{"unknown message", msgPath(conv) + "/" + unknownID, http.StatusNotFound, "message_not_found"},
			{"not an id", msgPath(conv) + "/abc", http.StatusNotFound, "message_not_found"},
			{"message of another conversation", msgPath(other) + "/" + keep, http.StatusNotFound, "message_not_found"},
			{"unknown conversation", msgPath(unknownID) + "/" + keep, http.StatusNotFound, "conversation_not_found"},
			{"opening message already released", msgPath(conv) + "/" + opening, http.StatusConflict, "message_not_queued"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				problem(t, env.Admin.Delete(tc.path), tc.status, tc.code)
			})
		}
		require.Equal(t, []string{opening, keep, last}, ids(items(t, env.Admin.Get(msgPath(conv)))))
	})
}

func TestConversationClose(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		body := startBody(env, "11 91234-1401")
		conv := start(t, env.Admin, body)
		postText(t, env.Admin, conv, "primeira")
		postText(t, env.Admin, conv, "segunda")

		r := env.Admin.Post("/api/v1/conversations/"+conv+"/close", nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "closed", r.Str("status"))
		require.NotEmpty(t, r.Str("closed_at"))
		require.Equal(t, "closed", env.Admin.Get("/api/v1/conversations/"+conv).Str("status"))

		// Queued messages stay, unsent and visible.
		msgs := items(t, env.Admin.Get(msgPath(conv)))
		require.Len(t, msgs, 3)
		require.Equal(t, "queued", msgs[1]["status"])
		require.Equal(t, "queued", msgs[2]["status"])

		problem(t, env.Admin.Post(msgPath(conv), map[string]any{"text": "terceira"}), http.StatusConflict, "conversation_closed")
		problem(t, env.Admin.Post("/api/v1/conversations/"+conv+"/close", nil), http.StatusConflict, "conversation_closed")
		problem(t, env.Admin.Post("/api/v1/conversations/"+conv+"/cancel", nil), http.StatusConflict, "conversation_not_scheduled")
		require.Len(t, items(t, env.Admin.Get(msgPath(conv))), 3)
		problem(t, env.Admin.Post("/api/v1/conversations/"+unknownID+"/close", nil), http.StatusNotFound, "conversation_not_found")

		// Closed, the contact may be started again on the channel.
		require.NotEqual(t, conv, start(t, env.Admin, body))

		// Closing a scheduled start withdraws its opening message.
		body = startBody(env, "11 91234-1402")
		body["send_type"], body["scheduled_at"] = "scheduled", rfc3339(time.Hour)
		sched := start(t, env.Admin, body)
		r = env.Admin.Post("/api/v1/conversations/"+sched+"/close", nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "cancelled", r.JSON()["opening_message"].(map[string]any)["status"])
	})
}

func TestConversationCancel(t *testing.T) {
	t.Parallel()
	eachOutboxStill(t, func(t *testing.T, env *apptest.Env) {
		body := startBody(env, "11 91234-1501")
		body["send_type"], body["scheduled_at"] = "scheduled", rfc3339(2*time.Hour)
		sched := start(t, env.Admin, body)

		r := env.Admin.Post("/api/v1/conversations/"+sched+"/cancel", nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "cancelled", r.Str("status"))
		require.Equal(t, "cancelled", r.JSON()["opening_message"].(map[string]any)["status"])
		msgs := items(t, env.Admin.Get(msgPath(sched)))
		require.Len(t, msgs, 1)
		require.Equal(t, "cancelled", msgs[0]["status"])
		require.Equal(t, "cancelled", env.Admin.Get("/api/v1/conversations/"+sched).Str("status"))

		problem(t, env.Admin.Post("/api/v1/conversations/"+sched+"/cancel", nil), http.StatusConflict, "conversation_not_scheduled")
		problem(t, env.Admin.Post(msgPath(sched), map[string]any{"text": "oi"}), http.StatusConflict, "conversation_closed")
		problem(t, env.Admin.Post("/api/v1/conversations/"+sched+"/close", nil), http.StatusConflict, "conversation_closed")

		waiting := start(t, env.Admin, startBody(env, "11 91234-1502"))
		problem(t, env.Admin.Post("/api/v1/conversations/"+waiting+"/cancel", nil), http.StatusConflict, "conversation_not_scheduled")
		require.Equal(t, "waiting", env.Admin.Get("/api/v1/conversations/"+waiting).Str("status"))
		require.Equal(t, "pending", items(t, env.Admin.Get(msgPath(waiting)))[0]["status"])
		problem(t, env.Admin.Post("/api/v1/conversations/"+unknownID+"/cancel", nil), http.StatusNotFound, "conversation_not_found")

		// Cancelled, the contact may be started again.
		start(t, env.Admin, startBody(env, "11 91234-1501"))
	})
}

func TestListConversations(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		vendas, suporte := env.Demo.TeamIDs[0], env.Demo.TeamIDs[1]
		other := newOtherChannel(t, env, "+55 11 4000-8888", "Loja2")

		a := start(t, env.Admin, knownStart(env)) // João, Vendas, waiting
		bBody := startBody(env, "11 91234-1601")
		bBody["team_id"], bBody["send_type"], bBody["scheduled_at"] = suporte, "scheduled", rfc3339(time.Hour)
		b := start(t, env.Admin, bBody) // Suporte, scheduled
		cBody := startBody(env, "11 91234-1602")
		cBody["channel_id"], cBody["team_id"], cBody["template_id"] = other.ChannelID, other.TeamID, other.TemplateID
		cBody["parameters"] = map[string]any{"nome": "Carla"}
		c := start(t, env.Admin, cBody) // other channel, closed
		require.Equal(t, http.StatusOK, env.Admin.Post("/api/v1/conversations/"+c+"/close", nil).Status)
		d := start(t, env.Admin, startBody(env, "11 91234-1603")) // Vendas, waiting
		all := []string{d, c, b, a}                               // newest first

		q := func(kv ...string) string {
			v := url.Values{}
			for i := 0; i < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return "/api/v1/conversations?" + v.Encode()
		}
		tests := []struct {
			name string
			path string
			want []string
		}{
			{"all", q(), all},
			{"status waiting", q("status", "waiting"), []string{d, a}},
			{"status scheduled", q("status", "scheduled"), []string{b}},
			{"status closed", q("status", "closed"), []string{c}},
			{"several statuses", q("status", "waiting,scheduled"), []string{d, b, a}},
			{"status cancelled", q("status", "cancelled"), []string{}},
			{"team Vendas", q("team_id", vendas), []string{d, a}},
			{"team Suporte", q("team_id", suporte), []string{b}},
			{"team of the other channel", q("team_id", other.TeamID), []string{c}},
			{"unknown team", q("team_id", unknownID), []string{}},
			{"demo channel", q("channel_id", env.Demo.ChannelID), []string{d, b, a}},
			{"other channel", q("channel_id", other.ChannelID), []string{c}},
			{"contact João", q("contact_id", env.Demo.ContactID), []string{a}},
			{"team and status", q("team_id", vendas, "status", "closed"), []string{}},
			{"channel and status", q("channel_id", env.Demo.ChannelID, "status", "scheduled"), []string{b}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got := items(t, env.Admin.Get(tc.path))
				require.Equal(t, tc.want, ids(got))
				for _, it := range got {
					require.NotEmpty(t, it["contact"].(map[string]any)["phone"], "each item carries its contact")
				}
			})
		}

		for _, limit := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("walk limit %d", limit), func(t *testing.T) {
				var seen []string
				cursor := ""
				for range 10 {
					r := env.Admin.Get(q("limit", fmt.Sprint(limit), "cursor", cursor))
					page := items(t, r)
					require.LessOrEqual(t, len(page), limit)
					seen = append(seen, ids(page)...)
					next, _ := r.JSON()["next_cursor"].(string)
					if next == "" {
						break
					}
					cursor = next
				}
				require.Equal(t, all, seen, "every conversation once, newest first")
			})
		}
		t.Run("walk with a filter", func(t *testing.T) {
			r := env.Admin.Get(q("status", "waiting,scheduled", "limit", "1"))
			first := ids(items(t, r))
			next, _ := r.JSON()["next_cursor"].(string)
			require.NotEmpty(t, next)
			r = env.Admin.Get(q("status", "waiting,scheduled", "limit", "2", "cursor", next))
			require.Equal(t, []string{d, b, a}, append(first, ids(items(t, r))...))
			require.Nil(t, r.JSON()["next_cursor"])
		})

		bad := []struct {
			name, path string
			want       string
		}{
			{"limit 0", q("limit", "0"), "limit:limit_invalid"},
			{"limit 201", q("limit", "201"), "limit:limit_invalid"},
			{"limit negative", q("limit", "-1"), "limit:limit_invalid"},
			{"limit abc", q("limit", "abc"), "limit:limit_invalid"},
			{"cursor not an id", q("cursor", "abc"), "cursor:cursor_invalid"},
			{"status unknown", q("status", "opened"), "status:status_invalid"},
			{"team not an id", q("team_id", "vendas"), "team_id:team_id_invalid"},
			{"channel not an id", q("channel_id", "x"), "channel_id:channel_id_invalid"},
			{"contact not an id", q("contact_id", "x"), "contact_id:contact_id_invalid"},
			{"messages limit 0", msgPath(a) + "?limit=0", "limit:limit_invalid"},
			{"messages limit 201", msgPath(a) + "?limit=201", "limit:limit_invalid"},
			{"messages limit abc", msgPath(a) + "?limit=abc", "limit:limit_invalid"},
			{"messages cursor", msgPath(a) + "?cursor=abc", "cursor:cursor_invalid"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				r := env.Admin.Get(tc.path)
				problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
				require.True(t, slices.Contains(r.FieldCodes(), tc.want), "%s in %v", tc.want, r.FieldCodes())
			})
		}
		// limit=200 is the maximum and is accepted.
		require.Len(t, items(t, env.Admin.Get(q("limit", "200"))), 4)
	})
}
