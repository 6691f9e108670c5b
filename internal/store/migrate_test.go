package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

// TestMigrationFilesInStep checks that both dialects have the same migration versions: a
// migration added for one engine only would leave the other a schema behind.
func TestMigrationFilesInStep(t *testing.T) {
	pg, lite := migrationFiles(t, "postgres"), migrationFiles(t, "sqlite")
	require.NotEmpty(t, pg)
	require.Equal(t, pg, lite, "internal/store/migrations/postgres and sqlite must hold the same versions")
}

// TestMigratedSchemasInStep migrates a real SQLite and a real Postgres database and checks that
// they record the same versions and have the same tables with the same columns, each column
// NOT NULL on both or on neither. Types are the dialects' own and are not compared. It needs
// TEST_DATABASE_URL (and fails without it under REQUIRE_POSTGRES=1).
func TestMigratedSchemasInStep(t *testing.T) {
	ctx := context.Background()
	pg, err := store.Open(ctx, store.Options{URL: storetest.PostgresURL(t), MaxOpenConns: 2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pg.Close() })
	require.NoError(t, pg.Migrate(ctx))
	lite := storetest.SQLite(t)

	files := migrationFiles(t, "postgres")
	require.Equal(t, files, appliedVersions(t, pg), "postgres")
	require.Equal(t, files, appliedVersions(t, lite), "sqlite")

	pgCols, liteCols := postgresColumns(t, pg), sqliteColumns(t, lite)
	require.NotEmpty(t, pgCols)
	require.Equal(t, pgCols, liteCols, "tables and columns (name, and null or not null) after migrating, postgres then sqlite")
}

// migrationFiles returns the versions of a dialect's migration files, in order.
func migrationFiles(t *testing.T, dialect string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("migrations", dialect))
	require.NoError(t, err)
	var versions []string
	for _, e := range entries {
		if v, ok := strings.CutSuffix(e.Name(), ".sql"); ok {
			versions = append(versions, v)
		}
	}
	sort.Strings(versions)
	return versions
}

func appliedVersions(t *testing.T, db *store.DB) []string {
	t.Helper()
	var versions []string
	require.NoError(t, db.Conn(context.Background()).Raw("SELECT version FROM schema_migrations ORDER BY version").Scan(&versions).Error)
	return versions
}

// postgresColumns lists the current schema's columns as "table.column null|not null", sorted.
func postgresColumns(t *testing.T, db *store.DB) []string {
	t.Helper()
	var rows []struct {
		TableName  string
		ColumnName string
		IsNullable string
	}
	require.NoError(t, db.Conn(context.Background()).Raw(`SELECT c.table_name, c.column_name, c.is_nullable
		FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`).Scan(&rows).Error)
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = column(r.TableName, r.ColumnName, r.IsNullable == "NO")
	}
	sort.Strings(out)
	return out
}

// sqliteColumns lists the database's columns like postgresColumns. A primary key column counts
// as NOT NULL, as Postgres makes it, although SQLite's table_info reports only what was declared.
func sqliteColumns(t *testing.T, db *store.DB) []string {
	t.Helper()
	conn := db.Conn(context.Background())
	var tables []string
	require.NoError(t, conn.Raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&tables).Error)
	var out []string
	for _, table := range tables {
		var cols []struct {
			Name    string
			NotNull bool
			PK      int
		}
		require.NoError(t, conn.Raw(`SELECT name, "notnull" AS not_null, pk FROM pragma_table_info(?)`, table).Scan(&cols).Error)
		for _, c := range cols {
			out = append(out, column(table, c.Name, c.NotNull || c.PK > 0))
		}
	}
	sort.Strings(out)
	return out
}

func column(table, name string, notNull bool) string {
	null := "null"
	if notNull {
		null = "not null"
	}
	return fmt.Sprintf("%s.%s %s", table, name, null)
}
