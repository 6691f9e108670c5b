package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/pkg/atendimento"
)

// TestMain lets a test run the binary as a subprocess: with ATENDIMENTO_TEST_MAIN=1 the test
// binary is `atendimento` (os.Args[1:] are its arguments).
func TestMain(m *testing.M) {
	if os.Getenv("ATENDIMENTO_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// starts wraps the server and counts the conversations it really creates (201 answers to
// POST /api/v1/conversations that are not idempotent replays); onCreated sees each new count.
type starts struct {
	next      http.Handler
	created   atomic.Int64
	mu        sync.Mutex
	onCreated func(n int64)
	// refuse, when set, answers 422 to the starts whose body contains it.
	refuse string
	// conns tracks the server's connections (settled).
	conns *connTracker
}

// connTracker is the server's listener; it keeps the connections accepted and not yet closed.
type connTracker struct {
	net.Listener
	mu   sync.Mutex
	open map[net.Conn]bool
}

type trackedConn struct {
	net.Conn
	l    *connTracker
	once sync.Once
}

func (l *connTracker) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.open[tc] = true
	l.mu.Unlock()
	return tc, nil
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.l.mu.Lock(); delete(c.l.open, c); c.l.mu.Unlock() })
	return c.Conn.Close()
}

// openConns returns the remote addresses of the connections accepted and not yet closed.
func (l *connTracker) openConns() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for c := range l.open {
		out = append(out, c.RemoteAddr().String())
	}
	return out
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func (s *starts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/conversations" {
		s.next.ServeHTTP(w, r)
		return
	}
	s.mu.Lock()
	refuse := s.refuse
	s.mu.Unlock()
	if refuse != "" {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(refuse)) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"the request has invalid fields","code":"validation_failed","errors":[{"field":"contact.phone","code":"phone_invalid","message":"refused by the test"}]}`)
			return
		}
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.next.ServeHTTP(sw, r)
	if sw.status == http.StatusCreated && w.Header().Get("Idempotent-Replayed") == "" {
		n := s.created.Add(1)
		s.mu.Lock()
		fn := s.onCreated
		s.mu.Unlock()
		if fn != nil {
			fn(n)
		}
	}
}

func (s *starts) hook(fn func(n int64)) { s.mu.Lock(); s.onCreated = fn; s.mu.Unlock() }

// serveCounting runs the env's app behind a starts counter.
func serveCounting(t *testing.T, env *apptest.Env) (*starts, string) {
	s := &starts{next: env.App.Handler}
	srv := httptest.NewUnstartedServer(s)
	s.conns = &connTracker{Listener: srv.Listener, open: map[net.Conn]bool{}}
	srv.Listener = s.conns
	srv.Start()
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// bulkFile writes a CSV of n rows for boas_vindas, with bad rows sprinkled in; it returns the
// file, the bad rows' codes by line, and the valid rows' phones by line.
func bulkFile(t *testing.T, n int, openPhone string) (path string, bad map[int]string, valid map[int]string) {
	var b strings.Builder
	b.WriteString("phone,nome,atendente\n")
	bad, valid = map[int]string{}, map[int]string{}
	phoneOf := func(i int) string { n := 40000000 + i; return fmt.Sprintf("(11) 9%04d-%04d", n/10000, n%10000) }
	for i := range n {
		line := i + 2
		ph, nome, atendente := phoneOf(i), fmt.Sprintf("Cliente %d", i), "Ana"
		switch i % 101 {
		case 7:
			ph, bad[line] = "12345", "phone_invalid"
		case 23:
			atendente, bad[line] = "", "parameter_missing"
		case 41:
			ph, bad[line] = phoneOf(i-1), "duplicate_phone"
		case 59:
			nome, bad[line] = "Ana\tMaria", "parameter_invalid"
		case 77:
			ph, bad[line] = "11 9876-ABCD", "phone_invalid"
		case 90:
			fmt.Fprintf(&b, "%s,%s\n", ph, nome)
			bad[line] = "row_malformed"
			continue
		}
		if i == n/2 {
			ph = openPhone // this contact already has an open conversation
		}
		if _, isBad := bad[line]; !isBad {
			valid[line] = ph
		}
		fmt.Fprintf(&b, "%s,%s,%s\n", ph, nome, atendente)
	}
	path = filepath.Join(t.TempDir(), "clientes.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path, bad, valid
}

func uuidOf(s string) uuid.UUID { return uuid.MustParse(s) }

// settled returns the count once the starts a killed or cancelled client left in flight have
// been served to their end, which is when the server has closed every connection opened before:
// a request already sent on one is read and answered before the server sees its end. The
// killed process's connections are closed by the kernel; the in-process client's idle ones
// (http.DefaultTransport) are closed here, as its in-flight ones were when it was cancelled. A
// connection still in the listen queue is accepted before a probe connection dialled now.
func settled(t *testing.T, s *starts) int64 {
	t.Helper()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	probe, err := net.Dial("tcp", s.conns.Addr().String())
	require.NoError(t, err)
	defer probe.Close()
	me := probe.LocalAddr().String()
	require.Eventually(t, func() bool { return slices.Contains(s.conns.openConns(), me) }, 30*time.Second, 10*time.Millisecond,
		"the probe connection was not accepted")
	require.Eventually(t, func() bool { return slices.Equal(s.conns.openConns(), []string{me}) }, 30*time.Second, 10*time.Millisecond,
		"connections still open: %v", s.conns.openConns())
	return s.created.Load()
}

func readResult(t *testing.T, path string) map[int][]string {
	t.Helper()
	return readResultColumns(t, path, "conversation_id")
}

// readResultColumns reads a result CSV whose id column is idColumn, by line.
func readResultColumns(t *testing.T, path, idColumn string) map[int][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"line", "phone", "status", idColumn, "code"}, recs[0])
	out := map[int][]string{}
	for _, r := range recs[1:] {
		line, err := strconv.Atoi(r[0])
		require.NoError(t, err)
		out[line] = r
	}
	return out
}

// TestStartCSVInterruptedAndRerun starts 2,000 rows (with bad ones), interrupts the command
// twice (a cancelled context in-process, then SIGKILL of a subprocess) and re-runs it: every
// valid row is started exactly once and every bad row is reported with its line.
func TestStartCSVInterruptedAndRerun(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		t.Cleanup(func() {
			if t.Failed() {
				for _, l := range strings.Split(env.Logs.String(), "\n") {
					if strings.Contains(l, `"level":"ERROR"`) {
						t.Log(l)
					}
				}
			}
		})
		counter, url := serveCounting(t, env)
		c, err := atendimento.New(url, env.Demo.APIKey)
		require.NoError(t, err)
		const openPhone = "(11) 93333-0000"
		first, err := c.StartConversation(ctx, nil, atendimento.StartRequest{
			Contact:    &atendimento.ContactRequest{Phone: atendimento.Ptr(openPhone), Name: atendimento.Ptr("Já Aberto")},
			ChannelId:  atendimento.Ptr(uuidOf(env.Demo.ChannelID)),
			TeamId:     atendimento.Ptr(uuidOf(env.Demo.TeamIDs[0])),
			SendType:   atendimento.Ptr(atendimento.StartRequestSendType("now")),
			TemplateId: atendimento.Ptr(uuidOf(env.Demo.TemplateIDs["boas_vindas"])),
			Parameters: map[string]string{"nome": "Já", "atendente": "Ana"},
		})
		require.NoError(t, err)
		counter.created.Store(0)

		const rows = 2000
		file, bad, valid := bulkFile(t, rows, openPhone)
		out := filepath.Join(t.TempDir(), "result.csv")
		args := []string{"start", "--csv", file, "--channel", env.Demo.ChannelID, "--team", "Vendas",
			"--template", "boas_vindas", "--out", out, "--url", url, "--api-key", env.Demo.APIKey}
		checkBadRows := func(t *testing.T, stdout string) {
			t.Helper()
			for line, code := range bad {
				require.Contains(t, stdout, fmt.Sprintf("line %d: %s: ", line, code))
			}
			require.Contains(t, stdout, fmt.Sprintf("%d rows, %d valid, %d invalid", rows, len(valid), len(bad)))
		}

		// 1. In-process, cancelled (as Ctrl-C does) after 300 conversations were created.
		cctx, cancel := context.WithCancel(ctx)
		counter.hook(func(n int64) {
			if n == 300 {
				cancel()
			}
		})
		var stdout bytes.Buffer
		err = startCSV(cctx, args[1:], func(string) string { return "" }, &stdout)
		cancel()
		require.ErrorContains(t, err, "interrupted")
		checkBadRows(t, stdout.String())
		require.Contains(t, stdout.String(), "not sent: ")
		afterCancel := settled(t, counter)
		require.GreaterOrEqual(t, afterCancel, int64(300))
		require.Less(t, afterCancel, int64(len(valid)-1))
		res := readResult(t, out)
		notSent := 0
		for _, r := range res {
			if r[2] == "not_sent" {
				notSent++
			}
		}
		require.Positive(t, notSent)

		// 2. The real binary, killed with SIGKILL once 500 more were created.
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "ATENDIMENTO_TEST_MAIN=1")
		var subOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &subOut, &subOut
		var once sync.Once
		counter.hook(func(n int64) {
			if n >= afterCancel+500 {
				once.Do(func() { _ = cmd.Process.Kill() })
			}
		})
		require.NoError(t, cmd.Start())
		err = cmd.Wait()
		require.Error(t, err, "killed: %s", subOut.String())
		require.Contains(t, err.Error(), "killed")
		checkBadRows(t, subOut.String())
		afterKill := settled(t, counter)
		require.GreaterOrEqual(t, afterKill, afterCancel+500)
		require.Less(t, afterKill, int64(len(valid)-1))
		counter.hook(nil)

		// 3. Re-run to the end: the rest is started, nothing twice. (A start cut off by the kill
		// may have been committed without its 201 reaching anyone: the API, not the counter, says
		// how many conversations exist.)
		before := len(conversationsByPhone(t, c, env.Demo.ChannelID)) - 1 // less the one opened above
		require.GreaterOrEqual(t, before, int(afterKill))
		stdout.Reset()
		err = startCSV(ctx, args[1:], func(string) string { return "" }, &stdout)
		require.ErrorContains(t, err, fmt.Sprintf("%d rows were not started", len(bad)), stdout.String())
		checkBadRows(t, stdout.String())
		require.Contains(t, stdout.String(), fmt.Sprintf("started: %d (%d of them by an earlier run of this file)", len(valid)-1, before))
		require.Contains(t, stdout.String(), "already open: 1\nfailed: 0\n")
		require.Contains(t, stdout.String(), "progress: ")
		require.NotContains(t, stdout.String(), "not sent")

		res = readResult(t, out)
		require.Len(t, res, rows)
		for line, code := range bad {
			require.Equal(t, "invalid", res[line][2], "line %d", line)
			require.Equal(t, code, res[line][4], "line %d", line)
		}
		ids := map[string]bool{}
		for line := range valid {
			r := res[line]
			require.NotEmpty(t, r[3], "line %d has a conversation", line)
			ids[r[3]] = true
			if r[1] == openPhone {
				require.Equal(t, []string{"already_open", first.Id.String(), "conversation_already_open"}, r[2:])
			} else {
				require.Equal(t, "started", r[2], "line %d", line)
			}
		}
		require.Len(t, ids, len(valid))

		// The API agrees: one conversation per valid phone, no more.
		perContact := conversationsByPhone(t, c, env.Demo.ChannelID)
		require.LessOrEqual(t, counter.created.Load(), int64(len(valid)-1))
		require.Len(t, perContact, len(valid))
		for ph, n := range perContact {
			require.Equal(t, 1, n, ph)
		}
	})
}

// conversationsByPhone counts the channel's conversations by contact phone.
func conversationsByPhone(t *testing.T, c *atendimento.Client, channelID string) map[string]int {
	t.Helper()
	out := map[string]int{}
	var cursor *string
	for {
		page, err := c.ListConversations(context.Background(), &atendimento.ListConversationsParams{ChannelId: &channelID, Limit: atendimento.Ptr(200), Cursor: cursor})
		require.NoError(t, err)
		for _, conv := range *page.Items {
			out[*conv.Contact.Phone]++
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

// TestStartCSVChecks covers the checks made before anything is sent, a positional template and
// a scheduled start.
func TestStartCSVChecks(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		counter, url := serveCounting(t, env)
		dir := t.TempDir()
		write := func(name, content string) string {
			p := filepath.Join(dir, name)
			require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
			return p
		}
		run := func(file, template string, extra ...string) (string, error) {
			var out bytes.Buffer
			env := map[string]string{"ATENDIMENTO_URL": url, "ATENDIMENTO_API_KEY": env.Demo.APIKey}
			args := append([]string{"--csv", file, "--channel", "WhatsApp Loja Demo (sandbox)", "--team", "Vendas", "--template", template}, extra...)
			err := startCSV(ctx, args, func(k string) string { return env[k] }, &out)
			return out.String(), err
		}

		// --dry-run reports every bad row and sends nothing.
		named := write("named.csv", "\ufefftelefone;nome;atendente\n11 91111-0001;Maria;Ana\n123;Pedro;Ana\n11 91111-0003;;Ana\n")
		out, err := run(named, "boas_vindas", "--dry-run")
		require.ErrorContains(t, err, "2 invalid rows")
		require.Contains(t, out, "line 3: phone_invalid: ")
		require.Contains(t, out, "line 4: parameter_missing: ")
		require.Zero(t, counter.created.Load())

		// A clean file passes the dry run, and nothing is sent.
		clean := write("clean.csv", "phone,name,1,2,3\n11 91111-1001,Maria,Maria,tênis,20%\n21 99111-1002,,Pedro,boné,10%\n")
		out, err = run(clean, "oferta_semana", "--dry-run")
		require.NoError(t, err, out)
		require.Contains(t, out, "2 rows, 2 valid, 0 invalid")
		require.Zero(t, counter.created.Load())

		// Positional templates take columns "1", "2"…; scheduled starts wait for their time.
		at := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
		out, err = run(clean, "oferta_semana", "--send-type", "scheduled", "--scheduled-at", at, "--out", filepath.Join(dir, "r.csv"))
		require.NoError(t, err, out)
		require.Contains(t, out, "started: 2\n")
		require.EqualValues(t, 2, counter.created.Load())
		res := readResult(t, filepath.Join(dir, "r.csv"))
		c, err := atendimento.New(url, env.Demo.APIKey)
		require.NoError(t, err)
		conv, err := c.GetConversation(ctx, res[2][3])
		require.NoError(t, err)
		require.Equal(t, atendimento.ConversationStatus("scheduled"), *conv.Status)

		// A POSITIONAL template with a header variable and a URL button takes the columns
		// "header.1", "1", "2" and "button.0"; a file missing one is refused before anything is sent,
		// and a header value over 60 characters is a bad row.
		before := counter.created.Load()
		noHeader := write("protocolo-sem-cabecalho.csv", "phone,1,2,button.0\n11 91111-4001,Maria,troca,2024-1\n")
		_, err = run(noHeader, "protocolo_atendimento", "--dry-run")
		require.ErrorContains(t, err, "missing: header.1")
		longHeader := write("protocolo-longo.csv", "phone,header.1,1,2,button.0\n11 91111-4001,"+strings.Repeat("9", 61)+",Maria,troca,2024-1\n")
		out, err = run(longHeader, "protocolo_atendimento", "--dry-run")
		require.ErrorContains(t, err, "1 invalid rows", out)
		require.Contains(t, out, "line 2: parameter_invalid: ")
		protocolo := write("protocolo.csv", "phone,header.1,1,2,button.0\n11 91111-4001,2024-1,Maria,troca,2024-1\n")
		out, err = run(protocolo, "protocolo_atendimento", "--out", filepath.Join(dir, "protocolo.result.csv"))
		require.NoError(t, err, out)
		require.EqualValues(t, before+1, counter.created.Load())
		res = readResult(t, filepath.Join(dir, "protocolo.result.csv"))
		msgs, err := c.ListMessages(ctx, res[2][3], nil)
		require.NoError(t, err)
		require.Len(t, *msgs.Items, 1)
		require.Contains(t, str((*msgs.Items)[0].RenderedText), "Protocolo 2024-1\n\nOlá Maria, registramos o seu atendimento sobre troca.")

		// A row the API refuses is printed with the problem, and the command fails.
		counter.mu.Lock()
		counter.refuse = "11 91111-3002"
		counter.mu.Unlock()
		refused := write("refused.csv", "phone,nome,atendente\n11 91111-3001,Maria,Ana\n11 91111-3002,Pedro,Ana\n")
		out, err = run(refused, "boas_vindas", "--out", filepath.Join(dir, "refused.result.csv"))
		require.ErrorContains(t, err, "1 rows were not started")
		require.Contains(t, out, "line 3: failed: atendimento: 422 validation_failed: the request has invalid fields (contact.phone: phone_invalid)\n")
		require.Contains(t, out, "started: 1\nalready open: 0\nfailed: 1 (phone_invalid 1)\n")
		require.Equal(t, []string{"3", "11 91111-3002", "failed", "", "phone_invalid"}, readResult(t, filepath.Join(dir, "refused.result.csv"))[3])
		counter.mu.Lock()
		counter.refuse = ""
		counter.mu.Unlock()

		// A contact who opted out of marketing is refused on its row (contact_opted_out); the others start.
		r := env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Sem ofertas", "phone": "11 91111-4002"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		r = env.Admin.Post("/api/v1/contacts/"+r.Str("id")+"/consent", map[string]any{"opted_out": true})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		optedOut := write("optout.csv", "phone,nome,atendente\n11 91111-4001,Maria,Ana\n11 91111-4002,Pedro,Ana\n")
		out, err = run(optedOut, "boas_vindas", "--out", filepath.Join(dir, "optout.result.csv"))
		require.ErrorContains(t, err, "1 rows were not started")
		require.Contains(t, out, "failed: 1 (contact_opted_out 1)\n")
		require.Equal(t, []string{"3", "11 91111-4002", "failed", "", "contact_opted_out"}, readResult(t, filepath.Join(dir, "optout.result.csv"))[3])

		// Problems of the command line, the header or the template stop before any row.
		for _, tc := range []struct {
			name, file, template string
			extra                []string
			want                 string
		}{
			{"missing column", write("nocol.csv", "phone,nome\n11 91111-2001,Maria\n"), "boas_vindas", nil, "missing: atendente"},
			{"no phone column", write("nophone.csv", "fone,nome,atendente\n11 91111-2001,Maria,Ana\n"), "boas_vindas", nil, "no phone column"},
			{"template not approved", named, "pesquisa_satisfacao", nil, "not APPROVED"},
			{"unknown template", named, "nao_existe", nil, `template "nao_existe": not found`},
			{"past schedule", named, "boas_vindas", []string{"--send-type", "scheduled", "--scheduled-at", "2020-01-01T00:00:00Z"}, "in the past"},
		} {
			out, err := run(tc.file, tc.template, tc.extra...)
			require.ErrorContains(t, err, tc.want, tc.name+": "+out)
		}
		require.EqualValues(t, 4, counter.created.Load())
	})
}

// mediaCalls wraps the server: it counts uploads (POST /api/v1/media) and keeps the
// header_media of every start.
type mediaCalls struct {
	next    http.Handler
	mu      sync.Mutex
	uploads int
	headers []string
}

func (m *mediaCalls) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		switch r.URL.Path {
		case "/api/v1/media":
			m.mu.Lock()
			m.uploads++
			m.mu.Unlock()
		case "/api/v1/conversations":
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var start struct {
				HeaderMedia json.RawMessage `json:"header_media"`
			}
			_ = json.Unmarshal(body, &start)
			m.mu.Lock()
			m.headers = append(m.headers, string(start.HeaderMedia))
			m.mu.Unlock()
		}
	}
	m.next.ServeHTTP(w, r)
}

func TestStartCSVHeaderMedia(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		calls := &mediaCalls{next: env.App.Handler}
		srv := httptest.NewServer(calls)
		t.Cleanup(srv.Close)
		r := env.Admin.Post("/api/v1/templates", map[string]any{"channel_id": env.Demo.ChannelID, "name": "promo_foto", "language": "pt_BR",
			"category": "MARKETING", "status": "APPROVED", "parameter_format": "NAMED",
			"components": []map[string]any{{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Olá {{nome}}, veja a oferta."}}})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		dir := t.TempDir()
		run := func(file, template string, extra ...string) (string, error) {
			var out bytes.Buffer
			vars := map[string]string{"ATENDIMENTO_URL": srv.URL, "ATENDIMENTO_API_KEY": env.Demo.APIKey}
			args := append([]string{"--csv", file, "--channel", "WhatsApp Loja Demo (sandbox)", "--team", "Vendas", "--template", template}, extra...)
			err := startCSV(ctx, args, func(k string) string { return vars[k] }, &out)
			return out.String(), err
		}

		// Every bad header_media is a bad row: empty, a plain http link, a file that is not there.
		out, err := run("testdata/header-media/ofertas-ruins.csv", "promo_foto", "--dry-run")
		require.ErrorContains(t, err, "3 invalid rows", out)
		require.Contains(t, out, "line 2: header_media_missing: ")
		require.Contains(t, out, "line 3: header_media_invalid: ")
		require.Contains(t, out, `line 4: header_media_not_found: header_media "nao-existe.png": no such file`)
		require.Zero(t, calls.uploads, "a dry run uploads nothing")

		// The column is required by a media header, and refused without one.
		extra := filepath.Join(dir, "coluna-a-mais.csv")
		require.NoError(t, os.WriteFile(extra, []byte("phone,nome,atendente,header_media\n11 91111-5001,Maria,Ana,https://cdn.example.com/a.jpg\n"), 0o644))
		_, err = run(extra, "boas_vindas", "--dry-run")
		require.ErrorContains(t, err, "has no image, video or document header: remove the header_media column")
		noColumn := filepath.Join(dir, "sem-coluna.csv")
		require.NoError(t, os.WriteFile(noColumn, []byte("phone,nome\n11 91111-5001,Maria\n"), 0o644))
		_, err = run(noColumn, "promo_foto", "--dry-run")
		require.ErrorContains(t, err, "has a header with a file (image): add a header_media column")

		// A local file (beside the CSV) is uploaded once and sent by id; a link goes as a link.
		result := filepath.Join(dir, "ofertas.result.csv")
		out, err = run("testdata/header-media/ofertas.csv", "promo_foto", "--out", result)
		require.NoError(t, err, out)
		require.Contains(t, out, "started: 3\n")
		require.Equal(t, 1, calls.uploads, "oferta.png is on two rows, uploaded once")
		png, err := os.ReadFile("testdata/header-media/oferta.png")
		require.NoError(t, err)
		res := readResult(t, result)
		var ids []string
		for _, line := range []int{2, 3, 4} {
			require.Equal(t, "started", res[line][2], "line %d", line)
			conv := env.Admin.Get("/api/v1/conversations/" + res[line][3])
			require.Equal(t, http.StatusOK, conv.Status)
		}
		for _, h := range calls.headers {
			var hm struct{ MediaID, Link string }
			require.NoError(t, json.Unmarshal([]byte(h), &struct {
				MediaID *string `json:"media_id"`
				Link    *string `json:"link"`
			}{&hm.MediaID, &hm.Link}))
			if hm.Link != "" {
				require.Equal(t, "https://cdn.example.com/oferta.jpg", hm.Link)
				continue
			}
			ids = append(ids, hm.MediaID)
		}
		require.Len(t, ids, 2)
		require.Equal(t, ids[0], ids[1])
		m := env.Admin.Get("/api/v1/media/" + ids[0])
		require.Equal(t, http.StatusOK, m.Status)
		require.Equal(t, png, m.Body)

		// A re-run uploads the file again, gets the same media (content-addressed), so every
		// row's start is the same request: replayed, nobody is started twice.
		out, err = run("testdata/header-media/ofertas.csv", "promo_foto", "--out", result)
		require.NoError(t, err, out)
		require.Contains(t, out, "started: 3 (3 of them by an earlier run of this file)\n")
		require.Equal(t, 2, calls.uploads)
		for _, h := range calls.headers[3:] {
			require.Contains(t, []string{`{"media_id":"` + ids[0] + `"}`, `{"link":"https://cdn.example.com/oferta.jpg"}`}, h)
		}
		again := readResult(t, result)
		for _, line := range []int{2, 3, 4} {
			require.Equal(t, res[line][3], again[line][3], "line %d: the same conversation", line)
		}
	})
}
