package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is one closed-loop load run.
type loadResult struct {
	OK, Errors int
	FirstErr   string
	Lat        []time.Duration // of the requests started in the measured window
	Rate       float64         // successful requests/s completed in the window
	CPU        cpuUse          // over the window
}

// loadStarts runs clients closed-loop workers against POST /api/v1/conversations for warm+dur,
// each start a new contact with its own Idempotency-Key (as the Go client and the CSV command
// send), and measures the window after warm.
func loadStarts(ctx context.Context, baseURL, key string, s seeded, clients, first int, warm, dur time.Duration, serverPid int) loadResult {
	hc := newHTTPClient(clients)
	defer hc.CloseIdleConnections()
	var next atomic.Int64
	from := time.Now().Add(warm)
	to := from.Add(dur)
	cpu := make(chan cpuUse, 1)
	go func() {
		time.Sleep(time.Until(from))
		w := startCPU(serverPid)
		time.Sleep(time.Until(to))
		cpu <- w.stop()
	}()
	var mu sync.Mutex
	var res loadResult
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			ok, bad := 0, 0
			firstErr := ""
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(to) {
					break
				}
				i := first + int(next.Add(1))
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/api/v1/conversations", bytes.NewReader(s.startBody(benchPhone(i))))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", "bench-start-"+strconv.Itoa(i))
				resp, err := hc.Do(req)
				status := 0
				if err == nil {
					var body []byte
					body, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
					if status != http.StatusCreated && firstErr == "" {
						firstErr = fmt.Sprintf("%d %.200s", status, body)
					}
				} else if firstErr == "" {
					firstErr = err.Error()
				}
				t1 := time.Now()
				if t0.Before(from) || t1.After(to) {
					continue // warm-up, or finished after the window
				}
				lat = append(lat, t1.Sub(t0))
				if status == http.StatusCreated {
					ok++
				} else {
					bad++
				}
			}
			mu.Lock()
			res.OK += ok
			res.Errors += bad
			res.Lat = append(res.Lat, lat...)
			if res.FirstErr == "" {
				res.FirstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Rate = float64(res.OK) / dur.Seconds()
	res.CPU = <-cpu
	return res
}

// rowStarts: POST /api/v1/conversations starts/s at 64 clients with p50/p99, beside pgbench
// running the same SQL (captured from a start) at the same client count, in the same runs.
func (b *bench) rowStarts(ctx context.Context, engine string, base *benchDB, s seeded) error {
	c := b.cfg.Clients
	rate := &figure{Row: "1", Name: fmt.Sprintf("POST /conversations starts/s, %d clients", c), Engine: engine, Unit: "/s"}
	p50 := &figure{Row: "1", Name: "start latency p50", Engine: engine, Unit: "ms"}
	p99 := &figure{Row: "1", Name: "start latency p99", Engine: engine, Unit: "ms", Goal: "≤ 25 ms", met: func(v, _ float64) bool { return v <= 25 }}
	// Not a goal of the issue: the same at one client, where latency is the service time, not
	// the queue that 64 closed-loop clients build (by Little's law p99 ≤ 25 ms at 64 clients needs
	// more than 64/0.025 = 2,560 starts/s).
	one50 := &figure{Row: "1", Name: "start latency p50, 1 client", Engine: engine, Unit: "ms"}
	one99 := &figure{Row: "1", Name: "start latency p99, 1 client", Engine: engine, Unit: "ms"}
	b.add(rate, p50, p99, one50, one99)
	var cs *capturedStart
	if engine == pg {
		rate.BaseName, p50.BaseName, p99.BaseName, one50.BaseName, one99.BaseName = "pgbench", "pgbench", "pgbench", "pgbench -c 1", "pgbench -c 1"
		rate.Goal, rate.met = "≥ 0.5× pgbench", func(_, ratio float64) bool { return ratio >= 0.5 }
		if _, err := exec.LookPath("pgbench"); err != nil {
			rate.Notes = append(rate.Notes, "pgbench not found: no baseline")
		} else {
			var err error
			if cs, err = b.capture(ctx, base, s); err != nil {
				rate.Notes = append(rate.Notes, "capturing the start's SQL failed, no baseline: "+err.Error())
				cs = nil
			} else {
				rate.Notes = append(rate.Notes, fmt.Sprintf("baseline: pgbench -M prepared -c %d -j 2 with the %d statements one start runs (%d per-start values randomised); script in %s",
					c, cs.Statement, cs.Varying, filepath.Join(b.outDir, "start-statements.txt")))
			}
		}
	} else {
		rate.BaseName = "pgbench is Postgres-only"
	}
	var errs, total int
	var cpuServer, cpuPGBench cpuUse
	for run := range b.cfg.Runs {
		b.logf("%s row 1 run %d/%d: %d clients for %s", engine, run+1, b.cfg.Runs, c, b.cfg.Duration)
		db, err := b.dbs.clone(ctx, base)
		if err != nil {
			return fail(err, rate, p50, p99, one50, one99)
		}
		srv, err := b.startServer(ctx, db, serverOpts{})
		if err != nil {
			b.dbs.drop(ctx, db)
			return fail(err, rate, p50, p99, one50, one99)
		}
		res := loadStarts(ctx, srv.URL, s.APIKey, s, c, 0, b.cfg.Warmup, b.cfg.Duration, srv.Pid())
		var one loadResult
		if !b.cfg.Smoke {
			one = loadStarts(ctx, srv.URL, s.APIKey, s, 1, 5_000_000, b.cfg.Warmup/5, b.cfg.Duration/2, srv.Pid())
		}
		srv.Stop()
		if one.OK > 0 {
			one50.Values, one99.Values = append(one50.Values, pct(one.Lat, 50)), append(one99.Values, pct(one.Lat, 99))
		}
		b.dbs.drop(ctx, db)
		errs += res.Errors
		total += res.OK + res.Errors
		if res.OK == 0 {
			return fail(fmt.Errorf("no start succeeded: %s", res.FirstErr), rate, p50, p99, one50, one99)
		}
		if res.Errors > 0 && res.FirstErr != "" {
			rate.Notes = append(rate.Notes, fmt.Sprintf("run %d: %d failed starts, first: %s", run+1, res.Errors, res.FirstErr))
		}
		cpuServer.add(res.CPU, res.OK+res.Errors)
		rate.Values = append(rate.Values, res.Rate)
		p50.Values = append(p50.Values, pct(res.Lat, 50))
		p99.Values = append(p99.Values, pct(res.Lat, 99))
		b.logf("  server: %.0f starts/s p50 %.1f ms p99 %.1f ms (%d errors)", res.Rate, pct(res.Lat, 50), pct(res.Lat, 99), res.Errors)
		if one.OK > 0 {
			b.logf("  server 1 client: p50 %.1f ms p99 %.1f ms", pct(one.Lat, 50), pct(one.Lat, 99))
		}
		if cs == nil {
			continue
		}
		pr, err := b.pgbenchRun(ctx, cs, base, c, run)
		if err != nil {
			rate.Notes = append(rate.Notes, fmt.Sprintf("run %d: %v", run+1, err))
			continue
		}
		cpuPGBench.add(pr.CPU, pr.Transactions)
		rate.Base = append(rate.Base, pr.TPS)
		p50.Base = append(p50.Base, pct(pr.Lat, 50))
		p99.Base = append(p99.Base, pct(pr.Lat, 99))
		b.logf("  pgbench: %.0f tps p50 %.1f ms p99 %.1f ms", pr.TPS, pct(pr.Lat, 50), pct(pr.Lat, 99))
		if pr1 := pr.one; pr1 != nil {
			one50.Base, one99.Base = append(one50.Base, pct(pr1.Lat, 50)), append(one99.Base, pct(pr1.Lat, 99))
			b.logf("  pgbench 1 client: p50 %.1f ms p99 %.1f ms", pct(pr1.Lat, 50), pct(pr1.Lat, 99))
		}
	}
	if errs > 0 {
		rate.Notes = append(rate.Notes, fmt.Sprintf("%d of %d starts failed (not counted in the rate)", errs, total))
	}
	if n := cpuServer.per("start"); n != "" {
		rate.Notes = append(rate.Notes, n)
	}
	if n := cpuPGBench.per("pgbench transaction"); n != "" {
		rate.Notes = append(rate.Notes, n)
	}
	return nil
}

