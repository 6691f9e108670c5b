package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Row 8 (issue 16, target 1): signed inbound webhooks, one message each, from 32 closed-loop
// clients, against a server that acknowledges a delivery only once it is committed. With
// -baseline <rev>, the server built from that revision runs in the same runs, interleaved
// (each run measures both, alternating which goes first), each on its own fresh database.

// Bootstrap credentials of row 8's servers: the account is created by the server itself
// (BOOTSTRAP_*), so a baseline revision seeds its own schema.
const (
	ingestKey      = "bench-ingest-api-key-0123456789"
	ingestAdmin    = "bench@example.com"
	ingestPassword = "bench-password-0123"
)

// buildBaseline builds ./cmd/atendimento at rev from a temporary git worktree into dir.
func buildBaseline(ctx context.Context, rev, dir string) (bin, short string, err error) {
	wt := filepath.Join(dir, "baseline-src")
	if out, err := exec.CommandContext(ctx, "git", "worktree", "add", "--detach", wt, rev).CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("git worktree add %s: %v\n%s", rev, err, out)
	}
	defer func() {
		_ = exec.Command("git", "worktree", "remove", "--force", wt).Run()
	}()
	if out, err := exec.CommandContext(ctx, "git", "-C", wt, "rev-parse", "--short", "HEAD").Output(); err == nil {
		short = string(out[:len(out)-1])
	}
	bin = filepath.Join(dir, "atendimento-baseline")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/atendimento")
	cmd.Dir = wt
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("build %s: %v\n%s", rev, err, out)
	}
	return bin, short, nil
}

// ingestResult is one measurement of one server.
type ingestResult struct {
	rate      float64 // acknowledged messages/s at the configured clients
	p50, p99  float64 // ms, at the configured clients
	p50one    float64 // ms, one client
	p99one    float64
	peakMB    float64 // the server's VmHWM when the load is over
	stored    int64
	sent      int
	statement []sqlStep
	cpu       cpuUse
}

func (b *bench) rowIngest(ctx context.Context, engine string) error {
	clients := b.cfg.IngestClients
	rate := &figure{Row: "8", Name: fmt.Sprintf("webhook ingest acked/s, %d clients (%d senders)", clients, b.cfg.IngestSenders), Engine: engine, Unit: "/s"}
	p99 := &figure{Row: "8", Name: fmt.Sprintf("webhook ingest p99, %d clients", clients), Engine: engine, Unit: "ms"}
	p50 := &figure{Row: "8", Name: fmt.Sprintf("webhook ingest p50, %d clients", clients), Engine: engine, Unit: "ms"}
	one := &figure{Row: "8", Name: "webhook ingest p50, 1 client", Engine: engine, Unit: "ms"}
	oneP99 := &figure{Row: "8", Name: "webhook ingest p99, 1 client", Engine: engine, Unit: "ms"}
	peak := &figure{Row: "8", Name: fmt.Sprintf("peak RSS (VmHWM) through %d webhooks at %d clients", b.cfg.IngestMessages, clients), Engine: engine, Unit: "MB",
		Goal: "≤ 150 MB", met: func(v, _ float64) bool { return v <= 150 }}
	figs := []*figure{rate, p99, p50, one, oneP99, peak}
	if b.baselineBin != "" {
		for _, f := range figs {
			f.BaseName = b.baselineRev
		}
		rate.Goal = "≥ 4× " + b.baselineRev
		rate.met = func(_, ratio float64) bool { return ratio >= 4 }
	}
	b.add(figs...)
	var cpuChange, cpuBase cpuUse
	for run := range b.cfg.Runs {
		type side struct {
			bin  string
			base bool
		}
		sides := []side{{b.serverBin, false}}
		if b.baselineBin != "" {
			sides = append(sides, side{b.baselineBin, true})
			if run%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
		}
		for _, sd := range sides {
			name := "change"
			if sd.base {
				name = b.baselineRev
			}
			b.logf("%s row 8 run %d/%d (%s): %d messages, %d clients", engine, run+1, b.cfg.Runs, name, b.cfg.IngestMessages, clients)
			r, err := b.ingestRun(ctx, engine, sd.bin, run, nil)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", name, err), figs...)
			}
			b.logf("  %.0f acked/s, p50 %.2f ms, p99 %.2f ms; 1 client p50 %.2f ms p99 %.2f ms; stored %d of %d",
				r.rate, r.p50, r.p99, r.p50one, r.p99one, r.stored, r.sent)
			if sd.base {
				cpuBase.add(r.cpu, r.sent-b.cfg.IngestOne)
			} else {
				cpuChange.add(r.cpu, r.sent-b.cfg.IngestOne)
			}
			vals := []float64{r.rate, r.p99, r.p50, r.p50one, r.p99one, r.peakMB}
			for i, f := range figs {
				if sd.base {
					f.Base = append(f.Base, vals[i])
				} else {
					f.Values = append(f.Values, vals[i])
				}
			}
		}
	}
	rate.Notes = append(rate.Notes, fmt.Sprintf("%d signed webhooks per run, one text message each, from %d senders new to the database (message k from sender k mod %d), %d closed-loop keep-alive clients; every 200 counted its message and the messages stored at the end equal those sent (0 lost); then 1 client for %d more messages from new senders",
		b.cfg.IngestMessages, b.cfg.IngestSenders, b.cfg.IngestSenders, clients, b.cfg.IngestOne))
	if b.baselineBin != "" {
		rate.Notes = append(rate.Notes, fmt.Sprintf("baseline %s built from a git worktree; each run measures both servers on fresh databases, alternating which goes first", b.baselineRev))
	}
	if n := cpuChange.per("message"); n != "" {
		rate.Notes = append(rate.Notes, "change: "+n)
	}
	if n := cpuBase.per("message"); n != "" {
		rate.Notes = append(rate.Notes, b.baselineRev+": "+n)
	}
	if engine == pg && !b.cfg.Smoke {
		bins := []struct{ name, bin string }{{"change", b.serverBin}}
		if b.baselineBin != "" {
			bins = append(bins, struct{ name, bin string }{b.baselineRev, b.baselineBin})
		}
		for _, x := range bins {
			u, err := url.Parse(b.cfg.PGURL)
			if err != nil {
				return err
			}
			proxy, err := newPGProxy(u.Host)
			if err != nil {
				return err
			}
			r, err := b.ingestRun(ctx, engine, x.bin, -1, proxy)
			proxy.Close()
			if err != nil {
				return fail(err, figs...)
			}
			rate.Notes = append(rate.Notes, x.name+": "+b.saveCount("ingest-"+x.name, sqlCount{Steps: r.statement, Units: r.sent, What: "message"}))
		}
	}
	return nil
}

