package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/atendimento/atendimento/internal/phone"
	"github.com/atendimento/atendimento/internal/template"
	"github.com/atendimento/atendimento/pkg/atendimento"
)

const startUsage = `usage: atendimento start --csv FILE --channel ID|NAME --team ID|NAME --template ID|NAME [flags]

Starts one conversation per row of FILE through the API (ATENDIMENTO_URL, ATENDIMENTO_API_KEY).
Each row is a contact (phone, name) and the template's parameters, one column per variable key
("nome", "atendente" for a NAMED template; "1", "2" for a POSITIONAL one's body and "header.1"
for its header; "button.0" for the suffix of the URL button at position 0). A template with an
IMAGE, VIDEO or DOCUMENT header takes a header_media column: an https link, or a local file
(relative to FILE's folder) uploaded first through POST /api/v1/media, once per file. The whole
file is validated first and every bad row is printed with its line; then the valid rows are started.
Each row's Idempotency-Key is made of the file's hash and the row's line, so re-running the same
file after a crash or Ctrl-C neither duplicates nor skips anyone (the server keeps keys 24 h; after
that, a contact whose conversation is still open counts as already open).`

// csvStatus is what happened to a row; it is the status column of the result CSV.
const (
	rowInvalid     = "invalid"      // not sent: the row failed validation
	rowStarted     = "started"      // the conversation was started (by this run or an earlier one of the same file)
	rowAlreadyOpen = "already_open" // the contact already had an open conversation on the channel
	rowFailed      = "failed"       // the API refused the start; code says why
	rowNotSent     = "not_sent"     // interrupted before this row was sent
)

// csvRow is one data row of the file and, once sent, its outcome.
type csvRow struct {
	line   int // the file line the record starts on (the header is line 1)
	phone  string
	name   string
	params map[string]string
	// headerMedia is the header_media value: an https link, or a file's path (mediaPath, made
	// absolute) to upload.
	headerMedia, mediaPath string

	status, code, message string
	// id is what the row made: the conversation (start), the contact (consent).
	id      string
	earlier bool // started by an earlier run (the server replayed the first answer)
	// consent is the fact of a row of a consent file (atendimento consent).
	consent *consentFact
}

// startCSVOptions are the command's flags and what resolve found for them.
type startCSVOptions struct {
	url, apiKey, file, out                string
	channel, team, template               string
	sendType, scheduledAt                 string
	phoneColumn, nameColumn               string
	concurrency                           int
	dryRun                                bool
	progressEvery                         time.Duration
	terminal                              func(io.Writer) bool
	scheduled                             *time.Time
	channelID, teamID, templateID, region string
	// mediaHeader is the kind of file the template's header takes ("image", "video",
	// "document"), "" for none; uploads are the files uploaded so far, by path.
	mediaHeader string
	uploads     *uploads
}

// uploads uploads each header_media file once per run, whichever row asks first.
type uploads struct {
	mu    sync.Mutex
	files map[string]*upload
}

type upload struct {
	once sync.Once
	id   uuid.UUID
	err  error
}

// id returns the media id of the file at path, uploading it the first time. The server is
// content-addressed: a re-run uploads the same bytes and gets the same id, so each row's start
// has the same body as before, and its idempotency key replays it.
func (u *uploads) id(ctx context.Context, c *atendimento.Client, path string) (uuid.UUID, error) {
	u.mu.Lock()
	if u.files == nil {
		u.files = map[string]*upload{}
	}
	f := u.files[path]
	if f == nil {
		f = &upload{}
		u.files[path] = f
	}
	u.mu.Unlock()
	f.once.Do(func() {
		file, err := os.Open(path)
		if err != nil {
			f.err = err
			return
		}
		defer file.Close()
		m, err := c.UploadMedia(ctx, filepath.Base(path), file)
		if err != nil {
			f.err = err
			return
		}
		f.id = *m.Id
	})
	return f.id, f.err
}

