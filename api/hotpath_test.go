package api_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/logctx"
)

// catalogue matches the statements that read what rarely changes: the API key and its creator,
// the channel, the team and its links, the template.
var catalogue = regexp.MustCompile(`(?i)\b(FROM|JOIN)\s+"?(api_keys|users|channels|teams|team_channels|team_members|templates)"?\b`)

// statements runs fn and returns the statements the server ran for requests meanwhile (those
// whose context carries a request id: not the background workers'), but NOTIFYs.
func statements(env *apptest.Env, fn func()) []string {
	var mu sync.Mutex
	var got []string
	stop := env.App.DB.Trace(func(ctx context.Context, sql string) {
		if !fromRequest(ctx) || strings.Contains(sql, "pg_notify") {
			return // NOTIFYs leave from the background notifiers, batched across requests
		}
		sql = strings.ReplaceAll(sql, "`", `"`) // SQLite's quotes as Postgres's
		mu.Lock()
		got = append(got, strings.Join(strings.Fields(sql), " "))
		mu.Unlock()
	})
	fn()
	stop()
	mu.Lock()
	defer mu.Unlock()
	return got
}

func fromRequest(ctx context.Context) bool {
	for _, a := range logctx.Attrs(ctx) {
		if a.Key == "request_id" {
			return true
		}
	}
	return false
}

func catalogueReads(stmts []string) []string {
	var out []string
	for _, s := range stmts {
		if catalogue.MatchString(s) {
			out = append(out, s)
		}
	}
	return out
}

// TestHotPathsReadTheCatalogueOnce: after the first start, a start and a text read no API key,
// channel, team or template from the database (they are cached per instance), and write the
// event log once each; a change to any of them applies to the very next request.
func TestHotPathsReadTheCatalogueOnce(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		first := start(t, env.Admin.WithHeader("Idempotency-Key", "hot-path-0"), startBody(env, "(11) 93456-0001"))

		var id string
		// With an Idempotency-Key, as integrators send it: the checks run in its transaction.
		keyed := env.Admin.WithHeader("Idempotency-Key", "hot-path-1")
		stmts := statements(env, func() { id = start(t, keyed, startBody(env, "(11) 93456-0002")) })
		require.Empty(t, catalogueReads(stmts), "a start read the catalogue again:\n%s", strings.Join(stmts, "\n"))
		logged := 0
		for _, s := range stmts {
			if strings.Contains(s, `INSERT INTO "event_log"`) {
				logged++
			}
		}
		require.Equal(t, 1, logged, "a start's two events go to the log in one statement:\n%s", strings.Join(stmts, "\n"))
		require.LessOrEqual(t, len(stmts), 7, "statements of one start:\n%s", strings.Join(stmts, "\n"))

		// A text in an open conversation: the contact replies to the first start.
		reply := env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "11 93456-0001", "text": "oi"})
		require.Equal(t, http.StatusOK, reply.Status, string(reply.Body))
		env.Admin.Post("/api/v1/conversations/"+first+"/messages", map[string]any{"text": "primeira"})
		stmts = statements(env, func() {
			r := env.Admin.Post("/api/v1/conversations/"+first+"/messages", map[string]any{"text": "olá"})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		})
		require.Empty(t, catalogueReads(stmts), "a text read the catalogue again:\n%s", strings.Join(stmts, "\n"))
		require.Contains(t, strings.Join(stmts, "\n"), `INSERT INTO "messages"`, "the text's statements were seen")
		require.LessOrEqual(t, len(stmts), 3, "statements of one text:\n%s", strings.Join(stmts, "\n"))
		_ = id

		// Every change applies at once on this instance.
		body := startBody(env, "(11) 93456-0003")
		tpl := env.Demo.TemplateIDs["boas_vindas"]
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/templates/"+tpl, map[string]any{"status": "PAUSED"}).Status)
		problem(t, env.Admin.Post("/api/v1/conversations", body), http.StatusUnprocessableEntity, "validation_failed")
		require.Contains(t, string(env.Admin.Post("/api/v1/conversations", body).Body), "template_not_approved")
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/templates/"+tpl, map[string]any{"status": "APPROVED"}).Status)

		team := env.Demo.TeamIDs[0]
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/teams/"+team, map[string]any{"channel_ids": []string{}}).Status)
		require.Contains(t, string(env.Admin.Post("/api/v1/conversations", body).Body), "team_not_allowed_on_channel")
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/teams/"+team, map[string]any{"channel_ids": []string{env.Demo.ChannelID}}).Status)

		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/channels/"+env.Demo.ChannelID, map[string]any{"active": false}).Status)
		require.Contains(t, string(env.Admin.Post("/api/v1/conversations", body).Body), "channel_inactive")
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/channels/"+env.Demo.ChannelID, map[string]any{"active": true}).Status)
		start(t, env.Admin, body)

		k := env.Admin.Post("/api/v1/api-keys", map[string]any{"name": "CRM", "role": "agent"})
		require.Equal(t, http.StatusCreated, k.Status)
		key := env.Client(k.Str("secret"))
		require.Equal(t, http.StatusOK, key.Get("/api/v1/me").Status)
		require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/api-keys/"+k.Str("id")).Status)
		require.Equal(t, http.StatusUnauthorized, key.Get("/api/v1/me").Status)
	})
}
