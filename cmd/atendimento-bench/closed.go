package main

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// Row 11 (issue 16, targets 2 and 3): template starts and texts in an open conversation, each a
// closed-loop burst at -row11-clients, with -baseline <rev> beside the baseline's server in the
// same runs (alternating which goes first), each on its own fresh database seeded as row 10's.
// On Postgres one extra run per side passes the server's connections through the proxy and
// counts the statements and round trips of a number of sequential starts, then texts.

// closedOps are row 11's operations, in the order a run measures them.
// unit is what a statement count is per.
var closedOps = []struct{ name, label, unit string }{
	{"starts", "template starts", "start (the request and the dispatch of its template)"},
	{"text", "text in an open conversation", "text (the request and its dispatch)"},
}

// closedFigs are one operation's figures.
type closedFigs struct{ rate, p50, p99 *figure }

func (f closedFigs) all() []*figure { return []*figure{f.rate, f.p50, f.p99} }

func (b *bench) rowClosed(ctx context.Context, engine string) error {
	clients := b.cfg.Row11Clients
	figs := map[string]closedFigs{}
	var every []*figure
	for _, o := range closedOps {
		f := closedFigs{
			rate: &figure{Row: "11", Name: fmt.Sprintf("%s/s, closed loop, %d clients", o.label, clients), Engine: engine, Unit: "/s"},
			p50:  &figure{Row: "11", Name: fmt.Sprintf("%s p50, closed loop, %d clients", o.label, clients), Engine: engine, Unit: "ms"},
			p99:  &figure{Row: "11", Name: fmt.Sprintf("%s p99, closed loop, %d clients", o.label, clients), Engine: engine, Unit: "ms"},
		}
		if b.baselineBin != "" {
			for _, x := range f.all() {
				x.BaseName = b.baselineRev
			}
			f.rate.Goal = "≥ 1.5× " + b.baselineRev
			f.rate.met = func(_, ratio float64) bool { return ratio >= 1.5 }
		}
		figs[o.name] = f
		every = append(every, f.all()...)
	}
	b.add(every...)
	for run := range b.cfg.Runs {
		for _, sd := range b.sides(run) {
			b.logf("%s row 11 run %d/%d (%s): %d clients", engine, run+1, b.cfg.Runs, sd.name, clients)
			res, err := b.closedRun(ctx, engine, sd.bin)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", sd.name, err), every...)
			}
			for _, o := range closedOps {
				r, f := res[o.name], figs[o.name]
				vals := []float64{r.rate, pct(r.lat, 50), pct(r.lat, 99)}
				for i, x := range f.all() {
					if sd.base {
						x.Base = append(x.Base, vals[i])
					} else {
						x.Values = append(x.Values, vals[i])
					}
				}
			}
		}
	}
	f := figs["starts"]
	f.rate.Notes = append(f.rate.Notes, fmt.Sprintf("per run one server on a fresh database (BOOTSTRAP_*, seeded through its API with %d open conversations, CHANNEL_RATE=100000); a closed-loop burst of %s of starts at %d keep-alive clients (its first quarter not counted), then, once their sends reached the fake, a burst as long of texts, and their sends reached the fake too",
		b.cfg.OpenConvs, b.cfg.Row11Duration, clients))
	f.rate.Notes = append(f.rate.Notes, "starts: the README's start with a new contact and an Idempotency-Key, as rows 1 and 10; text: POST /conversations/{id}/messages to one of the open (answered) conversations in turn, as row 10")
	if b.baselineBin != "" {
		f.rate.Notes = append(f.rate.Notes, fmt.Sprintf("baseline %s built from a git worktree; each run measures both servers on fresh databases, alternating which goes first", b.baselineRev))
	}
	if engine != pg {
		return nil
	}
	for _, sd := range b.sides(0) {
		b.logf("%s row 11 (%s): statements of %d sequential starts, then texts, through the proxy", engine, sd.name, b.cfg.Row11Count)
		counts, idle, err := b.closedCount(ctx, sd.bin)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", sd.name, err), every...)
		}
		for _, o := range closedOps {
			n := sd.name + ": " + b.saveCount(fmt.Sprintf("row11-%s-%s", o.name, sd.name), counts[o.name])
			figs[o.name].rate.Notes = append(figs[o.name].rate.Notes, n)
		}
		figs["starts"].rate.Notes = append(figs["starts"].rate.Notes, fmt.Sprintf("%s: %d statements in %s with nothing to do, after the texts (counted in no figure)", sd.name, idle, closedIdle(b.cfg.Smoke)))
	}
	figs["starts"].rate.Notes = append(figs["starts"].rate.Notes, fmt.Sprintf("statements per start or text: %d sequential requests (one client) from the first request until their sends reached the fake and the server sent Postgres nothing for %s, so the dispatch of each request's message is included, the server's startup and seeding are not; round trips are the Syncs and simple queries on the wire (each awaits Postgres' ReadyForQuery)",
		b.cfg.Row11Count, closedQuiet))
	return nil
}

