package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atendimento/atendimento/internal/store"
)

// rowDispatchAndStatuses: row 3, the dispatcher's throughput on a backlog released at once
// (beside the fake's own ceiling), with the order per conversation checked; and row 4, status
// webhooks ingested/s for the messages row 3's first run sent (sent → delivered → read).
func (b *bench) rowDispatchAndStatuses(ctx context.Context, engine string, base *benchDB, s seeded) error {
	convs, per := b.cfg.DispatchConvs, b.cfg.DispatchPer
	want := convs * per
	rate := &figure{Row: "3", Name: fmt.Sprintf("dispatch msgs/s (%d across %d convs)", want, convs), Engine: engine, Unit: "/s",
		BaseName: "fake ceiling"}
	if engine == pg {
		rate.Goal, rate.met = "≥ 2000/s, order kept", func(v, _ float64) bool { return v >= 2000 }
	}
	batched := &figure{Row: "4", Name: fmt.Sprintf("status webhooks events/s, %d per POST", b.cfg.StatusBatch), Engine: engine, Unit: "/s",
		Goal: "≥ 3000/s", met: func(v, _ float64) bool { return v >= 3000 }}
	single := &figure{Row: "4", Name: "status webhooks events/s, 1 per POST", Engine: engine, Unit: "/s",
		Goal: "≥ 3000/s", met: func(v, _ float64) bool { return v >= 3000 }}
	if b.cfg.Rows["3"] {
		b.add(rate)
	}
	if b.cfg.Rows["4"] {
		b.add(batched, single)
	}

	b.logf("%s row 3: seeding %d conversations × %d messages, released", engine, convs, per)
	t0 := time.Now()
	tmpl, err := b.dbs.clone(ctx, base)
	if err != nil {
		return fail(err, rate, batched, single)
	}
	defer b.dbs.drop(ctx, tmpl)
	a, err := openApp(ctx, tmpl, b.fake.URL)
	if err != nil {
		return fail(err, rate, batched, single)
	}
	c := &apiClient{handler: a.Handler, base: "http://bench.local", key: s.APIKey}
	_, err = seedConversations(ctx, c, s, backlogSpec{Convs: convs, PerConv: per - 1, Tag: "d", Reply: true})
	_ = a.Close()
	if err != nil {
		return fail(fmt.Errorf("seed: %w", err), rate, batched, single)
	}
	b.logf("  seeded in %s", time.Since(t0).Round(100*time.Millisecond))

	var sentDB *benchDB // the first run's database after its dispatch: row 4 starts from copies of it
	var sent []sentMsg
	defer func() { b.dbs.drop(context.WithoutCancel(ctx), sentDB) }()
	runs := b.cfg.Runs
	if !b.cfg.Rows["3"] {
		runs = 1 // row 4 alone needs one dispatch
	}
	var orderBad []string
	var cpu cpuUse
	if b.baselineBin != "" && b.cfg.Rows["3"] {
		// The baseline revision's server replaces the fake's ceiling as the baseline: both
		// servers dispatch the same seeded backlog (copies of one database), interleaved.
		rate.BaseName = b.baselineRev
		if engine == pg {
			rate.Goal = "≥ 2000/s, order kept"
		}
	}
	var cpuBase cpuUse
	for run := range runs {
		type side struct {
			bin  string
			base bool
		}
		sides := []side{{"", false}}
		if b.baselineBin != "" && b.cfg.Rows["3"] {
			sides = append(sides, side{b.baselineBin, true})
			if run%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
		}
		var ceiling float64
		if b.baselineBin == "" || !b.cfg.Rows["3"] {
			b.logf("%s row 3 run %d/%d", engine, run+1, runs)
			if ceiling, err = b.fake.ceiling(32, max(2000, want/2)); err != nil {
				return fail(err, rate, batched, single)
			}
		}
		for _, sd := range sides {
			name := "change"
			if sd.base {
				name = b.baselineRev
			}
			b.logf("%s row 3 run %d/%d (%s)", engine, run+1, runs, name)
			db, err := b.dbs.clone(ctx, tmpl)
			if err != nil {
				return fail(err, rate, batched, single)
			}
			b.fake.Reset()
			srv, err := b.startServer(ctx, db, serverOpts{Bin: sd.bin, ChannelRate: 100000})
			if err != nil {
				b.dbs.drop(ctx, db)
				return fail(fmt.Errorf("%s: %w", name, err), rate, batched, single)
			}
			w := startCPU(srv.Pid())
			ok := b.fake.WaitFor(ctx, want, 5*time.Minute)
			if sd.base {
				cpuBase.add(w.stop(), want)
			} else {
				cpu.add(w.stop(), want)
			}
			msgs := b.fake.Sent()
			srv.Stop()
			if !ok {
				b.dbs.drop(ctx, db)
				return fail(fmt.Errorf("%s: %d of %d messages reached the fake within 5 min", name, len(msgs), want), rate, batched, single)
			}
			msgs = msgs[:want]
			r := float64(len(msgs)-1) / msgs[len(msgs)-1].At.Sub(msgs[0].At).Seconds()
			if bad := checkOrder(msgs, "d"); bad != "" {
				orderBad = append(orderBad, fmt.Sprintf("run %d (%s): %s", run+1, name, bad))
			}
			if sd.base {
				rate.Base = append(rate.Base, r)
				b.logf("  %.0f msgs/s", r)
				b.dbs.drop(ctx, db)
				continue
			}
			rate.Values = append(rate.Values, r)
			if len(sides) == 1 {
				rate.Base = append(rate.Base, ceiling)
				b.logf("  %.0f msgs/s (fake ceiling %.0f/s)", r, ceiling)
			} else {
				b.logf("  %.0f msgs/s", r)
			}
			if run == 0 {
				sentDB, sent = db, msgs
			} else {
				b.dbs.drop(ctx, db)
			}
		}
	}
	if len(orderBad) > 0 {
		rate.Err = "order broken: " + strings.Join(orderBad, "; ")
	} else {
		if n := cpu.per("message"); n != "" {
			rate.Notes = append(rate.Notes, n+" (from the server's readiness to the last send)")
		}
		if n := cpuBase.per("message"); n != "" {
			rate.Notes = append(rate.Notes, b.baselineRev+": "+n+" (from the server's readiness to the last send)")
		}
		if b.baselineBin != "" && b.cfg.Rows["3"] {
			rate.Notes = append(rate.Notes, fmt.Sprintf("baseline %s built from a git worktree, started on a copy of the same seeded database (its migrations are a prefix of this one's); each run measures both servers, alternating which goes first", b.baselineRev))
		}
		rate.Notes = append(rate.Notes, fmt.Sprintf("order kept in every run (per recipient: the template, then m0…m%d); measured from the first to the last arrival at the fake; CHANNEL_RATE=100000, DISPATCH_WORKERS default (32); ceiling: 32 keep-alive clients in the bench process", per-2))
	}
	if engine == pg && !b.cfg.Smoke && b.cfg.Rows["3"] {
		db, err := b.dbs.clone(ctx, tmpl)
		if err != nil {
			return fail(err, rate)
		}
		b.fake.Reset()
		c, err := b.throughProxy(ctx, db, serverOpts{ChannelRate: 100000}, func(*serverProc) (int, error) {
			if !b.fake.WaitFor(ctx, want, 5*time.Minute) {
				return want, fmt.Errorf("%d of %d messages reached the fake within 5 min", b.fake.Count(), want)
			}
			return want, nil
		})
		b.dbs.drop(ctx, db)
		if err != nil {
			return fail(err, rate)
		}
		c.What = "message sent"
		rate.Notes = append(rate.Notes, b.saveCount("dispatch", c))
	}
	if !b.cfg.Rows["4"] {
		return nil
	}
	for _, f := range []*figure{batched, single} {
		size := b.cfg.StatusBatch
		if f == single {
			size = 1
		}
		if err := b.statusRuns(ctx, sentDB, s, sent, size, f); err != nil {
			return fail(err, f)
		}
		if engine == pg && !b.cfg.Smoke {
			db, err := b.dbs.clone(ctx, sentDB)
			if err != nil {
				return fail(err, f)
			}
			k := min(len(sent), 1000)
			c, err := b.throughProxy(ctx, db, serverOpts{ChannelRate: 100000}, func(srv *serverProc) (int, error) {
				cl := &apiClient{base: srv.URL, http: newHTTPClient(b.cfg.StatusConc)}
				_, err := b.postStatuses(ctx, cl, s, sent[:k], size)
				return 3 * k, err
			})
			b.dbs.drop(ctx, db)
			if err != nil {
				return fail(err, f)
			}
			c.What = "status event"
			f.Notes = append(f.Notes, b.saveCount(fmt.Sprintf("statuses-%d", size), c))
		}
		f.Notes = append(f.Notes, fmt.Sprintf("one server on a copy of row 3's first run (%d messages sent); run k posts the statuses of the k-th %d-th of them: all 'sent', then all 'delivered', then all 'read', %d POSTs in flight, so the runs together cover every message once; every status acknowledged, and every message read_at at the end",
			len(sent), b.cfg.Runs, b.cfg.StatusConc))
	}
	return nil
}

