package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// TestHealthcheck runs `atendimento healthcheck`, the image's HEALTHCHECK, against the real server
// (ready: exit 0), a server whose database does not answer (503: exit 1) and no server at all.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	hostPort := func(u string) string { return strings.TrimPrefix(u, "http://") }
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		var out bytes.Buffer
		cfg := app.Config{HTTPAddr: hostPort(env.Server.URL)}
		require.NoError(t, run(context.Background(), []string{"healthcheck"}, cfg, discard(), &out))
		require.Contains(t, out.String(), `"database":"ok"`)
	})

	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/readyz", r.URL.Path)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"code":"database_unavailable"}`))
	}))
	defer unavailable.Close()
	err := run(context.Background(), []string{"healthcheck"}, app.Config{HTTPAddr: hostPort(unavailable.URL)}, discard(), &bytes.Buffer{})
	require.ErrorContains(t, err, "answered 503")

	closed := httptest.NewServer(http.NotFoundHandler())
	addr := hostPort(closed.URL)
	closed.Close()
	require.Error(t, run(context.Background(), []string{"healthcheck"}, app.Config{HTTPAddr: addr}, discard(), &bytes.Buffer{}))

	// As Docker runs it: the binary, its exit status.
	cmd := exec.Command(os.Args[0], "healthcheck")
	cmd.Env = append(os.Environ(), "ATENDIMENTO_TEST_MAIN=1", "HTTP_ADDR="+addr)
	var exit *exec.ExitError
	require.ErrorAs(t, cmd.Run(), &exit)
	require.Equal(t, 1, exit.ExitCode())
}

func TestReadyzURL(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/readyz",
		"0.0.0.0:9000":   "http://127.0.0.1:9000/readyz",
		"[::]:8080":      "http://127.0.0.1:8080/readyz",
		"127.0.0.1:8081": "http://127.0.0.1:8081/readyz",
		"[::1]:8080":     "http://[::1]:8080/readyz",
	} {
		got, err := readyzURL(addr)
		require.NoError(t, err)
		require.Equal(t, want, got, addr)
	}
	_, err := readyzURL("8080")
	require.Error(t, err)
}