// startCSV runs `atendimento start --csv FILE`: it talks only to the API, never to the database.
func startCSV(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	o := startCSVOptions{terminal: isTerminal, progressEvery: 10 * time.Second, region: "BR", uploads: &uploads{}}
	fs := apiFlagSet("start", startUsage, "one contact per line", stdout, getenv, &o.file, &o.url, &o.apiKey)
	fs.StringVar(&o.channel, "channel", "", "the channel to send from: id or name")
	fs.StringVar(&o.team, "team", "", "the team that owns the conversations: id or name")
	fs.StringVar(&o.template, "template", "", "the APPROVED template to open with: id or name")
	fs.StringVar(&o.sendType, "send-type", "now", "now, or scheduled (with --scheduled-at)")
	fs.StringVar(&o.scheduledAt, "scheduled-at", "", "when scheduled starts go out (RFC 3339, e.g. 2026-05-04T09:00:00-03:00)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "starts in flight at once")
	fs.BoolVar(&o.dryRun, "dry-run", false, "validate the file and stop")
	fs.StringVar(&o.out, "out", "", "the result CSV: line, phone, status, conversation_id, code (default FILE.result.csv)")
	fs.StringVar(&o.phoneColumn, "phone-column", "", "the phone column (default: phone, telefone, celular or whatsapp)")
	fs.StringVar(&o.nameColumn, "name-column", "", "the name column (default: name or nome; none is fine)")
	if help, err := parseAPIFlags(fs, args, getenv, &o.apiKey); help || err != nil {
		return err
	}
	return runStartCSV(ctx, o, stdout)
}

func runStartCSV(ctx context.Context, o startCSVOptions, stdout io.Writer) error {
	if err := o.check(); err != nil {
		return err
	}
	data, err := readInput(o.file, &o.out)
	if err != nil {
		return err
	}
	c, err := atendimento.New(o.url, o.apiKey, atendimento.WithHeader("User-Agent", "atendimento-start-csv"))
	if err != nil {
		return err
	}
	def, vars, err := o.resolve(ctx, c)
	if err != nil {
		return err
	}

	rows, err := readRows(data, o, def, vars)
	if err != nil {
		return err
	}
	if err := reportInvalid(stdout, o.file, rows); o.dryRun {
		return err
	}

	sum := sha256.Sum256(data)
	keyPrefix := "csv-" + hex.EncodeToString(sum[:12]) + "-"
	sendErr := o.send(ctx, c, rows, keyPrefix, stdout)

	if err := writeResult(o.out, "conversation_id", rows); err != nil {
		return err
	}
	printFailures(stdout, rows, 20)
	failed := summarize(stdout, rows)
	fmt.Fprintf(stdout, "result: %s\n", o.out)
	switch {
	case sendErr != nil:
		return fmt.Errorf("interrupted (%w): re-run the same command to start the rest; rows already started are not started again", sendErr)
	case failed > 0:
		return fmt.Errorf("%d rows were not started: see %s", failed, o.out)
	}
	return nil
}

func (o *startCSVOptions) check() error {
	if err := missingFlags("start", o.file, o.url, o.apiKey, "--channel", o.channel, "--team", o.team, "--template", o.template); err != nil {
		return err
	}
	if o.concurrency < 1 || o.concurrency > 256 {
		return errors.New("--concurrency must be between 1 and 256")
	}
	switch o.sendType {
	case "now":
		if o.scheduledAt != "" {
			return errors.New("--scheduled-at needs --send-type scheduled")
		}
	case "scheduled":
		t, err := time.Parse(time.RFC3339, o.scheduledAt)
		if err != nil {
			return fmt.Errorf("--send-type scheduled needs --scheduled-at in RFC 3339 (2026-05-04T09:00:00-03:00): %v", err)
		}
		if !t.After(time.Now()) {
			return fmt.Errorf("--scheduled-at %s is in the past", o.scheduledAt)
		}
		o.scheduled = &t
	default:
		return fmt.Errorf("--send-type must be now or scheduled, not %q", o.sendType)
	}
	return nil
}

// apiFlagSet is the flag set of a command that reads a CSV file (a header line, then what each
// line is) and talks to the API: --csv, --url (default $ATENDIMENTO_URL) and --api-key.
func apiFlagSet(name, usage, each string, stdout io.Writer, getenv func(string) string, file, url, apiKey *string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() { fmt.Fprintln(stdout, usage+"\n\nflags:"); fs.PrintDefaults() }
	fs.StringVar(file, "csv", "", "the CSV file: a header line, then "+each)
	fs.StringVar(url, "url", getenv("ATENDIMENTO_URL"), "the server's base URL (default $ATENDIMENTO_URL)")
	fs.StringVar(apiKey, "api-key", "", "an API key (default $ATENDIMENTO_API_KEY)")
	return fs
}

// parseAPIFlags parses the flags of a command that talks to the API; the API key defaults to
// $ATENDIMENTO_API_KEY (not shown by -h). help is true when -h was asked for (and answered).
func parseAPIFlags(fs *flag.FlagSet, args []string, getenv func(string) string, apiKey *string) (help bool, err error) {
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return true, nil
	} else if err != nil {
		return false, err
	}
	if *apiKey == "" {
		*apiKey = getenv("ATENDIMENTO_API_KEY")
	}
	return false, nil
}

