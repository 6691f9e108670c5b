// Package store opens the database (PostgreSQL, or an embedded SQLite file by default), applies
// the embedded migrations, and carries the two mechanisms every domain package relies on: the
// account a request acts for, and the transaction that spans several domains' writes.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/atendimento/atendimento/internal/apperr"
)

// Dialect names the database engine behind a DB.
type Dialect string

// The supported engines.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DB is the application's database handle.
type DB struct {
	gorm    *gorm.DB
	dialect Dialect
	url     string
	caches  *cacheSet
	// writer admits one transaction at a time on SQLite (nil on Postgres); see InTx.
	writer *sync.Mutex
	// trace, when set, is told every statement GORM runs (tests count a request's statements).
	trace atomic.Pointer[func(ctx context.Context, sql string)]
}

// Trace calls fn with the context and SQL of every statement run through this DB (not BEGIN and
// COMMIT) until the returned stop is called; fn may be called from many goroutines, the
// background workers' included (their contexts tell them apart). For tests.
func (d *DB) Trace(fn func(ctx context.Context, sql string)) (stop func()) {
	d.trace.Store(&fn)
	return func() { d.trace.Store(nil) }
}

// registerTrace hooks Trace into every kind of statement GORM runs.
func (d *DB) registerTrace() error {
	call := func(g *gorm.DB) {
		if fn := d.trace.Load(); fn != nil && g.Statement != nil {
			(*fn)(g.Statement.Context, g.Statement.SQL.String())
		}
	}
	cb := d.gorm.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register("atendimento:trace", call),
		cb.Query().After("gorm:query").Register("atendimento:trace", call),
		cb.Update().After("gorm:update").Register("atendimento:trace", call),
		cb.Delete().After("gorm:delete").Register("atendimento:trace", call),
		cb.Row().After("gorm:row").Register("atendimento:trace", call),
		cb.Raw().After("gorm:raw").Register("atendimento:trace", call),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// Options configures Open.
type Options struct {
	// URL is a postgres:// URL, or a path to an SQLite file ("" means ./data/atendimento.db).
	URL string
	// MaxOpenConns bounds the pool (0 = a default per engine).
	MaxOpenConns int
	// Log receives slow-query warnings; nil discards them.
	Log *slog.Logger
}

// DefaultSQLitePath is the embedded database used when no DATABASE_URL is given.
const DefaultSQLitePath = "data/atendimento.db"

// Open connects to the database named by opts.URL.
func Open(ctx context.Context, opts Options) (*DB, error) {
	cfg := &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                Now,
		Logger:                 logger.Discard,
	}
	var (
		dial    gorm.Dialector
		dialect Dialect
	)
	u := opts.URL
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		dialect = Postgres
		u = withConnectTimeout(u)
		dial = postgres.New(postgres.Config{DSN: u})
	default:
		dialect = SQLite
		path, _ := SQLitePath(u)
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		u = path
		// _txlock=immediate makes every transaction take the write lock at BEGIN, so two writers
		// wait on busy_timeout instead of failing when a reader upgrades.
		// busy_timeout comes first: the pragmas after it may need to wait for a lock.
		dial = sqlite.Open(path + fmt.Sprintf("?_pragma=busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()) +
			"&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	}
	g, err := gorm.Open(dial, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	maxOpen := opts.MaxOpenConns
	if maxOpen == 0 {
		maxOpen = 20
		if dialect == SQLite {
			maxOpen = 8
		}
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	d := &DB{gorm: g, dialect: dialect, url: u, caches: newCacheSet(dialect, u)}
	if dialect == SQLite {
		d.writer = &sync.Mutex{}
	}
	if err := d.registerTrace(); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return d, nil
}

// SQLitePath returns the file of the SQLite database a URL names, and false when the URL is a
// PostgreSQL one.
func SQLitePath(url string) (string, bool) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return "", false
	}
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "file:")
	if path == "" {
		path = DefaultSQLitePath
	}
	return path, true
}

// withConnectTimeout adds connect_timeout=5 (seconds) to a Postgres URL that sets none, so a
// connection attempt to a server that accepts but never answers fails instead of hanging (the
// dispatcher and other background work have no request deadline to stop them).
func withConnectTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Get("connect_timeout") != "" {
		return dsn
	}
	q.Set("connect_timeout", "5")
	u.RawQuery = q.Encode()
	return u.String()
}

