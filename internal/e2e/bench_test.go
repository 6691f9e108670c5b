package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// Figures for the closing notes, not pass/fail tests. Run:
//
//	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -run '^$' -bench . -benchtime 1x ./internal/e2e

func benchEngines(b *testing.B, fn func(b *testing.B, e storetest.Engine)) {
	for _, e := range storetest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) { fn(b, e) })
	}
}

// fakeCeiling measures how many sends/s the fake itself takes from 32 concurrent clients.
func fakeCeiling(b *testing.B, f *whatsapptest.Fake, n int) float64 {
	body := []byte(`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511999990000","type":"text","text":{"preview_url":false,"body":"x"}}`)
	var wg sync.WaitGroup
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	start := time.Now()
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				req, _ := http.NewRequest(http.MethodPost, f.URL+"/v25.0/"+pnid+"/messages", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkDispatchThroughput: 10,000 queued messages across 1,000 conversations, released at
// once; messages/s reaching the fake provider, beside the fake's own ceiling.
func BenchmarkDispatchThroughput(b *testing.B) {
	benchEngines(b, func(b *testing.B, e storetest.Engine) {
		for range b.N {
			b.StopTimer()
			fake := whatsapptest.NewFake(b)
			fake.SetAccessToken(token)
			env := apptest.New(b, e.Open(b), apptest.Options{Configure: func(cfg *app.Config) {
				cfg.WhatsAppAPIBaseURL = fake.URL
				cfg.Dispatch.ChannelRate = 1e6
				cfg.NoDispatcher = true
			}})
			want := seedInto(b, env, 1000, 9)
			ceiling := fakeCeiling(b, fake, 5000)
			base := fake.Count()
			b.StartTimer()
			start := time.Now()
			env.App.Config.NoDispatcher = false
			env.App.Start(context.Background())
			require.True(b, fake.WaitFor(base+want, 5*time.Minute))
			elapsed := time.Since(start)
			env.App.Stop()
			rate := float64(want) / elapsed.Seconds()
			b.ReportMetric(rate, "msgs/s")
			b.ReportMetric(ceiling, "fake-ceiling-msgs/s")
			b.ReportMetric(rate/ceiling, "ratio")
		}
	})
}

// seedInto writes convs started conversations with perConv queued texts each, released by a
// reply, through the services (the dispatcher is stopped).
func seedInto(b *testing.B, env *apptest.Env, convs, perConv int) int {
	c := setupCloud(b, nil, env)
	return fillBacklog(b, env.App, env.Ctx(), c.channelID, c.teamID, c.named, json.RawMessage(`{"nome":"Cliente","atendente":"Ana"}`), convs, perConv)
}

// BenchmarkWebhookToFirstRelease: a signed inbound webhook → the first queued message of that
// conversation accepted by the fake provider; p50/p99 over 200 conversations, beside one HTTP
// round trip to the fake.
func BenchmarkWebhookToFirstRelease(b *testing.B) {
	benchEngines(b, func(b *testing.B, e storetest.Engine) {
		for range b.N {
			b.StopTimer()
			fake := whatsapptest.NewFake(b)
			fake.SetAccessToken(token)
			env := apptest.New(b, e.Open(b), apptest.Options{Configure: func(cfg *app.Config) {
				cfg.WhatsAppAPIBaseURL = fake.URL
				cfg.Dispatch.ChannelRate = 1e6
			}})
			c := setupCloud(b, fake, env)
			const n = 200
			phones := make([]string, n)
			for i := range n {
				phones[i] = fmt.Sprintf("5511%d%04d", 96000+i/10000, i)
				id := c.startB(b, "+"+phones[i])
				c.postB(b, id, "first-"+phones[i])
			}
			require.True(b, fake.WaitFor(n, time.Minute))
			rtt := make([]time.Duration, 50)
			for i := range rtt {
				t0 := time.Now()
				fakeCeiling(b, fake, 1)
				rtt[i] = time.Since(t0)
			}
			b.StartTimer()
			lat := make([]time.Duration, n)
			for i, p := range phones {
				before := fake.Count()
				t0 := time.Now()
				c.webhookB(b, inbound(p, "wamid.bench."+p, "oi", time.Now()))
				require.True(b, fake.WaitFor(before+1, 10*time.Second))
				msgs := fake.Messages()
				lat[i] = msgs[len(msgs)-1].Time.Sub(t0)
			}
			b.ReportMetric(pct(lat, 50), "p50-ms")
			b.ReportMetric(pct(lat, 99), "p99-ms")
			b.ReportMetric(pct(rtt, 50), "fake-rtt-p50-ms")
		}
	})
}

func pct(d []time.Duration, p int) float64 {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[(len(s)-1)*p/100].Microseconds()) / 1000
}

func (c *cloud) startB(b *testing.B, phone string) string {
	r := c.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": phone},
		"channel_id": c.channelID, "team_id": c.teamID, "send_type": "now", "template_id": c.named,
		"parameters": map[string]any{"nome": "Cliente", "atendente": "Ana"}})
	require.Equal(b, http.StatusCreated, r.Status, string(r.Body))
	return r.Str("id")
}

func (c *cloud) postB(b *testing.B, id, text string) {
	require.Equal(b, http.StatusCreated, c.Admin.Post("/api/v1/conversations/"+id+"/messages", map[string]any{"text": text}).Status)
}

func (c *cloud) webhookB(b *testing.B, value map[string]any) {
	body, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": waba,
		"changes": []any{map[string]any{"field": "messages", "value": value}}}}})
	r := c.Client("").WithHeader(whatsapp.SignatureHeader, whatsapp.Sign(body, appSecret)).Post("/webhooks/whatsapp/"+c.channelID, body)
	require.Equal(b, http.StatusOK, r.Status)
}
