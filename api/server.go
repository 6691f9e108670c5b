// Package api is the HTTP layer: the Echo router, request and response types, authentication,
// and the single error handler. Handlers bind, validate, call a domain service and respond;
// they never touch the database.
//
//	@title						Atendimento API
//	@version					1.0
//	@description				Start and run WhatsApp customer-service conversations. Errors are application/problem+json with a stable `code`.
//	@BasePath					/
//	@securityDefinitions.apikey	BearerAuth
//	@in							header
//	@name						Authorization
//	@description				"Bearer <api key>"
//	@securityDefinitions.apikey	SessionCookie
//	@in							cookie
//	@name						atendimento_session
package api

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/crmhook"
	"github.com/atendimento/atendimento/internal/event"
	"github.com/atendimento/atendimento/internal/idempotency"
	"github.com/atendimento/atendimento/internal/logctx"
	"github.com/atendimento/atendimento/internal/media"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/team"
	"github.com/atendimento/atendimento/internal/template"
	"github.com/atendimento/atendimento/internal/templatesync"
	"github.com/atendimento/atendimento/internal/webhook"
)

// Deps is everything the HTTP layer calls.
type Deps struct {
	DB            *store.DB
	Accounts      *account.Service
	Contacts      *contact.Service
	Channels      *channel.Service
	Teams         *team.Service
	Templates     *template.Service
	TemplateSync  *templatesync.Syncer
	Conversations *conversation.Service
	Media         *media.Service
	Idempotency   *idempotency.Store
	Webhooks      *webhook.Processor
	// Events streams the account's changes (GET /events); CRMHooks are the outgoing webhooks.
	Events   *event.Broker
	CRMHooks *crmhook.Service
	Log      *slog.Logger
	// Registry collects the HTTP and webhook metrics; nil uses a fresh registry.
	Registry *prometheus.Registry
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// OpenAPI is the contract served at /openapi.yaml.
	OpenAPI []byte
	// SPA, when set, is the built single-page app served at /.
	SPA fs.FS
	// SecureCookies marks the session cookie Secure (behind HTTPS).
	SecureCookies bool
	// WaitingTimeout is how long a conversation waits for the first reply before it expires (0 = never).
	WaitingTimeout time.Duration
	// RequestTimeout bounds each request's work, so a database that stops answering yields a
	// 503 instead of a hung request (0 = no bound).
	RequestTimeout time.Duration
	// LoginLimit tunes the login lockout (zero fields: 5 failures per email, 20 per IP, locks from
	// 1 minute doubling up to 1 hour).
	LoginLimit LoginLimit
	// APIKeyRate is each API key's sustained rate in requests per second, with bursts up to
	// APIKeyBurst (default twice the rate); 0 leaves API keys unlimited.
	APIKeyRate  float64
	APIKeyBurst int
}

type server struct {
	Deps
	accounts       *account.Service
	metricsHandler http.Handler
	loginGuard     *loginGuard
	keyLimiter     *keyLimiter
	webhookMetrics webhookMetrics
}