// missingFlags names the required flags left empty: --csv, --url and --api-key, then the
// command's own as name, value pairs.
func missingFlags(cmd, file, url, apiKey string, more ...string) error {
	flags := append([]string{"--csv", file, "--url (or ATENDIMENTO_URL)", url, "--api-key (or ATENDIMENTO_API_KEY)", apiKey}, more...)
	var missing []string
	for i := 0; i+1 < len(flags); i += 2 {
		if flags[i+1] == "" {
			missing = append(missing, flags[i])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s (see atendimento %s -h)", strings.Join(missing, ", "), cmd)
	}
	return nil
}

// readInput reads the CSV file and defaults the result's path (out) to FILE.result.csv.
func readInput(file string, out *string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if *out == "" {
		*out = strings.TrimSuffix(file, filepath.Ext(file)) + ".result.csv"
	}
	if filepath.Clean(*out) == filepath.Clean(file) {
		return nil, errors.New("--out must not be the input file")
	}
	return data, nil
}

// reportInvalid prints every invalid row with its line and the counts; with invalid rows, the
// error a dry run ends with.
func reportInvalid(w io.Writer, file string, rows []*csvRow) error {
	bad := 0
	for _, r := range rows {
		if r.status == rowInvalid {
			bad++
			fmt.Fprintf(w, "line %d: %s: %s\n", r.line, r.code, r.message)
		}
	}
	fmt.Fprintf(w, "%s: %d rows, %d valid, %d invalid\n", file, len(rows), len(rows)-bad, bad)
	if bad > 0 {
		return fmt.Errorf("%d invalid rows in %s", bad, file)
	}
	return nil
}

// resolve finds the channel, team and template (by id or name) and checks that they fit
// together, so that a file is never half sent for a reason that is not the rows'.
func (o *startCSVOptions) resolve(ctx context.Context, c *atendimento.Client) (*template.Definition, []string, error) {
	ch, err := findByIDOrName(ctx, o.channel, c.GetChannel, func(cursor *string) ([]atendimento.Channel, *string, error) {
		l, err := c.ListChannels(ctx, &atendimento.ListChannelsParams{Limit: atendimento.Ptr(200), Cursor: cursor})
		if err != nil {
			return nil, nil, err
		}
		return deref(l.Items), l.NextCursor, nil
	}, func(x atendimento.Channel) string { return str(x.Name) })
	if err != nil {
		return nil, nil, fmt.Errorf("channel %q: %w", o.channel, err)
	}
	if ch.Active != nil && !*ch.Active {
		return nil, nil, fmt.Errorf("channel %q is inactive (channel_inactive)", str(ch.Name))
	}
	o.channelID = ch.Id.String()

	tm, err := findByIDOrName(ctx, o.team, c.GetTeam, func(cursor *string) ([]atendimento.Team, *string, error) {
		l, err := c.ListTeams(ctx, &atendimento.ListTeamsParams{Limit: atendimento.Ptr(200), Cursor: cursor})
		if err != nil {
			return nil, nil, err
		}
		return deref(l.Items), l.NextCursor, nil
	}, func(x atendimento.Team) string { return str(x.Name) })
	if err != nil {
		return nil, nil, fmt.Errorf("team %q: %w", o.team, err)
	}
	if !slices.Contains(deref(tm.ChannelIds), o.channelID) {
		return nil, nil, fmt.Errorf("team %q may not use channel %q (team_not_allowed_on_channel)", str(tm.Name), str(ch.Name))
	}
	o.teamID = tm.Id.String()

	tpl, err := findByIDOrName(ctx, o.template, c.GetTemplate, func(cursor *string) ([]atendimento.Template, *string, error) {
		l, err := c.ListTemplates(ctx, &atendimento.ListTemplatesParams{ChannelId: &o.channelID, Q: &o.template, Limit: atendimento.Ptr(200), Cursor: cursor})
		if err != nil {
			return nil, nil, err
		}
		return deref(l.Items), l.NextCursor, nil
	}, func(x atendimento.Template) string { return str(x.Name) })
	if err != nil {
		return nil, nil, fmt.Errorf("template %q: %w", o.template, err)
	}
	if tpl.ChannelId == nil || tpl.ChannelId.String() != o.channelID {
		return nil, nil, fmt.Errorf("template %q belongs to another channel (template_channel_mismatch)", str(tpl.Name))
	}
	if s := str(tpl.Status); s != "APPROVED" {
		return nil, nil, fmt.Errorf("template %q is %s, not APPROVED (template_not_approved)", str(tpl.Name), s)
	}
	o.templateID = tpl.Id.String()

	// The rows are checked with the server's own rules (internal/template) when the components
	// parse; otherwise only for missing values, and the server has the last word.
	vars := deref(tpl.Variables)
	var def *template.Definition
	if raw, err := json.Marshal(deref(tpl.Components)); err == nil {
		if comps, err := template.ParseComponents(raw); err == nil {
			def = &template.Definition{Name: str(tpl.Name), ParameterFormat: template.ParameterFormat(deref(tpl.ParameterFormat)), Components: comps}
			o.mediaHeader = def.MediaHeader()
		}
	}
	return def, vars, nil
}

// readRows reads the whole file and validates every row: its phone, its parameters against the
// template, and that no phone appears twice. A bad header is an error; a bad row is marked
// invalid with its line, code and message.
func readRows(data []byte, o startCSVOptions, def *template.Definition, vars []string) ([]*csvRow, error) {
	f, err := openCSV(o.file, data)
	if err != nil {
		return nil, err
	}
	header, col := f.header, f.col
	find := func(flagValue string, defaults ...string) (int, string) {
		if flagValue != "" {
			i, ok := col[flagValue]
			if !ok {
				return -1, flagValue
			}
			return i, flagValue
		}
		return f.column(defaults...)
	}
	phoneCol, phoneName := find(o.phoneColumn, "phone", "telefone", "celular", "whatsapp")
	if phoneCol < 0 {
		return nil, fmt.Errorf("%s: no phone column %q (columns: %s); name it with --phone-column", o.file, phoneName, strings.Join(header, ", "))
	}
	nameCol, nameName := find(o.nameColumn, "name", "nome")
	if nameCol < 0 && o.nameColumn != "" {
		return nil, fmt.Errorf("%s: no name column %q (columns: %s)", o.file, nameName, strings.Join(header, ", "))
	}
	var missing []string
	for _, v := range vars {
		if _, ok := col[v]; !ok {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: the template %s needs a column for each of its variables %s; missing: %s",
			o.file, o.template, strings.Join(vars, ", "), strings.Join(missing, ", "))
	}
	mediaCol, _ := f.column("header_media")
	switch {
	case o.mediaHeader != "" && mediaCol < 0:
		return nil, fmt.Errorf("%s: the template %s has a header with a file (%s): add a header_media column, an https link or a file to upload on each row",
			o.file, o.template, o.mediaHeader)
	case o.mediaHeader == "" && mediaCol >= 0:
		return nil, fmt.Errorf("%s: the template %s has no image, video or document header: remove the header_media column", o.file, o.template)
	}
	base := filepath.Dir(o.file)

	seen := map[string]int{} // E.164 → the line it first appeared on
	return f.readAll(func(row *csvRow, rec []string) {
		row.phone = strings.TrimSpace(rec[phoneCol])
		if nameCol >= 0 {
			row.name = strings.TrimSpace(rec[nameCol])
		}
		row.params = make(map[string]string, len(vars))
		for _, v := range vars {
			row.params[v] = rec[col[v]]
		}
		var codes, msgs []string
		if fe := checkPhone(row, o.region, seen); fe != nil {
			codes, msgs = append(codes, fe.Code), append(msgs, fe.Message)
		}
		for _, fe := range checkParams(def, vars, row.params) {
			codes, msgs = append(codes, fe.Code), append(msgs, fe.Message)
		}
		if mediaCol >= 0 {
			if fe := checkHeaderMedia(row, strings.TrimSpace(rec[mediaCol]), base); fe != nil {
				codes, msgs = append(codes, fe.Code), append(msgs, fe.Message)
			}
		}
		if len(codes) > 0 {
			row.invalid(strings.Join(slices.Compact(codes), " "), strings.Join(msgs, "; "))
		}
	})
}

// csvFile is a CSV file as spreadsheets export it: maybe a BOM, ';' or ',' between fields.
type csvFile struct {
	name   string
	r      *csv.Reader
	header []string
	col    map[string]int // a header's trimmed text → its index
}

// openCSV reads the header of data (the file name).
func openCSV(name string, data []byte) (*csvFile, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // the BOM spreadsheets write
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.Comma = delimiter(data)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read the header: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	return &csvFile{name: name, r: r, header: header, col: col}, nil
}

// column finds the first of names among the header's columns, case ignored: its index and
// header text; -1 when there is none.
func (f *csvFile) column(names ...string) (int, string) {
	for _, d := range names {
		for h, i := range f.col {
			if strings.EqualFold(h, d) {
				return i, h
			}
		}
	}
	return -1, ""
}

// readAll reads the data rows, each marked with its line; check sees the fields of each row
// that parses and has as many as the header (the others are marked invalid, row_malformed).
func (f *csvFile) readAll(check func(row *csvRow, rec []string)) ([]*csvRow, error) {
	var rows []*csvRow
	for {
		rec, err := f.r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		line, _ := f.r.FieldPos(0)
		row := &csvRow{line: line}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			row.line = pe.StartLine
			row.invalid("row_malformed", pe.Err.Error())
		case err != nil:
			return nil, fmt.Errorf("%s: %w", f.name, err)
		case len(rec) != len(f.header):
			row.invalid("row_malformed", fmt.Sprintf("%d fields, the header has %d", len(rec), len(f.header)))
		default:
			check(row, rec)
		}
		rows = append(rows, row)
	}
}

