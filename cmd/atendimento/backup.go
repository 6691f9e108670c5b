package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/internal/store"
)

// errPostgresBackup answers `backup` on PostgreSQL. The command does not run pg_dump itself: the
// server's image has none, a pg_dump older than the server refuses to dump it, and where the
// dump goes and how it is kept are the operator's to choose.
var errPostgresBackup = errors.New(`backup: DATABASE_URL is a PostgreSQL database: back it up with PostgreSQL's tools, ` +
	`pg_dump --format=custom --file=atendimento.dump "$DATABASE_URL" ` +
	`(restore: pg_restore --clean --if-exists --no-owner --dbname="$DATABASE_URL" atendimento.dump), and keep SECRET_KEY with it`)

// backup writes a consistent copy of the SQLite database to --out while the server may be
// running. Restoring is a copy back over the database file with the server stopped (README).
func backup(ctx context.Context, args []string, cfg app.Config, log *slog.Logger, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	out := fs.String("out", "", "the backup file to create (an existing file is never overwritten)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return usageError{"backup: --out FILE is required\n" + usage}
	}
	path, ok := store.SQLitePath(cfg.DatabaseURL)
	if !ok {
		return errPostgresBackup
	}
	// Opening a missing file would create an empty database, and back that up.
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: no SQLite database at %s: %w", path, err)
	}
	db, err := store.Open(ctx, store.Options{URL: cfg.DatabaseURL, MaxOpenConns: 1, Log: log})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.BackupTo(ctx, *out); err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup of %s written to %s (%d bytes)\n", path, *out, st.Size())
	if key := filepath.Join(filepath.Dir(path), "secret.key"); cfg.SecretKey == "" && exists(key) {
		// Without the key the copy's channel secrets cannot be read.
		fmt.Fprintf(stdout, "channel secrets are encrypted with %s: keep a copy of it with the backup\n", key)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
