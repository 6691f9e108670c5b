package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// outageResult is one request made during an outage test.
type outageResult struct {
	at     time.Time
	took   time.Duration
	status int
	ctype  string
	code   string
	text   string // the posted text
	err    error
}

// TestDatabaseOutage puts a TCP proxy between the App and Postgres and breaks it, until both a
// post and /readyz have met the outage, while six clients post messages and a probe polls /readyz: the connections reset and new ones
// refused (cut), every byte held (pause), or the open connections black-holed for good while
// new ones work (failover). Every request answers 201 or 503 problem+json database_unavailable
// within the request timeout, never hangs; /readyz says 503 during the outage and 200 after; the
// dispatcher resumes by itself and every message answered 201 reaches the provider.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	// A request answers within its deadline, plus what it does after committing: the dispatcher
	// NOTIFY and the event sinks, each bounded at 2 s of their own.
	const requestTimeout = time.Second
	const maxLatency = requestTimeout + 2*2*time.Second + time.Second
	for _, mode := range []string{"cut", "pause", "failover"} {
		t.Run(mode, func(t *testing.T) {
			dbURL := storetest.PostgresURL(t)
			t.Parallel()
			u, err := url.Parse(dbURL)
			require.NoError(t, err)
			proxy := newDBProxy(t, u.Host)
			db, err := store.Open(context.Background(), store.Options{URL: proxy.proxiedURL(t, dbURL), MaxOpenConns: 8})
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			require.NoError(t, db.Migrate(context.Background()))
			fake := whatsapptest.NewFake(t)
			fake.SetAccessToken(token)
			env := apptest.New(t, db, apptest.Options{Configure: func(cfg *app.Config) {
				cfg.WhatsAppAPIBaseURL = fake.URL
				cfg.Dispatch.ChannelRate = 100000
				cfg.RequestTimeout = requestTimeout
				cfg.Dispatch.Lease = 10 * time.Second
			}})
			t.Cleanup(func() {
				if t.Failed() {
					for _, line := range strings.Split(env.Logs.String(), "\n") {
						if strings.Contains(line, `"level":"ERROR"`) {
							t.Log(line[:min(len(line), 400)])
						}
					}
				}
			})
			c := setupCloud(t, fake, env)
			const convs = 10
			ids := make([]string, convs)
			for i := range ids {
				ids[i] = c.start(t, fmt.Sprintf("11 9%04d-%04d", 6400+i, i))
				require.Equal(t, http.StatusOK, c.webhook(t, inbound(fmt.Sprintf("55119%04d%04d", 6400+i, i), fmt.Sprintf("wamid.out.%d", i), "oi", time.Now())).Status)
			}
			require.True(t, fake.WaitFor(convs, 10*time.Second))

			client := &http.Client{Timeout: 30 * time.Second}
			do := func(method, path string, body any) outageResult {
				var rd io.Reader
				if body != nil {
					b, _ := json.Marshal(body)
					rd = bytes.NewReader(b)
				}
				req, _ := http.NewRequest(method, c.Server.URL+path, rd)
				req.Header.Set("Authorization", "Bearer "+c.Demo.APIKey)
				req.Header.Set("Content-Type", "application/json")
				r := outageResult{at: time.Now()}
				resp, err := client.Do(req)
				r.took = time.Since(r.at)
				if err != nil {
					r.err = err
					return r
				}
				defer resp.Body.Close()
				var p struct{ Code string }
				_ = json.NewDecoder(resp.Body).Decode(&p)
				r.status, r.ctype, r.code = resp.StatusCode, resp.Header.Get("Content-Type"), p.Code
				return r
			}

			var mu sync.Mutex
			var posts, probes []outageResult
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for w := range 6 {
				wg.Go(func() {
					for n := 0; ; n++ {
						select {
						case <-stop:
							return
						default:
						}
						text := fmt.Sprintf("w%d-%d", w, n)
						r := do(http.MethodPost, "/api/v1/conversations/"+ids[(w+n)%convs]+"/messages", map[string]any{"text": text})
						r.text = text
						mu.Lock()
						posts = append(posts, r)
						mu.Unlock()
						// Pacing, not waiting for anything: six clients posting flat out would
						// swamp the loaded 2-core CI machine rather than meet the outage.
						time.Sleep(20 * time.Millisecond)
					}
				})
			}
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Millisecond):
					}
					r := do(http.MethodGet, "/readyz", nil)
					mu.Lock()
					probes = append(probes, r)
					mu.Unlock()
				}
			})

			// met reports whether a request of rs (posts or probes) that started after since was
			// answered with status.
			met := func(rs *[]outageResult, since time.Time, status int) bool {
				mu.Lock()
				defer mu.Unlock()
				return slices.ContainsFunc(*rs, func(r outageResult) bool { return r.at.After(since) && r.err == nil && r.status == status })
			}
			waitWithin(t, "traffic before the outage", 20*time.Second, func() bool {
				return met(&posts, time.Time{}, http.StatusCreated) && met(&probes, time.Time{}, http.StatusOK)
			})
			down := time.Now()
			switch mode {
			case "cut":
				proxy.Cut()
			case "pause":
				proxy.Pause()
			case "failover":
				proxy.Pause()
			}
			// The outage lasts until it was met: a post answered 503, and a probe made once the
			// pool's connections had time to fail (the check below) answered 503.
			waitWithin(t, "requests to meet the outage", 30*time.Second, func() bool {
				return met(&posts, down, http.StatusServiceUnavailable) && met(&probes, down.Add(500*time.Millisecond), http.StatusServiceUnavailable)
			})
			up := time.Now()
			if mode == "failover" {
				proxy.Strand()
			} else {
				proxy.Restore()
			}
			// Traffic goes on until /readyz has said 200, and posts made after that were answered.
			var ready time.Time
			waitWithin(t, "/readyz to be 200 again after the outage", 20*time.Second, func() bool {
				mu.Lock()
				defer mu.Unlock()
				if i := slices.IndexFunc(probes, func(p outageResult) bool { return p.at.After(up) && p.status == http.StatusOK }); i >= 0 {
					ready = probes[i].at.Add(probes[i].took)
				}
				return !ready.IsZero()
			})
			waitWithin(t, "posts answered after the outage", 20*time.Second, func() bool {
				mu.Lock()
				defer mu.Unlock()
				n := 0
				for _, r := range posts {
					if r.at.After(ready) && r.status == http.StatusCreated {
						n++
					}
				}
				return n >= 12
			})
			close(stop)
			wg.Wait()

			// Every request answered in time: 201, or 503 problem+json database_unavailable.
			var ok, unavailable int
			var slowest, slowest503 time.Duration
			var sent []string
			for _, r := range posts {
				require.NoError(t, r.err, "a request hung or was dropped (%s after the outage began)", r.at.Sub(down))
				slowest = max(slowest, r.took)
				require.LessOrEqual(t, r.took, maxLatency, "a request took %s", r.took)
				switch r.status {
				case http.StatusCreated:
					ok++
					sent = append(sent, r.text)
				case http.StatusServiceUnavailable:
					unavailable++
					slowest503 = max(slowest503, r.took)
					require.Equal(t, "application/problem+json", r.ctype)
					require.Equal(t, "database_unavailable", r.code)
				default:
					t.Fatalf("POST answered %d %s (%s after the outage began)", r.status, r.code, r.at.Sub(down))
				}
			}
			require.Positive(t, unavailable, "some requests met the outage")
			var probe503 int
			for _, p := range probes {
				require.NoError(t, p.err)
				require.LessOrEqual(t, p.took, maxLatency, "/readyz took %s", p.took)
				if p.at.After(down.Add(500*time.Millisecond)) && p.at.Add(p.took).Before(up) {
					require.Equal(t, http.StatusServiceUnavailable, p.status, "/readyz during the outage")
					require.Equal(t, "database_unavailable", p.code)
					probe503++
				}
			}
			require.Positive(t, probe503)

			// The dispatcher resumed by itself: every message answered 201 reached the provider.
			// (A claim whose answer the outage cut leaves its rows leased: they wait out the lease.)
			at := map[string]int{}
			waitWithin(t, "every message answered 201 at the provider", 30*time.Second, func() bool {
				clear(at)
				for _, m := range fake.Messages() {
					if key := sentKey(t, m); strings.Contains(key, "|text|") {
						at[key[strings.LastIndex(key, "|")+1:]]++
					}
				}
				missing := 0
				for _, text := range sent {
					if at[text] == 0 {
						missing++
					}
				}
				return missing == 0
			})
			dups := 0
			for _, n := range at {
				dups += n - 1
			}
			require.LessOrEqual(t, dups, 32, "duplicates are bounded by the sends in flight (DISPATCH_WORKERS)")
			if mode == "failover" {
				// The LISTEN connections (dispatcher wake-ups, event streams) were black-holed too:
				// their keepalive ping finds out and they reconnect.
				require.Eventually(t, func() bool { return strings.Contains(env.Logs.String(), "listen: connection lost, reconnecting") },
					30*time.Second, 100*time.Millisecond, "the listeners reconnect after a failover")
			}
			t.Logf("reliability: outage %s (%s): %d posts: %d answered 201, %d answered 503 database_unavailable (slowest 503 in %s, slowest answer %s); /readyz 503 x%d during, 200 again %s after; every 201 sent (%d), duplicates=%d",
				mode, up.Sub(down).Round(time.Millisecond), len(posts), ok, unavailable, slowest503.Round(time.Millisecond), slowest.Round(time.Millisecond), probe503, ready.Sub(up).Round(time.Millisecond), len(sent), dups)
		})
	}
}
