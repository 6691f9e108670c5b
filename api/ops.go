package api

import (
	"bytes"
	"crypto/subtle"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	swaggerFiles "github.com/swaggo/files/v2"

	"github.com/atendimento/atendimento/internal/apperr"
)

// Health is the body of /healthz and /readyz.
type Health struct {
	Status   string `json:"status" example:"ok"`
	Database string `json:"database,omitempty" example:"ok"`
} // @name Health

// healthz godoc
//
//	@Summary	Liveness: the process is up
//	@Tags		operations
//	@Produce	json
//	@Success	200	{object}	Health
//	@Router		/healthz [get]
func (s *server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, Health{Status: "ok"})
}

// readyz godoc
//
//	@Summary	Readiness: the database answers
//	@Tags		operations
//	@Produce	json
//	@Success	200	{object}	Health
//	@Failure	503	{object}	Problem
//	@Router		/readyz [get]
func (s *server) readyz(c echo.Context) error {
	if err := s.DB.Ping(c.Request().Context()); err != nil {
		// Like every error, a 503 is problem+json (code database_unavailable); the cause is logged.
		return &apperr.Error{Kind: apperr.KindUnavailable, Code: "database_unavailable", Message: "the database does not answer", Err: err}
	}
	return c.JSON(http.StatusOK, Health{Status: "ok", Database: "ok"})
}

// openapi godoc
//
//	@Summary	The OpenAPI 3 contract of this API
//	@Tags		operations
//	@Produce	application/yaml
//	@Success	200	{object}	map[string]interface{}	"the OpenAPI 3 document"
//	@Router		/openapi.yaml [get]
func (s *server) openapi(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return c.Blob(http.StatusOK, "application/yaml", s.OpenAPI)
}

// prometheusMetrics godoc
//
//	@Summary		Prometheus metrics: HTTP requests, the outbox, sends, the provider, webhooks, event streams, CRM deliveries
//	@Description	When the server has METRICS_TOKEN set, a scrape must send `Authorization: Bearer <METRICS_TOKEN>`. Every metric is described in docs/operations.md.
//	@Tags			operations
//	@Produce		plain
//	@Success		200	{string}	string
//	@Failure		401	{object}	Problem
//	@Router			/metrics [get]
func (s *server) prometheusMetrics(c echo.Context) error {
	if s.MetricsToken != "" {
		got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.MetricsToken)) != 1 {
			return apperr.New(apperr.KindUnauthorized, "unauthorized", "use Authorization: Bearer <METRICS_TOKEN>")
		}
	}
	s.metricsHandler.ServeHTTP(c.Response(), c.Request())
	return nil
}

// webhookMetrics count Meta's webhook deliveries per channel id: every POST to a known channel
// (received), those refused (rejected, by reason: bad_signature, bad_payload, unknown_channel),
// and when the last one was accepted, so an operator sees a channel go silent. A channel label
// is only ever a channel that exists: a POST to an unknown id is counted under "unknown".
type webhookMetrics struct {
	received, rejected *prometheus.CounterVec
	lastReceived       *prometheus.GaugeVec
}

func newWebhookMetrics(reg prometheus.Registerer) webhookMetrics {
	m := webhookMetrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atendimento_webhook_deliveries_total",
			Help: "Meta webhook deliveries (POSTs) received by channel id."}, []string{"channel"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atendimento_webhook_deliveries_rejected_total",
			Help: "Meta webhook deliveries refused by channel id and reason (bad_signature, bad_payload, unknown_channel)."}, []string{"channel", "reason"}),
		lastReceived: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "atendimento_webhook_last_received_timestamp_seconds",
			Help: "When the channel last received a webhook delivery with a valid signature (Unix seconds)."}, []string{"channel"}),
	}
	reg.MustRegister(m.received, m.rejected, m.lastReceived)
	return m
}

// The reasons a webhook delivery is rejected.
const (
	rejectSignature = "bad_signature"
	rejectPayload   = "bad_payload"
	rejectChannel   = "unknown_channel"
)