// New builds the HTTP server.
func New(d Deps) *echo.Echo {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &server{Deps: d, accounts: d.Accounts, metricsHandler: promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{}),
		loginGuard: newLoginGuard(d.LoginLimit), webhookMetrics: newWebhookMetrics(d.Registry)}
	if d.APIKeyRate > 0 {
		burst := d.APIKeyBurst
		if burst <= 0 {
			burst = max(1, int(2*d.APIKeyRate))
		}
		s.keyLimiter = newKeyLimiter(d.APIKeyRate, burst, d.LoginLimit.Now)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The client's address (login lockout per IP) is the connection's peer, or the last address in
	// X-Forwarded-For that a proxy on a loopback, link-local or private network added; a client on
	// the internet cannot choose it by sending the header itself.
	e.IPExtractor = echo.ExtractIPFromXFFHeader()
	e.Validator = newValidator()
	e.HTTPErrorHandler = errorHandler(d.Log)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		RequestIDHandler: func(c echo.Context, id string) {
			c.SetRequest(c.Request().WithContext(WithRequestID(c.Request().Context(), id)))
		},
	}))
	e.Use(s.metrics(d.Registry))
	e.Use(s.accessLog)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		d.Log.ErrorContext(c.Request().Context(), "panic", "err", err.Error(), "stack", string(stack))
		return err
	}}))
	e.Use(s.securityHeaders)
	e.Use(limitBody)
	e.Use(requestTimeout(d.RequestTimeout))

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.prometheusMetrics)
	e.GET("/openapi.yaml", s.openapi)
	e.GET("/docs", s.docs)
	e.GET("/docs/assets/*", s.docsAsset)

	e.GET("/webhooks/whatsapp/:channel_id", s.verifyWebhook)
	e.POST("/webhooks/whatsapp/:channel_id", s.receiveWebhook)

	v1 := e.Group("/api/v1")
	v1.POST("/auth/login", s.login)
	authed := v1.Group("", s.authenticate, s.limitAPIKeys, checkQuery)
	authed.POST("/auth/logout", s.logout)
	authed.GET("/me", s.me)
	authed.GET("/account", s.getAccount)
	authed.PATCH("/account", s.updateAccount, adminOnly)

	crud{list: s.listUsers, create: s.createUser, get: s.getUser, update: s.updateUser, del: s.deleteUser}.route(authed, "/users", adminOnly)

	authed.GET("/api-keys", s.listAPIKeys, adminOnly)
	authed.POST("/api-keys", s.createAPIKey, adminOnly)
	authed.DELETE("/api-keys/:id", s.revokeAPIKey, adminOnly)

	crud{list: s.listContacts, create: s.createContact, get: s.getContact, update: s.updateContact, del: s.deleteContact}.route(authed, "/contacts")
	authed.GET("/contacts/lookup", s.lookupContact)
	authed.GET("/contacts/:id/consent", s.listConsent)
	authed.GET("/contacts/:id/start-state", s.startState)
	authed.POST("/contacts/:id/consent", s.recordConsent)

	crud{list: s.listChannels, create: s.createChannel, get: s.getChannel, update: s.updateChannel, del: s.deleteChannel}.route(authed, "/channels", adminOnly)
	authed.POST("/channels/:id/templates/sync", s.syncTemplates, adminOnly)

	crud{list: s.listTeams, create: s.createTeam, get: s.getTeam, update: s.updateTeam, del: s.deleteTeam}.route(authed, "/teams", adminOnly)

	crud{list: s.listTemplates, create: s.createTemplate, get: s.getTemplate, update: s.updateTemplate, del: s.deleteTemplate}.route(authed, "/templates", adminOnly)
	authed.POST("/templates/:id/preview", s.previewTemplate)

	authed.GET("/pricing/estimate", s.estimate)

	authed.POST("/conversations", s.startConversation)
	authed.GET("/conversations", s.listConversations)
	authed.GET("/conversations/:id", s.getConversation)
	authed.POST("/conversations/:id/close", s.closeConversation)
	authed.POST("/conversations/:id/cancel", s.cancelConversation)
	authed.GET("/conversations/:id/messages", s.listMessages)
	authed.POST("/conversations/:id/messages", s.postMessage)
	authed.DELETE("/conversations/:id/messages/:message_id", s.withdrawMessage)

	authed.POST("/media", s.uploadMedia)
	authed.GET("/media/:id", s.getMedia)

	authed.POST("/sandbox/channels/:id/inbound", s.sandboxInbound)

	authed.GET("/events", s.streamEvents)
	authed.GET("/webhook-subscriptions", s.listWebhookSubscriptions, adminOnly)
	authed.POST("/webhook-subscriptions", s.createWebhookSubscription, adminOnly)
	authed.DELETE("/webhook-subscriptions/:id", s.deleteWebhookSubscription, adminOnly)
	authed.GET("/webhook-subscriptions/:id/deliveries", s.listWebhookDeliveries, adminOnly)

	if d.SPA != nil {
		s.serveSPA(e)
	}
	return e
}

// crud is a resource's five handlers: its collection's list and create, and its members' get,
// update and delete. Every resource routes them alike, so route registers them in one call.
type crud struct {
	list, create, get, update, del echo.HandlerFunc
}

// route registers the five routes under path; write (adminOnly, or nothing where agents may
// write too) guards create, update and delete.
func (r crud) route(g *echo.Group, path string, write ...echo.MiddlewareFunc) {
	g.GET(path, r.list)
	g.POST(path, r.create, write...)
	g.GET(path+"/:id", r.get)
	g.PATCH(path+"/:id", r.update, write...)
	g.DELETE(path+"/:id", r.del, write...)
}

