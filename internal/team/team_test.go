package team_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/team"
)

func str(s string) *string { return &s }

// fixture is a new team's channel and agents on the demo data.
type fixture struct {
	env       *apptest.Env
	ctx       context.Context
	channelID string
	agents    []string
}

func setup(t *testing.T, env *apptest.Env) fixture {
	f := fixture{env: env, ctx: env.Ctx()}
	ch, err := env.App.Channels.Create(f.ctx, channel.Input{Name: str("Segundo número"), Provider: str(channel.ProviderSandbox),
		PhoneNumber: str("+55 11 4000-5678")})
	require.NoError(t, err)
	f.channelID = ch.ID
	role := account.RoleAgent
	for _, email := range []string{"carla@demo.atendimento.dev", "davi@demo.atendimento.dev"} {
		u, err := env.App.Accounts.CreateUser(f.ctx, account.UserInput{Name: str("Agente"), Email: str(email),
			Password: str("senha-longa-o-bastante"), Role: &role})
		require.NoError(t, err)
		f.agents = append(f.agents, u.ID)
	}
	return f
}

// A team's channels and members are stored as given (duplicates once), answer the start's
// questions, and are replaced whole on update.
func TestMembershipAndChannelLinks(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		f := setup(t, env)
		svc := env.App.Teams
		chans := []string{f.channelID, f.channelID}
		members := []string{f.agents[0]}
		tm, err := svc.Create(f.ctx, team.Input{Name: str("Pós-venda"), ChannelIDs: &chans, MemberIDs: &members})
		require.NoError(t, err)
		require.Equal(t, []string{f.channelID}, tm.ChannelIDs)
		require.Equal(t, members, tm.MemberIDs)

		ask := func(q func(context.Context, string, string) (bool, error), a, b string) bool {
			t.Helper()
			ok, err := q(f.ctx, a, b)
			require.NoError(t, err)
			return ok
		}
		require.True(t, ask(svc.AllowedOnChannel, tm.ID, f.channelID))
		require.False(t, ask(svc.AllowedOnChannel, tm.ID, env.Demo.ChannelID))
		require.True(t, ask(svc.HasMember, tm.ID, f.agents[0]))
		require.False(t, ask(svc.HasMember, tm.ID, f.agents[1]))
		teams, err := svc.TeamsOf(f.ctx, f.agents[0])
		require.NoError(t, err)
		require.Equal(t, []string{tm.ID}, teams)

		chans, members = []string{env.Demo.ChannelID}, []string{f.agents[1]}
		tm, err = svc.Update(f.ctx, tm.ID, team.Input{ChannelIDs: &chans, MemberIDs: &members})
		require.NoError(t, err)
		require.Equal(t, chans, tm.ChannelIDs)
		require.Equal(t, members, tm.MemberIDs)
		require.False(t, ask(svc.HasMember, tm.ID, f.agents[0]))
		require.True(t, ask(svc.AllowedOnChannel, tm.ID, env.Demo.ChannelID))

		list, _, err := svc.List(f.ctx, env.Demo.ChannelID, store.Page{})
		require.NoError(t, err)
		require.Contains(t, teamIDs(list), tm.ID)
		list, _, err = svc.List(f.ctx, f.channelID, store.Page{})
		require.NoError(t, err)
		require.NotContains(t, teamIDs(list), tm.ID)
	})
}

func teamIDs(ts []team.Team) []string {
	out := make([]string, len(ts))
	for i, tm := range ts {
		out[i] = tm.ID
	}
	return out
}

// Links to channels or users of another account, or to none, are reported together; a name is
// unique in the account.
func TestTeamRules(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		f := setup(t, env)
		svc := env.App.Teams
		ghost := store.NewID()
		chans, members := []string{ghost}, []string{ghost, f.agents[0]}
		_, err := svc.Create(f.ctx, team.Input{Name: str(""), ChannelIDs: &chans, MemberIDs: &members})
		require.Equal(t, []string{"name:name_invalid", "channel_ids:channel_not_found", "member_ids:user_not_found"},
			apperr.FieldsOf(err).Codes(), "%v", err)

		_, err = svc.Create(f.ctx, team.Input{Name: str("Cobrança")})
		require.NoError(t, err)
		_, err = svc.Create(f.ctx, team.Input{Name: str("Cobrança")})
		e, ok := apperr.As(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, "team_exists", e.Code)

		acc, err := env.App.Accounts.CreateAccount(context.Background(), "Outra", "BR")
		require.NoError(t, err)
		other := store.WithAccount(context.Background(), acc.ID)
		_, err = svc.Get(other, env.Demo.TeamIDs[0])
		require.True(t, errors.Is(err, team.ErrNotFound), "%v", err)
		ok, err = svc.Exists(other, env.Demo.TeamIDs[0])
		require.NoError(t, err)
		require.False(t, ok)
	})
}
