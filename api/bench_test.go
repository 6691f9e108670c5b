package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/atendimento/atendimento/api"
	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/logctx"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

// BenchmarkAccessLog measures what the per-request access line costs: a cheap authenticated
// GET /api/v1/me (one API key lookup) and GET /healthz (no database) served in-process (no
// network), with the JSON log at info (one line per request) and at warn (no line for a 200),
// written to io.Discard so only the logging's own work is counted. Compare the levels with
// benchstat or the medians of -count 5; the machine's load moves ns/op more than the line does,
// so run the levels interleaved.
func BenchmarkAccessLog(b *testing.B) {
	for _, lv := range []slog.Level{slog.LevelInfo, slog.LevelWarn} {
		for name, path := range map[string]string{"me": "/api/v1/me", "healthz": "/healthz"} {
			b.Run("route="+name+"/level="+lv.String(), func(b *testing.B) {
				benchGet(b, lv, path)
			})
		}
	}
}

func benchGet(b *testing.B, lv slog.Level, path string) {
	env := apptest.New(b, storetest.SQLite(b), apptest.Options{LogLevel: lv, LogTo: io.Discard})
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+env.Demo.APIKey)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		env.App.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
}

// BenchmarkAccessLogLine isolates the access line itself, as accessLog writes it (a request id
// and a conversation id in the context, five attributes), at info (written) and at warn (only
// the level check), so its cost shows apart from the request's, which the machine's load blurs.
func BenchmarkAccessLogLine(b *testing.B) {
	ctx := api.WithRequestID(context.Background(), "DPuKrumHQEYADJYxbGGeaNYtXfffnfha")
	logctx.Add(ctx, slog.String("conversation_id", "01a2449f-9ed7-76c1-9a35-83b6eea8ed56"))
	for _, lv := range []slog.Level{slog.LevelInfo, slog.LevelWarn} {
		b.Run("level="+lv.String(), func(b *testing.B) {
			log := slog.New(api.LogHandler(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: lv})))
			b.ReportAllocs()
			for b.Loop() {
				if log.Enabled(ctx, slog.LevelInfo) {
					log.Log(ctx, slog.LevelInfo, "request", "method", http.MethodGet, "path", "/api/v1/me",
						"status", http.StatusOK, "duration_ms", 0.123)
				}
			}
		})
	}
}

// BenchmarkStart measures a start (a new contact each, with an Idempotency-Key) through the real
// HTTP server, from parallel clients, on each engine; with -cpuprofile it shows where the
// server's CPU goes (row 11 of docs/benchmarks.md measures the same from outside).
func BenchmarkStart(b *testing.B) {
	for _, e := range storetest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			env := apptest.New(b, e.Open(b), apptest.Options{LogLevel: slog.LevelWarn, LogTo: io.Discard,
				Configure: func(c *app.Config) { c.NoDispatcher = true }})
			inParallel(b, func(i int64) {
				phone := fmt.Sprintf("(11) 9%04d-%04d", i/10000, i%10000)
				r := env.Admin.WithHeader("Idempotency-Key", "bench-"+strconv.FormatInt(i, 10)).Post("/api/v1/conversations", startBody(env, phone))
				if r.Status != http.StatusCreated {
					b.Fatalf("start: %d %s", r.Status, r.Body)
				}
			})
		})
	}
}

// BenchmarkText measures a text in an open (answered) conversation through the real HTTP
// server, from parallel clients spread over 100 conversations, on each engine; with
// -cpuprofile it shows where the server's CPU goes (row 11 measures the same from outside).
func BenchmarkText(b *testing.B) {
	for _, e := range storetest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			env := apptest.New(b, e.Open(b), apptest.Options{LogLevel: slog.LevelWarn, LogTo: io.Discard,
				Configure: func(c *app.Config) { c.NoDispatcher = true }})
			var convs []string
			for i := range 100 {
				phone := fmt.Sprintf("(11) 98%03d-0000", i)
				r := env.Admin.Post("/api/v1/conversations", startBody(env, phone))
				if r.Status != http.StatusCreated {
					b.Fatalf("start: %d %s", r.Status, r.Body)
				}
				convs = append(convs, r.Str("id"))
				if r := env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": phone, "text": "oi"}); r.Status != http.StatusOK {
					b.Fatalf("reply: %d %s", r.Status, r.Body)
				}
			}
			inParallel(b, func(i int64) {
				r := env.Admin.Post("/api/v1/conversations/"+convs[i%int64(len(convs))]+"/messages", map[string]any{"text": "mensagem " + strconv.FormatInt(i, 10)})
				if r.Status != http.StatusCreated {
					b.Fatalf("text: %d %s", r.Status, r.Body)
				}
			})
		})
	}
}

// inParallel runs the benchmark's requests from 4 goroutines per CPU, each call with the next
// number from 1.
func inParallel(b *testing.B, request func(i int64)) {
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			request(n.Add(1))
		}
	})
}
