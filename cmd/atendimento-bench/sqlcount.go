package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// sqlCount is what a server sent to Postgres during an operation: statements (round trips of
// the extended protocol, plus simple queries such as BEGIN and COMMIT) per unit of work.
type sqlCount struct {
	Steps []sqlStep
	Units int
	What  string
	Trips int // round trips (Syncs and simple queries), when counted
}

func (c sqlCount) String() string {
	trips := ""
	if c.Trips > 0 {
		trips = fmt.Sprintf(" and %.1f round trips", float64(c.Trips)/float64(max(c.Units, 1)))
	}
	return fmt.Sprintf("%.1f statements%s per %s (%d over %d, counted on the wire in one extra run)", float64(len(c.Steps))/float64(max(c.Units, 1)), trips, c.What, len(c.Steps), c.Units)
}

// top lists the statements by how often they ran.
func (c sqlCount) top() string {
	n := map[string]int{}
	for _, s := range c.Steps {
		q := strings.Join(strings.Fields(s.SQL), " ")
		if len(q) > 240 {
			q = q[:237] + "..."
		}
		n[q]++
	}
	type kv struct {
		q string
		n int
	}
	var all []kv
	for q, k := range n {
		all = append(all, kv{q, k})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].q < all[j].q })
	var sb strings.Builder
	fmt.Fprintf(&sb, "# %s\n# count  per-%s  statement\n", c, c.What)
	for _, e := range all {
		fmt.Fprintf(&sb, "%7d  %8.2f  %s\n", e.n, float64(e.n)/float64(max(c.Units, 1)), e.q)
	}
	return sb.String()
}

// throughProxy starts a server on db whose connections pass through a pgProxy (recording from
// before the server starts, so its startup statements are included: a few dozen) and runs fn.
func (b *bench) throughProxy(ctx context.Context, db *benchDB, o serverOpts, fn func(srv *serverProc) (units int, err error)) (sqlCount, error) {
	u, err := url.Parse(db.URL)
	if err != nil {
		return sqlCount{}, err
	}
	proxy, err := newPGProxy(u.Host)
	if err != nil {
		return sqlCount{}, err
	}
	defer proxy.Close()
	u.Host = proxy.Addr()
	proxy.record()
	srv, err := b.startServer(ctx, &benchDB{Engine: pg, URL: u.String(), Name: db.Name + "-proxied"}, o)
	if err != nil {
		return sqlCount{}, err
	}
	units, err := fn(srv)
	srv.Stop()
	steps := proxy.take()
	return sqlCount{Steps: steps, Units: units}, err
}

// saveCount writes the statement counts to bench-out and returns the summary.
func (b *bench) saveCount(name string, c sqlCount) string {
	path := filepath.Join(b.outDir, "sql-"+name+".txt")
	_ = os.WriteFile(path, []byte(c.top()), 0o644)
	return c.String() + "; by statement: " + path
}
