package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// desk is the cast of the desk tests: the demo account's teams (Vendas: admin Ana and agent
// Bruno; Suporte: Ana) plus Carla (Vendas) and Davi (Suporte), each logged in.
type desk struct {
	env             *apptest.Env
	vendas, suporte string
	admin           *apptest.Client // Ana's session
	bruno, carla    *apptest.Client
	davi            *apptest.Client
	adminID         string
	brunoID         string
	carlaID, daviID string
}

func newDesk(t *testing.T, env *apptest.Env) desk {
	t.Helper()
	d := desk{env: env, vendas: env.Demo.TeamIDs[0], suporte: env.Demo.TeamIDs[1]}
	d.bruno, d.brunoID, _ = agentSession(t, env)
	d.admin = env.Login(env.Demo.AdminEmail, env.Demo.AdminPassword)
	d.adminID = userID(t, env, env.Demo.AdminEmail)
	d.carla, d.carlaID = newAgent(t, env, "Carla Dias", "carla@demo.atendimento.dev", d.vendas)
	d.davi, d.daviID = newAgent(t, env, "Davi Melo", "davi@demo.atendimento.dev", d.suporte)
	return d
}

// newAgent creates an agent in the team and logs them in.
func newAgent(t *testing.T, env *apptest.Env, name, email, teamID string) (*apptest.Client, string) {
	t.Helper()
	pw := "agent-password-456"
	r := env.Admin.Post("/api/v1/users", map[string]any{"name": name, "email": email, "password": pw, "role": "agent"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	id := r.Str("id")
	tm := env.Admin.Get("/api/v1/teams/" + teamID)
	require.Equal(t, http.StatusOK, tm.Status)
	var members []string
	for _, m := range tm.JSON()["member_ids"].([]any) {
		members = append(members, m.(string))
	}
	r = env.Admin.Patch("/api/v1/teams/"+teamID, map[string]any{"member_ids": append(members, id)})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	return env.Login(email, pw), id
}

// startOn starts a conversation (template, waiting) on the demo channel for the team.
func (d desk) startOn(t *testing.T, c *apptest.Client, phone, teamID string) string {
	t.Helper()
	b := startBody(d.env, phone)
	b["team_id"] = teamID
	return start(t, c, b)
}

// reply is the contact's inbound text on the sandbox channel.
func (d desk) reply(t *testing.T, phone, text string) {
	t.Helper()
	r := d.env.Admin.Post("/api/v1/sandbox/channels/"+d.env.Demo.ChannelID+"/inbound", map[string]any{"from": phone, "text": text})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
}

func assign(c *apptest.Client, conv string, body map[string]any) *apptest.Response {
	return c.Post("/api/v1/conversations/"+conv+"/assign", body)
}

func assigneeOf(r *apptest.Response) any { return r.JSON()["assignee_id"] }

func TestDeskOwnership(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		d := newDesk(t, env)
		// The agent who starts a conversation owns it.
		mine := d.startOn(t, d.bruno, "11 95555-0001", d.vendas)
		r := d.bruno.Get("/api/v1/conversations/" + mine)
		require.Equal(t, d.brunoID, assigneeOf(r))
		require.Equal(t, "Bruno Lima", r.Str("assignee_name"))
		// An API key's start waits in the team's queue.
		queued := d.startOn(t, env.Admin, "11 95555-0002", d.vendas)
		require.Nil(t, assigneeOf(env.Admin.Get("/api/v1/conversations/"+queued)))
		// So does a receptive one (the contact wrote first).
		d.reply(t, "11 95555-0003", "oi")
		list := items(t, env.Admin.Get("/api/v1/conversations?q=11955550003"))
		require.Len(t, list, 1)
		require.Equal(t, "receptive", list[0]["origin"])
		require.Nil(t, list[0]["assignee_id"])
	})
}