// ingestRun measures one server binary on a fresh database; with a proxy, the server connects
// through it and the statements of the 32-client load are returned instead of timings that
// the proxy would distort.
func (b *bench) ingestRun(ctx context.Context, engine, bin string, run int, proxy *pgProxy) (*ingestResult, error) {
	db, err := b.dbs.fresh(ctx, engine)
	if err != nil {
		return nil, err
	}
	defer b.dbs.drop(ctx, db)
	serverDB := db
	if proxy != nil {
		u, _ := url.Parse(db.URL)
		u.Host = proxy.Addr()
		serverDB = &benchDB{Engine: db.Engine, URL: u.String(), Name: db.Name + "-proxied"}
	}
	srv, err := b.startServer(ctx, serverDB, serverOpts{Bin: bin, ChannelRate: 100000, Env: []string{
		"BOOTSTRAP_ACCOUNT_NAME=Bench", "BOOTSTRAP_ADMIN_EMAIL=" + ingestAdmin, "BOOTSTRAP_ADMIN_PASSWORD=" + ingestPassword,
		"BOOTSTRAP_API_KEY=" + ingestKey}})
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	c := &apiClient{base: srv.URL, http: newHTTPClient(b.cfg.IngestClients), key: ingestKey}
	channelID, err := seedChannel(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	tag := fmt.Sprintf("r%d", run)
	// One untimed delivery per client (a status of an unknown message: nothing stored) opens
	// its keep-alive connection, as Meta's are.
	hooks := &apiClient{base: srv.URL, http: newHTTPClient(b.cfg.IngestClients)}
	var wg sync.WaitGroup
	for range b.cfg.IngestClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = hooks.webhook(ctx, channelID, webhookBody(statusValue("wamid.warmup", "delivered", "5511900000001", time.Now())))
		}()
	}
	wg.Wait()
	if proxy != nil {
		proxy.record()
	}
	res := &ingestResult{sent: b.cfg.IngestMessages}
	cw := startCPU(srv.Pid())
	lat, elapsed, acked, err := postInbound(ctx, hooks, channelID, b.cfg.IngestClients, b.cfg.IngestMessages, b.cfg.IngestSenders, 0, tag)
	if err != nil {
		return nil, srv.explain(err)
	}
	res.cpu = cw.stop()
	if proxy != nil {
		res.statement = proxy.take()
	}
	if acked != b.cfg.IngestMessages {
		return nil, fmt.Errorf("the server acknowledged %d messages of %d", acked, b.cfg.IngestMessages)
	}
	res.rate, res.p50, res.p99 = float64(acked)/elapsed.Seconds(), pct(lat, 50), pct(lat, 99)
	if proxy == nil && b.cfg.IngestOne > 0 {
		lat1, _, acked1, err := postInbound(ctx, hooks, channelID, 1, b.cfg.IngestOne, b.cfg.IngestOne, 1_000_000, tag+"one")
		if err != nil {
			return nil, srv.explain(err)
		}
		if acked1 != b.cfg.IngestOne {
			return nil, fmt.Errorf("one client: the server acknowledged %d messages of %d", acked1, b.cfg.IngestOne)
		}
		res.p50one, res.p99one = pct(lat1, 50), pct(lat1, 99)
		res.sent += b.cfg.IngestOne
	}
	_, hwm, err := memStatus(srv.Pid())
	if err != nil {
		return nil, fmt.Errorf("peak RSS: %w", err)
	}
	res.peakMB = float64(hwm) / (1 << 20)
	srv.Stop()
	if res.stored, err = countRows(ctx, db, "SELECT count(*) FROM messages WHERE direction = 'in'"); err != nil {
		return nil, err
	}
	if res.stored != int64(res.sent) {
		return nil, fmt.Errorf("%d messages stored of %d acknowledged: lost", res.stored, res.sent)
	}
	return res, nil
}

