package e2e

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// eachCloudOpts is eachCloudWith with the app test options (a log level).
func eachCloudOpts(t *testing.T, opts apptest.Options, fn func(t *testing.T, c *cloud)) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fake := whatsapptest.NewFake(t)
			fake.SetAccessToken(token)
			configure := opts.Configure
			o := opts
			o.Configure = func(cfg *app.Config) {
				if configure != nil {
					configure(cfg)
				}
				cfg.WhatsAppAPIBaseURL = fake.URL
			}
			fn(t, setupCloud(t, fake, apptest.New(t, e.Open(t), o)))
		})
	}
}

// scrape reads /metrics as a scraper with the token would: series (name and labels exactly as
// the text format writes them, labels sorted) to value.
func (c *cloud) scrape(t *testing.T, token string) map[string]float64 {
	t.Helper()
	r := c.Client("").WithHeader("Authorization", "Bearer "+token).Get("/metrics")
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(r.Body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, line)
		out[line[:i]] = v
	}
	return out
}

// TestMetricsAfterAFlow runs what an operator watches — a start sent to Meta, one refused with a
// permanent error, a scheduled start, a signed status webhook and one with a bad signature, an
// open event stream — and reads every figure back from /metrics.
func TestMetricsAfterAFlow(t *testing.T) {
	const scrapeToken = "scrape-token-0123456789"
	opts := apptest.Options{Configure: func(cfg *app.Config) {
		cfg.MetricsToken = scrapeToken
		cfg.MetricsInterval = 20 * time.Millisecond
	}}
	eachCloudOpts(t, opts, func(t *testing.T, c *cloud) {
		ch := c.channelID
		series := func(name string, labels ...string) string {
			return name + "{" + strings.Join(labels, ",") + "}"
		}
		start := time.Now()

		// One start leaves for Meta.
		base := c.fake.Count()
		conv := c.start(t, "11 98765-1001")
		require.True(t, c.fake.WaitFor(base+1, 10*time.Second))
		var wamid string
		waitFor(t, "the send recorded", func() bool {
			m := c.messages(t, conv)
			wamid, _ = m[0]["provider_message_id"].(string)
			return wamid != ""
		})

		// Meta refuses the next one for good.
		c.fake.FailNext(1, http.StatusBadRequest, `{"error":{"message":"(#131026) Message undeliverable","type":"OAuthException",`+
			`"code":131026,"error_data":{"messaging_product":"whatsapp","details":"Message Undeliverable."},"fbtrace_id":"Af1"}}`, nil)
		failed := c.start(t, "11 98765-1002")
		waitFor(t, "the refused start failed", func() bool {
			return c.Admin.Get("/api/v1/conversations/"+failed).Str("status") == "failed"
		})

		// A start scheduled for tomorrow waits in the outbox.
		r := c.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "11 98765-1003"},
			"channel_id": ch, "team_id": c.teamID, "send_type": "scheduled", "scheduled_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
			"template_id": c.named, "parameters": map[string]any{"nome": "Cliente", "atendente": "Ana"}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))

		// A signed status webhook, and one whose signature is wrong.
		require.Equal(t, http.StatusOK, c.webhook(t, status(wamid, "delivered", "5511987651001", time.Now())).Status)
		bad := c.Client("").WithHeader(whatsapp.SignatureHeader, whatsapp.Sign([]byte("{}"), "not-the-app-secret")).
			Post("/webhooks/whatsapp/"+ch, map[string]any{"object": "whatsapp_business_account"})
		require.Equal(t, http.StatusUnauthorized, bad.Status)

		// One event stream open.
		h := http.Header{}
		h.Set("Authorization", "Bearer "+c.Demo.APIKey)
		openStream(t, c.Server.URL, h)

		// The queues are measured in the background: wait for a measure that sees the scheduled
		// start and nothing pending.
		var m map[string]float64
		waitFor(t, "a measure of the outbox", func() bool {
			m = c.scrape(t, scrapeToken)
			return m[series("atendimento_outbox_messages", `status="scheduled"`)] == 1 &&
				m[series("atendimento_outbox_messages", `status="pending"`)] == 0 &&
				m["atendimento_queues_measured_timestamp_seconds"] > 0
		})
		require.Equal(t, 1.0, m[series("atendimento_sends_total", `channel="`+ch+`"`, `provider="whatsapp_cloud"`, `result="sent"`)])
		require.Equal(t, 1.0, m[series("atendimento_sends_total", `channel="`+ch+`"`, `provider="whatsapp_cloud"`, `result="failed"`)])
		require.NotContains(t, m, series("atendimento_sends_total", `channel="`+ch+`"`, `provider="whatsapp_cloud"`, `result="retried"`))
		require.Equal(t, 1.0, m[series("atendimento_provider_errors_total", `channel="`+ch+`"`, `code="131026"`)])
		require.Equal(t, 1.0, m[series("atendimento_provider_request_duration_seconds_count", `outcome="ok"`, `provider="whatsapp_cloud"`)])
		require.Equal(t, 1.0, m[series("atendimento_provider_request_duration_seconds_count", `outcome="error"`, `provider="whatsapp_cloud"`)])
		require.Equal(t, 0.0, m["atendimento_outbox_oldest_due_age_seconds"])
		require.Equal(t, 2.0, m[series("atendimento_webhook_deliveries_total", `channel="`+ch+`"`)])
		require.Equal(t, 1.0, m[series("atendimento_webhook_deliveries_rejected_total", `channel="`+ch+`"`, `reason="bad_signature"`)])
		require.NotContains(t, m, series("atendimento_webhook_deliveries_rejected_total", `channel="`+ch+`"`, `reason="bad_payload"`))
		last := m[series("atendimento_webhook_last_received_timestamp_seconds", `channel="`+ch+`"`)]
		require.GreaterOrEqual(t, last, float64(start.Unix()))
		require.LessOrEqual(t, last, float64(time.Now().Unix()+1))
		require.Equal(t, 1.0, m["atendimento_sse_clients"])
		require.Equal(t, 0.0, m["atendimento_crm_deliveries_pending"])
		require.Contains(t, m, "atendimento_media_fetch_pending", "the media fetch queue is measured with the others")
		require.Equal(t, 0.0, m["atendimento_media_fetch_oldest_due_age_seconds"])
		require.Equal(t, 0.0, m[series("atendimento_crm_delivery_attempts_total", `result="failed"`)])
		// The sandbox channel of the demo sent nothing: no series of its own.
		require.NotContains(t, m, series("atendimento_sends_total", `channel="`+c.Demo.ChannelID+`"`, `provider="sandbox"`, `result="sent"`))
	})
}

