package conversation_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/store"
)

func str(s string) *string { return &s }

// accountUser is a new agent of the demo account, in no team.
func accountUser(email string) account.UserInput {
	role := account.RoleAgent
	return account.UserInput{Name: str("Fora"), Email: &email, Password: str("uma-senha-longa-o-bastante"), Role: &role}
}

// fixture is a conversation service on the demo data whose clock the test moves.
type fixture struct {
	env *apptest.Env
	svc *conversation.Service
	now time.Time
}

func setup(t *testing.T, env *apptest.Env) *fixture {
	a := env.App
	f := &fixture{env: env, now: store.Now()}
	f.svc = conversation.NewService(a.DB, conversation.Deps{Contacts: a.Contacts, Channels: a.Channels, Teams: a.Teams,
		Templates: a.Templates})
	f.svc.SetClock(func() time.Time { return f.now })
	return f
}

// start opens a conversation with a new contact by the demo's welcome template.
func (f *fixture) start(t *testing.T, phone string) conversation.Started {
	t.Helper()
	d := f.env.Demo
	st, err := f.svc.Start(f.env.Ctx(), conversation.Actor{}, conversation.StartInput{Contact: &contact.Input{Phone: &phone},
		ChannelID: &d.ChannelID, TeamID: &d.TeamIDs[0], TemplateID: str(d.TemplateIDs["boas_vindas"]),
		Parameters: []byte(`{"nome":"Maria","atendente":"Ana"}`)})
	require.NoError(t, err)
	return st
}

// A start with everything wrong reports every failure at once, in the order of its checks.
func TestStartReportsEveryFailureTogether(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		f := setup(t, env)
		missing := store.NewID()
		_, err := f.svc.Start(env.Ctx(), conversation.Actor{}, conversation.StartInput{ContactID: &missing, ChannelID: &missing,
			TeamID: &missing, SendType: str(conversation.SendScheduled), ScheduledAt: str("2000-01-01T00:00:00Z")})
		require.Equal(t, []string{"contact_id:contact_not_found", "channel_id:channel_not_found", "team_id:team_not_found",
			"scheduled_at:scheduled_at_invalid", "template_id:template_required"}, apperr.FieldsOf(err).Codes(), "%v", err)

		d := env.Demo
		_, err = f.svc.Start(env.Ctx(), conversation.Actor{}, conversation.StartInput{Contact: &contact.Input{Phone: str("123")},
			ChannelID: &d.ChannelID, TeamID: &d.TeamIDs[0], TemplateID: str(d.TemplateIDs["boas_vindas"]), Text: str("oi"),
			Parameters: []byte(`{"nome":""}`)})
		require.Equal(t, []string{"contact.phone:phone_invalid", "text:text_not_allowed", "parameters.nome:parameter_invalid",
			"parameters.atendente:parameter_missing"}, apperr.FieldsOf(err).Codes(), "%v", err)
	})
}

// An agent who is not in the team is told so with the other failures; admins and keys are not.
func TestStartChecksTheAgentsTeam(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		f := setup(t, env)
		d := env.Demo
		outsider, err := env.App.Accounts.CreateUser(env.Ctx(), accountUser("fora@demo.atendimento.dev"))
		require.NoError(t, err)
		in := conversation.StartInput{ContactID: &d.ContactID, ChannelID: &d.ChannelID, TeamID: &d.TeamIDs[0]}
		_, err = f.svc.Start(env.Ctx(), conversation.Actor{UserID: outsider.ID}, in)
		require.Equal(t, []string{"team_id:user_not_in_team", "template_id:template_required"}, apperr.FieldsOf(err).Codes(), "%v", err)
		_, err = f.svc.Start(env.Ctx(), conversation.Actor{UserID: outsider.ID, IsAdmin: true}, in)
		require.Equal(t, []string{"template_id:template_required"}, apperr.FieldsOf(err).Codes(), "%v", err)
	})
}

// A posted message follows the conversation's state and window: queued while waiting, sent
// inside the window, refused after it unless it is a template (which re-engages), and nothing
// once closed.
func TestPostFollowsStateAndWindow(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		f := setup(t, env)
		ctx, d := env.Ctx(), env.Demo
		st := f.start(t, "21 99876-3001")
		id := st.Conversation.ID
		require.Equal(t, conversation.StatusWaiting, st.Conversation.Status)

		m, err := f.svc.Post(ctx, conversation.Actor{}, id, conversation.PostInput{Text: str("fila")})
		require.NoError(t, err)
		require.Equal(t, conversation.MsgQueued, m.Status)
		require.Nil(t, m.DueAt, "a queued message waits for the reply, not for a time")

		_, err = f.svc.Receive(ctx, conversation.Inbound{ChannelID: d.ChannelID, From: "5521998763001",
			ProviderMessageID: "wamid.post-1", At: f.now, Type: "text", Text: "oi"})
		require.NoError(t, err)
		m, err = f.svc.Post(ctx, conversation.Actor{}, id, conversation.PostInput{Text: str("dentro da janela")})
		require.NoError(t, err)
		require.Equal(t, conversation.MsgPending, m.Status)

		f.now = f.now.Add(conversation.WindowLength + time.Minute)
		_, err = f.svc.Post(ctx, conversation.Actor{}, id, conversation.PostInput{Text: str("tarde demais")})
		require.Equal(t, []string{"template_id:template_required"}, apperr.FieldsOf(err).Codes(), "%v", err)

		m, err = f.svc.Post(ctx, conversation.Actor{}, id, conversation.PostInput{TemplateID: str(d.TemplateIDs["boas_vindas"]),
			Parameters: []byte(`{"nome":"Maria","atendente":"Ana"}`)})
		require.NoError(t, err)
		require.Equal(t, conversation.MsgPending, m.Status)
		c, err := f.svc.Get(ctx, conversation.Actor{}, id)
		require.NoError(t, err)
		require.Equal(t, conversation.StatusWaiting, c.Status, "a template after the window re-engages the contact")
		m, err = f.svc.Post(ctx, conversation.Actor{}, id, conversation.PostInput{Text: str("fila de novo")})
		require.NoError(t, err)
		require.Equal(t, conversation.MsgQueued, m.Status)

		_, err = f.svc.Close(ctx, conversation.Actor{}, id, nil)
		require.NoError(t, err)
		_, err = f.svc.Post(ctx, conversation.Actor{}, id, conversation.PostInput{Text: str("fechada")})
		e, ok := apperr.As(err)
		require.True(t, ok)
		require.Equal(t, "conversation_closed", e.Code)
		require.Equal(t, apperr.KindConflict, e.Kind)
	})
}

// A body that carries neither text nor a template, or both, is refused with its fields.
func TestPostChecksTheBody(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		f := setup(t, env)
		id := f.start(t, "21 99876-3002").Conversation.ID
		_, err := f.svc.Post(env.Ctx(), conversation.Actor{}, id, conversation.PostInput{Text: str("   ")})
		require.Equal(t, []string{"text:text_required"}, apperr.FieldsOf(err).Codes(), "%v", err)
		_, err = f.svc.Post(env.Ctx(), conversation.Actor{}, id, conversation.PostInput{Text: str("oi"), TemplateID: str(store.NewID())})
		require.Equal(t, []string{"text:text_not_allowed", "template_id:template_not_found"}, apperr.FieldsOf(err).Codes(), "%v", err)
		_, err = f.svc.Post(env.Ctx(), conversation.Actor{}, store.NewID(), conversation.PostInput{Text: str("oi")})
		require.True(t, errors.Is(err, conversation.ErrNotFound))
	})
}
