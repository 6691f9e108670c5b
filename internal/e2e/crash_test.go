package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/team"
	"github.com/atendimento/atendimento/internal/template"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
	"golang.org/x/crypto/bcrypt"
)

const crashSecret = "crash-test-secret-key-0123456789"

// seededCloud is a database prepared for server processes: the demo account's API key and a
// whatsapp_cloud channel with its team and an approved positional template ("Olá {{1}}").
type seededCloud struct {
	apiKey, channelID, teamID, templateID string
}

// seedBacklog writes convs conversations on a whatsapp_cloud channel, each with its opening
// template and perConv queued messages released by a reply, so convs*(perConv+1) messages are
// due at once. It returns how many messages should reach the provider.
func seedBacklog(t *testing.T, dbURL string, convs, perConv int) int {
	t.Helper()
	_, n := seedCloud(t, dbURL, convs, perConv)
	return n
}

// seedCloud prepares dbURL (seededCloud) and, with convs > 0, fills a backlog as seedBacklog does.
func seedCloud(t *testing.T, dbURL string, convs, perConv int) (seededCloud, int) {
	t.Helper()
	ctx := context.Background()
	a, err := app.New(ctx, app.Config{DatabaseURL: dbURL, SecretKey: crashSecret, BcryptCost: bcrypt.MinCost, NoDispatcher: true}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer a.Close()
	seeded, err := a.Demo(ctx)
	require.NoError(t, err)
	ctx = store.WithAccount(ctx, seeded.AccountID)
	s := func(v string) *string { return &v }
	ch, err := a.Channels.Create(ctx, channel.Input{Name: s("Cloud"), Provider: s("whatsapp_cloud"), PhoneNumber: s("+551140009999"),
		PhoneNumberID: s(pnid), WABAID: s(waba), AccessToken: s(token), AppSecret: s(appSecret), VerifyToken: s(verify)})
	require.NoError(t, err)
	chans := []string{ch.ID}
	tm, err := a.Teams.Create(ctx, team.Input{Name: s("Cloud"), ChannelIDs: &chans})
	require.NoError(t, err)
	comps, _ := json.Marshal([]map[string]string{{"type": "BODY", "text": "Olá {{1}}"}})
	tp, err := a.Templates.Create(ctx, template.Input{ChannelID: &ch.ID, Name: s("ola"), Language: s("pt_BR"), Category: s("UTILITY"),
		Status: s("APPROVED"), ParameterFormat: s("POSITIONAL"), Components: comps})
	require.NoError(t, err)
	out := seededCloud{apiKey: seeded.APIKey, channelID: ch.ID, teamID: tm.ID, templateID: tp.ID}
	if convs == 0 {
		return out, 0
	}
	return out, fillBacklog(t, a, ctx, ch.ID, tm.ID, tp.ID, json.RawMessage(`["cliente"]`), convs, perConv)
}

// fillBacklog starts convs conversations with new contacts, posts perConv texts "c<i>-m<j>" to
// each while it waits, and delivers each contact's reply, so every message is due at once.
func fillBacklog(t testing.TB, a *app.App, ctx context.Context, channelID, teamID, templateID string, params json.RawMessage, convs, perConv int) int {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, convs)
	sem := make(chan struct{}, 8)
	for i := range convs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			phone := fmt.Sprintf("+55119%04d%04d", 6000+i/10000, i)
			st, err := a.Conversations.Start(ctx, conversation.Actor{}, conversation.StartInput{Contact: &contact.Input{Phone: &phone},
				ChannelID: &channelID, TeamID: &teamID, TemplateID: &templateID, Parameters: params})
			if err != nil {
				errs <- err
				return
			}
			for j := range perConv {
				text := fmt.Sprintf("c%d-m%d", i, j)
				if _, err := a.Conversations.Post(ctx, conversation.Actor{}, st.Conversation.ID, conversation.PostInput{Text: &text}); err != nil {
					errs <- err
					return
				}
			}
			_, err = a.Conversations.Receive(ctx, conversation.Inbound{ChannelID: channelID, From: phone[1:], ProviderMessageID: "wamid.in." + phone, At: time.Now(), Type: "text", Text: "oi"})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	return convs * (perConv + 1)
}

