package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

// sseEvent is one event read from GET /api/v1/events.
type sseEvent struct {
	Kind string
	ID   string
	Data map[string]any
}

// stream is an open event stream read in the background.
type stream struct {
	events  chan sseEvent
	header  http.Header
	backlog []sseEvent // received, not yet awaited
	close   func()     // ends the stream (the client goes away)
}

// openStream opens GET /api/v1/events on base with the given header (credentials) and reads it
// until the test ends. When it returns, the server has subscribed.
func openStream(t *testing.T, base string, header http.Header) *stream {
	t.Helper()
	return openStreamPath(t, base, "/api/v1/events", header)
}

// openStreamPath is openStream with a path (and query).
func openStreamPath(t *testing.T, base, path string, header http.Header) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	require.NoError(t, err)
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	s := &stream{events: make(chan sseEvent, 1000), header: resp.Header, close: func() { cancel(); _ = resp.Body.Close() }}
	t.Cleanup(s.close)
	first := make(chan struct{})
	go func() {
		defer close(s.events)
		rd := bufio.NewReader(resp.Body)
		var cur sseEvent
		started := false
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			if !started {
				started = true
				close(first)
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "":
				if cur.Kind != "" {
					s.events <- cur
				}
				cur = sseEvent{}
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "event: "):
				cur.Kind = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				cur.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.Data), line)
			}
		}
	}()
	select {
	case <-first:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream sent nothing")
	}
	return s
}

func bearer(key string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+key)
	return h
}

// has matches events whose data has each field equal to the value that follows it.
func has(kv ...string) func(map[string]any) bool {
	return func(d map[string]any) bool {
		for i := 0; i+1 < len(kv); i += 2 {
			if d[kv[i]] != kv[i+1] {
				return false
			}
		}
		return true
	}
}

// await returns the first event of kind whose data matches, among those received and not yet
// awaited or still to come; the others stay for later awaits. Events of different writers (a
// request and the dispatcher) may arrive in another order than their changes committed: the
// broker does not promise it, clients apply each event's data as the resource's latest state.
func (s *stream) await(t *testing.T, kind string, match func(map[string]any) bool) sseEvent {
	t.Helper()
	for i, e := range s.backlog {
		if e.Kind == kind && match(e.Data) {
			s.backlog = slices.Delete(s.backlog, i, i+1)
			return e
		}
	}
	// Generous: CI runs this beside the rest of the suite on a loaded 2-core machine.
	deadline := time.After(30 * time.Second)
	for {
		select {
		case e, ok := <-s.events:
			require.True(t, ok, "the stream ended while waiting for %s", kind)
			if e.Kind == kind && match(e.Data) {
				return e
			}
			s.backlog = append(s.backlog, e)
		case <-deadline:
			var got []string
			for _, e := range s.backlog {
				got = append(got, fmt.Sprintf("%s %v %v", e.Kind, e.Data["id"], e.Data["status"]))
			}
			t.Fatalf("no matching %s event; received meanwhile: %v", kind, got)
		}
	}
}

// next returns the next event received, in the order the server sent it (the backlog first).
func (s *stream) next(t *testing.T) sseEvent {
	t.Helper()
	if len(s.backlog) > 0 {
		e := s.backlog[0]
		s.backlog = s.backlog[1:]
		return e
	}
	select {
	case e, ok := <-s.events:
		require.True(t, ok, "the stream ended")
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no event")
	}
	return sseEvent{}
}

// drain returns the events received so far and not awaited.
func (s *stream) drain() []sseEvent {
	out := s.backlog
	s.backlog = nil
	for {
		select {
		case e, ok := <-s.events:
			if !ok {
				return out
			}
			out = append(out, e)
		default:
			return out
		}
	}
}

func startSandbox(t *testing.T, c *apptest.Client, demo *app.Seeded, phone, teamID string) string {
	t.Helper()
	r := c.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": phone},
		"channel_id": demo.ChannelID, "team_id": teamID, "send_type": "now",
		"template_id": demo.TemplateIDs["boas_vindas"], "parameters": map[string]any{"nome": "Maria", "atendente": "Ana"}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	return r.Str("id")
}

