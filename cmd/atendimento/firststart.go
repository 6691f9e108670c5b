package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
)

// baseURL is where a person or Meta reaches this server: PUBLIC_URL, or else the local listen
// address (good for a browser on the same machine, not for Meta's webhooks).
func baseURL(cfg app.Config) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL
	}
	addr := cfg.HTTPAddr
	if addr != "" && addr[0] == ':' {
		addr = "localhost" + addr
	}
	return "http://" + addr
}

// printConnectNumber tells the operator of a bootstrapped server with no WhatsApp number what to
// do next: one log line (for `docker compose logs`) and the steps on standard output. It is
// printed at every start until a whatsapp_cloud channel exists.
func printConnectNumber(w io.Writer, log *slog.Logger, cfg app.Config) {
	base := baseURL(cfg)
	webhook := base + "/webhooks/whatsapp/{channel_id}"
	log.Info("no WhatsApp number connected yet: create a whatsapp_cloud channel with POST /api/v1/channels, then set its webhook in Meta",
		"public_url", cfg.PublicURL, "login", base+"/", "admin_email", cfg.BootstrapAdminEmail,
		"create_channel", "POST "+base+"/api/v1/channels", "webhook_callback_url", webhook)
	login := "an admin"
	if cfg.BootstrapAdminEmail != "" {
		login = cfg.BootstrapAdminEmail + " (the password is BOOTSTRAP_ADMIN_PASSWORD)"
	}
	key := "$ATENDIMENTO_API_KEY"
	if cfg.BootstrapAPIKey != "" {
		key = "$BOOTSTRAP_API_KEY"
	}
	fmt.Fprintf(w, `
Atendimento is starting, but no WhatsApp number is connected yet. Next:
  1. Open %s/ and log in as %s.
  2. Connect your number in Configurações > Canais > "Conectar número do WhatsApp", which explains
     each field; or create a whatsapp_cloud channel with the ids and secrets of your Meta app
     (WhatsApp > API Setup) with an admin API key:

     curl -H "Authorization: Bearer %s" -H 'Content-Type: application/json' \
       %s/api/v1/channels -d '{"name": "WhatsApp", "provider": "whatsapp_cloud",
       "phone_number": "+5511940000000", "phone_number_id": "…", "waba_id": "…",
       "access_token": "…", "app_secret": "…", "verify_token": "a-random-string-you-choose"}'

  3. In Meta's app dashboard (WhatsApp > Configuration), set the callback URL to
       %s
     with the channel's id from step 2 and the same verify_token (the Canais screen shows both),
     and subscribe to "messages".
`, base, login, key, base, webhook)
	if cfg.PublicURL == "" {
		fmt.Fprintln(w, "  PUBLIC_URL is not set: Meta needs the public https address of this server; set PUBLIC_URL to it.")
	}
	fmt.Fprintln(w)
}
