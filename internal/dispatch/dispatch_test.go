package dispatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/clock"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/dispatch"
	"github.com/atendimento/atendimento/internal/event"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/team"
	"github.com/atendimento/atendimento/internal/template"
	"github.com/atendimento/atendimento/internal/whatsapp"
)

// call is one request the fake sender received, at the fake clock's time.
type call struct {
	to string
	at time.Time
}

// sender is a fake Cloud API: it reports every call on calls and answers the n-th (1-based)
// with reply(n).
type sender struct {
	clock *clock.Fake
	reply func(n int) error
	calls chan call

	mu sync.Mutex
	n  int
}

var _ dispatch.CloudSender = (*sender)(nil)

func (s *sender) send(to string) (whatsapp.SendResult, error) {
	s.mu.Lock()
	s.n++
	n := s.n
	s.mu.Unlock()
	s.calls <- call{to: to, at: s.clock.Now()}
	if err := s.reply(n); err != nil {
		return whatsapp.SendResult{}, err
	}
	return whatsapp.SendResult{MessageID: fmt.Sprintf("wamid.fake.%d", n), WaID: to[1:], Input: to}, nil
}

func (s *sender) SendTemplate(_ context.Context, _ whatsapp.Credentials, to, _, _ string, _ json.RawMessage) (whatsapp.SendResult, error) {
	return s.send(to)
}

func (s *sender) SendText(_ context.Context, _ whatsapp.Credentials, to, _ string) (whatsapp.SendResult, error) {
	return s.send(to)
}

func (s *sender) SendMedia(_ context.Context, _ whatsapp.Credentials, to, _, _, _, _ string) (whatsapp.SendResult, error) {
	return s.send(to)
}

// fixture is a demo app with a whatsapp_cloud channel whose app dispatcher is off; the test's
// own dispatcher sends through a fake sender, on a fake clock that only the test moves.
type fixture struct {
	env    *apptest.Env
	clock  *clock.Fake
	sender *sender
	events *event.Subscription
	d      *dispatch.Dispatcher
	ctx    context.Context
	// deadline only bounds a broken test's waits; a passing test never reaches it.
	deadline context.Context

	channelID, teamID, templateID string
	phones                        int
}

// each runs fn on both engines; reply answers the sender's calls (nil: every send succeeds).
func each(t *testing.T, cfg dispatch.Config, reply func(n int) error, fn func(t *testing.T, f *fixture)) {
	var fake *clock.Fake // one per engine, made as its app is
	configure := func(c *app.Config) {
		fake = clock.NewFake(time.Now().UTC().Truncate(time.Second))
		// The dispatcher alone waits on this clock: the tests count its timers.
		c.NoDispatcher, c.NoEventLogSweep, c.NoWaitingSweep, c.Clock = true, true, true, fake
	}
	apptest.EachWith(t, apptest.Options{Configure: configure}, func(t *testing.T, env *apptest.Env) {
		if reply == nil {
			reply = func(int) error { return nil }
		}
		deadline, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		t.Cleanup(cancel)
		f := &fixture{env: env, clock: fake, ctx: env.Ctx(), deadline: deadline,
			sender: &sender{clock: fake, reply: reply, calls: make(chan call, 100)}}
		a := env.App
		s := func(v string) *string { return &v }
		ch, err := a.Channels.Create(f.ctx, channel.Input{Name: s("Cloud"), Provider: s(channel.ProviderWhatsAppCloud), PhoneNumber: s("+551140009999"),
			PhoneNumberID: s("1098765"), WABAID: s("2098765"), AccessToken: s("token"), AppSecret: s("app-secret"), VerifyToken: s("verify")})
		require.NoError(t, err)
		chans := []string{ch.ID}
		tm, err := a.Teams.Create(f.ctx, team.Input{Name: s("Cloud"), ChannelIDs: &chans})
		require.NoError(t, err)
		comps, _ := json.Marshal([]map[string]string{{"type": "BODY", "text": "Olá {{1}}"}})
		tp, err := a.Templates.Create(f.ctx, template.Input{ChannelID: &ch.ID, Name: s("ola"), Language: s("pt_BR"), Category: s("UTILITY"),
			Status: s("APPROVED"), ParameterFormat: s("POSITIONAL"), Components: comps})
		require.NoError(t, err)
		f.channelID, f.teamID, f.templateID = ch.ID, tm.ID, tp.ID
		cfg.Clock = fake
		f.d = dispatch.New(cfg, nil, a.Conversations, a.Channels, a.Contacts, f.sender, slog.New(slog.DiscardHandler))
		f.events = a.Events.Subscribe(env.Demo.AccountID)
		t.Cleanup(f.events.Close)
		fn(t, f)
	})
}

