package app

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/atendimento/atendimento/internal/crmhook"
	"github.com/atendimento/atendimento/internal/dispatch"
	"github.com/atendimento/atendimento/internal/whatsapp"
)

// metrics are the service's own Prometheus metrics, on the App's registry (each App has its
// own, so parallel test apps never collide). The domain packages know nothing of Prometheus:
// the dispatcher and the CRM webhooks tell their Observer, which this is; the queues are
// measured by a periodic job (measure), so a scrape reads gauges and never queries the tables.
// The HTTP layer keeps its own (requests, webhook deliveries).
type metrics struct {
	sends           *prometheus.CounterVec
	providerErrors  *prometheus.CounterVec
	providerLatency *prometheus.HistogramVec
	outboxDepth     *prometheus.GaugeVec
	oldestDue       prometheus.Gauge
	crmPending      prometheus.Gauge
	crmAttempts     *prometheus.CounterVec
	measuredAt      prometheus.Gauge
	mediaPending    prometheus.Gauge
	mediaOldestDue  prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, sseClients func() int) *metrics {
	m := &metrics{
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atendimento_sends_total",
			Help: "Send attempts of outbound messages by channel id, provider (whatsapp_cloud, sandbox) and result (sent, failed, retried)."}, []string{"channel", "provider", "result"}),
		providerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atendimento_provider_errors_total",
			Help: "Provider refusals by channel id and Meta error code (a known code, \"other\", or \"none\" when no answer came)."}, []string{"channel", "code"}),
		providerLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "atendimento_provider_request_duration_seconds",
			Help:    "Latency of the provider's send API by provider and outcome (ok, error).",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20}}, []string{"provider", "outcome"}),
		outboxDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "atendimento_outbox_messages",
			Help: "Outbound messages waiting to be sent, by status (pending, scheduled), as of the last measure."}, []string{"status"}),
		oldestDue: prometheus.NewGauge(prometheus.GaugeOpts{Name: "atendimento_outbox_oldest_due_age_seconds",
			Help: "How long the oldest due, sendable outbound message has waited past its due time (0: none), as of the last measure."}),
		crmPending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "atendimento_crm_deliveries_pending",
			Help: "CRM webhook deliveries waiting for an attempt, as of the last measure."}),
		crmAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atendimento_crm_delivery_attempts_total",
			Help: "CRM webhook delivery attempts by result (succeeded, retried, failed: the last attempt failed)."}, []string{"result"}),
		mediaPending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "atendimento_media_fetch_pending",
			Help: "Inbound files waiting to be fetched from WhatsApp (due now or at a retry), as of the last measure."}),
		mediaOldestDue: prometheus.NewGauge(prometheus.GaugeOpts{Name: "atendimento_media_fetch_oldest_due_age_seconds",
			Help: "How long the oldest due inbound file has waited to be fetched (0: none), as of the last measure."}),
		measuredAt: prometheus.NewGauge(prometheus.GaugeOpts{Name: "atendimento_queues_measured_timestamp_seconds",
			Help: "When the outbox and CRM delivery gauges were last measured (Unix seconds)."}),
	}
	reg.MustRegister(m.sends, m.providerErrors, m.providerLatency, m.outboxDepth, m.oldestDue, m.crmPending, m.crmAttempts, m.measuredAt,
		m.mediaPending, m.mediaOldestDue,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "atendimento_sse_clients",
			Help: "Event streams (GET /api/v1/events) open on this instance."}, func() float64 { return float64(sseClients()) }))
	for _, r := range []string{crmhook.AttemptSucceeded, crmhook.AttemptRetried, crmhook.AttemptFailed} {
		m.crmAttempts.WithLabelValues(r) // present at 0, so rate() works from the first failure
	}
	return m
}

// ObserveSend counts a send attempt; the error code is a label only when it is one of the codes
// the WhatsApp client knows (a bounded set), so no provider answer can grow the series.
func (m *metrics) ObserveSend(o dispatch.Outcome) {
	provider := o.Provider
	if provider == "" {
		provider = "unknown"
	}
	m.sends.WithLabelValues(o.ChannelID, provider, o.Result).Inc()
	if !o.Requested {
		return
	}
	outcome := "ok"
	if o.Result != dispatch.ResultSent {
		outcome = "error"
		code := "other"
		switch {
		case o.Code == 0:
			code = "none"
		case whatsapp.KnownCode(o.Code):
			code = strconv.Itoa(o.Code)
		}
		m.providerErrors.WithLabelValues(o.ChannelID, code).Inc()
	}
	m.providerLatency.WithLabelValues(provider, outcome).Observe(o.Took.Seconds())
}

// ObserveDelivery counts a CRM webhook delivery attempt.
func (m *metrics) ObserveDelivery(result string) { m.crmAttempts.WithLabelValues(result).Inc() }

// measure reads the outbox's depth and oldest due message and the CRM deliveries pending, each
// one bounded indexed query (see conversation.OutboxStats, crmhook.Service.Pending).
func (a *App) measure(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := a.Conversations.OutboxStats(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.Log.Warn("metrics: measure the outbox", "err", err.Error())
		}
		return
	}
	for status, n := range st.Depth {
		a.metrics.outboxDepth.WithLabelValues(string(status)).Set(float64(n))
	}
	age := 0.0
	if st.OldestDue != nil {
		age = max(0, a.clock.Now().Sub(*st.OldestDue).Seconds())
	}
	a.metrics.oldestDue.Set(age)
	pending, err := a.CRMHooks.Pending(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.Log.Warn("metrics: measure the CRM deliveries", "err", err.Error())
		}
		return
	}
	a.metrics.crmPending.Set(float64(pending))
	fetching, oldest, err := a.Media.QueueStats(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.Log.Warn("metrics: measure the media fetch queue", "err", err.Error())
		}
		return
	}
	a.metrics.mediaPending.Set(float64(fetching))
	fetchAge := 0.0
	if oldest != nil {
		fetchAge = max(0, a.clock.Now().Sub(*oldest).Seconds())
	}
	a.metrics.mediaOldestDue.Set(fetchAge)
	a.metrics.measuredAt.Set(float64(a.clock.Now().Unix()))
}

var (
	_ dispatch.Observer = (*metrics)(nil)
	_ crmhook.Observer  = (*metrics)(nil)
)
