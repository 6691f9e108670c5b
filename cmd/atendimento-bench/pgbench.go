package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// capturedStart is the SQL one start runs, as a pgbench script with its constants.
type capturedStart struct {
	Script    string   // the -f script
	Defines   []string // -D NAME=VALUE for the constants
	Steps     []sqlStep
	Varying   int // parameters that differ between two starts (new ids, phone, key)
	Statement int // statements per start (BEGIN/COMMIT included)
}

// captureStart runs starts against db through an in-process App (dispatcher stopped, so no
// background statement mixes in) whose connections pass through pgProxy, and turns two
// consecutive starts with the same statement shapes into a pgbench script. The first starts warm
// the App's caches and prepared statements, as a running server's are.
func (b *bench) captureStart(ctx context.Context, db *benchDB, s seeded) (*capturedStart, error) {
	u, err := url.Parse(db.URL)
	if err != nil {
		return nil, err
	}
	proxy, err := newPGProxy(u.Host)
	if err != nil {
		return nil, err
	}
	defer proxy.Close()
	u.Host = proxy.Addr()
	a, err := openApp(ctx, &benchDB{Engine: pg, URL: u.String(), Name: db.Name}, b.fake.URL)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	// A running server reads its API key, channel, team and template from its caches, which it
	// uses on Postgres only while it listens for the other instances' changes.
	lctx, stopListen := context.WithCancel(ctx)
	defer stopListen()
	a.DB.ListenCaches(lctx, nil)
	a.DB.AwaitCaches(10 * time.Second)
	c := &apiClient{handler: a.Handler, base: "http://bench.local", key: s.APIKey}
	var runs [][]sqlStep
	for i := range 6 {
		proxy.record()
		st, body, err := c.do(ctx, http.MethodPost, "/api/v1/conversations", s.startBody(benchPhone(9_000_000+i)),
			map[string]string{"Idempotency-Key": fmt.Sprintf("bench-capture-%d", i)})
		steps := proxy.take()
		if err != nil {
			return nil, err
		}
		if st != http.StatusCreated {
			return nil, fmt.Errorf("capture start: %d %s", st, body)
		}
		runs = append(runs, requestSteps(steps))
	}
	// The last pair of starts with the same shape (the first ones may fill caches).
	for i := len(runs) - 1; i >= 3; i-- {
		if sameShape(runs[i-1], runs[i]) {
			cs, err := pgbenchScript(runs[i-1], runs[i])
			if err != nil {
				return nil, err
			}
			return cs, nil
		}
	}
	return nil, fmt.Errorf("starts ran different statements each time; captured %d/%d/%d steps", len(runs[3]), len(runs[4]), len(runs[5]))
}

// requestSteps drops what a running server does not do on the request path: NOTIFYs. With the
// App not started, events are NOTIFYed synchronously, while a server batches them in a
// background notifier; the dispatcher wake-up and the cache NOTIFYs leave from the background
// too (coalesced, so their number per start depends on the load).
func requestSteps(steps []sqlStep) []sqlStep {
	var out []sqlStep
	for _, s := range steps {
		if s.SQL == "" || strings.Contains(s.SQL, "atendimento_") {
			continue
		}
		notify := false
		for _, p := range s.Params {
			if strings.HasPrefix(p.Text, "atendimento_") {
				notify = true
			}
		}
		if !notify {
			out = append(out, s)
		}
	}
	return out
}

func sameShape(a, b []sqlStep) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for i := range a {
		if a[i].SQL != b[i].SQL || len(a[i].Params) != len(b[i].Params) {
			return false
		}
	}
	return true
}

var castName = map[uint32]string{oidBool: "boolean", oidBytea: "bytea", oidInt8: "bigint", oidInt2: "smallint", oidInt4: "integer",
	oidText: "text", oidJSON: "json", oidFloat4: "real", oidFloat8: "double precision", oidVarchar: "varchar", oidDate: "date",
	oidTimestamp: "timestamp", oidTimestamptz: "timestamptz", oidNumeric: "numeric", oidUUID: "uuid", oidJSONB: "jsonb"}