// checkPhone checks the row's phone and that no earlier row has it (seen: E.164 → the line it
// first appeared on).
func checkPhone(row *csvRow, region string, seen map[string]int) *fieldError {
	num, err := phone.Parse(row.phone, region)
	if err != nil {
		return &fieldError{"phone_invalid", fmt.Sprintf("phone %q: %v", row.phone, err)}
	}
	if first, dup := seen[num.E164()]; dup {
		return &fieldError{"duplicate_phone", fmt.Sprintf("phone %s is also on line %d", num.E164(), first)}
	}
	seen[num.E164()] = row.line
	return nil
}

// checkHeaderMedia reads a row's header_media: an https link as it is, or a local file (relative
// to base, the CSV file's folder) that must exist; it is uploaded when the row is sent.
func checkHeaderMedia(row *csvRow, v, base string) *fieldError {
	row.headerMedia = v
	lower := strings.ToLower(v)
	switch {
	case v == "":
		return &fieldError{"header_media_missing", "header_media is empty: an https link, or a file to upload"}
	case strings.HasPrefix(lower, "https://"):
		return nil
	case strings.Contains(lower, "://"):
		return &fieldError{"header_media_invalid", fmt.Sprintf("header_media %q: a link must be https", v)}
	}
	p := v
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return &fieldError{"header_media_not_found", fmt.Sprintf("header_media %q: no such file", v)}
	}
	row.mediaPath = p
	return nil
}