// checkOrder checks, per recipient, that the opening template came first and then the texts
// "<tag>c<i>-m<j>" in j order, each once; it returns a description of the first problem.
func checkOrder(msgs []sentMsg, tag string) string {
	next := map[string]int{} // recipient → next j expected (-1: the template)
	dups := 0
	for _, m := range msgs {
		j, seen := next[m.To]
		if !seen {
			j = -1
		}
		switch {
		case m.Type == "template":
			if j != -1 {
				return fmt.Sprintf("%s got its template after text %d", m.To, j)
			}
			next[m.To] = 0
		case m.Type == "text":
			var ci, mj int
			if _, err := fmt.Sscanf(strings.TrimPrefix(m.Text, tag), "c%d-m%d", &ci, &mj); err != nil {
				return fmt.Sprintf("unexpected text %q", m.Text)
			}
			if mj < j {
				dups++
				continue
			}
			if mj != j {
				return fmt.Sprintf("%s got m%d when m%d was due", m.To, mj, j)
			}
			next[m.To] = j + 1
		}
	}
	if dups > 0 {
		return fmt.Sprintf("%d duplicates", dups)
	}
	return ""
}

// statusRuns starts a server on a copy of db and, run by run, posts the statuses of one slice of
// the sent messages phase by phase, recording events/s in f.
func (b *bench) statusRuns(ctx context.Context, from *benchDB, s seeded, sent []sentMsg, size int, f *figure) error {
	db, err := b.dbs.clone(ctx, from)
	if err != nil {
		return err
	}
	defer b.dbs.drop(ctx, db)
	srv, err := b.startServer(ctx, db, serverOpts{ChannelRate: 100000})
	if err != nil {
		return err
	}
	defer srv.Stop()
	hc := newHTTPClient(b.cfg.StatusConc)
	defer hc.CloseIdleConnections()
	c := &apiClient{base: srv.URL, http: hc}
	runs := b.cfg.Runs
	var cpu cpuUse
	for run := range runs {
		slice := sent[run*len(sent)/runs : (run+1)*len(sent)/runs]
		b.logf("%s row 4 (%d per POST) run %d/%d: %d messages × 3 statuses", db.Engine, size, run+1, runs, len(slice))
		w := startCPU(srv.Pid())
		r, err := b.postStatuses(ctx, c, s, slice, size)
		use := w.stop()
		if err != nil {
			return srv.explain(err)
		}
		cpu.add(use, 3*len(slice))
		f.Values = append(f.Values, r)
		b.logf("  %.0f events/s", r)
	}
	if n := cpu.per("status event"); n != "" {
		f.Notes = append(f.Notes, n+" (bench: building bodies and posting)")
	}
	if n, err := countRows(ctx, db, "SELECT count(*) FROM messages WHERE read_at IS NOT NULL AND direction = 'out'"); err != nil {
		return err
	} else if n < int64(len(sent)) {
		return fmt.Errorf("%d of %d messages read after the webhooks", n, len(sent))
	}
	return nil
}

