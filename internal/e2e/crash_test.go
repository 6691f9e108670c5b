package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/app"
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

// seedBacklog writes convs conversations on a whatsapp_cloud channel, each with its opening
// template and perConv queued messages released by a reply, so convs*(perConv+1) messages are
// due at once. It returns how many messages should reach the provider.
func seedBacklog(t *testing.T, dbURL string, convs, perConv int) int {
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
	return fillBacklog(t, a, ctx, ch.ID, tm.ID, tp.ID, json.RawMessage(`["cliente"]`), convs, perConv)
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

func startServer(t *testing.T, bin, dbURL, fakeURL string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--demo=false")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "SECRET_KEY="+crashSecret, "WHATSAPP_API_BASE_URL="+fakeURL,
		"HTTP_ADDR=127.0.0.1:0", "DISPATCH_LEASE=2s", "DISPATCH_POLL=200ms", "CHANNEL_RATE=100000", "WEB_DIR=")
	logf, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
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
		key := b.To + "|" + b.Type + "|" + b.Text.Body
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
	db, err := store.Open(context.Background(), store.Options{URL: dbURL, MaxOpenConns: 1})
	require.NoError(t, err)
	defer db.Close()
	var n int64
	require.NoError(t, db.Conn(context.Background()).Table("messages").Where("status IN ?", []string{"pending", "scheduled"}).Count(&n).Error)
	return n
}

// TestCrashLosesNothing kills a real server process (SIGKILL) in the middle of dispatching a
// backlog, starts it again, and counts at the fake provider: nothing is lost, and duplicates are
// bounded by the messages in flight at the kill (claimed and sent, but not yet recorded).
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	bin := serverBinary(t)
	engines := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "crash.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			if name == "postgres" && os.Getenv("TEST_DATABASE_URL") == "" && os.Getenv("REQUIRE_POSTGRES") != "1" {
				t.Skip("TEST_DATABASE_URL not set")
			}
			dbURL := engines[name](t)
			want := seedBacklog(t, dbURL, 40, 60)
			fake := whatsapptest.NewFake(t)
			fake.SetAccessToken(token)
			fake.SetLatency(2 * time.Millisecond)

			first := startServer(t, bin, dbURL, fake.URL)
			require.True(t, fake.WaitFor(want/3, 60*time.Second), "the first server sent %d", fake.Count())
			require.NoError(t, first.Process.Signal(syscall.SIGKILL))
			_ = first.Wait()
			atKill := fake.Count()

			startServer(t, bin, dbURL, fake.URL)
			deadline := time.Now().Add(90 * time.Second)
			for time.Now().Before(deadline) && pendingCount(t, dbURL) > 0 {
				time.Sleep(200 * time.Millisecond)
			}
			require.Zero(t, pendingCount(t, dbURL), "the restarted server drained the outbox")
			total, distinct, inOrder := delivered(t, fake)
			lost, dups := want-distinct, total-distinct
			t.Logf("%s: %d messages, killed after %d sends; lost=%d duplicates=%d", name, want, atKill, lost, dups)
			require.Zero(t, lost)
			require.LessOrEqual(t, dups, 32, "duplicates are bounded by the sends in flight (DISPATCH_WORKERS)")
			require.True(t, inOrder, "each conversation's messages arrived in order")
		})
	}
}
