package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// mediaRow reads the one media row of a database.
func mediaRow(t *testing.T, dbURL string) (status string, sha *string, lease *time.Time) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{URL: dbURL, MaxOpenConns: 1})
	require.NoError(t, err)
	defer db.Close()
	var r struct {
		Status     string
		SHA256     *string `gorm:"column:sha256"`
		LeaseUntil *time.Time
	}
	require.NoError(t, db.Conn(context.Background()).Table("media").Select("status, sha256, lease_until").Take(&r).Error)
	return r.Status, r.SHA256, r.LeaseUntil
}

// TestMediaFetchSurvivesAKill: a server process killed (SIGKILL) in the middle of a download
// leaves the file pending under its claim; the next server takes the claim over once its lease
// ends, sweeps the partial spool file and stores the file whole, with Meta's sha256.
func TestMediaFetchSurvivesAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	t.Parallel()
	bin := serverBinary(t)
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			if name == "postgres" && os.Getenv("TEST_DATABASE_URL") == "" && os.Getenv("REQUIRE_POSTGRES") != "1" {
				t.Skip("TEST_DATABASE_URL not set")
			}
			t.Parallel()
			dbURL := filepath.Join(t.TempDir(), "media.db")
			if name == "postgres" {
				dbURL = storetest.PostgresURL(t)
			}
			seeded, _ := seedCloud(t, dbURL, 0, 0)
			blobDir, spool := t.TempDir(), t.TempDir()
			fake := whatsapptest.NewFake(t)
			fake.SetAccessToken(token)
			data := []byte(strings.Repeat("\xff\xd8\xff\xe0 foto do comprovante ", 1<<16)) // 1.4 MB
			fake.SetMedia("m-kill", data, "image/jpeg", "")
			stalled := fake.StallNextDownloads(1, 512<<10)

			// The webhook records the image (in process, no fetcher running).
			a, err := app.New(context.Background(), app.Config{DatabaseURL: dbURL, SecretKey: crashSecret, BcryptCost: bcrypt.MinCost,
				NoDispatcher: true, MediaStore: blobDir}, slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			body, err := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": waba,
				"changes": []any{map[string]any{"field": "messages", "value": inboundMessages("5511987650009",
					mediaMessage("5511987650009", "wamid.kill", "image", map[string]any{"id": "m-kill", "mime_type": "image/jpeg"}, time.Now()))}}}}})
			require.NoError(t, err)
			req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp/"+seeded.channelID, strings.NewReader(string(body)))
			req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(body, appSecret))
			rec := httptest.NewRecorder()
			a.Handler.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			require.NoError(t, a.Close())
			status, _, _ := mediaRow(t, dbURL)
			require.Equal(t, "pending", status)

			env := []string{"MEDIA_STORE=" + blobDir, "TMPDIR=" + spool, "MEDIA_FETCH_TIMEOUT=2s", "MEDIA_FETCH_LEASE=3s"}
			srv := startServer(t, bin, dbURL, fake.URL, env...)
			select {
			case <-stalled: // 512 KB of the file are on their way to the server's spool
			case <-time.After(60 * time.Second):
				t.Fatal("the server never started the download")
			}
			waitWithin(t, "the server to spool what it received", 30*time.Second, func() bool {
				left, _ := filepath.Glob(filepath.Join(spool, "fetch-*"))
				if len(left) != 1 {
					return false
				}
				st, err := os.Stat(left[0])
				return err == nil && st.Size() > 0
			})
			require.NoError(t, srv.Process.Signal(syscall.SIGKILL))
			_ = srv.Wait()
			killedAt := time.Now()
			status, _, lease := mediaRow(t, dbURL)
			require.Equal(t, "pending", status)
			require.NotNil(t, lease, "the killed server's claim is still in the row")
			left, _ := filepath.Glob(filepath.Join(spool, "fetch-*"))
			require.Len(t, left, 1, "the killed download's partial spool file")

			// A real wait: a lease is wall-clock time, and the next server must start after it so
			// that its start sweeps the partial spool file (younger files may be in use).
			time.Sleep(time.Until(killedAt.Add(3*time.Second + 200*time.Millisecond)))
			startServer(t, bin, dbURL, fake.URL, env...)
			waitWithin(t, "the restarted server to fetch the file", 60*time.Second, func() bool {
				status, _, _ := mediaRow(t, dbURL)
				return status != "pending"
			})
			status, sha, lease := mediaRow(t, dbURL)
			sum := sha256.Sum256(data)
			require.Equal(t, "ready", status)
			require.Equal(t, hex.EncodeToString(sum[:]), *sha)
			require.Nil(t, lease)

			// The store holds the whole file under its sha256 and nothing half-written; the
			// partial spool file is gone.
			var blobs []string
			require.NoError(t, filepath.WalkDir(blobDir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				blobs = append(blobs, p)
				return nil
			}))
			require.Len(t, blobs, 1, "one blob, no temporary file: %v", blobs)
			require.Equal(t, hex.EncodeToString(sum[:]), filepath.Base(blobs[0]))
			stored, err := os.ReadFile(blobs[0])
			require.NoError(t, err)
			require.Equal(t, data, stored)
			left, _ = filepath.Glob(filepath.Join(spool, "fetch-*"))
			require.Empty(t, left, "the partial spool file was swept")
		})
	}
}