var buildOnce struct {
	sync.Once
	path string
	err  error
}

// serverBinary builds cmd/atendimento once per test run.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "atendimento-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "atendimento")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, "../../cmd/atendimento").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("%v: %s", err, out)
		}
	})
	require.NoError(t, buildOnce.err)
	return buildOnce.path
}

func startServer(t *testing.T, bin, dbURL, fakeURL string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--demo=false")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "SECRET_KEY="+crashSecret, "WHATSAPP_API_BASE_URL="+fakeURL,
		"HTTP_ADDR=127.0.0.1:0", "DISPATCH_LEASE=2s", "DISPATCH_POLL=200ms", "CHANNEL_RATE=100000", "WEB_DIR=")
	cmd.Env = append(cmd.Env, env...)
	path := filepath.Join(t.TempDir(), "server.log")
	logf, err := os.Create(path)
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(path); err == nil {
				t.Logf("server log (last 4 KiB):\n%s", b[max(0, len(b)-4096):])
			}
		}
	})
	return cmd
}

// sentKey identifies an accepted message as delivered does: recipient, type and text.
func sentKey(t *testing.T, m whatsapptest.Message) string {
	var b struct {
		To   string
		Type string
		Text struct{ Body string }
	}
	require.NoError(t, json.Unmarshal(m.Body, &b))
	return b.To + "|" + b.Type + "|" + b.Text.Body
}

// unrecordedKeys returns the sentKey of every outbound message not yet recorded as sent.
func unrecordedKeys(t *testing.T, dbURL string) map[string]bool {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{URL: dbURL, MaxOpenConns: 1})
	require.NoError(t, err)
	defer db.Close()
	var rows []struct{ Phone, Type, Text string }
	require.NoError(t, db.Conn(context.Background()).Table("messages m").Select("ct.phone, m.type, m.text").
		Joins("JOIN conversations c ON c.id = m.conversation_id").Joins("JOIN contacts ct ON ct.id = c.contact_id").
		Where("m.direction = 'out' AND m.status IN ?", []string{"pending", "scheduled"}).Scan(&rows).Error)
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		if r.Type != "text" {
			r.Text = ""
		}
		out[r.Phone+"|"+r.Type+"|"+r.Text] = true
	}
	return out
}

// delivered tells, for the fake's accepted messages, how many there were, how many distinct
// messages they carry, and whether each recipient got its first copies in order.
func delivered(t *testing.T, f *whatsapptest.Fake) (total, distinct int, inOrder bool) {
	seen := map[string]bool{}
	last := map[string]int{}
	inOrder = true
	for _, m := range f.Messages() {
		var b struct {
			To   string
			Type string
			Text struct{ Body string }
		}
		require.NoError(t, json.Unmarshal(m.Body, &b))
		key := sentKey(t, m)
		total++
		if seen[key] {
			continue
		}
		seen[key] = true
		distinct++
		if b.Type == "text" {
			var c, j int
			_, _ = fmt.Sscanf(b.Text.Body, "c%d-m%d", &c, &j)
			if prev, ok := last[b.To]; ok && j != prev+1 {
				inOrder = false
			} else if !ok && j != 0 {
				inOrder = false
			}
			last[b.To] = j
		}
	}
	return total, distinct, inOrder
}

func pendingCount(t *testing.T, dbURL string) int64 {
	return countMessages(t, dbURL, "pending", "scheduled")
}

// countMessages counts the outbound messages in the given statuses, straight from the database.
func countMessages(t *testing.T, dbURL string, statuses ...string) int64 {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{URL: dbURL, MaxOpenConns: 1})
	require.NoError(t, err)
	defer db.Close()
	var n int64
	require.NoError(t, db.Conn(context.Background()).Table("messages").Where("direction = 'out' AND status IN ?", statuses).Count(&n).Error)
	return n
}

