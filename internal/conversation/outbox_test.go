package conversation_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/clock"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/pricing"
)

// lease is the claims' lease in these tests.
const lease = time.Minute

// outbox is a conversation service over a demo app whose dispatcher is off, so the test alone
// claims and records, on a fake clock it moves by hand.
type outbox struct {
	env   *apptest.Env
	svc   *conversation.Service
	clock *clock.Fake
	ctx   context.Context
	// phones numbers the contacts of started conversations.
	phones int
}

func eachOutbox(t *testing.T, fn func(t *testing.T, o *outbox)) {
	apptest.EachWith(t, apptest.Options{Configure: func(c *app.Config) { c.NoDispatcher = true }}, func(t *testing.T, env *apptest.Env) {
		fake := clock.NewFake(time.Now().UTC().Truncate(time.Second))
		fn(t, &outbox{env: env, svc: newService(env, fake), clock: fake, ctx: env.Ctx()})
	})
}

// newService is another instance's conversation service on the same database and clock.
func newService(env *apptest.Env, c clock.Clock) *conversation.Service {
	a := env.App
	svc := conversation.NewService(a.DB, conversation.Deps{Contacts: a.Contacts, Channels: a.Channels, Teams: a.Teams,
		Templates: a.Templates, Card: pricing.Default(), Wake: func() {}, Publisher: discard{}})
	svc.SetClock(c.Now)
	return svc
}

type discard struct{}

func (discard) Publish(context.Context, string, string, string) {}

// start opens a conversation on the demo sandbox channel, its opening due now; with texts, the
// contact replies and the texts are posted inside the window, due now too (behind the opening).
func (o *outbox) start(t *testing.T, texts ...string) conversation.Started {
	t.Helper()
	o.phones++
	phone := fmt.Sprintf("+55119876%05d", o.phones)
	d := o.env.Demo
	ch, team, tpl, now := d.ChannelID, d.TeamIDs[0], d.TemplateIDs["boas_vindas"], "now"
	st, err := o.svc.Start(o.ctx, conversation.Actor{}, conversation.StartInput{Contact: &contact.Input{Phone: &phone},
		ChannelID: &ch, TeamID: &team, SendType: &now, TemplateID: &tpl, Parameters: []byte(`{"nome":"Maria","atendente":"Ana"}`)})
	require.NoError(t, err)
	if len(texts) == 0 {
		return st
	}
	_, err = o.svc.Receive(o.ctx, conversation.Inbound{ChannelID: ch, From: phone[1:], ProviderMessageID: "wamid.in." + phone,
		At: o.clock.Now(), Type: "text", Text: "oi"})
	require.NoError(t, err)
	for _, text := range texts {
		m, err := o.svc.Post(o.ctx, conversation.Actor{}, st.Conversation.ID, conversation.PostInput{Text: &text})
		require.NoError(t, err)
		require.Equal(t, conversation.MsgPending, m.Status)
	}
	return st
}

func (o *outbox) claim(t *testing.T, limit int) []conversation.OutboxItem {
	t.Helper()
	items, err := o.svc.Claim(context.Background(), limit, lease)
	require.NoError(t, err)
	return items
}

func (o *outbox) markSent(t *testing.T, items ...conversation.OutboxItem) {
	t.Helper()
	sent := make([]conversation.Sent, len(items))
	for i, it := range items {
		sent[i] = conversation.Sent{Item: it, ProviderID: "wamid.out." + it.ID}
	}
	require.NoError(t, o.svc.MarkSentBatch(context.Background(), sent))
}

func texts(items []conversation.OutboxItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Text
	}
	return out
}

// A claim offers only each conversation's next message, so a conversation's messages leave
// strictly in seq order, one at a time, while other conversations go alongside.
func TestClaimOffersEachConversationsNextMessage(t *testing.T) {
	eachOutbox(t, func(t *testing.T, o *outbox) {
		a := o.start(t, "a1", "a2")
		b := o.start(t)

		heads := o.claim(t, 10)
		require.Len(t, heads, 2, "one message per conversation")
		byConv := map[string]conversation.OutboxItem{}
		for _, it := range heads {
			byConv[it.ConversationID] = it
			require.Equal(t, "template", it.Type)
			require.EqualValues(t, 1, it.Seq)
			require.Equal(t, 1, it.Attempts)
		}
		require.Equal(t, a.OpeningMessage.ID, byConv[a.Conversation.ID].ID)
		require.Equal(t, b.OpeningMessage.ID, byConv[b.Conversation.ID].ID)
		require.Empty(t, o.claim(t, 10), "a leased head holds back the messages behind it")

		o.markSent(t, heads...)
		next := o.claim(t, 10)
		require.Equal(t, []string{"a1"}, texts(next))
		require.Empty(t, o.claim(t, 10))
		o.markSent(t, next...)
		last := o.claim(t, 10)
		require.Equal(t, []string{"a2"}, texts(last))
		require.Greater(t, last[0].Seq, next[0].Seq)
		o.markSent(t, last...)
		require.Empty(t, o.claim(t, 10))
	})
}

