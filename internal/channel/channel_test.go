package channel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/store"
)

func str(s string) *string { return &s }

func cloudInput() channel.Input {
	return channel.Input{Name: str("Loja"), Provider: str(channel.ProviderWhatsAppCloud), PhoneNumber: str("+55 11 4000-9999"),
		PhoneNumberID: str("1234567890"), WABAID: str("987654321"), AccessToken: str("EAAG-token-de-acesso"),
		AppSecret: str("segredo-do-app"), VerifyToken: str("token-de-verificacao")}
}

// storedSecrets reads a channel's secret columns as they are at rest.
func storedSecrets(t *testing.T, env *apptest.Env, id string) []string {
	t.Helper()
	var row struct{ AccessToken, AppSecret, VerifyToken string }
	require.NoError(t, env.App.DB.Conn(env.Ctx()).Table("channels").Select("access_token, app_secret, verify_token").
		Where("id = ?", id).Take(&row).Error)
	return []string{row.AccessToken, row.AppSecret, row.VerifyToken}
}

// Meta's secrets are sealed before they are stored, reported only as present, and opened only
// for the provider and the webhook; a change that leaves them out keeps them.
func TestSecretsAreEncryptedAtRest(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		svc, ctx := env.App.Channels, env.Ctx()
		ch, err := svc.Create(ctx, cloudInput())
		require.NoError(t, err)
		require.True(t, ch.HasAccessToken && ch.HasAppSecret && ch.HasVerifyToken)
		require.Equal(t, "+551140009999", ch.PhoneNumber)

		plain := []string{"EAAG-token-de-acesso", "segredo-do-app", "token-de-verificacao"}
		for i, at := range storedSecrets(t, env, ch.ID) {
			require.NotEmpty(t, at)
			require.NotContains(t, at, plain[i], "a secret is stored in the clear")
		}
		sec, err := svc.Secrets(ctx, ch.ID)
		require.NoError(t, err)
		require.Equal(t, channel.Secrets{AccessToken: plain[0], AppSecret: plain[1], VerifyToken: plain[2]}, sec)

		// The webhook knows only the channel id, before any account.
		_, sec, err = svc.ForWebhook(context.Background(), ch.ID)
		require.NoError(t, err)
		require.Equal(t, plain[2], sec.VerifyToken)

		before := storedSecrets(t, env, ch.ID)
		_, err = svc.Update(ctx, ch.ID, channel.Input{Name: str("Loja Centro")})
		require.NoError(t, err)
		require.Equal(t, before, storedSecrets(t, env, ch.ID))
		_, err = svc.Update(ctx, ch.ID, channel.Input{AccessToken: str("novo-token")})
		require.NoError(t, err)
		sec, err = svc.Secrets(ctx, ch.ID)
		require.NoError(t, err)
		require.Equal(t, "novo-token", sec.AccessToken)
		require.Equal(t, plain[1], sec.AppSecret)
	})
}

// A whatsapp_cloud channel needs all of Meta's ids and secrets; every missing one is reported at
// once, and a provider cannot change afterwards.
func TestChannelRules(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		svc, ctx := env.App.Channels, env.Ctx()
		_, err := svc.Create(ctx, channel.Input{Name: str("Loja"), Provider: str(channel.ProviderWhatsAppCloud)})
		require.Equal(t, []string{"phone_number_id:required", "waba_id:required", "access_token:required", "app_secret:required",
			"verify_token:required", "phone_number:required"}, apperr.FieldsOf(err).Codes(), "%v", err)
		_, err = svc.Create(ctx, channel.Input{Provider: str("telegram"), PhoneNumber: str("12"), DefaultTeamID: str(store.NewID())})
		require.Equal(t, []string{"phone_number:phone_invalid", "default_team_id:team_not_found", "name:required",
			"provider:provider_invalid"}, apperr.FieldsOf(err).Codes(), "%v", err)

		_, err = svc.Update(ctx, env.Demo.ChannelID, channel.Input{Provider: str(channel.ProviderWhatsAppCloud)})
		require.Equal(t, []string{"provider:provider_immutable"}, apperr.FieldsOf(err).Codes(), "%v", err)

		ch, err := svc.Update(ctx, env.Demo.ChannelID, channel.Input{DefaultTeamID: &env.Demo.TeamIDs[0]})
		require.NoError(t, err)
		require.Equal(t, env.Demo.TeamIDs[0], *ch.DefaultTeamID)
		ch, err = svc.Update(ctx, env.Demo.ChannelID, channel.Input{DefaultTeamID: str("")})
		require.NoError(t, err)
		require.Nil(t, ch.DefaultTeamID)
	})
}

// No account reaches another's channels; ids that are not UUIDs are simply not found.
func TestChannelsStayInTheirAccount(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		svc := env.App.Channels
		acc, err := env.App.Accounts.CreateAccount(context.Background(), "Outra", "BR")
		require.NoError(t, err)
		other := store.WithAccount(context.Background(), acc.ID)
		for _, id := range []string{env.Demo.ChannelID, "not-a-uuid"} {
			_, err = svc.Get(other, id)
			require.True(t, errors.Is(err, channel.ErrNotFound), "%v", err)
			_, err = svc.Secrets(other, id)
			require.True(t, errors.Is(err, channel.ErrNotFound), "%v", err)
		}
		missing, err := svc.Missing(other, []string{env.Demo.ChannelID})
		require.NoError(t, err)
		require.Equal(t, []string{env.Demo.ChannelID}, missing)
		list, _, err := svc.List(other, store.Page{})
		require.NoError(t, err)
		require.Empty(t, list)
	})
}

// A signed delivery's time is written at most once a minute per channel: within the minute the
// stored time stays the first one, a minute later it moves on.
func TestWebhookReceivedWritesAtMostOnceAMinute(t *testing.T) {
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		svc, ctx := env.App.Channels, env.Ctx()
		ch, err := svc.Create(ctx, cloudInput())
		require.NoError(t, err)
		require.Nil(t, ch.LastWebhookAt)
		other, err := svc.Create(ctx, cloudInput())
		require.NoError(t, err)

		t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
		require.NoError(t, svc.WebhookReceived(ctx, ch.ID, t0))
		got := func(id string) *time.Time {
			c, err := svc.Get(ctx, id)
			require.NoError(t, err)
			return c.LastWebhookAt
		}
		require.True(t, got(ch.ID).Equal(t0))
		require.NoError(t, svc.WebhookReceived(ctx, ch.ID, t0.Add(59*time.Second)))
		require.True(t, got(ch.ID).Equal(t0), "within the minute nothing is written")
		require.Nil(t, got(other.ID), "per channel")
		require.NoError(t, svc.WebhookReceived(ctx, other.ID, t0.Add(59*time.Second)))
		require.True(t, got(other.ID).Equal(t0.Add(59*time.Second)))
		require.NoError(t, svc.WebhookReceived(ctx, ch.ID, t0.Add(61*time.Second)))
		require.True(t, got(ch.ID).Equal(t0.Add(61*time.Second)), "a minute later it moves on")
	})
}
