// Package media owns an account's files: the ones agents upload to send, and the ones contacts
// send, fetched from Meta by a durable queue. It keeps the rows (table media, and media_uploads:
// Meta's ids for blobs uploaded to a channel) and the bytes (Blobs, content-addressed by
// sha256 under the account). Other packages point at a media row by its id.
package media

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/clock"
	"github.com/atendimento/atendimento/internal/store"
	"gorm.io/gorm"
)

// Status is where a media row is: pending (an inbound file not fetched yet), ready, or failed.
type Status string

// The media statuses.
const (
	StatusPending Status = "pending"
	StatusReady   Status = "ready"
	StatusFailed  Status = "failed"
)

// Media is a file of the account.
type Media struct {
	ID       string
	Kind     Kind
	MimeType string
	Size     int64
	SHA256   string // hex; "" while pending
	Filename string
	Voice    bool
	Status   Status
	// Failure says why a fetch failed, for the agent ("" unless failed).
	Failure   string
	ChannelID string
	CreatedBy *string
	CreatedAt time.Time
}

// ErrNotFound is a media id the account does not have.
var ErrNotFound = apperr.NotFound("media_not_found", "media not found")

type row struct {
	ID              string
	AccountID       string
	ChannelID       *string
	Kind            Kind
	MimeType        string
	Size            int64
	SHA256          *string `gorm:"column:sha256"`
	Filename        string
	Voice           bool
	Status          Status
	ProviderMediaID *string
	DeclaredSHA256  *string `gorm:"column:declared_sha256"`
	Failure         *string
	Attempts        int
	DueAt           *time.Time
	LeaseUntil      *time.Time
	CreatedBy       *string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (row) TableName() string { return "media" }

func (r row) toMedia() Media {
	m := Media{ID: r.ID, Kind: r.Kind, MimeType: r.MimeType, Size: r.Size, Filename: r.Filename, Voice: r.Voice,
		Status: r.Status, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC()}
	if r.SHA256 != nil {
		m.SHA256 = *r.SHA256
	}
	if r.Failure != nil {
		m.Failure = *r.Failure
	}
	if r.ChannelID != nil {
		m.ChannelID = *r.ChannelID
	}
	return m
}

// Service is the media domain.
type Service struct {
	db       *store.DB
	blobs    Blobs
	clock    clock.Clock
	spoolDir string
	wake     func()
}

// Options tune a Service.
type Options struct {
	// Spool is the folder uploads and downloads are streamed into while their sha256 is
	// computed, before they go to the store (default: the system's temporary folder).
	Spool string
	Clock clock.Clock
}

// New returns the media service over db and blobs.
func New(db *store.DB, blobs Blobs, o Options) *Service {
	if o.Spool == "" {
		o.Spool = os.TempDir()
	}
	return &Service{db: db, blobs: blobs, clock: clock.Or(o.Clock), spoolDir: o.Spool, wake: func() {}}
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// spooled is a file streamed to the spool folder: its size and sha256, and its first bytes.
type spooled struct {
	f    *os.File
	size int64
	sha  string
	head []byte
}

func (sp *spooled) close() {
	sp.f.Close()
	os.Remove(sp.f.Name())
}

// errTooLarge is a stream that went past its cap.
var errTooLarge = errors.New("media too large")

// spool streams r into a temporary file, hashing it, stopping with errTooLarge past max bytes:
// at most a buffer of it is ever in memory.
func (s *Service) spool(r io.Reader, max int64) (*spooled, error) {
	return s.spoolAs("media-*", r, max)
}

// spoolAs is spool with the temporary file's name pattern (fetches have their own, so a start
// can sweep what a crashed fetch left).
func (s *Service) spoolAs(pattern string, r io.Reader, max int64) (*spooled, error) {
	f, err := os.CreateTemp(s.spoolDir, pattern)
	if err != nil {
		return nil, fmt.Errorf("media spool: %w", err)
	}
	sp := &spooled{f: f}
	h := sha256.New()
	br := bufio.NewReaderSize(r, 4096)
	sp.head, _ = br.Peek(512)
	sp.head = append([]byte(nil), sp.head...)
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(br, max+1))
	if err == nil && n > max {
		err = errTooLarge
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		sp.close()
		if errors.Is(err, errTooLarge) {
			return nil, err
		}
		return nil, fmt.Errorf("media spool: %w", err)
	}
	sp.size, sp.sha = n, hex.EncodeToString(h.Sum(nil))
	return sp, nil
}

// sweepSpool removes fetch spool files older than age: a fetch is bounded by its timeout, shorter
// than age, so such a file is what a killed process left, never one in use.
func (s *Service) sweepSpool(age time.Duration) {
	names, _ := filepath.Glob(filepath.Join(s.spoolDir, "fetch-*"))
	for _, n := range names {
		if st, err := os.Stat(n); err == nil && s.clock.Now().Sub(st.ModTime()) > age {
			_ = os.Remove(n)
		}
	}
}

// tooLarge is the 413 problem for a file over its kind's limit.
func tooLarge(k Kind, max int64) error {
	size := fmt.Sprintf("%d KB", max>>10)
	if max >= 1<<20 {
		size = fmt.Sprintf("%d MB", max>>20)
	}
	return apperr.New(apperr.KindTooLarge, "media_too_large", fmt.Sprintf("WhatsApp takes %s files up to %s", k, size))
}

// Upload stores a file an agent sends: streamed to the spool with a cap, judged by its bytes,
// checked against Meta's limits for its kind (413 media_too_large, 415 media_type_unsupported),
// written to the store, then recorded. filename is the client's name for it. The same bytes
// under the same name, uploaded again in the account, are the upload it has already: same id.
func (s *Service) Upload(ctx context.Context, createdBy *string, r io.Reader, filename string) (Media, error) {
	sp, err := s.spool(r, MaxUpload)
	if errors.Is(err, errTooLarge) {
		return Media{}, tooLarge(KindDocument, MaxUpload)
	}
	if err != nil {
		return Media{}, err
	}
	defer sp.close()
	if sp.size == 0 {
		return Media{}, apperr.Invalid(apperr.FieldError{Field: "file", Code: "media_empty", Message: "the file is empty"})
	}
	kind, ok := sniff(sp.head, sp.f, sp.size, filename)
	if !ok {
		return Media{}, apperr.New(apperr.KindUnsupportedMedia, "media_type_unsupported", "WhatsApp does not take files of this type")
	}
	if max := limit(kind.kind, kind.animated); sp.size > max {
		return Media{}, tooLarge(kind.kind, max)
	}
	// Content-addressed: the same bytes under the same name are the file the account has already.
	if m, ok, err := s.reuseUpload(ctx, sp.sha, cleanFilename(filename)); err != nil || ok {
		return m, err
	}
	if err := s.putBlob(ctx, sp); err != nil {
		return Media{}, err
	}
	return s.createUpload(ctx, row{Kind: kind.kind, MimeType: kind.mime, Size: sp.size, Filename: cleanFilename(filename), CreatedBy: createdBy}, sp.sha)
}

// createUpload records an uploaded file whose blob is stored, from r's kind, type, size, name
// and uploader.
func (s *Service) createUpload(ctx context.Context, r row, sha string) (Media, error) {
	now := s.now()
	r2 := row{ID: store.NewID(), AccountID: store.AccountID(ctx), Kind: r.Kind, MimeType: r.MimeType, Size: r.Size, SHA256: &sha,
		Filename: r.Filename, Status: StatusReady, CreatedBy: r.CreatedBy, CreatedAt: now, UpdatedAt: now}
	if err := s.db.Conn(ctx).Create(&r2).Error; err != nil {
		return Media{}, store.Translate(err, nil, nil)
	}
	return r2.toMedia(), nil
}

// reuseUpload finds the account's upload (not a file a contact sent) with these bytes and this
// name; a hit is touched, so the sweep of unused uploads counts its day from now.
func (s *Service) reuseUpload(ctx context.Context, sha, filename string) (Media, bool, error) {
	var rows []row
	if err := s.db.Tenant(ctx, "media").Where("channel_id IS NULL AND status = ? AND sha256 = ? AND filename = ?", StatusReady, sha, filename).
		Order("created_at").Limit(1).Find(&rows).Error; err != nil {
		return Media{}, false, store.Translate(err, nil, nil)
	}
	if len(rows) == 0 {
		return Media{}, false, nil
	}
	now := s.now()
	if err := s.db.Tenant(ctx, "media").Where("id = ?", rows[0].ID).Update("updated_at", now).Error; err != nil {
		return Media{}, false, store.Translate(err, nil, nil)
	}
	return rows[0].toMedia(), true, nil
}

// putBlob writes a spooled file to the store under the account, before any row points at it.
func (s *Service) putBlob(ctx context.Context, sp *spooled) error {
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("media spool: %w", err)
	}
	if err := s.blobs.Put(ctx, blobKey(store.AccountID(ctx), sp.sha), sp.f, sp.size); err != nil {
		return &apperr.Error{Kind: apperr.KindUnavailable, Code: "media_store_unavailable", Message: "the media store could not save the file", Err: err}
	}
	return nil
}

