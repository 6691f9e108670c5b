package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// eachOutboxStill is apptest.Each with the dispatcher stopped, for tests that assert the state
// the API leaves the outbox in (an opening message stays pending).
func eachOutboxStill(t *testing.T, fn func(t *testing.T, env *apptest.Env)) {
	t.Helper()
	apptest.EachWith(t, apptest.Options{Configure: func(c *app.Config) { c.NoDispatcher = true }}, fn)
}

// unknownID is a well-formed id that no row has.
const unknownID = "00000000-0000-4000-8000-000000000000"

// otherChannel is a second sandbox channel of the demo account, with a team that may use only
// it and an approved NAMED template ({{nome}}) of its own.
type otherChannel struct {
	ChannelID  string
	TeamID     string
	TemplateID string
}

// newOtherChannel creates an otherChannel; phone is the channel's number, name its team's name.
func newOtherChannel(t *testing.T, env *apptest.Env, phone, name string) otherChannel {
	t.Helper()
	var oc otherChannel
	r := env.Admin.Post("/api/v1/channels", map[string]any{"name": "Canal " + name, "provider": "sandbox", "phone_number": phone})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	oc.ChannelID = r.Str("id")
	r = env.Admin.Post("/api/v1/teams", map[string]any{"name": name, "channel_ids": []string{oc.ChannelID}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	oc.TeamID = r.Str("id")
	r = env.Admin.Post("/api/v1/templates", templateBody(oc.ChannelID, "saudacao_"+strings.ToLower(name), "MARKETING", "APPROVED"))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	oc.TemplateID = r.Str("id")
	return oc
}

// templateBody is a valid NAMED template with one variable, {{nome}}.
func templateBody(channelID, name, category, status string) map[string]any {
	return map[string]any{
		"channel_id": channelID, "name": name, "language": "pt_BR", "category": category, "status": status,
		"parameter_format": "NAMED",
		"components":       []map[string]any{{"type": "BODY", "text": "Olá {{nome}}, tudo bem?"}},
	}
}

// start posts a conversation start and requires a 201; it returns the conversation's id.
func start(t *testing.T, c *apptest.Client, body map[string]any) string {
	t.Helper()
	r := c.Post("/api/v1/conversations", body)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	return r.Str("id")
}

// items returns the items of a list response.
func items(t *testing.T, r *apptest.Response) []map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	raw, ok := r.JSON()["items"].([]any)
	require.True(t, ok, string(r.Body))
	out := make([]map[string]any, len(raw))
	for i, it := range raw {
		out[i] = it.(map[string]any)
	}
	return out
}

// ids returns the "id" of each item.
func ids(list []map[string]any) []string {
	out := make([]string, len(list))
	for i, it := range list {
		out[i], _ = it["id"].(string)
	}
	return out
}

// problem requires a problem+json response with the given status and code.
func problem(t *testing.T, r *apptest.Response, status int, code string) {
	t.Helper()
	require.Equal(t, status, r.Status, string(r.Body))
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), string(r.Body))
	require.Equal(t, code, r.Str("code"), string(r.Body))
}
