package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/atendimento/atendimento/api"
	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

// engines runs fn with the DATABASE_URL of a fresh, empty database: an SQLite file always, and a
// Postgres schema when TEST_DATABASE_URL is set.
func engines(t *testing.T, fn func(t *testing.T, databaseURL string)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, filepath.Join(t.TempDir(), "atendimento.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, storetest.PostgresURL(t))
	})
}

func testConfig(databaseURL string) app.Config {
	return app.Config{DatabaseURL: databaseURL, SecretKey: "test-secret-key-0123456789", HTTPAddr: "127.0.0.1:0",
		BootstrapAccountName: "Atendimento", BcryptCost: bcrypt.MinCost, WhatsAppAPIBaseURL: "http://127.0.0.1:1", WhatsAppAPIVersion: "v25.0"}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// openApp opens the database the command used, as a second process would.
func openApp(t *testing.T, cfg app.Config) *app.App {
	t.Helper()
	a, err := app.New(context.Background(), cfg, discard())
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func countAccounts(t *testing.T, a *app.App) int64 {
	t.Helper()
	var n int64
	require.NoError(t, a.DB.Conn(context.Background()).Table("accounts").Count(&n).Error)
	return n
}

// lastLine returns the last non-empty line of the output.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// printed returns the value of a "name: value" line of the output.
func printed(t *testing.T, out, name string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, name+": "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %q line in:\n%s", name, out)
	return ""
}

func TestAccountCreate(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		ctx := context.Background()
		cfg := testConfig(url)

		var out bytes.Buffer
		require.NoError(t, run(ctx, []string{"account", "create", "--name", "X", "--admin-email", "a@x.com"}, cfg, discard(), &out))
		key := lastLine(out.String())
		require.True(t, strings.HasPrefix(key, "atd_"), "the last line is the API key alone: %q", key)
		password := printed(t, out.String(), "password")

		var out2 bytes.Buffer
		require.NoError(t, run(ctx, []string{"account", "create", "--name", "Y Ltda", "--admin-email", "admin@y.com", "--admin-password", "y-password-123"},
			cfg, discard(), &out2))
		key2 := lastLine(out2.String())
		require.NotContains(t, out2.String(), "y-password-123", "a password given on the command line is not echoed")

		a := openApp(t, cfg)
		p, err := a.Accounts.AuthenticateKey(ctx, key)
		require.NoError(t, err)
		require.Equal(t, account.RoleAdmin, p.Role)
		require.NotEmpty(t, p.AccountID)
		acc, err := a.Accounts.Current(store.WithAccount(ctx, p.AccountID))
		require.NoError(t, err)
		require.Equal(t, "X", acc.Name)
		require.Contains(t, out.String(), p.AccountID)

		p2, err := a.Accounts.AuthenticateKey(ctx, key2)
		require.NoError(t, err)
		require.NotEqual(t, p.AccountID, p2.AccountID, "a second company is a second account")
		require.EqualValues(t, 2, countAccounts(t, a))

		// Each admin can log in with its password, into its own account.
		s, err := a.Accounts.Login(ctx, "a@x.com", password)
		require.NoError(t, err)
		require.Equal(t, p.AccountID, s.User.AccountID)
		require.Equal(t, account.RoleAdmin, s.User.Role)
		s2, err := a.Accounts.Login(ctx, "admin@y.com", "y-password-123")
		require.NoError(t, err)
		require.Equal(t, p2.AccountID, s2.User.AccountID)

		// The same admin email in another company is another user of another account.
		var out3 bytes.Buffer
		require.NoError(t, run(ctx, []string{"account", "create", "--name", "Z", "--admin-email", "a@x.com"}, cfg, discard(), &out3))
		p3, err := a.Accounts.AuthenticateKey(ctx, lastLine(out3.String()))
		require.NoError(t, err)
		require.NotEqual(t, p.AccountID, p3.AccountID)
		require.EqualValues(t, 3, countAccounts(t, a))
	})
}

func TestAccountCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		ctx := context.Background()
		cfg := testConfig(url)
		for _, args := range [][]string{
			{"account", "create"},
			{"account", "create", "--name", "X"},
			{"account", "create", "--admin-email", "a@x.com"},
			{"account", "create", "--name", "", "--admin-email", "a@x.com"},
			{"account", "create", "--name", "X", "--admin-email", "a@x.com", "--unknown", "1"},
			{"account"},
			{"account", "delete", "--name", "X"},
		} {
			var out bytes.Buffer
			require.Error(t, run(ctx, args, cfg, discard(), &out), "%v", args)
			require.NotContains(t, out.String(), "atd_", "%v printed a key", args)
		}
		// Invalid values are refused without leaving half an account behind.
		for _, args := range [][]string{
			{"account", "create", "--name", "X", "--admin-email", "not-an-email"},
			{"account", "create", "--name", "X", "--admin-email", "a@x.com", "--admin-password", "short"},
			{"account", "create", "--name", "   ", "--admin-email", "a@x.com"},
		} {
			var out bytes.Buffer
			require.Error(t, run(ctx, args, cfg, discard(), &out), "%v", args)
			require.NotContains(t, out.String(), "atd_", "%v printed a key", args)
		}
		require.EqualValues(t, 0, countAccounts(t, openApp(t, cfg)))
	})
}

func bootstrapConfig(url string) app.Config {
	cfg := testConfig(url)
	cfg.BootstrapAccountName = "Loja Bootstrap"
	cfg.BootstrapAdminEmail = "dono@loja.example"
	cfg.BootstrapAdminPassword = "bootstrap-password-1"
	cfg.BootstrapAPIKey = "atd_bootstrap_key_0123456789abcdef"
	return cfg
}

// checkBootstrapped asserts the database holds exactly the one bootstrapped account, reachable
// with the configured key and admin password.
func checkBootstrapped(t *testing.T, a *app.App, cfg app.Config) {
	t.Helper()
	ctx := context.Background()
	require.EqualValues(t, 1, countAccounts(t, a))
	p, err := a.Accounts.AuthenticateKey(ctx, cfg.BootstrapAPIKey)
	require.NoError(t, err)
	require.Equal(t, account.RoleAdmin, p.Role)
	acc, err := a.Accounts.Current(store.WithAccount(ctx, p.AccountID))
	require.NoError(t, err)
	require.Equal(t, cfg.BootstrapAccountName, acc.Name)
	s, err := a.Accounts.Login(ctx, cfg.BootstrapAdminEmail, cfg.BootstrapAdminPassword)
	require.NoError(t, err)
	require.Equal(t, p.AccountID, s.User.AccountID)
	require.Equal(t, account.RoleAdmin, s.User.Role)
	users, _, err := a.Accounts.ListUsers(store.WithAccount(ctx, p.AccountID), store.Page{})
	require.NoError(t, err)
	require.Len(t, users, 1)
	_, err = a.Accounts.AuthenticateKey(ctx, cfg.BootstrapAPIKey+"x")
	require.Error(t, err)
}

func TestBootstrapOnce(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		ctx := context.Background()
		cfg := bootstrapConfig(url)
		a := openApp(t, cfg)

		first, err := a.Bootstrap(ctx)
		require.NoError(t, err)
		require.NotNil(t, first)
		require.Equal(t, cfg.BootstrapAPIKey, first.APIKey)
		require.Equal(t, cfg.BootstrapAdminEmail, first.AdminEmail)

		again, err := a.Bootstrap(ctx)
		require.NoError(t, err)
		require.Nil(t, again, "a second start must not bootstrap again")
		// A restart (a new App on the same database) does not either, and neither does --demo.
		b := openApp(t, cfg)
		again, err = b.Bootstrap(ctx)
		require.NoError(t, err)
		require.Nil(t, again)
		demo, err := b.Demo(ctx)
		require.NoError(t, err)
		require.Nil(t, demo, "demo data goes only into an empty database")

		checkBootstrapped(t, a, cfg)
		p, err := a.Accounts.AuthenticateKey(ctx, cfg.BootstrapAPIKey)
		require.NoError(t, err)
		require.Equal(t, first.AccountID, p.AccountID)
	})
}

