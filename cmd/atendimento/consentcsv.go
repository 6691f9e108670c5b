package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/pkg/atendimento"
)

const consentUsage = `usage: atendimento consent --csv FILE [--dry-run] [--out result.csv]

Records each row of FILE as a contact's opt-out of (or opt-in to) marketing messages, through the
API (ATENDIMENTO_URL, ATENDIMENTO_API_KEY), with source csv in the contact's consent history.
Columns, by header (case ignored): phone (required), opted_out (required: sim/true/1/sair for an
opt-out, não/nao/false/0/voltar for an opt-in), detail, name (for a contact that does not exist
yet: it is created), at (when the contact chose: RFC 3339, or dd/mm/yyyy hh:mm in Brasília time;
default now). The whole file is validated first and every bad row is printed with its line. Each
row is recorded once: re-running the same file records nothing again.`

// The statuses of a consent row besides rowInvalid, rowFailed and rowNotSent.
const (
	rowRecorded        = "recorded"         // the fact was recorded by this run
	rowAlreadyRecorded = "already_recorded" // an earlier run of the same file recorded it
)

// consentFact is what a row of a consent file says.
type consentFact struct {
	optedOut bool
	detail   string
	at       *time.Time
	created  bool // the row's contact did not exist and was created
}

type consentCSVOptions struct {
	url, apiKey, file, out string
	concurrency            int
	dryRun                 bool
	progressEvery          time.Duration
	terminal               func(io.Writer) bool
	region                 string
	now                    func() time.Time
}

// consentCSV runs `atendimento consent --csv FILE`: it talks only to the API, never to the database.
func consentCSV(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	o := consentCSVOptions{terminal: isTerminal, progressEvery: 10 * time.Second, region: "BR", now: time.Now}
	fs := apiFlagSet("consent", consentUsage, "one fact per line", stdout, getenv, &o.file, &o.url, &o.apiKey)
	fs.IntVar(&o.concurrency, "concurrency", 4, "rows in flight at once")
	fs.BoolVar(&o.dryRun, "dry-run", false, "validate the file and stop")
	fs.StringVar(&o.out, "out", "", "the result CSV: line, phone, status, contact_id, code (default FILE.result.csv)")
	if help, err := parseAPIFlags(fs, args, getenv, &o.apiKey); help || err != nil {
		return err
	}
	return runConsentCSV(ctx, o, stdout)
}

func runConsentCSV(ctx context.Context, o consentCSVOptions, stdout io.Writer) error {
	if err := missingFlags("consent", o.file, o.url, o.apiKey); err != nil {
		return err
	}
	if o.concurrency < 1 || o.concurrency > 64 {
		return errors.New("--concurrency must be between 1 and 64")
	}
	data, err := readInput(o.file, &o.out)
	if err != nil {
		return err
	}
	rows, err := readConsentRows(data, o)
	if err != nil {
		return err
	}
	if err := reportInvalid(stdout, o.file, rows); o.dryRun {
		return err
	}

	c, err := atendimento.New(o.url, o.apiKey, atendimento.WithHeader("User-Agent", "atendimento-consent-csv"))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	keyPrefix := hex.EncodeToString(sum[:8]) + ":"
	sendErr := sendRows(ctx, rows, o.concurrency, newProgressFor(stdout, o.terminal, o.progressEvery), func(r *csvRow) bool {
		return recordConsentRow(ctx, c, r, keyPrefix)
	})
	if err := writeResult(o.out, "contact_id", rows); err != nil {
		return err
	}
	printFailures(stdout, rows, 20)
	count, created := map[string]int{}, 0
	for _, r := range rows {
		count[r.status]++
		if r.consent != nil && r.consent.created {
			created++
		}
	}
	fmt.Fprintf(stdout, "recorded: %d (%d new contacts)\nalready recorded: %d\nfailed: %d\ninvalid: %d\n",
		count[rowRecorded], created, count[rowAlreadyRecorded], count[rowFailed], count[rowInvalid])
	if n := count[rowNotSent]; n > 0 {
		fmt.Fprintf(stdout, "not sent: %d\n", n)
	}
	fmt.Fprintf(stdout, "result: %s\n", o.out)
	switch {
	case sendErr != nil:
		return fmt.Errorf("interrupted (%w): re-run the same command to record the rest; rows already recorded are not recorded again", sendErr)
	case count[rowFailed]+count[rowInvalid]+count[rowNotSent] > 0:
		return fmt.Errorf("%d rows were not recorded: see %s", count[rowFailed]+count[rowInvalid]+count[rowNotSent], o.out)
	}
	return nil
}

// brasilia is the zone of a dd/mm/yyyy hh:mm time (Brazil has had no daylight saving since 2019).
var brasilia = time.FixedZone("BRT", -3*60*60)