// A claimed row that is never recorded (its sender crashed) is claimable again once its lease
// has run out, and not a moment before.
func TestClaimReturnsExpiredLeases(t *testing.T) {
	eachOutbox(t, func(t *testing.T, o *outbox) {
		st := o.start(t)
		first := o.claim(t, 10)
		require.Len(t, first, 1)
		require.Equal(t, st.OpeningMessage.ID, first[0].ID)

		o.clock.Advance(lease - time.Second)
		require.Empty(t, o.claim(t, 10), "the lease still holds")
		o.clock.Advance(2 * time.Second)
		again := o.claim(t, 10)
		require.Len(t, again, 1)
		require.Equal(t, first[0].ID, again[0].ID)
		require.Equal(t, 2, again[0].Attempts, "each claim counts an attempt")
	})
}

// Two instances claiming at once never get the same row, and between them get every row.
func TestConcurrentClaimersNeverShareARow(t *testing.T) {
	eachOutbox(t, func(t *testing.T, o *outbox) {
		const convs = 24
		want := map[string]bool{}
		for range convs {
			want[o.start(t).OpeningMessage.ID] = true
		}
		instances := []*conversation.Service{o.svc, newService(o.env, o.clock)}
		got := make([][]string, len(instances))
		errs := make([]error, len(instances))
		ready := make(chan struct{})
		var wg sync.WaitGroup
		for i, svc := range instances {
			wg.Go(func() {
				<-ready
				for {
					items, err := svc.Claim(context.Background(), 3, lease)
					if err != nil || len(items) == 0 {
						errs[i] = err
						return
					}
					for _, it := range items {
						got[i] = append(got[i], it.ID)
					}
				}
			})
		}
		close(ready)
		wg.Wait()
		seen := map[string]bool{}
		for i := range instances {
			require.NoError(t, errs[i])
			for _, id := range got[i] {
				require.False(t, seen[id], "row %s claimed twice", id)
				seen[id] = true
			}
		}
		require.Equal(t, want, seen)
	})
}

// MarkSentBatch records many sends in one go: each message gets its WhatsApp id, a status
// that arrived before the record is applied with it, and a message recorded already is left
// as it is (a second recording of the same claim changes nothing).
func TestMarkSentBatchRecordsAGroup(t *testing.T) {
	eachOutbox(t, func(t *testing.T, o *outbox) {
		for range 3 {
			o.start(t)
		}
		items := o.claim(t, 10)
		require.Len(t, items, 3)
		early := "wamid.out." + items[0].ID
		// The webhook's "delivered" overtakes the send's answer: kept until the send is recorded.
		require.NoError(t, o.svc.ApplyStatus(o.ctx, conversation.StatusUpdate{ProviderMessageID: early,
			Status: conversation.MsgDelivered, At: o.clock.Now()}))

		o.clock.Advance(time.Second)
		o.markSent(t, items...)
		for i, it := range items {
			m, err := o.svc.GetMessage(o.ctx, it.ID)
			require.NoError(t, err)
			require.NotNil(t, m.ProviderMessageID)
			require.Equal(t, "wamid.out."+it.ID, *m.ProviderMessageID)
			require.NotNil(t, m.SentAt)
			require.True(t, m.SentAt.Equal(o.clock.Now()), "sent at the clock's time")
			want := conversation.MsgSent
			if i == 0 {
				want = conversation.MsgDelivered
			}
			require.Equal(t, want, m.Status, "message %d", i)
		}

		again := make([]conversation.Sent, len(items))
		for i, it := range items {
			again[i] = conversation.Sent{Item: it, ProviderID: "wamid.other." + it.ID}
		}
		require.NoError(t, o.svc.MarkSentBatch(context.Background(), again))
		for _, it := range items {
			m, err := o.svc.GetMessage(o.ctx, it.ID)
			require.NoError(t, err)
			require.Equal(t, "wamid.out."+it.ID, *m.ProviderMessageID, "recorded once")
		}
		require.Empty(t, o.claim(t, 10))
	})
}
