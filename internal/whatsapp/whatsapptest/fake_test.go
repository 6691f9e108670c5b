package whatsapptest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

var creds = whatsapp.Credentials{PhoneNumberID: "111", WABAID: "222", AccessToken: "tok"}

func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.NewFake(t)
	client := whatsapp.NewClient(whatsapp.Config{BaseURL: fake.URL})
	const n = 64
	var wg sync.WaitGroup
	ids := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			res, err := client.SendText(context.Background(), creds, fmt.Sprintf("+55119%08d", i), "oi")
			if err != nil {
				t.Error(err)
				return
			}
			ids <- res.MessageID
		})
	}
	require.True(t, fake.WaitFor(n, 10*time.Second))
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		require.False(t, seen[id], "duplicate %s", id)
		seen[id] = true
	}
	require.Len(t, seen, n)
	require.Equal(t, n, fake.Count())
	require.Len(t, fake.Messages(), n)
	require.Len(t, fake.Bodies(), n)
	require.Len(t, fake.Requests(), n)
	for _, m := range fake.Messages() {
		require.Equal(t, "111", m.PhoneNumberID)
		require.Equal(t, "text", m.Type)
		require.True(t, seen[m.ID])
		require.Equal(t, strings.TrimPrefix(m.To, "+"), m.WaID)
	}
}

func TestWaitForTimesOut(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.NewFake(t)
	start := time.Now()
	require.False(t, fake.WaitFor(1, 50*time.Millisecond))
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	require.True(t, fake.WaitFor(0, time.Millisecond))
}

func TestFailNextThenSucceed(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.NewFake(t)
	client := whatsapp.NewClient(whatsapp.Config{BaseURL: fake.URL})
	fake.FailNext(2, 429, whatsapptest.ErrorBody(130429, "Rate limit hit", ""), map[string]string{"Retry-After": "3"})
	for range 2 {
		_, err := client.SendText(context.Background(), creds, "+5511987654321", "oi")
		require.True(t, whatsapp.IsTransient(err))
		require.Equal(t, 3*time.Second, whatsapp.RetryAfter(err))
	}
	res, err := client.SendText(context.Background(), creds, "+5511987654321", "oi")
	require.NoError(t, err)
	require.Equal(t, "wamid.1", res.MessageID)
	require.Equal(t, 1, fake.Count())
	require.Len(t, fake.Bodies(), 3)
}

func TestRespondHook(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.NewFake(t)
	client := whatsapp.NewClient(whatsapp.Config{BaseURL: fake.URL})
	fake.SetRespond(func(r whatsapptest.Request) *whatsapptest.Response {
		if strings.Contains(string(r.Body), `"to":"+5511000000000"`) {
			return &whatsapptest.Response{Status: 400, Body: whatsapptest.ErrorBody(131026, "Message undeliverable", "")}
		}
		return nil
	})
	_, err := client.SendText(context.Background(), creds, "+5511000000000", "oi")
	var e *whatsapp.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, 131026, e.Code)
	_, err = client.SendText(context.Background(), creds, "+5511987654321", "oi")
	require.NoError(t, err)
	require.Equal(t, 1, fake.Count())
}

func TestRejectsBadRequests(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.NewFake(t)
	fake.SetAccessToken("tok")
	post := func(auth, contentType, body string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, fake.URL+"/v25.0/111/messages", strings.NewReader(body))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	okBody := `{"messaging_product":"whatsapp","to":"+5511987654321","type":"text","text":{"body":"x"}}`
	code := func(body string) int {
		var e struct {
			Error struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &e))
		return e.Error.Code
	}

	st, body := post("", "application/json", okBody)
	require.Equal(t, 401, st)
	require.Equal(t, 190, code(body))
	st, body = post("Bearer other", "application/json", okBody)
	require.Equal(t, 401, st)
	require.Equal(t, 190, code(body))
	st, body = post("Bearer tok", "text/plain", okBody)
	require.Equal(t, 400, st)
	require.Equal(t, 100, code(body))
	st, body = post("Bearer tok", "application/json", `{"to":"+5511987654321","type":"text","text":{"body":"x"}}`)
	require.Equal(t, 400, st)
	require.Equal(t, 100, code(body))
	st, body = post("Bearer tok", "application/json", `{"messaging_product":"whatsapp","to":"","type":"text","text":{"body":"x"}}`)
	require.Equal(t, 400, st)
	require.Equal(t, 100, code(body))
	st, _ = post("Bearer tok", "application/json", `{`)
	require.Equal(t, 400, st)
	st, body = post("Bearer tok", "application/json", okBody)
	require.Equal(t, 200, st)
	require.JSONEq(t, `{"messaging_product":"whatsapp","contacts":[{"input":"+5511987654321","wa_id":"5511987654321"}],"messages":[{"id":"wamid.1"}]}`, body)
	require.Equal(t, 1, fake.Count())

	resp, err := http.Get(fake.URL + "/v25.0/111/unknown")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 400, resp.StatusCode)
	require.Len(t, fake.Requests(), 8)
}