func TestBootstrapConcurrent(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		ctx := context.Background()
		cfg := bootstrapConfig(url)
		// Two server instances starting together on one empty database.
		apps := []*app.App{openApp(t, cfg), openApp(t, cfg)}
		seeded := make([]*app.Seeded, len(apps))
		errs := make([]error, len(apps))
		var wg sync.WaitGroup
		for i, a := range apps {
			wg.Go(func() { seeded[i], errs[i] = a.Bootstrap(ctx) })
		}
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		require.True(t, (seeded[0] == nil) != (seeded[1] == nil), "exactly one instance bootstraps: %v", seeded)
		checkBootstrapped(t, apps[0], cfg)
	})
}

func TestServeBootstrapsAndStops(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		cfg := bootstrapConfig(url)
		stop := serveInBackground(t, cfg)
		a := openApp(t, cfg)
		out, logs := stop()
		require.NotContains(t, out, "demo", "BOOTSTRAP_* set: no demo data")
		require.Contains(t, logs, "bootstrapped the first account")
		require.NotContains(t, logs, cfg.BootstrapAPIKey, "the key is a secret: never logged")
		require.NotContains(t, logs, cfg.BootstrapAdminPassword, "the password is a secret: never logged")
		checkBootstrapped(t, a, cfg)

		// A restart finds the account and changes nothing.
		stop = serveInBackground(t, cfg)
		_, logs = stop()
		require.NotContains(t, logs, "bootstrapped the first account")
		checkBootstrapped(t, a, cfg)
	})
}

// TestServeRefusesBadConfig runs the binary as an operator would with mistyped settings: it
// stops before opening anything, exits non-zero, and its one log line names every bad variable
// with its value, the secret masked.
func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), "ATENDIMENTO_TEST_MAIN=1", "DATABASE_URL="+filepath.Join(dir, "atendimento.db"),
		"HTTP_ADDR=127.0.0.1:0", "DISPATCH_LEASE=10x", "API_KEY_RATE=abc", "API_KEY_BURST=-5", "COOKIE_SECURE=maybe",
		"SECRET_KEY=LEAKCHECK", "LOG_LEVEL=loud")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "stderr: %s", stderr.String())
	require.Equal(t, 1, exit.ExitCode())
	require.Empty(t, stdout.String())
	require.NotContains(t, stderr.String(), "LEAKCHECK")

	var line struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
		Err   string `json:"err"`
	}
	require.NoError(t, json.Unmarshal([]byte(lastLine(stderr.String())), &line), stderr.String())
	require.Equal(t, "ERROR", line.Level)
	require.Equal(t, "invalid configuration: SECRET_KEY=***: must have at least 16 characters; "+
		"COOKIE_SECURE=maybe: not a boolean (1, true, 0 or false); DISPATCH_LEASE=10x: not a duration (such as 30s, 5m or 1h30m); "+
		"API_KEY_RATE=abc: not a number; API_KEY_BURST=-5: must not be negative; LOG_LEVEL=loud: not a log level (debug, info, warn or error)", line.Err)
	_, err = os.Stat(filepath.Join(dir, "atendimento.db"))
	require.ErrorIs(t, err, os.ErrNotExist, "a bad configuration opens no database")
}

// TestLoggerHonoursLevel: main's logger writes from LOG_LEVEL up, and each line carries the ids
// its context holds (the request id the API puts there).
func TestLoggerHonoursLevel(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, slog.LevelWarn)
	ctx := api.WithRequestID(context.Background(), "req-1")
	log.InfoContext(ctx, "request", "status", 200)
	require.Empty(t, buf.String(), "INFO is below LOG_LEVEL=warn")
	log.WarnContext(ctx, "request", "status", 404)
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
	require.Equal(t, "WARN", line["level"])
	require.Equal(t, "req-1", line["request_id"])
}