func TestDeskAssign(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		d := newDesk(t, env)
		x := d.startOn(t, env.Admin, "11 95556-0001", d.vendas)

		// Davi is not in Vendas: he does not even see it.
		problem(t, assign(d.davi, x, map[string]any{"user_id": d.daviID}), http.StatusNotFound, "conversation_not_found")
		// user_id is required (null included).
		r := assign(d.bruno, x, map[string]any{})
		problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, []string{"user_id:user_id_required"}, r.FieldCodes())

		// Bruno takes it.
		r = assign(d.bruno, x, map[string]any{"user_id": d.brunoID})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, d.brunoID, assigneeOf(r))
		// Carla cannot take it now: 409 with who owns it.
		r = assign(d.carla, x, map[string]any{"user_id": d.carlaID})
		problem(t, r, http.StatusConflict, "conversation_already_assigned")
		require.Equal(t, d.brunoID, r.Str("assignee_id"))
		require.Equal(t, "Bruno Lima", r.Str("assignee_name"))
		// Nor force it: that is for admins.
		problem(t, assign(d.carla, x, map[string]any{"user_id": d.carlaID, "force": true}), http.StatusForbidden, "forbidden")
		// Bruno cannot hand it to someone outside Vendas; nothing changes.
		r = assign(d.bruno, x, map[string]any{"user_id": d.daviID})
		problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, []string{"user_id:assignee_not_in_team"}, r.FieldCodes())
		problem(t, assign(d.bruno, x, map[string]any{"user_id": unknownID}), http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, d.brunoID, assigneeOf(env.Admin.Get("/api/v1/conversations/"+x)))
		// He hands it to Carla, a member of the team.
		r = assign(d.bruno, x, map[string]any{"user_id": d.carlaID})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, d.carlaID, assigneeOf(r))
		require.Equal(t, "Carla Dias", r.Str("assignee_name"))
		// It is no longer his to return to the queue; Carla may.
		problem(t, assign(d.bruno, x, map[string]any{"user_id": nil}), http.StatusConflict, "conversation_already_assigned")
		r = assign(d.carla, x, map[string]any{"user_id": nil})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Nil(t, assigneeOf(r))
		require.Nil(t, r.JSON()["assignee_name"])

		// An admin reassigns a colleague's conversation only with force.
		require.Equal(t, http.StatusOK, assign(d.admin, x, map[string]any{"user_id": d.brunoID}).Status)
		problem(t, assign(d.admin, x, map[string]any{"user_id": d.carlaID}), http.StatusConflict, "conversation_already_assigned")
		r = assign(d.admin, x, map[string]any{"user_id": d.carlaID, "force": true})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, d.carlaID, assigneeOf(r))
		// An API key acts for the account: force too.
		r = assign(env.Admin, x, map[string]any{"user_id": d.adminID, "force": true})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))

		// A closed conversation is nobody's to take.
		require.Equal(t, http.StatusOK, env.Admin.Post("/api/v1/conversations/"+x+"/close", nil).Status)
		problem(t, assign(d.admin, x, map[string]any{"user_id": d.brunoID, "force": true}), http.StatusConflict, "conversation_closed")
	})
}

// Two agents take the same conversation at once: exactly one wins, the other learns who.
func TestDeskAssignRace(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		d := newDesk(t, env)
		for i := range 4 {
			x := d.startOn(t, env.Admin, fmt.Sprintf("11 95557-%04d", i), d.vendas)
			var wg sync.WaitGroup
			results := make([]*apptest.Response, 2)
			for j, who := range []struct {
				c  *apptest.Client
				id string
			}{{d.bruno, d.brunoID}, {d.carla, d.carlaID}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[j] = assign(who.c, x, map[string]any{"user_id": who.id})
				}()
			}
			wg.Wait()
			var won, lost *apptest.Response
			for _, r := range results {
				switch r.Status {
				case http.StatusOK:
					won = r
				case http.StatusConflict:
					lost = r
				}
			}
			require.NotNil(t, won, "%d %s / %d %s", results[0].Status, results[0].Body, results[1].Status, results[1].Body)
			require.NotNil(t, lost, "%d %s / %d %s", results[0].Status, results[0].Body, results[1].Status, results[1].Body)
			require.Equal(t, "conversation_already_assigned", lost.Str("code"))
			require.Equal(t, won.Str("assignee_id"), lost.Str("assignee_id"))
			require.Equal(t, won.Str("assignee_id"), env.Admin.Get("/api/v1/conversations/"+x).Str("assignee_id"))
		}
	})
}

