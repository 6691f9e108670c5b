// Command atendimento-bench is the performance suite of issue 6: it builds and starts the real
// server (./cmd/atendimento) as a separate process against a real database (a fresh Postgres
// database per run at TEST_DATABASE_URL, and SQLite), seeds it through the API, loads it over
// loopback from this process, runs a fake WhatsApp Graph API here, and prints one table: for each
// figure the median of several runs, the baseline measured in the same runs, their ratio and the
// issue's goal.
//
//	go run ./cmd/atendimento-bench              # make bench: the full suite (~10 min)
//	go run ./cmd/atendimento-bench -smoke       # make bench-smoke: every row once, tiny sizes (CI)
//	go run ./cmd/atendimento-bench -rows 1,3 -engines postgres -runs 3
//
// Raw output (the table, results.json, server logs, pgbench scripts and logs, the captured SQL)
// goes to bench-out/<date>/, outside git. docs/benchmarks.md explains each figure.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type config struct {
	Runs          int
	Smoke         bool
	Engines       []string
	Rows          map[string]bool
	Clients       int
	Duration      time.Duration
	Warmup        time.Duration
	Samples       int
	DispatchConvs int
	DispatchPer   int // messages per conversation, the opening template included
	StatusBatch   int
	StatusConc    int
	ContactsPG    int
	ContactsLite  int
	Queries       int
	BacklogConvs  int
	BacklogPer    int
	RSSWindow     time.Duration
	Conversations int
	// Row 8: webhook ingest.
	IngestMessages int
	IngestSenders  int
	IngestClients  int
	IngestOne      int
	Baseline       string
	// Row 9: inbound media.
	MediaFiles int
	MediaSize  int
	// Row 10: open-loop latency.
	OpenLoad     float64
	OpenBurst    time.Duration
	OpenWarmup   time.Duration
	OpenDuration time.Duration
	OpenConvs    int
	OpenMax      string
	// Row 11: starts and texts, closed loop.
	Row11Clients  int
	Row11Duration time.Duration
	Row11Count    int
	Out           string
	PGURL         string
}

type bench struct {
	cfg       config
	dbs       *databases
	fake      *fakeGraph
	serverBin string
	outDir    string
	logSeq    int
	figures   []*figure
	log       io.Writer
	pgVersion string
	// baselineBin is the server built at -baseline (rows 3, 8, 10 and 11), baselineRev its short commit.
	baselineBin, baselineRev string
	// openMax are row 10's maxima given by -open-max (an operation left out is measured).
	openMax map[string]float64
}

