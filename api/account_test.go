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

// TestAccountExchangeRate: an admin sets the reais a dollar buys and the day it is from; the
// estimate and a start's estimated_cost show reais with it, and null clears it.
func TestAccountExchangeRate(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		acc := env.Admin.Get("/api/v1/account").JSON()
		require.Contains(t, acc, "exchange_rate")
		require.Nil(t, acc["exchange_rate"])
		require.Nil(t, acc["exchange_rate_date"])
		estimate := func() map[string]any {
			r := env.Admin.Get("/api/v1/pricing/estimate?template_id=" + env.Demo.TemplateIDs["boas_vindas"] + "&contact_id=" + env.Demo.ContactID)
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			return r.JSON()
		}
		e := estimate()
		require.Contains(t, e, "local")
		require.Nil(t, e["local"], "no rate, no reais")

		brasilia := time.FixedZone("BRT", -3*60*60)
		today := time.Now().In(brasilia).Format(time.DateOnly)
		tomorrow := time.Now().In(brasilia).AddDate(0, 0, 1).Format(time.DateOnly)

		// Without a date the rate is today's, in Brasília.
		r := env.Admin.Patch("/api/v1/account", map[string]any{"exchange_rate": 5.8})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, 5.8, r.JSON()["exchange_rate"])
		require.Equal(t, today, r.Str("exchange_rate_date"))
		r = env.Admin.Patch("/api/v1/account", map[string]any{"exchange_rate": 5.7512, "exchange_rate_date": "2026-01-02"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, 5.7512, r.JSON()["exchange_rate"])
		require.Equal(t, "2026-01-02", r.Str("exchange_rate_date"))
		require.Equal(t, r.JSON(), env.Admin.Get("/api/v1/account").JSON())

		e = estimate()
		require.Equal(t, 0.0625, e["amount"], "the US dollar figure stays")
		require.Equal(t, "USD", e["currency"])
		require.Equal(t, map[string]any{"amount": 0.3595, "currency": "BRL", "exchange_rate": 5.7512, "exchange_rate_date": "2026-01-02"}, e["local"])

		// The start's estimated_cost is the same estimate.
		r = env.Admin.Post("/api/v1/conversations", startBody(env, "(11) 91234-0801"))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.Equal(t, e, r.JSON()["estimated_cost"])

		// Every invalid field at once, and nothing changes.
		for _, tc := range []struct {
			name string
			body map[string]any
			want []string
		}{
			{"zero and future", map[string]any{"exchange_rate": 0, "exchange_rate_date": tomorrow}, []string{"exchange_rate:exchange_rate_invalid", "exchange_rate_date:exchange_rate_date_invalid"}},
			{"too large", map[string]any{"exchange_rate": 100.5}, []string{"exchange_rate:exchange_rate_invalid"}},
			{"negative", map[string]any{"exchange_rate": -1}, []string{"exchange_rate:exchange_rate_invalid"}},
			{"five decimals", map[string]any{"exchange_rate": 5.12345}, []string{"exchange_rate:exchange_rate_invalid"}},
			{"not a date", map[string]any{"exchange_rate": 5.8, "exchange_rate_date": "02/01/2026"}, []string{"exchange_rate_date:exchange_rate_date_invalid"}},
			{"date without rate", map[string]any{"exchange_rate_date": "2026-01-03"}, []string{"exchange_rate:exchange_rate_invalid"}},
			{"with another bad field", map[string]any{"name": " ", "exchange_rate": 101}, []string{"name:required", "exchange_rate:exchange_rate_invalid"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := env.Admin.Patch("/api/v1/account", tc.body)
				problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
				require.ElementsMatch(t, tc.want, r.FieldCodes())
			})
		}
		r = env.Admin.Patch("/api/v1/account", map[string]any{"exchange_rate": "5,80"})
		require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
		require.Equal(t, 5.7512, env.Admin.Get("/api/v1/account").JSON()["exchange_rate"])

		// Agents read the rate but may not change it.
		r = env.Admin.Post("/api/v1/api-keys", map[string]any{"name": "agent integration", "role": "agent"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		agent := env.Client(r.Str("secret"))
		require.Equal(t, 5.7512, agent.Get("/api/v1/account").JSON()["exchange_rate"])
		require.Equal(t, http.StatusForbidden, agent.Patch("/api/v1/account", map[string]any{"exchange_rate": 6}).Status)

		// Other changes keep the rate; null clears the rate and its date.
		r = env.Admin.Patch("/api/v1/account", map[string]any{"auto_close_waiting": true})
		require.Equal(t, 5.7512, r.JSON()["exchange_rate"])
		r = env.Admin.Patch("/api/v1/account", map[string]any{"exchange_rate": nil})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Nil(t, r.JSON()["exchange_rate"])
		require.Nil(t, r.JSON()["exchange_rate_date"])
		require.Nil(t, estimate()["local"])
		r = env.Admin.Post("/api/v1/conversations", startBody(env, "(11) 91234-0802"))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.Nil(t, r.JSON()["estimated_cost"].(map[string]any)["local"])
	})
}