// randomSeed seeds the random choices of the reliability tests (kill points, chaos, storm
// order): RELIABILITY_SEED replays a run, else the clock.
func randomSeed(t *testing.T) int64 {
	t.Helper()
	seed := time.Now().UnixNano()
	if v, err := strconv.ParseInt(os.Getenv("RELIABILITY_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("RELIABILITY_SEED=%d", seed)
	return seed
}

// TestCrashLosesNothing kills real server processes (SIGKILL) at random points while they
// dispatch a backlog of 5,200 messages, restarting after each kill, and counts at the fake
// provider: nothing is lost, every conversation's messages arrive in order, and the duplicates
// are exactly the messages in flight at the kills (accepted by the provider, not yet recorded:
// at most DISPATCH_WORKERS per kill). RELIABILITY_SEED replays a run's kill points.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Parallel()
	bin := serverBinary(t)
	engines := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "crash.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	}
	seed := randomSeed(t)
	const convs, perConv, kills = 200, 25, 3
	workers := 32
	if v, err := strconv.Atoi(os.Getenv("CRASH_WORKERS")); err == nil {
		workers = v
	}
	for i, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			if name == "postgres" && os.Getenv("TEST_DATABASE_URL") == "" && os.Getenv("REQUIRE_POSTGRES") != "1" {
				t.Skip("TEST_DATABASE_URL not set")
			}
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
			dbURL := engines[name](t)
			t0 := time.Now()
			want := seedBacklog(t, dbURL, convs, perConv)
			t.Logf("seeded %d messages in %s", want, time.Since(t0).Round(time.Millisecond))
			t0 = time.Now()
			fake := whatsapptest.NewFake(t)
			fake.SetAccessToken(token)
			fake.SetLatency(2 * time.Millisecond)

			// Kill k lands at a random count in the k-th slice of the backlog, plus a random
			// 0-40 ms, so it may hit a claim, the sends or their recording.
			inFlight := make([]int, 0, kills)
			for k := range kills {
				started := fake.Count()
				srv := startServer(t, bin, dbURL, fake.URL, fmt.Sprintf("DISPATCH_WORKERS=%d", workers))
				at := want*k/kills + rng.IntN(want/kills)
				require.True(t, fake.WaitFor(at, 60*time.Second), "server %d sent %d of %d", k+1, fake.Count(), at)
				// A real wait: the real process runs on for a random 0-40 ms so the kill lands
				// at a random point (a claim, the sends or their recording).
				time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
				require.NoError(t, srv.Process.Signal(syscall.SIGKILL))
				_ = srv.Wait()
				// A real wait: the fake may still be answering (and recording) sends the dead
				// process made, and it exposes no count of requests in flight to wait for.
				time.Sleep(50 * time.Millisecond)
				// In flight at the kill: copies this server got accepted whose rows it did not
				// record. (Messages left unrecorded by an earlier kill and not yet resent, their
				// lease still running, are not in flight again.)
				unrecorded := unrecordedKeys(t, dbURL)
				n := 0
				for _, m := range fake.Messages()[started:] {
					if unrecorded[sentKey(t, m)] {
						n++
					}
				}
				inFlight = append(inFlight, n)
				t.Logf("kill %d after %s: %d accepted, %d in flight", k+1, time.Since(t0).Round(time.Millisecond), fake.Count(), n)
				require.LessOrEqual(t, n, workers, "kill %d: more sends in flight than DISPATCH_WORKERS (the bound README promises)", k+1)
			}

			startServer(t, bin, dbURL, fake.URL, fmt.Sprintf("DISPATCH_WORKERS=%d", workers))
			waitWithin(t, "the restarted server to drain the outbox", 90*time.Second, func() bool { return pendingCount(t, dbURL) == 0 })
			total, distinct, inOrder := delivered(t, fake)
			lost, dups := want-distinct, total-distinct
			bound := 0
			for _, n := range inFlight {
				bound += n
			}
			t.Logf("reliability: crash %s: %d messages, %d kills, in flight at each kill %v; lost=%d duplicates=%d", name, want, kills, inFlight, lost, dups)
			require.Zero(t, lost)
			require.LessOrEqual(t, dups, bound, "only messages in flight at a kill were sent twice")
			require.True(t, inOrder, "each conversation's messages arrived in order")
			require.EqualValues(t, want, countMessages(t, dbURL, "sent"), "every message is recorded sent once")
		})
	}
}
