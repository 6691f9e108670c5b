package api_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// listIDs returns the ids of a list response's items (the first page of up to 200).
func listIDs(t *testing.T, c *apptest.Client, path string) []string {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	r := c.Get(path + sep + "limit=200")
	require.Equal(t, http.StatusOK, r.Status, "%s: %s", path, r.Body)
	var list struct{ Items []struct{ ID string } }
	r.Decode(t, &list)
	ids := make([]string, len(list.Items))
	for i, it := range list.Items {
		ids[i] = it.ID
	}
	return ids
}

// adminLists are the account-wide lists an admin sees.
var adminLists = []string{"/api/v1/users", "/api/v1/api-keys", "/api/v1/contacts", "/api/v1/channels", "/api/v1/teams",
	"/api/v1/templates", "/api/v1/conversations", "/api/v1/webhook-subscriptions"}

// snapshot returns the bodies of GET requests, to show later that nothing changed.
func snapshot(t *testing.T, c *apptest.Client, paths []string) map[string]string {
	t.Helper()
	out := make(map[string]string, len(paths))
	for _, p := range paths {
		if !strings.Contains(p, "/conversations/") && !strings.Contains(p, "?") && !strings.Contains(p, "/api/v1/me") {
			p += "?limit=200"
		}
		r := c.Get(p)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", p, r.Body)
		// How long a conversation has waited grows by itself; everything else must not change.
		out[p] = waitingSeconds.ReplaceAllString(string(r.Body), `"waiting_seconds":0`)
	}
	return out
}

var waitingSeconds = regexp.MustCompile(`"waiting_seconds":\d+`)

// firstAccount is the demo account's data that the isolation test attacks: for every id, a
// request that would succeed had it come from the demo account.
type firstAccount struct {
	user, apiKey, contact, contactPhone, channel, spareChannel, team, template string
	waiting, scheduled, queuedMessage                                          string
	webhook, quickReply                                                        string
}

