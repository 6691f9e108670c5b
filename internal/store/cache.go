package store

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CacheChannel is the NOTIFY channel on which an instance tells the others that cached tables
// changed; its payload is "schema|name,name…" (the schema is empty unless the URL sets one).
const CacheChannel = "atendimento_cache"

// cacheMaxEntries bounds one cache: past it, a store empties the cache first (its rows are the
// catalogue of accounts: channels, teams, templates, API keys, a few thousand at most).
const cacheMaxEntries = 50_000

// Cache is this instance's copy of rows that are read on every request and rarely written (a
// start reads its channel, team and template; every API call its key). The service that owns
// the table reads through it and calls Changed after each write; Changed empties this instance's
// copy once the write commits and, on Postgres, every other instance's through NOTIFY. An entry
// also expires after its TTL, which bounds what a missed notification can leave behind.
//
// On Postgres the cache is used only while this instance listens for the others' changes
// (ListenCaches): before the listener is connected, and whenever it is down, every Get loads.
// On SQLite one process owns the file, so it is always used.
type Cache[V any] struct {
	name string
	ttl  time.Duration
	set  *cacheSet
	now  func() time.Time

	mu      sync.RWMutex
	entries map[string]cacheEntry[V]
	// gen counts the flushes: a load that began before one must not store what it read.
	gen uint64
}

type cacheEntry[V any] struct {
	v  V
	at time.Time
}

// flusher is what the set knows of a cache.
type flusher interface{ flush() }

// cacheSet is a database's caches and whether they may be used.
type cacheSet struct {
	mu     sync.Mutex
	byName map[string][]flusher
	// live is false on Postgres while no listener hears the other instances' changes.
	live atomic.Bool
	// scope is the schema the instances share (the URL's search_path): NOTIFY reaches every
	// schema of a database, and a change in another one is not this one's.
	scope string
}

// NewCache registers a cache named name (what the other instances hear: caches of one table
// share it) whose entries live at most ttl.
func NewCache[V any](d *DB, name string, ttl time.Duration) *Cache[V] {
	c := &Cache[V]{name: name, ttl: ttl, set: d.caches, now: time.Now, entries: map[string]cacheEntry[V]{}}
	d.caches.mu.Lock()
	defer d.caches.mu.Unlock()
	d.caches.byName[name] = append(d.caches.byName[name], c)
	return c
}

// Get returns key's value, loading (and keeping) it when it is missing or expired. A load that
// fails is not kept; nor is one that a flush overtook, nor one read in a transaction (ctx's)
// that changed the cached table: it sees its own writes before they commit, or roll back.
func (c *Cache[V]) Get(ctx context.Context, key string, load func() (V, error)) (V, error) {
	if !c.set.live.Load() {
		return load()
	}
	now := c.now()
	c.mu.RLock()
	e, ok := c.entries[key]
	gen := c.gen
	c.mu.RUnlock()
	if ok && now.Sub(e.at) < c.ttl && !now.Before(e.at) {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	if t, inTx := ctx.Value(txKey).(*txn); inTx && t.changed[c.name] {
		return v, nil
	}
	c.mu.Lock()
	if c.gen == gen && c.set.live.Load() {
		if len(c.entries) >= cacheMaxEntries {
			clear(c.entries)
		}
		c.entries[key] = cacheEntry[V]{v: v, at: now}
	}
	c.mu.Unlock()
	return v, nil
}

// Changed is what a write to the cached table calls after its statement, with the write's
// context: this instance's copy is emptied now and again once the context's transaction commits
// (a Get in between could read the rows as they were), and the other instances are told after
// the commit. Outside a transaction it must follow the write: a Get between an earlier call and
// the write would keep the old rows.
func (c *Cache[V]) Changed(ctx context.Context, d *DB) { d.CachesChanged(ctx, c.name) }

// CachesChanged is Changed for the caches named (every cache of each name): a write whose
// cascade reaches rows another domain caches (deleting a channel deletes its templates) names
// those caches too.
func (d *DB) CachesChanged(ctx context.Context, names ...string) {
	if t, ok := ctx.Value(txKey).(*txn); ok {
		if t.changed == nil {
			t.changed = map[string]bool{}
		}
		for _, n := range names {
			t.changed[n] = true
		}
	}
	for _, n := range names {
		d.caches.flush(n)
	}
	AfterCommit(ctx, func(ctx context.Context) {
		for _, n := range names {
			d.caches.flush(n)
		}
		if d.dialect == Postgres {
			// A lost notification is bounded by the TTL (and by the listener's reconnect, which
			// empties every cache); the write itself is committed and stays.
			_ = d.Notify(context.WithoutCancel(ctx), CacheChannel, d.caches.scope+"|"+strings.Join(names, ","))
		}
	})
}

func (c *Cache[V]) flush() {
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.mu.Unlock()
}

func (s *cacheSet) flushAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cs := range s.byName {
		for _, c := range cs {
			c.flush()
		}
	}
}

func (s *cacheSet) flush(name string) {
	s.mu.Lock()
	cs := s.byName[name]
	s.mu.Unlock()
	for _, c := range cs {
		c.flush()
	}
}

// ListenCaches keeps this instance's caches in step with the other instances' writes until ctx
// ends: on Postgres it listens on CacheChannel and uses the caches only while connected (each
// connect and disconnect empties them); on SQLite it does nothing (the caches are always used).
func (d *DB) ListenCaches(ctx context.Context, log *slog.Logger) {
	if d.dialect != Postgres {
		return
	}
	d.listen(ctx, log, []string{CacheChannel}, func(_, payload string) {
		if payload == "" { // (re)connected: whatever changed meanwhile is unknown
			d.caches.flushAll()
			d.caches.live.Store(true)
			return
		}
		scope, names, ok := strings.Cut(payload, "|")
		if !ok || scope != d.caches.scope {
			return
		}
		for _, name := range strings.Split(names, ",") {
			d.caches.flush(name)
		}
	}, func() {
		d.caches.live.Store(false)
		d.caches.flushAll()
	})
}

// CachesLive reports whether the caches are in use: always on SQLite, on Postgres while the
// listener of ListenCaches is connected.
func (d *DB) CachesLive() bool { return d.caches.live.Load() }

// AwaitCaches waits, at most timeout, until the caches are in use (ListenCaches connected) and
// reports whether they are: callers that measure or count requests want them all alike.
func (d *DB) AwaitCaches(timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); !d.CachesLive() && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	return d.CachesLive()
}

func newCacheSet(dialect Dialect, dsn string) *cacheSet {
	s := &cacheSet{byName: map[string][]flusher{}}
	if u, err := url.Parse(dsn); err == nil {
		s.scope = u.Query().Get("search_path")
	}
	s.live.Store(dialect != Postgres)
	return s
}
