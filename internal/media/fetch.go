package media

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/worker"
)

// Inbound is a file a contact sent, as a webhook announces it.
type Inbound struct {
	ChannelID string
	// ProviderMediaID is Meta's media id, to fetch the file by.
	ProviderMediaID string
	MimeType        string
	// DeclaredSHA256 is Meta's checksum as given (base64 or hex).
	DeclaredSHA256 string
	Filename       string
	Voice          bool
	// SandboxMediaID, on a sandbox channel, names a file of the account (from an upload) that
	// the simulated contact sends: recorded ready at once, nothing to fetch.
	SandboxMediaID string
}

// RecordInbound records a contact's file in the caller's transaction (the message's): pending
// in the fetch queue, due now; or, from a sandbox, a ready copy of an uploaded file. It returns
// the media id. The fetcher is woken after the commit.
func (s *Service) RecordInbound(ctx context.Context, in Inbound) (string, error) {
	now := s.now()
	ch := in.ChannelID
	r := row{ID: store.NewID(), AccountID: store.AccountID(ctx), ChannelID: &ch, Kind: KindOf(in.MimeType), MimeType: in.MimeType,
		Filename: cleanFilename(in.Filename), Voice: in.Voice, Status: StatusPending, DueAt: &now, CreatedAt: now, UpdatedAt: now}
	if in.SandboxMediaID != "" {
		src, err := s.Get(ctx, in.SandboxMediaID)
		if err != nil {
			return "", err
		}
		sha := src.SHA256
		r.Kind, r.MimeType, r.Size, r.SHA256, r.Status, r.DueAt = src.Kind, src.MimeType, src.Size, &sha, StatusReady, nil
		if r.Filename == "" {
			r.Filename = src.Filename
		}
		// An audio the sandbox sends is a voice note when it is Ogg Opus, as WhatsApp records them.
		r.Voice = r.Voice || (src.Kind == KindAudio && src.MimeType == "audio/ogg")
	} else {
		pid, declared := in.ProviderMediaID, in.DeclaredSHA256
		r.ProviderMediaID, r.DeclaredSHA256 = &pid, &declared
		store.AfterCommit(ctx, func(context.Context) { s.wake() })
	}
	if err := s.db.Conn(ctx).Create(&r).Error; err != nil {
		return "", store.Translate(err, nil, nil)
	}
	return r.ID, nil
}

// Downloader fetches a file from Meta; *whatsapp.Client implements it.
type Downloader interface {
	MediaURL(ctx context.Context, cr whatsapp.Credentials, mediaID string) (whatsapp.MediaInfo, error)
	Download(ctx context.Context, cr whatsapp.Credentials, mediaURL string) (io.ReadCloser, error)
}

var _ Downloader = (*whatsapp.Client)(nil)

// FetchConfig tunes the fetcher.
type FetchConfig struct {
	// Credentials returns a channel's phone number id and token (ctx carries its account).
	Credentials func(ctx context.Context, channelID string) (whatsapp.Credentials, error)
	// Ready is told, after the commit, that a file became ready or failed: the messages that
	// carry it are updated (message.updated).
	Ready func(ctx context.Context, mediaID string)
	// MaxAttempts before a file is failed (default 6).
	MaxAttempts int
	// Timeout bounds one fetch, lookup, download and store together (default 2 minutes).
	Timeout time.Duration
	// Stall cuts a download that receives no bytes for this long (default 30 s); it is retried
	// like any transient failure.
	Stall time.Duration
	// Lease is how long a claim lasts (default 5 minutes): a crashed instance's claims return
	// after it. It is kept longer than Timeout, so a claim never expires under a fetch still
	// running (a shorter one is raised to Timeout plus a quarter).
	Lease time.Duration
	// Concurrency is how many files are claimed and fetched at once (default 4); each streams
	// through a small buffer, so memory does not grow with file sizes.
	Concurrency int
	// Poll is the idle poll (default 30 s).
	Poll time.Duration
	Log  *slog.Logger
}

