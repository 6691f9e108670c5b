// Package storetest gives each test its own migrated database: a fresh SQLite file always, and a
// fresh Postgres schema when TEST_DATABASE_URL is set. With REQUIRE_POSTGRES=1 a missing or
// unreachable Postgres fails the test instead of skipping it.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/atendimento/atendimento/internal/store"
)

// Engine names one database engine a test runs on.
type Engine struct {
	Name string
	open func(t testing.TB) *store.DB
}

// Open returns a fresh, migrated database of this engine, closed and dropped after the test.
func (e Engine) Open(t testing.TB) *store.DB { t.Helper(); return e.open(t) }

// Engines lists the engines this run covers: SQLite, and Postgres when TEST_DATABASE_URL is set.
func Engines(t testing.TB) []Engine {
	t.Helper()
	engines := []Engine{{Name: "sqlite", open: openSQLite}}
	if pg := os.Getenv("TEST_DATABASE_URL"); pg != "" {
		engines = append(engines, Engine{Name: "postgres", open: func(t testing.TB) *store.DB { return openPostgres(t, pg) }})
	} else if os.Getenv("REQUIRE_POSTGRES") == "1" {
		t.Fatal("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
	}
	return engines
}

// Each runs fn as a subtest on every engine, each with its own fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			fn(t, e.Open(t))
		})
	}
}

// SQLite returns a fresh migrated SQLite database in the test's temporary directory.
func SQLite(t testing.TB) *store.DB { t.Helper(); return openSQLite(t) }

func openSQLite(t testing.TB) *store.DB {
	t.Helper()
	return openMigrated(t, "sqlite", store.Options{URL: filepath.Join(t.TempDir(), "test.db")})
}

// openMigrated opens the database opts names, closes it after the test, and migrates it; the
// engine's name only labels a failure.
func openMigrated(t testing.TB, engine string, opts store.Options) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open %s: %v", engine, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", engine, err)
	}
	return db
}

// PostgresURL returns a URL to a fresh, empty schema of the test Postgres (dropped after the
// test), for tests that start server processes of their own. It skips (or fails under
// REQUIRE_POSTGRES=1) when there is no Postgres.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("REQUIRE_POSTGRES") == "1" {
			t.Fatal("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
		}
		t.Skip("TEST_DATABASE_URL not set")
	}
	admin, err := store.Open(context.Background(), store.Options{URL: base, MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	defer admin.Close()
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	schema := "t_" + hex.EncodeToString(buf)
	if err := admin.Conn(context.Background()).Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := store.Open(context.Background(), store.Options{URL: base, MaxOpenConns: 1})
		if err != nil {
			return
		}
		defer a.Close()
		_ = a.Conn(context.Background()).Exec("DROP SCHEMA " + schema + " CASCADE").Error
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openPostgres(t testing.TB, _ string) *store.DB {
	t.Helper()
	return openMigrated(t, "postgres", store.Options{URL: PostgresURL(t), MaxOpenConns: 6})
}
