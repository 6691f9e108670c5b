package conversation_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/store"
)

// inboundText is a text message from a sender (digits, as Meta's wa_id) on the demo channel.
func inboundText(env *apptest.Env, from, wamid string) conversation.Inbound {
	return conversation.Inbound{ChannelID: env.Demo.ChannelID, From: from, ProfileName: "Cliente", ProviderMessageID: wamid,
		At: time.Now(), Type: "text", Text: "oi"}
}

// deliver runs the deliveries concurrently through ReceiveAll and returns each one's outcomes
// and error, in order.
func deliver(env *apptest.Env, svc *conversation.Service, deliveries [][]conversation.Inbound) ([][]conversation.InboundOutcome, []error) {
	outs := make([][]conversation.InboundOutcome, len(deliveries))
	errs := make([]error, len(deliveries))
	var wg sync.WaitGroup
	for i, d := range deliveries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = svc.ReceiveAll(env.Ctx(), d)
		}()
	}
	wg.Wait()
	return outs, errs
}

func countInbound(t *testing.T, env *apptest.Env, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := env.App.DB.Tenant(env.Ctx(), "messages").Where("direction = 'in'")
	if where != "" {
		q = q.Where(where, args...)
	}
	require.NoError(t, q.Count(&n).Error)
	return n
}

// Concurrent deliveries share group commits, and every message is stored once, with its
// contact and conversation: new senders get a receptive conversation, and a sender with several
// messages in the group gets them in one conversation, in seq order.
func TestReceiveAllGroupsConcurrentDeliveries(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		svc := env.App.Conversations
		svc.SetGroupCommit(200*time.Millisecond, nil)
		var deliveries [][]conversation.Inbound
		for i := range 20 {
			deliveries = append(deliveries, []conversation.Inbound{inboundText(env, fmt.Sprintf("5511970%06d", i%15), fmt.Sprintf("wamid.group.%d", i))})
		}
		// One delivery with two messages of a new sender.
		deliveries = append(deliveries, []conversation.Inbound{inboundText(env, "5511971000001", "wamid.group.two.a"),
			inboundText(env, "5511971000001", "wamid.group.two.b")})
		outs, errs := deliver(env, svc, deliveries)
		for i := range deliveries {
			require.NoError(t, errs[i])
			for _, o := range outs[i] {
				require.NoError(t, o.Err)
				require.False(t, o.Duplicate)
				require.NotEmpty(t, o.MessageID)
			}
		}
		groups, grouped := svc.GroupStats()
		require.EqualValues(t, len(deliveries), grouped, "every delivery stored by a group")
		require.Less(t, groups, int64(len(deliveries)), "deliveries shared groups")
		require.EqualValues(t, 22, countInbound(t, env, "provider_message_id LIKE 'wamid.group.%'"))

		// 16 senders, one open conversation each; the sender of five messages has them as seq 1..5 … in one conversation.
		var convs int64
		require.NoError(t, env.App.DB.Tenant(env.Ctx(), "conversations").Where("origin = ?", conversation.OriginReceptive).Count(&convs).Error)
		require.EqualValues(t, 16, convs)
		conv := outs[0][0].ConversationID
		require.Equal(t, conv, outs[15][0].ConversationID)
		var seqs []int64
		require.NoError(t, env.App.DB.Tenant(env.Ctx(), "messages").Where("conversation_id = ?", conv).Order("seq").Pluck("seq", &seqs).Error)
		require.Equal(t, []int64{1, 2}, seqs)
		c, err := svc.Get(env.Ctx(), conversation.Actor{}, conv)
		require.NoError(t, err)
		require.True(t, c.WindowOpen(time.Now()))
		require.EqualValues(t, 2, c.LastInboundSeq)
		two := outs[len(outs)-1]
		require.Equal(t, two[0].ConversationID, two[1].ConversationID)
		require.True(t, two[0].Created)
		require.False(t, two[1].Created)
	})
}

// A reply to a waiting conversation, delivered in a group, activates it and releases its
// queued texts, as a delivery alone does.
func TestReceiveAllGroupedReplyReleasesTheQueue(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		f := setup(t, env)
		st := f.start(t, "+5511972000001")
		_, err := f.svc.Post(env.Ctx(), conversation.Actor{}, st.Conversation.ID, conversation.PostInput{Text: str("na fila")})
		require.NoError(t, err)
		svc := env.App.Conversations
		svc.SetGroupCommit(100*time.Millisecond, nil)
		// Two replies in one delivery, a third in another delivery of the group, and a new sender.
		outs, errs := deliver(env, svc, [][]conversation.Inbound{
			{inboundText(env, "5511972000001", "wamid.reply.1"), inboundText(env, "5511972000001", "wamid.reply.2")},
			{inboundText(env, "5511972000002", "wamid.reply.new")}})
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		require.Equal(t, st.Conversation.ID, outs[0][0].ConversationID)
		require.Equal(t, st.Conversation.ID, outs[0][1].ConversationID)
		require.Equal(t, 1, outs[0][0].Released+outs[0][1].Released, "the queued text released once")
		c, err := svc.Get(env.Ctx(), conversation.Actor{}, st.Conversation.ID)
		require.NoError(t, err)
		require.Equal(t, conversation.StatusActive, c.Status)
		require.True(t, c.WindowOpen(time.Now()))
		var msgs []struct {
			Seq               int64
			Direction, Status string
			ProviderMessageID *string
		}
		require.NoError(t, env.App.DB.Tenant(env.Ctx(), "messages").Where("conversation_id = ?", st.Conversation.ID).Order("seq").
			Find(&msgs).Error)
		require.Len(t, msgs, 4, "the opening template, the queued text, the two replies")
		for i, m := range msgs {
			require.EqualValues(t, i+1, m.Seq)
		}
		require.NotEqual(t, "queued", msgs[1].Status, "released")
		require.Equal(t, "wamid.reply.1", *msgs[2].ProviderMessageID)
		require.Equal(t, "wamid.reply.2", *msgs[3].ProviderMessageID)
		require.EqualValues(t, 4, c.LastInboundSeq)
	})
}