// postStatuses posts sent, delivered and read for the messages (size statuses per POST,
// StatusConc POSTs in flight), phase after phase, and returns events/s.
func (b *bench) postStatuses(ctx context.Context, c *apiClient, s seeded, sent []sentMsg, size int) (float64, error) {
	// Bodies are built before the clock starts.
	at := time.Now()
	var phases [][][]byte
	for k, st := range []string{"sent", "delivered", "read"} {
		var bodies [][]byte
		for i := 0; i < len(sent); i += size {
			var items []any
			for _, m := range sent[i:min(i+size, len(sent))] {
				items = append(items, statusItem(m.WAMID, st, strings.TrimPrefix(m.To, "+"), at.Add(time.Duration(k)*time.Second)))
			}
			bodies = append(bodies, webhookBody(map[string]any{"messaging_product": "whatsapp", "metadata": metadata(), "statuses": items}))
		}
		phases = append(phases, bodies)
	}
	var acked atomic.Int64
	t0 := time.Now()
	for _, bodies := range phases {
		var next atomic.Int64
		var wg sync.WaitGroup
		var firstErr error
		var mu sync.Mutex
		for range b.cfg.StatusConc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(bodies) || ctx.Err() != nil {
						return
					}
					st, resp, err := c.do(ctx, http.MethodPost, "/webhooks/whatsapp/"+s.ChannelID, bodies[i], map[string]string{"X-Hub-Signature-256": sign(bodies[i])})
					if err == nil && st != http.StatusOK {
						err = fmt.Errorf("webhook: %d %s", st, resp)
					}
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						return
					}
					var n int
					if i := strings.Index(string(resp), `"statuses":`); i >= 0 {
						_, _ = fmt.Sscanf(string(resp[i+len(`"statuses":`):]), "%d", &n)
					}
					acked.Add(int64(n))
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return 0, firstErr
		}
	}
	elapsed := time.Since(t0)
	events := 3 * len(sent)
	if int(acked.Load()) != events {
		return 0, fmt.Errorf("the server acknowledged %d statuses of %d", acked.Load(), events)
	}
	return float64(events) / elapsed.Seconds(), nil
}

// countRows runs a count query on db with the product's store (no server involved).
func countRows(ctx context.Context, db *benchDB, query string) (int64, error) {
	st, err := store.Open(ctx, store.Options{URL: db.URL, MaxOpenConns: 1})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	var n int64
	err = st.Conn(ctx).Raw(query).Scan(&n).Error
	return n, err
}
