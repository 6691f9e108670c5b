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

	"github.com/atendimento/atendimento/internal/store"
)

// Row 7 (issue 13): the agent's desk list, GET /conversations with its filters, and the tab
// counts, over a bulk-loaded conversations table (100k on both engines).

// convColumns and msgColumns are the columns the conversation service writes that the list reads.
var convColumns = []string{"id", "account_id", "contact_id", "channel_id", "team_id", "status", "origin", "waiting_since",
	"window_expires_at", "last_inbound_at", "closed_at", "closed_reason", "next_seq", "assignee_id", "last_inbound_seq", "created_at", "updated_at"}

var msgColumns = []string{"id", "account_id", "conversation_id", "channel_id", "seq", "direction", "type", "status", "text",
	"rendered_text", "received_at", "created_at", "updated_at"}

// loadConversations writes one conversation per contact (contactIDs, oldest first) as the
// service would: 60% closed, 10% waiting, 30% active with the contact's reply; a third of them
// owned by assignee, the rest in the queue; each with its opening message, and the reply when
// active. updated_at spreads over the last n seconds. Multi-row INSERTs in one transaction.
func loadConversations(ctx context.Context, db *benchDB, s seeded, assignee string, contactIDs []string) error {
	st, err := store.Open(ctx, store.Options{URL: db.URL, MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer st.Close()
	n := len(contactIDs)
	now := time.Now().UTC().Truncate(time.Microsecond)
	return st.InTx(ctx, func(ctx context.Context) error {
		var convs, msgs [][]any
		// Both tables at once, conversations first (the messages' foreign key).
		flush := func(force bool) error {
			if !force && len(convs) < 300 {
				return nil
			}
			for _, t := range []struct {
				table string
				cols  []string
				rows  *[][]any
			}{{"conversations", convColumns, &convs}, {"messages", msgColumns, &msgs}} {
				if len(*t.rows) == 0 {
					continue
				}
				one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(t.cols)), ",") + ")"
				var args []any
				for _, r := range *t.rows {
					args = append(args, r...)
				}
				q := "INSERT INTO " + t.table + " (" + strings.Join(t.cols, ",") + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", len(*t.rows)), ",")
				if err := st.Conn(ctx).Exec(q, args...).Error; err != nil {
					return fmt.Errorf("insert %s: %w", t.table, err)
				}
				*t.rows = (*t.rows)[:0]
			}
			return nil
		}
		for i, contactID := range contactIDs {
			at := now.Add(-time.Duration(n-i) * time.Second)
			id := uuid.Must(uuid.NewV7()).String()
			status, seq, lastIn := "closed", int64(1), int64(0)
			var waiting, window, inboundAt, closedAt, reason, owner any
			switch k := i % 10; {
			case k < 6:
				closedAt, reason = at, "Resolvido"
			case k == 6:
				status, waiting = "waiting", at
			default:
				status, seq, lastIn, inboundAt, window = "active", 2, 2, at, at.Add(24*time.Hour)
			}
			if i%3 == 0 {
				owner = assignee
			}
			convs = append(convs, []any{id, s.AccountID, contactID, s.ChannelID, s.TeamID, status, "active", waiting, window, inboundAt,
				closedAt, reason, seq, owner, lastIn, at, at})
			msgs = append(msgs, []any{uuid.Must(uuid.NewV7()).String(), s.AccountID, id, s.ChannelID, 1, "out", "template", "read",
				"", "Olá, aqui é Ana da Loja.", nil, at, at})
			if lastIn > 0 {
				msgs = append(msgs, []any{uuid.Must(uuid.NewV7()).String(), s.AccountID, id, s.ChannelID, 2, "in", "text", "received",
					"Oi, tudo bem?", "Oi, tudo bem?", at, at, at})
			}
			if err := flush(false); err != nil {
				return err
			}
		}
		return flush(true)
	})
}

// deskQuery is one list request of the row.
type deskQuery struct {
	Kind, Path string
}