// findByIDOrName gets a resource by id, or finds the one whose name is exactly ref.
func findByIDOrName[T any](ctx context.Context, ref string, get func(context.Context, string, ...atendimento.RequestEditorFn) (*T, error),
	list func(cursor *string) ([]T, *string, error), name func(T) string) (*T, error) {
	if _, err := uuid.Parse(ref); err == nil {
		x, err := get(ctx, ref)
		if p, ok := atendimento.AsProblem(err); ok && p.Status == http.StatusNotFound {
			return nil, errors.New("not found")
		}
		return x, err
	}
	var cursor *string
	for {
		items, next, err := list(cursor)
		if err != nil {
			return nil, err
		}
		for _, x := range items {
			if name(x) == ref {
				return &x, nil
			}
		}
		if next == nil || *next == "" {
			return nil, errors.New("not found")
		}
		cursor = next
	}
}

func (r *csvRow) invalid(code, msg string) { r.status, r.code, r.message = rowInvalid, code, msg }

// checkParams applies the template's rules to a row's values: missing (empty), too long, or a
// newline, tab or run of spaces WhatsApp rejects.
func checkParams(def *template.Definition, vars []string, params map[string]string) []fieldError {
	var out []fieldError
	named := map[string]string{}
	for _, v := range vars {
		if strings.TrimSpace(params[v]) == "" {
			out = append(out, fieldError{"parameter_missing", fmt.Sprintf("parameter %q is empty", v)})
			continue
		}
		named[v] = params[v]
	}
	if def == nil {
		return out
	}
	for _, fe := range def.Check(template.Params{Named: named}) {
		if fe.Code == template.CodeParameterMissing {
			continue // reported above, in the file's words
		}
		out = append(out, fieldError{fe.Code, fe.Message})
	}
	return out
}

