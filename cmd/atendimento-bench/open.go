package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Row 10 (issue 16, target 4): latency under a steady load. For each of three operations the
// bench first measures the server's maximum with a short closed-loop burst (or takes it from
// -open-max), then sends requests open loop at -open-load (50 %) of that maximum: each request
// has a scheduled time on a fixed grid, it is sent then whether or not earlier ones have been
// answered, and its latency counts from the scheduled time, so a server that falls behind
// shows it in the percentiles instead of slowing the load down (no coordinated omission).

// openOp is one operation of row 10: its request, its goal and what it leaves to dispatch.
type openOp struct {
	name  string  // "starts", "webhooks", "text"
	label string  // the figure's words
	goal  float64 // p99 goal, ms
	sends bool    // each request queues one message for the fake
	post  func(ctx context.Context, i int) (int, []byte, error)
	want  int
}

// openResult is one open-loop run of one operation.
type openResult struct {
	target, achieved float64 // requests/s scheduled, requests/s answered
	lat              []time.Duration
	lag              []time.Duration // scheduled time → the request leaving this process's scheduler
	warmOK           int             // answered as wanted during the warm-up (not measured)
	scheduled        int             // request numbers used
	errors           int
	firstErr         string
}

// openLoop sends one request every 1/rate s for warm+dur from this goroutine's schedule, each in
// its own goroutine, and measures those scheduled after warm: latency from the scheduled time to
// the answer, achieved rate = answers / (last answer − first scheduled time of the window).
func openLoop(ctx context.Context, op openOp, first int, rate float64, warm, dur time.Duration) openResult {
	interval := time.Duration(float64(time.Second) / rate)
	t0 := time.Now()
	from, to := t0.Add(warm), t0.Add(warm+dur)
	var mu sync.Mutex
	res := openResult{target: rate}
	var last time.Time
	var wg sync.WaitGroup
	for k := 0; ctx.Err() == nil; k++ {
		at := t0.Add(time.Duration(k) * interval)
		if !at.Before(to) {
			break
		}
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		res.scheduled = k + 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			lag := time.Since(at)
			st, body, err := op.post(ctx, first+k)
			done := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if err == nil && st != op.want {
				err = fmt.Errorf("%d %.200s", st, body)
			}
			if at.Before(from) {
				if err == nil {
					res.warmOK++
				}
				return
			}
			if err != nil {
				res.errors++
				if res.firstErr == "" {
					res.firstErr = err.Error()
				}
				return
			}
			res.lat = append(res.lat, done.Sub(at))
			res.lag = append(res.lag, lag)
			if done.After(last) {
				last = done
			}
		}()
	}
	wg.Wait()
	if n := len(res.lat); n > 0 && last.After(from) {
		res.achieved = float64(n) / last.Sub(from).Seconds()
	}
	return res
}

// closedBurst runs clients closed-loop workers for dur and returns the answers/s and the
// latencies of the requests started and answered in its last three quarters (the first quarter
// opens connections and warms caches); the maximum the open loop takes a fraction of. Request
// numbers start after first.
func closedBurst(ctx context.Context, op openOp, first, clients int, dur time.Duration) (burstResult, error) {
	var next atomic.Int64
	var mu sync.Mutex
	var res burstResult
	var firstErr error
	var wg sync.WaitGroup
	t0 := time.Now()
	from, end := t0.Add(dur/4), t0.Add(dur)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			ok := 0
			for ctx.Err() == nil && time.Now().Before(end) {
				t := time.Now()
				st, body, err := op.post(ctx, first+int(next.Add(1)))
				if err == nil && st != op.want {
					err = fmt.Errorf("%d %.200s", st, body)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					break
				}
				ok++
				if done := time.Now(); !t.Before(from) && !done.After(end) {
					lat = append(lat, done.Sub(t))
				}
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.ok += ok
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return burstResult{}, firstErr
	}
	res.rate = float64(len(res.lat)) / end.Sub(from).Seconds()
	res.used = int(next.Load())
	return res, nil
}

// burstResult is one closed-loop burst: answers/s and latencies in its measured part, every
// request answered as wanted, and how many request numbers it used.
type burstResult struct {
	rate     float64
	lat      []time.Duration
	ok, used int
}

