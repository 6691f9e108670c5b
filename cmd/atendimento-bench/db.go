package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	pg     = "postgres"
	sqlite = "sqlite"
)

// benchDB is one database a measurement runs on: a Postgres database created for this run (and
// dropped at the end), or an SQLite file in the run's temporary directory.
type benchDB struct {
	Engine string
	URL    string // DATABASE_URL for the server: a postgres:// URL or the SQLite file path
	Name   string // Postgres database name
}

// databases creates and drops the run's databases. Postgres databases are named
// atbench_<pid>_<n>, so leftovers of a killed run can be told from another run's.
type databases struct {
	adminURL string // TEST_DATABASE_URL
	tmp      string
	mu       sync.Mutex
	n        int
	made     []string // every Postgres database made and not dropped yet
	dropped  []string // databases to drop at the next flush
}

func (d *databases) admin(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, d.adminURL)
}

func (d *databases) pgURL(name string) string {
	u, _ := url.Parse(d.adminURL)
	u.Path = "/" + name
	return u.String()
}

func (d *databases) nextName() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	return fmt.Sprintf("atbench_%d_%d", os.Getpid(), d.n)
}

// fresh returns an empty database of the engine.
func (d *databases) fresh(ctx context.Context, engine string) (*benchDB, error) {
	name := d.nextName()
	if engine == sqlite {
		return &benchDB{Engine: sqlite, URL: filepath.Join(d.tmp, name+".db"), Name: name}, nil
	}
	if err := d.exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, err
	}
	d.remember(name)
	return &benchDB{Engine: pg, URL: d.pgURL(name), Name: name}, nil
}

// clone copies src (no one may be connected to it): CREATE DATABASE … TEMPLATE on Postgres, a
// file copy on SQLite.
func (d *databases) clone(ctx context.Context, src *benchDB) (*benchDB, error) {
	name := d.nextName()
	if src.Engine == sqlite {
		dst := filepath.Join(d.tmp, name+".db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := copyFile(src.URL+suffix, dst+suffix); err != nil && !os.IsNotExist(err) {
				return nil, err
			}
		}
		return &benchDB{Engine: sqlite, URL: dst, Name: name}, nil
	}
	var err error
	for range 50 { // a pooled connection of the seeder may take a moment to go
		if err = d.exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+src.Name); err == nil || !strings.Contains(err.Error(), "being accessed") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	d.remember(name)
	return &benchDB{Engine: pg, URL: d.pgURL(name), Name: name}, nil
}

func (d *databases) remember(name string) {
	d.mu.Lock()
	d.made = append(d.made, name)
	d.mu.Unlock()
}

// drop removes a database made by this run. On Postgres the drop waits for cleanup (each DROP
// DATABASE forces a checkpoint, seconds with dirty buffers; done together, only the first pays).
func (d *databases) drop(_ context.Context, db *benchDB) {
	if db == nil {
		return
	}
	if db.Engine == sqlite {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(db.URL + suffix)
		}
		return
	}
	d.mu.Lock()
	d.dropped = append(d.dropped, db.Name)
	d.mu.Unlock()
}

// flush drops the Postgres databases drop queued.
func (d *databases) flush(ctx context.Context) {
	d.mu.Lock()
	names := d.dropped
	d.dropped = nil
	d.mu.Unlock()
	dropAll(ctx, d, names)
}

// dropAll drops the databases concurrently: their forced checkpoints coalesce into one or two.
func dropAll(ctx context.Context, d *databases, names []string) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, n := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d.dropNow(ctx, n)
		}()
	}
	wg.Wait()
}

func (d *databases) dropNow(ctx context.Context, name string) {
	_ = d.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	d.mu.Lock()
	for i, n := range d.made {
		if n == name {
			d.made = append(d.made[:i], d.made[i+1:]...)
			break
		}
	}
	d.mu.Unlock()
}

// cleanup drops every database this run made and still has.
func (d *databases) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d.mu.Lock()
	names := append([]string(nil), d.made...)
	d.mu.Unlock()
	dropAll(ctx, d, names)
}

// dropOrphans drops atbench_<pid>_* databases whose process is gone (a killed earlier run).
func (d *databases) dropOrphans(ctx context.Context) {
	c, err := d.admin(ctx)
	if err != nil {
		return
	}
	rows, err := c.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'atbench\\_%'")
	var names []string
	if err == nil {
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				names = append(names, n)
			}
		}
		rows.Close()
	}
	_ = c.Close(ctx)
	for _, n := range names {
		parts := strings.Split(n, "_")
		if len(parts) != 3 {
			continue
		}
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // that run is still going
		}
		_ = d.exec(ctx, "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)")
	}
}

func (d *databases) exec(ctx context.Context, sql string) error {
	c, err := d.admin(ctx)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