type fieldError struct{ Code, Message string }

// delimiter guesses the separator from the header: spreadsheets in pt-BR export with ';'.
func delimiter(data []byte) rune {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		return ';'
	}
	return ','
}

// send starts the valid rows with bounded concurrency, each with an idempotency key made of the
// file's hash and the row's line: a re-run of the same file replays what was started instead of
// starting it again. It returns the context's error when interrupted.
func (o *startCSVOptions) send(ctx context.Context, c *atendimento.Client, rows []*csvRow, keyPrefix string, stdout io.Writer) error {
	return sendRows(ctx, rows, o.concurrency, newProgressFor(stdout, o.terminal, o.progressEvery), func(r *csvRow) bool {
		return o.startRow(ctx, c, r, keyPrefix)
	})
}

// sendRows runs do for the valid rows (marked not_sent first) with bounded concurrency, showing
// the progress; do reports false when the run was interrupted before the row's answer came. It
// returns the context's error when interrupted.
func sendRows(ctx context.Context, rows []*csvRow, concurrency int, newProg func(total int) *progress, do func(*csvRow) bool) error {
	var todo []*csvRow
	for _, r := range rows {
		if r.status != rowInvalid {
			r.status = rowNotSent
			todo = append(todo, r)
		}
	}
	prog := newProg(len(todo))
	jobs := make(chan *csvRow)
	var wg sync.WaitGroup
	for range min(concurrency, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				if do(r) {
					prog.add()
				}
			}
		}()
	}
	stop := prog.run()
