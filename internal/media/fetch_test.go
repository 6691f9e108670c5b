package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/clock"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
	"github.com/atendimento/atendimento/internal/worker"
)

// fetchEnv is a fetch queue over a fresh database of one engine, a folder store, its own spool
// folder, a fake clock and the local fake Graph API.
type fetchEnv struct {
	db             *store.DB
	svc            *Service
	fake           *whatsapptest.Fake
	clock          *clock.Fake
	ctx            context.Context // carries the account
	channel        string
	blobDir, spool string
	cfg            FetchConfig
	readyCalls     chan string
}

func newFetchEnv(t *testing.T, db *store.DB, cfg FetchConfig) *fetchEnv {
	t.Helper()
	e := &fetchEnv{db: db, fake: whatsapptest.NewFake(t), clock: clock.NewFake(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)),
		blobDir: t.TempDir(), spool: t.TempDir(), readyCalls: make(chan string, 100)}
	acc, ch := store.NewID(), store.NewID()
	now := e.clock.Now()
	require.NoError(t, db.Conn(context.Background()).Exec("INSERT INTO accounts (id, name, created_at, updated_at) VALUES (?, 'a', ?, ?)", acc, now, now).Error)
	require.NoError(t, db.Conn(context.Background()).Exec("INSERT INTO channels (id, account_id, name, provider, created_at, updated_at) VALUES (?, ?, 'c', 'whatsapp_cloud', ?, ?)",
		ch, acc, now, now).Error)
	e.ctx, e.channel = store.WithAccount(context.Background(), acc), ch
	blobs, err := NewDirBlobs(e.blobDir)
	require.NoError(t, err)
	e.svc = New(db, blobs, Options{Spool: e.spool, Clock: e.clock})
	cfg.Credentials = func(context.Context, string) (whatsapp.Credentials, error) {
		return whatsapp.Credentials{PhoneNumberID: "pnid", AccessToken: "token"}, nil
	}
	cfg.Ready = func(_ context.Context, id string) { e.readyCalls <- id }
	e.cfg = cfg
	return e
}

// fetcher returns a new fetcher, as a (re)started server builds one.
func (e *fetchEnv) fetcher() *Fetcher {
	return e.svc.NewFetcher(worker.New(nil), whatsapp.NewClient(whatsapp.Config{BaseURL: e.fake.URL}), e.cfg)
}

// record announces an inbound file, as the webhook does.
func (e *fetchEnv) record(t *testing.T, providerID, mime string) string {
	t.Helper()
	id, err := e.svc.RecordInbound(e.ctx, Inbound{ChannelID: e.channel, ProviderMediaID: providerID, MimeType: mime})
	require.NoError(t, err)
	return id
}

func (e *fetchEnv) row(t *testing.T, id string) row {
	t.Helper()
	var r row
	require.NoError(t, e.db.Tenant(e.ctx, "media").Where("id = ?", id).Take(&r).Error)
	return r
}

// requireReady checks a file is ready with data's sha256 and that the store serves data.
func (e *fetchEnv) requireReady(t *testing.T, id string, data []byte) {
	t.Helper()
	m, rc, err := e.svc.Open(e.ctx, id)
	require.NoError(t, err, "media %s", id)
	defer rc.Close()
	sum := sha256.Sum256(data)
	require.Equal(t, hex.EncodeToString(sum[:]), m.SHA256)
	require.Equal(t, int64(len(data)), m.Size)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "the stored bytes are the file's")
}

// requireNoPartials checks that neither the store nor the spool holds anything but whole blobs
// with the names of their sha256.
func (e *fetchEnv) requireNoPartials(t *testing.T) {
	t.Helper()
	spooled, err := os.ReadDir(e.spool)
	require.NoError(t, err)
	require.Empty(t, spooled, "nothing left in the spool")
	require.NoError(t, filepath.WalkDir(e.blobDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(e.blobDir, p)
		require.False(t, strings.HasPrefix(rel, ".tmp"), "half-written blob %s", rel)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		require.Equal(t, hex.EncodeToString(sum[:]), filepath.Base(p), "blob %s is whole", rel)
		return nil
	}))
}

