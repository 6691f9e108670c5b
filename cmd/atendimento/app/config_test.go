package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestConfigLogMasksSecrets logs the configuration the way `serve` does at start, in both of
// slog's formats, and checks that no secret is in the line while the settings an operator needs
// to see are.
func TestConfigLogMasksSecrets(t *testing.T) {
	for k, v := range map[string]string{
		"DATABASE_URL":             "postgres://atendimento:LEAKCHECK-db-password@db.internal:5432/atendimento?sslmode=require",
		"SECRET_KEY":               "LEAKCHECK-secret-key-0123456789abcdef",
		"BOOTSTRAP_API_KEY":        "atd_LEAKCHECK-bootstrap-api-key",
		"BOOTSTRAP_ADMIN_PASSWORD": "LEAKCHECK-admin-password",
		"METRICS_TOKEN":            "LEAKCHECK-metrics-token",
		"BOOTSTRAP_ADMIN_EMAIL":    "admin@example.com",
		"API_KEY_RATE":             "7.5",
		"API_KEY_BURST":            "15",
		"PUBLIC_URL":               "https://atendimento.example.com",
	} {
		t.Setenv(k, v)
	}
	cfg, err := FromEnv()
	require.NoError(t, err)
	require.Equal(t, 7.5, cfg.APIKeyRate)
	require.Equal(t, 15, cfg.APIKeyBurst)

	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(newHandler(&buf)).Info("starting", "config", cfg)
		line := buf.String()
		require.NotContains(t, line, "LEAKCHECK", "%s: %s", name, line)
		for _, want := range []string{"db.internal:5432", "admin@example.com", "graph.facebook.com", "***", "https://atendimento.example.com"} {
			require.Contains(t, line, want, name)
		}
		if name == "json" {
			var got struct {
				Config map[string]any `json:"config"`
			}
			require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
			require.Equal(t, "***", got.Config["secret_key"])
			require.Equal(t, "***", got.Config["bootstrap_api_key"])
			require.Equal(t, "***", got.Config["metrics_token"])
			require.Equal(t, "postgres://atendimento:***@db.internal:5432/atendimento?sslmode=require", got.Config["database"])
			require.InDelta(t, 7.5, got.Config["api_key_rate"], 0)
		}
	}

	// A password in the query string (libpq reads it there too) or with URL-escaped characters,
	// and URLs that do not parse.
	for in, want := range map[string]string{
		"postgres://u@db:5432/x?sslmode=disable&password=LEAKCHECK-q":  "postgres://u@db:5432/x?password=%2A%2A%2A&sslmode=disable",
		"postgresql://u:LEAKCHECK%40pw%3A@db/x":                        "postgresql://u:***@db/x",
		"postgres://u:LEAKCHECK-pw@db/x?sslpassword=LEAKCHECK-ssl&a=1": "postgres://u:***@db/x?a=1&sslpassword=%2A%2A%2A",
		"postgres://u:LEAKCHECK pw@db:notaport/x":                      "***",
		"data/atendimento.db":                                          "data/atendimento.db",
	} {
		require.Equal(t, want, maskURL(in), in)
	}

	// Unset secrets log as empty, not as "***" (an operator can tell the difference).
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", Config{})
	require.Contains(t, buf.String(), `"secret_key":""`)
	require.True(t, strings.Contains(buf.String(), `"database":"sqlite:`), buf.String())
}

