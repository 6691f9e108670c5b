package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

// TestMetricsToken: with METRICS_TOKEN set, a scrape needs it as a bearer token (401
// problem+json otherwise, an API key included); without it, /metrics is open.
func TestMetricsToken(t *testing.T) {
	apptest.EachWith(t, apptest.Options{Configure: func(c *app.Config) { c.MetricsToken = "scrape-0123456789" }}, func(t *testing.T, env *apptest.Env) {
		for name, c := range map[string]*apptest.Client{
			"no header":   env.Client(""),
			"wrong token": env.Client("scrape-wrong"),
			"api key":     env.Admin,
			"not bearer":  env.Client("").WithHeader("Authorization", "Basic c2NyYXBlOnNjcmFwZQ=="),
		} {
			r := c.Get("/metrics")
			require.Equal(t, http.StatusUnauthorized, r.Status, name)
			require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), name)
			require.Equal(t, "unauthorized", r.Str("code"), name)
			require.NotContains(t, string(r.Body), "atendimento_", name)
		}
		r := env.Client("scrape-0123456789").Get("/metrics")
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Contains(t, string(r.Body), "atendimento_sse_clients 0")
	})
	t.Run("open without a token", func(t *testing.T) {
		env := apptest.New(t, storetest.SQLite(t), apptest.Options{})
		r := env.Client("").Get("/metrics")
		require.Equal(t, http.StatusOK, r.Status)
		require.Contains(t, string(r.Body), "atendimento_sse_clients 0")
	})
}

// A method a client makes up is counted as "other": no client can grow the request series.
func TestMetricsMethodLabelIsBounded(t *testing.T) {
	env := apptest.New(t, storetest.SQLite(t), apptest.Options{})
	for _, m := range []string{"FOO1", "FOO2", "BREW"} {
		req, err := http.NewRequest(m, env.Server.URL+"/api/v1/contacts", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}
	body := string(env.Client("").Get("/metrics").Body)
	require.Contains(t, body, `method="other"`)
	for _, m := range []string{"FOO1", "FOO2", "BREW"} {
		require.NotContains(t, body, `method="`+m+`"`)
	}
}