func msgCount(t *testing.T, c *apptest.Client, conv string) int {
	t.Helper()
	return len(items(t, c.Get(msgPath(conv)+"?limit=200")))
}

func TestDeskTransfer(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		d := newDesk(t, env)
		oc := newOtherChannel(t, env, "+55 11 4000-7777", "Outra")
		x := d.startOn(t, d.bruno, "11 95558-0001", d.vendas)
		path := "/api/v1/conversations/" + x + "/transfer"
		before := env.Admin.Get("/api/v1/conversations/" + x).Body
		msgs := msgCount(t, env.Admin, x)

		bad := []struct {
			name string
			body map[string]any
			want []string
		}{
			{"no team", map[string]any{}, []string{"team_id:team_required"}},
			{"unknown team", map[string]any{"team_id": unknownID}, []string{"team_id:team_not_found"}},
			{"team not on the channel", map[string]any{"team_id": oc.TeamID}, []string{"team_id:team_not_allowed_on_channel"}},
			{"user outside the team", map[string]any{"team_id": d.suporte, "user_id": d.carlaID}, []string{"user_id:assignee_not_in_team"}},
			{"note too long", map[string]any{"team_id": d.suporte, "user_id": d.daviID, "note": strings.Repeat("a", 5000)}, []string{"note:note_text_invalid"}},
			{"everything at once", map[string]any{"team_id": oc.TeamID, "note": strings.Repeat("a", 4001)}, []string{"team_id:team_not_allowed_on_channel", "note:note_text_invalid"}},
		}
		for _, tc := range bad {
			r := d.bruno.Post(path, tc.body)
			problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
			require.Equal(t, tc.want, r.FieldCodes(), tc.name)
		}
		// Nothing was half-done.
		require.JSONEq(t, string(before), string(env.Admin.Get("/api/v1/conversations/"+x).Body))
		require.Equal(t, msgs, msgCount(t, env.Admin, x))

		// Carla (Vendas) may not transfer Bruno's conversation.
		problem(t, d.carla.Post(path, map[string]any{"team_id": d.suporte}), http.StatusConflict, "conversation_already_assigned")

		// Bruno transfers it to Davi in Suporte, with a note.
		r := d.bruno.Post(path, map[string]any{"team_id": d.suporte, "user_id": d.daviID, "note": "Cliente quer falar da fatura."})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, d.suporte, r.Str("team_id"))
		require.Equal(t, d.daviID, r.Str("assignee_id"))
		require.Equal(t, "Davi Melo", r.Str("assignee_name"))
		require.Equal(t, "internal", r.JSON()["last_message"].(map[string]any)["direction"])
		// It left Bruno's sight and reached Davi's, with the note in its history.
		problem(t, d.bruno.Get("/api/v1/conversations/"+x), http.StatusNotFound, "conversation_not_found")
		list := items(t, d.davi.Get(msgPath(x)))
		require.Len(t, list, msgs+1)
		note := list[len(list)-1]
		require.Equal(t, "note", note["type"])
		require.Equal(t, "internal", note["direction"])
		require.Equal(t, "Cliente quer falar da fatura.", note["text"])
		require.Equal(t, d.brunoID, note["author_id"])
		require.Equal(t, "Bruno Lima", note["author_name"])

		// An empty note is no note; the queue of Vendas takes it back (an admin may move anything).
		r = d.admin.Post(path, map[string]any{"team_id": d.vendas, "note": ""})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Nil(t, assigneeOf(r))
		require.Equal(t, msgs+1, msgCount(t, env.Admin, x))
	})
}