// TestFromEnv reads the variables that have a type: unset or empty takes the default, a good
// value is used, and every bad value is reported at once, by name and value, never a secret's.
func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c Config)
		// problems are the ConfigError's problems, in FromEnv's order; none means no error.
		problems []string
	}{
		{
			name: "defaults",
			check: func(t *testing.T, c Config) {
				require.Equal(t, 15*time.Minute, c.TemplateSyncInterval)
				require.Equal(t, 72*time.Hour, c.WaitingTimeout)
				require.Equal(t, 15*time.Second, c.RequestTimeout)
				require.Equal(t, 50.0, c.APIKeyRate)
				require.Equal(t, 100, c.APIKeyBurst)
				require.False(t, c.SecureCookies)
				require.False(t, c.Webhooks.AllowPrivate)
				require.Zero(t, c.Dispatch)
				require.Equal(t, slog.LevelInfo, c.LogLevel)
				require.Empty(t, c.MetricsToken)
				require.Equal(t, 15*time.Second, c.MetricsInterval)
			},
		},
		{
			name: "empty is unset",
			env:  map[string]string{"DISPATCH_LEASE": "", "API_KEY_RATE": "", "COOKIE_SECURE": "", "SECRET_KEY": ""},
			check: func(t *testing.T, c Config) {
				require.Zero(t, c.Dispatch.Lease)
				require.Equal(t, 50.0, c.APIKeyRate)
			},
		},
		{
			name: "good values",
			env: map[string]string{"DISPATCH_WORKERS": "4", "DISPATCH_LEASE": "10s", "DISPATCH_POLL": "250ms", "CHANNEL_RATE": "12.5",
				"DISPATCH_MAX_ATTEMPTS": "3", "TEMPLATE_SYNC_INTERVAL": "0", "WAITING_TIMEOUT": "1h30m", "REQUEST_TIMEOUT": "2s",
				"API_KEY_RATE": "0", "API_KEY_BURST": "7", "COOKIE_SECURE": "true", "WEBHOOK_ALLOW_PRIVATE": "1",
				"SECRET_KEY": "0123456789abcdef", "LOG_LEVEL": "WARN", "METRICS_TOKEN": "scrape-token", "METRICS_INTERVAL": "1m"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, slog.LevelWarn, c.LogLevel)
				require.Equal(t, "scrape-token", c.MetricsToken)
				require.Equal(t, time.Minute, c.MetricsInterval)
				require.Equal(t, 4, c.Dispatch.Workers)
				require.Equal(t, 10*time.Second, c.Dispatch.Lease)
				require.Equal(t, 250*time.Millisecond, c.Dispatch.Poll)
				require.Equal(t, 12.5, c.Dispatch.ChannelRate)
				require.Equal(t, 3, c.Dispatch.MaxAttempts)
				require.Zero(t, c.TemplateSyncInterval)
				require.Equal(t, 90*time.Minute, c.WaitingTimeout)
				require.Equal(t, 2*time.Second, c.RequestTimeout)
				require.Zero(t, c.APIKeyRate)
				require.Equal(t, 7, c.APIKeyBurst)
				require.True(t, c.SecureCookies)
				require.True(t, c.Webhooks.AllowPrivate)
			},
		},
		{
			name: "booleans off",
			env:  map[string]string{"COOKIE_SECURE": "0", "WEBHOOK_ALLOW_PRIVATE": "false"},
			check: func(t *testing.T, c Config) {
				require.False(t, c.SecureCookies)
				require.False(t, c.Webhooks.AllowPrivate)
			},
		},
		{
			name: "public url",
			env:  map[string]string{"PUBLIC_URL": "https://atendimento.example.com/"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "https://atendimento.example.com", c.PublicURL, "the trailing slash is dropped")
			},
		},
		{
			name: "public url with a port and a path",
			env:  map[string]string{"PUBLIC_URL": "http://10.0.0.5:8080/atendimento"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "http://10.0.0.5:8080/atendimento", c.PublicURL)
			},
		},
		{
			name: "bad public urls",
			env:  map[string]string{"PUBLIC_URL": "atendimento.example.com"},
			problems: []string{
				"PUBLIC_URL=atendimento.example.com: not an absolute http(s) URL such as https://atendimento.example.com",
			},
		},
		{
			name:     "public url with another scheme",
			env:      map[string]string{"PUBLIC_URL": "ftp://atendimento.example.com"},
			problems: []string{"PUBLIC_URL=ftp://atendimento.example.com: not an absolute http(s) URL such as https://atendimento.example.com"},
		},
		{
			name:     "public url with a query",
			env:      map[string]string{"PUBLIC_URL": "https://atendimento.example.com/?x=1"},
			problems: []string{"PUBLIC_URL=https://atendimento.example.com/?x=1: not an absolute http(s) URL such as https://atendimento.example.com"},
		},
		{
			name: "log levels",
			env:  map[string]string{"LOG_LEVEL": "debug"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, slog.LevelDebug, c.LogLevel)
			},
		},
		{
			name:     "mistyped log level",
			env:      map[string]string{"LOG_LEVEL": "verbose"},
			problems: []string{"LOG_LEVEL=verbose: not a log level (debug, info, warn or error)"},
		},
		{
			name:     "mistyped duration",
			env:      map[string]string{"DISPATCH_LEASE": "10x"},
			problems: []string{"DISPATCH_LEASE=10x: not a duration (such as 30s, 5m or 1h30m)"},
		},
		{
			name: "every bad variable at once",
			env: map[string]string{"DISPATCH_LEASE": "10x", "DISPATCH_POLL": "5", "API_KEY_RATE": "abc", "API_KEY_BURST": "-1",
				"WAITING_TIMEOUT": "-1h", "CHANNEL_RATE": "-80", "DISPATCH_WORKERS": "4.5", "COOKIE_SECURE": "maybe",
				"WEBHOOK_ALLOW_PRIVATE": "yes please", "SECRET_KEY": "LEAKCHECK", "PUBLIC_URL": "https://"},
			problems: []string{
				"PUBLIC_URL=https://: not an absolute http(s) URL such as https://atendimento.example.com",
				"SECRET_KEY=***: must have at least 16 characters",
				"COOKIE_SECURE=maybe: not a boolean (1, true, 0 or false)",
				`WEBHOOK_ALLOW_PRIVATE="yes please": not a boolean (1, true, 0 or false)`,
				"DISPATCH_WORKERS=4.5: not a whole number",
				"DISPATCH_LEASE=10x: not a duration (such as 30s, 5m or 1h30m)",
				"DISPATCH_POLL=5: not a duration (such as 30s, 5m or 1h30m)",
				"CHANNEL_RATE=-80: must not be negative",
				"WAITING_TIMEOUT=-1h: must not be negative",
				"API_KEY_RATE=abc: not a number",
				"API_KEY_BURST=-1: must not be negative",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range EnvVars() {
				t.Setenv(k, tc.env[k])
			}
			c, err := FromEnv()
			if len(tc.problems) == 0 {
				require.NoError(t, err)
				tc.check(t, c)
				return
			}
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "%v", err)
			require.Equal(t, tc.problems, ce.Problems)
			require.Equal(t, "invalid configuration: "+strings.Join(tc.problems, "; "), err.Error())
			require.NotContains(t, err.Error(), "LEAKCHECK")
		})
	}
}

// TestEnvVars: the list the deployment files are checked against is what FromEnv reads, each
// name once.
func TestEnvVars(t *testing.T) {
	vars := EnvVars()
	require.Contains(t, vars, "DATABASE_URL")
	require.Contains(t, vars, "PUBLIC_URL")
	require.Contains(t, vars, "API_KEY_BURST")
	seen := map[string]bool{}
	for _, v := range vars {
		require.False(t, seen[v], "%s read twice", v)
		seen[v] = true
	}
	// A variable outside the list changes nothing; each one in it is read.
	_, keys, err := fromEnv(func(k string) string {
		if k == "SECRET_KEY" {
			return "0123456789abcdef"
		}
		return ""
	})
	require.NoError(t, err)
	require.Equal(t, vars, keys)
}
