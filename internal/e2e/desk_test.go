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
	"github.com/atendimento/atendimento/internal/account"
)

// Internal notes never leave: the dispatcher sends nothing of them to Meta and no CRM
// subscriber gets them, while the desk's own events (assigned, transferred, closed, reopened)
// reach the subscribers that asked for them.
func TestDeskNotesNeverLeave(t *testing.T) {
	eachCloudWith(t, func(c *app.Config) {
		c.Webhooks.AllowPrivate = true
		c.Webhooks.BaseDelay = 200 * time.Millisecond
	}, func(t *testing.T, c *cloud) {
		rcv := c.subscribe(t, "message.created", "message.updated", "conversation.updated", "conversation.assigned",
			"conversation.transferred", "conversation.closed", "conversation.reopened")
		subs := c.Admin.Get("/api/v1/webhook-subscriptions")
		subID := subs.JSON()["items"].([]any)[0].(map[string]any)["id"].(string)
		require.Equal(t, http.StatusOK, c.Admin.Patch("/api/v1/account", map[string]any{"close_reasons": []string{"Resolvido"}}).Status)
		var adminID string
		for _, u := range c.Admin.Get("/api/v1/users").JSON()["items"].([]any) {
			if u.(map[string]any)["role"] == "admin" {
				adminID = u.(map[string]any)["id"].(string)
			}
		}
		require.Equal(t, http.StatusOK, c.Admin.Patch("/api/v1/teams/"+c.teamID, map[string]any{"member_ids": []string{adminID}}).Status)

		const to = "+5511988880001"
		conv := c.start(t, "11 98888-0001")
		waitFor(t, "the opening at the fake", func() bool { return len(sentTo(c.fake, to)) == 1 })
		require.Equal(t, http.StatusOK, c.webhook(t, inbound("5511988880001", "wamid.desk.1", "Oi", time.Now())).Status)

		secret := "Nota secreta: cliente inadimplente"
		var notes []string
		r := c.Admin.Post("/api/v1/conversations/"+conv+"/notes", map[string]any{"text": secret + " 1"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		notes = append(notes, r.Str("id"))
		// A text after a note still leaves, in order: the note holds no place in the outbox.
		require.Equal(t, http.StatusCreated, c.Admin.Post("/api/v1/conversations/"+conv+"/messages", map[string]any{"text": "Resposta"}).Status)
		r = c.Admin.Post("/api/v1/conversations/"+conv+"/transfer", map[string]any{"team_id": c.teamID, "note": secret + " 2"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		r = c.Admin.Post("/api/v1/conversations/"+conv+"/assign", map[string]any{"user_id": adminID})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, http.StatusOK, c.Admin.Post("/api/v1/conversations/"+conv+"/close", map[string]any{"reason": "Resolvido"}).Status)
		require.Equal(t, http.StatusOK, c.Admin.Post("/api/v1/conversations/"+conv+"/reopen", nil).Status)
		for _, m := range c.messages(t, conv) {
			if m["type"] == "note" {
				if !strings.HasSuffix(m["text"].(string), " 1") {
					notes = append(notes, m["id"].(string))
				}
			}
		}
		require.Len(t, notes, 2)

		// Meta got the opening and the text, nothing else.
		waitFor(t, "the text at the fake", func() bool { return len(sentTo(c.fake, to)) == 2 })
		c.settle(t)
		require.Len(t, sentTo(c.fake, to), 2)
		require.JSONEq(t, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"`+to+`","type":"text","text":{"preview_url":false,"body":"Resposta"}}`,
			string(sentTo(c.fake, to)[1].Body))
		for _, b := range c.fake.Bodies() {
			require.NotContains(t, b, "Nota secreta")
		}

		// The CRM got each desk event, with the conversation as the API returns it.
		kinds := map[string]map[string]any{}
		waitFor(t, "the desk events at the CRM", func() bool {
			for _, h := range rcv.all() {
				var env struct {
					Type string         `json:"type"`
					Data map[string]any `json:"data"`
				}
				require.NoError(t, json.Unmarshal(h.Body, &env))
				kinds[env.Type] = env.Data
			}
			return kinds["conversation.reopened"] != nil && kinds["conversation.closed"] != nil &&
				kinds["conversation.assigned"] != nil && kinds["conversation.transferred"] != nil
		})
		require.Equal(t, conv, kinds["conversation.transferred"]["id"])
		require.Equal(t, adminID, kinds["conversation.assigned"]["assignee_id"])
		require.Equal(t, "Resolvido", kinds["conversation.closed"]["closed_reason"])
		require.Equal(t, "active", kinds["conversation.reopened"]["status"])
		// No delivery was ever made of a note (the reopen's was enqueued after the notes' events).
		deliveries := c.Admin.Get("/api/v1/webhook-subscriptions/" + subID + "/deliveries?limit=200")
		require.Equal(t, http.StatusOK, deliveries.Status)
		for _, d := range deliveries.JSON()["items"].([]any) {
			require.NotContains(t, notes, d.(map[string]any)["resource_id"])
		}
		for _, h := range rcv.all() {
			require.NotContains(t, string(h.Body), "Nota secreta")
			require.NotContains(t, string(h.Body), `"direction":"internal"`)
		}
	})
}

// The receiver of a transfer sees it arrive live on their event stream, with the note; an
// agent of another team sees nothing of it.
func TestDeskTransferArrivesLive(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		vendas, suporte := env.Demo.TeamIDs[0], env.Demo.TeamIDs[1]
		ctx := env.Ctx()
		pw := "agent-password-789"
		role := account.RoleAgent
		newUser := func(name, email, team string) string {
			u, err := env.App.Accounts.CreateUser(ctx, account.UserInput{Name: &name, Email: &email, Password: &pw, Role: &role})
			require.NoError(t, err)
			tm := env.Admin.Get("/api/v1/teams/" + team)
			members := []string{u.ID}
			for _, m := range tm.JSON()["member_ids"].([]any) {
				members = append(members, m.(string))
			}
			require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/teams/"+team, map[string]any{"member_ids": members}).Status)
			return u.ID
		}
		newUser("Carla Dias", "carla@demo.atendimento.dev", vendas)
		davi := newUser("Davi Melo", "davi@demo.atendimento.dev", suporte)
		carla := env.Login("carla@demo.atendimento.dev", pw)
		daviStream := openStream(t, env.Server.URL, sessionHeader(t, env, "davi@demo.atendimento.dev", pw))
		carlaStream := openStream(t, env.Server.URL, sessionHeader(t, env, "carla@demo.atendimento.dev", pw))

		r := carla.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "11 98888-1001"},
			"channel_id": env.Demo.ChannelID, "team_id": vendas, "send_type": "now",
			"template_id": env.Demo.TemplateIDs["boas_vindas"], "parameters": map[string]any{"nome": "Maria", "atendente": "Carla"}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		conv := r.Str("id")
		carlaStream.await(t, "conversation.created", has("id", conv))

		r = carla.Post("/api/v1/conversations/"+conv+"/transfer", map[string]any{"team_id": suporte, "user_id": davi, "note": "Assunto de suporte."})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		got := daviStream.await(t, "conversation.transferred", has("id", conv))
		require.Equal(t, davi, got.Data["assignee_id"])
		require.Equal(t, "Davi Melo", got.Data["assignee_name"])
		require.NotEmpty(t, got.ID, "every event has an id")
		note := daviStream.await(t, "message.created", has("conversation_id", conv, "type", "note"))
		require.Equal(t, "Assunto de suporte.", note.Data["text"])
		require.Equal(t, "Carla Dias", note.Data["author_name"])
		// Carla's stream: the conversation left her teams, so the transfer's events are not hers.
		r = carla.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "11 98888-1002"},
			"channel_id": env.Demo.ChannelID, "team_id": vendas, "send_type": "now",
			"template_id": env.Demo.TemplateIDs["boas_vindas"], "parameters": map[string]any{"nome": "Maria", "atendente": "Carla"}})
		require.Equal(t, http.StatusCreated, r.Status)
		carlaStream.await(t, "conversation.created", has("id", r.Str("id")))
		for _, e := range carlaStream.drain() {
			if e.Kind == "conversation.transferred" || (e.Kind == "message.created" && e.Data["type"] == "note") {
				t.Fatalf("Carla saw %s of a conversation out of her teams", e.Kind)
			}
		}
	})
}

// sessionHeader logs a user in and returns the session cookie for a raw request.
func sessionHeader(t *testing.T, env *apptest.Env, email, password string) http.Header {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := http.Post(env.Server.URL+"/api/v1/auth/login", "application/json", strings.NewReader(string(body)))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	h := http.Header{}
	for _, c := range resp.Cookies() {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	return h
}
