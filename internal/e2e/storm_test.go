package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// hookBody wraps change values in Meta's notification envelope.
func hookBody(values ...map[string]any) []byte {
	changes := make([]any, len(values))
	for i, v := range values {
		changes[i] = map[string]any{"field": "messages", "value": v}
	}
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": waba, "changes": changes}}})
	return b
}

// postHook posts a signed notification from any goroutine (no testing.T) and returns the status.
func postHook(url string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(body, appSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

var statusRanks = map[string]int{"queued": 0, "pending": 0, "scheduled": 0, "sent": 1, "delivered": 2, "read": 3}

// storm counts what a webhook storm posted.
type storm struct {
	url       string
	posts     atomic.Int64 // POSTs
	events    atomic.Int64 // events (messages and statuses) in them
	statuses  atomic.Int64
	reordered atomic.Int64 // status events posted after a higher status of the same message
	failures  atomic.Int64 // POSTs not answered 200
	errs      chan error
	wg        sync.WaitGroup
}

func (s *storm) post(body []byte, events int) {
	code, err := postHook(s.url, body)
	s.posts.Add(1)
	s.events.Add(int64(events))
	if err != nil || code != http.StatusOK {
		s.failures.Add(1)
		select {
		case s.errs <- fmt.Errorf("webhook: %d %v", code, err):
		default:
		}
	}
}

// statusEvents returns every status of a message twice (sent, delivered, read), shuffled, and
// how many of them come after a higher one.
func statusEvents(rng *rand.Rand, wamid, recipient string, at time.Time) ([]map[string]any, int) {
	var evs []map[string]any
	var ranks []int
	for _, st := range []string{"sent", "delivered", "read", "sent", "delivered", "read"} {
		evs = append(evs, status(wamid, st, recipient, at)["statuses"].([]any)[0].(map[string]any))
		ranks = append(ranks, statusRanks[st])
	}
	rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i]; ranks[i], ranks[j] = ranks[j], ranks[i] })
	reordered, high := 0, 0
	for _, r := range ranks {
		if r < high {
			reordered++
		}
		high = max(high, r)
	}
	return evs, reordered
}

func statusValue(evs ...map[string]any) map[string]any {
	list := make([]any, len(evs))
	for i, e := range evs {
		list[i] = e
	}
	return map[string]any{"messaging_product": "whatsapp", "metadata": metadata(), "statuses": list}
}