// parseOpenMax reads -open-max ("starts=400,webhooks=900,text=600"; an operation left out is
// measured).
func parseOpenMax(s string) (map[string]float64, error) {
	m := map[string]float64{}
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		r, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || r <= 0 || (k != "starts" && k != "webhooks" && k != "text") {
			return nil, fmt.Errorf("-open-max: %q is not starts=, webhooks= or text= a rate", kv)
		}
		m[k] = r
	}
	return m, nil
}

// openFigs are one operation's figures.
type openFigs struct {
	max, closed99, achieved, p50, p99, p999 *figure
}

func (f openFigs) all() []*figure {
	return []*figure{f.max, f.closed99, f.achieved, f.p50, f.p99, f.p999}
}

// rowOpen: for starts, inbound webhooks and texts in open conversations, the closed-loop maximum
// and then the open-loop latency at a fraction of it; with -baseline, the baseline's server in
// the same runs, alternating which goes first, each at the fraction of its own maximum.
func (b *bench) rowOpen(ctx context.Context, engine string) error {
	load := b.cfg.OpenLoad
	ops := []struct {
		name, label string
		goal        float64
	}{{"starts", "template starts", 25}, {"webhooks", "inbound webhooks", 25}, {"text", "text in an open conversation", 15}}
	figs := map[string]openFigs{}
	var every []*figure
	for _, o := range ops {
		goal := o.goal
		f := openFigs{
			max:      &figure{Row: "10", Name: fmt.Sprintf("%s: closed-loop max, %d clients", o.label, b.cfg.Clients), Engine: engine, Unit: "/s"},
			closed99: &figure{Row: "10", Name: fmt.Sprintf("%s: closed-loop p99, %d clients", o.label, b.cfg.Clients), Engine: engine, Unit: "ms"},
			achieved: &figure{Row: "10", Name: fmt.Sprintf("%s: open loop at %.0f%% of max, achieved rate", o.label, 100*load), Engine: engine, Unit: "/s"},
			p50:      &figure{Row: "10", Name: fmt.Sprintf("%s: open-loop p50", o.label), Engine: engine, Unit: "ms"},
			p99: &figure{Row: "10", Name: fmt.Sprintf("%s: open-loop p99", o.label), Engine: engine, Unit: "ms",
				Goal: fmt.Sprintf("≤ %.0f ms", goal), met: func(v, _ float64) bool { return v <= goal }},
			p999: &figure{Row: "10", Name: fmt.Sprintf("%s: open-loop p99.9", o.label), Engine: engine, Unit: "ms"},
		}
		if b.baselineBin != "" {
			for _, x := range f.all() {
				x.BaseName = b.baselineRev
			}
		}
		figs[o.name] = f
		every = append(every, f.all()...)
	}
	b.add(every...)
	lags := map[string][]float64{} // the bench's own p99 send lag per operation and side
	cpus := map[string]cpuUse{}    // the open loops' CPU per operation and side
	for run := range b.cfg.Runs {
		sides := []bool{false}
		if b.baselineBin != "" {
			sides = append(sides, true)
			if run%2 == 1 {
				sides[0], sides[1] = true, false
			}
		}
		for _, base := range sides {
			name, bin := "change", b.serverBin
			if base {
				name, bin = b.baselineRev, b.baselineBin
			}
			b.logf("%s row 10 run %d/%d (%s)", engine, run+1, b.cfg.Runs, name)
			res, err := b.openRun(ctx, engine, bin)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", name, err), every...)
			}
			for _, o := range ops {
				r, f := res[o.name], figs[o.name]
				vals := []float64{r.max, pct(r.closed, 99), r.open.achieved, pct(r.open.lat, 50), pct(r.open.lat, 99), pct(r.open.lat, 99.9)}
				for i, x := range f.all() {
					if base {
						x.Base = append(x.Base, vals[i])
					} else {
						x.Values = append(x.Values, vals[i])
					}
				}
				lags[o.name+" "+name] = append(lags[o.name+" "+name], pct(r.open.lag, 99))
				u := cpus[o.name+" "+name]
				u.add(r.cpu, r.cpu.Units)
				cpus[o.name+" "+name] = u
				if r.open.errors > 0 {
					f.achieved.Notes = append(f.achieved.Notes, fmt.Sprintf("run %d (%s): %d failed requests (not counted), first: %s", run+1, name, r.open.errors, r.open.firstErr))
				}
			}
		}
	}
	for _, o := range ops {
		n := fmt.Sprintf("the bench's own lag from a request's scheduled time to its sending (part of every latency), p99, median of runs: %.2f ms", median(lags[o.name+" change"]))
		if b.baselineBin != "" {
			n += fmt.Sprintf(" (%s: %.2f ms)", b.baselineRev, median(lags[o.name+" "+b.baselineRev]))
		}
		figs[o.name].p99.Notes = append(figs[o.name].p99.Notes, n)
		for _, side := range []string{"change", b.baselineRev} {
			if side == "" {
				continue // no baseline
			}
			if n := cpus[o.name+" "+side].per("request"); n != "" {
				figs[o.name].achieved.Notes = append(figs[o.name].achieved.Notes, fmt.Sprintf("%s, during the open loop: %s", side, n))
			}
		}
	}
	f := figs["starts"]
	f.max.Notes = append(f.max.Notes, fmt.Sprintf("per run one server on a fresh database (BOOTSTRAP_*, seeded through its API, CHANNEL_RATE=100000); per operation a closed-loop burst of %s at %d keep-alive clients (its first quarter not counted) gives the max (or -open-max), then %s of warm-up and %s measured open loop at %.0f%% of it: one request per 1/rate on a fixed schedule, each sent on time in its own goroutine whatever the earlier ones are doing, latency counted from its scheduled time; the sends each operation queues reach the fake before the next operation",
		b.cfg.OpenBurst, b.cfg.Clients, b.cfg.OpenWarmup, b.cfg.OpenDuration, 100*load))
	f.max.Notes = append(f.max.Notes, "starts: the README's start with a new contact and an Idempotency-Key, as row 1; webhooks: one signed text message each from 1 of 1,000 senders, as row 8; text: POST /conversations/{id}/messages to one of the open (answered) conversations in turn")
	if b.baselineBin != "" {
		f.max.Notes = append(f.max.Notes, fmt.Sprintf("baseline %s built from a git worktree; each side's open loop runs at %.0f%% of its own max", b.baselineRev, 100*load))
	}
	return nil
}