// capture captures the SQL of one start on a copy of base and saves the script.
func (b *bench) capture(ctx context.Context, base *benchDB, s seeded) (*capturedStart, error) {
	db, err := b.dbs.clone(ctx, base)
	if err != nil {
		return nil, err
	}
	defer b.dbs.drop(ctx, db)
	cs, err := b.captureStart(ctx, db, s)
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf("# The statements of one POST /api/v1/conversations (with an Idempotency-Key), captured on the wire\n"+
		"# with their parameters, and the pgbench script made from them.\n\n%s\n# pgbench script\n%s\n# -D constants\n", statementsText(cs.Steps), cs.Script)
	for _, d := range cs.Defines {
		text += d + "\n"
	}
	_ = os.WriteFile(filepath.Join(b.outDir, "start-statements.txt"), []byte(text), 0o644)
	b.logf("captured %d statements per start (%d per-start values)", cs.Statement, cs.Varying)
	return cs, nil
}

// pgbenchRun runs the captured script on a fresh copy of base: a warm-up of the same length as
// the server's, then the measured run.
func (b *bench) pgbenchRun(ctx context.Context, cs *capturedStart, base *benchDB, clients, run int) (*pgbenchResult, error) {
	db, err := b.dbs.clone(ctx, base)
	if err != nil {
		return nil, err
	}
	defer b.dbs.drop(ctx, db)
	if b.cfg.Warmup >= time.Second { // pgbench runs whole seconds
		if _, err := b.runPGBench(ctx, cs, db, clients, b.cfg.Warmup, fmt.Sprintf("run%d-warmup", run+1)); err != nil {
			return nil, err
		}
	}
	res, err := b.runPGBench(ctx, cs, db, clients, b.cfg.Duration, fmt.Sprintf("run%d", run+1))
	if err != nil {
		return nil, err
	}
	if res.Failed > 0 {
		return res, fmt.Errorf("pgbench: %d failed transactions", res.Failed)
	}
	if b.cfg.Smoke {
		return res, nil
	}
	if res.one, err = b.runPGBench(ctx, cs, db, 1, b.cfg.Duration/2, fmt.Sprintf("run%d-1client", run+1)); err != nil {
		return nil, err
	}
	if res.one.Failed > 0 {
		return res, fmt.Errorf("pgbench -c 1: %d failed transactions", res.one.Failed)
	}
	return res, nil
}
