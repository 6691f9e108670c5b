package account_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

func str(s string) *string { return &s }

// setup returns the service (with a cheap bcrypt) and a context acting for a new account.
func setup(t *testing.T, db *store.DB) (*account.Service, context.Context) {
	t.Helper()
	svc := account.NewService(db, account.WithBcryptCost(bcrypt.MinCost))
	acc, err := svc.CreateAccount(context.Background(), "Loja", "BR")
	require.NoError(t, err)
	return svc, store.WithAccount(context.Background(), acc.ID)
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func isUnauthorized(t *testing.T, err error) {
	t.Helper()
	require.True(t, apperr.IsKind(err, apperr.KindUnauthorized), "%v", err)
}

// An API key's secret is shown once and stored only as its hash; it authenticates for its
// account and role until revoked.
func TestAPIKeysAreHashed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc, ctx := setup(t, db)
		key, secret, err := svc.CreateAPIKey(ctx, "crm", account.RoleAgent, "")
		require.NoError(t, err)
		require.Equal(t, secret[:8], key.Prefix)

		var stored struct{ SecretHash string }
		require.NoError(t, db.Conn(ctx).Table("api_keys").Select("secret_hash").Where("id = ?", key.ID).Take(&stored).Error)
		require.Equal(t, sha(secret), stored.SecretHash)
		var clear int64
		require.NoError(t, db.Conn(ctx).Table("api_keys").Where("secret_hash = ? OR prefix = ?", secret, secret).Count(&clear).Error)
		require.Zero(t, clear, "the secret is stored in the clear")

		p, err := svc.AuthenticateKey(context.Background(), secret)
		require.NoError(t, err)
		require.Equal(t, account.Principal{AccountID: store.AccountID(ctx), Role: account.RoleAgent, APIKeyID: key.ID}, p)
		for _, bad := range []string{"", secret + "x", sha(secret)} {
			_, err = svc.AuthenticateKey(context.Background(), bad)
			isUnauthorized(t, err)
		}

		require.NoError(t, svc.RevokeAPIKey(ctx, key.ID))
		_, err = svc.AuthenticateKey(context.Background(), secret)
		isUnauthorized(t, err)
		require.Error(t, svc.RevokeAPIKey(ctx, key.ID), "a key is revoked once")

		_, _, err = svc.CreateAPIKey(ctx, " ", account.Role("root"), "")
		require.Equal(t, []string{"name:required", "role:role_invalid"}, apperr.FieldsOf(err).Codes(), "%v", err)
	})
}

// A login opens a fresh session whose token is stored hashed; wrong credentials are
// ErrInvalidCredentials (the login guard counts them), and a logged-out session is gone.
func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc, ctx := setup(t, db)
		role := account.RoleAdmin
		u, err := svc.CreateUser(ctx, account.UserInput{Name: str("Ana"), Email: str("Ana@Example.com"), Password: str("senha-secreta"), Role: &role})
		require.NoError(t, err)
		require.Equal(t, "ana@example.com", u.Email)

		for _, bad := range [][2]string{{"ana@example.com", "errada-errada"}, {"ninguem@example.com", "senha-secreta"}, {"", ""}} {
			_, err = svc.Login(context.Background(), bad[0], bad[1])
			require.True(t, errors.Is(err, account.ErrInvalidCredentials), "%v", err)
		}

		s1, err := svc.Login(context.Background(), " ANA@example.com ", "senha-secreta")
		require.NoError(t, err)
		s2, err := svc.Login(context.Background(), "ana@example.com", "senha-secreta")
		require.NoError(t, err)
		require.NotEqual(t, s1.ID, s2.ID)
		require.NotEqual(t, s1.Token, s2.Token)

		var stored struct{ SecretHash string }
		require.NoError(t, db.Conn(ctx).Table("sessions").Select("secret_hash").Where("id = ?", s1.ID).Take(&stored).Error)
		require.Equal(t, sha(s1.Token), stored.SecretHash)

		p, csrf, err := svc.AuthenticateSession(context.Background(), s1.Token)
		require.NoError(t, err)
		require.Equal(t, s1.CSRFToken, csrf)
		require.Equal(t, account.Principal{AccountID: u.AccountID, Role: account.RoleAdmin, UserID: u.ID, UserName: "Ana", SessionID: s1.ID}, p)

		require.NoError(t, svc.Logout(ctx, s1.ID))
		_, _, err = svc.AuthenticateSession(context.Background(), s1.Token)
		isUnauthorized(t, err)
		_, _, err = svc.AuthenticateSession(context.Background(), s2.Token)
		require.NoError(t, err, "logging out ends only that session")
	})
}

// Users are checked field by field, and an email is unique in its account only.
func TestUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc, ctx := setup(t, db)
		_, err := svc.CreateUser(ctx, account.UserInput{Email: str("x"), Password: str("curta")})
		require.Equal(t, []string{"name:required", "email:email_invalid", "password:password_invalid", "role:required"},
			apperr.FieldsOf(err).Codes(), "%v", err)

		role := account.RoleAgent
		in := account.UserInput{Name: str("Bruno"), Email: str("bruno@example.com"), Password: str("senha-secreta"), Role: &role}
		_, err = svc.CreateUser(ctx, in)
		require.NoError(t, err)
		_, err = svc.CreateUser(ctx, in)
		e, ok := apperr.As(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, "user_exists", e.Code)

		other, err := svc.CreateAccount(context.Background(), "Outra", "BR")
		require.NoError(t, err)
		_, err = svc.CreateUser(store.WithAccount(context.Background(), other.ID), in)
		require.NoError(t, err, "another account may use the same email")
	})
}
