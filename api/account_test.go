package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

func TestAccountSettings(t *testing.T) {
	t.Parallel()
	opts := apptest.Options{Configure: func(c *app.Config) { c.WaitingTimeout = 72 * time.Hour }}
	apptest.EachWith(t, opts, func(t *testing.T, env *apptest.Env) {
		r := env.Admin.Get("/api/v1/account")
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		acc := r.JSON()
		require.Equal(t, env.Demo.AccountID, acc["id"])
		require.Equal(t, "Loja Demo", acc["name"])
		require.Equal(t, "BR", acc["default_region"])
		require.Equal(t, false, acc["auto_close_waiting"])
		require.EqualValues(t, 72*3600, acc["waiting_timeout_seconds"])

		// Every invalid field is reported at once, and nothing changes.
		r = env.Admin.Patch("/api/v1/account", map[string]any{"name": "  ", "default_region": "ZZ", "auto_close_waiting": true})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.ElementsMatch(t, []string{"name:required", "default_region:default_region_invalid"}, r.FieldCodes())
		require.Equal(t, false, env.Admin.Get("/api/v1/account").JSON()["auto_close_waiting"])
		r = env.Admin.Patch("/api/v1/account", map[string]any{"auto_close": true})
		require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
		require.Equal(t, "unknown_field", r.Str("code"))
		r = env.Admin.Patch("/api/v1/account", map[string]any{"auto_close_waiting": "yes"})
		require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))

		// A partial change keeps the other fields.
		r = env.Admin.Patch("/api/v1/account", map[string]any{"auto_close_waiting": true})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, true, r.JSON()["auto_close_waiting"])
		require.Equal(t, "Loja Demo", r.Str("name"))
		r = env.Admin.Patch("/api/v1/account", map[string]any{"name": " Loja Nova ", "default_region": "us"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "Loja Nova", r.Str("name"))
		require.Equal(t, "US", r.Str("default_region"))
		require.Equal(t, true, r.JSON()["auto_close_waiting"])
		require.Equal(t, r.JSON(), env.Admin.Get("/api/v1/account").JSON())

		// The default region is how national numbers are read from then on.
		r = env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Pat", "phone": "(650) 253-0000"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.Equal(t, "+16502530000", r.Str("phone"))
		r = env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Carla", "phone": "11 91111-0009"})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"phone:phone_invalid"}, r.FieldCodes())
		r = env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Carla", "phone": "+55 11 91111-0009"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))

		// Another company sees and changes only its own account.
		otherID, key := env.NewAccount("Outra Empresa")
		other := env.Client(key)
		r = other.Get("/api/v1/account")
		require.Equal(t, otherID, r.Str("id"))
		require.Equal(t, "Outra Empresa", r.Str("name"))
		require.Equal(t, false, r.JSON()["auto_close_waiting"])
		require.Equal(t, http.StatusOK, other.Patch("/api/v1/account", map[string]any{"name": "Renomeada", "auto_close_waiting": false}).Status)
		require.Equal(t, "Loja Nova", env.Admin.Get("/api/v1/account").Str("name"))
		require.Equal(t, true, env.Admin.Get("/api/v1/account").JSON()["auto_close_waiting"])

		require.Equal(t, http.StatusUnauthorized, env.Client("").Get("/api/v1/account").Status)
	})
}