// Dialect tells which engine this is.
func (d *DB) Dialect() Dialect { return d.dialect }

// URL is the connection URL (Postgres) or file path (SQLite) the database was opened with.
func (d *DB) URL() string { return d.url }

// SQL returns the underlying pool, for health checks and metrics.
func (d *DB) SQL() *sql.DB {
	s, _ := d.gorm.DB()
	return s
}

// Close closes the pool.
func (d *DB) Close() error { return d.SQL().Close() }

// BackupTo writes a consistent copy of an SQLite database to the new file path (VACUUM INTO:
// one read transaction, so it may run while the server writes, which WAL lets go on). The file
// is created first, readable by its owner only, and never overwritten: an existing path is an
// error. PostgreSQL has its own tools (pg_dump) and is refused.
func (d *DB) BackupTo(ctx context.Context, path string) error {
	if d.dialect != SQLite {
		return fmt.Errorf("backup: %s databases are backed up with their own tools", d.dialect)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// SQLite writes into an existing file only when it is empty, as this one is.
	if err := d.gorm.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("backup: vacuum into %s: %w", path, err)
	}
	return nil
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return d.SQL().PingContext(ctx)
}

// Now is the clock of stored times: UTC, truncated to the microsecond Postgres keeps, so a value
// read back equals the value written on both engines.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

type ctxKey int

const (
	accountKey ctxKey = iota
	txKey
)

// WithAccount returns a context acting for the given account. The auth middleware sets it from
// the credentials; every tenant query reads it through Tenant.
func WithAccount(ctx context.Context, accountID string) context.Context {
	return context.WithValue(ctx, accountKey, accountID)
}

// AccountID returns the account the context acts for, or "".
func AccountID(ctx context.Context) string {
	s, _ := ctx.Value(accountKey).(string)
	return s
}

// ErrNoAccount is returned (and logged as a bug) when tenant data is touched without an account.
var ErrNoAccount = errors.New("store: no account in context")

// Tenant returns a query handle restricted to the context's account: every query built from it
// carries `account_id = ?`. It is the only way domain packages reach tenant tables, so a query
// cannot forget the account. It joins the context's transaction when there is one.
func (d *DB) Tenant(ctx context.Context, table string) *gorm.DB {
	acc := AccountID(ctx)
	q := d.Conn(ctx).Table(table)
	if acc == "" {
		_ = q.AddError(ErrNoAccount)
		return q
	}
	return q.Where(table+".account_id = ?", acc)
}

// Conn returns the context's transaction, or the pool, with the context attached. It is for
// statements that are not tenant queries (the dispatcher's claim, migrations, lookups by a
// globally unique id before the account is known).
func (d *DB) Conn(ctx context.Context) *gorm.DB {
	if t, ok := ctx.Value(txKey).(*txn); ok {
		return t.tx.WithContext(ctx)
	}
	return d.gorm.WithContext(ctx)
}

// txn is the transaction a context carries, with the effects registered to follow its commit.
type txn struct {
	tx    *gorm.DB
	hooks []hook
	// changed names the caches whose tables the transaction wrote (CachesChanged): what it reads
	// of them is not theirs to keep.
	changed map[string]bool
}

// hook is an effect registered with AfterCommit; one with a batch (AfterCommitBatch) adds its
// item to the batch, and pending batches are flushed before the next plain hook and at the end.
type hook struct {
	fn    func()
	batch *batch
	item  any
}

// batch gathers the items of one AfterCommitBatch key in a committed transaction.
type batch struct {
	key   any
	ctx   context.Context
	items []any
	flush func(ctx context.Context, items []any)
	// prepare and finish are CommitBatch's: prepare runs in the transaction before it commits,
	// finish once it has, with what prepare returned.
	prepare  func(ctx context.Context, items []any) any
	finish   func(ctx context.Context, prepared any)
	prepared any
}

// runHooks runs a committed transaction's effects in order, each batch flushed once, at the
// position of its first item's hook or later (never after a plain hook registered later); a
// CommitBatch's finish runs once, at the position of its first item.
func runHooks(hooks []hook) {
	var pending []*batch
	finished := map[*batch]bool{}
	flush := func() {
		for _, b := range pending {
			b.flush(b.ctx, b.items)
			b.items = nil
		}
		pending = pending[:0]
	}
	for _, h := range hooks {
		switch {
		case h.batch == nil:
			flush()
			h.fn()
		case h.batch.finish != nil:
			if !finished[h.batch] {
				finished[h.batch] = true
				flush()
				h.batch.finish(h.batch.ctx, h.batch.prepared)
			}
		default:
			if len(h.batch.items) == 0 {
				pending = append(pending, h.batch)
			}
			h.batch.items = append(h.batch.items, h.item)
		}
	}
	flush()
}

