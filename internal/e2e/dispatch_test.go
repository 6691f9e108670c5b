package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// start opens a conversation on the cloud channel with a new contact and returns its id.
func (c *cloud) start(t *testing.T, phone string) string {
	t.Helper()
	r := c.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": phone},
		"channel_id": c.channelID, "team_id": c.teamID, "send_type": "now", "template_id": c.named,
		"parameters": map[string]any{"nome": "Cliente", "atendente": "Ana"}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	return r.Str("id")
}

func (c *cloud) post(t *testing.T, convID, text string) string {
	t.Helper()
	r := c.Admin.Post("/api/v1/conversations/"+convID+"/messages", map[string]any{"text": text})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	return r.Str("id")
}

// sentTexts returns, per recipient, the text bodies the fake accepted, in order.
func sentTexts(t *testing.T, f *whatsapptest.Fake) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, m := range f.Messages() {
		var b struct {
			To   string
			Type string
			Text struct{ Body string }
		}
		require.NoError(t, json.Unmarshal(m.Body, &b))
		if b.Type == "text" {
			out[b.To] = append(out[b.To], b.Text.Body)
		}
	}
	return out
}

func fast(cfg *app.Config) { cfg.Dispatch.ChannelRate = 100000 }

// eachCloudWith runs fn on every engine with a whatsapp_cloud channel whose Graph API is a fresh fake.
func eachCloudWith(t *testing.T, configure func(*app.Config), fn func(t *testing.T, c *cloud)) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fake := whatsapptest.NewFake(t)
			fake.SetAccessToken(token)
			env := apptest.New(t, e.Open(t), apptest.Options{Configure: func(cfg *app.Config) {
				configure(cfg)
				cfg.WhatsAppAPIBaseURL = fake.URL
			}})
			fn(t, setupCloud(t, fake, env))
		})
	}
}

func TestQueuedMessagesLeaveInOrderPerConversation(t *testing.T) {
	eachCloudWith(t, fast, func(t *testing.T, c *cloud) {
		const convs, each = 12, 8
		ids := make([]string, convs)
		for i := range ids {
			ids[i] = c.start(t, fmt.Sprintf("11 9%04d-%04d", 7000+i, 1000+i))
		}
		postAll(t, c, ids, each, "c")
		require.True(t, c.fake.WaitFor(convs, 10*time.Second))
		for i := range ids {
			require.Equal(t, http.StatusOK, c.webhook(t, inbound(fmt.Sprintf("5511%d%d", 97000+i, 1000+i), fmt.Sprintf("wamid.in.%d", i), "oi", time.Now())).Status)
		}
		require.True(t, c.fake.WaitFor(convs+convs*each, 20*time.Second), "got %d", c.fake.Count())
		got := sentTexts(t, c.fake)
		require.Len(t, got, convs)
		for i := range ids {
			to := fmt.Sprintf("+5511%d%d", 97000+i, 1000+i)
			want := make([]string, each)
			for j := range want {
				want[j] = fmt.Sprintf("c%d-m%d", i, j)
			}
			require.Equal(t, want, got[to], to)
		}
	})
}

func TestWithdrawnMessageNeverLeaves(t *testing.T) {
	eachCloudWith(t, fast, func(t *testing.T, c *cloud) {
		id := c.start(t, "11 98888-0001")
		keep := c.post(t, id, "fica")
		gone := c.post(t, id, "sai")
		require.Equal(t, http.StatusNoContent, c.Admin.Delete("/api/v1/conversations/"+id+"/messages/"+gone).Status)
		require.Equal(t, http.StatusOK, c.webhook(t, inbound("5511988880001", "wamid.w.1", "oi", time.Now())).Status)
		require.True(t, c.fake.WaitFor(2, 10*time.Second))
		// A later message of the conversation leaves after the withdrawn one would have.
		c.post(t, id, "depois")
		waitFor(t, "the later message at the fake", func() bool { return len(sentTo(c.fake, "+5511988880001")) >= 3 })
		require.Equal(t, []string{"fica", "depois"}, sentTexts(t, c.fake)["+5511988880001"])
		require.Equal(t, http.StatusConflict, c.Admin.Delete("/api/v1/conversations/"+id+"/messages/"+keep).Status)
	})
}