// postInbound posts n signed webhooks, one text message each, from clients concurrent clients;
// message k comes from sender first+(k mod senders). It returns each POST's latency, the time
// from the first POST to the last answer, and the messages the answers acknowledged.
func postInbound(ctx context.Context, c *apiClient, channelID string, clients, n, senders, first int, tag string) ([]time.Duration, time.Duration, int, error) {
	var next, acked atomic.Int64
	var firstErr atomic.Value
	lats := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= n || ctx.Err() != nil {
					return
				}
				from := fmt.Sprintf("55119%08d", first+k%senders)
				body := webhookBody(inboundValue(from, fmt.Sprintf("wamid.ingest.%s.%d", tag, k), "oi, tudo bem?", time.Now()))
				t := time.Now()
				st, resp, err := c.do(ctx, http.MethodPost, "/webhooks/whatsapp/"+channelID, body, map[string]string{"X-Hub-Signature-256": sign(body)})
				if err == nil && st != http.StatusOK {
					err = fmt.Errorf("webhook: %d %s", st, resp)
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lats[w] = append(lats[w], time.Since(t))
				var ack struct{ Messages int }
				if json.Unmarshal(resp, &ack) == nil {
					acked.Add(int64(ack.Messages))
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, 0, 0, err
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	return all, elapsed, int(acked.Load()), nil
}

// seedChannel creates, through a running server's API, the bench's WhatsApp Cloud channel with
// a default team, and returns the channel's id.
func seedChannel(ctx context.Context, c *apiClient) (string, error) {
	var id struct{ ID string }
	if err := c.call(ctx, http.MethodPost, "/api/v1/channels", map[string]any{"name": "Cloud", "provider": "whatsapp_cloud",
		"phone_number": "+55 11 4000-9999", "phone_number_id": benchPNID, "waba_id": benchWABA, "access_token": benchToken,
		"app_secret": benchAppSecret, "verify_token": benchVerify}, http.StatusCreated, &id); err != nil {
		return "", err
	}
	channelID := id.ID
	if err := c.call(ctx, http.MethodPost, "/api/v1/teams", map[string]any{"name": "Cloud team", "channel_ids": []string{channelID}},
		http.StatusCreated, &id); err != nil {
		return "", err
	}
	if err := c.call(ctx, http.MethodPatch, "/api/v1/channels/"+channelID, map[string]any{"default_team_id": id.ID}, http.StatusOK, nil); err != nil {
		return "", err
	}
	return channelID, nil
}