// prepareBatches runs, in the transaction of ctx, the prepare step of each CommitBatch with the
// items its hooks still hold (a savepoint that rolled back dropped its own).
func prepareBatches(ctx context.Context, hooks []hook) {
	items := map[*batch][]any{}
	var order []*batch
	for _, h := range hooks {
		if h.batch == nil || h.batch.prepare == nil {
			continue
		}
		if _, ok := items[h.batch]; !ok {
			order = append(order, h.batch)
		}
		items[h.batch] = append(items[h.batch], h.item)
	}
	for _, b := range order {
		b.prepared = b.prepare(ctx, items[b])
	}
}

// withoutTxn is a context that no longer carries its transaction (a committed one's hooks
// must not write through it) but keeps everything else: the account, the deadline.
type withoutTxn struct{ context.Context }

func (c withoutTxn) Value(key any) any {
	if key == txKey {
		return nil
	}
	return c.Context.Value(key)
}

// InTx runs fn in a transaction carried by the context it receives; domain calls made with that
// context join it. A nested InTx joins the outer transaction. Once the outermost transaction
// has committed, the hooks registered with AfterCommit run, in order; when it rolls back they
// are dropped.
//
// On SQLite every transaction takes the one write lock at BEGIN (_txlock=immediate). They wait
// for it here, in the process, and one is let in the moment the previous one ends (admit): left
// to SQLite, a waiting transaction polls the lock with sleeps that grow to 100 ms, so under load
// the lock sat free while its waiters slept. The wait is bounded as SQLite's busy_timeout is.
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey).(*txn); ok {
		return fn(ctx)
	}
	t := &txn{}
	err := d.transaction(ctx, func(tx *gorm.DB) error {
		t.tx, t.hooks, t.changed = tx, nil, nil // a retried body registers its effects again
		tctx := context.WithValue(ctx, txKey, t)
		if err := fn(tctx); err != nil {
			return err
		}
		prepareBatches(tctx, t.hooks)
		return nil
	})
	if err != nil {
		return err
	}
	runHooks(t.hooks)
	return nil
}

// transaction runs fn in a GORM transaction, on SQLite holding the writer slot until it has
// committed or rolled back (even when fn panics), and no longer: the hooks InTx runs after may
// write.
func (d *DB) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if d.writer != nil {
		if err := d.admit(ctx); err != nil {
			return err
		}
		defer d.writer.Unlock()
	}
	return d.gorm.WithContext(ctx).Transaction(fn)
}

// sqliteBusyTimeout is the busy_timeout Open sets: how long a write waits for SQLite's lock.
const sqliteBusyTimeout = 10 * time.Second

// admit takes SQLite's writer lock for a transaction (InTx), waiting at most as long as SQLite
// itself would, and no longer than ctx. A sync.Mutex, not a queue: a transaction that arrives
// as the lock is released may take it before the longest waiter (which keeps the lock busy
// while that waiter is scheduled), until some waiter has waited a millisecond, when the lock
// goes to the waiters in turn (the mutex's starvation mode): the throughput of SQLite's own
// lock, without the tail of its sleeping waiters.
func (d *DB) admit(ctx context.Context) error {
	if d.writer.TryLock() {
		return nil
	}
	got := make(chan struct{})
	go func() {
		d.writer.Lock()
		close(got)
	}()
	t := time.NewTimer(sqliteBusyTimeout)
	defer t.Stop()
	var err error
	select {
	case <-got:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-t.C:
		// Worded as SQLite's own busy error, which callers already treat as unavailable and
		// retryable.
		err = errors.New("database is locked: no write transaction ended in " + sqliteBusyTimeout.String())
	}
	// Given up: once the waiting goroutine has the lock, it is released for the next.
	go func() {
		<-got
		d.writer.Unlock()
	}()
	return Translate(err, nil, nil)
}

// InTransaction reports whether ctx carries a transaction (InTx's context, or one derived from it).
func InTransaction(ctx context.Context) bool {
	_, ok := ctx.Value(txKey).(*txn)
	return ok
}