func TestDeskNotes(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		d := newDesk(t, env)
		oc := newOtherChannel(t, env, "+55 11 4000-8888", "Outra")
		x := d.startOn(t, d.bruno, "11 95559-0001", d.vendas)
		notes := "/api/v1/conversations/" + x + "/notes"
		for _, text := range []any{"", "   ", strings.Repeat("é", 4001), strings.Repeat("a", 5000), nil} {
			r := d.bruno.Post(notes, map[string]any{"text": text})
			problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
			require.Equal(t, []string{"text:note_text_invalid"}, r.FieldCodes())
		}
		require.Equal(t, 1, msgCount(t, env.Admin, x))
		r := d.bruno.Post(notes, map[string]any{"text": strings.Repeat("é", 4000)})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))

		first := d.bruno.Post(notes, map[string]any{"text": "Prefere contato à tarde."})
		require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
		require.Equal(t, "note", first.Str("type"))
		require.Equal(t, "internal", first.Str("direction"))
		require.Equal(t, "internal", first.Str("status"))
		require.Equal(t, d.brunoID, first.Str("author_id"))
		require.Equal(t, "Bruno Lima", first.Str("author_name"))
		postText(t, d.bruno, x, "na fila")
		// In order, among the messages.
		list := items(t, d.bruno.Get(msgPath(x)))
		require.Len(t, list, 4)
		require.Equal(t, []any{"template", "note", "note", "text"}, []any{list[0]["type"], list[1]["type"], list[2]["type"], list[3]["type"]})
		require.Equal(t, first.Str("id"), list[2]["id"])
		// Davi (Suporte) sees none of it.
		problem(t, d.davi.Post(notes, map[string]any{"text": "oi"}), http.StatusNotFound, "conversation_not_found")
		// A closed conversation still takes notes.
		require.Equal(t, http.StatusOK, d.bruno.Post("/api/v1/conversations/"+x+"/close", nil).Status)
		require.Equal(t, http.StatusCreated, d.bruno.Post(notes, map[string]any{"text": "Encerrado a pedido."}).Status)

		// The contact's notes across conversations and channels, newest first, paged.
		contactID := env.Admin.Get("/api/v1/conversations/" + x).JSON()["contact"].(map[string]any)["id"].(string)
		y := start(t, env.Admin, map[string]any{"contact_id": contactID, "channel_id": oc.ChannelID, "team_id": oc.TeamID, "send_type": "now",
			"template_id": oc.TemplateID, "parameters": map[string]any{"nome": "João"}})
		last := env.Admin.Post("/api/v1/conversations/"+y+"/notes", map[string]any{"text": "Outro canal."})
		require.Equal(t, http.StatusCreated, last.Status, string(last.Body))
		require.Nil(t, last.JSON()["author_id"], "an API key is no author")
		var texts []string
		cursor := ""
		for page := 0; ; page++ {
			require.Less(t, page, 10)
			r := env.Admin.Get("/api/v1/contacts/" + contactID + "/notes?limit=2" + cursor)
			for _, it := range items(t, r) {
				texts = append(texts, it["text"].(string)[:min(10, len(it["text"].(string)))])
			}
			next, _ := r.JSON()["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = "&cursor=" + next
		}
		require.Equal(t, []string{"Outro cana", "Encerrado ", "Prefere co", strings.Repeat("é", 5)}, texts)
		// Bruno sees only the notes of his teams' conversations.
		mine := items(t, d.bruno.Get("/api/v1/contacts/"+contactID+"/notes"))
		require.Len(t, mine, 3)
		problem(t, env.Admin.Get("/api/v1/contacts/"+unknownID+"/notes"), http.StatusNotFound, "contact_not_found")
	})
}