// start opens a conversation with a new contact; its opening template is due now.
func (f *fixture) start(t *testing.T) conversation.Started {
	t.Helper()
	f.phones++
	phone := fmt.Sprintf("+55119777%05d", f.phones)
	st, err := f.env.App.Conversations.Start(f.ctx, conversation.Actor{}, conversation.StartInput{Contact: &contact.Input{Phone: &phone},
		ChannelID: &f.channelID, TeamID: &f.teamID, TemplateID: &f.templateID, Parameters: json.RawMessage(`["cliente"]`)})
	require.NoError(t, err)
	return st
}

// run starts the dispatcher, stopped at the end of the test.
func (f *fixture) run(t *testing.T) {
	f.d.Start(context.Background())
	t.Cleanup(f.d.Stop)
}

// call returns the sender's next call.
func (f *fixture) call(t *testing.T) call {
	t.Helper()
	select {
	case c := <-f.sender.calls:
		return c
	case <-f.deadline.Done():
		t.Fatal("no call reached the sender")
		return call{}
	}
}

// asleep returns once n timers wait on the fake clock: the dispatcher is waiting for the time
// to move (its poll or a retry's due time, or pacing sends).
func (f *fixture) asleep(t *testing.T, n int) {
	t.Helper()
	require.NoError(t, f.clock.WaitTimers(f.deadline, n), "the dispatcher never waited on the clock")
}

// message waits for an event about message id after which it has the status, and returns it.
func (f *fixture) message(t *testing.T, id string, status conversation.MessageStatus) conversation.Message {
	t.Helper()
	for {
		var e event.Event
		select {
		case ev, ok := <-f.events.Events():
			require.True(t, ok, "the event subscription was dropped")
			e = ev
		case <-f.deadline.Done():
			t.Fatalf("no event leaves message %s %s", id, status)
		}
		if e.Kind != conversation.EventMessageUpdated || e.ID != id {
			continue
		}
		m, err := f.env.App.Conversations.GetMessage(f.ctx, id)
		require.NoError(t, err)
		if m.Status == status {
			return m
		}
	}
}

// transient is a throughput error (130429) asking to retry after the given delay.
func transient(retryAfter time.Duration) error {
	return &whatsapp.Error{HTTPStatus: 429, Code: 130429, Title: "Rate limit hit", Transient: true, RetryAfter: retryAfter}
}

// Sends on one channel are paced at ChannelRate: a burst of ChannelRate at once, then one every
// 1/ChannelRate seconds.
func TestPacingPerChannel(t *testing.T) {
	each(t, dispatch.Config{ChannelRate: 2, Poll: time.Hour}, nil, func(t *testing.T, f *fixture) {
		for range 5 {
			f.start(t)
		}
		t0 := f.clock.Now()
		f.run(t)
		for range 2 {
			require.Equal(t, t0, f.call(t).at, "the burst leaves at once")
		}
		for i := 1; i <= 3; i++ {
			f.asleep(t, 4-i) // the sends still waiting for their slot
			require.Equal(t, 500*time.Millisecond, f.clock.AdvanceToNext())
			require.Equal(t, t0.Add(time.Duration(i)*500*time.Millisecond), f.call(t).at)
		}
		// Every message is out: the dispatcher is back on its poll, and a sixth send would have
		// come before it.
		f.asleep(t, 1)
		require.Empty(t, f.sender.calls)
	})
}

// A transient error's Retry-After is honoured: the next attempt comes exactly that much later
// (the backoff for a first retry is at most a second), and then the message is sent.
func TestRetryHonoursRetryAfter(t *testing.T) {
	reply := func(n int) error {
		if n == 1 {
			return transient(30 * time.Second)
		}
		return nil
	}
	each(t, dispatch.Config{Poll: time.Hour}, reply, func(t *testing.T, f *fixture) {
		st := f.start(t)
		f.run(t)
		first := f.call(t)
		f.asleep(t, 1)
		require.Equal(t, 30*time.Second, f.clock.AdvanceToNext(), "the dispatcher sleeps until the retry is due")
		second := f.call(t)
		require.Equal(t, first.at.Add(30*time.Second), second.at)
		m := f.message(t, st.OpeningMessage.ID, conversation.MsgSent)
		require.Equal(t, "wamid.fake.2", *m.ProviderMessageID)
	})
}

// Without Retry-After, retries back off exponentially with jitter: the n-th retry waits
// between 2^(n-1)/2 and 2^(n-1) seconds.
func TestRetryBacksOff(t *testing.T) {
	reply := func(n int) error {
		if n <= 3 {
			return transient(0)
		}
		return nil
	}
	each(t, dispatch.Config{Poll: time.Hour}, reply, func(t *testing.T, f *fixture) {
		st := f.start(t)
		f.run(t)
		prev := f.call(t)
		for attempt := 1; attempt <= 3; attempt++ {
			f.asleep(t, 1)
			waited := f.clock.AdvanceToNext()
			base := time.Second << (attempt - 1)
			require.GreaterOrEqual(t, waited, base/2, "retry %d", attempt)
			require.LessOrEqual(t, waited, base, "retry %d", attempt)
			next := f.call(t)
			require.Equal(t, prev.at.Add(waited), next.at)
			prev = next
		}
		f.message(t, st.OpeningMessage.ID, conversation.MsgSent)
	})
}