// TestWebhookStorm releases 50 waiting conversations (50 openings, 300 queued messages) with a
// storm of concurrent signed webhooks: every reply three times under three wamids with shuffled
// timestamps, and every outbound message's statuses (sent, delivered, read) twice in random
// order, in batches and one by one, the queued messages' statuses fired by the fake provider
// while it answers the send (so many arrive before the send is recorded). Exactly-once effects:
// one stored message per wamid, each queued message sent once; every status ends at read and
// no reader ever sees a status move backward.
func TestWebhookStorm(t *testing.T) {
	t.Parallel()
	seed := randomSeed(t)
	for i, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			const convs, queued, replies, copies = 50, 6, 3, 3
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
			var rngMu sync.Mutex
			fake := whatsapptest.NewFake(t)
			fake.SetAccessToken(token)
			env := apptest.New(t, e.Open(t), apptest.Options{Configure: func(cfg *app.Config) {
				cfg.WhatsAppAPIBaseURL = fake.URL
				cfg.Dispatch.ChannelRate = 100000
			}})
			c := setupCloud(t, fake, env)
			s := &storm{url: c.Server.URL + "/webhooks/whatsapp/" + c.channelID, errs: make(chan error, 1)}

			ids := make([]string, convs)
			var wg sync.WaitGroup
			for i := range convs {
				wg.Go(func() {
					ids[i] = c.start(t, fmt.Sprintf("11 9%04d-%04d", 6200+i, i))
					for j := range queued {
						c.post(t, ids[i], fmt.Sprintf("c%d-m%d", i, j))
					}
				})
			}
			wg.Wait()
			require.True(t, fake.WaitFor(convs, 20*time.Second))
			waitFor(t, "openings recorded", func() bool {
				var n int64
				require.NoError(t, c.App.DB.Conn(c.Ctx()).Table("messages").Where("type = 'template' AND status = 'sent'").Count(&n).Error)
				return n == convs
			})

			// From now on the fake answers each text with its own wamid and, at the same time,
			// fires that message's statuses at the webhook.
			var wamids atomic.Int64
			fake.SetRespond(func(req whatsapptest.Request) *whatsapptest.Response {
				var b struct{ To string }
				_ = json.Unmarshal(req.Body, &b)
				wamid := fmt.Sprintf("wamid.storm.%d", wamids.Add(1))
				rngMu.Lock()
				evs, reordered := statusEvents(rng, wamid, strings.TrimPrefix(b.To, "+"), time.Now())
				delays := make([]time.Duration, len(evs))
				for k := range delays {
					delays[k] = time.Duration(rng.IntN(30)) * time.Millisecond
				}
				rngMu.Unlock()
				s.reordered.Add(int64(reordered))
				s.statuses.Add(int64(len(evs)))
				for k, ev := range evs {
					s.wg.Go(func() {
						// A real wait: Meta's status webhooks arrive late and out of order; the
						// random 0-30 ms delays are that disorder, not a wait for something.
						time.Sleep(delays[k])
						s.post(hookBody(statusValue(ev)), 1)
					})
				}
				body, _ := json.Marshal(map[string]any{"messaging_product": "whatsapp",
					"contacts": []any{map[string]any{"input": b.To, "wa_id": strings.TrimPrefix(b.To, "+")}},
					"messages": []any{map[string]any{"id": wamid}}})
				return &whatsapptest.Response{Body: string(body)}
			})

			// A reader samples every outbound status while the storm runs: none may go down.
			stop := make(chan struct{})
			var backward []string
			var samples int
			readerDone := make(chan struct{})
			go func() {
				defer close(readerDone)
				seen := map[string]int{}
				for {
					select {
					case <-stop:
						return
					case <-time.After(10 * time.Millisecond):
					}
					var rows []struct{ ID, Status string }
					if err := c.App.DB.Conn(c.Ctx()).Table("messages").Select("id, status").Where("direction = 'out'").Scan(&rows).Error; err != nil {
						continue
					}
					samples++
					for _, r := range rows {
						if statusRanks[r.Status] < seen[r.ID] {
							backward = append(backward, r.ID+" → "+r.Status)
						}
						seen[r.ID] = max(seen[r.ID], statusRanks[r.Status])
					}
				}
			}()

			// The openings' statuses, in batches of ten, and the replies, all at once.
			var batches [][]map[string]any
			var batch []map[string]any
			for i, id := range ids {
				opening := c.messages(t, id)[0]
				evs, reordered := statusEvents(rng, opening["provider_message_id"].(string), fmt.Sprintf("55119%04d%04d", 6200+i, i), time.Now())
				s.reordered.Add(int64(reordered))
				s.statuses.Add(int64(len(evs)))
				batch = append(batch, evs...)
				if len(batch) >= 10 {
					batches = append(batches, batch)
					batch = nil
				}
			}
			batches = append(batches, batch)
			var jobs []func()
			for _, b := range batches {
				jobs = append(jobs, func() { s.post(hookBody(statusValue(b...)), len(b)) })
			}
			now := time.Now()
			for i := range convs {
				for r := range replies {
					at := now.Add(-time.Duration(rng.IntN(600)) * time.Second)
					if r == 0 {
						at = now // the newest reply sets the window
					}
					body := hookBody(inbound(fmt.Sprintf("55119%04d%04d", 6200+i, i), fmt.Sprintf("wamid.in.%d.%d", i, r), fmt.Sprintf("resposta %d", r), at))
					for range copies {
						jobs = append(jobs, func() { s.post(body, 1) })
					}
				}
			}
			rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
			work := make(chan func())
			for range 32 {
				s.wg.Go(func() {
					for job := range work {
						job()
					}
				})
			}
			started := time.Now()
			for _, job := range jobs {
				work <- job
			}
			close(work)

			want := convs * (queued + 1)
			require.True(t, fake.WaitFor(want, 30*time.Second), "sent %d of %d", fake.Count(), want)
			s.wg.Wait()
			elapsed := time.Since(started)
			select {
			case err := <-s.errs:
				t.Fatal(err)
			default:
			}
			waitFor(t, "every status at read", func() bool {
				var n int64
				require.NoError(t, c.App.DB.Conn(c.Ctx()).Table("messages").Where("direction = 'out' AND status <> 'read'").Count(&n).Error)
				return n == 0
			})
			close(stop)
			<-readerDone
			require.Empty(t, backward, "a status moved backward")

			// Exactly once: each reply stored once, each queued message sent once, in order.
			total, distinct, inOrder := delivered(t, fake)
			require.Equal(t, want, distinct)
			require.Equal(t, want, total, "no message was sent twice")
			require.True(t, inOrder)
			for i, id := range ids {
				msgs := c.messages(t, id)
				in := 0
				for _, m := range msgs {
					if m["direction"] == "in" {
						in++
						continue
					}
					require.Equal(t, "read", m["status"])
					require.NotNil(t, m["delivered_at"], "delivered_at is kept even when read came first")
					require.NotNil(t, m["read_at"])
				}
				require.Equal(t, replies, in, "conversation %d: one stored message per wamid", i)
				conv := c.Admin.Get("/api/v1/conversations/" + id).JSON()
				require.Equal(t, "active", conv["status"])
				exp, err := time.Parse(time.RFC3339, conv["window"].(map[string]any)["expires_at"].(string))
				require.NoError(t, err)
				require.WithinDuration(t, now.Add(24*time.Hour), exp, 2*time.Second, "the window runs from the newest reply")
			}
			var orphans int64
			require.NoError(t, c.App.DB.Conn(c.Ctx()).Table("orphan_statuses").Count(&orphans).Error)
			require.Zero(t, orphans, "every status that beat its send's answer was applied")
			t.Logf("reliability: storm %s: %d events in %d webhook POSTs in %s (%d statuses, %d reordered, %d inbound with %d duplicates); stored %d inbound, sent %d once each, statuses backward=0 over %d samples",
				e.Name, s.events.Load(), s.posts.Load(), elapsed.Round(100*time.Millisecond), s.statuses.Load(), s.reordered.Load(),
				convs*replies*copies, convs*replies*(copies-1), convs*replies, want, samples)
		})
	}
}