// deskQueries are the lists an agent's desk asks for, count of them for run: the default page,
// the team's queue, my open conversations, a contact's name, the closed view, the second page.
func deskQueries(run, n, count int, s seeded, assignee string, names []string) []deskQuery {
	r := rand.New(rand.NewPCG(uint64(run), 13))
	var out []deskQuery
	for k := range count {
		switch k % 5 {
		case 0:
			out = append(out, deskQuery{"first page", "/api/v1/conversations"})
		case 1:
			out = append(out, deskQuery{"queue", "/api/v1/conversations?status=open&assignee_id=none&team_id=" + s.TeamID})
		case 2:
			out = append(out, deskQuery{"mine", "/api/v1/conversations?status=active&assignee_id=" + assignee})
		case 3:
			out = append(out, deskQuery{"contact name", "/api/v1/conversations?q=" + url.QueryEscape(names[r.IntN(n)])})
		case 4:
			out = append(out, deskQuery{"closed", "/api/v1/conversations?status=closed&team_id=" + s.TeamID})
		}
	}
	return out
}

// rowDesk: GET /api/v1/conversations p50/p99 over a mix of the desk's lists (and the second page
// through next_cursor), and GET /conversations/counts p99, one request at a time.
func (b *bench) rowDesk(ctx context.Context, engine string, base *benchDB, s seeded) error {
	n := b.cfg.Conversations
	size := count(n)
	l50 := &figure{Row: "7", Name: fmt.Sprintf("GET /conversations (desk lists) p50, %s conversations", size), Engine: engine, Unit: "ms"}
	l99 := &figure{Row: "7", Name: fmt.Sprintf("GET /conversations (desk lists) p99, %s conversations", size), Engine: engine, Unit: "ms"}
	c50 := &figure{Row: "7", Name: fmt.Sprintf("GET /conversations/counts p50, %s conversations", size), Engine: engine, Unit: "ms"}
	c99 := &figure{Row: "7", Name: fmt.Sprintf("GET /conversations/counts p99, %s conversations", size), Engine: engine, Unit: "ms"}
	b.add(l50, l99, c50, c99)
	db, err := b.dbs.clone(ctx, base)
	if err != nil {
		return fail(err, l50, l99, c50, c99)
	}
	defer b.dbs.drop(context.WithoutCancel(ctx), db)
	b.logf("%s row 7: loading %d contacts and conversations", engine, n)
	t0 := time.Now()
	if _, err := loadContacts(ctx, db, s.AccountID, n); err != nil {
		return fail(err, l50, l99, c50, c99)
	}
	var contacts []struct{ ID, Name string }
	var assignee string
	if err := func() error {
		st, err := store.Open(ctx, store.Options{URL: db.URL, MaxOpenConns: 1})
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Conn(ctx).Raw("SELECT id, name FROM contacts WHERE account_id = ? ORDER BY created_at, id", s.AccountID).Scan(&contacts).Error; err != nil {
			return err
		}
		return st.Conn(ctx).Raw("SELECT id FROM users WHERE account_id = ? AND role = 'admin' LIMIT 1", s.AccountID).Scan(&assignee).Error
	}(); err != nil {
		return fail(err, l50, l99, c50, c99)
	}
	ids, names := make([]string, 0, n), make([]string, 0, n)
	for _, c := range contacts {
		if len(ids) < n {
			ids, names = append(ids, c.ID), append(names, c.Name)
		}
	}
	if err := loadConversations(ctx, db, s, assignee, ids); err != nil {
		return fail(err, l50, l99, c50, c99)
	}
	if err := analyze(ctx, db); err != nil {
		return fail(err, l50, l99, c50, c99)
	}
	b.logf("  loaded in %s", time.Since(t0).Round(100*time.Millisecond))
	l50.Notes = append(l50.Notes, fmt.Sprintf("%d conversations (60%% closed, 10%% waiting, 30%% active with an unread reply; a third assigned) bulk-loaded with their messages; one request at a time with the admin API key; per run %d lists: first page, the team's queue (status=open&assignee_id=none&team_id), an assignee's active ones, a contact's name (q), the closed view, each also followed to its second page; and %d counts",
		n, b.cfg.Queries, b.cfg.Queries))
	srv, err := b.startServer(ctx, db, serverOpts{})
	if err != nil {
		return fail(err, l50, l99, c50, c99)
	}
	defer srv.Stop()
	hc := newHTTPClient(1)
	defer hc.CloseIdleConnections()
	c := &apiClient{base: srv.URL, http: hc, key: s.APIKey}
	byKind := map[string][]time.Duration{}
	var kinds []string
	for run := range b.cfg.Runs {
		qs := deskQueries(run, n, b.cfg.Queries, s, assignee, names)
		for _, q := range qs[:min(5, len(qs))] { // untimed: prepared plans, warm pages
			if _, _, err := getList(ctx, c, q.Path); err != nil {
				return fail(err, l50, l99, c50, c99)
			}
		}
		var lat, counts []time.Duration
		for _, q := range qs {
			d, next, err := getList(ctx, c, q.Path)
			if err != nil {
				return fail(err, l50, l99, c50, c99)
			}
			lat = append(lat, d)
			if _, ok := byKind[q.Kind]; !ok {
				kinds = append(kinds, q.Kind)
			}
			byKind[q.Kind] = append(byKind[q.Kind], d)
			if next != "" {
				sep := "?"
				if strings.Contains(q.Path, "?") {
					sep = "&"
				}
				d, _, err := getList(ctx, c, q.Path+sep+"cursor="+url.QueryEscape(next))
				if err != nil {
					return fail(err, l50, l99, c50, c99)
				}
				lat = append(lat, d)
				byKind["second page"] = append(byKind["second page"], d)
			}
			t := time.Now()
			st, body, err := c.do(ctx, http.MethodGet, "/api/v1/conversations/counts", nil, nil)
			if err != nil {
				return fail(err, l50, l99, c50, c99)
			}
			if st != http.StatusOK {
				return fail(fmt.Errorf("GET /conversations/counts: %d %.200s", st, body), l50, l99, c50, c99)
			}
			counts = append(counts, time.Since(t))
		}
		l50.Values, l99.Values = append(l50.Values, pct(lat, 50)), append(l99.Values, pct(lat, 99))
		c50.Values, c99.Values = append(c50.Values, pct(counts, 50)), append(c99.Values, pct(counts, 99))
		b.logf("%s row 7 run %d/%d: list p50 %.1f p99 %.1f ms; counts p99 %.1f ms", engine, run+1, b.cfg.Runs, l50.Values[run], l99.Values[run], c99.Values[run])
	}
	var parts []string
	for _, k := range append(kinds, "second page") {
		parts = append(parts, fmt.Sprintf("%s p50 %.1f / max %.0f ms", k, pct(byKind[k], 50), pct(byKind[k], 100)))
	}
	l99.Notes = append(l99.Notes, "by kind, over all runs: "+strings.Join(parts, "; "))
	return nil
}

// getList times one list request and returns its next_cursor.
func getList(ctx context.Context, c *apiClient, path string) (time.Duration, string, error) {
	t0 := time.Now()
	st, body, err := c.do(ctx, http.MethodGet, path, nil, nil)
	d := time.Since(t0)
	if err != nil {
		return 0, "", err
	}
	if st != http.StatusOK {
		return 0, "", fmt.Errorf("GET %s: %d %.200s", path, st, body)
	}
	var out struct {
		Items      []json.RawMessage
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return 0, "", err
	}
	if len(out.Items) == 0 {
		return 0, "", fmt.Errorf("GET %s found nothing; loaded conversations match", path)
	}
	next := ""
	if out.NextCursor != nil {
		next = *out.NextCursor
	}
	return d, next, nil
}

// analyze refreshes the planner's statistics after a bulk load.
func analyze(ctx context.Context, db *benchDB) error {
	st, err := store.Open(ctx, store.Options{URL: db.URL, MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Conn(ctx).Exec("ANALYZE").Error
}