// A delivery whose item fails in the group's transaction (here a channel that does not exist:
// a foreign key refuses its conversation) is rolled back alone and fails alone; the deliveries
// grouped with it are stored, and a sender whose number is no number is only that item's refusal.
func TestReceiveAllBadDeliveryDoesNotFailItsNeighbours(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		svc := env.App.Conversations
		svc.SetGroupCommit(200*time.Millisecond, nil)
		bad := inboundText(env, "5511973000099", "wamid.bad.channel")
		bad.ChannelID = store.NewID()
		deliveries := [][]conversation.Inbound{
			{inboundText(env, "5511973000001", "wamid.good.1")},
			{inboundText(env, "5511973000002", "wamid.good.2"), bad},
			{inboundText(env, "5511973000003", "wamid.good.3")},
			{inboundText(env, "12", "wamid.nonumber"), inboundText(env, "5511973000004", "wamid.good.4")},
		}
		outs, errs := deliver(env, svc, deliveries)
		require.NoError(t, errs[0])
		require.Error(t, errs[1], "the delivery with the bad item fails (Meta retries it)")
		require.NoError(t, errs[2])
		require.NoError(t, errs[3])
		require.True(t, apperr.IsKind(outs[3][0].Err, apperr.KindInvalid), "%v", outs[3][0].Err)
		require.NoError(t, outs[3][1].Err)
		for _, id := range []string{"wamid.good.1", "wamid.good.3", "wamid.good.4"} {
			require.EqualValues(t, 1, countInbound(t, env, "provider_message_id = ?", id), id)
		}
		require.EqualValues(t, 0, countInbound(t, env, "provider_message_id = ?", "wamid.bad.channel"))
		_, grouped := svc.GroupStats()
		require.GreaterOrEqual(t, grouped, int64(2), "the good deliveries were stored by the group")
	})
}

// The same WhatsApp id twice in one delivery, in two deliveries of one group, and again in a
// later group is stored once; every other copy is reported as a duplicate.
func TestReceiveAllStoresDuplicatesOnce(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		svc := env.App.Conversations
		svc.SetGroupCommit(200*time.Millisecond, nil)
		m := inboundText(env, "5511974000001", "wamid.dup")
		deliveries := [][]conversation.Inbound{{m, m}, {m}, {inboundText(env, "5511974000002", "wamid.other"), m}}
		outs, errs := deliver(env, svc, deliveries)
		stored := 0
		for i := range deliveries {
			require.NoError(t, errs[i])
			for j, o := range outs[i] {
				require.NoError(t, o.Err)
				if deliveries[i][j].ProviderMessageID == "wamid.dup" && !o.Duplicate {
					stored++
				}
			}
		}
		require.Equal(t, 1, stored, "one copy stored, the others duplicates")
		require.EqualValues(t, 1, countInbound(t, env, "provider_message_id = ?", "wamid.dup"))
		require.EqualValues(t, 1, countInbound(t, env, "provider_message_id = ?", "wamid.other"))

		outs, errs = deliver(env, svc, [][]conversation.Inbound{{m}, {m}})
		for i := range outs {
			require.NoError(t, errs[i])
			require.True(t, outs[i][0].Duplicate)
		}
		require.EqualValues(t, 1, countInbound(t, env, "provider_message_id = ?", "wamid.dup"))
	})
}

// When the group's commit fails, every delivery of the group gets the error (none may be
// acknowledged) and nothing of the group is stored; Meta's retry then stores each once.
func TestReceiveAllCommitFailureFailsTheGroup(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		svc := env.App.Conversations
		boom := errors.New("commit refused")
		svc.SetGroupCommit(200*time.Millisecond, func(context.Context) error { return boom })
		deliveries := [][]conversation.Inbound{{inboundText(env, "5511975000001", "wamid.c.1")},
			{inboundText(env, "5511975000002", "wamid.c.2")}, {inboundText(env, "5511975000003", "wamid.c.3")}}
		_, errs := deliver(env, svc, deliveries)
		for i := range deliveries {
			require.ErrorIs(t, errs[i], boom)
		}
		require.EqualValues(t, 0, countInbound(t, env, "provider_message_id LIKE 'wamid.c.%'"))
		var contacts int64
		require.NoError(t, env.App.DB.Tenant(env.Ctx(), "contacts").Where("phone LIKE '+551197500000%'").Count(&contacts).Error)
		require.Zero(t, contacts, "the group's contacts were rolled back with it")

		svc.SetGroupCommit(200*time.Millisecond, nil)
		outs, errs := deliver(env, svc, deliveries)
		for i := range deliveries {
			require.NoError(t, errs[i])
			require.False(t, outs[i][0].Duplicate)
		}
		require.EqualValues(t, 3, countInbound(t, env, "provider_message_id LIKE 'wamid.c.%'"))
	})
}