// A message that keeps failing transiently fails for good at MaxAttempts, with the provider's
// code; a permanent error fails it at the first attempt. Either way its opening fails the
// conversation.
func TestFailures(t *testing.T) {
	t.Run("max attempts", func(t *testing.T) {
		each(t, dispatch.Config{Poll: time.Hour, MaxAttempts: 3}, func(int) error { return transient(time.Minute) }, func(t *testing.T, f *fixture) {
			st := f.start(t)
			f.run(t)
			f.call(t)
			for range 2 {
				f.asleep(t, 1)
				require.Equal(t, time.Minute, f.clock.AdvanceToNext())
				f.call(t)
			}
			m := f.message(t, st.OpeningMessage.ID, conversation.MsgFailed)
			require.NotNil(t, m.Error)
			require.Equal(t, 130429, m.Error.Code)
			require.Contains(t, m.Error.Title, "gave up after 3 attempts")
			c, err := f.env.App.Conversations.Get(f.ctx, conversation.Actor{}, st.Conversation.ID)
			require.NoError(t, err)
			require.Equal(t, conversation.StatusFailed, c.Status)
			// No fourth attempt: the dispatcher went back to its poll with nothing due, and the
			// send would have come before the poll fires.
			f.asleep(t, 1)
			require.Greater(t, f.clock.AdvanceToNext(), 30*time.Minute)
			f.asleep(t, 1)
			require.Empty(t, f.sender.calls)
		})
	})
	t.Run("permanent", func(t *testing.T) {
		perm := &whatsapp.Error{HTTPStatus: 400, Code: 131026, Title: "Message undeliverable"}
		each(t, dispatch.Config{Poll: time.Hour}, func(int) error { return perm }, func(t *testing.T, f *fixture) {
			st := f.start(t)
			f.run(t)
			f.call(t)
			m := f.message(t, st.OpeningMessage.ID, conversation.MsgFailed)
			require.Equal(t, 131026, m.Error.Code)
			require.Equal(t, "Message undeliverable", m.Error.Title)
			require.Empty(t, f.sender.calls)
		})
	})
}

// Claims overlap the sends in flight. A send slower than its lease leaves its message
// claimable again: the next claim of this dispatcher takes it back, and must neither send it a
// second time nor hold up the other conversations; the send in flight records it.
func TestSendSlowerThanItsLeaseIsNotSentTwice(t *testing.T) {
	var release atomic.Pointer[chan struct{}] // one per engine
	reply := func(n int) error {
		if n == 1 {
			<-*release.Load()
		}
		return nil
	}
	each(t, dispatch.Config{Poll: time.Hour, Lease: time.Minute}, reply, func(t *testing.T, f *fixture) {
		ch := make(chan struct{})
		release.Store(&ch)
		slow := f.start(t)
		f.run(t)
		var once sync.Once
		unblock := func() { once.Do(func() { close(ch) }) }
		t.Cleanup(unblock) // before the dispatcher's Stop, which waits for the send
		first := f.call(t)
		// The lease runs out while the first send is still waiting for its answer; a second
		// conversation falls due, and the dispatcher claims again.
		f.clock.Advance(2 * time.Minute)
		other := f.start(t)
		f.d.Wake()
		second := f.call(t)
		require.NotEqual(t, first.to, second.to, "the message in flight was sent again")
		f.message(t, other.OpeningMessage.ID, conversation.MsgSent)
		unblock()
		m := f.message(t, slow.OpeningMessage.ID, conversation.MsgSent)
		require.Equal(t, "wamid.fake.1", *m.ProviderMessageID)
		// Stop waits for every send in flight: none is left to reach the sender.
		f.d.Stop()
		require.Empty(t, f.sender.calls)
	})
}

// The record of a group of sends logs its events: on SQLite in the record's own transaction (a
// write transaction of its own would queue behind every other writer), on Postgres once it has
// committed (the log's ids follow commit order).
func TestRecordLogsItsEventsInItsTransactionOnSQLite(t *testing.T) {
	each(t, dispatch.Config{Poll: time.Hour}, nil, func(t *testing.T, f *fixture) {
		st := f.start(t)
		var mu sync.Mutex
		var inTx []bool
		stop := f.env.App.DB.Trace(func(ctx context.Context, sql string) {
			if strings.Contains(sql, "event_log") && strings.HasPrefix(strings.TrimSpace(sql), "INSERT") {
				mu.Lock()
				inTx = append(inTx, store.InTransaction(ctx))
				mu.Unlock()
			}
		})
		defer stop()
		f.run(t)
		f.call(t)
		f.message(t, st.OpeningMessage.ID, conversation.MsgSent)
		stop()
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, inTx, 1, "the record's events are logged with one statement")
		require.Equal(t, f.env.App.DB.Dialect() == store.SQLite, inTx[0])
	})
}
