package whatsapp_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/whatsapp"
)

// The default client keeps a keep-alive connection per concurrent sender: 32 senders sending
// round after round open about 32 connections, not one per send (http.DefaultTransport keeps 2).
func TestDefaultClientReusesConnections(t *testing.T) {
	t.Parallel()
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"messaging_product":"whatsapp","contacts":[{"input":"+5511999990000","wa_id":"5511999990000"}],"messages":[{"id":"wamid.X"}]}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := whatsapp.NewClient(whatsapp.Config{BaseURL: srv.URL})
	cr := whatsapp.Credentials{PhoneNumberID: "1", WABAID: "2", AccessToken: "t"}
	const senders, rounds = 32, 5
	for range rounds {
		var wg sync.WaitGroup
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.SendText(context.Background(), cr, "+5511999990000", "oi")
				require.NoError(t, err)
			}()
		}
		wg.Wait()
	}
	require.LessOrEqual(t, opened.Load(), int64(senders+4), "connections opened for %d sends", senders*rounds)
}