func TestQuickReplies(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		d := newDesk(t, env)
		const qr = "/api/v1/quick-replies"
		text := "Olá {{primeiro_nome}}! Aqui é {{atendente}} ({{nome}})."
		// Account replies are the admins'.
		problem(t, d.bruno.Post(qr, map[string]any{"shortcut": "oi", "text": text, "scope": "account"}), http.StatusForbidden, "forbidden")
		acc := env.Admin.Post(qr, map[string]any{"shortcut": "/Oi", "text": text, "scope": "account"})
		require.Equal(t, http.StatusCreated, acc.Status, string(acc.Body))
		require.Equal(t, "oi", acc.Str("shortcut"))
		require.Nil(t, acc.JSON()["owner_id"])
		problem(t, d.admin.Post(qr, map[string]any{"shortcut": "oi", "text": "x", "scope": "account"}), http.StatusConflict, "quick_reply_exists")
		// Personal ones are each user's: the same shortcut in another scope or owner is fine.
		mine := d.bruno.Post(qr, map[string]any{"shortcut": "oi", "text": "Oi, {{nome}}", "scope": "personal"})
		require.Equal(t, http.StatusCreated, mine.Status, string(mine.Body))
		require.Equal(t, d.brunoID, mine.Str("owner_id"))
		problem(t, d.bruno.Post(qr, map[string]any{"shortcut": "OI", "text": "de novo", "scope": "personal"}), http.StatusConflict, "quick_reply_exists")
		carlas := d.carla.Post(qr, map[string]any{"shortcut": "oi", "text": "Oi da Carla", "scope": "personal"})
		require.Equal(t, http.StatusCreated, carlas.Status, string(carlas.Body))

		// Every bad field at once; an unknown placeholder is named.
		r := d.bruno.Post(qr, map[string]any{"shortcut": "com espaço", "text": "Seu CPF {{cpf}} e {{ nome }} e {{pedido}}", "scope": "team"})
		problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, []string{"scope:quick_reply_scope_invalid", "shortcut:quick_reply_shortcut_invalid",
			"text:quick_reply_placeholder_unknown", "text:quick_reply_placeholder_unknown"}, r.FieldCodes())
		require.Contains(t, string(r.Body), "{{cpf}}")
		require.Contains(t, string(r.Body), "{{pedido}}")
		r = d.bruno.Post(qr, map[string]any{"shortcut": "x", "text": strings.Repeat("a", 4001), "scope": "personal"})
		require.Equal(t, []string{"text:quick_reply_text_invalid"}, r.FieldCodes())
		r = env.Admin.Post(qr, map[string]any{"shortcut": "x", "text": "a", "scope": "personal"})
		require.Equal(t, []string{"scope:quick_reply_scope_invalid"}, r.FieldCodes(), "an API key has no personal replies")

		// Bruno lists the account's and his own, not Carla's; q searches shortcut and text.
		require.ElementsMatch(t, []string{acc.Str("id"), mine.Str("id")}, ids(items(t, d.bruno.Get(qr))))
		require.ElementsMatch(t, []string{carlas.Str("id"), acc.Str("id")}, ids(items(t, d.carla.Get(qr+"?q=oi"))))
		require.Equal(t, []string{carlas.Str("id")}, ids(items(t, d.carla.Get(qr+"?q=CARLA"))))
		require.Equal(t, []string{acc.Str("id")}, ids(items(t, d.bruno.Get(qr+"?q=atendente"))))

		// Writing: account ones by admins, personal ones by their owner only.
		problem(t, d.bruno.Patch(qr+"/"+acc.Str("id"), map[string]any{"text": "x"}), http.StatusForbidden, "forbidden")
		problem(t, d.bruno.Patch(qr+"/"+carlas.Str("id"), map[string]any{"text": "x"}), http.StatusNotFound, "quick_reply_not_found")
		problem(t, d.bruno.Delete(qr+"/"+carlas.Str("id")), http.StatusNotFound, "quick_reply_not_found")
		problem(t, d.bruno.Patch(qr+"/"+mine.Str("id"), map[string]any{"text": "{{telefone}}"}), http.StatusUnprocessableEntity, "validation_failed")
		problem(t, d.bruno.Patch(qr+"/"+mine.Str("id"), map[string]any{"scope": "account"}), http.StatusUnprocessableEntity, "validation_failed")
		r = d.bruno.Patch(qr+"/"+mine.Str("id"), map[string]any{"shortcut": "ola", "text": "Olá, {{nome}}!"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "ola", r.Str("shortcut"))
		r = d.admin.Patch(qr+"/"+acc.Str("id"), map[string]any{"text": text + " "})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))

		// Rendered for a conversation: the contact's names and the calling agent's.
		b := startBody(env, "")
		delete(b, "contact")
		b["contact_id"] = env.Demo.ContactID // João da Silva
		conv := start(t, d.bruno, b)
		r = d.bruno.Post(qr+"/"+acc.Str("id")+"/render", map[string]any{"conversation_id": conv})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "Olá João! Aqui é Bruno Lima (João da Silva). ", r.Str("text"))
		problem(t, d.davi.Post(qr+"/"+acc.Str("id")+"/render", map[string]any{"conversation_id": conv}), http.StatusNotFound, "conversation_not_found")
		problem(t, d.davi.Post(qr+"/"+mine.Str("id")+"/render", map[string]any{"conversation_id": conv}), http.StatusNotFound, "quick_reply_not_found")

		require.Equal(t, http.StatusNoContent, d.bruno.Delete(qr+"/"+mine.Str("id")).Status)
		problem(t, d.carla.Delete(qr+"/"+acc.Str("id")), http.StatusForbidden, "forbidden")
		require.Equal(t, http.StatusNoContent, d.admin.Delete(qr+"/"+acc.Str("id")).Status)
		require.Empty(t, items(t, d.bruno.Get(qr)))
	})
}

