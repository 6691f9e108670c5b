package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/atendimento/atendimento/internal/store"
)

// rowRSS: the server process's memory holding a backlog of queued messages (VmRSS from
// /proc/<pid>/status), idle and then while the whole backlog is released and dispatched; and its
// cold start (exec → /readyz 200) on that database.
func (b *bench) rowRSS(ctx context.Context, engine string, base *benchDB, s seeded) error {
	convs, per := b.cfg.BacklogConvs, b.cfg.BacklogPer
	total := convs * per
	size := count(total)
	cold := &figure{Row: "6", Name: fmt.Sprintf("cold start to /readyz 200 (%s queued)", size), Engine: engine, Unit: "ms",
		Goal: "≤ 1000 ms", met: func(v, _ float64) bool { return v <= 1000 }}
	idle := &figure{Row: "6", Name: fmt.Sprintf("RSS holding %s queued, idle", size), Engine: engine, Unit: "MB",
		Goal: "≤ 150 MB", met: func(v, _ float64) bool { return v <= 150 }}
	peak := &figure{Row: "6", Name: fmt.Sprintf("peak RSS (VmHWM), %s released and dispatching", size), Engine: engine, Unit: "MB",
		Goal: "≤ 150 MB", met: func(v, _ float64) bool { return v <= 150 }}
	b.add(cold, idle, peak)

	b.logf("%s row 6: seeding %d waiting conversations × %d queued texts", engine, convs, per)
	t0 := time.Now()
	tmpl, err := b.dbs.clone(ctx, base)
	if err != nil {
		return fail(err, cold, idle, peak)
	}
	defer b.dbs.drop(context.WithoutCancel(ctx), tmpl)
	a, err := openApp(ctx, tmpl, b.fake.URL)
	if err != nil {
		return fail(err, cold, idle, peak)
	}
	c := &apiClient{handler: a.Handler, base: "http://bench.local", key: s.APIKey}
	_, err = seedConversations(ctx, c, s, backlogSpec{Convs: convs, PerConv: 1, Tag: "h"})
	_ = a.Close()
	if err != nil {
		return fail(fmt.Errorf("seed: %w", err), cold, idle, peak)
	}
	if err := multiplyQueued(ctx, tmpl, per); err != nil {
		return fail(fmt.Errorf("multiply the queued texts: %w", err), cold, idle, peak)
	}
	if n, err := countRows(ctx, tmpl, "SELECT count(*) FROM messages WHERE status = 'queued'"); err != nil || n != int64(total) {
		return fail(fmt.Errorf("%d queued messages seeded, want %d (%v)", n, total, err), cold, idle, peak)
	}
	b.logf("  seeded in %s", time.Since(t0).Round(100*time.Millisecond))
	idleFor := min(2*time.Second, b.cfg.RSSWindow/2)
	for run := range b.cfg.Runs {
		db, err := b.dbs.clone(ctx, tmpl)
		if err != nil {
			return fail(err, cold, idle, peak)
		}
		b.fake.Reset()
		srv, err := b.startServer(ctx, db, serverOpts{ChannelRate: 100000})
		if err != nil {
			b.dbs.drop(ctx, db)
			return fail(err, cold, idle, peak)
		}
		var mu sync.Mutex
		var maxRSS int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // sample every 20 ms
			defer wg.Done()
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				if rss, _, err := memStatus(srv.Pid()); err == nil {
					mu.Lock()
					maxRSS = max(maxRSS, rss)
					mu.Unlock()
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		time.Sleep(idleFor)
		mu.Lock()
		idleRSS := maxRSS
		mu.Unlock()
		// Release every conversation (8 replies in flight), then let the dispatcher work.
		released := time.Now()
		rc := &apiClient{base: srv.URL, http: newHTTPClient(8)}
		var werr error
		var wmu sync.Mutex
		sem := make(chan struct{}, 8)
		var rwg sync.WaitGroup
		for i := range convs {
			rwg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; rwg.Done() }()
				from := strings.TrimPrefix(benchPhone(i), "+")
				if err := rc.webhook(ctx, s.ChannelID, webhookBody(inboundValue(from, fmt.Sprintf("wamid.in.h%d", i), "oi", time.Now()))); err != nil {
					wmu.Lock()
					werr = err
					wmu.Unlock()
				}
			}()
		}
		rwg.Wait()
		releaseTook, sentAtRelease := time.Since(released), b.fake.Count()
		time.Sleep(b.cfg.RSSWindow) // the dispatcher works through the released backlog
		_, hwm, herr := memStatus(srv.Pid())
		close(stop)
		wg.Wait()
		sentN := b.fake.Count()
		srv.Stop()
		b.dbs.drop(ctx, db)
		if werr != nil {
			return fail(srv.explain(werr), cold, idle, peak)
		}
		if herr != nil {
			return fail(herr, cold, idle, peak)
		}
		cold.Values = append(cold.Values, float64(srv.Ready.Microseconds())/1000)
		idle.Values = append(idle.Values, float64(idleRSS)/(1<<20))
		peak.Values = append(peak.Values, float64(max(hwm, maxRSS))/(1<<20))
		b.logf("%s row 6 run %d/%d: ready in %s, RSS idle %.0f MB, peak %.0f MB, %d sent in the window", engine, run+1, b.cfg.Runs,
			srv.Ready.Round(time.Millisecond), float64(idleRSS)/(1<<20), float64(max(hwm, maxRSS))/(1<<20), sentN)
		peak.Notes = append(peak.Notes, fmt.Sprintf("run %d: the %d replies that release the backlog (8 in flight) took %s; %d messages had reached the fake then (the %d opening templates first), %d after %s more (CHANNEL_RATE=100000)",
			run+1, convs, releaseTook.Round(10*time.Millisecond), sentAtRelease, convs, sentN, b.cfg.RSSWindow))
	}
	cold.Notes = append(cold.Notes, "exec of the built binary → first /readyz 200 (polled every 2 ms) on a migrated database holding the backlog")
	return nil
}

