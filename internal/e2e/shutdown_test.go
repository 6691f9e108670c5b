package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// serverClient calls a server process; each request on its own connection, so a request the
// server never read fails to connect instead of racing a keep-alive close.
type serverClient struct {
	base, key string
	http      *http.Client
}

func (c serverClient) do(method, path string, body any, header ...string) (int, []byte, error) {
	var rd io.Reader
	if b, ok := body.([]byte); ok {
		rd = bytes.NewReader(b)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestGracefulShutdown sends SIGTERM to a real server process while eight clients post messages
// to 20 open conversations and the provider takes 100 ms per send. The process exits 0 after
// finishing what it had started: every request it read got its answer (a request that failed
// never reached the database), and every send the provider accepted is recorded, so a restart
// sends the rest and nothing is lost or sent twice.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Parallel()
	bin := serverBinary(t)
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			var dbURL string
			if name == "sqlite" {
				dbURL = filepath.Join(t.TempDir(), "shutdown.db")
			} else {
				if os.Getenv("TEST_DATABASE_URL") == "" && os.Getenv("REQUIRE_POSTGRES") != "1" {
					t.Skip("TEST_DATABASE_URL not set")
				}
				dbURL = storetest.PostgresURL(t)
			}
			t.Parallel()
			seeded, _ := seedCloud(t, dbURL, 0, 0)
			fake := whatsapptest.NewFake(t)
			fake.SetAccessToken(token)
			fake.SetLatency(100 * time.Millisecond)
			addr := freeAddr(t)
			srv := startServer(t, bin, dbURL, fake.URL, "HTTP_ADDR="+addr, "DISPATCH_LEASE=60s", "API_KEY_RATE=0")
			c := serverClient{base: "http://" + addr, key: seeded.apiKey, http: &http.Client{Timeout: 30 * time.Second,
				Transport: &http.Transport{DisableKeepAlives: true}}}
			require.Eventually(t, func() bool { st, _, err := c.do(http.MethodGet, "/readyz", nil); return err == nil && st == 200 }, 20*time.Second, 50*time.Millisecond)

			const convs = 20
			ids := make([]string, convs)
			for i := range ids {
				st, body, err := c.do(http.MethodPost, "/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": fmt.Sprintf("11 9%04d-%04d", 6500+i, i)},
					"channel_id": seeded.channelID, "team_id": seeded.teamID, "send_type": "now", "template_id": seeded.templateID, "parameters": []string{"cliente"}})
				require.NoError(t, err)
				require.Equal(t, http.StatusCreated, st, string(body))
				var conv struct{ ID string }
				require.NoError(t, json.Unmarshal(body, &conv))
				ids[i] = conv.ID
				hook := hookBody(inbound(fmt.Sprintf("55119%04d%04d", 6500+i, i), fmt.Sprintf("wamid.term.%d", i), "oi", time.Now()))
				st, _, err = c.do(http.MethodPost, "/webhooks/whatsapp/"+seeded.channelID, hook, whatsapp.SignatureHeader, whatsapp.Sign(hook, appSecret))
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, st)
			}

			type post struct {
				text       string
				start, end time.Time
				status     int
				err        error
			}
			var mu sync.Mutex
			var posts []post
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for n := 0; ; n++ {
						p := post{text: fmt.Sprintf("g%d-%d", w, n), start: time.Now()}
						p.status, _, p.err = c.do(http.MethodPost, "/api/v1/conversations/"+ids[(w+n)%convs]+"/messages", map[string]any{"text": p.text})
						p.end = time.Now()
						mu.Lock()
						posts = append(posts, p)
						mu.Unlock()
						if p.err != nil {
							return // the server has gone
						}
					}
				})
			}
			// SIGTERM lands under load: posts being answered and their messages being sent.
			waitWithin(t, "posts answered and sent", 30*time.Second, func() bool {
				mu.Lock()
				answered := len(posts)
				mu.Unlock()
				return answered >= 100 && fake.Count() >= convs+50
			})
			term := time.Now()
			require.NoError(t, srv.Process.Signal(syscall.SIGTERM))
			exited := make(chan error, 1)
			go func() { exited <- srv.Wait() }()
			select {
			case err := <-exited:
				require.NoError(t, err, "the server exits 0 after SIGTERM")
			case <-time.After(30 * time.Second):
				t.Fatal("the server did not exit within 30 s of SIGTERM")
			}
			stopped := time.Now()
			wg.Wait()

			// Every send the provider accepted before the exit is recorded: none can go twice.
			acceptedAtExit, afterTerm := fake.Count(), 0
			for _, m := range fake.Messages() {
				if m.Time.After(term) {
					afterTerm++
				}
			}
			unrecorded := unrecordedKeys(t, dbURL)
			for _, m := range fake.Messages() {
				require.False(t, unrecorded[sentKey(t, m)], "%s was accepted but not recorded", sentKey(t, m))
			}

			// Every request got its answer, or never reached the server.
			db, err := store.Open(context.Background(), store.Options{URL: dbURL, MaxOpenConns: 1})
			require.NoError(t, err)
			var stored []string
			require.NoError(t, db.Conn(context.Background()).Table("messages").Where("direction = 'out' AND type = 'text'").Pluck("text", &stored).Error)
			_ = db.Close()
			inDB := map[string]bool{}
			for _, s := range stored {
				inDB[s] = true
			}
			var ok, refused, answeredAfterTerm int
			var want []string
			for _, p := range posts {
				if p.err != nil {
					refused++
					require.False(t, inDB[p.text], "%s: the request failed (%v) but was stored", p.text, p.err)
					continue
				}
				require.Equal(t, http.StatusCreated, p.status, p.text)
				require.True(t, inDB[p.text])
				ok++
				want = append(want, p.text)
				if p.start.Before(term) && p.end.After(term) {
					answeredAfterTerm++
				}
			}

			// A restarted server sends what was left: everything once.
			startServer(t, bin, dbURL, fake.URL, "HTTP_ADDR="+freeAddr(t))
			waitWithin(t, "the restarted server to drain the outbox", 30*time.Second, func() bool { return pendingCount(t, dbURL) == 0 })
			got := map[string]int{}
			for _, m := range fake.Messages() {
				var b struct{ Text struct{ Body string } }
				require.NoError(t, json.Unmarshal(m.Body, &b))
				got[b.Text.Body]++
			}
			for _, text := range want {
				require.Equal(t, 1, got[text], "%s sent once", text)
			}
			total, distinct, _ := delivered(t, fake)
			require.Equal(t, total, distinct, "nothing sent twice")
			t.Logf("reliability: shutdown %s: SIGTERM after %d posts answered 201; %d in flight at SIGTERM answered after it; exit after %s; %d sends accepted before exit (%d of them sent after SIGTERM, finishing the claimed batch), all recorded; %d requests refused after close (none stored); after restart lost=0 duplicates=0",
				name, ok, answeredAfterTerm, stopped.Sub(term).Round(time.Millisecond), acceptedAtExit, afterTerm, refused)
		})
	}
}
