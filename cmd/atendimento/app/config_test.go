package app

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

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
		"BOOTSTRAP_ADMIN_EMAIL":    "admin@example.com",
		"API_KEY_RATE":             "7.5",
		"API_KEY_BURST":            "15",
	} {
		t.Setenv(k, v)
	}
	cfg := FromEnv()
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
		for _, want := range []string{"db.internal:5432", "admin@example.com", "graph.facebook.com", "***"} {
			require.Contains(t, line, want, name)
		}
		if name == "json" {
			var got struct {
				Config map[string]any `json:"config"`
			}
			require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
			require.Equal(t, "***", got.Config["secret_key"])
			require.Equal(t, "***", got.Config["bootstrap_api_key"])
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