// AfterCommit registers fn to run once the context's outermost transaction commits (dropped if
// it rolls back), or runs it at once when the context carries no transaction. Effects that must
// not be seen before the change is (waking a worker, publishing an event) go through it, so
// whoever wraps a domain call in a larger transaction need not remember them. fn gets ctx
// without its transaction.
func AfterCommit(ctx context.Context, fn func(ctx context.Context)) {
	if t, ok := ctx.Value(txKey).(*txn); ok {
		t.hooks = append(t.hooks, hook{fn: func() { fn(withoutTxn{ctx}) }})
		return
	}
	fn(ctx)
}

// AfterCommitBatch is AfterCommit for effects that are cheaper together (events written to a log
// with one statement): the items registered under key in one transaction reach flush in one call,
// in order, once it commits (those registered in a savepoint that rolled back are dropped).
// Without a transaction flush gets item alone, at once. The items of one transaction are flushed
// with the first one's context.
func AfterCommitBatch(ctx context.Context, key any, item any, flush func(ctx context.Context, items []any)) {
	t, ok := ctx.Value(txKey).(*txn)
	if !ok {
		flush(ctx, []any{item})
		return
	}
	t.addItem(ctx, key, item, func(b *batch) { b.flush = flush })
}

// CommitBatch is AfterCommitBatch with a step in the transaction: just before it commits, prepare
// gets the items registered under key (in order, those of a savepoint that rolled back dropped)
// with the transaction's context, and may write in it; once it has committed, finish gets what
// prepare returned, at the position of the first item's hook. Without a transaction both run at
// once with item alone.
func CommitBatch(ctx context.Context, key any, item any, prepare func(ctx context.Context, items []any) any, finish func(ctx context.Context, prepared any)) {
	t, ok := ctx.Value(txKey).(*txn)
	if !ok {
		finish(ctx, prepare(ctx, []any{item}))
		return
	}
	t.addItem(ctx, key, item, func(b *batch) { b.prepare, b.finish = prepare, finish })
}

// addItem registers item in the transaction's batch of key, made with set when it has none.
func (t *txn) addItem(ctx context.Context, key, item any, set func(b *batch)) {
	var b *batch
	for _, h := range t.hooks {
		if h.batch != nil && h.batch.key == key {
			b = h.batch
			break
		}
	}
	if b == nil {
		b = &batch{key: key, ctx: withoutTxn{ctx}}
		set(b)
	}
	t.hooks = append(t.hooks, hook{batch: b, item: item})
}

// Savepoint runs fn inside a savepoint of the context's transaction: when fn fails, what it
// wrote is rolled back to the savepoint (and the effects it registered with AfterCommit are
// dropped), while the transaction and everything written before stays usable. name must be a
// plain identifier, unique among the savepoints open at once. Without a transaction in ctx,
// Savepoint is InTx.
func (d *DB) Savepoint(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	t, ok := ctx.Value(txKey).(*txn)
	if !ok {
		return d.InTx(ctx, fn)
	}
	if err := t.tx.WithContext(ctx).Exec("SAVEPOINT " + name).Error; err != nil {
		return Translate(err, nil, nil)
	}
	hooks := len(t.hooks)
	err := fn(ctx)
	if err == nil {
		if err := t.tx.WithContext(ctx).Exec("RELEASE SAVEPOINT " + name).Error; err != nil {
			return Translate(err, nil, nil)
		}
		return nil
	}
	t.hooks = t.hooks[:hooks]
	// A failed statement aborts a Postgres transaction until this rollback; it runs even when
	// ctx has ended, or the transaction would stay unusable for the others in it.
	if rbErr := t.tx.WithContext(context.WithoutCancel(ctx)).Exec("ROLLBACK TO SAVEPOINT " + name).Error; rbErr != nil {
		return errors.Join(err, fmt.Errorf("rollback to savepoint %s: %w", name, rbErr))
	}
	return err
}

// IsRetryable reports whether err says that running the same transaction again may succeed:
// a Postgres serialization failure or deadlock (40001, 40P01), or SQLite's lock wait running out.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	s := err.Error()
	return strings.Contains(s, "database is locked") || strings.Contains(s, "SQLITE_BUSY")
}