feed:
	for _, r := range todo {
		select {
		case jobs <- r:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	stop()
	return ctx.Err()
}

// startRow sends one start and records its outcome; it reports false when the run was
// interrupted before the answer came (the row stays not_sent).
func (o *startCSVOptions) startRow(ctx context.Context, c *atendimento.Client, r *csvRow, keyPrefix string) bool {
	if ctx.Err() != nil {
		return false
	}
	body := atendimento.StartRequest{
		Contact:     &atendimento.ContactRequest{Phone: &r.phone},
		ChannelId:   atendimento.Ptr(uuid.MustParse(o.channelID)),
		TeamId:      atendimento.Ptr(uuid.MustParse(o.teamID)),
		SendType:    atendimento.Ptr(atendimento.StartRequestSendType(o.sendType)),
		ScheduledAt: o.scheduled,
		TemplateId:  atendimento.Ptr(uuid.MustParse(o.templateID)),
		Parameters:  r.params,
	}
	if r.name != "" {
		body.Contact.Name = &r.name
	}
	switch {
	case r.mediaPath != "":
		id, err := o.uploads.id(ctx, c, r.mediaPath)
		if err != nil && ctx.Err() != nil {
			return false
		}
		if p, ok := atendimento.AsProblem(err); ok {
			r.status, r.code, r.message = rowFailed, problemCode(p), "header_media "+r.headerMedia+": "+p.Error()
			return true
		}
		if err != nil {
			r.status, r.code, r.message = rowFailed, "header_media_upload_failed", "header_media "+r.headerMedia+": "+err.Error()
			return true
		}
		body.HeaderMedia = &atendimento.HeaderMedia{MediaId: &id}
	case r.headerMedia != "":
		body.HeaderMedia = &atendimento.HeaderMedia{Link: &r.headerMedia}
	}
	key := fmt.Sprintf("%sL%d", keyPrefix, r.line)
	rsp, err := c.Raw().StartConversationWithResponse(ctx, atendimento.IdempotencyKey(key), body)
	if err != nil && ctx.Err() != nil {
		return false
	}
	p, isProblem := atendimento.AsProblem(err)
	switch {
	case err == nil && rsp.JSON201 != nil:
		r.status, r.id = rowStarted, rsp.JSON201.Id.String()
		r.earlier = rsp.HTTPResponse.Header.Get("Idempotent-Replayed") == "true"
	case isProblem && p.Code == "conversation_already_open":
		r.status, r.id, r.code = rowAlreadyOpen, p.ExistingID, p.Code
	case isProblem:
		r.status, r.code, r.message = rowFailed, problemCode(p), p.Error()
	case err != nil:
		r.status, r.code, r.message = rowFailed, "request_failed", err.Error()
	default:
		r.status, r.code = rowFailed, fmt.Sprintf("http_%d", rsp.StatusCode())
	}
	return true
}

// problemCode is the most telling code of a problem: the fields' codes of a validation error.
func problemCode(p *atendimento.Problem) string {
	if len(p.Errors) == 0 {
		return p.Code
	}
	codes := make([]string, 0, len(p.Errors))
	for _, e := range p.Errors {
		codes = append(codes, e.Code)
	}
	slices.Sort(codes)
	return strings.Join(slices.Compact(codes), " ")
}

// writeResult writes the result CSV: line, phone, status, idColumn (the row's id), code.
func writeResult(path, idColumn string, rows []*csvRow) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"line", "phone", "status", idColumn, "code"})
	for _, r := range rows {
		_ = w.Write([]string{fmt.Sprint(r.line), r.phone, r.status, r.id, r.code})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the result: %w", err)
	}
	return os.Rename(tmp, path)
}

// printFailures prints the first max rows the API refused, with the problem it answered.
func printFailures(w io.Writer, rows []*csvRow, max int) {
	n := 0
	for _, r := range rows {
		if r.status != rowFailed {
			continue
		}
		if n++; n <= max {
			fmt.Fprintf(w, "line %d: failed: %s\n", r.line, r.message)
		}
	}
	if n > max {
		fmt.Fprintf(w, "… and %d more failed rows: see the result CSV\n", n-max)
	}
}