func TestDeskCloseReopen(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		d := newDesk(t, env)
		// The list of reasons: admins write it, everyone reads it.
		problem(t, d.bruno.Patch("/api/v1/account", map[string]any{"close_reasons": []string{"x"}}), http.StatusForbidden, "forbidden")
		many := make([]string, 31)
		for i := range many {
			many[i] = fmt.Sprint("motivo ", i)
		}
		for _, bad := range [][]string{many, {""}, {"Resolvido", " resolvido "}, {strings.Repeat("a", 81)}} {
			r := env.Admin.Patch("/api/v1/account", map[string]any{"close_reasons": bad})
			problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
			require.Contains(t, r.FieldCodes()[0], "close_reasons_invalid")
		}
		r := env.Admin.Patch("/api/v1/account", map[string]any{"close_reasons": []string{" Resolvido ", "Sem resposta"}})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, []any{"Resolvido", "Sem resposta"}, d.bruno.Get("/api/v1/account").JSON()["close_reasons"])

		// Closing takes one of them, or none.
		x := d.startOn(t, d.bruno, "11 95560-0001", d.vendas)
		d.reply(t, "11 95560-0001", "oi") // opens the window
		closePath := "/api/v1/conversations/" + x + "/close"
		r = d.bruno.Post(closePath, map[string]any{"reason": "Cansei"})
		problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, []string{"reason:close_reason_unknown"}, r.FieldCodes())
		require.Equal(t, "active", env.Admin.Get("/api/v1/conversations/"+x).Str("status"))
		r = d.bruno.Post(closePath, map[string]any{"reason": "Resolvido"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "closed", r.Str("status"))
		require.Equal(t, "Resolvido", r.Str("closed_reason"))

		// Reopening while the window is open: active again, the closing reason gone.
		reopen := "/api/v1/conversations/" + x + "/reopen"
		r = d.carla.Post(reopen, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "active", r.Str("status"))
		require.Nil(t, r.JSON()["closed_reason"])
		require.Nil(t, r.JSON()["closed_at"])
		require.Equal(t, d.brunoID, r.Str("assignee_id"), "its owner stays")
		problem(t, d.carla.Post(reopen, nil), http.StatusConflict, "conversation_not_closed")

		// An unassigned one becomes the caller's.
		require.Equal(t, http.StatusOK, assign(d.bruno, x, map[string]any{"user_id": nil}).Status)
		require.Equal(t, http.StatusOK, d.bruno.Post(closePath, nil).Status)
		r = d.carla.Post(reopen, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, d.carlaID, r.Str("assignee_id"))

		// A new conversation of the contact meanwhile blocks reopening the old one.
		require.Equal(t, http.StatusOK, d.carla.Post(closePath, nil).Status)
		y := d.startOn(t, env.Admin, "11 95560-0001", d.vendas)
		r = d.carla.Post(reopen, nil)
		problem(t, r, http.StatusConflict, "conversation_already_open")
		require.Equal(t, y, r.Str("existing_id"))

		// Without a window (the contact never replied) it takes a new start.
		z := d.startOn(t, env.Admin, "11 95560-0002", d.vendas)
		require.Equal(t, http.StatusOK, env.Admin.Post("/api/v1/conversations/"+z+"/close", nil).Status)
		problem(t, d.bruno.Post("/api/v1/conversations/"+z+"/reopen", nil), http.StatusUnprocessableEntity, "window_closed")
		require.Equal(t, "closed", env.Admin.Get("/api/v1/conversations/"+z).Str("status"))
	})
}

