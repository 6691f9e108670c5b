package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/store"
)

func countContacts(t *testing.T, a *app.App) int64 {
	t.Helper()
	var n int64
	require.NoError(t, a.DB.Conn(context.Background()).Table("contacts").Count(&n).Error)
	return n
}

// TestBackup copies the database of an open, busy app (a writer adds contacts all along), then
// finds the demo data in the copy opened as a new app, checks the copy's integrity, and restores
// it the way the README says: server stopped, the copy over the database file, its WAL files
// removed.
func TestBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "atendimento.db"))
	a, err := app.New(ctx, cfg, discard())
	require.NoError(t, err)
	demo, err := a.Demo(ctx)
	require.NoError(t, err)
	actx := store.WithAccount(ctx, demo.AccountID)

	// The server keeps writing while the backup runs.
	var wrote atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			name, phone := fmt.Sprintf("Cliente %d", i), fmt.Sprintf("+55 11 9%04d-%04d", i/10000, i%10000)
			if _, err := a.Contacts.Create(actx, contact.Input{Name: &name, Phone: &phone}); err != nil {
				t.Errorf("write during the backup: %v", err)
				return
			}
			wrote.Add(1)
		}
	})
	require.Eventually(t, func() bool { return wrote.Load() >= 20 }, 30*time.Second, time.Millisecond)
	before := countContacts(t, a)

	out := filepath.Join(dir, "backup.db")
	var stdout bytes.Buffer
	require.NoError(t, run(ctx, []string{"backup", "--out", out}, cfg, discard(), &stdout))
	close(stop)
	wg.Wait()
	after := countContacts(t, a)
	require.Contains(t, stdout.String(), "written to "+out)
	st, err := os.Stat(out)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the copy holds password hashes: owner only")

	// The copy is a sound database: integrity_check, then the data, through a new app.
	raw, err := store.Open(ctx, store.Options{URL: out})
	require.NoError(t, err)
	var check string
	require.NoError(t, raw.Conn(ctx).Raw("PRAGMA integrity_check").Scan(&check).Error)
	require.Equal(t, "ok", check)
	require.NoError(t, raw.Close())

	copyCfg := testConfig(out)
	b := openApp(t, copyCfg)
	got, err := b.Contacts.Get(actx, demo.ContactID)
	require.NoError(t, err)
	require.Equal(t, "João da Silva", got.Name)
	_, err = b.Accounts.Login(ctx, demo.AdminEmail, demo.AdminPassword)
	require.NoError(t, err, "the demo admin logs in to the copy")
	inCopy := countContacts(t, b)
	require.GreaterOrEqual(t, inCopy, before, "the copy has what was committed before it started")
	require.LessOrEqual(t, inCopy, after)
	require.NoError(t, b.Close())

	// An existing file is never overwritten.
	want, err := os.ReadFile(out)
	require.NoError(t, err)
	err = run(ctx, []string{"backup", "--out", out}, cfg, discard(), &bytes.Buffer{})
	require.ErrorIs(t, err, os.ErrExist)
	gotBytes, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, want, gotBytes)

	// Restore (README "Backups"): stop the server, copy the backup over the database file and
	// remove the old write-ahead log beside it, start.
	require.NoError(t, a.Close())
	require.NoError(t, os.WriteFile(cfg.DatabaseURL, want, 0o600))
	for _, suffix := range []string{"-wal", "-shm"} {
		require.NoError(t, os.RemoveAll(cfg.DatabaseURL+suffix))
	}
	restored := openApp(t, cfg)
	require.Equal(t, inCopy, countContacts(t, restored), "the restored database is the backup, not the later writes")
	_, err = restored.Contacts.Get(actx, demo.ContactID)
	require.NoError(t, err)
}

// TestBackupRefuses: no --out, no database file (it is not created), and PostgreSQL, which is
// pg_dump's job (no connection is attempted).
func TestBackupRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "atendimento.db"))

	require.ErrorContains(t, run(ctx, []string{"backup"}, cfg, discard(), &bytes.Buffer{}), "--out FILE is required")

	err := run(ctx, []string{"backup", "--out", filepath.Join(dir, "b.db")}, cfg, discard(), &bytes.Buffer{})
	require.ErrorContains(t, err, "no SQLite database at "+cfg.DatabaseURL)
	require.False(t, exists(cfg.DatabaseURL), "a backup creates no database")
	require.False(t, exists(filepath.Join(dir, "b.db")))

	pg := testConfig("postgres://atendimento:pw@127.0.0.1:1/atendimento?sslmode=disable")
	err = run(ctx, []string{"backup", "--out", filepath.Join(dir, "b.db")}, pg, discard(), &bytes.Buffer{})
	require.ErrorIs(t, err, errPostgresBackup)
	require.Contains(t, err.Error(), `pg_dump --format=custom --file=atendimento.dump "$DATABASE_URL"`)
	require.False(t, exists(filepath.Join(dir, "b.db")))
}

// Without SECRET_KEY the key generated beside the database must be kept with the backup.
func TestBackupNamesTheKeyFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "atendimento.db"))
	cfg.SecretKey = ""
	a := openApp(t, cfg) // generates dir/secret.key
	require.True(t, exists(filepath.Join(dir, "secret.key")))
	var stdout bytes.Buffer
	require.NoError(t, run(ctx, []string{"backup", "--out", filepath.Join(dir, "b.db")}, a.Config, discard(), &stdout))
	require.Contains(t, stdout.String(), filepath.Join(dir, "secret.key")+": keep a copy of it with the backup")
}