// requestTimeout gives each request's context a deadline d: its database statements then fail
// (503 database_unavailable) rather than wait on a database that stopped answering. The event
// stream lives on, and a template sync pages through Meta under the client's own timeouts.
func requestTimeout(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// An upload or a download of up to 100 MB takes as long as the client's link does.
			if d <= 0 || c.Path() == "/api/v1/events" || strings.HasSuffix(c.Path(), "/templates/sync") || strings.HasPrefix(c.Path(), "/api/v1/media") {
				return next(c)
			}
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// limitBody refuses bodies over MaxBody before a handler reads them.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if strings.HasPrefix(req.URL.Path, "/webhooks/") {
			return next(c) // Meta batches up to 3 MB; the webhook handler bounds its own read
		}
		if req.Method == http.MethodPost && req.URL.Path == "/api/v1/media" {
			// An upload: the largest file WhatsApp takes, plus room for the multipart framing.
			req.Body = http.MaxBytesReader(c.Response(), req.Body, media.MaxUpload+64<<10)
			return next(c)
		}
		if req.ContentLength > MaxBody {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the body is larger than 1 MiB")
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, MaxBody)
		return next(c)
	}
}

// The Content-Security-Policy of each kind of response. JSON and other API answers load nothing
// and may not be framed; the SPA and the API docs load only their own files (the docs page's
// Swagger UI sets inline styles, the SPA does not).
const (
	apiCSP  = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	spaCSP  = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	docsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

// securityHeaders sets the headers every response carries. Responses are not stored by browsers
// or proxies (most carry personal data: contacts, conversations, users); the SPA's and the docs'
// static files override Cache-Control, and HTML pages their Content-Security-Policy.
func (s *server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", apiCSP)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set(echo.HeaderCacheControl, "no-store")
		if s.SecureCookies {
			// Served over HTTPS (the cookie is Secure): browsers keep to HTTPS for a year.
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// serve runs next and tells how long it took and the status the client gets: the response's,
// or, when next returns an error, the one the central error handler will write for it (it has
// not run yet when the middlewares measure).
func serve(next echo.HandlerFunc, c echo.Context) (status int, took time.Duration, err error) {
	start := time.Now()
	err = next(c)
	status = c.Response().Status
	if err != nil {
		status = problemFor(err).Status
	}
	return status, time.Since(start), err
}

// methodLabel is the request's method as a metric label: the standard ones, and "other" for any
// other token a client sends (Go accepts any), so no client can grow the series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

func (s *server) metrics(reg *prometheus.Registry) echo.MiddlewareFunc {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "HTTP requests by route, method and status."},
		[]string{"route", "method", "status"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "HTTP request latency by route and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"route", "method"})
	reg.MustRegister(requests, latency)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			status, took, err := serve(next, c)
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			method := methodLabel(c.Request().Method)
			requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
			latency.WithLabelValues(route, method).Observe(took.Seconds())
			return err
		}
	}
}

// accessLog logs one line per request, with the request id and whatever ids the handler
// attached (logctx.Add): INFO for a success or a redirect, WARN for a client error, ERROR for a
// server error. At LOG_LEVEL=warn only the failures are logged, and a request whose line is
// below the level costs no formatting.
func (s *server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		status, took, err := serve(next, c)
		ctx := c.Request().Context()
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case status >= 400:
			level = slog.LevelWarn
		}
		if s.Log.Enabled(ctx, level) {
			s.Log.Log(ctx, level, "request", "method", c.Request().Method, "path", c.Path(),
				"status", status, "duration_ms", float64(took.Microseconds())/1000)
		}
		return err
	}
}

// WithRequestID returns a context carrying the request id, which the log handler adds to every
// line; the handlers add the ids of what they work on to the same set (logctx.Add).
func WithRequestID(ctx context.Context, id string) context.Context {
	return logctx.With(ctx, slog.String("request_id", id))
}

// LogHandler wraps a slog handler so every record logged with a context carries the context's
// ids (logctx): a request's id, and the conversation, message and WhatsApp ids of a send or a
// webhook.
func LogHandler(h slog.Handler) slog.Handler { return logctx.Handler(h) }
