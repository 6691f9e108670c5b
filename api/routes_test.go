package api_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento"
	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

func init() {
	// kin-openapi decodes no HTML by default; /docs is documented as text/html, so the harness'
	// response validation needs a decoder for it (read as a plain string, like text/plain).
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.FileBodyDecoder)
}

// withSPA serves a minimal built SPA, so the SPA's routes are registered as in production.
func withSPA(t *testing.T) apptest.Options {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>Atendimento</title>"), 0o600))
	return apptest.Options{Configure: func(c *app.Config) { c.WebDir = dir }}
}

// routeExemptions are the routes Echo serves that openapi.yaml does not describe, each with why.
// Everything else must be in the spec, and everything in the spec must be served.
var routeExemptions = map[string]string{
	"GET /":                 "the SPA's index.html (a web page, not part of the API)",
	"GET /*":                "the SPA's files and client-side routes (catch-all)",
	"GET /docs/assets/*":    "Swagger UI's static files, loaded by the /docs page",
	echo.RouteNotFound + "": "any path Echo registers for its own 404 handling (Group middleware adds these)",
}

var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

func TestRoutesMatchSpec(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, storetest.SQLite(t), withSPA(t))
	spec, _ := apptest.Spec(t)

	served := map[string]bool{}
	seenExempt := map[string]bool{}
	for _, r := range env.App.Handler.Routes() {
		if r.Method == echo.RouteNotFound {
			seenExempt[echo.RouteNotFound] = true
			continue
		}
		key := r.Method + " " + echoParam.ReplaceAllString(r.Path, "{$1}")
		if _, ok := routeExemptions[key]; ok {
			seenExempt[key] = true
			continue
		}
		served[key] = true
	}
	documented := map[string]bool{}
	for path, item := range spec.Paths.Map() {
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}

	var notInSpec, notServed []string
	for k := range served {
		if !documented[k] {
			notInSpec = append(notInSpec, k)
		}
	}
	for k := range documented {
		if !served[k] {
			notServed = append(notServed, k)
		}
	}
	sort.Strings(notInSpec)
	sort.Strings(notServed)
	require.Empty(t, notInSpec, "routes served but missing from openapi.yaml")
	require.Empty(t, notServed, "operations in openapi.yaml that the server does not serve")
	for k := range routeExemptions {
		require.True(t, seenExempt[k], "exemption %q matches no route any more: remove it", k)
	}
	require.Greater(t, len(served), 40, "the walk found too few routes to be meaningful")
}

func TestOperationsEndpoints(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		anon := env.Client("")

		r := anon.Get("/openapi.yaml")
		require.Equal(t, http.StatusOK, r.Status)
		require.True(t, bytes.Equal(atendimento.OpenAPI, r.Body), "served contract differs from the embedded one")
		onDisk, err := os.ReadFile("../openapi.yaml")
		require.NoError(t, err)
		require.True(t, bytes.Equal(onDisk, r.Body), "served contract differs from openapi.yaml on disk")

		r = anon.Get("/docs")
		require.Equal(t, http.StatusOK, r.Status)
		require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"), r.Header.Get("Content-Type"))
		require.Contains(t, string(r.Body), "<html")
		require.Contains(t, string(r.Body), "swagger-ui")
		// The page's own assets are served too, with or without a built SPA.
		for _, asset := range []string{"/docs/assets/swagger-ui.css", "/docs/assets/swagger-ui-bundle.js", "/docs/assets/docs-init.js"} {
			resp, err := http.Get(env.Server.URL + asset)
			require.NoError(t, err)
			_ = resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, asset)
		}

		for _, p := range []string{"/healthz", "/readyz"} {
			r = anon.Get(p)
			require.Equal(t, http.StatusOK, r.Status, p)
			require.Equal(t, "ok", r.Str("status"), p)
		}
		require.Equal(t, "ok", anon.Get("/readyz").Str("database"))

		r = anon.Get("/metrics")
		require.Equal(t, http.StatusOK, r.Status)
		require.Contains(t, string(r.Body), "http_requests_total")
		require.Contains(t, string(r.Body), `route="/healthz"`)
		require.Contains(t, string(r.Body), "http_request_duration_seconds")

		// With the database gone, readiness fails (503) while liveness still answers.
		require.NoError(t, env.App.DB.Close())
		r = anon.Get("/readyz")
		require.Equal(t, http.StatusServiceUnavailable, r.Status, string(r.Body))
		require.Equal(t, http.StatusOK, anon.Get("/healthz").Status)
	})
}
