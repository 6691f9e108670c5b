// Package apptest runs the whole service in-process for tests: a fresh database per test (SQLite,
// and Postgres when TEST_DATABASE_URL is set), the demo data, a real HTTP server, and a client
// that validates every response against openapi.yaml.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/atendimento/atendimento"
	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/logctx"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

// Env is one running service with its demo data.
type Env struct {
	T      testing.TB
	App    *app.App
	Server *httptest.Server
	Demo   *app.Seeded
	// Admin is a client authenticated with the demo admin API key.
	Admin *Client
	Logs  *SyncBuffer
}

// Options adjusts the App before it is built.
type Options struct {
	Configure func(*app.Config)
	// LogLevel is the lowest level Env.Logs captures (default Info).
	LogLevel slog.Level
	// LogTo, when set, receives the log instead of Env.Logs (a benchmark's io.Discard).
	LogTo io.Writer
}

// Each runs fn on every engine (subtests "sqlite" and "postgres").
func Each(t *testing.T, fn func(t *testing.T, env *Env)) {
	t.Helper()
	EachWith(t, Options{}, fn)
}

// EachWith is Each with options.
func EachWith(t *testing.T, opts Options, fn func(t *testing.T, env *Env)) {
	t.Helper()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fn(t, New(t, e.Open(t), opts))
		})
	}
}

// New starts the service on db with the demo data.
func New(t testing.TB, db *store.DB, opts Options) *Env {
	t.Helper()
	cfg := app.Config{SecretKey: "test-secret-key-0123456789", BcryptCost: bcrypt.MinCost, HTTPAddr: "127.0.0.1:0",
		WhatsAppAPIBaseURL: "http://127.0.0.1:1", WhatsAppAPIVersion: "v25.0"}
	cfg.Dispatch.Poll = 100 * time.Millisecond
	// Each test's files in its own folder (the default, beside an SQLite file, has none on Postgres).
	cfg.MediaStore = t.TempDir()
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	logs := &SyncBuffer{}
	var out io.Writer = logs
	if opts.LogTo != nil {
		out = opts.LogTo
	}
	// Wrapped as main's logger is, so lines carry the ids their context holds.
	log := slog.New(logctx.Handler(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: opts.LogLevel})))
	a, err := app.NewWithDB(context.Background(), cfg, log, db)
	require.NoError(t, err)
	seeded, err := a.Demo(context.Background())
	require.NoError(t, err)
	require.NotNil(t, seeded)
	a.Start(context.Background())
	// Requests behave the same from the first one: with the read caches in use.
	a.DB.AwaitCaches(10 * time.Second)
	t.Cleanup(a.Stop)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	env := &Env{T: t, App: a, Server: srv, Demo: seeded, Logs: logs}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	env.Admin = env.Client(seeded.APIKey)
	return env
}

// SyncBuffer is a bytes.Buffer that a logger and a test may use from several goroutines.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Ctx returns a context acting for the demo account (for calling services directly).
func (e *Env) Ctx() context.Context { return store.WithAccount(context.Background(), e.Demo.AccountID) }

// Client is an HTTP client for the API; every response it gets is validated against openapi.yaml.
type Client struct {
	env     *Env
	http    *http.Client
	headers http.Header
}

// Client returns a client that sends the API key as a bearer token ("" for none).
func (e *Env) Client(apiKey string) *Client {
	h := http.Header{}
	if apiKey != "" {
		h.Set("Authorization", "Bearer "+apiKey)
	}
	return &Client{env: e, http: &http.Client{}, headers: h}
}

// WithHeader returns a copy of the client that adds a header to every request.
func (c *Client) WithHeader(k, v string) *Client {
	h := c.headers.Clone()
	h.Set(k, v)
	return &Client{env: c.env, http: c.http, headers: h}
}

// Response is a decoded response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r *Response) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Decode decodes the body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), string(r.Body))
}

// Str returns a top-level string field.
func (r *Response) Str(key string) string {
	s, _ := r.JSON()[key].(string)
	return s
}

