package api_test

import (
	"bufio"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// streamStatus opens GET /api/v1/events with an API key, checks that it is an event stream
// that starts at once, and closes it; it returns the status. (The apptest client reads whole
// bodies, which a stream never ends.)
func streamStatus(t *testing.T, env *apptest.Env, apiKey string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.Server.URL+"/api/v1/events", nil)
	require.NoError(t, err)
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, ": connected\n", line)
	}
	return resp.StatusCode
}

func TestEventStreamNeedsCredentials(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		r := env.Client("").Get("/api/v1/events")
		require.Equal(t, http.StatusUnauthorized, r.Status)
		require.Equal(t, "unauthorized", r.Str("code"))
		require.Equal(t, http.StatusUnauthorized, env.Client("atd_not-a-key").Get("/api/v1/events").Status)
		require.Equal(t, http.StatusOK, streamStatus(t, env, env.Demo.APIKey))
		// The stream's subscription ends with the connection.
		require.Eventually(t, func() bool { return env.App.Events.Subscribers() == 0 }, 5*time.Second, 10*time.Millisecond)
	})
}