// openOpResult is one operation's measurements in one run.
type openOpResult struct {
	max    float64
	closed []time.Duration
	open   openResult
	cpu    cpuUse // over the open loop (warm-up included), Units its requests
}

// openServer is a server of rows 10 and 11: a binary on a fresh database (BOOTSTRAP_*,
// CHANNEL_RATE=100000), seeded through its API with -open-convs open (answered) conversations,
// and the requests the rows send to it.
type openServer struct {
	srv   *serverProc
	ops   []openOp // starts, webhooks, text
	sent  int      // sends queued so far: the fake should receive as many
	close func()
}

// op returns the operation called name.
func (o *openServer) op(name string) openOp {
	for _, op := range o.ops {
		if op.name == name {
			return op
		}
	}
	panic("no operation " + name)
}

// startOpen starts bin on a fresh database and seeds it; with a proxy, the server connects
// through it (the proxy records nothing until told to). clients sizes the HTTP client's pool.
func (b *bench) startOpen(ctx context.Context, engine, bin string, proxy *pgProxy, clients int) (*openServer, error) {
	db, err := b.dbs.fresh(ctx, engine)
	if err != nil {
		return nil, err
	}
	serverDB := db
	if proxy != nil {
		u, err := url.Parse(db.URL)
		if err != nil {
			b.dbs.drop(ctx, db)
			return nil, err
		}
		u.Host = proxy.Addr()
		serverDB = &benchDB{Engine: db.Engine, URL: u.String(), Name: db.Name + "-proxied"}
	}
	b.fake.Reset()
	srv, err := b.startServer(ctx, serverDB, serverOpts{Bin: bin, ChannelRate: 100000, Env: []string{
		"BOOTSTRAP_ACCOUNT_NAME=Bench", "BOOTSTRAP_ADMIN_EMAIL=" + ingestAdmin, "BOOTSTRAP_ADMIN_PASSWORD=" + ingestPassword,
		"BOOTSTRAP_API_KEY=" + ingestKey}})
	if err != nil {
		b.dbs.drop(ctx, db)
		return nil, err
	}
	hc := newHTTPClient(max(clients, 256))
	o := &openServer{srv: srv, close: func() {
		hc.CloseIdleConnections()
		srv.Stop()
		b.dbs.drop(ctx, db)
	}}
	c := &apiClient{base: srv.URL, http: hc, key: ingestKey}
	s := seeded{APIKey: ingestKey}
	if err := seedCatalog(ctx, c, &s); err != nil {
		o.close()
		return nil, fmt.Errorf("seed: %w", err)
	}
	convs, err := seedConversations(ctx, c, s, backlogSpec{Convs: b.cfg.OpenConvs, Tag: "o", Reply: true})
	if err != nil {
		o.close()
		return nil, fmt.Errorf("seed: %w", err)
	}
	o.sent = b.cfg.OpenConvs // their opening templates
	hooks := &apiClient{base: srv.URL, http: hc}
	o.ops = []openOp{
		{name: "starts", sends: true, want: http.StatusCreated, post: func(ctx context.Context, i int) (int, []byte, error) {
			return c.do(ctx, http.MethodPost, "/api/v1/conversations", s.startBody(benchPhone(1_000_000+i)),
				map[string]string{"Idempotency-Key": "bench-open-" + strconv.Itoa(i)})
		}},
		{name: "webhooks", want: http.StatusOK, post: func(ctx context.Context, i int) (int, []byte, error) {
			from := fmt.Sprintf("55119%08d", i%1000)
			body := webhookBody(inboundValue(from, fmt.Sprintf("wamid.open.%d", i), "oi, tudo bem?", time.Now()))
			return hooks.do(ctx, http.MethodPost, "/webhooks/whatsapp/"+s.ChannelID, body, map[string]string{"X-Hub-Signature-256": sign(body)})
		}},
		{name: "text", sends: true, want: http.StatusCreated, post: func(ctx context.Context, i int) (int, []byte, error) {
			body, _ := json.Marshal(map[string]any{"text": fmt.Sprintf("texto %d", i)})
			return c.do(ctx, http.MethodPost, "/api/v1/conversations/"+convs[i%len(convs)]+"/messages", body, nil)
		}},
	}
	return o, nil
}