// logLine is one JSON log line, with the ids that follow a message.
type logLine struct {
	Msg            string `json:"msg"`
	Level          string `json:"level"`
	RequestID      string `json:"request_id"`
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	Wamid          string `json:"wamid"`
	Method         string `json:"method"`
	Path           string `json:"path"`
	Status         int    `json:"status"`
}

func logLines(t *testing.T, logs string) []logLine {
	t.Helper()
	var out []logLine
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var ll logLine
		require.NoError(t, json.Unmarshal([]byte(l), &ll), l)
		out = append(out, ll)
	}
	return out
}

// TestLogsFollowAMessage starts a conversation, lets the dispatcher send it and posts Meta's
// status webhook for it; the message's id and WhatsApp id are on the send's and the webhook's
// lines, and each request's line has its request id (the one the response names) and the ids
// the handler worked on.
func TestLogsFollowAMessage(t *testing.T) {
	eachCloudOpts(t, apptest.Options{LogLevel: slog.LevelDebug}, func(t *testing.T, c *cloud) {
		base := c.fake.Count()
		r := c.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "11 98765-2001"},
			"channel_id": c.channelID, "team_id": c.teamID, "send_type": "now", "template_id": c.named,
			"parameters": map[string]any{"nome": "Cliente", "atendente": "Ana"}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		startRequest := r.Header.Get("X-Request-ID")
		require.NotEmpty(t, startRequest)
		conv := r.Str("id")
		msgID := r.JSON()["opening_message"].(map[string]any)["id"].(string)
		require.True(t, c.fake.WaitFor(base+1, 10*time.Second))

		var wamid string
		waitFor(t, "the send logged", func() bool {
			for _, l := range logLines(t, c.Logs.String()) {
				if l.Msg == "dispatch: message sent" && l.MessageID == msgID {
					wamid = l.Wamid
					require.Equal(t, conv, l.ConversationID)
					return true
				}
			}
			return false
		})
		require.Equal(t, c.fake.Messages()[len(c.fake.Messages())-1].ID, wamid, "the send's line names Meta's id")

		w := c.webhook(t, status(wamid, "delivered", "5511987652001", time.Now()))
		require.Equal(t, http.StatusOK, w.Status)
		hookRequest := w.Header.Get("X-Request-ID")

		var sawStart, sawStatus, sawHook bool
		for _, l := range logLines(t, c.Logs.String()) {
			switch {
			case l.Msg == "request" && l.RequestID == startRequest:
				sawStart = true
				require.Equal(t, http.MethodPost, l.Method)
				require.Equal(t, "/api/v1/conversations", l.Path)
				require.Equal(t, conv, l.ConversationID, "the start's access line names the conversation")
				require.Equal(t, msgID, l.MessageID, "and its opening message")
			case l.Msg == "webhook: status applied" && l.Wamid == wamid:
				sawStatus = true
				require.Equal(t, msgID, l.MessageID)
				require.Equal(t, conv, l.ConversationID)
				require.Equal(t, hookRequest, l.RequestID, "the webhook's lines carry its request id")
			case l.Msg == "request" && l.RequestID == hookRequest:
				sawHook = true
				require.Equal(t, 200, l.Status)
			}
			if l.Msg == "request" {
				require.NotEmpty(t, l.RequestID, "every request line has its request id: %+v", l)
			}
		}
		require.True(t, sawStart, "the start's request line")
		require.True(t, sawStatus, "the status webhook's line")
		require.True(t, sawHook, "the webhook's request line")
	})
}

