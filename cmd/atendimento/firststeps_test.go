package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// TestNoArgumentsPrintsUsage runs the binary bare, as a person trying it would, in a folder
// where a server would put its SQLite database: usage on stderr, status 2, nothing created.
func TestNoArgumentsPrintsUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "HTTP_ADDR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "ATENDIMENTO_TEST_MAIN=1", "HTTP_ADDR=127.0.0.1:0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	require.Equal(t, 2, exit.ExitCode())
	require.Empty(t, stdout.String())
	require.Contains(t, stderr.String(), "no command given")
	require.Contains(t, stderr.String(), "atendimento serve")
	require.Contains(t, stderr.String(), "atendimento admin reset-password --email")
	require.Contains(t, stderr.String(), "atendimento api-key create")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "no database, no secret key, no data folder")

	// run itself: the usage error, and neither output nor a database.
	db := filepath.Join(t.TempDir(), "atendimento.db")
	var out bytes.Buffer
	err = run(context.Background(), nil, testConfig(db), discard(), &out)
	var ue usageError
	require.ErrorAs(t, err, &ue)
	require.Empty(t, out.String())
	_, err = os.Stat(db)
	require.ErrorIs(t, err, os.ErrNotExist)

	// An unknown command is a usage error too; help is not an error.
	require.ErrorAs(t, run(context.Background(), []string{"srve"}, testConfig(db), discard(), &out), &ue)
	require.NoError(t, run(context.Background(), []string{"help"}, testConfig(db), discard(), &out))
	require.Contains(t, out.String(), "atendimento api-key create")
}

// TestServePortInUse starts a server on an address another program holds: it fails at once,
// naming the address, with nothing printed, seeded or even opened.
func TestServePortInUse(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { _ = busy.Close() })
		cfg := testConfig(url)
		cfg.HTTPAddr = busy.Addr().String()

		var out bytes.Buffer
		logs := &apptest.SyncBuffer{}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = run(ctx, []string{"serve"}, cfg, slog.New(slog.NewJSONHandler(logs, nil)), &out)
		require.Error(t, err)
		require.Contains(t, err.Error(), cfg.HTTPAddr)
		require.Contains(t, err.Error(), "already in use")
		require.Empty(t, out.String(), "no login printed")
		require.NotContains(t, logs.String(), "database is closed")
		if !strings.Contains(url, "://") {
			_, err = os.Stat(url)
			require.ErrorIs(t, err, os.ErrNotExist, "no database created")
			_, err = os.Stat(filepath.Join(filepath.Dir(url), "secret.key"))
			require.ErrorIs(t, err, os.ErrNotExist)
			return
		}
		require.EqualValues(t, 0, countAccounts(t, openApp(t, cfg)), "nothing seeded")
	})
}

// serveDemo runs `atendimento serve` with demo data until it listens, then stops it, and returns
// what it printed.
func serveDemo(t *testing.T, cfg app.Config) string {
	t.Helper()
	out, _ := serveOnce(t, cfg)
	return out
}