var paramRef = regexp.MustCompile(`\$(\d+)`)

// pgbenchScript writes the statements of start a as a pgbench script. Parameters that differ
// between a and b are per-start values (new ids, the phone, the idempotency key, the stored
// response): uuids become random uuids and texts random strings of the same length, the same
// value mapping to the same variable throughout the transaction, so the script inserts new rows
// each time as a start does. Every other parameter is a constant passed with -D (so values with
// colons are never read as pgbench variables) and cast to the type Postgres described.
func pgbenchScript(a, b []sqlStep) (*capturedStart, error) {
	cs := &capturedStart{Steps: a, Statement: len(a)}
	var head, body strings.Builder
	vars := map[string]string{} // varying value → its SQL expression
	nConst, nUUID, nText := 0, 0, 0
	for i, st := range a {
		if st.Simple {
			if strings.Contains(st.SQL, ":") {
				return nil, fmt.Errorf("simple query with a colon cannot go in a pgbench script: %q", st.SQL)
			}
			body.WriteString(strings.TrimSpace(st.SQL) + ";\n")
			continue
		}
		exprs := make([]string, len(st.Params))
		for j, p := range st.Params {
			if strings.HasPrefix(p.Text, "<undecodable") {
				return nil, fmt.Errorf("statement %d parameter %d: %s", i+1, j+1, p.Text)
			}
			typ := castName[p.OID]
			q := b[i].Params[j]
			varying := p.Null != q.Null || p.Text != q.Text
			switch {
			case p.Null:
				exprs[j] = "NULL"
				if typ != "" {
					exprs[j] = "CAST(NULL AS " + typ + ")"
				}
			case varying && p.OID == oidUUID:
				if e, ok := vars[p.Text]; ok {
					exprs[j] = e
					break
				}
				nUUID++
				fmt.Fprintf(&head, "\\set u%da random(1, 9223372036854775806)\n\\set u%db random(1, 9223372036854775806)\n", nUUID, nUUID)
				e := fmt.Sprintf("CAST(lpad(to_hex(CAST(:u%da AS bigint)), 16, '0') || lpad(to_hex(CAST(:u%db AS bigint)), 16, '0') AS uuid)", nUUID, nUUID)
				vars[p.Text], exprs[j] = e, e
			case varying && (p.OID == oidText || p.OID == oidVarchar || p.OID == 0):
				if e, ok := vars[p.Text]; ok {
					exprs[j] = e
					break
				}
				nText++
				fmt.Fprintf(&head, "\\set t%d random(1, 9223372036854775806)\n", nText)
				e := fmt.Sprintf("rpad(CAST(:t%d AS text), %d, 'x')", nText, max(len(p.Text), 19))
				vars[p.Text], exprs[j] = e, e
			case p.Text == "":
				exprs[j] = "''"
				if typ != "" {
					exprs[j] = "CAST('' AS " + typ + ")"
				}
			default:
				nConst++
				name := fmt.Sprintf("c%d", nConst)
				cs.Defines = append(cs.Defines, name+"="+p.Text)
				exprs[j] = ":" + name
				if typ != "" {
					exprs[j] = "CAST(:" + name + " AS " + typ + ")"
				}
			}
			if varying {
				cs.Varying++
			}
		}
		sql := paramRef.ReplaceAllStringFunc(st.SQL, func(m string) string {
			n, _ := strconv.Atoi(m[1:])
			if n < 1 || n > len(exprs) {
				return m
			}
			return exprs[n-1]
		})
		// pgbench reads a statement per line unless it ends with a semicolon: flatten it.
		body.WriteString(strings.Join(strings.Fields(sql), " ") + ";\n")
	}
	cs.Script = "-- The SQL one POST /api/v1/conversations runs (captured by atendimento-bench; see docs/benchmarks.md).\n" +
		head.String() + body.String()
	return cs, nil
}