// side is one server measured in a run: the change's, or the baseline's.
type side struct {
	name, bin string
	base      bool
}

// sides are run's servers: the change's, then with -baseline the baseline's, swapped on odd
// runs so that neither always goes first.
func (b *bench) sides(run int) []side {
	s := []side{{"change", b.serverBin, false}}
	if b.baselineBin != "" {
		s = append(s, side{b.baselineRev, b.baselineBin, true})
		if run%2 == 1 {
			s[0], s[1] = s[1], s[0]
		}
	}
	return s
}

// closedRun starts bin on a fresh database and runs a closed-loop burst of each operation.
func (b *bench) closedRun(ctx context.Context, engine, bin string) (map[string]burstResult, error) {
	o, err := b.startOpen(ctx, engine, bin, nil, b.cfg.Row11Clients)
	if err != nil {
		return nil, err
	}
	defer o.close()
	out := map[string]burstResult{}
	first := 0
	for _, x := range closedOps {
		if err := b.settle(ctx, o, "before "+x.name); err != nil {
			return nil, err
		}
		r, err := closedBurst(ctx, o.op(x.name), first, b.cfg.Row11Clients, b.cfg.Row11Duration)
		if err != nil {
			return nil, o.srv.explain(fmt.Errorf("%s burst: %w", x.name, err))
		}
		first += r.used + 1
		o.sent += r.ok
		b.logf("  %s: %.0f/s, p50 %.2f ms, p99 %.2f ms", x.name, r.rate, pct(r.lat, 50), pct(r.lat, 99))
		out[x.name] = r
	}
	return out, b.settle(ctx, o, "after the text burst")
}

// closedQuiet is how long the server must send Postgres nothing for a count to end.
const closedQuiet = 300 * time.Millisecond

// closedIdle is how long the statements of an idle server are counted after the texts.
func closedIdle(smoke bool) time.Duration {
	if smoke {
		return 200 * time.Millisecond
	}
	return time.Second
}

// closedCount starts bin on a fresh Postgres database through the proxy and counts, per
// operation, the statements of -row11-count sequential requests and of their sends; then those
// of an idle server.
func (b *bench) closedCount(ctx context.Context, bin string) (map[string]sqlCount, int, error) {
	u, err := url.Parse(b.cfg.PGURL)
	if err != nil {
		return nil, 0, err
	}
	proxy, err := newPGProxy(u.Host)
	if err != nil {
		return nil, 0, err
	}
	defer proxy.Close()
	o, err := b.startOpen(ctx, pg, bin, proxy, 1)
	if err != nil {
		return nil, 0, err
	}
	defer o.close()
	n := b.cfg.Row11Count
	out := map[string]sqlCount{}
	first := 0
	for _, x := range closedOps {
		if err := b.settle(ctx, o, "before "+x.name); err != nil {
			return nil, 0, err
		}
		// The seeding's or the previous operation's last statements are not counted.
		proxy.record()
		waitQuiet(ctx, proxy)
		proxy.record()
		op := o.op(x.name)
		for i := range n {
			st, body, err := op.post(ctx, first+i)
			if err == nil && st != op.want {
				err = fmt.Errorf("%d %.200s", st, body)
			}
			if err != nil {
				return nil, 0, o.srv.explain(fmt.Errorf("%s: %w", x.name, err))
			}
		}
		first += n
		o.sent += n
		if err := b.settle(ctx, o, "after the "+x.name); err != nil {
			return nil, 0, err
		}
		waitQuiet(ctx, proxy) // a send is recorded after it reached the fake
		steps := proxy.take()
		out[x.name] = sqlCount{Steps: steps, Units: n, What: x.unit, Trips: proxy.roundTrips()}
	}
	proxy.record()
	time.Sleep(closedIdle(b.cfg.Smoke))
	return out, len(proxy.take()), nil
}

// waitQuiet waits until the proxy has recorded no statement for closedQuiet (at most 10 s).
func waitQuiet(ctx context.Context, p *pgProxy) {
	deadline := time.Now().Add(10 * time.Second)
	last, since := p.recorded(), time.Now()
	for ctx.Err() == nil && time.Now().Before(deadline) && time.Since(since) < closedQuiet {
		time.Sleep(20 * time.Millisecond)
		if n := p.recorded(); n != last {
			last, since = n, time.Now()
		}
	}
}