// TestMetricsOutboxStuck: with the dispatcher stopped, a start stays pending and the measure
// reports it and the age of the oldest due message, which grows while nothing sends.
func TestMetricsOutboxStuck(t *testing.T) {
	apptest.EachWith(t, apptest.Options{Configure: func(cfg *app.Config) {
		cfg.NoDispatcher = true
		cfg.MetricsInterval = 20 * time.Millisecond
	}}, func(t *testing.T, env *apptest.Env) {
		r := env.Admin.Post("/api/v1/templates", map[string]any{"channel_id": env.Demo.ChannelID, "name": "metricas", "language": "pt_BR",
			"category": "UTILITY", "status": "APPROVED", "parameter_format": "NAMED",
			"components": []map[string]any{{"type": "BODY", "text": "Olá {{nome}}."}}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		r = env.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "11 98765-3001"},
			"channel_id": env.Demo.ChannelID, "team_id": env.Demo.TeamIDs[1], "send_type": "now",
			"template_id": r.Str("id"), "parameters": map[string]any{"nome": "Cliente"}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		c := &cloud{Env: env}
		var first float64
		waitFor(t, "the pending start measured", func() bool {
			m := c.scrape(t, "")
			first = m["atendimento_outbox_oldest_due_age_seconds"]
			return m[`atendimento_outbox_messages{status="pending"}`] == 1 && first > 0
		})
		waitFor(t, "its age growing", func() bool {
			return c.scrape(t, "")["atendimento_outbox_oldest_due_age_seconds"] > first
		})
	})
}
