package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The fake Graph API's media: one file served under every media id "bm-<n>" (GET /{id} gives
// its download URL, GET /download/{id} with the bearer token its bytes), as Meta serves what
// contacts send.
type fakeMedia struct {
	mu     sync.Mutex
	data   []byte
	sha    string // base64, as Meta declares it
	served int64  // downloads answered whole
}

// setMedia makes the fake serve data under every bm- media id.
func (f *fakeGraph) setMedia(data []byte) {
	sum := sha256.Sum256(data)
	f.media.mu.Lock()
	f.media.data, f.media.sha, f.media.served = data, base64.StdEncoding.EncodeToString(sum[:]), 0
	f.media.mu.Unlock()
}

// serveMedia answers the media lookup and download; false for other requests.
func (f *fakeGraph) serveMedia(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	id := path.Base(r.URL.Path)
	if !strings.HasPrefix(id, "bm-") {
		return false
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		w.WriteHeader(http.StatusUnauthorized)
		return true
	}
	f.media.mu.Lock()
	data, sha := f.media.data, f.media.sha
	f.media.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/download/") {
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		if _, err := w.Write(data); err == nil {
			f.media.mu.Lock()
			f.media.served++
			f.media.mu.Unlock()
		}
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","url":%q,"mime_type":"video/mp4","sha256":%q,"file_size":%d,"id":%q}`,
		f.URL+"/download/"+id, sha, len(data), id)
	return true
}

// mediaValue is a contact's video message as Meta posts it.
func mediaValue(from, wamid, mediaID, sha string, at time.Time) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "metadata": metadata(),
		"contacts": []any{map[string]any{"profile": map[string]any{"name": "Cliente"}, "wa_id": from}},
		"messages": []any{map[string]any{"from": from, "id": wamid, "timestamp": fmt.Sprint(at.Unix()), "type": "video",
			"video": map[string]any{"id": mediaID, "mime_type": "video/mp4", "sha256": sha}}}}
}

// rowMedia: the server process's peak RSS (VmHWM) while its fetch queue downloads n inbound
// media of size bytes each from the fake Graph API (lookup, download with the token, spool,
// sha256 check, store), and how long the whole batch takes. Streaming keeps memory flat: a
// buffer per download, never a whole file.
func (b *bench) rowMedia(ctx context.Context, engine string, base *benchDB, s seeded) error {
	n, size := b.cfg.MediaFiles, b.cfg.MediaSize
	label := fmt.Sprintf("%d inbound media of %s", n, bytesLabel(size))
	idle := &figure{Row: "9", Name: "RSS before the media arrive", Engine: engine, Unit: "MB"}
	peak := &figure{Row: "9", Name: "peak RSS (VmHWM) fetching " + label, Engine: engine, Unit: "MB",
		Goal: "≤ 150 MB", met: func(v, _ float64) bool { return v <= 150 }}
	took := &figure{Row: "9", Name: "webhooks → every media ready, " + label, Engine: engine, Unit: "s"}
	b.add(idle, peak, took)
	data := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{9})
	_, _ = rng.Read(data)
	b.fake.setMedia(data)
	sum := sha256.Sum256(data)
	declared := base64.StdEncoding.EncodeToString(sum[:])

	for run := range b.cfg.Runs {
		db, err := b.dbs.clone(ctx, base)
		if err != nil {
			return fail(err, idle, peak, took)
		}
		dir, err := os.MkdirTemp(b.dbs.tmp, "media-")
		if err != nil {
			return fail(err, idle, peak, took)
		}
		srv, err := b.startServer(ctx, db, serverOpts{Env: []string{"MEDIA_STORE=" + dir}})
		if err != nil {
			b.dbs.drop(ctx, db)
			return fail(err, idle, peak, took)
		}
		var mu sync.Mutex
		var maxRSS int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { // sample every 20 ms
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				if rss, _, err := memStatus(srv.Pid()); err == nil {
					mu.Lock()
					maxRSS = max(maxRSS, rss)
					mu.Unlock()
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		})
		idleRSS, _, _ := memStatus(srv.Pid())
		began := time.Now()
		werr := b.postMedia(ctx, srv, s, n, declared, run)
		var done, failed int64
		var perr error
		for werr == nil && ctx.Err() == nil {
			if done, perr = countRows(ctx, db, "SELECT count(*) FROM media WHERE status <> 'pending'"); perr != nil || done >= int64(n) {
				break
			}
			if time.Since(began) > 20*time.Minute {
				perr = fmt.Errorf("%d of %d media settled after 20 minutes", done, n)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		elapsed := time.Since(began)
		if perr == nil && werr == nil {
			failed, perr = countRows(ctx, db, "SELECT count(*) FROM media WHERE status = 'failed'")
		}
		_, hwm, herr := memStatus(srv.Pid())
		close(stop)
		wg.Wait()
		srv.Stop()
		b.dbs.drop(ctx, db)
		_ = os.RemoveAll(dir)
		for _, err := range []error{werr, perr, herr, ctx.Err()} {
			if err != nil {
				return fail(srv.explain(err), idle, peak, took)
			}
		}
		if failed > 0 {
			return fail(fmt.Errorf("%d of %d media failed: see %s", failed, n, srv.logPath), idle, peak, took)
		}
		idle.Values = append(idle.Values, float64(idleRSS)/(1<<20))
		peak.Values = append(peak.Values, float64(max(hwm, maxRSS))/(1<<20))
		took.Values = append(took.Values, elapsed.Seconds())
		b.logf("%s row 9 run %d/%d: %s fetched in %s, RSS before %.0f MB, peak %.0f MB", engine, run+1, b.cfg.Runs, label,
			elapsed.Round(100*time.Millisecond), float64(idleRSS)/(1<<20), float64(max(hwm, maxRSS))/(1<<20))
		took.Notes = append(took.Notes, fmt.Sprintf("run %d: %.0f MB/s through lookup, download, sha256 check and store (the fetch queue's 4 at a time)",
			run+1, float64(n)*float64(size)/(1<<20)/elapsed.Seconds()))
	}
	peak.Notes = append(peak.Notes, "every media id serves the same bytes (one blob on disk), but each is looked up, downloaded, spooled, hashed, checked and stored on its own")
	return nil
}

// postMedia posts n signed webhooks (8 in flight), each a video message of its own contact.
func (b *bench) postMedia(ctx context.Context, srv *serverProc, s seeded, n int, declared string, run int) error {
	rc := &apiClient{base: srv.URL, http: newHTTPClient(8)}
	var werr error
	var wmu sync.Mutex
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			from := strings.TrimPrefix(benchPhone(500000+i), "+")
			body := webhookBody(mediaValue(from, fmt.Sprintf("wamid.media.r%d.%d", run, i), fmt.Sprintf("bm-%d", i), declared, time.Now()))
			if err := rc.webhook(ctx, s.ChannelID, body); err != nil {
				wmu.Lock()
				werr = err
				wmu.Unlock()
			}
		})
	}
	wg.Wait()
	return werr
}

// bytesLabel is a size as the table shows it: 16 MB, 256 KB.
func bytesLabel(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d KB", n>>10)
}