// Translate maps storage errors to domain errors: a missing row becomes notFound (when given),
// a unique violation becomes conflict (when given), a dead database becomes unavailable.
func Translate(err error, notFound, conflict *apperr.Error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound) && notFound != nil:
		return notFound
	case errors.Is(err, gorm.ErrDuplicatedKey) && conflict != nil:
		return conflict
	case IsUnavailable(err):
		return &apperr.Error{Kind: apperr.KindUnavailable, Code: "database_unavailable", Message: "the database is not available", Err: err}
	}
	return err
}

// IsDuplicate reports whether err is a unique-constraint violation.
func IsDuplicate(err error) bool { return errors.Is(err, gorm.ErrDuplicatedKey) }

// IsForeignKey reports whether err is a foreign-key violation, on either engine: a row refers
// to one that is gone (or is about to be, in a transaction that committed first), or a delete
// left rows referring to it.
func IsForeignKey(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503" // foreign_key_violation
	}
	return strings.Contains(err.Error(), "FOREIGN KEY constraint failed") // SQLite, untranslated
}

// ForeignKeyConstraint names the foreign key a violation broke ("conversations_team_id_fkey"),
// when the engine says (Postgres does; SQLite does not: "").
func ForeignKeyConstraint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return pgErr.ConstraintName
	}
	return ""
}

// IsNotFound reports whether err is GORM's record-not-found.
func IsNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

// IsUnavailable reports whether err means the database cannot be reached or did not answer in
// time: a refused, reset or closed connection, a connect or statement timeout (including the
// request's deadline), a server shutting down or starting up, or SQLite's lock wait running out.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot connect now.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.Timeout(err) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "connection reset") ||
		strings.Contains(s, "failed to connect") || strings.Contains(s, "conn closed") ||
		strings.Contains(s, "broken pipe") || strings.Contains(s, "terminating connection") ||
		strings.Contains(s, "unexpected EOF") || strings.Contains(s, "database is locked")
}

// NewID returns a new row id: a UUIDv7, so ids sort by creation time and serve as list cursors.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// ValidID reports whether s is a well-formed UUID, so a malformed path id is a plain 404
// instead of a database error on Postgres' uuid columns.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// Page is a request for one page of a list: at most Limit rows after Cursor.
type Page struct {
	Limit  int
	Cursor string
}

// DefaultLimit and MaxLimit bound every list.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Normalize applies the default limit and checks the bounds and the cursor.
func (p Page) Normalize() (Page, error) {
	var f apperr.Fields
	if p.Limit == 0 {
		p.Limit = DefaultLimit
	}
	if p.Limit < 1 || p.Limit > MaxLimit {
		f.Add("limit", "limit_invalid", fmt.Sprintf("limit must be between 1 and %d", MaxLimit))
	}
	if p.Cursor != "" && !ValidID(p.Cursor) {
		f.Add("cursor", "cursor_invalid", "cursor is not one this API returned")
	}
	return p, f.Err()
}

// Apply orders q newest first by its id column and limits it to the page, fetching one row
// more than asked so NextCursor can tell whether another page follows.
func (p Page) Apply(q *gorm.DB, idColumn string) *gorm.DB {
	if p.Cursor != "" {
		q = q.Where(idColumn+" < ?", p.Cursor)
	}
	return q.Order(idColumn + " DESC").Limit(p.Limit + 1)
}

// Trim cuts rows fetched with Apply to the page and returns the next cursor (nil at the end).
func Trim[T any](p Page, rows []T, id func(T) string) ([]T, *string) {
	if len(rows) <= p.Limit {
		return rows, nil
	}
	rows = rows[:p.Limit]
	c := id(rows[len(rows)-1])
	return rows, &c
}

// FetchPage runs the list skeleton every domain shares: it normalises p, fetches q's rows of the
// page newest first by their id column, and trims them to the page with the next cursor. It is
// for lists whose rows are mapped as a batch (a team with its links); List maps row by row.
// A caller that checks its own filters normalises p first, so a bad limit is reported before
// them as it always was (normalising twice changes nothing).
func FetchPage[R any](p Page, q *gorm.DB, id func(R) string) ([]R, *string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, nil, err
	}
	var rows []R
	if err := p.Apply(q, "id").Find(&rows).Error; err != nil {
		return nil, nil, Translate(err, nil, nil)
	}
	rows, next := Trim(p, rows, id)
	return rows, next, nil
}