func TestEventStreamIsPerAccount(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		_, otherKey := env.NewAccount("Outra Loja")
		mine := openStream(t, env.Server.URL, bearer(env.Demo.APIKey))
		other := openStream(t, env.Server.URL, bearer(otherKey))
		require.Equal(t, "text/event-stream", mine.header.Get("Content-Type"))

		convID := startSandbox(t, env.Admin, env.Demo, "21 99876-1001", env.Demo.TeamIDs[0])
		created := mine.await(t, "conversation.created", has("id", convID))
		require.Equal(t, "waiting", created.Data["status"])
		require.NotEmpty(t, created.ID)
		contact := created.Data["contact"].(map[string]any)
		require.Equal(t, "+5521998761001", contact["phone"], "data is the conversation as the REST API returns it")
		opening := mine.await(t, "message.created", has("conversation_id", convID))
		require.Equal(t, "template", opening.Data["type"])
		// The sandbox marks the opening sent, then delivered.
		// The sandbox marks the opening sent, then delivered (data is read when the event is sent,
		// so both may already say delivered).
		mine.await(t, "message.updated", has("id", opening.Data["id"].(string), "status", "delivered"))
		// A reply changes the conversation (waiting → active) and adds the inbound message.
		in := env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "21 99876-1001", "text": "Oi"})
		require.Equal(t, http.StatusOK, in.Status, string(in.Body))
		mine.await(t, "conversation.updated", has("id", convID, "status", "active"))
		inbound := mine.await(t, "message.created", has("conversation_id", convID))
		require.Equal(t, "in", inbound.Data["direction"])

		// The other account's first event is its own, published after all of the above (which
		// this instance fanned out as they were published): nothing of mine came before it.
		oc := clientFor(t, env.Server.URL, otherKey)
		ch := oc.post("/api/v1/channels", map[string]any{"name": "Canal da Outra", "provider": "sandbox", "phone_number": "+55 21 4000-1111"})
		oc.postStatus("/api/v1/sandbox/channels/"+ch["id"].(string)+"/inbound", map[string]any{"from": "21 99876-1001", "text": "Oi"}, http.StatusOK)
		theirs := other.await(t, "conversation.created", has("channel_id", ch["id"].(string)))
		require.Empty(t, other.backlog, "events before the other account's own")
		require.NotEqual(t, convID, theirs.Data["id"])
	})
}

func TestEventStreamAgentSeesOnlyItsTeams(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		// An agent in Vendas (TeamIDs[0]) only, logged in with a session cookie.
		r := env.Admin.Post("/api/v1/users", map[string]any{"name": "Carla", "email": "carla@demo.atendimento.dev", "password": "senha-forte-123", "role": "agent"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		agentID := r.Str("id")
		team := env.Admin.Get("/api/v1/teams/" + env.Demo.TeamIDs[0])
		members := []string{agentID}
		for _, m := range team.JSON()["member_ids"].([]any) {
			members = append(members, m.(string))
		}
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/teams/"+env.Demo.TeamIDs[0], map[string]any{"member_ids": members}).Status)

		body := strings.NewReader(`{"email":"carla@demo.atendimento.dev","password":"senha-forte-123"}`)
		resp, err := http.Post(env.Server.URL+"/api/v1/auth/login", "application/json", body)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		h := http.Header{}
		for _, c := range resp.Cookies() {
			h.Add("Cookie", c.Name+"="+c.Value)
		}
		agent := openStream(t, env.Server.URL, h)
		admin := openStream(t, env.Server.URL, bearer(env.Demo.APIKey))

		support := startSandbox(t, env.Admin, env.Demo, "21 99876-1002", env.Demo.TeamIDs[1])
		sales := startSandbox(t, env.Admin, env.Demo, "21 99876-1003", env.Demo.TeamIDs[0])
		admin.await(t, "conversation.created", has("id", support))
		admin.await(t, "conversation.created", has("id", sales))
		salesCreated := agent.await(t, "conversation.created", has("id", sales))
		agent.await(t, "message.created", has("conversation_id", sales))
		// Nothing of the Suporte conversation reaches the agent: once its last event (the opening
		// delivered) reached the admin's stream, a reply in Vendas is fanned out after it.
		opening := admin.await(t, "message.created", has("conversation_id", support))
		admin.await(t, "message.updated", has("id", opening.Data["id"].(string), "status", "delivered"))
		in := env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "21 99876-1003", "text": "Oi"})
		require.Equal(t, http.StatusOK, in.Status, string(in.Body))
		agent.await(t, "message.created", has("conversation_id", sales, "direction", "in"))
		for _, e := range agent.drain() {
			require.NotEqual(t, support, e.Data["id"], e.Kind)
			require.NotEqual(t, support, e.Data["conversation_id"], e.Kind)
		}
		// A reconnect replays what the agent missed as the live path filters it: nothing of Suporte.
		agent.close()
		again := openStream(t, env.Server.URL, withLastEventID(h, salesCreated.ID))
		for {
			e := again.next(t)
			require.NotEqual(t, support, e.Data["id"], e.Kind)
			require.NotEqual(t, support, e.Data["conversation_id"], e.Kind)
			if e.Kind == "message.created" && e.Data["direction"] == "in" {
				break
			}
		}
	})
}

func TestEventsCrossInstancesOnPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	cfg := app.Config{SecretKey: "test-secret-key-0123456789", BcryptCost: bcrypt.MinCost, WhatsAppAPIBaseURL: "http://127.0.0.1:1",
		WhatsAppAPIVersion: "v25.0"}
	cfg.Dispatch.Poll = 100 * time.Millisecond
	cfg.Webhooks.AllowPrivate = true
	a1, srv1 := pgInstance(t, url, cfg)
	demo, err := a1.Demo(ctx)
	require.NoError(t, err)
	_, srv2 := pgInstance(t, url, cfg)

	// A CRM receiver, subscribed through instance 2.
	hits := newReceiver(t)
	c2 := clientFor(t, srv2.URL, demo.APIKey)
	sub := c2.post("/api/v1/webhook-subscriptions", map[string]any{"url": hits.URL(), "events": []string{"conversation.created"}})

	on1 := openStream(t, srv1.URL, bearer(demo.APIKey))
	on2 := openStream(t, srv2.URL, bearer(demo.APIKey))
	// Started on instance 1: both instances' streams get it.
	convID := clientFor(t, srv1.URL, demo.APIKey).startConversation(demo, "21 99876-1004")
	on2.await(t, "conversation.created", has("id", convID))
	on1.await(t, "conversation.created", has("id", convID))
	on2.await(t, "message.created", has("conversation_id", convID))

	// The CRM gets the event exactly once, although two instances run workers.
	got := hits.wait(t, 1)
	require.Equal(t, "conversation.created", got[0].Header.Get("X-Atendimento-Event"))
	require.True(t, signed(got[0], sub["secret"].(string)))
	// A second event, published after the first was delivered, is delivered after any second
	// copy of the first would have been (deliveries are claimed oldest first).
	second := c2.startConversation(demo, "21 99876-1005")
	waitFor(t, "the second event's delivery", func() bool {
		return slices.ContainsFunc(hits.all(), func(h hit) bool { return strings.Contains(string(h.Body), second) })
	})
	require.Equal(t, 2, len(hits.all()), "deliveries: each event once")
}

// pgInstance starts one more server instance (its own pool, workers and HTTP server) on the
// Postgres database at url: the multi-instance tests run two side by side.
func pgInstance(t *testing.T, url string, cfg app.Config) (*app.App, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{URL: url, MaxOpenConns: 6})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	a, err := app.NewWithDB(ctx, cfg, slog.New(slog.DiscardHandler), db)
	require.NoError(t, err)
	a.Start(ctx)
	t.Cleanup(a.Stop)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return a, srv
}

// rawClient talks to a server that is not an apptest.Env (the two-instance test).
type rawClient struct {
	t    *testing.T
	base string
	key  string
}

func clientFor(t *testing.T, base, key string) *rawClient {
	return &rawClient{t: t, base: base, key: key}
}

func (c *rawClient) post(path string, body any) map[string]any {
	c.t.Helper()
	return c.postStatus(path, body, http.StatusCreated)
}

// postStatus posts body and requires the answer's status.
func (c *rawClient) postStatus(path string, body any, status int) map[string]any {
	c.t.Helper()
	b, err := json.Marshal(body)
	require.NoError(c.t, err)
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(string(b)))
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	require.Equal(c.t, status, resp.StatusCode, string(data))
	var out map[string]any
	require.NoError(c.t, json.Unmarshal(data, &out))
	return out
}

func (c *rawClient) startConversation(demo *app.Seeded, phone string) string {
	c.t.Helper()
	out := c.post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": phone},
		"channel_id": demo.ChannelID, "team_id": demo.TeamIDs[0], "send_type": "now",
		"template_id": demo.TemplateIDs["boas_vindas"], "parameters": map[string]any{"nome": "Maria", "atendente": "Ana"}})
	return out["id"].(string)
}