// settle waits until every send queued so far reached the fake, so that what one operation
// queued goes out before the next is measured (and none was accepted and lost).
func (b *bench) settle(ctx context.Context, o *openServer, when string) error {
	if !b.fake.WaitFor(ctx, o.sent, time.Minute) {
		return fmt.Errorf("%s: %d of %d sends reached the fake", when, b.fake.Count(), o.sent)
	}
	return nil
}

// openRun starts bin on a fresh database and measures the three operations in turn.
func (b *bench) openRun(ctx context.Context, engine, bin string) (map[string]openOpResult, error) {
	o, err := b.startOpen(ctx, engine, bin, nil, b.cfg.Clients)
	if err != nil {
		return nil, err
	}
	defer o.close()
	srv := o.srv
	out := map[string]openOpResult{}
	first := 0
	for _, op := range o.ops {
		if err := b.settle(ctx, o, "before "+op.name); err != nil {
			return nil, err
		}
		var r openOpResult
		burst, err := closedBurst(ctx, op, first, b.cfg.Clients, b.cfg.OpenBurst)
		if err != nil {
			return nil, srv.explain(fmt.Errorf("%s burst: %w", op.name, err))
		}
		r.max, r.closed = burst.rate, burst.lat
		first += burst.used + 1
		if op.sends {
			o.sent += burst.ok
		}
		if m, ok := b.openMax[op.name]; ok {
			r.max = m
		}
		if err := b.settle(ctx, o, "after the "+op.name+" burst"); err != nil {
			return nil, err
		}
		rate := b.cfg.OpenLoad * r.max
		cw := startCPU(srv.Pid())
		r.open = openLoop(ctx, op, first, rate, b.cfg.OpenWarmup, b.cfg.OpenDuration)
		r.cpu = cw.stop()
		r.cpu.Units = r.open.warmOK + len(r.open.lat) + r.open.errors
		first += r.open.scheduled + 1
		if op.sends {
			o.sent += r.open.warmOK + len(r.open.lat)
		}
		if len(r.open.lat) == 0 {
			return nil, srv.explain(fmt.Errorf("%s open loop: no request succeeded: %s", op.name, r.open.firstErr))
		}
		b.logf("  %s: max %.0f/s (closed p99 %.1f ms); open loop %.0f/s → achieved %.0f/s, p50 %.2f ms p99 %.2f ms p99.9 %.2f ms, %d errors; the bench's own send lag p99 %.2f ms",
			op.name, r.max, pct(r.closed, 99), rate, r.open.achieved, pct(r.open.lat, 50), pct(r.open.lat, 99), pct(r.open.lat, 99.9), r.open.errors, pct(r.open.lag, 99))
		out[op.name] = r
	}
	return out, nil
}