// cleanFilename keeps a client's file name to its last element, without control characters.
func cleanFilename(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if len(name) > 255 {
		name = name[:255]
	}
	return name
}

// Get returns one media row of the account.
func (s *Service) Get(ctx context.Context, id string) (Media, error) {
	if !store.ValidID(id) {
		return Media{}, ErrNotFound
	}
	r, err := store.Get[row](s.db.Tenant(ctx, "media"), id, ErrNotFound)
	return r.toMedia(), err
}

// ByIDs returns the account's media rows with these ids, by id.
func (s *Service) ByIDs(ctx context.Context, ids []string) (map[string]Media, error) {
	out := make(map[string]Media, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []row
	if err := s.db.Tenant(ctx, "media").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	for _, r := range rows {
		out[r.ID] = r.toMedia()
	}
	return out, nil
}

// Open returns a ready media row and its bytes; the caller closes them. A row not ready is
// 409 media_not_ready.
func (s *Service) Open(ctx context.Context, id string) (Media, io.ReadSeekCloser, error) {
	m, err := s.Get(ctx, id)
	if err != nil {
		return m, nil, err
	}
	if m.Status != StatusReady {
		return m, nil, apperr.Conflict("media_not_ready", "the file has not been fetched from WhatsApp yet").With("media_status", string(m.Status))
	}
	rc, err := s.blobs.Open(ctx, blobKey(store.AccountID(ctx), m.SHA256))
	if err != nil {
		return m, nil, fmt.Errorf("media open %s: %w", id, err)
	}
	return m, rc, nil
}

// DeleteOrphans removes the account's media that no message points at any more (after a
// contact and its conversations are deleted), then the blobs no remaining row uses. Uploads
// uploaded (or uploaded again) within a day are kept: they may be about to be sent.
func (s *Service) DeleteOrphans(ctx context.Context) error {
	var shas []string
	cutoff := s.now().Add(-24 * time.Hour)
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		orphan := s.db.Tenant(ctx, "media").Where("NOT EXISTS (SELECT 1 FROM messages m WHERE m.media_id = media.id)").
			Where("(created_by IS NULL AND channel_id IS NOT NULL) OR updated_at < ?", cutoff)
		if err := orphan.Session(&gorm.Session{}).Where("sha256 IS NOT NULL").Distinct().Pluck("sha256", &shas).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		return store.Translate(orphan.Delete(&row{}).Error, nil, nil)
	})
	if err != nil {
		return err
	}
	for _, sha := range shas {
		var n int64
		if err := s.db.Tenant(ctx, "media").Where("sha256 = ?", sha).Count(&n).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		if n == 0 {
			if err := s.blobs.Delete(ctx, blobKey(store.AccountID(ctx), sha)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Named returns the upload m under another name: the account's upload with the same bytes and
// that name, else a new row for the same blob. m itself is never changed: other messages may
// carry it under its own name.
func (s *Service) Named(ctx context.Context, m Media, filename string) (Media, error) {
	name := cleanFilename(filename)
	if name == m.Filename {
		return m, nil
	}
	if r, ok, err := s.reuseUpload(ctx, m.SHA256, name); err != nil || ok {
		return r, err
	}
	return s.createUpload(ctx, row{Kind: m.Kind, MimeType: m.MimeType, Size: m.Size, Filename: name, CreatedBy: m.CreatedBy}, m.SHA256)
}