// multiplyQueued copies each queued text per-1 times in SQL (every column as the service wrote it,
// but a new id, the next seq numbers and the text suffixed "-k"), and moves each conversation's
// next_seq past them: the backlog the API would have built, in seconds.
func multiplyQueued(ctx context.Context, db *benchDB, per int) error {
	if per <= 1 {
		return nil
	}
	st, err := store.Open(ctx, store.Options{URL: db.URL, MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer st.Close()
	var cols []string
	q := "SELECT column_name FROM information_schema.columns WHERE table_name = 'messages' AND table_schema = current_schema() ORDER BY ordinal_position"
	if db.Engine == sqlite {
		q = "SELECT name FROM pragma_table_info('messages') ORDER BY cid"
	}
	if err := st.Conn(ctx).Raw(q).Scan(&cols).Error; err != nil {
		return err
	}
	newID := "gen_random_uuid()"
	series := fmt.Sprintf("CROSS JOIN generate_series(1, %d) AS k(n)", per-1)
	prefix := ""
	if db.Engine == sqlite {
		newID = "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-7' || substr(hex(randomblob(2)), 2) || '-' || " +
			"substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
		prefix = fmt.Sprintf("WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < %d) ", per-1)
		series = "CROSS JOIN k"
	}
	exprs := make([]string, len(cols))
	for i, c := range cols {
		switch c {
		case "id":
			exprs[i] = newID
		case "seq":
			exprs[i] = "m.seq + k.n"
		case "text":
			exprs[i] = "m.text || '-' || k.n"
		case "rendered_text":
			exprs[i] = "CASE WHEN m.rendered_text = m.text THEN m.text || '-' || k.n ELSE m.rendered_text END"
		default:
			exprs[i] = "m." + c
		}
	}
	ins := prefix + "INSERT INTO messages (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(exprs, ", ") +
		" FROM messages m " + series + " WHERE m.direction = 'out' AND m.status = 'queued'"
	if err := st.Conn(ctx).Exec(ins).Error; err != nil {
		return err
	}
	return st.Conn(ctx).Exec("UPDATE conversations SET next_seq = m.last FROM " +
		"(SELECT conversation_id, max(seq) AS last FROM messages GROUP BY conversation_id) AS m " +
		"WHERE m.conversation_id = conversations.id AND conversations.next_seq < m.last").Error
}
