package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/store"
)

var firstNames = []string{"Ana", "Maria", "João", "José", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz", "Marcos",
	"Luís", "Gabriel", "Rafael", "Daniel", "Marcelo", "Bruno", "Eduardo", "Felipe", "Raimundo", "Rodrigo", "Manoel", "Mateus",
	"André", "Fernando", "Fábio", "Leonardo", "Gustavo", "Guilherme", "Márcia", "Adriana", "Juliana", "Patrícia", "Aline",
	"Sandra", "Camila", "Amanda", "Bruna", "Jéssica", "Letícia", "Júlia", "Luciana", "Vanessa", "Mariana", "Gabriela", "Vera",
	"Vitória", "Larissa", "Cláudia", "Beatriz", "Conceição", "Renata", "Simone", "Sônia", "Lúcia", "Helena", "Íris", "Otávio", "Caio"}

var surnames = []string{"Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
	"Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias",
	"Nascimento", "Andrade", "Moreira", "Nunes", "Marques", "Machado", "Mendes", "Freitas", "Cardoso", "Ramos", "Gonçalves",
	"Santana", "Teixeira", "Araújo", "Conceição", "Correia", "Brandão", "Falcão", "Simões", "Magalhães", "Guimarães", "Peçanha",
	"Assunção", "Loureiro", "Quintão", "Bittencourt", "Cavalcanti", "Albuquerque", "Monteiro", "Campos", "Pinto", "Batista"}

var ddds = []int{11, 21, 31, 41, 51, 61, 71, 81, 85}

// bulkContact is the i-th generated contact: a deterministic Brazilian name and a distinct mobile.
func bulkContact(i int) (name, phone string) {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	name = firstNames[r.IntN(len(firstNames))] + " " + surnames[r.IntN(len(surnames))] + " " + surnames[r.IntN(len(surnames))]
	// i ↔ (i mod 9, i div 9) is one-to-one, and so is n ↦ n·7919 mod 10⁸.
	n := (int64(i/len(ddds)) * 7919) % 100_000_000
	return name, fmt.Sprintf("+55%d9%08d", ddds[i%len(ddds)], n)
}

// contactColumns are the columns contact.Service writes on insert (its row type).
var contactColumns = []string{"id", "account_id", "name", "name_key", "phone", "wa_id", "email", "attributes", "created_at", "updated_at"}

// loadContacts writes n contacts straight into the contacts table, with the values the contact
// service would write (name_key = contact.Fold(name), E.164 phone, time-ordered UUIDv7 ids): COPY
// on Postgres, multi-row INSERTs in one transaction on SQLite.
func loadContacts(ctx context.Context, db *benchDB, accountID string, n int) ([]string, error) {
	extra, err := extraColumns(ctx, db)
	if err != nil {
		return nil, err
	}
	created := time.Now().UTC().Add(-time.Duration(n) * time.Millisecond).Truncate(time.Microsecond)
	row := func(i int) []any {
		name, phone := bulkContact(i)
		id := uuid.Must(uuid.NewV7())
		at := created.Add(time.Duration(i) * time.Millisecond)
		return []any{id, name, contact.Fold(name), phone, at}
	}
	if db.Engine == pg {
		conn, err := pgx.Connect(ctx, db.URL)
		if err != nil {
			return nil, err
		}
		defer conn.Close(ctx)
		acc, err := uuid.Parse(accountID)
		if err != nil {
			return nil, err
		}
		_, err = conn.CopyFrom(ctx, pgx.Identifier{"contacts"}, contactColumns, pgx.CopyFromFunc(func() func() ([]any, error) {
			i := 0
			return func() ([]any, error) {
				if i >= n {
					return nil, nil
				}
				v := row(i)
				i++
				return []any{pgtype.UUID{Bytes: v[0].(uuid.UUID), Valid: true}, pgtype.UUID{Bytes: acc, Valid: true}, v[1], v[2], v[3], nil, "", "{}", v[4], v[4]}, nil
			}
		}()))
		if err != nil {
			return nil, fmt.Errorf("COPY contacts: %w", err)
		}
		if _, err := conn.Exec(ctx, "ANALYZE contacts"); err != nil {
			return nil, err
		}
		return extra, nil
	}
	st, err := store.Open(ctx, store.Options{URL: db.URL, MaxOpenConns: 1})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	tx, err := st.SQL().BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	const batch = 500
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(contactColumns)), ",") + ")"
	for i := 0; i < n; i += batch {
		k := min(batch, n-i)
		args := make([]any, 0, k*len(contactColumns))
		for j := range k {
			v := row(i + j)
			args = append(args, v[0].(uuid.UUID).String(), accountID, v[1], v[2], v[3], nil, "", "{}", v[4], v[4])
		}
		q := "INSERT INTO contacts (" + strings.Join(contactColumns, ",") + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", k), ",")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	_, err = st.SQL().ExecContext(ctx, "ANALYZE")
	return extra, err
}

