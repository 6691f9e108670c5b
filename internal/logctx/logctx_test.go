package logctx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/logctx"
)

func TestAttrsFollowTheContext(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logctx.Handler(slog.NewJSONHandler(&buf, nil)))
	line := func() map[string]any {
		t.Helper()
		var m map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &m), buf.String())
		buf.Reset()
		return m
	}

	// Add on a context without attributes does nothing.
	logctx.Add(context.Background(), slog.String("lost", "x"))
	log.InfoContext(context.Background(), "plain")
	require.NotContains(t, line(), "lost")

	req := logctx.With(context.Background(), slog.String("request_id", "r1"))
	send := logctx.With(req, slog.String("message_id", "m1"))
	logctx.Add(send, slog.String("wamid", "wamid.1"))
	log.InfoContext(send, "sent")
	m := line()
	require.Equal(t, "r1", m["request_id"])
	require.Equal(t, "m1", m["message_id"])
	require.Equal(t, "wamid.1", m["wamid"])

	// What a handler adds to the request's context shows on the access line; a derived
	// context's attributes do not.
	logctx.Add(req, slog.String("conversation_id", "c1"))
	log.InfoContext(req, "request")
	m = line()
	require.Equal(t, "c1", m["conversation_id"])
	require.NotContains(t, m, "message_id")

	// The innermost value of a key wins, once.
	inner := logctx.With(req, slog.String("request_id", "r2"))
	log.InfoContext(inner, "x")
	require.Equal(t, 1, bytes.Count(buf.Bytes(), []byte(`"request_id"`)))
	require.Equal(t, "r2", line()["request_id"])
}
