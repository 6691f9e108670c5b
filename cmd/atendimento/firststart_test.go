package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/api"
	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/store"
)

// serveInBackground runs `atendimento serve args…` until it logs that it listens (or ends), and
// returns a stop that cancels it, requires a clean end and gives its standard output and logs.
func serveInBackground(t *testing.T, cfg app.Config, args ...string) (stop func() (stdout, logs string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var out bytes.Buffer
	buf := &apptest.SyncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), cfg, slog.New(slog.NewJSONHandler(buf, nil)), &out)
	}()
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			done <- err
			return true
		default:
		}
		return strings.Contains(buf.String(), `"msg":"listening"`)
	}, 30*time.Second, 10*time.Millisecond)
	return func() (string, string) {
		cancel()
		require.NoError(t, <-done, buf.String())
		return out.String(), buf.String()
	}
}

// serveOnce runs `serve` until it listens, stops it and returns its standard output and logs.
func serveOnce(t *testing.T, cfg app.Config, args ...string) (stdout, logs string) {
	t.Helper()
	return serveInBackground(t, cfg, args...)()
}

// TestServeBootstrapLeadsToConnectANumber: a server bootstrapped with BOOTSTRAP_* has an account
// but no WhatsApp number, so each start says how to connect one, with the real login, API route,
// request fields and webhook path, on PUBLIC_URL; once a whatsapp_cloud channel exists it is
// quiet.
func TestServeBootstrapLeadsToConnectANumber(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, url string) {
		cfg := bootstrapConfig(url)
		cfg.PublicURL = "https://atendimento.example.com"
		out, logs := serveOnce(t, cfg)

		require.Contains(t, out, "no WhatsApp number is connected yet")
		require.Contains(t, out, "Open https://atendimento.example.com/ and log in as dono@loja.example")
		require.Contains(t, out, "https://atendimento.example.com/api/v1/channels")
		require.Contains(t, out, `"provider": "whatsapp_cloud"`)
		require.Contains(t, out, "https://atendimento.example.com/webhooks/whatsapp/{channel_id}")
		require.Contains(t, out, `"Authorization: Bearer $BOOTSTRAP_API_KEY"`)
		require.NotContains(t, out, "PUBLIC_URL is not set")
		require.NotContains(t, out, cfg.BootstrapAPIKey, "secrets are named, never printed")
		require.NotContains(t, out, cfg.BootstrapAdminPassword)

		var line struct {
			Msg        string `json:"msg"`
			Webhook    string `json:"webhook_callback_url"`
			Create     string `json:"create_channel"`
			AdminEmail string `json:"admin_email"`
		}
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, "no WhatsApp number connected yet") {
				require.NoError(t, json.Unmarshal([]byte(l), &line))
			}
		}
		require.Equal(t, "https://atendimento.example.com/webhooks/whatsapp/{channel_id}", line.Webhook, logs)
		require.Equal(t, "POST https://atendimento.example.com/api/v1/channels", line.Create)
		require.Equal(t, cfg.BootstrapAdminEmail, line.AdminEmail)

		// The curl body is a ChannelRequest, field for field.
		start := strings.Index(out, "-d '")
		end := strings.Index(out[start+4:], "'")
		require.True(t, start > 0 && end > 0, out)
		dec := json.NewDecoder(strings.NewReader(out[start+4 : start+4+end]))
		dec.DisallowUnknownFields()
		var req api.ChannelRequest
		require.NoError(t, dec.Decode(&req))
		require.Equal(t, channel.ProviderWhatsAppCloud, *req.Provider)

		// The routes named are the server's.
		a := openApp(t, cfg)
		routes := map[string]bool{}
		for _, r := range a.Handler.Routes() {
			routes[r.Method+" "+r.Path] = true
		}
		require.True(t, routes["POST /api/v1/channels"], "%v", routes)
		require.True(t, routes["POST /webhooks/whatsapp/:channel_id"])
		require.True(t, routes["GET /webhooks/whatsapp/:channel_id"], "Meta's verification request")

		// A sandbox channel is no WhatsApp number: still not connected.
		ctx := store.WithAccount(context.Background(), accountOf(t, a, cfg))
		s := func(v string) *string { return &v }
		_, err := a.Channels.Create(ctx, channel.Input{Name: s("Teste"), Provider: s(channel.ProviderSandbox), PhoneNumber: s("+55 11 4000-1234")})
		require.NoError(t, err)
		out, _ = serveOnce(t, cfg)
		require.Contains(t, out, "no WhatsApp number is connected yet")

		_, err = a.Channels.Create(ctx, channel.Input{Name: s("WhatsApp"), Provider: s(channel.ProviderWhatsAppCloud),
			PhoneNumber: s("+55 11 94000-0000"), PhoneNumberID: s("106540352242922"), WABAID: s("102290129340398"),
			AccessToken: s("token"), AppSecret: s("app-secret"), VerifyToken: s("verify")})
		require.NoError(t, err)
		out, logs = serveOnce(t, cfg)
		require.NotContains(t, out, "no WhatsApp number")
		require.NotContains(t, logs, "no WhatsApp number")
	})
}

// Without PUBLIC_URL the steps use the local address and ask for PUBLIC_URL.
func TestServeConnectANumberWithoutPublicURL(t *testing.T) {
	t.Parallel()
	cfg := bootstrapConfig(t.TempDir() + "/atendimento.db")
	cfg.HTTPAddr = ":0"
	cfg.BootstrapAPIKey = ""
	out, _ := serveOnce(t, cfg)
	require.Contains(t, out, "Open http://localhost:0/ and log in as dono@loja.example")
	require.Contains(t, out, "http://localhost:0/webhooks/whatsapp/{channel_id}")
	require.Contains(t, out, "$ATENDIMENTO_API_KEY")
	require.Contains(t, out, "PUBLIC_URL is not set")
}

func accountOf(t *testing.T, a *app.App, cfg app.Config) string {
	t.Helper()
	p, err := a.Accounts.AuthenticateKey(context.Background(), cfg.BootstrapAPIKey)
	require.NoError(t, err)
	return p.AccountID
}