// Fetcher is the durable fetch queue's worker: it claims pending inbound files (crash-safe: a
// claim is a lease in the row, like the outbox's), downloads them from Meta, checks Meta's
// sha256, stores them and marks them ready, or retries with backoff and ends failed with a reason.
type Fetcher struct {
	s   *Service
	dl  Downloader
	cfg FetchConfig
	w   *worker.Worker
}

// NewFetcher returns the fetch queue's worker on w's lifecycle; Start runs it.
func (s *Service) NewFetcher(w *worker.Worker, dl Downloader, cfg FetchConfig) *Fetcher {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Stall <= 0 {
		cfg.Stall = 30 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 5 * time.Minute
	}
	if min := cfg.Timeout + cfg.Timeout/4; cfg.Lease < min {
		cfg.Lease = min
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Ready == nil {
		cfg.Ready = func(context.Context, string) {}
	}
	s.wake = w.Wake
	return &Fetcher{s: s, dl: dl, cfg: cfg, w: w}
}

// Config returns the fetcher's settings with the defaults filled in.
func (f *Fetcher) Config() FetchConfig { return f.cfg }

// Start runs the loop until ctx ends or Stop.
func (f *Fetcher) Start(ctx context.Context) {
	f.s.sweepSpool(f.cfg.Lease)
	f.w.Start(ctx, func(ctx context.Context) {
		for {
			n, err := f.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				f.cfg.Log.ErrorContext(ctx, "media fetch: claim failed", "err", err.Error())
			}
			if n > 0 {
				continue
			}
			if !f.w.Sleep(ctx, worker.Jitter(f.cfg.Poll, f.cfg.Poll/10)) {
				return
			}
		}
	})
}

// Stop waits for the fetches in flight.
func (f *Fetcher) Stop() { f.w.Stop() }

// claimSQL leases due pending files, one statement (SKIP LOCKED on Postgres).
const claimSQL = `UPDATE media SET lease_until = ?, attempts = attempts + 1, updated_at = ?
WHERE id IN (SELECT id FROM media WHERE status = 'pending' AND due_at <= ? AND (lease_until IS NULL OR lease_until < ?)
  ORDER BY due_at LIMIT ? %s)
RETURNING id`

// RunOnce claims up to Concurrency due files and fetches them at once; it returns how many it
// claimed, after they are all done.
func (f *Fetcher) RunOnce(ctx context.Context) (int, error) {
	s := f.s
	now := s.now()
	lock := ""
	if s.db.Dialect() == store.Postgres {
		lock = "FOR UPDATE SKIP LOCKED"
	}
	var ids []string
	if err := s.db.Conn(ctx).Raw(fmt.Sprintf(claimSQL, lock), now.Add(f.cfg.Lease), now, now, now, f.cfg.Concurrency).Scan(&ids).Error; err != nil {
		return 0, store.Translate(err, nil, nil)
	}
	var rows []row
	if len(ids) > 0 {
		if err := s.db.Conn(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
			return 0, store.Translate(err, nil, nil)
		}
	}
	var wg sync.WaitGroup
	for _, r := range rows {
		wg.Go(func() { f.fetch(store.WithAccount(ctx, r.AccountID), r) })
	}
	wg.Wait()
	return len(rows), nil
}

// errPermanent marks a failure no retry can mend.
type errPermanent struct{ reason string }

func (e errPermanent) Error() string { return e.reason }

// Why a fetch's own context ended: these are the fetch's failures (retried), unlike the end of
// the worker's context, which is a shutdown (the claim is handed back).
var (
	errStalled  = errors.New("stalled")
	errTimedOut = errors.New("timed out")
)