func TestProviderTransientErrorsAreRetried(t *testing.T) {
	eachCloudWith(t, fast, func(t *testing.T, c *cloud) {
		c.fake.FailNext(1, 500, `<html>oops</html>`, nil)
		c.fake.FailNext(1, 429, whatsapptest.ErrorBody(130429, "Rate limit hit", "throughput"), map[string]string{"Retry-After": "1"})
		started := time.Now()
		id := c.start(t, "11 98888-0002")
		require.True(t, c.fake.WaitFor(1, 15*time.Second))
		require.GreaterOrEqual(t, time.Since(started), time.Second, "Retry-After was honoured")
		waitFor(t, "sent", func() bool { return c.messages(t, id)[0]["status"] == "sent" })
		require.Len(t, c.fake.Requests(), 3)
	})
}

func TestPermanentTemplateErrorFailsConversation(t *testing.T) {
	eachCloudWith(t, fast, func(t *testing.T, c *cloud) {
		c.fake.SetLatency(300 * time.Millisecond)
		c.fake.FailNext(1, 400, whatsapptest.ErrorBody(132001, "Template name does not exist in the translation", "template name (saudacao) does not exist in pt_BR"), nil)
		id := c.start(t, "11 98888-0003")
		c.post(t, id, "na fila 1")
		c.post(t, id, "na fila 2")
		waitFor(t, "failed", func() bool { return c.Admin.Get("/api/v1/conversations/"+id).Str("status") == "failed" })
		conv := c.Admin.Get("/api/v1/conversations/" + id).JSON()
		require.EqualValues(t, 132001, conv["failure"].(map[string]any)["code"])
		msgs := c.messages(t, id)
		require.Equal(t, "failed", msgs[0]["status"])
		require.EqualValues(t, 132001, msgs[0]["error"].(map[string]any)["code"])
		require.Equal(t, "Template name does not exist in the translation", msgs[0]["error"].(map[string]any)["title"])
		require.Equal(t, "queued", msgs[1]["status"])
		require.Equal(t, "queued", msgs[2]["status"])
		require.Len(t, c.fake.Requests(), 1, "a permanent error is not retried")
	})
}

func TestChannelPacing(t *testing.T) {
	eachCloudWith(t, func(cfg *app.Config) { cfg.Dispatch.ChannelRate = 20 }, func(t *testing.T, c *cloud) {
		const n = 50
		for i := range n {
			c.start(t, fmt.Sprintf("11 97777-%04d", i))
		}
		require.True(t, c.fake.WaitFor(n, 20*time.Second))
		// A bucket of 20 tokens refilled at 20/s spreads 50 sends over at least (50-20)/20 = 1.5 s.
		msgs := c.fake.Messages()
		require.GreaterOrEqual(t, msgs[n-1].Time.Sub(msgs[0].Time), 1400*time.Millisecond)
	})
}

func TestWindowRules(t *testing.T) {
	eachCloudWith(t, fast, func(t *testing.T, c *cloud) {
		id := c.start(t, "11 98888-0004")
		require.True(t, c.fake.WaitFor(1, 10*time.Second))
		require.Equal(t, http.StatusOK, c.webhook(t, inbound("5511988880004", "wamid.win.1", "oi", time.Now())).Status)
		// Inside the window free text goes out at once.
		m := c.Admin.Post("/api/v1/conversations/"+id+"/messages", map[string]any{"text": "na janela"})
		require.Equal(t, "pending", m.Str("status"))
		require.True(t, c.fake.WaitFor(2, 10*time.Second))
		// The window closes (the reply was 25 h ago): free text is refused.
		require.Equal(t, http.StatusOK, c.webhook(t, inbound("5511988880004", "wamid.win.0", "antiga", time.Now().Add(-25*time.Hour))).Status)
		require.NoError(t, c.App.DB.Conn(c.Ctx()).Exec("UPDATE conversations SET window_expires_at = ? WHERE id = ?", time.Now().Add(-time.Hour).UTC(), id).Error)
		late := c.Admin.Post("/api/v1/conversations/"+id+"/messages", map[string]any{"text": "fora da janela"})
		require.Equal(t, http.StatusUnprocessableEntity, late.Status)
		require.Equal(t, []string{"template_id:template_required"}, late.FieldCodes())
		// A template re-engages: the conversation waits again and text is queued until the reply.
		tpl := c.Admin.Post("/api/v1/conversations/"+id+"/messages", map[string]any{"template_id": c.named, "parameters": map[string]any{"nome": "Cliente", "atendente": "Ana"}})
		require.Equal(t, http.StatusCreated, tpl.Status, string(tpl.Body))
		require.Equal(t, "waiting", c.Admin.Get("/api/v1/conversations/"+id).Str("status"))
		require.Equal(t, "queued", c.Admin.Post("/api/v1/conversations/"+id+"/messages", map[string]any{"text": "depois"}).Str("status"))
		require.True(t, c.fake.WaitFor(3, 10*time.Second))
		require.Equal(t, http.StatusOK, c.webhook(t, inbound("5511988880004", "wamid.win.2", "voltei", time.Now())).Status)
		require.True(t, c.fake.WaitFor(4, 10*time.Second))
		require.Equal(t, []string{"na janela", "depois"}, sentTexts(t, c.fake)["+5511988880004"])
	})
}