// statementsText lists captured steps with their parameters, for bench-out and the docs.
func statementsText(steps []sqlStep) string {
	var sb strings.Builder
	for i, s := range steps {
		fmt.Fprintf(&sb, "%2d. %s\n", i+1, strings.Join(strings.Fields(s.SQL), " "))
		for j, p := range s.Params {
			v := p.Text
			if p.Null {
				v = "NULL"
			}
			if len(v) > 120 {
				v = v[:117] + "..."
			}
			fmt.Fprintf(&sb, "      $%d %s = %s\n", j+1, castName[p.OID], v)
		}
	}
	return sb.String()
}

// pgbenchResult is one pgbench run: transactions/s and per-transaction latencies from its log.
type pgbenchResult struct {
	TPS          float64
	Lat          []time.Duration
	Failed       int
	Output       string
	Command      string
	Transactions int
	CPU          cpuUse         // Postgres, pgbench (Child) and the machine over the run
	one          *pgbenchResult // the same script at one client, after the run
}

// runPGBench runs the captured script with clients connections for d on the database.
func (b *bench) runPGBench(ctx context.Context, cs *capturedStart, db *benchDB, clients int, d time.Duration, tag string) (*pgbenchResult, error) {
	dir := filepath.Join(b.outDir, "pgbench", tag)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "start.sql")
	if err := os.WriteFile(script, []byte(cs.Script), 0o644); err != nil {
		return nil, err
	}
	args := []string{"-n", "-r", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 2)),
		"-T", strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second))), "-l", "--log-prefix", filepath.Join(dir, "log"), "-f", script}
	for _, def := range cs.Defines {
		args = append(args, "-D", def)
	}
	args = append(args, db.URL)
	cmd := exec.CommandContext(ctx, "pgbench", args...)
	cmd.Dir = dir
	w := startCPU()
	out, err := cmd.CombinedOutput()
	use := w.stop()
	res := &pgbenchResult{Output: string(out), Command: "pgbench " + strings.Join(redactDefines(args), " ")}
	_ = os.WriteFile(filepath.Join(dir, "output.txt"), append([]byte(res.Command+"\n\n"), out...), 0o644)
	if err != nil {
		return res, fmt.Errorf("pgbench: %v: %s", err, lastLines(string(out), 8))
	}
	if m := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindStringSubmatch(res.Output); m != nil {
		res.TPS, _ = strconv.ParseFloat(m[1], 64)
	} else {
		return res, fmt.Errorf("pgbench: no tps in its output: %s", lastLines(res.Output, 8))
	}
	if m := regexp.MustCompile(`number of failed transactions: (\d+)`).FindStringSubmatch(res.Output); m != nil {
		res.Failed, _ = strconv.Atoi(m[1])
	}
	if m := regexp.MustCompile(`number of transactions actually processed: (\d+)`).FindStringSubmatch(res.Output); m != nil {
		res.Transactions, _ = strconv.Atoi(m[1])
	}
	res.CPU = use
	if st := cmd.ProcessState; st != nil {
		res.CPU.Child = (st.UserTime() + st.SystemTime()).Seconds()
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "log.*"))
	for _, l := range logs {
		f, err := os.Open(l)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 3 {
				if us, err := strconv.ParseInt(fields[2], 10, 64); err == nil {
					res.Lat = append(res.Lat, time.Duration(us)*time.Microsecond)
				}
			}
		}
		f.Close()
		_ = os.Remove(l)
	}
	sort.Slice(res.Lat, func(i, j int) bool { return res.Lat[i] < res.Lat[j] })
	return res, nil
}

// redactDefines shortens long -D values in the printed command.
func redactDefines(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if i > 0 && args[i-1] == "-D" && len(a) > 60 {
			a = a[:57] + "..."
		}
		if strings.Contains(a, " ") || strings.Contains(a, "'") || strings.Contains(a, "\"") {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
