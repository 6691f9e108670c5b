package atendimento_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	root "github.com/atendimento/atendimento"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/pkg/atendimento"
)

func newClient(t *testing.T, url, key string, opts ...atendimento.Option) *atendimento.Client {
	t.Helper()
	c, err := atendimento.New(url, key, opts...)
	require.NoError(t, err)
	return c
}

func start(env *apptest.Env, phone string) atendimento.StartRequest {
	return atendimento.StartRequest{
		Contact:    &atendimento.ContactRequest{Phone: atendimento.Ptr(phone), Name: atendimento.Ptr("João")},
		ChannelId:  atendimento.Ptr(uuid.MustParse(env.Demo.ChannelID)),
		TeamId:     atendimento.Ptr(uuid.MustParse(env.Demo.TeamIDs[0])),
		SendType:   atendimento.Ptr(atendimento.StartRequestSendType("now")),
		TemplateId: atendimento.Ptr(uuid.MustParse(env.Demo.TemplateIDs["boas_vindas"])),
		Parameters: map[string]string{"nome": "João", "atendente": "Ana"},
	}
}

func problem(t *testing.T, err error) *atendimento.Problem {
	t.Helper()
	require.Error(t, err)
	p, ok := atendimento.AsProblem(err)
	require.True(t, ok, "not a *Problem: %v", err)
	return p
}

func TestClientAgainstServer(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		c := newClient(t, env.Server.URL, env.Demo.APIKey)

		chans, err := c.ListChannels(ctx, nil)
		require.NoError(t, err)
		require.Len(t, *chans.Items, 1)
		require.Equal(t, env.Demo.ChannelID, (*chans.Items)[0].Id.String())

		tpl, err := c.GetTemplate(ctx, env.Demo.TemplateIDs["boas_vindas"])
		require.NoError(t, err)
		require.Equal(t, []string{"nome", "atendente"}, *tpl.Variables)

		// A start without a caller's key gets a generated one; the conversation waits.
		conv, err := c.StartConversation(ctx, nil, start(env, "11 91234-5001"))
		require.NoError(t, err)
		require.Equal(t, atendimento.ConversationStatus("waiting"), *conv.Status)
		require.Equal(t, "+5511912345001", *conv.Contact.Phone)
		require.Contains(t, *conv.OpeningMessage.RenderedText, "Olá João, aqui é Ana")

		// The second start to the same contact is a conflict naming the open conversation.
		_, err = c.StartConversation(ctx, nil, start(env, "11 91234-5001"))
		p := problem(t, err)
		require.Equal(t, http.StatusConflict, p.Status)
		require.Equal(t, "conversation_already_open", p.Code)
		require.Equal(t, conv.Id.String(), p.ExistingID)

		// The same key and body return the first answer; the same key with another body is refused.
		key := atendimento.NewIdempotencyKey()
		first, err := c.StartConversation(ctx, atendimento.IdempotencyKey(key), start(env, "11 91234-5002"))
		require.NoError(t, err)
		again, err := c.StartConversation(ctx, atendimento.IdempotencyKey(key), start(env, "11 91234-5002"))
		require.NoError(t, err)
		require.Equal(t, first.Id, again.Id)
		_, err = c.StartConversation(ctx, atendimento.IdempotencyKey(key), start(env, "11 91234-5003"))
		require.Equal(t, "idempotency_key_reused", problem(t, err).Code)

		// Positional templates take an array.
		pos := start(env, "11 91234-5004")
		pos.TemplateId = atendimento.Ptr(uuid.MustParse(env.Demo.TemplateIDs["oferta_semana"]))
		pos.Parameters = []string{"Maria", "tênis", "20%"}
		posConv, err := c.StartConversation(ctx, nil, pos)
		require.NoError(t, err)
		require.Contains(t, *posConv.OpeningMessage.RenderedText, "Oi Maria! Esta semana o tênis está com 20% de desconto.")

		// Every failing field is reported at once, each with its code.
		bad := start(env, "12345")
		bad.Parameters = map[string]string{"nome": "João"}
		_, err = c.StartConversation(ctx, nil, bad)
		p = problem(t, err)
		require.Equal(t, http.StatusUnprocessableEntity, p.Status)
		require.True(t, p.Has("phone_invalid"), p.Error())
		require.True(t, p.Has("parameter_missing"), p.Error())
		require.Contains(t, p.Error(), "parameter_missing")

		msgs, err := c.ListMessages(ctx, conv.Id.String(), nil)
		require.NoError(t, err)
		require.NotEmpty(t, *msgs.Items)

		list, err := c.ListConversations(ctx, &atendimento.ListConversationsParams{Status: &[]string{"waiting"}, Limit: atendimento.Ptr(200)})
		require.NoError(t, err)
		require.Len(t, *list.Items, 3)

		_, err = c.GetConversation(ctx, uuid.NewString())
		p = problem(t, err)
		require.Equal(t, http.StatusNotFound, p.Status)
		require.NotEmpty(t, p.Code)

		// Operations without a body (204) return only an error.
		maria, err := c.LookupContact(ctx, &atendimento.LookupContactParams{Phone: "(21) 99876-5432"})
		require.NoError(t, err)
		require.NoError(t, c.DeleteContact(ctx, maria.Id.String()))
		_, err = c.GetContact(ctx, maria.Id.String())
		require.Equal(t, http.StatusNotFound, problem(t, err).Status)

		// Streams come back open for the caller to read.
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		resp, err := c.StreamEvents(sctx, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/event-stream")
		resp.Body.Close()

		_, err = newClient(t, env.Server.URL, "atd_wrong").ListChannels(ctx, nil)
		p = problem(t, err)
		require.Equal(t, http.StatusUnauthorized, p.Status)
	})
}