// List is FetchPage with each row mapped to its domain value by to, so a domain's list method is
// its query and one call.
func List[R, T any](p Page, q *gorm.DB, id func(R) string, to func(R) T) ([]T, *string, error) {
	rows, next, err := FetchPage(p, q, id)
	if err != nil {
		return nil, nil, err
	}
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = to(r)
	}
	return out, next, nil
}

// Get reads the row of q (a tenant query) with the given id, or returns notFound when there is
// none, including for an id that is not a UUID (which Postgres' uuid columns would reject).
func Get[R any](q *gorm.DB, id string, notFound *apperr.Error) (R, error) {
	var r R
	if !ValidID(id) {
		return r, notFound
	}
	if err := q.Where("id = ?", id).Take(&r).Error; err != nil {
		var zero R
		return zero, Translate(err, notFound, nil)
	}
	return r, nil
}

// MissingIDs returns those of ids that are not rows of table in the context's account (used to
// check references such as a team's channel_ids in one query).
func (d *DB) MissingIDs(ctx context.Context, table string, ids []string) ([]string, error) {
	var valid, missing []string
	for _, id := range ids {
		if ValidID(id) {
			valid = append(valid, id)
		} else {
			missing = append(missing, id)
		}
	}
	if len(valid) == 0 {
		return missing, nil
	}
	var found []string
	if err := d.Tenant(ctx, table).Where("id IN ?", valid).Pluck("id", &found).Error; err != nil {
		return nil, Translate(err, nil, nil)
	}
	have := make(map[string]bool, len(found))
	for _, id := range found {
		have[id] = true
	}
	for _, id := range valid {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

// LockRow locks the context's account's row id of table for the rest of the context's
// transaction, and reports whether it exists. On Postgres it is SELECT … FOR UPDATE, which also
// waits for (and then holds off) transactions inserting rows that refer to it through a foreign
// key; on SQLite a no-op UPDATE takes the database's single write lock at once, so the rest of
// the transaction cannot lose a race it would only see at commit.
func (d *DB) LockRow(ctx context.Context, table, id string) (bool, error) {
	if !ValidID(id) {
		return false, nil
	}
	var n int64
	if d.dialect == Postgres {
		var ids []string
		err := d.Tenant(ctx, table).Where(table+".id = ?", id).Clauses(clause.Locking{Strength: "UPDATE"}).Pluck("id", &ids).Error
		n = int64(len(ids))
		if err != nil {
			return false, Translate(err, nil, nil)
		}
	} else {
		res := d.Tenant(ctx, table).Where(table+".id = ?", id).Update("id", gorm.Expr("id"))
		if res.Error != nil {
			return false, Translate(res.Error, nil, nil)
		}
		n = res.RowsAffected
	}
	return n > 0, nil
}

// globalLock is the Postgres advisory lock key for installation-wide one-time work (bootstrap).
const globalLock = 0x61746e65

// LockGlobal takes the installation-wide lock for the rest of the context's transaction. On
// SQLite the transaction already holds the database's single write lock.
func (d *DB) LockGlobal(ctx context.Context) error {
	if d.dialect != Postgres {
		return nil
	}
	return d.Conn(ctx).Exec("SELECT pg_advisory_xact_lock(?)", globalLock).Error
}

// LockKeys takes, for the rest of the context's transaction, one Postgres advisory lock per key
// in the namespace class (the two-int form, apart from LockGlobal's key), in a fixed order so
// two transactions never wait on each other in a cycle. Keys that hash alike share a lock,
// which only serialises them. On SQLite the transaction already holds the single write lock.
func (d *DB) LockKeys(ctx context.Context, class int32, keys ...string) error {
	if d.dialect != Postgres || len(keys) == 0 {
		return nil
	}
	ids := make([]int32, len(keys))
	for i, k := range keys {
		h := fnv.New32a()
		_, _ = h.Write([]byte(k))
		ids[i] = int32(h.Sum32())
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var q strings.Builder
	args := make([]any, 0, 2*len(ids))
	q.WriteString("SELECT ")
	for i, id := range ids {
		if i > 0 {
			q.WriteString(", ")
		}
		// A select list is evaluated left to right: the locks are taken in ids' order.
		q.WriteString("pg_advisory_xact_lock(?, ?)")
		args = append(args, class, id)
	}
	return Translate(d.Conn(ctx).Exec(q.String(), args...).Error, nil, nil)
}