// extraColumns lists contacts columns beyond what the service wrote when this bench was written
// (a new column the bulk load leaves to its default should be reported).
func extraColumns(ctx context.Context, db *benchDB) ([]string, error) {
	st, err := store.Open(ctx, store.Options{URL: db.URL, MaxOpenConns: 1})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var cols []string
	q := "SELECT column_name FROM information_schema.columns WHERE table_name = 'contacts' AND table_schema = current_schema()"
	if db.Engine == sqlite {
		q = "SELECT name FROM pragma_table_info('contacts')"
	}
	if err := st.Conn(ctx).Raw(q).Scan(&cols).Error; err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, c := range contactColumns {
		known[c] = true
	}
	var extra []string
	for _, c := range cols {
		if !known[c] {
			extra = append(extra, c)
		}
	}
	return extra, nil
}

// contactQuery is one search of the row: q, and whether it must find something.
type contactQuery struct {
	Kind  string
	Q     string
	Found bool // at least one item expected
	Miss  bool // no item expected
}

// contactQueries returns count name queries and count phone-digit queries for run (the same sets
// every time the suite runs): a common first name, an accented surname typed without accents, the
// full name of a loaded contact (few matches: the expensive case without a suitable index), a name
// nobody has; 8 digits of a loaded phone, 4 digits, a loaded phone typed as people do, digits
// nobody has.
func contactQueries(run, n, count int) (names, phones []contactQuery) {
	r := rand.New(rand.NewPCG(uint64(run), 42))
	for k := range count {
		i := r.IntN(n)
		name, phone := bulkContact(i)
		switch k % 4 {
		case 0:
			names = append(names, contactQuery{Kind: "first name", Q: strings.ToLower(firstNames[r.IntN(len(firstNames))])})
		case 1:
			names = append(names, contactQuery{Kind: "surname", Q: contact.Fold(surnames[r.IntN(len(surnames))])})
		case 2:
			names = append(names, contactQuery{Kind: "full name", Q: name, Found: true})
		case 3:
			names = append(names, contactQuery{Kind: "name, no match", Q: fmt.Sprintf("xq%dzw", r.IntN(1e6)), Miss: true})
		}
		digits := strings.TrimPrefix(phone, "+")
		switch k % 4 {
		case 0:
			off := r.IntN(len(digits) - 8)
			phones = append(phones, contactQuery{Kind: "8 digits", Q: digits[off : off+8], Found: true})
		case 1:
			phones = append(phones, contactQuery{Kind: "4 digits", Q: fmt.Sprintf("%04d", r.IntN(10000))})
		case 2:
			phones = append(phones, contactQuery{Kind: "formatted phone", Q: fmt.Sprintf("(%s) %s-%s", digits[2:4], digits[4:9], digits[9:]), Found: true})
		case 3:
			// 14 digits: longer than any loaded phone's 13, so nothing can contain them.
			phones = append(phones, contactQuery{Kind: "digits, no match", Q: fmt.Sprintf("99%012d", r.IntN(1e9)), Miss: true})
		}
	}
	return names, phones
}