// flaky answers the first len(statuses) conversation starts with those statuses (and headers)
// before passing requests to the real server; it records every start's Idempotency-Key.
type flaky struct {
	path     string // default /api/v1/conversations
	next     http.Handler
	mu       sync.Mutex
	statuses []int
	after    []string
	keys     []string
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := f.path
	if path == "" {
		path = "/api/v1/conversations"
	}
	if r.Method == http.MethodPost && r.URL.Path == path {
		f.mu.Lock()
		f.keys = append(f.keys, r.Header.Get("Idempotency-Key"))
		n := len(f.keys)
		f.mu.Unlock()
		if n <= len(f.statuses) || (len(f.statuses) > 0 && f.statuses[len(f.statuses)-1] < 0) {
			i := min(n, len(f.statuses)) - 1
			st := f.statuses[i]
			if st < 0 {
				st = -st // negative: answer this status forever
			}
			if f.after[i] != "" {
				w.Header().Set("Retry-After", f.after[i])
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(st)
			_, _ = w.Write([]byte(`{"type":"about:blank","title":"busy","status":` + strconv.Itoa(st) + `,"code":"busy","errors":[]}`))
			return
		}
	}
	f.next.ServeHTTP(w, r)
}

func TestClientRetries(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, storetest.SQLite(t), apptest.Options{})
	ctx := context.Background()
	serve := func(f *flaky) string {
		f.next = env.App.Handler
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		return srv.URL
	}

	t.Run("429 and 503 are retried with the same key, honouring Retry-After", func(t *testing.T) {
		f := &flaky{statuses: []int{429, 503}, after: []string{"1", ""}}
		c := newClient(t, serve(f), env.Demo.APIKey)
		began := time.Now()
		conv, err := c.StartConversation(ctx, nil, start(env, "11 91234-6001"))
		require.NoError(t, err)
		require.GreaterOrEqual(t, time.Since(began), time.Second)
		require.Len(t, f.keys, 3)
		require.NotEmpty(t, f.keys[0])
		require.Equal(t, f.keys[0], f.keys[1])
		require.Equal(t, f.keys[0], f.keys[2])
		list, err := c.ListConversations(ctx, &atendimento.ListConversationsParams{ContactId: atendimento.Ptr(conv.Contact.Id.String())})
		require.NoError(t, err)
		require.Len(t, *list.Items, 1)
	})

	t.Run("a 500 is retried for a start, which has a key, not for another write", func(t *testing.T) {
		f := &flaky{statuses: []int{500}, after: []string{""}}
		c := newClient(t, serve(f), env.Demo.APIKey)
		_, err := c.StartConversation(ctx, nil, start(env, "11 91234-6005"))
		require.NoError(t, err)
		require.Len(t, f.keys, 2)
		require.Equal(t, f.keys[0], f.keys[1])

		f = &flaky{path: "/api/v1/contacts", statuses: []int{500}, after: []string{""}}
		c = newClient(t, serve(f), env.Demo.APIKey)
		_, err = c.CreateContact(ctx, atendimento.ContactRequest{Phone: atendimento.Ptr("11 91234-6006")})
		require.Equal(t, http.StatusInternalServerError, problem(t, err).Status)
		require.Len(t, f.keys, 1)
	})

	t.Run("retries are bounded", func(t *testing.T) {
		f := &flaky{statuses: []int{-503}, after: []string{""}}
		c := newClient(t, serve(f), env.Demo.APIKey, atendimento.WithRetries(2, 20*time.Millisecond))
		_, err := c.StartConversation(ctx, nil, start(env, "11 91234-6002"))
		require.Equal(t, http.StatusServiceUnavailable, problem(t, err).Status)
		require.Len(t, f.keys, 3)
	})

	t.Run("a Retry-After beyond the bound is returned, not waited for", func(t *testing.T) {
		f := &flaky{statuses: []int{-429}, after: []string{"120"}}
		c := newClient(t, serve(f), env.Demo.APIKey, atendimento.WithRetries(3, time.Second))
		_, err := c.StartConversation(ctx, nil, start(env, "11 91234-6003"))
		p := problem(t, err)
		require.Equal(t, http.StatusTooManyRequests, p.Status)
		require.Equal(t, 120*time.Second, p.RetryAfter)
		require.Len(t, f.keys, 1)
	})

	t.Run("the context ends the wait", func(t *testing.T) {
		f := &flaky{statuses: []int{-429}, after: []string{"5"}}
		c := newClient(t, serve(f), env.Demo.APIKey)
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		began := time.Now()
		_, err := c.StartConversation(cctx, nil, start(env, "11 91234-6004"))
		require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
		require.Less(t, time.Since(began), 2*time.Second)
	})
}

