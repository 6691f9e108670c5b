package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// chaos scripts the fake Graph API: each send draws 500s, 429s with Retry-After, resets before
// and after acceptance, and slow answers at fixed rates, at most twice per message (so the
// dispatcher's attempts never run out on chance alone); a few messages fail permanently and one
// fails transiently forever.
// chaosEvent is one request for a message and what the fake answered.
type chaosEvent struct {
	at      time.Time
	outcome string
}

type chaos struct {
	mu       sync.Mutex
	rng      *rand.Rand
	failures map[string]int          // per message key, the failures drawn so far
	counts   map[string]int          // outcome → requests
	log      map[string][]chaosEvent // per message key, its requests in order
	perm     func(text string) bool
	doomed   string
}

func (ch *chaos) respond(req whatsapptest.Request) *whatsapptest.Response {
	if req.Method != http.MethodPost {
		return nil
	}
	var b struct {
		To   string
		Type string
		Text struct{ Body string }
	}
	_ = json.Unmarshal(req.Body, &b)
	key := b.To + "|" + b.Type + "|" + b.Text.Body
	ch.mu.Lock()
	outcome, r := "ok", ch.rng.Float64()
	switch {
	case b.Type == "text" && b.Text.Body == ch.doomed:
		outcome = "500 forever"
	case b.Type == "text" && ch.perm(b.Text.Body):
		outcome = "permanent 131026"
	case ch.failures[key] >= 2:
	case r < 0.08:
		outcome = "500"
	case r < 0.14:
		outcome = "429 Retry-After"
	case r < 0.19:
		outcome = "reset before accept"
	case r < 0.24:
		outcome = "reset after accept"
	case r < 0.32:
		outcome = "slow"
	}
	if outcome != "ok" && outcome != "slow" {
		ch.failures[key]++
	}
	ch.counts[outcome]++
	ch.log[key] = append(ch.log[key], chaosEvent{time.Now(), outcome})
	slow := time.Duration(100+ch.rng.IntN(300)) * time.Millisecond
	ch.mu.Unlock()

	switch outcome {
	case "500", "500 forever":
		return &whatsapptest.Response{Status: 500, Body: `<html><body>Internal Server Error</body></html>`}
	case "429 Retry-After":
		return &whatsapptest.Response{Status: 429, Body: whatsapptest.ErrorBody(130429, "Rate limit hit", "throughput"), Headers: map[string]string{"Retry-After": "1"}}
	case "reset before accept":
		return &whatsapptest.Response{Hangup: true}
	case "reset after accept":
		return &whatsapptest.Response{AcceptThenHangup: true}
	case "permanent 131026":
		return &whatsapptest.Response{Status: 400, Body: whatsapptest.ErrorBody(131026, "Message Undeliverable", "the recipient is not on WhatsApp")}
	case "slow":
		// A real wait: a slow provider is what is simulated here (the dispatcher's sends
		// overlap it and must keep each conversation's order); it waits for nothing.
		time.Sleep(slow)
	}
	return nil
}