const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Atendimento API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs-init.js"></script>
</body></html>`

const docsInit = `window.ui = SwaggerUIBundle({url: "/openapi.yaml", dom_id: "#ui"});`

// docs godoc
//
//	@Summary	Swagger UI for the contract
//	@Tags		operations
//	@Produce	html
//	@Success	200	{string}	string
//	@Router		/docs [get]
func (s *server) docs(c echo.Context) error {
	c.Response().Header().Set("Content-Security-Policy", docsCSP)
	return c.HTML(http.StatusOK, docsPage)
}

func (s *server) docsAsset(c echo.Context) error {
	name := strings.TrimPrefix(c.Request().URL.Path, "/docs/assets/")
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	if name == "docs-init.js" {
		return c.Blob(http.StatusOK, "text/javascript", []byte(docsInit))
	}
	b, err := fs.ReadFile(swaggerFiles.FS, name)
	if err != nil {
		return echo.ErrNotFound
	}
	ct := "application/octet-stream"
	switch {
	case strings.HasSuffix(name, ".js"):
		ct = "text/javascript"
	case strings.HasSuffix(name, ".css"):
		ct = "text/css"
	case strings.HasSuffix(name, ".png"):
		ct = "image/png"
	}
	return c.Blob(http.StatusOK, ct, b)
}

// precompressed are the encodings the SPA's build writes beside each file (web/vite.config.ts),
// in the order they are preferred.
var precompressed = []struct{ encoding, suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

// servePrecompressed answers with the build's brotli or gzip copy of the SPA file p when the
// client accepts it and the copy exists, and reports whether it did.
func (s *server) servePrecompressed(c echo.Context, p string, mod time.Time) bool {
	accept := c.Request().Header.Get(echo.HeaderAcceptEncoding)
	h := c.Response().Header()
	for _, pc := range precompressed {
		if _, err := fs.Stat(s.SPA, p+pc.suffix); err != nil {
			continue
		}
		if h.Get(echo.HeaderVary) == "" {
			h.Set(echo.HeaderVary, echo.HeaderAcceptEncoding) // a copy exists: the answer depends on the header
		}
		if !acceptsEncoding(accept, pc.encoding) {
			continue
		}
		body, err := fs.ReadFile(s.SPA, p+pc.suffix)
		if err != nil {
			return false
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set(echo.HeaderContentType, ct)
		h.Set(echo.HeaderContentEncoding, pc.encoding)
		http.ServeContent(c.Response(), c.Request(), p, mod, bytes.NewReader(body))
		return true
	}
	return false
}

// acceptsEncoding reports whether an Accept-Encoding header accepts enc: named (or *) without q=0.
func acceptsEncoding(header, enc string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		refused := false
		for _, param := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(param), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q == 0 {
					refused = true
				}
			}
		}
		switch name {
		case enc:
			return !refused
		case "*":
			star = !refused
		}
	}
	return star
}

// serveSPA serves the built web app: files as they are, and index.html for client-side routes.
// Paths under /api/ and /webhooks/ are never the app's: one no route serves is the API's 404
// problem (route_not_found), not index.html with 200, which a client would take for an answer.
func (s *server) serveSPA(e *echo.Echo) {
	assets := http.FileServer(http.FS(s.SPA))
	handler := func(c echo.Context) error {
		h := c.Response().Header()
		p := strings.TrimPrefix(c.Request().URL.Path, "/")
		if p == "api" || strings.HasPrefix(p, "api/") || p == "webhooks" || strings.HasPrefix(p, "webhooks/") {
			return echo.ErrNotFound
		}
		if p != "" {
			if st, err := fs.Stat(s.SPA, p); err == nil && !st.IsDir() {
				if strings.HasPrefix(p, "assets/") {
					h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable") // Vite names them by content hash
				} else {
					h.Set(echo.HeaderCacheControl, "no-cache")
				}
				if s.servePrecompressed(c, p, st.ModTime()) {
					return nil
				}
				assets.ServeHTTP(c.Response(), c.Request())
				return nil
			}
		}
		index, err := fs.ReadFile(s.SPA, "index.html")
		if err != nil {
			return echo.ErrNotFound
		}
		h.Set("Content-Security-Policy", spaCSP)
		h.Set(echo.HeaderCacheControl, "no-cache") // a new deploy's index.html names new assets
		return c.HTMLBlob(http.StatusOK, index)
	}
	e.GET("/", handler)
	e.GET("/*", handler)
}
