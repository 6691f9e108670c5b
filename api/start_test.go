package api_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// startBody is a valid start of the demo data's boas_vindas template to a new phone.
func startBody(env *apptest.Env, phone string) map[string]any {
	return map[string]any{
		"contact":     map[string]any{"phone": phone, "name": "João"},
		"channel_id":  env.Demo.ChannelID,
		"team_id":     env.Demo.TeamIDs[0],
		"send_type":   "now",
		"template_id": env.Demo.TemplateIDs["boas_vindas"],
		"parameters":  map[string]any{"nome": "João", "atendente": "Ana"},
	}
}

func TestStartConversation(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		r := env.Admin.Post("/api/v1/conversations", startBody(env, "(11) 91234-0001"))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		var got struct {
			ID, Status, Origin string
			Contact            struct{ ID, Phone, Name string }
			Window             struct{ Open bool }
			OpeningMessage     struct {
				ID, Status   string
				RenderedText string `json:"rendered_text"`
			} `json:"opening_message"`
			EstimatedCost struct {
				Category string
				Billable bool
				Amount   float64
				Currency string
			} `json:"estimated_cost"`
		}
		r.Decode(t, &got)
		require.Equal(t, "waiting", got.Status)
		require.Equal(t, "active", got.Origin)
		require.Equal(t, "+5511912340001", got.Contact.Phone)
		require.False(t, got.Window.Open)
		require.Equal(t, "pending", got.OpeningMessage.Status)
		require.Contains(t, got.OpeningMessage.RenderedText, "Olá João, aqui é Ana da Loja Demo.")
		require.Equal(t, "MARKETING", got.EstimatedCost.Category)
		require.True(t, got.EstimatedCost.Billable)
		require.InDelta(t, 0.0625, got.EstimatedCost.Amount, 1e-9)

		// The opening template is in the outbox, first in the conversation's history.
		msgs := env.Admin.Get("/api/v1/conversations/" + got.ID + "/messages")
		require.Equal(t, http.StatusOK, msgs.Status)
		items := msgs.JSON()["items"].([]any)
		require.Len(t, items, 1)
		first := items[0].(map[string]any)
		require.Equal(t, got.OpeningMessage.ID, first["id"])
		require.Equal(t, "template", first["type"])
		require.Equal(t, "boas_vindas", first["template_name"])

		// The contact was created from the phone and is found by it.
		look := env.Admin.Get("/api/v1/contacts/lookup?phone=11912340001")
		require.Equal(t, http.StatusOK, look.Status)
		require.Equal(t, got.Contact.ID, look.Str("id"))

		// A second start for the same contact and channel → 409 with the open one's id.
		again := env.Admin.Post("/api/v1/conversations", startBody(env, "+55 11 91234-0001"))
		require.Equal(t, http.StatusConflict, again.Status)
		require.Equal(t, "conversation_already_open", again.Str("code"))
		require.Equal(t, got.ID, again.Str("existing_id"))
	})
}

func TestStartRaceOneConversation(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		const n = 50
		body := startBody(env, "11 91234-0002")
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = env.Admin.Post("/api/v1/conversations", body).Status
			}()
		}
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		require.Equal(t, map[int]int{201: 1, 409: n - 1}, count)
		list := env.Admin.Get("/api/v1/conversations?limit=200")
		require.Len(t, list.JSON()["items"].([]any), 1)
	})
}

func TestStartReportsEveryFailureAtOnce(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		r := env.Admin.Post("/api/v1/conversations", map[string]any{
			"contact":      map[string]any{"phone": "12345"},
			"channel_id":   "00000000-0000-0000-0000-000000000000",
			"team_id":      "00000000-0000-0000-0000-000000000000",
			"send_type":    "scheduled",
			"scheduled_at": past,
			"template_id":  env.Demo.TemplateIDs["pesquisa_satisfacao"],
			"parameters":   map[string]any{"nome": "a\tb", "extra": "x"},
		})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.ElementsMatch(t, []string{
			"contact.phone:phone_invalid",
			"channel_id:channel_not_found",
			"team_id:team_not_found",
			"scheduled_at:scheduled_at_invalid",
			"template_id:template_not_approved",
			"parameters.nome:parameter_invalid",
			"parameters:parameter_unknown",
		}, r.FieldCodes())
	})
}

// The first step of "Enviar mensagem" learns the contact's window on the channel and the
// conversation already open there before anything is filled.
func TestStartState(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		state := func(contactID, channelID string) *apptest.Response {
			return env.Admin.Get("/api/v1/contacts/" + contactID + "/start-state?channel_id=" + channelID)
		}
		// A new contact: window closed, nothing open.
		c := env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Rita", "phone": "11 95656-0001"})
		require.Equal(t, http.StatusCreated, c.Status, string(c.Body))
		contactID := c.Str("id")
		r := state(contactID, env.Demo.ChannelID)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, map[string]any{"channel_id": env.Demo.ChannelID, "window": map[string]any{"open": false, "expires_at": nil},
			"open_conversation_id": nil}, r.JSON())

		// The contact writes (a receptive conversation opens): the window is open for 24 h and
		// that conversation is the one a start would meet.
		in := env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "11 95656-0001", "text": "Oi"})
		require.Equal(t, http.StatusOK, in.Status, string(in.Body))
		r = state(contactID, env.Demo.ChannelID)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		win := r.JSON()["window"].(map[string]any)
		require.Equal(t, true, win["open"])
		exp, err := time.Parse(time.RFC3339, win["expires_at"].(string))
		require.NoError(t, err)
		require.WithinDuration(t, time.Now().Add(24*time.Hour), exp, time.Minute)
		open := r.Str("open_conversation_id")
		require.NotEmpty(t, open)
		conflict := env.Admin.Post("/api/v1/conversations", map[string]any{
			"contact_id": contactID, "channel_id": env.Demo.ChannelID, "team_id": env.Demo.TeamIDs[0], "send_type": "now", "text": "Olá"})
		require.Equal(t, http.StatusConflict, conflict.Status, string(conflict.Body))
		require.Equal(t, open, conflict.Str("existing_id"), "the conversation the first step named is the one the start meets")

		// Closed, the conversation no longer blocks a start, and the window stays open: free text may start.
		require.Equal(t, http.StatusOK, env.Admin.Post("/api/v1/conversations/"+open+"/close", nil).Status)
		r = state(contactID, env.Demo.ChannelID)
		require.Nil(t, r.JSON()["open_conversation_id"])
		require.Equal(t, true, r.JSON()["window"].(map[string]any)["open"])

		// Bad input.
		problem(t, state(someID, env.Demo.ChannelID), http.StatusNotFound, "contact_not_found")
		r = state(contactID, "")
		problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, []string{"channel_id:channel_required"}, r.FieldCodes())
		r = state(contactID, someID)
		require.Equal(t, []string{"channel_id:channel_not_found"}, r.FieldCodes())
	})
}