// TestProviderChaos sends 30 conversations' openings and queues (330 messages) through a Graph
// API that fails a quarter of the requests (500, 429 with Retry-After, connection resets before
// and after accepting, slow answers). Every message is delivered, in order per conversation;
// the only duplicates are the resets after acceptance; 429s are retried no sooner than
// Retry-After; permanent errors are recorded after one request; a message that fails forever
// is given up after DISPATCH_MAX_ATTEMPTS requests.
func TestProviderChaos(t *testing.T) {
	t.Parallel()
	seed := randomSeed(t)
	for i, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			const convs, each, maxAttempts = 30, 10, 4
			ch := &chaos{rng: rand.New(rand.NewPCG(uint64(seed), uint64(i))), failures: map[string]int{}, counts: map[string]int{}, log: map[string][]chaosEvent{},
				perm: func(text string) bool {
					var c, j int
					_, _ = fmt.Sscanf(text, "c%d-m%d", &c, &j)
					return c%6 == 1 && j == 4
				},
				doomed: "c0-m7"}
			fake := whatsapptest.NewFake(t)
			fake.SetAccessToken(token)
			env := apptest.New(t, e.Open(t), apptest.Options{Configure: func(cfg *app.Config) {
				cfg.WhatsAppAPIBaseURL = fake.URL
				cfg.Dispatch.ChannelRate = 100000
				cfg.Dispatch.MaxAttempts = maxAttempts
			}})
			c := setupCloud(t, fake, env)
			fake.SetRespond(ch.respond)

			started := time.Now()
			ids := make([]string, convs)
			var wg sync.WaitGroup
			for i := range convs {
				wg.Go(func() {
					ids[i] = c.start(t, fmt.Sprintf("11 9%04d-%04d", 6100+i, i))
					for j := range each {
						c.post(t, ids[i], fmt.Sprintf("c%d-m%d", i, j))
					}
					require.Equal(t, http.StatusOK, c.webhook(t, inbound(fmt.Sprintf("55119%04d%04d", 6100+i, i), fmt.Sprintf("wamid.chaos.%d", i), "oi", time.Now())).Status)
				})
			}
			wg.Wait()
			waitWithin(t, "every message to leave the outbox", 60*time.Second, func() bool {
				var left int64
				require.NoError(t, c.App.DB.Conn(c.Ctx()).Table("messages").Where("direction = 'out' AND status IN ?", []string{"queued", "pending", "scheduled"}).Count(&left).Error)
				return left == 0
			})
			elapsed := time.Since(started)

			// At the provider: each message once, plus one copy per reset after acceptance, and each
			// conversation's first copies in posting order.
			copies := map[string]int{}
			last := map[string]int{}
			for _, m := range fake.Messages() {
				key := sentKey(t, m)
				copies[key]++
				var b struct {
					To   string
					Type string
					Text struct{ Body string }
				}
				require.NoError(t, json.Unmarshal(m.Body, &b))
				if b.Type != "text" || copies[key] > 1 {
					continue
				}
				var ci, j int
				_, _ = fmt.Sscanf(b.Text.Body, "c%d-m%d", &ci, &j)
				prev, ok := last[b.To]
				require.True(t, !ok || j > prev, "%s: m%d after m%d", b.To, j, prev)
				last[b.To] = j
			}
			dups := 0
			for _, n := range copies {
				dups += n - 1
			}
			require.Equal(t, fake.AcceptedThenHungUp(), dups, "duplicates are exactly the resets after acceptance")

			// Requests per message: a 429 is retried no sooner than its Retry-After.
			ch.mu.Lock()
			defer ch.mu.Unlock()
			var throttled []string
			for i, conv := range ids {
				to := fmt.Sprintf("+55119%04d%04d", 6100+i, i)
				for _, m := range c.messages(t, conv) {
					if m["direction"] != "out" {
						continue
					}
					text, _ := m["text"].(string)
					key := to + "|" + m["type"].(string) + "|"
					if m["type"] == "text" {
						key += text
					}
					switch {
					case text == ch.doomed:
						require.Equal(t, "failed", m["status"])
						require.Contains(t, m["error"].(map[string]any)["title"], fmt.Sprintf("gave up after %d attempts", maxAttempts))
						require.Len(t, ch.log[key], maxAttempts, "a message failing forever is tried DISPATCH_MAX_ATTEMPTS times")
						require.Zero(t, copies[key])
					case m["type"] == "text" && ch.perm(text):
						require.Equal(t, "failed", m["status"])
						require.EqualValues(t, 131026, m["error"].(map[string]any)["code"])
						require.Len(t, ch.log[key], 1, "a permanent error is not retried")
						require.Zero(t, copies[key])
					default:
						require.Equal(t, "sent", m["status"], key)
						require.GreaterOrEqual(t, copies[key], 1, "%s was delivered", key)
					}
					evs := ch.log[key]
					for k := 1; k < len(evs); k++ {
						if evs[k-1].outcome == "429 Retry-After" {
							throttled = append(throttled, key)
							require.GreaterOrEqual(t, evs[k].at.Sub(evs[k-1].at), time.Second, "%s retried before Retry-After", key)
						}
					}
				}
			}
			total := 0
			for _, n := range ch.counts {
				total += n
			}
			t.Logf("reliability: chaos %s: %d messages in %s; %d requests %v; duplicates=%d (= resets after accept); 429 retries honouring Retry-After=%d",
				e.Name, convs*(each+1), elapsed.Round(100*time.Millisecond), total, ch.counts, dups, len(throttled))
		})
	}
}