// rowContacts: GET /api/v1/contacts?q= p50/p99 for name and phone-digit searches over a bulk
// loaded contact table (1M on Postgres), one query at a time.
func (b *bench) rowContacts(ctx context.Context, engine string, base *benchDB, s seeded) error {
	n := b.cfg.ContactsPG
	if engine == sqlite {
		n = b.cfg.ContactsLite
	}
	size := count(n)
	mk := func(kind, p string, goal bool) *figure {
		f := &figure{Row: "5", Name: fmt.Sprintf("GET /contacts?q= %s p%s, %s contacts", kind, p, size), Engine: engine, Unit: "ms"}
		if goal && engine == pg {
			f.Goal, f.met = "≤ 20 ms", func(v, _ float64) bool { return v <= 20 }
		}
		return f
	}
	n50, n99, p50, p99 := mk("name", "50", false), mk("name", "99", true), mk("phone digits", "50", false), mk("phone digits", "99", true)
	b.add(n50, n99, p50, p99)
	db, err := b.dbs.clone(ctx, base)
	if err != nil {
		return fail(err, n50, n99, p50, p99)
	}
	defer b.dbs.drop(context.WithoutCancel(ctx), db)
	b.logf("%s row 5: loading %d contacts", engine, n)
	t0 := time.Now()
	extra, err := loadContacts(ctx, db, s.AccountID, n)
	if err != nil {
		return fail(err, n50, n99, p50, p99)
	}
	loadTime := time.Since(t0)
	b.logf("  loaded in %s", loadTime.Round(100*time.Millisecond))
	n50.Notes = append(n50.Notes, fmt.Sprintf("%d contacts bulk-loaded in %s with the columns contact.Service writes; one query at a time, limit default (50); per run %d name queries (first name, surname, full name, no match) and %d phone queries (8 digits, 4 digits, formatted phone, no match)",
		n, loadTime.Round(100*time.Millisecond), b.cfg.Queries, b.cfg.Queries))
	if len(extra) > 0 {
		n50.Notes = append(n50.Notes, "contacts has columns the bulk load leaves to their defaults: "+strings.Join(extra, ", "))
	}
	srv, err := b.startServer(ctx, db, serverOpts{})
	if err != nil {
		return fail(err, n50, n99, p50, p99)
	}
	defer srv.Stop()
	hc := newHTTPClient(1)
	defer hc.CloseIdleConnections()
	c := &apiClient{base: srv.URL, http: hc, key: s.APIKey}
	byKind := map[string][]time.Duration{}
	var kinds []string
	for run := range b.cfg.Runs {
		names, phones := contactQueries(run, n, b.cfg.Queries)
		// Untimed: one query of each kind, so both plans are prepared and the pages are warm as
		// for a server in use.
		for _, q := range []contactQuery{names[0], phones[0]} {
			if _, err := searchContacts(ctx, c, q); err != nil {
				return fail(err, n50, n99, p50, p99)
			}
		}
		for _, set := range []struct {
			qs       []contactQuery
			f50, f99 *figure
		}{{names, n50, n99}, {phones, p50, p99}} {
			var lat []time.Duration
			for _, q := range set.qs {
				d, err := searchContacts(ctx, c, q)
				if err != nil {
					return fail(err, n50, n99, p50, p99)
				}
				lat = append(lat, d)
				if _, ok := byKind[q.Kind]; !ok {
					kinds = append(kinds, q.Kind)
				}
				byKind[q.Kind] = append(byKind[q.Kind], d)
			}
			set.f50.Values, set.f99.Values = append(set.f50.Values, pct(lat, 50)), append(set.f99.Values, pct(lat, 99))
		}
		b.logf("%s row 5 run %d/%d: name p50 %.1f p99 %.1f ms; phone p50 %.1f p99 %.1f ms", engine, run+1, b.cfg.Runs,
			n50.Values[run], n99.Values[run], p50.Values[run], p99.Values[run])
	}
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s p50 %.1f / max %.0f ms", k, pct(byKind[k], 50), pct(byKind[k], 100)))
	}
	n99.Notes = append(n99.Notes, "by kind, over all runs: "+strings.Join(parts, "; "))
	return nil
}

func searchContacts(ctx context.Context, c *apiClient, q contactQuery) (time.Duration, error) {
	t0 := time.Now()
	st, body, err := c.do(ctx, http.MethodGet, "/api/v1/contacts?q="+url.QueryEscape(q.Q), nil, nil)
	d := time.Since(t0)
	if err != nil {
		return 0, err
	}
	if st != http.StatusOK {
		return 0, fmt.Errorf("GET /contacts?q=%s: %d %.200s", q.Q, st, body)
	}
	var out struct{ Items []json.RawMessage }
	if err := json.Unmarshal(body, &out); err != nil {
		return 0, err
	}
	if q.Found && len(out.Items) == 0 {
		return 0, fmt.Errorf("GET /contacts?q=%s found nothing; a loaded contact matches", q.Q)
	}
	if q.Miss && len(out.Items) > 0 {
		return 0, fmt.Errorf("GET /contacts?q=%s found %d; nothing matches", q.Q, len(out.Items))
	}
	return d, nil
}