// fetch downloads one file and records the outcome. The claim is fenced by its attempt: a
// record only lands while the row is still pending under this claim.
func (f *Fetcher) fetch(ctx context.Context, r row) {
	fctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(f.cfg.Timeout, func() { cancel(errTimedOut) })
	defer timer.Stop()
	sp, err := f.download(fctx, cancel, r)
	if err == nil {
		err = f.s.putBlob(fctx, sp)
		// The store has the file (or will not): the spool file goes before the row says ready,
		// so a ready file never has a spool file left behind.
		sp.close()
	}
	if err != nil && ctx.Err() != nil {
		// Shutting down, not failing: hand the claim back at once (without spending the
		// attempt), so the next start resumes the file instead of waiting for the lease.
		f.release(r)
		return
	}
	if err != nil {
		switch context.Cause(fctx) {
		case errStalled:
			err = fmt.Errorf("the download stalled: no bytes for %s", f.cfg.Stall)
		case errTimedOut:
			err = fmt.Errorf("the download took longer than %s", f.cfg.Timeout)
		}
		f.failed(ctx, r, err)
		return
	}
	now := f.s.now()
	res := f.s.db.Tenant(ctx, "media").Where("id = ? AND status = ? AND attempts = ?", r.ID, StatusPending, r.Attempts).Updates(map[string]any{
		"status": StatusReady, "sha256": sp.sha, "size": sp.size, "lease_until": nil, "due_at": nil, "failure": nil, "updated_at": now})
	if res.Error != nil {
		f.cfg.Log.ErrorContext(ctx, "media fetch: record", "media_id", r.ID, "err", res.Error.Error())
		return
	}
	if res.RowsAffected == 0 {
		f.cfg.Log.WarnContext(ctx, "media fetch: claim lost before recording", "media_id", r.ID)
		return
	}
	f.cfg.Log.InfoContext(ctx, "media fetch: ready", "media_id", r.ID, "size", sp.size)
	f.cfg.Ready(ctx, r.ID)
}

// release returns a claim interrupted by a shutdown: due now, the attempt not counted.
func (f *Fetcher) release(r row) {
	ctx, cancel := context.WithTimeout(store.WithAccount(context.Background(), r.AccountID), 5*time.Second)
	defer cancel()
	err := f.s.db.Tenant(ctx, "media").Where("id = ? AND status = ? AND attempts = ?", r.ID, StatusPending, r.Attempts).
		Updates(map[string]any{"lease_until": nil, "attempts": r.Attempts - 1, "updated_at": f.s.now()}).Error
	if err != nil {
		f.cfg.Log.WarnContext(ctx, "media fetch: release on shutdown (the lease returns it)", "media_id", r.ID, "err", err.Error())
	}
}

// stallWatch cuts a download (cancel with errStalled) once no bytes have come for d.
type stallWatch struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (w *stallWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.t.Reset(w.d)
	}
	return n, err
}

// download asks Meta for the URL and streams the file to the spool; a URL refused as expired
// (401, 404) is asked for again, once per attempt. A download that receives nothing for Stall
// is cut through cancel.
func (f *Fetcher) download(ctx context.Context, cancel context.CancelCauseFunc, r row) (*spooled, error) {
	if r.ChannelID == nil || r.ProviderMediaID == nil {
		return nil, errPermanent{"no channel or WhatsApp media id to fetch from"}
	}
	cr, err := f.cfg.Credentials(ctx, *r.ChannelID)
	if err != nil {
		return nil, errPermanent{"the channel is gone or its credentials cannot be read"}
	}
	for try := 0; ; try++ {
		info, err := f.dl.MediaURL(ctx, cr, *r.ProviderMediaID)
		if err != nil {
			var we *whatsapp.Error
			if errors.As(err, &we) && !we.Transient {
				return nil, errPermanent{"WhatsApp no longer has this file: " + we.Title}
			}
			return nil, err
		}
		stall := time.AfterFunc(f.cfg.Stall, func() { cancel(errStalled) })
		body, err := f.dl.Download(ctx, cr, info.URL)
		var st whatsapp.DownloadStatus
		if errors.As(err, &st) && (st == 401 || st == 404) && try == 0 {
			stall.Stop()
			continue // the URL expired between the lookup and the download
		}
		if err != nil {
			stall.Stop()
			return nil, err
		}
		// The webhook's checksum, else the lookup's: the bytes must match what Meta declared.
		declared := *r.DeclaredSHA256
		if declared == "" {
			declared = info.SHA256
		}
		sp, err := f.s.spoolVerified(&stallWatch{r: body, t: stall, d: f.cfg.Stall}, limit(KindOf(r.MimeType), true), declared)
		stall.Stop()
		body.Close()
		return sp, err
	}
}

