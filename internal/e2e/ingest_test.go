package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/whatsapp"
)

// rawWebhook posts a signed notification with a plain HTTP client (no contract check: the
// failures tested here are 5xx answers, which the contract leaves out) and returns the status
// and body.
func (c *cloud) rawWebhook(value map[string]any) (int, string, error) {
	body, err := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": waba,
		"changes": []any{map[string]any{"field": "messages", "value": value}}}}})
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequest(http.MethodPost, c.Server.URL+"/webhooks/whatsapp/"+c.channelID, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(body, appSecret))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func (c *cloud) inboundCount(t *testing.T, wamidPrefix string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, c.App.DB.Tenant(c.Ctx(), "messages").Where("direction = 'in' AND provider_message_id LIKE ?", wamidPrefix+"%").Count(&n).Error)
	return n
}

// Signed webhooks posted at once share group commits over HTTP: every one is answered 200 with
// its message counted, and every message is stored.
func TestWebhookDeliveriesShareGroupCommits(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		c.App.Conversations.SetGroupCommit(100*time.Millisecond, nil)
		var wg sync.WaitGroup
		statuses := make([]int, 16)
		bodies := make([]string, 16)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				statuses[i], bodies[i], err = c.rawWebhook(inbound(fmt.Sprintf("5511976%06d", i), fmt.Sprintf("wamid.http.%d", i), "oi", time.Now()))
				if err != nil {
					bodies[i] = err.Error()
				}
			}()
		}
		wg.Wait()
		for i := range statuses {
			require.Equal(t, http.StatusOK, statuses[i], bodies[i])
			require.Contains(t, bodies[i], `"messages":1`)
		}
		require.EqualValues(t, 16, c.inboundCount(t, "wamid.http."))
		groups, grouped := c.App.Conversations.GroupStats()
		require.EqualValues(t, 16, grouped)
		require.Less(t, groups, int64(16))
	})
}

// A group whose commit fails answers none of its deliveries 200 and stores nothing of them:
// Meta's retry of the same body then stores each message once.
func TestWebhookGroupCommitFailureIsNotAcknowledged(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		c.App.Conversations.SetGroupCommit(100*time.Millisecond, func(context.Context) error { return errors.New("commit refused") })
		values := []map[string]any{inbound("5511977000001", "wamid.fail.1", "oi", time.Now()), inbound("5511977000002", "wamid.fail.2", "oi", time.Now())}
		var wg sync.WaitGroup
		statuses := make([]int, len(values))
		for i, v := range values {
			wg.Add(1)
			go func() { defer wg.Done(); statuses[i], _, _ = c.rawWebhook(v) }()
		}
		wg.Wait()
		for _, st := range statuses {
			require.GreaterOrEqual(t, st, 500, "a delivery whose group did not commit is not acknowledged")
		}
		require.EqualValues(t, 0, c.inboundCount(t, "wamid.fail."))

		c.App.Conversations.SetGroupCommit(time.Millisecond, nil)
		for _, v := range values {
			r := c.webhook(t, v)
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			require.Contains(t, string(r.Body), `"messages":1`)
		}
		require.EqualValues(t, 2, c.inboundCount(t, "wamid.fail."))
	})
}