func seedFirst(t *testing.T, env *apptest.Env) firstAccount {
	t.Helper()
	f := firstAccount{user: userID(t, env, "agente@demo.atendimento.dev"), contact: env.Demo.ContactID, channel: env.Demo.ChannelID,
		team: env.Demo.TeamIDs[1], template: env.Demo.TemplateIDs["boas_vindas"]}
	r := env.Admin.Post("/api/v1/api-keys", map[string]any{"name": "CRM", "role": "admin"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	f.apiKey = r.Str("id")
	f.contactPhone = env.Admin.Get("/api/v1/contacts/" + f.contact).Str("phone")
	r = env.Admin.Post("/api/v1/channels", map[string]any{"name": "Reserva", "provider": "sandbox", "phone_number": "+55 11 4000-5678"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	f.spareChannel = r.Str("id")
	r = env.Admin.Post("/api/v1/webhook-subscriptions", map[string]any{"url": "https://203.0.113.10/hook", "events": []string{"message.updated"}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	f.webhook = r.Str("id")
	r = env.Admin.Post("/api/v1/quick-replies", map[string]any{"shortcut": "oi", "text": "Oi {{nome}}", "scope": "account"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	f.quickReply = r.Str("id")

	r = env.Admin.Post("/api/v1/conversations", startBody(env, "11 94444-0001"))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	f.waiting = r.Str("id")
	r = env.Admin.Post("/api/v1/conversations/"+f.waiting+"/messages", map[string]any{"text": "Mensagem na fila"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	require.Equal(t, "queued", r.Str("status"))
	f.queuedMessage = r.Str("id")
	sched := startBody(env, "11 94444-0002")
	sched["send_type"], sched["scheduled_at"] = "scheduled", time.Now().Add(3*time.Hour).UTC().Format(time.RFC3339)
	r = env.Admin.Post("/api/v1/conversations", sched)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	f.scheduled = r.Str("id")
	return f
}

// paths returns the GETs that show the first account's data, lists and items.
func (f firstAccount) paths() []string {
	return append(append([]string{}, adminLists...), "/api/v1/users/"+f.user, "/api/v1/contacts/"+f.contact, "/api/v1/channels/"+f.channel,
		"/api/v1/channels/"+f.spareChannel, "/api/v1/teams/"+f.team, "/api/v1/templates/"+f.template,
		"/api/v1/conversations/"+f.waiting, "/api/v1/conversations/"+f.scheduled,
		"/api/v1/conversations/"+f.waiting+"/messages", "/api/v1/conversations/"+f.scheduled+"/messages", "/api/v1/quick-replies",
		"/api/v1/contacts/"+f.contact+"/notes")
}

// otherAccount is a second company with a conversation of its own.
type otherAccount struct {
	id, channel, team, template, conversation string
	client                                    *apptest.Client
}

func seedOther(t *testing.T, env *apptest.Env) otherAccount {
	t.Helper()
	var o otherAccount
	var key string
	o.id, key = env.NewAccount("Outra Empresa")
	o.client = env.Client(key)
	c := o.client
	r := c.Post("/api/v1/channels", map[string]any{"name": "Canal da Outra", "provider": "sandbox", "phone_number": "+55 21 4000-1111"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	o.channel = r.Str("id")
	// The same team name as the first account's: names are unique per account only.
	r = c.Post("/api/v1/teams", map[string]any{"name": "Suporte", "channel_ids": []string{o.channel}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	o.team = r.Str("id")
	r = c.Post("/api/v1/templates", map[string]any{"channel_id": o.channel, "name": "boas_vindas", "language": "pt_BR", "category": "UTILITY",
		"status": "APPROVED", "parameter_format": "POSITIONAL", "components": []map[string]any{{"type": "BODY", "text": "Olá {{1}}"}}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	o.template = r.Str("id")
	r = c.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "21 95555-0001", "name": "Cliente da Outra"},
		"channel_id": o.channel, "team_id": o.team, "send_type": "now", "template_id": o.template, "parameters": []string{"Rita"}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	o.conversation = r.Str("id")
	return o
}

// noDispatcher keeps the outbox still, so snapshots taken before and after compare exactly.
var noDispatcher = apptest.Options{Configure: func(c *app.Config) { c.NoDispatcher = true }}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		f := seedFirst(t, env)
		o := seedOther(t, env)
		before := snapshot(t, env.Admin, f.paths())

		params := map[string]any{"nome": "X", "atendente": "Y"}
		routes := []struct {
			op, path string
			body     any
			code     string
		}{
			{"GET /api/v1/users/{id}", "/api/v1/users/" + f.user, nil, "user_not_found"},
			{"PATCH /api/v1/users/{id}", "/api/v1/users/" + f.user, map[string]any{"name": "Invadido", "role": "admin"}, "user_not_found"},
			{"DELETE /api/v1/users/{id}", "/api/v1/users/" + f.user, nil, "user_not_found"},
			{"DELETE /api/v1/api-keys/{id}", "/api/v1/api-keys/" + f.apiKey, nil, "api_key_not_found"},
			{"GET /api/v1/contacts/{id}", "/api/v1/contacts/" + f.contact, nil, "contact_not_found"},
			{"PATCH /api/v1/contacts/{id}", "/api/v1/contacts/" + f.contact, map[string]any{"name": "Invadido"}, "contact_not_found"},
			{"DELETE /api/v1/contacts/{id}", "/api/v1/contacts/" + f.contact, nil, "contact_not_found"},
			{"GET /api/v1/contacts/{id}/consent", "/api/v1/contacts/" + f.contact + "/consent", nil, "contact_not_found"},
			{"POST /api/v1/contacts/{id}/consent", "/api/v1/contacts/" + f.contact + "/consent", map[string]any{"opted_out": true}, "contact_not_found"},
			{"GET /api/v1/contacts/{id}/start-state", "/api/v1/contacts/" + f.contact + "/start-state?channel_id=" + f.channel, nil, "contact_not_found"},
			{"GET /api/v1/contacts/lookup", "/api/v1/contacts/lookup?phone=" + url.QueryEscape(f.contactPhone), nil, "contact_not_found"},
			{"GET /api/v1/channels/{id}", "/api/v1/channels/" + f.channel, nil, "channel_not_found"},
			{"PATCH /api/v1/channels/{id}", "/api/v1/channels/" + f.channel, map[string]any{"name": "Invadido", "active": false}, "channel_not_found"},
			{"DELETE /api/v1/channels/{id}", "/api/v1/channels/" + f.spareChannel, nil, "channel_not_found"},
			{"POST /api/v1/channels/{id}/templates/sync", "/api/v1/channels/" + f.channel + "/templates/sync", nil, "channel_not_found"},
			{"POST /api/v1/channels/{id}/test", "/api/v1/channels/" + f.channel + "/test", nil, "channel_not_found"},
			{"GET /api/v1/teams/{id}", "/api/v1/teams/" + f.team, nil, "team_not_found"},
			{"PATCH /api/v1/teams/{id}", "/api/v1/teams/" + f.team, map[string]any{"name": "Invadido", "member_ids": []string{}}, "team_not_found"},
			{"DELETE /api/v1/teams/{id}", "/api/v1/teams/" + f.team, nil, "team_not_found"},
			{"GET /api/v1/templates/{id}", "/api/v1/templates/" + f.template, nil, "template_not_found"},
			{"PATCH /api/v1/templates/{id}", "/api/v1/templates/" + f.template, map[string]any{"status": "PAUSED"}, "template_not_found"},
			{"DELETE /api/v1/templates/{id}", "/api/v1/templates/" + f.template, nil, "template_not_found"},
			{"POST /api/v1/templates/{id}/preview", "/api/v1/templates/" + f.template + "/preview", map[string]any{"parameters": params}, "template_not_found"},
			{"GET /api/v1/conversations/{id}", "/api/v1/conversations/" + f.waiting, nil, "conversation_not_found"},
			{"POST /api/v1/conversations/{id}/close", "/api/v1/conversations/" + f.waiting + "/close", nil, "conversation_not_found"},
			{"POST /api/v1/conversations/{id}/cancel", "/api/v1/conversations/" + f.scheduled + "/cancel", nil, "conversation_not_found"},
			{"GET /api/v1/conversations/{id}/messages", "/api/v1/conversations/" + f.waiting + "/messages", nil, "conversation_not_found"},
			{"POST /api/v1/conversations/{id}/messages", "/api/v1/conversations/" + f.waiting + "/messages", map[string]any{"text": "Invasão"}, "conversation_not_found"},
			{"DELETE /api/v1/conversations/{id}/messages/{message_id}", "/api/v1/conversations/" + f.waiting + "/messages/" + f.queuedMessage, nil, "conversation_not_found"},
			{"POST /api/v1/sandbox/channels/{id}/inbound", "/api/v1/sandbox/channels/" + f.channel + "/inbound", map[string]any{"from": "11 94444-0001", "text": "Oi"}, "channel_not_found"},
			{"GET /api/v1/contacts/{id}/notes", "/api/v1/contacts/" + f.contact + "/notes", nil, "contact_not_found"},
			{"POST /api/v1/conversations/{id}/assign", "/api/v1/conversations/" + f.waiting + "/assign", map[string]any{"user_id": nil, "force": true}, "conversation_not_found"},
			{"POST /api/v1/conversations/{id}/transfer", "/api/v1/conversations/" + f.waiting + "/transfer", map[string]any{"team_id": o.team}, "conversation_not_found"},
			{"POST /api/v1/conversations/{id}/notes", "/api/v1/conversations/" + f.waiting + "/notes", map[string]any{"text": "Invasão"}, "conversation_not_found"},
			{"POST /api/v1/conversations/{id}/read", "/api/v1/conversations/" + f.waiting + "/read", nil, "conversation_not_found"},
			{"POST /api/v1/conversations/{id}/reopen", "/api/v1/conversations/" + f.waiting + "/reopen", nil, "conversation_not_found"},
			{"PATCH /api/v1/quick-replies/{id}", "/api/v1/quick-replies/" + f.quickReply, map[string]any{"text": "Invadido"}, "quick_reply_not_found"},
			{"DELETE /api/v1/quick-replies/{id}", "/api/v1/quick-replies/" + f.quickReply, nil, "quick_reply_not_found"},
			{"POST /api/v1/quick-replies/{id}/render", "/api/v1/quick-replies/" + f.quickReply + "/render", map[string]any{"conversation_id": o.conversation}, "quick_reply_not_found"},
			{"DELETE /api/v1/webhook-subscriptions/{id}", "/api/v1/webhook-subscriptions/" + f.webhook, nil, "webhook_subscription_not_found"},
			{"GET /api/v1/media/{id}", "/api/v1/media/" + upload(t, env.Admin, "a.pdf", "", pdfBytes).Str("id"), nil, "media_not_found"},
			{"GET /api/v1/webhook-subscriptions/{id}/deliveries", "/api/v1/webhook-subscriptions/" + f.webhook + "/deliveries", nil, "webhook_subscription_not_found"},
			{"POST /api/v1/webhook-subscriptions/{id}/deliveries/{delivery_id}/redeliver", "/api/v1/webhook-subscriptions/" + f.webhook + "/deliveries/" + unknownID + "/redeliver", nil, "webhook_subscription_not_found"},
			// The first account's message through the second account's own conversation.
			{"DELETE /api/v1/conversations/{id}/messages/{message_id}", "/api/v1/conversations/" + o.conversation + "/messages/" + f.queuedMessage, nil, "message_not_found"},
		}
		covered := map[string]bool{}
		for _, rt := range routes {
			method, _, _ := strings.Cut(rt.op, " ")
			r := o.client.Do(method, rt.path, rt.body)
			require.Equal(t, http.StatusNotFound, r.Status, "%s %s: %s", method, rt.path, r.Body)
			require.Equal(t, rt.code, r.Str("code"), "%s %s", method, rt.path)
			covered[rt.op] = true
		}
		for _, op := range specOperations(t) {
			if strings.Contains(op, "{") {
				require.True(t, covered[op], "%s takes an id: add it to the isolation table", op)
			}
		}

		// The second account's lists show none of the first account's rows, with or without filters.
		first := map[string]bool{}
		for _, p := range adminLists {
			for _, id := range listIDs(t, env.Admin, p) {
				first[id] = true
			}
		}
		require.Greater(t, len(first), 15)
		for _, p := range append(adminLists,
			"/api/v1/contacts?q=jo%C3%A3o", "/api/v1/contacts?q=98765",
			"/api/v1/teams?channel_id="+f.channel,
			"/api/v1/templates?channel_id="+f.channel, "/api/v1/templates?q=boas",
			"/api/v1/conversations?contact_id="+f.contact, "/api/v1/conversations?channel_id="+f.channel,
			"/api/v1/conversations?team_id="+env.Demo.TeamIDs[0], "/api/v1/conversations?status=waiting,scheduled",
			"/api/v1/conversations/"+o.conversation+"/messages") {
			for _, id := range listIDs(t, o.client, p) {
				require.False(t, first[id], "%s shows the first account's %s", p, id)
			}
		}
		require.Len(t, listIDs(t, o.client, "/api/v1/conversations"), 1)
		require.Len(t, listIDs(t, o.client, "/api/v1/channels"), 1)
		require.Equal(t, o.id, o.client.Get("/api/v1/me").Str("account_id"))

		// References to the first account's ids in bodies and queries are "not found" too.
		r := o.client.Post("/api/v1/conversations", map[string]any{"contact_id": f.contact, "channel_id": f.channel, "team_id": f.team,
			"send_type": "now", "template_id": f.template, "parameters": params})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Subset(t, r.FieldCodes(), []string{"contact_id:contact_not_found", "channel_id:channel_not_found",
			"team_id:team_not_found", "template_id:template_not_found"})
		r = o.client.Post("/api/v1/conversations", map[string]any{"contact_id": f.contact, "channel_id": o.channel, "team_id": o.team,
			"send_type": "now", "template_id": o.template, "parameters": []string{"Rita"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"contact_id:contact_not_found"}, r.FieldCodes())
		r = o.client.Get("/api/v1/pricing/estimate?template_id=" + f.template + "&contact_id=" + f.contact)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.ElementsMatch(t, []string{"template_id:template_not_found", "contact_id:contact_not_found"}, r.FieldCodes())
		r = o.client.Post("/api/v1/teams", map[string]any{"name": "Vendas", "channel_ids": []string{f.channel}, "member_ids": []string{f.user}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.ElementsMatch(t, []string{"channel_ids:channel_not_found", "member_ids:user_not_found"}, r.FieldCodes())
		r = o.client.Patch("/api/v1/teams/"+o.team, map[string]any{"channel_ids": []string{o.channel, f.channel}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"channel_ids:channel_not_found"}, r.FieldCodes())
		r = o.client.Patch("/api/v1/channels/"+o.channel, map[string]any{"default_team_id": f.team})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"default_team_id:team_not_found"}, r.FieldCodes())
		r = o.client.Post("/api/v1/templates", map[string]any{"channel_id": f.channel, "name": "roubado", "language": "pt_BR", "category": "UTILITY",
			"status": "APPROVED", "parameter_format": "POSITIONAL", "components": []map[string]any{{"type": "BODY", "text": "Oi {{1}}"}}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"channel_id:channel_not_found"}, r.FieldCodes())

		// Uniqueness is per account: the first account's phone and email do not conflict (a 409
		// would reveal them, with the other account's existing_id).
		r = o.client.Post("/api/v1/contacts", map[string]any{"name": "Homônimo", "phone": f.contactPhone})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.NotEqual(t, f.contact, r.Str("id"))
		r = o.client.Post("/api/v1/users", map[string]any{"name": "Outra Ana", "email": env.Demo.AdminEmail, "password": "other-password-789", "role": "admin"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))

		// An Idempotency-Key is the account's own: the same key elsewhere never replays.
		body := startBody(env, "11 94444-0003")
		first1 := env.Admin.WithHeader("Idempotency-Key", "pedido-42").Post("/api/v1/conversations", body)
		require.Equal(t, http.StatusCreated, first1.Status, string(first1.Body))
		r = o.client.WithHeader("Idempotency-Key", "pedido-42").Post("/api/v1/conversations", body)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Empty(t, r.Header.Get("Idempotent-Replayed"))
		require.NotContains(t, string(r.Body), first1.Str("id"))
		own := map[string]any{"contact": map[string]any{"phone": "11 94444-0003"}, "channel_id": o.channel, "team_id": o.team,
			"send_type": "now", "template_id": o.template, "parameters": []string{"Rita"}}
		r = o.client.WithHeader("Idempotency-Key", "pedido-42").Post("/api/v1/conversations", own)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.Empty(t, r.Header.Get("Idempotent-Replayed"))
		require.NotEqual(t, first1.Str("id"), r.Str("id"))

		// Nothing of the first account changed, apart from the one conversation it started itself.
		after := snapshot(t, env.Admin, f.paths())
		for _, p := range []string{"/api/v1/conversations?limit=200", "/api/v1/contacts?limit=200"} {
			delete(before, p)
			delete(after, p)
		}
		require.Equal(t, before, after)
		require.ElementsMatch(t, []string{f.waiting, f.scheduled, first1.Str("id")}, listIDs(t, env.Admin, "/api/v1/conversations"))
		r = env.Admin.Get("/api/v1/conversations/" + f.waiting + "/messages")
		require.Len(t, r.JSON()["items"], 2)
		require.Equal(t, "waiting", env.Admin.Get("/api/v1/conversations/"+f.waiting).Str("status"))
		require.Equal(t, "scheduled", env.Admin.Get("/api/v1/conversations/"+f.scheduled).Str("status"))
		require.Equal(t, http.StatusOK, env.Client(env.Demo.APIKey).Get("/api/v1/me").Status)
	})
}