func main() {
	var cfg config
	var engines, rows string
	flag.IntVar(&cfg.Runs, "runs", 5, "runs per figure (the table shows their median)")
	flag.BoolVar(&cfg.Smoke, "smoke", false, "seconds-long smoke mode: one run, tiny sizes (CI)")
	flag.StringVar(&engines, "engines", "postgres,sqlite", "engines to measure (postgres needs TEST_DATABASE_URL)")
	flag.StringVar(&rows, "rows", "1,2,3,4,5,6,7,8,9,10,11", "rows of the table to run")
	flag.IntVar(&cfg.Clients, "clients", 64, "row 1: concurrent clients (and pgbench clients)")
	flag.DurationVar(&cfg.Duration, "duration", 5*time.Second, "row 1: measured load per run")
	flag.DurationVar(&cfg.Warmup, "warmup", time.Second, "row 1: load before measuring")
	flag.IntVar(&cfg.Samples, "samples", 200, "row 2: webhook→release samples per run")
	flag.IntVar(&cfg.DispatchConvs, "dispatch-convs", 1000, "rows 3-4: conversations")
	flag.IntVar(&cfg.DispatchPer, "dispatch-per", 10, "rows 3-4: messages per conversation (template + texts)")
	flag.IntVar(&cfg.StatusBatch, "status-batch", 100, "row 4: statuses per POST when batched")
	flag.IntVar(&cfg.StatusConc, "status-concurrency", 16, "row 4: concurrent webhook POSTs")
	flag.IntVar(&cfg.ContactsPG, "contacts", 1_000_000, "row 5: contacts on Postgres")
	flag.IntVar(&cfg.ContactsLite, "contacts-sqlite", 10_000, "row 5: contacts on SQLite")
	flag.IntVar(&cfg.Queries, "queries", 100, "row 5: queries of each kind per run")
	flag.IntVar(&cfg.BacklogConvs, "backlog-convs", 1000, "row 6: waiting conversations")
	flag.IntVar(&cfg.BacklogPer, "backlog-per", 100, "row 6: queued messages per conversation")
	flag.DurationVar(&cfg.RSSWindow, "rss-window", 4*time.Second, "row 6: how long RSS is sampled after the backlog is released (and before: half as long, at most 2 s)")
	flag.IntVar(&cfg.Conversations, "conversations", 100_000, "row 7: conversations (both engines)")
	flag.IntVar(&cfg.IngestMessages, "ingest-messages", 5000, "row 8: inbound webhooks per run (one message each)")
	flag.IntVar(&cfg.IngestSenders, "ingest-senders", 1000, "row 8: distinct senders, new to the database")
	flag.IntVar(&cfg.IngestClients, "ingest-clients", 32, "row 8: concurrent clients")
	flag.IntVar(&cfg.IngestOne, "ingest-one", 300, "row 8: webhooks posted by one client after the load (latency alone)")
	flag.StringVar(&cfg.Baseline, "baseline", "", "rows 3, 8, 10 and 11: a git revision whose server is measured in the same runs (built from a temporary git worktree)")
	flag.IntVar(&cfg.MediaFiles, "media-files", 200, "row 9: inbound media fetched")
	flag.IntVar(&cfg.MediaSize, "media-size", 16<<20, "row 9: bytes per media (WhatsApp's video and audio limit is 16 MB)")
	flag.Float64Var(&cfg.OpenLoad, "open-load", 0.5, "row 10: open-loop rate as a fraction of the closed-loop max")
	flag.DurationVar(&cfg.OpenBurst, "open-burst", 3*time.Second, "row 10: closed-loop burst (at -clients) that measures each operation's max")
	flag.DurationVar(&cfg.OpenWarmup, "open-warmup", time.Second, "row 10: open-loop load before measuring")
	flag.DurationVar(&cfg.OpenDuration, "open-duration", 10*time.Second, "row 10: measured open-loop load per operation and run")
	flag.IntVar(&cfg.OpenConvs, "open-convs", 100, "rows 10 and 11: open conversations the texts go to, in turn")
	flag.StringVar(&cfg.OpenMax, "open-max", "", "row 10: maxima instead of the bursts, e.g. starts=400,webhooks=900,text=600")
	flag.IntVar(&cfg.Row11Clients, "row11-clients", 32, "row 11: concurrent clients of the closed-loop bursts")
	flag.DurationVar(&cfg.Row11Duration, "row11-duration", 5*time.Second, "row 11: closed-loop burst per operation and run (its first quarter not counted)")
	flag.IntVar(&cfg.Row11Count, "row11-count", 200, "row 11: sequential starts, then texts, whose statements are counted (Postgres, one extra run per side)")
	flag.StringVar(&cfg.Out, "out", "bench-out", "directory for the raw output")
	flag.Parse()
	set := func(name string) bool {
		found := false
		flag.Visit(func(f *flag.Flag) { found = found || f.Name == name })
		return found
	}
	if cfg.Smoke {
		for name, apply := range map[string]func(){
			"runs": func() { cfg.Runs = 1 }, "duration": func() { cfg.Duration = 500 * time.Millisecond }, "warmup": func() { cfg.Warmup = 200 * time.Millisecond },
			"samples": func() { cfg.Samples = 10 }, "dispatch-convs": func() { cfg.DispatchConvs = 10 }, "contacts": func() { cfg.ContactsPG = 5000 },
			"contacts-sqlite": func() { cfg.ContactsLite = 2000 }, "queries": func() { cfg.Queries = 10 }, "backlog-convs": func() { cfg.BacklogConvs = 10 },
			"backlog-per": func() { cfg.BacklogPer = 20 }, "rss-window": func() { cfg.RSSWindow = 300 * time.Millisecond }, "clients": func() { cfg.Clients = 16 },
			"conversations": func() { cfg.Conversations = 1000 }, "ingest-messages": func() { cfg.IngestMessages = 200 },
			"ingest-senders": func() { cfg.IngestSenders = 50 }, "ingest-clients": func() { cfg.IngestClients = 8 }, "ingest-one": func() { cfg.IngestOne = 20 },
			"media-files": func() { cfg.MediaFiles = 5 }, "open-burst": func() { cfg.OpenBurst = 300 * time.Millisecond },
			"open-warmup": func() { cfg.OpenWarmup = 0 }, "open-duration": func() { cfg.OpenDuration = 500 * time.Millisecond },
			"open-convs": func() { cfg.OpenConvs = 5 }, "row11-clients": func() { cfg.Row11Clients = 8 },
			"row11-duration": func() { cfg.Row11Duration = 400 * time.Millisecond }, "row11-count": func() { cfg.Row11Count = 10 },
			"media-size": func() { cfg.MediaSize = 256 << 10 },
		} {
			if !set(name) {
				apply()
			}
		}
	}
	cfg.PGURL = os.Getenv("TEST_DATABASE_URL")
	cfg.Rows = map[string]bool{}
	for _, r := range strings.Split(rows, ",") {
		cfg.Rows[strings.TrimSpace(r)] = true
	}
	for _, e := range strings.Split(engines, ",") {
		switch e = strings.TrimSpace(e); e {
		case pg:
			if cfg.PGURL == "" {
				fmt.Fprintln(os.Stderr, "TEST_DATABASE_URL is not set: skipping Postgres")
				continue
			}
			cfg.Engines = append(cfg.Engines, e)
		case sqlite:
			cfg.Engines = append(cfg.Engines, e)
		case "":
		default:
			fmt.Fprintf(os.Stderr, "unknown engine %q\n", e)
			os.Exit(2)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "atendimento-bench:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(ctx context.Context, cfg config) (int, error) {
	start := time.Now()
	mode := "full"
	if cfg.Smoke {
		mode = "smoke"
	}
	outDir, err := filepath.Abs(filepath.Join(cfg.Out, start.Format("20060102-150405")+"-"+mode))
	if err != nil {
		return 1, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return 1, err
	}
	tmp, err := os.MkdirTemp("", "atendimento-bench")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	logFile, err := os.Create(filepath.Join(outDir, "progress.log"))
	if err != nil {
		return 1, err
	}
	defer logFile.Close()
	b := &bench{cfg: cfg, outDir: outDir, log: io.MultiWriter(os.Stderr, logFile),
		dbs: &databases{adminURL: cfg.PGURL, tmp: tmp}}
	defer b.dbs.cleanup()
	if cfg.PGURL != "" {
		b.dbs.dropOrphans(ctx)
	}
	b.logf("building ./cmd/atendimento")
	if b.serverBin, err = buildServer(ctx, tmp); err != nil {
		return 1, err
	}
	if b.openMax, err = parseOpenMax(cfg.OpenMax); err != nil {
		return 2, err
	}
	if cfg.Baseline != "" {
		b.logf("building ./cmd/atendimento at %s (baseline of rows 3, 8, 10 and 11)", cfg.Baseline)
		if b.baselineBin, b.baselineRev, err = buildBaseline(ctx, cfg.Baseline, tmp); err != nil {
			return 1, err
		}
	}
	if b.fake, err = newFakeGraph(); err != nil {
		return 1, err
	}
	defer b.fake.Close()
	machine := b.machine(ctx)
	b.logf("%s", strings.ReplaceAll(machine, "\n", "; "))

	for _, engine := range cfg.Engines {
		if ctx.Err() != nil {
			break
		}
		if err := b.engine(ctx, engine); err != nil {
			b.logf("%s: %v", engine, err)
			b.figures = append(b.figures, &figure{Row: "-", Name: "setup", Engine: engine, Err: err.Error()})
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "atendimento-bench %s mode, %s, %s\n%s\ncommand: %s\n\n", mode, start.Format("2006-01-02 15:04 MST"),
		time.Since(start).Round(time.Second), machine, strings.Join(os.Args, " "))
	writeTable(&sb, b.figures, cfg.Runs)
	fmt.Print("\n" + sb.String())
	_ = os.WriteFile(filepath.Join(outDir, "table.md"), []byte(sb.String()), 0o644)
	if js, err := json.MarshalIndent(map[string]any{"date": start, "mode": mode, "machine": machine, "args": os.Args, "config": cfg, "figures": b.figures}, "", "  "); err == nil {
		_ = os.WriteFile(filepath.Join(outDir, "results.json"), js, 0o644)
	}
	fmt.Printf("\nraw output: %s\n", outDir)
	if ctx.Err() != nil {
		return 1, ctx.Err()
	}
	for _, f := range b.figures {
		if f.Err != "" {
			return 1, nil // the suite itself broke (goals not met are not failures)
		}
	}
	return 0, nil
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// engine runs the chosen rows on one engine. Every run gets its own database: a copy of a seeded
// template (CREATE DATABASE … TEMPLATE on Postgres, a file copy on SQLite).
func (b *bench) engine(ctx context.Context, engine string) error {
	b.logf("%s: seeding the base database", engine)
	base, err := b.dbs.fresh(ctx, engine)
	if err != nil {
		return err
	}
	defer b.dbs.drop(context.WithoutCancel(ctx), base)
	a, err := openApp(ctx, base, b.fake.URL)
	if err != nil {
		return err
	}
	s, _, err := seedBase(ctx, a)
	_ = a.Close()
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	rows := []struct {
		id string
		fn func() error
	}{
		{"1", func() error { return b.rowStarts(ctx, engine, base, s) }},
		{"2", func() error { return b.rowRelease(ctx, engine, base, s) }},
		{"3", func() error { return b.rowDispatchAndStatuses(ctx, engine, base, s) }},
		{"5", func() error { return b.rowContacts(ctx, engine, base, s) }},
		{"6", func() error { return b.rowRSS(ctx, engine, base, s) }},
		{"7", func() error { return b.rowDesk(ctx, engine, base, s) }},
		{"8", func() error { return b.rowIngest(ctx, engine) }},
		{"9", func() error { return b.rowMedia(ctx, engine, base, s) }},
		{"10", func() error { return b.rowOpen(ctx, engine) }},
		{"11", func() error { return b.rowClosed(ctx, engine) }},
	}
	for _, r := range rows {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !b.cfg.Rows[r.id] && !(r.id == "3" && b.cfg.Rows["4"]) {
			continue
		}
		if err := r.fn(); err != nil {
			b.logf("%s row %s: %v", engine, r.id, err)
		}
		if !b.cfg.Smoke { // smoke: every drop at the end, concurrently
			b.dbs.flush(ctx) // between rows, not during a measurement
		}
	}
	return nil
}

// fail records err on the figures (they show it instead of a value) and returns it.
func fail(err error, figs ...*figure) error {
	for _, f := range figs {
		if f.Err == "" {
			f.Err = err.Error()
		}
	}
	return err
}

func (b *bench) add(figs ...*figure) { b.figures = append(b.figures, figs...) }

// machine describes the machine and the versions measured.
func (b *bench) machine(ctx context.Context) string {
	cpu := "?"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := "?"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	goVer := runtime.Version()
	if out, err := exec.CommandContext(ctx, "go", "version").Output(); err == nil {
		goVer = strings.TrimSpace(string(out))
	}
	pgVer, pgbench := "(not measured)", "(not found)"
	if b.cfg.PGURL != "" {
		if c, err := b.dbs.admin(ctx); err == nil {
			_ = c.QueryRow(ctx, "SELECT version()").Scan(&pgVer)
			var settings string
			_ = c.QueryRow(ctx, `SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name) FROM pg_settings
				WHERE name IN ('shared_buffers','max_connections','synchronous_commit','fsync','work_mem','effective_cache_size')`).Scan(&settings)
			pgVer += " [" + settings + "]"
			_ = c.Close(ctx)
		}
	}
	if out, err := exec.CommandContext(ctx, "pgbench", "--version").Output(); err == nil {
		pgbench = strings.TrimSpace(string(out))
	}
	b.pgVersion = pgVer
	// The server is built from the working tree: say which commit, and whether it had changes.
	code := "?"
	if out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		code = strings.TrimSpace(string(out))
		if out, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no", "--", "*.go", "*.sql").Output(); err == nil {
			if n := len(strings.Fields(string(out))) / 2; n > 0 {
				code += fmt.Sprintf(" + uncommitted changes to %d Go/SQL files", n)
			}
		}
	}
	return fmt.Sprintf("machine: %d CPUs (%s), %s RAM, %s/%s\ngo: %s\npostgres: %s\npgbench: %s\ncode: %s",
		runtime.NumCPU(), cpu, mem, runtime.GOOS, runtime.GOARCH, goVer, pgVer, pgbench, code)
}

var errNoPGBench = errors.New("pgbench not found")