// login logs in through the HTTP API and returns the status.
func login(t *testing.T, srv *httptest.Server, email, password string) int {
	t.Helper()
	body := `{"email": "` + email + `", "password": "` + password + `"}`
	resp, err := http.Post(srv.URL+"/api/v1/auth/login", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// withKey makes an authenticated request through the HTTP API and returns the status.
func withKey(t *testing.T, srv *httptest.Server, key string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/contacts", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestDemoCredentialsRecovery: the first start prints the demo login, a restart tells how to get
// new credentials, and the two commands it names give a password that logs in and a key that
// authenticates, through the HTTP API.
func TestDemoCredentialsRecovery(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		ctx := context.Background()
		cfg := testConfig(url)

		first := serveDemo(t, cfg)
		oldPassword := printed(t, first, "  Password")
		require.Contains(t, first, "API key:")

		again := serveDemo(t, cfg)
		require.NotContains(t, again, oldPassword)
		require.NotContains(t, again, "atd_", "the key is printed on the first start only")
		require.Contains(t, again, "demo account exists")
		require.Contains(t, again, "Login:     "+app.DemoAdminEmail)
		require.Contains(t, again, "atendimento admin reset-password --email "+app.DemoAdminEmail)
		require.Contains(t, again, "atendimento api-key create --email "+app.DemoAdminEmail)

		a := openApp(t, cfg)
		srv := httptest.NewServer(a.Handler)
		t.Cleanup(srv.Close)
		require.Equal(t, http.StatusOK, login(t, srv, app.DemoAdminEmail, oldPassword))

		// A generated password: printed, logs in; the old one no longer does.
		var out bytes.Buffer
		require.NoError(t, run(ctx, []string{"admin", "reset-password", "--email", app.DemoAdminEmail}, cfg, discard(), &out))
		password := printed(t, out.String(), "password")
		require.Len(t, password, 16)
		require.Equal(t, http.StatusOK, login(t, srv, app.DemoAdminEmail, password))
		require.Equal(t, http.StatusUnauthorized, login(t, srv, app.DemoAdminEmail, oldPassword))

		// A chosen password is not echoed.
		out.Reset()
		require.NoError(t, run(ctx, []string{"admin", "reset-password", "--email", strings.ToUpper(app.DemoAdminEmail), "--password", "escolhida-123"}, cfg, discard(), &out))
		require.NotContains(t, out.String(), "escolhida-123")
		require.Equal(t, http.StatusOK, login(t, srv, app.DemoAdminEmail, "escolhida-123"))

		// Unknown email, a bad password, a missing --email: clear errors, nothing changed.
		out.Reset()
		err := run(ctx, []string{"admin", "reset-password", "--email", "ninguem@example.com"}, cfg, discard(), &out)
		require.ErrorContains(t, err, `no user with email "ninguem@example.com"`)
		require.Error(t, run(ctx, []string{"admin", "reset-password", "--email", app.DemoAdminEmail, "--password", "curta"}, cfg, discard(), &out))
		var ue usageError
		require.ErrorAs(t, run(ctx, []string{"admin", "reset-password"}, cfg, discard(), &out), &ue)
		require.ErrorAs(t, run(ctx, []string{"admin"}, cfg, discard(), &out), &ue)
		require.Empty(t, out.String())
		require.Equal(t, http.StatusOK, login(t, srv, app.DemoAdminEmail, "escolhida-123"))

		// A new API key, by the admin's email, then by the only account (no flag), then by id.
		out.Reset()
		require.NoError(t, run(ctx, []string{"api-key", "create", "--name", "integração", "--email", app.DemoAdminEmail}, cfg, discard(), &out))
		key := lastLine(out.String())
		require.True(t, strings.HasPrefix(key, "atd_"), out.String())
		require.Equal(t, http.StatusOK, withKey(t, srv, key))
		require.Equal(t, http.StatusUnauthorized, withKey(t, srv, key+"x"))
		p, err := a.Accounts.AuthenticateKey(ctx, key)
		require.NoError(t, err)
		require.Contains(t, out.String(), p.AccountID)
		require.Contains(t, out.String(), "integração")

		out.Reset()
		require.NoError(t, run(ctx, []string{"api-key", "create"}, cfg, discard(), &out))
		require.Equal(t, http.StatusOK, withKey(t, srv, lastLine(out.String())))

		// With a second account, the command needs to be told which.
		out.Reset()
		require.NoError(t, run(ctx, []string{"account", "create", "--name", "Outra", "--admin-email", app.DemoAdminEmail}, cfg, discard(), &out))
		other, err := a.Accounts.AuthenticateKey(ctx, lastLine(out.String()))
		require.NoError(t, err)
		out.Reset()
		require.ErrorContains(t, run(ctx, []string{"api-key", "create"}, cfg, discard(), &out), "several accounts")
		require.ErrorContains(t, run(ctx, []string{"api-key", "create", "--email", app.DemoAdminEmail}, cfg, discard(), &out), "--account")
		require.ErrorContains(t, run(ctx, []string{"admin", "reset-password", "--email", app.DemoAdminEmail}, cfg, discard(), &out), "--account")
		require.ErrorContains(t, run(ctx, []string{"api-key", "create", "--account", "nao-e-um-id"}, cfg, discard(), &out), "no account")
		require.Error(t, run(ctx, []string{"api-key", "create", "--account", "00000000-0000-4000-8000-000000000000"}, cfg, discard(), &out))
		require.Empty(t, out.String())
		require.NoError(t, run(ctx, []string{"api-key", "create", "--account", other.AccountID}, cfg, discard(), &out))
		p2, err := a.Accounts.AuthenticateKey(ctx, lastLine(out.String()))
		require.NoError(t, err)
		require.Equal(t, other.AccountID, p2.AccountID)
		require.Equal(t, http.StatusOK, withKey(t, srv, lastLine(out.String())))

		out.Reset()
		require.NoError(t, run(ctx, []string{"admin", "reset-password", "--email", app.DemoAdminEmail, "--account", p.AccountID}, cfg, discard(), &out))
		require.Equal(t, http.StatusOK, login(t, srv, app.DemoAdminEmail, printed(t, out.String(), "password")))
	})
}