// readConsentRows reads the whole file and validates every row. A bad header is an error; a bad
// row is marked invalid with its line, code and message.
func readConsentRows(data []byte, o consentCSVOptions) ([]*csvRow, error) {
	f, err := openCSV(o.file, data)
	if err != nil {
		return nil, err
	}
	phoneCol, _ := f.column("phone", "telefone", "celular", "whatsapp")
	optCol, _ := f.column("opted_out")
	if phoneCol < 0 || optCol < 0 {
		return nil, fmt.Errorf("%s: the header needs the columns phone and opted_out (columns: %s)", o.file, strings.Join(f.header, ", "))
	}
	nameCol, _ := f.column("name", "nome")
	detailCol, _ := f.column("detail")
	atCol, _ := f.column("at")
	cell := func(rec []string, i int) string {
		if i < 0 {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	seen := map[string]int{}
	return f.readAll(func(row *csvRow, rec []string) {
		row.phone, row.name = cell(rec, phoneCol), cell(rec, nameCol)
		fact := &consentFact{detail: cell(rec, detailCol)}
		row.consent = fact
		var codes, msgs []string
		add := func(fe *fieldError) {
			if fe != nil {
				codes, msgs = append(codes, fe.Code), append(msgs, fe.Message)
			}
		}
		add(checkPhone(row, o.region, seen))
		var fe *fieldError
		fact.optedOut, fe = parseOptedOut(cell(rec, optCol))
		add(fe)
		if utf8.RuneCountInString(fact.detail) > 500 || strings.IndexFunc(fact.detail, unicode.IsControl) >= 0 {
			add(&fieldError{"detail_invalid", "detail must be at most 500 characters without line breaks"})
		}
		fact.at, fe = parseConsentAt(cell(rec, atCol), o.now())
		add(fe)
		if len(codes) > 0 {
			row.invalid(strings.Join(codes, " "), strings.Join(msgs, "; "))
		}
	})
}

// parseOptedOut reads an opted_out cell: sim/true/1/sair is an opt-out, não/false/0/voltar an opt-in.
func parseOptedOut(v string) (bool, *fieldError) {
	switch contact.Fold(v) {
	case "sim", "true", "1", "sair":
		return true, nil
	case "nao", "false", "0", "voltar":
		return false, nil
	}
	return false, &fieldError{"opted_out_invalid", fmt.Sprintf("opted_out %q must be sim, não, true, false, 1, 0, sair or voltar", v)}
}

// parseConsentAt reads an at cell: empty (now), RFC 3339, or dd/mm/yyyy hh:mm in Brasília time;
// not in the future.
func parseConsentAt(v string, now time.Time) (*time.Time, *fieldError) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		if t, err = time.ParseInLocation("02/01/2006 15:04", v, brasilia); err != nil {
			return nil, &fieldError{"at_invalid", fmt.Sprintf("at %q must be RFC 3339 (2026-05-04T09:00:00-03:00) or dd/mm/yyyy hh:mm", v)}
		}
	}
	if t.After(now) {
		return nil, &fieldError{"at_invalid", fmt.Sprintf("at %s is in the future", v)}
	}
	return &t, nil
}

// recordConsentRow finds (or creates) the row's contact and records its fact with the row's
// import key; it reports false when the run was interrupted before the answer came.
func recordConsentRow(ctx context.Context, c *atendimento.Client, r *csvRow, keyPrefix string) bool {
	fail := func(err error) bool {
		if ctx.Err() != nil {
			return false
		}
		if p, ok := atendimento.AsProblem(err); ok {
			r.status, r.code, r.message = rowFailed, problemCode(p), p.Error()
		} else {
			r.status, r.code, r.message = rowFailed, "request_failed", err.Error()
		}
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	ct, err := c.LookupContact(ctx, &atendimento.LookupContactParams{Phone: r.phone})
	if p, ok := atendimento.AsProblem(err); ok && p.Status == http.StatusNotFound {
		body := atendimento.ContactRequest{Phone: &r.phone}
		if r.name != "" {
			body.Name = &r.name
		}
		ct, err = c.CreateContact(ctx, body)
		if p, ok := atendimento.AsProblem(err); ok && p.Code == "contact_exists" {
			ct, err = c.LookupContact(ctx, &atendimento.LookupContactParams{Phone: r.phone}) // created meanwhile
		} else if err == nil {
			r.consent.created = true
		}
	}
	if err != nil {
		return fail(err)
	}
	r.id = ct.Id.String()
	body := atendimento.ConsentRequest{OptedOut: r.consent.optedOut, Source: atendimento.Ptr(atendimento.ConsentRequestSourceCsv),
		ImportKey: atendimento.Ptr(fmt.Sprintf("%s%d", keyPrefix, r.line)), At: r.consent.at}
	if r.consent.detail != "" {
		body.Detail = &r.consent.detail
	}
	rsp, err := c.Raw().PostApiV1ContactsIdConsentWithResponse(ctx, r.id, body)
	if err != nil {
		return fail(err)
	}
	if rsp.JSON201 == nil {
		r.status, r.code = rowFailed, fmt.Sprintf("http_%d", rsp.StatusCode())
		return true
	}
	r.status = rowRecorded
	if rsp.HTTPResponse.Header.Get("Idempotent-Replayed") == "true" {
		r.status = rowAlreadyRecorded
	}
	return true
}