func TestDeskListFiltersAndPaging(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		d := newDesk(t, env)
		var all []string
		for i := range 7 {
			b := startBody(env, fmt.Sprintf("11 95561-%04d", i))
			b["contact"] = map[string]any{"phone": fmt.Sprintf("11 95561-%04d", i), "name": fmt.Sprintf("Cliente %d Araújo", i)}
			b["team_id"] = d.vendas
			all = append(all, start(t, env.Admin, b))
		}
		require.Equal(t, http.StatusOK, assign(d.bruno, all[1], map[string]any{"user_id": d.brunoID}).Status)
		require.Equal(t, http.StatusOK, assign(d.bruno, all[4], map[string]any{"user_id": d.brunoID}).Status)
		require.Equal(t, http.StatusOK, assign(d.carla, all[5], map[string]any{"user_id": d.carlaID}).Status)
		require.Equal(t, http.StatusOK, env.Admin.Post("/api/v1/conversations/"+all[6]+"/close", nil).Status)
		d.reply(t, "11 95561-0004", "oi") // active, with an unread message

		const list = "/api/v1/conversations"
		require.ElementsMatch(t, []string{all[1], all[4]}, listIDs(t, d.bruno, list+"?assignee_id=me"))
		require.ElementsMatch(t, []string{all[5]}, listIDs(t, d.bruno, list+"?assignee_id="+d.carlaID))
		require.ElementsMatch(t, []string{all[0], all[2], all[3], all[6]}, listIDs(t, d.bruno, list+"?assignee_id=none"))
		require.ElementsMatch(t, []string{all[0], all[2], all[3]}, listIDs(t, d.bruno, list+"?assignee_id=none&status=open&q=Araujo"))
		// Several states, repeated or comma-separated.
		require.ElementsMatch(t, []string{all[4], all[6]}, listIDs(t, d.bruno, list+"?status=active&status=closed"))
		require.ElementsMatch(t, []string{all[4], all[6]}, listIDs(t, d.bruno, list+"?status=active,closed"))
		// The contact's name (any case and accents) or phone (any written form).
		for _, q := range []string{"cliente 3 ARAUJO", "(11) 95561-0003", "+55 11 95561-0003", "5511955610003", "955610003"} {
			require.Equal(t, []string{all[3]}, listIDs(t, d.bruno, list+"?q="+urlQuery(q)), q)
		}
		// Unread: the caller's, cleared by reading.
		require.Equal(t, []string{all[4]}, listIDs(t, d.bruno, list+"?unread=true"))
		got := d.bruno.Get("/api/v1/conversations/" + all[4])
		require.EqualValues(t, 1, got.JSON()["unread_count"])
		require.Equal(t, map[string]any{"direction": "in", "type": "text", "preview": "oi", "at": got.JSON()["last_message"].(map[string]any)["at"]},
			got.JSON()["last_message"])
		r := d.bruno.Post("/api/v1/conversations/"+all[4]+"/read", nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.EqualValues(t, 0, r.JSON()["unread_count"])
		require.Empty(t, listIDs(t, d.bruno, list+"?unread=true"))
		require.Equal(t, []string{all[4]}, listIDs(t, d.carla, list+"?unread=true"), "Carla has not read it")

		// Cursor pages walk every conversation once, most recently changed first.
		full := listIDs(t, env.Admin, list+"?limit=200")
		var paged []string
		cursor := ""
		for page := 0; ; page++ {
			require.Less(t, page, 20)
			r := env.Admin.Get(list + "?limit=2" + cursor)
			paged = append(paged, ids(items(t, r))...)
			next, _ := r.JSON()["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = "&cursor=" + next
		}
		require.Equal(t, full, paged)
		require.Equal(t, all[4], full[0], "the reply made it the most recent")
		require.Len(t, full, 7)

		for _, tc := range []struct{ q, want string }{
			{"assignee_id=someone", "assignee_id:assignee_id_invalid"},
			{"unread=maybe", "unread:unread_invalid"},
			{"cursor=" + all[0], "cursor:cursor_invalid"},
			{"cursor=12_x", "cursor:cursor_invalid"},
			{"status=open,nope", "status:status_invalid"},
		} {
			r := env.Admin.Get(list + "?" + tc.q)
			problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
			require.Contains(t, r.FieldCodes(), tc.want, tc.q)
		}
		r = env.Admin.Get(list + "?unread=true")
		require.Equal(t, []string{"unread:unread_invalid"}, r.FieldCodes(), "an API key has no read marks")
		r = env.Admin.Get(list + "?assignee_id=me")
		require.Equal(t, []string{"assignee_id:assignee_id_invalid"}, r.FieldCodes())
	})
}