// TestProblemMatchesContract keeps the hand-written Problem in step with the contract's schema.
func TestProblemMatchesContract(t *testing.T) {
	spec, err := openapi3.NewLoader().LoadFromData(root.OpenAPI)
	require.NoError(t, err)
	want := map[string]bool{}
	for name := range spec.Components.Schemas["Problem"].Value.Properties {
		want[name] = true
	}
	got := map[string]bool{}
	rt := reflect.TypeOf(atendimento.Problem{})
	for i := range rt.NumField() {
		if tag := strings.Split(rt.Field(i).Tag.Get("json"), ",")[0]; tag != "-" {
			got[tag] = true
		}
	}
	require.Equal(t, want, got)
}

// TestClientCoversEveryOperation fails when openapi.yaml has operations the generated client
// lacks: run `make client`.
func TestClientCoversEveryOperation(t *testing.T) {
	spec, err := openapi3.NewLoader().LoadFromData(root.OpenAPI)
	require.NoError(t, err)
	ops := 0
	for _, item := range spec.Paths.Map() {
		ops += len(item.Operations())
	}
	handWritten := 2 // Raw, UploadMedia (multipart, over PostApiV1Media)
	require.Equal(t, ops, reflect.TypeOf(&atendimento.Client{}).NumMethod()-handWritten,
		"openapi.yaml and the generated client differ: run make client")
}

func TestClientUploadsMedia(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, storetest.SQLite(t), apptest.Options{})
	ctx := context.Background()
	pdf := []byte("%PDF-1.4\n% boleto\n%%EOF\n")
	f := &flaky{path: "/api/v1/media", statuses: []int{503}, after: []string{""}}
	f.next = env.App.Handler
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, env.Demo.APIKey, atendimento.WithRetries(2, 20*time.Millisecond))

	// A 503 first: the file (a ReadSeeker) is sent again, whole.
	m, err := c.UploadMedia(ctx, "/tmp/boleto.pdf", bytes.NewReader(pdf))
	require.NoError(t, err)
	require.Len(t, f.keys, 2, "the upload was retried")
	require.Equal(t, "document", string(*m.Kind))
	require.Equal(t, "application/pdf", *m.MimeType)
	require.Equal(t, "boleto.pdf", *m.Filename)
	require.Equal(t, len(pdf), *m.Size)

	// The same bytes again, from a plain reader: the same media.
	again, err := c.UploadMedia(ctx, "boleto.pdf", io.MultiReader(bytes.NewReader(pdf[:5]), bytes.NewReader(pdf[5:])))
	require.NoError(t, err)
	require.Equal(t, *m.Id, *again.Id)
	g, err := c.GetApiV1MediaId(ctx, m.Id.String())
	require.NoError(t, err)
	defer g.Body.Close()
	got, err := io.ReadAll(g.Body)
	require.NoError(t, err)
	require.Equal(t, pdf, got)

	// What WhatsApp does not take is the server's problem, as for every method.
	_, err = c.UploadMedia(ctx, "pagina.html", strings.NewReader("<!doctype html><html><script>alert(1)</script></html>"))
	p := problem(t, err)
	require.Equal(t, http.StatusUnsupportedMediaType, p.Status)
	require.Equal(t, "media_type_unsupported", p.Code)
}