func TestTemplatePaging(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.NewFake(t)
	var ts []whatsapp.Template
	for i := range 5 {
		ts = append(ts, whatsapp.Template{ID: fmt.Sprint(i), Name: fmt.Sprintf("t%d", i), Language: "pt_BR", Status: "APPROVED", Category: "UTILITY"})
	}
	fake.SetTemplates("222", ts...)

	get := func(u string) (int, map[string]any) {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var v map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
		return resp.StatusCode, v
	}
	st, page := get(fake.URL + "/v25.0/222/message_templates?limit=2")
	require.Equal(t, 200, st)
	require.Len(t, page["data"], 2)
	next := page["paging"].(map[string]any)["next"].(string)
	require.True(t, strings.HasPrefix(next, fake.URL+"/v25.0/222/message_templates?"))
	_, page = get(next)
	require.Len(t, page["data"], 2)
	_, page = get(page["paging"].(map[string]any)["next"].(string))
	require.Len(t, page["data"], 1)
	require.NotContains(t, page["paging"], "next")

	st, _ = get(fake.URL + "/v25.0/222/message_templates?after=garbage")
	require.Equal(t, 400, st)
}

func TestHangupAndLatency(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.NewFake(t)
	client := whatsapp.NewClient(whatsapp.Config{BaseURL: fake.URL})
	fake.SetLatency(100 * time.Millisecond)
	start := time.Now()
	_, err := client.SendText(context.Background(), creds, "+5511987654321", "oi")
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)

	fake.SetLatency(0)
	fake.SetRespond(func(whatsapptest.Request) *whatsapptest.Response { return &whatsapptest.Response{Hangup: true} })
	_, err = client.SendText(context.Background(), creds, "+5511987654321", "oi")
	require.True(t, whatsapp.IsTransient(err))
	require.Equal(t, 1, fake.Count())

	// Accepted, then hung up: the message counts, the sender sees a network error.
	fake.SetRespond(func(whatsapptest.Request) *whatsapptest.Response {
		return &whatsapptest.Response{AcceptThenHangup: true}
	})
	_, err = client.SendText(context.Background(), creds, "+5511987654321", "de novo")
	require.True(t, whatsapp.IsTransient(err))
	require.Equal(t, 2, fake.Count())
	require.Equal(t, 1, fake.AcceptedThenHungUp())
	require.Contains(t, string(fake.Messages()[1].Body), "de novo")
}

// TestCloseWithSlowRequestInFlight makes sure the end-of-test cleanup does not wait for a long
// scripted latency.
func TestCloseWithSlowRequestInFlight(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.NewFake(t)
	fake.SetLatency(time.Hour)
	client := whatsapp.NewClient(whatsapp.Config{BaseURL: fake.URL})
	done := make(chan error, 1)
	go func() {
		_, err := client.SendText(context.Background(), creds, "+5511987654321", "oi")
		done <- err
	}()
	require.Eventually(t, func() bool { return len(fake.Requests()) == 1 }, 5*time.Second, 5*time.Millisecond)
	start := time.Now()
	fake.Close()
	require.Less(t, time.Since(start), 5*time.Second)
	require.True(t, whatsapp.IsTransient(<-done))
}