func TestReplayedAndReorderedWebhooks(t *testing.T) {
	eachCloudWith(t, fast, func(t *testing.T, c *cloud) {
		id := c.start(t, "11 98888-0005")
		require.True(t, c.fake.WaitFor(1, 10*time.Second))
		waitFor(t, "sent", func() bool { return c.messages(t, id)[0]["status"] == "sent" })
		wamid := c.messages(t, id)[0]["provider_message_id"].(string)
		now := time.Now()
		// read before delivered before sent, each twice.
		for _, st := range []string{"read", "read", "delivered", "sent", "delivered", "sent"} {
			require.Equal(t, http.StatusOK, c.webhook(t, status(wamid, st, "5511988880005", now)).Status)
		}
		m := c.messages(t, id)[0]
		require.Equal(t, "read", m["status"])
		require.NotNil(t, m["delivered_at"])
		require.NotNil(t, m["read_at"])
		// The same inbound twice, and an older one after a newer one: one message each, window from the newest.
		require.Equal(t, http.StatusOK, c.webhook(t, inbound("5511988880005", "wamid.r.2", "segunda", now)).Status)
		require.Equal(t, http.StatusOK, c.webhook(t, inbound("5511988880005", "wamid.r.2", "segunda", now)).Status)
		require.Equal(t, http.StatusOK, c.webhook(t, inbound("5511988880005", "wamid.r.1", "primeira", now.Add(-time.Hour))).Status)
		in := 0
		for _, m := range c.messages(t, id) {
			if m["direction"] == "in" {
				in++
			}
		}
		require.Equal(t, 2, in)
		w := c.Admin.Get("/api/v1/conversations/" + id).JSON()["window"].(map[string]any)
		exp, err := time.Parse(time.RFC3339, w["expires_at"].(string))
		require.NoError(t, err)
		require.WithinDuration(t, now.Add(24*time.Hour), exp, 2*time.Second)
	})
}

func newServer(t *testing.T, a *app.App) *httptest.Server {
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return srv
}

// TestDispatcherNeverWaitsForItsPoll: texts sent in bursts to a few answered conversations each
// leave as soon as the one before them is recorded, with a poll of an hour: a wake-up or the end
// of a send that the loop missed would leave the rest waiting for the poll. Each conversation
// has one message in flight at a time, so the loop claims again at every send's end.
func TestDispatcherNeverWaitsForItsPoll(t *testing.T) {
	eachCloudWith(t, func(cfg *app.Config) {
		fast(cfg)
		cfg.Dispatch.Poll = time.Hour
	}, func(t *testing.T, c *cloud) {
		// Sends that take a moment keep records committing while the loop claims.
		c.fake.SetLatency(2 * time.Millisecond)
		const convs, each = 5, 40
		ids := make([]string, convs)
		for i := range ids {
			ids[i] = c.start(t, fmt.Sprintf("11 9%04d-%04d", 7100+i, 1100+i))
			require.Equal(t, http.StatusOK, c.webhook(t, inbound(fmt.Sprintf("5511%d%d", 97100+i, 1100+i), fmt.Sprintf("wamid.poll.%d", i), "oi", time.Now())).Status)
		}
		require.True(t, c.fake.WaitFor(convs, 10*time.Second))
		postAll(t, c, ids, each, "p")
		require.True(t, c.fake.WaitFor(convs+convs*each, 20*time.Second), "%d of %d sent: the rest wait for the poll", c.fake.Count(), convs+convs*each)
		got := sentTexts(t, c.fake)
		for i := range ids {
			to := fmt.Sprintf("+5511%d%d", 97100+i, 1100+i)
			require.Len(t, got[to], each, to)
		}
	})
}

// postAll posts each texts to every conversation of ids, the conversations at once and each
// one's texts in turn: the i-th conversation's j-th text reads "<prefix><i>-m<j>".
func postAll(t *testing.T, c *cloud, ids []string, each int, prefix string) {
	t.Helper()
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				c.post(t, id, fmt.Sprintf("%s%d-m%d", prefix, i, j))
			}
		}()
	}
	wg.Wait()
}