// file returns n bytes of a JPEG-looking file.
func file(n int) []byte {
	b := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
	copy(b, "\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	return b
}

func TestFetchResumesAfterAShutdownMidDownload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newFetchEnv(t, db, FetchConfig{Stall: time.Minute})
		data := file(1 << 20)
		e.fake.SetMedia("m-big", data, "image/jpeg", "")
		stalled := e.fake.StallNextDownloads(1, 300<<10)
		id := e.record(t, "m-big", "image/jpeg")

		ctx, cancel := context.WithCancel(context.Background())
		f := e.fetcher()
		f.Start(ctx)
		select {
		case <-stalled: // 300 KB of 1 MB are in the spool
		case <-time.After(10 * time.Second):
			t.Fatal("the download never started")
		}
		cancel()
		f.Stop()
		r := e.row(t, id)
		require.Equal(t, StatusPending, r.Status)
		require.Nil(t, r.LeaseUntil, "a shutdown hands the claim back")
		require.Equal(t, 0, r.Attempts, "and does not spend the attempt")
		e.requireNoPartials(t)

		// The next start fetches it whole, at once (no lease to wait for).
		n, err := e.fetcher().RunOnce(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		e.requireReady(t, id, data)
		e.requireNoPartials(t)
		require.Equal(t, id, <-e.readyCalls)
	})
}

func TestFetchResumesAClaimACrashedInstanceLeft(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newFetchEnv(t, db, FetchConfig{Timeout: time.Minute, Lease: 2 * time.Minute})
		data := file(64 << 10)
		e.fake.SetMedia("m-crash", data, "image/jpeg", "")
		id := e.record(t, "m-crash", "image/jpeg")
		// A killed instance left its claim in the row and a partial download in the spool.
		now := e.clock.Now()
		require.NoError(t, db.Tenant(e.ctx, "media").Where("id = ?", id).Updates(map[string]any{"lease_until": now.Add(2 * time.Minute), "attempts": 1}).Error)
		left := filepath.Join(e.spool, "fetch-123")
		require.NoError(t, os.WriteFile(left, data[:1000], 0o600))
		require.NoError(t, os.Chtimes(left, now.Add(-time.Hour), now.Add(-time.Hour)))

		f := e.fetcher()
		n, err := f.RunOnce(context.Background())
		require.NoError(t, err)
		require.Zero(t, n, "the claim holds while its lease lasts")

		e.clock.Advance(2*time.Minute + time.Second)
		e.svc.sweepSpool(f.Config().Lease) // as Start does
		n, err = f.RunOnce(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		e.requireReady(t, id, data)
		e.requireNoPartials(t)
		require.Equal(t, 2, e.row(t, id).Attempts)
	})
}

func TestFetchCutsAStalledDownloadAndRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newFetchEnv(t, db, FetchConfig{Stall: 300 * time.Millisecond})
		data := file(256 << 10)
		e.fake.SetMedia("m-stall", data, "image/jpeg", "")
		e.fake.StallNextDownloads(1, 100<<10)
		id := e.record(t, "m-stall", "image/jpeg")
		f := e.fetcher()

		start := time.Now()
		n, err := f.RunOnce(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Less(t, time.Since(start), 10*time.Second, "cut after the stall, not the overall timeout")
		r := e.row(t, id)
		require.Equal(t, StatusPending, r.Status)
		require.Equal(t, "the download stalled: no bytes for 300ms", *r.Failure)
		require.Nil(t, r.LeaseUntil)
		require.True(t, r.DueAt.After(e.clock.Now()), "retried later, with backoff")
		e.requireNoPartials(t)

		n, err = f.RunOnce(context.Background())
		require.NoError(t, err)
		require.Zero(t, n, "not before its backoff")
		e.clock.Advance(time.Hour)
		n, err = f.RunOnce(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		e.requireReady(t, id, data)
		e.requireNoPartials(t)
	})
}

func TestFetchTimesOutUnderItsLease(t *testing.T) {
	// A lease no longer than the timeout is raised: a claim never expires under a fetch.
	e := newFetchEnv(t, storetest.SQLite(t), FetchConfig{Timeout: 10 * time.Minute, Lease: time.Minute})
	cfg := e.fetcher().Config()
	require.Greater(t, cfg.Lease, cfg.Timeout)
	require.Equal(t, 30*time.Second, cfg.Stall, "the default stall")

	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newFetchEnv(t, db, FetchConfig{Timeout: 500 * time.Millisecond, Stall: time.Minute})
		data := file(64 << 10)
		e.fake.SetMedia("m-slow", data, "image/jpeg", "")
		e.fake.StallNextDownloads(1, 1000)
		id := e.record(t, "m-slow", "image/jpeg")
		f := e.fetcher()
		n, err := f.RunOnce(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		r := e.row(t, id)
		require.Equal(t, StatusPending, r.Status)
		require.Equal(t, "the download took longer than 500ms", *r.Failure)
		e.requireNoPartials(t)
		e.clock.Advance(time.Hour)
		_, err = f.RunOnce(context.Background())
		require.NoError(t, err)
		e.requireReady(t, id, data)
	})
}

func TestFetchRetriesServerErrorsWithBackoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newFetchEnv(t, db, FetchConfig{})
		data := file(32 << 10)
		e.fake.SetMedia("m-5xx", data, "image/jpeg", "")
		id := e.record(t, "m-5xx", "image/jpeg")
		f := e.fetcher()
		// The lookup answers 503 twice, then the download 500 once.
		e.fake.FailNext(2, http.StatusServiceUnavailable, `{"error":{"message":"Service temporarily unavailable","type":"OAuthException","code":131016}}`, nil)
		failedDownloads := 0
		e.fake.SetRespond(func(req whatsapptest.Request) *whatsapptest.Response {
			if strings.HasPrefix(req.Path, "/download/") && failedDownloads == 0 {
				failedDownloads++
				return &whatsapptest.Response{Status: http.StatusInternalServerError, Body: "oops"}
			}
			return nil
		})
		var waits []time.Duration
		for attempt := 1; attempt <= 3; attempt++ {
			n, err := f.RunOnce(context.Background())
			require.NoError(t, err)
			require.Equal(t, 1, n)
			r := e.row(t, id)
			require.Equal(t, StatusPending, r.Status, "attempt %d", attempt)
			require.Equal(t, attempt, r.Attempts)
			require.NotNil(t, r.Failure)
			waits = append(waits, r.DueAt.Sub(e.clock.Now()))
			e.clock.Advance(r.DueAt.Sub(e.clock.Now()) + time.Millisecond)
		}
		require.Contains(t, *e.row(t, id).Failure, "HTTP 500")
		// Backoff doubles (with jitter in its upper half): 0.5–1 s, 1–2 s, 2–4 s.
		for i, w := range waits {
			base := time.Second << i
			require.True(t, w >= base/2 && w <= base, "wait %d is %s", i+1, w)
		}
		n, err := f.RunOnce(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		e.requireReady(t, id, data)
	})
}

func TestFetchAsksForAnExpiredURLAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newFetchEnv(t, db, FetchConfig{})
		data := file(8 << 10)
		e.fake.SetMedia("m-exp", data, "image/jpeg", "")
		e.fake.ExpireNextDownloads(1)
		id := e.record(t, "m-exp", "image/jpeg")
		n, err := e.fetcher().RunOnce(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		e.requireReady(t, id, data)
		var lookups, downloads int
		for _, r := range e.fake.Requests() {
			switch {
			case r.Path == "/v25.0/m-exp":
				lookups++
			case r.Path == "/download/m-exp":
				downloads++
				require.Equal(t, "Bearer token", r.Header.Get("Authorization"))
			}
		}
		require.Equal(t, 2, lookups, "the expired URL was asked for again")
		require.Equal(t, 2, downloads)
		require.Equal(t, 1, e.row(t, id).Attempts, "within the same attempt")
	})
}

func TestFetchFailsAFileMetaNoLongerHas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newFetchEnv(t, db, FetchConfig{MaxAttempts: 2})
		gone := e.record(t, "m-gone", "image/jpeg")
		// And one that never stops failing ends failed after MaxAttempts.
		e.fake.SetMedia("m-down", file(1024), "image/jpeg", "")
		down := e.record(t, "m-down", "image/jpeg")
		e.fake.SetRespond(func(req whatsapptest.Request) *whatsapptest.Response {
			if req.Path == "/v25.0/m-down" {
				return &whatsapptest.Response{Status: http.StatusServiceUnavailable, Body: `{"error":{"message":"down","type":"OAuthException","code":131016}}`}
			}
			return nil
		})
		f := e.fetcher()
		n, err := f.RunOnce(context.Background())
		require.NoError(t, err)
		require.Equal(t, 2, n)
		r := e.row(t, gone)
		require.Equal(t, StatusFailed, r.Status, "at once: no retry brings it back")
		require.Contains(t, *r.Failure, "WhatsApp no longer has this file")
		require.Nil(t, r.DueAt)
		require.Equal(t, StatusPending, e.row(t, down).Status)

		e.clock.Advance(time.Hour)
		_, err = f.RunOnce(context.Background())
		require.NoError(t, err)
		r = e.row(t, down)
		require.Equal(t, StatusFailed, r.Status)
		require.Equal(t, 2, r.Attempts)
		require.Contains(t, *r.Failure, "WhatsApp")
		m, err := e.svc.Get(e.ctx, down)
		require.NoError(t, err)
		require.Equal(t, *r.Failure, m.Failure, "the reason the SPA shows")
		e.requireNoPartials(t)
	})
}