// spoolVerified spools a download and checks it against Meta's declared sha256 (base64 or hex).
func (s *Service) spoolVerified(body io.Reader, max int64, declared string) (*spooled, error) {
	sp, err := s.spoolAs("fetch-*", body, max)
	if errors.Is(err, errTooLarge) {
		return nil, errPermanent{fmt.Sprintf("the file is larger than WhatsApp allows (%d bytes)", max)}
	}
	if err != nil {
		return nil, err
	}
	if declared != "" && !sameSHA(sp.sha, declared) {
		sp.close()
		// Meta's file does not change: a download that does not match it never will (TLS rules
		// out corruption on the way), so it fails at once rather than download again and again.
		return nil, errPermanent{"the file's sha256 does not match the one WhatsApp declared"}
	}
	return sp, nil
}

// sameSHA compares a hex digest with Meta's declared one in whichever form Meta gave it.
func sameSHA(hexSum, declared string) bool {
	if strings.EqualFold(hexSum, declared) {
		return true
	}
	raw, err := hex.DecodeString(hexSum)
	if err != nil || len(raw) != sha256.Size {
		return false
	}
	return base64.StdEncoding.EncodeToString(raw) == declared || base64.RawStdEncoding.EncodeToString(raw) == declared ||
		base64.URLEncoding.EncodeToString(raw) == declared
}

// failed retries a file with backoff, or fails it with a reason once permanent or out of attempts.
func (f *Fetcher) failed(ctx context.Context, r row, err error) {
	now := f.s.now()
	var perm errPermanent
	final := errors.As(err, &perm) || r.Attempts >= f.cfg.MaxAttempts
	reason := err.Error()
	var we *whatsapp.Error
	if errors.As(err, &we) {
		reason = "WhatsApp: " + we.Title
	}
	updates := map[string]any{"failure": reason, "lease_until": nil, "updated_at": now}
	if final {
		updates["status"], updates["due_at"] = StatusFailed, nil
	} else {
		updates["due_at"] = now.Add(whatsapp.Backoff(r.Attempts, whatsapp.RetryAfter(err), nil))
	}
	if res := f.s.db.Tenant(ctx, "media").Where("id = ? AND status = ? AND attempts = ?", r.ID, StatusPending, r.Attempts).Updates(updates); res.Error != nil {
		f.cfg.Log.ErrorContext(ctx, "media fetch: record failure", "media_id", r.ID, "err", res.Error.Error())
		return
	}
	f.cfg.Log.WarnContext(ctx, "media fetch: failed", "media_id", r.ID, "attempt", r.Attempts, "final", final, "reason", reason)
	if final {
		f.cfg.Ready(ctx, r.ID)
	}
}

// QueueStats measures the fetch queue across accounts: files waiting, and since when the
// oldest due one has waited (nil: none due).
func (s *Service) QueueStats(ctx context.Context) (pending int64, oldestDue *time.Time, err error) {
	if err := s.db.Conn(ctx).Table("media").Where("status = 'pending'").Count(&pending).Error; err != nil {
		return 0, nil, store.Translate(err, nil, nil)
	}
	var ts []time.Time
	if err := s.db.Conn(ctx).Table("media").Where("status = 'pending' AND due_at <= ?", s.now()).Order("due_at").Limit(1).
		Pluck("due_at", &ts).Error; err != nil {
		return 0, nil, store.Translate(err, nil, nil)
	}
	if len(ts) > 0 {
		t := ts[0].UTC()
		oldestDue = &t
	}
	return pending, oldestDue, nil
}