func TestDeskCounts(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		d := newDesk(t, env)
		counts := func(c *apptest.Client) map[string]any {
			r := c.Get("/api/v1/conversations/counts")
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			return r.JSON()
		}
		tab := func(total, unread int) map[string]any {
			return map[string]any{"total": float64(total), "unread": float64(unread)}
		}
		// Bruno: one active (replied, unread), one waiting; Carla: one active; the queue: one waiting, one on Suporte.
		active := d.startOn(t, d.bruno, "11 95562-0001", d.vendas)
		d.reply(t, "11 95562-0001", "oi")
		d.startOn(t, d.bruno, "11 95562-0002", d.vendas)
		carlas := d.startOn(t, d.carla, "11 95562-0003", d.vendas)
		d.reply(t, "11 95562-0003", "oi")
		d.startOn(t, env.Admin, "11 95562-0004", d.vendas)
		d.startOn(t, env.Admin, "11 95562-0005", d.suporte)
		closed := d.startOn(t, d.bruno, "11 95562-0006", d.vendas)
		require.Equal(t, http.StatusOK, d.bruno.Post("/api/v1/conversations/"+closed+"/close", nil).Status)

		require.Equal(t, map[string]any{"mine": tab(1, 1), "waiting": tab(1, 0), "others": tab(2, 1), "closed": tab(1, 0)}, counts(d.bruno))
		require.Equal(t, http.StatusOK, d.bruno.Post("/api/v1/conversations/"+active+"/read", nil).Status)
		require.Equal(t, http.StatusOK, d.bruno.Post("/api/v1/conversations/"+carlas+"/read", nil).Status)
		require.Equal(t, map[string]any{"mine": tab(1, 0), "waiting": tab(1, 0), "others": tab(2, 0), "closed": tab(1, 0)}, counts(d.bruno))
		// Davi sees only Suporte; the admin every team.
		require.Equal(t, map[string]any{"mine": tab(0, 0), "waiting": tab(0, 0), "others": tab(1, 0), "closed": tab(0, 0)}, counts(d.davi))
		require.Equal(t, map[string]any{"mine": tab(0, 0), "waiting": tab(0, 0), "others": tab(5, 2), "closed": tab(1, 0)}, counts(d.admin))
		require.Equal(t, map[string]any{"mine": tab(0, 0), "waiting": tab(0, 0), "others": tab(5, 0), "closed": tab(1, 0)}, counts(env.Admin))
	})
}

func urlQuery(s string) string {
	return strings.NewReplacer(" ", "%20", "+", "%2B", "(", "%28", ")", "%29").Replace(s)
}