// FieldCodes returns the problem's errors as "field:code" strings.
func (r *Response) FieldCodes() []string {
	var p struct {
		Errors []struct{ Field, Code string }
	}
	_ = json.Unmarshal(r.Body, &p)
	out := make([]string, len(p.Errors))
	for i, e := range p.Errors {
		out[i] = e.Field + ":" + e.Code
	}
	return out
}

// Do sends a request; body may be nil, a string (sent as is) or a value (sent as JSON).
func (c *Client) Do(method, path string, body any) *Response {
	t := c.env.T
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, c.env.Server.URL+path, rd)
	require.NoError(t, err)
	for k, v := range c.headers {
		req.Header[k] = v
	}
	if rd != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	ValidateResponse(t, req, out)
	return out
}

// Get, Post, Patch and Delete are shorthands for Do.
func (c *Client) Get(path string) *Response             { return c.Do(http.MethodGet, path, nil) }
func (c *Client) Post(path string, body any) *Response  { return c.Do(http.MethodPost, path, body) }
func (c *Client) Patch(path string, body any) *Response { return c.Do(http.MethodPatch, path, body) }
func (c *Client) Delete(path string) *Response          { return c.Do(http.MethodDelete, path, nil) }

var (
	specOnce   sync.Once
	spec       *openapi3.T
	specRouter routers.Router
	specErr    error
)

// Spec returns the parsed openapi.yaml.
func Spec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		spec, specErr = loader.LoadFromData(atendimento.OpenAPI)
		if specErr != nil {
			return
		}
		if specErr = spec.Validate(loader.Context); specErr != nil {
			return
		}
		spec.Servers = nil // match any host: the test server listens on a random port
		specRouter, specErr = legacy.NewRouter(spec)
	})
	require.NoError(t, specErr, "openapi.yaml")
	return spec, specRouter
}

// ValidateResponse checks a response against the operation openapi.yaml declares for the
// request: the status must be documented and the body must match its schema.
func ValidateResponse(t testing.TB, req *http.Request, resp *Response) {
	t.Helper()
	_, router := Spec(t)
	u, _ := url.Parse(req.URL.String())
	vreq := req.Clone(context.Background())
	vreq.URL = u
	route, params, err := router.FindRoute(vreq)
	if err != nil {
		if resp.Status == http.StatusNotFound || resp.Status == http.StatusMethodNotAllowed {
			return // an unknown route answers the router's 404/405 problem, outside the contract
		}
		require.NoError(t, err, "route %s %s is not in openapi.yaml", req.Method, req.URL.Path)
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: true}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.Status, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(resp.Body)
	require.NoError(t, openapi3filter.ValidateResponse(context.Background(), out), "%s %s → %d %s", req.Method, req.URL.Path, resp.Status, resp.Body)
}

// NewAccount creates another company with an admin API key (tenant isolation tests).
func (e *Env) NewAccount(name string) (accountID, apiKey string) {
	e.T.Helper()
	ctx := context.Background()
	acc, err := e.App.Accounts.CreateAccount(ctx, name, "BR")
	require.NoError(e.T, err)
	_, key, err := e.App.Accounts.CreateAPIKey(store.WithAccount(ctx, acc.ID), "test", account.RoleAdmin, "")
	require.NoError(e.T, err)
	return acc.ID, key
}

// Login logs a user in and returns a cookie client with the CSRF header set.
func (e *Env) Login(email, password string) *Client {
	e.T.Helper()
	jar := &cookieJar{}
	c := &Client{env: e, http: &http.Client{Jar: jar}, headers: http.Header{}}
	r := c.Post("/api/v1/auth/login", map[string]string{"email": email, "password": password})
	require.Equal(e.T, http.StatusOK, r.Status, string(r.Body))
	return c.WithHeader("X-CSRF-Token", r.Str("csrf_token"))
}

type cookieJar struct {
	mu      sync.Mutex
	cookies []*http.Cookie
}

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		kept := j.cookies[:0]
		for _, old := range j.cookies {
			if old.Name != c.Name {
				kept = append(kept, old)
			}
		}
		j.cookies = kept
		if c.MaxAge >= 0 && c.Value != "" {
			j.cookies = append(j.cookies, c)
		}
	}
}

func (j *cookieJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]*http.Cookie(nil), j.cookies...)
}
