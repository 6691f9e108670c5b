package conversation_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/pricing"
)

// recorder counts the dispatcher wake-ups and the published events of a conversation service.
type recorder struct {
	mu     sync.Mutex
	wakes  int
	events []string
}

func (r *recorder) wake() { r.mu.Lock(); r.wakes++; r.mu.Unlock() }

func (r *recorder) Publish(_ context.Context, _, kind, _ string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, kind)
}

func (r *recorder) seen() (int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wakes, append([]string(nil), r.events...)
}

// A start inside a caller's transaction (as the idempotent start runs) wakes the dispatcher and
// publishes its events once that transaction commits, and never when it rolls back.
func TestStartEffectsFollowTheOuterCommit(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		a := env.App
		rec := &recorder{}
		svc := conversation.NewService(a.DB, conversation.Deps{Contacts: a.Contacts, Channels: a.Channels, Teams: a.Teams,
			Templates: a.Templates, Card: pricing.Default(), Wake: rec.wake, Publisher: rec})
		start := func(ctx context.Context, phone string) error {
			ch, team, tpl := env.Demo.ChannelID, env.Demo.TeamIDs[0], env.Demo.TemplateIDs["boas_vindas"]
			now := "now"
			_, err := svc.Start(ctx, conversation.Actor{}, conversation.StartInput{Contact: &contact.Input{Phone: &phone},
				ChannelID: &ch, TeamID: &team, SendType: &now, TemplateID: &tpl,
				Parameters: []byte(`{"nome":"Maria","atendente":"Ana"}`)})
			return err
		}

		rollback := errors.New("rolled back")
		err := a.DB.InTx(env.Ctx(), func(ctx context.Context) error {
			require.NoError(t, start(ctx, "21 99876-2001"))
			wakes, events := rec.seen()
			require.Zero(t, wakes, "woken before the commit")
			require.Empty(t, events, "published before the commit")
			return rollback
		})
		require.ErrorIs(t, err, rollback)
		wakes, events := rec.seen()
		require.Zero(t, wakes)
		require.Empty(t, events)

		require.NoError(t, a.DB.InTx(env.Ctx(), func(ctx context.Context) error {
			return start(ctx, "21 99876-2002")
		}))
		wakes, events = rec.seen()
		require.Equal(t, 1, wakes)
		require.Equal(t, []string{conversation.EventConversationCreated, conversation.EventMessageCreated}, events)

		// Without a caller's transaction, Start's own commit is the one.
		require.NoError(t, start(env.Ctx(), "21 99876-2003"))
		wakes, events = rec.seen()
		require.Equal(t, 2, wakes)
		require.Len(t, events, 4)
	})
}