// summarize prints the counts by outcome (and failures by code) and returns how many rows were
// not started and had no open conversation.
func summarize(w io.Writer, rows []*csvRow) int {
	count := map[string]int{}
	codes := map[string]map[string]int{rowFailed: {}, rowInvalid: {}}
	earlier := 0
	for _, r := range rows {
		count[r.status]++
		if m, ok := codes[r.status]; ok {
			m[r.code]++
		}
		if r.earlier {
			earlier++
		}
	}
	byCode := func(status string) string {
		m := codes[status]
		if len(m) == 0 {
			return ""
		}
		var parts []string
		for _, c := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s %d", c, m[c]))
		}
		return " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(w, "started: %d", count[rowStarted])
	if earlier > 0 {
		fmt.Fprintf(w, " (%d of them by an earlier run of this file)", earlier)
	}
	fmt.Fprintf(w, "\nalready open: %d\nfailed: %d%s\ninvalid: %d%s\n", count[rowAlreadyOpen],
		count[rowFailed], byCode(rowFailed), count[rowInvalid], byCode(rowInvalid))
	if n := count[rowNotSent]; n > 0 {
		fmt.Fprintf(w, "not sent: %d\n", n)
	}
	return count[rowFailed] + count[rowInvalid] + count[rowNotSent]
}

// progress shows how many starts are done, the rate and the time left: a redrawn bar on a
// terminal, plain lines (every tenth of the work, or every `every`) otherwise.
type progress struct {
	w        io.Writer
	total    int
	terminal bool
	every    time.Duration
	done     atomic.Int64
	began    time.Time
}

func newProgress(w io.Writer, total int, terminal bool, every time.Duration) *progress {
	return &progress{w: w, total: total, terminal: terminal, every: every, began: time.Now()}
}

// newProgressFor is newProgress on w for a total not known yet.
func newProgressFor(w io.Writer, terminal func(io.Writer) bool, every time.Duration) func(total int) *progress {
	return func(total int) *progress { return newProgress(w, total, terminal(w), every) }
}

func (p *progress) add() { p.done.Add(1) }

func (p *progress) line() string {
	done := int(p.done.Load())
	el := time.Since(p.began)
	rate := float64(done) / max(el.Seconds(), 1e-9)
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(p.total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(done) / float64(p.total)
	}
	if p.terminal {
		const width = 30
		fill := int(pct / 100 * width)
		return fmt.Sprintf("\r[%s%s] %d/%d %5.1f%%  %.1f/s  ETA %s   ", strings.Repeat("#", fill), strings.Repeat(".", width-fill), done, p.total, pct, rate, eta)
	}
	return fmt.Sprintf("progress: %d/%d (%.0f%%) %.1f/s ETA %s\n", done, p.total, pct, rate, eta)
}

// run draws the progress until the returned stop is called, which draws the last state.
func (p *progress) run() (stop func()) {
	quit, finished := make(chan struct{}), make(chan struct{})
	tick := 200 * time.Millisecond
	go func() {
		defer close(finished)
		t := time.NewTicker(tick)
		defer t.Stop()
		lastStep, lastAt := 0, time.Now()
		for {
			select {
			case <-quit:
				fmt.Fprint(p.w, p.line())
				if p.terminal {
					fmt.Fprintln(p.w)
				}
				return
			case <-t.C:
				if p.terminal {
					fmt.Fprint(p.w, p.line())
					continue
				}
				step := 0
				if p.total > 0 {
					step = int(p.done.Load()) * 10 / p.total
				}
				if step > lastStep && step < 10 || time.Since(lastAt) >= p.every {
					lastStep, lastAt = step, time.Now()
					fmt.Fprint(p.w, p.line())
				}
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// isTerminal reports whether w is a character device (a terminal), where the bar is redrawn.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

func str[T ~string](p *T) string { return string(deref(p)) }
