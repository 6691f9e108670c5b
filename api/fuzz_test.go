package api_test

// Fuzz targets over the real handlers and a real database: every JSON body the API reads, Meta's
// signed webhook and the sandbox's simulated replies. Requests go straight to the App's handler
// (no network), on SQLite while fuzzing (FUZZ_ENGINE=postgres with TEST_DATABASE_URL fuzzes
// PostgreSQL instead); the seed corpus also runs as an ordinary test on every engine.
//
// No input may yield a 5xx, a response the contract does not describe, or a stored half-state:
// a refused request changes nothing, and at every moment each conversation has its opening
// message, each contact a valid E.164 phone and a printable name, and no idempotency key is left
// claimed without its response.
//
//	go test ./api -run '^$' -fuzz '^FuzzStartConversation$' -fuzztime 2m

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/phone"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

const (
	fuzzAppSecret = "fuzz-app-secret"
	fuzzPNID      = "106540352242922" // the phone_number_id of internal/whatsapp/testdata/webhooks
	fuzzWABA      = "102290129340398"
)

// fuzzEnv is one service under fuzzing.
type fuzzEnv struct {
	*apptest.Env
	engine string
	cloud  string // a whatsapp_cloud channel whose app secret is fuzzAppSecret
	conv   string // a waiting conversation on the sandbox channel, with a queued message
	active string // an active conversation (window open) on the sandbox channel
	wamids []string
	since  time.Time // rows changed since then are checked by the next invariants pass
}

// fuzzing reports whether this process runs `go test -fuzz` (a worker or the coordinator).
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

// fuzzEnvs starts the services a fuzz target runs each input against: one while fuzzing, one
// per engine when the seed corpus runs as a test. cloud also starts the dispatcher against a
// fake Graph API, so that messages have provider ids for status webhooks to name.
func fuzzEnvs(f *testing.F, cloud bool) []*fuzzEnv {
	f.Helper()
	engines := storetest.Engines(f)
	if fuzzing() {
		want := "sqlite"
		if os.Getenv("FUZZ_ENGINE") == "postgres" {
			want = "postgres"
		}
		var picked []storetest.Engine
		for _, e := range engines {
			if e.Name == want {
				picked = append(picked, e)
			}
		}
		if len(picked) == 0 {
			f.Fatalf("FUZZ_ENGINE=%s needs TEST_DATABASE_URL", want)
		}
		engines = picked
	}
	var out []*fuzzEnv
	for _, e := range engines {
		var fake *whatsapptest.Fake
		if cloud {
			fake = whatsapptest.NewFake(f)
		}
		env := apptest.New(f, e.Open(f), apptest.Options{Configure: func(c *app.Config) {
			c.NoDispatcher = !cloud
			if cloud {
				c.WhatsAppAPIBaseURL = fake.URL
				c.Dispatch.ChannelRate = 100000
			}
		}})
		// CRM webhook subscriptions the fuzzer creates must not make it deliver anywhere.
		env.App.CRMHooks.Stop()
		fe := &fuzzEnv{Env: env, engine: e.Name}
		r := env.Admin.Post("/api/v1/channels", map[string]any{"name": "Cloud", "provider": "whatsapp_cloud", "phone_number": "+55 11 4000-9999",
			"phone_number_id": fuzzPNID, "waba_id": fuzzWABA, "access_token": "EAAG-fuzz", "app_secret": fuzzAppSecret, "verify_token": "fuzz",
			"default_team_id": env.Demo.TeamIDs[0]})
		mustStatus(f, r, http.StatusCreated)
		fe.cloud = r.Str("id")
		mustStatus(f, env.Admin.Patch("/api/v1/teams/"+env.Demo.TeamIDs[0], map[string]any{"channel_ids": []string{env.Demo.ChannelID, fe.cloud}}), http.StatusOK)
		r = env.Admin.Post("/api/v1/templates", map[string]any{"channel_id": fe.cloud, "name": "saudacao", "language": "pt_BR", "category": "UTILITY",
			"status": "APPROVED", "parameter_format": "NAMED", "components": []map[string]any{{"type": "BODY", "text": "Olá {{nome}}"}}})
		mustStatus(f, r, http.StatusCreated)
		cloudTpl := r.Str("id")

		r = env.Admin.Post("/api/v1/conversations", startBody(env, "11 90000-0001"))
		mustStatus(f, r, http.StatusCreated)
		fe.conv = r.Str("id")
		mustStatus(f, env.Admin.Post("/api/v1/conversations/"+fe.conv+"/messages", map[string]any{"text": "na fila"}), http.StatusCreated)
		r = env.Admin.Post("/api/v1/conversations", startBody(env, "11 90000-0002"))
		mustStatus(f, r, http.StatusCreated)
		fe.active = r.Str("id")
		mustStatus(f, env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound", map[string]any{"from": "11 90000-0002", "text": "oi"}), http.StatusOK)

		if cloud {
			r = env.Admin.Post("/api/v1/conversations", map[string]any{"contact": map[string]any{"phone": "+5511987650001"}, "channel_id": fe.cloud,
				"team_id": env.Demo.TeamIDs[0], "send_type": "now", "template_id": cloudTpl, "parameters": map[string]any{"nome": "Ana"}})
			mustStatus(f, r, http.StatusCreated)
			conv := r.Str("id")
			// Wait until the dispatcher has recorded the send: a status for an id it has not
			// recorded yet is kept aside and applied when it is, which would change rows between
			// an input's two deliveries.
			require.Eventually(f, func() bool {
				var list struct {
					Items []struct {
						Status            string
						ProviderMessageID *string `json:"provider_message_id"`
					}
				}
				env.Admin.Get("/api/v1/conversations/"+conv+"/messages").Decode(f, &list)
				for _, m := range list.Items {
					if m.Status == "sent" && m.ProviderMessageID != nil {
						fe.wamids = append(fe.wamids, *m.ProviderMessageID)
					}
				}
				return len(fe.wamids) > 0
			}, 10*time.Second, 20*time.Millisecond, "the dispatcher recorded no send")
		}
		fe.since = time.Now().UTC().Add(-time.Hour)
		out = append(out, fe)
	}
	return out
}

func mustStatus(f *testing.F, r *apptest.Response, want int) {
	f.Helper()
	if r.Status != want {
		f.Fatalf("setup: got %d, want %d: %s", r.Status, want, r.Body)
	}
}

// validHeaderValue reports whether net/http would let v through as a header value (the fuzzer
// calls the handler directly, past the HTTP parser).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return v == strings.Trim(v, " \t")
}

// do sends a request straight to the handler, as the demo admin unless anonymous, and fails on a
// 5xx or on a response the contract does not describe.
func (e *fuzzEnv) do(t *testing.T, method, path string, body []byte, header map[string]string) *apptest.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if _, anon := header["anonymous"]; !anon {
		req.Header.Set("Authorization", "Bearer "+e.Demo.APIKey)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if k != "anonymous" {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	e.App.Handler.ServeHTTP(rec, req)
	resp := &apptest.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if resp.Status >= 500 {
		t.Fatalf("[%s] %s %s → %d %s\nbody sent: %q", e.engine, method, path, resp.Status, resp.Body, body)
	}
	apptest.ValidateResponse(t, req, resp)
	return resp
}

// counts are the row counts of every table a request may write.
type counts map[string]int64

var countedTables = []string{"contacts", "conversations", "messages", "teams", "team_channels", "team_members", "templates", "channels",
	"users", "api_keys", "sessions", "webhook_subscriptions", "idempotency_keys", "orphan_statuses"}

func (e *fuzzEnv) counts(t *testing.T) counts {
	t.Helper()
	var sel []string
	for _, tbl := range countedTables {
		sel = append(sel, "(SELECT count(*) FROM "+tbl+")")
	}
	vals := make([]int64, len(countedTables))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := e.App.DB.Conn(context.Background()).Raw("SELECT " + strings.Join(sel, ", ")).Row().Scan(ptrs...); err != nil {
		t.Fatalf("counts: %v", err)
	}
	out := counts{}
	for i, tbl := range countedTables {
		out[tbl] = vals[i]
	}
	return out
}

// row returns one row of a table as a map, to show that a refused change left it alone.
func (e *fuzzEnv) row(t *testing.T, table, id string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := e.App.DB.Conn(context.Background()).Table(table).Where("id = ?", id).Take(&m).Error; err != nil {
		t.Fatalf("row %s %s: %v", table, id, err)
	}
	return m
}

// invariants checks the rows changed since the last pass.
func (e *fuzzEnv) invariants(t *testing.T) {
	t.Helper()
	db := e.App.DB.Conn(context.Background())
	since := e.since
	e.since = time.Now().UTC().Add(-2 * time.Second)

	var orphans []string
	if err := db.Raw(`SELECT c.id FROM conversations c WHERE c.updated_at >= ? AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id) LIMIT 5`,
		since).Scan(&orphans).Error; err != nil {
		t.Fatal(err)
	}
	if len(orphans) > 0 {
		t.Fatalf("[%s] conversations without a message: %v", e.engine, orphans)
	}
	var contacts []struct{ ID, Name, Phone string }
	if err := db.Raw(`SELECT id, name, phone FROM contacts WHERE updated_at >= ?`, since).Scan(&contacts).Error; err != nil {
		t.Fatal(err)
	}
	for _, c := range contacts {
		n, err := phone.Parse(c.Phone, "BR")
		if err != nil || n.E164() != c.Phone {
			t.Fatalf("[%s] contact %s has an invalid phone %q (%v)", e.engine, c.ID, c.Phone, err)
		}
		if !utf8.ValidString(c.Name) || utf8.RuneCountInString(c.Name) > 200 || strings.IndexFunc(c.Name, unicode.IsControl) >= 0 {
			t.Fatalf("[%s] contact %s has an invalid name %q", e.engine, c.ID, c.Name)
		}
	}
	var claimed int64
	if err := db.Raw(`SELECT count(*) FROM idempotency_keys WHERE response_status = 0`).Scan(&claimed).Error; err != nil {
		t.Fatal(err)
	}
	if claimed > 0 {
		t.Fatalf("[%s] %d idempotency keys claimed without a response", e.engine, claimed)
	}
	var open []struct {
		ContactID, ChannelID string
		N                    int
	}
	if err := db.Raw(`SELECT contact_id, channel_id, count(*) AS n FROM conversations WHERE status IN ('scheduled','waiting','active')
		GROUP BY contact_id, channel_id HAVING count(*) > 1`).Scan(&open).Error; err != nil {
		t.Fatal(err)
	}
	if len(open) > 0 {
		t.Fatalf("[%s] more than one open conversation: %+v", e.engine, open)
	}
}

// unchanged requires that a refused request wrote nothing.
func (e *fuzzEnv) unchanged(t *testing.T, before counts, r *apptest.Response, body []byte) {
	t.Helper()
	if after := e.counts(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("[%s] refused with %d %s, yet rows changed: %v → %v\nbody sent: %q", e.engine, r.Status, r.Body, before, after, body)
	}
}

// addSeeds adds the corpus every body target shares: broken, hostile and oversized JSON.
func addSeeds(f *testing.F, add func(body []byte)) {
	for _, s := range []string{
		``, ` `, `null`, `[]`, `"x"`, `1`, `{}`, `{`, `{"a":1}`, `{}}`, `{} {}`, `{"name":1e400}`,
		`{"name":"\ud800"}`, `{"name":"a\u0000b"}`, `{"name":"\u202eevil"}`, `{"name":"` + strings.Repeat("é", 300) + `"}`,
		strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40), `{"a":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 41),
	} {
		add([]byte(s))
	}
	add([]byte("{\"name\":\"\xff\xfe\"}"))
	add([]byte("\xef\xbb\xbf{}"))
	add([]byte(`{"name":"` + strings.Repeat("a", 1<<20) + `"}`))
}

func FuzzStartConversation(f *testing.F) {
	envs := fuzzEnvs(f, false)
	e := envs[0]
	tpl, pos := e.Demo.TemplateIDs["boas_vindas"], e.Demo.TemplateIDs["oferta_semana"]
	ch, team := e.Demo.ChannelID, e.Demo.TeamIDs[0]
	start := func(extra string) string {
		return `{"channel_id":"` + ch + `","team_id":"` + team + `","send_type":"now"` + extra + `}`
	}
	for _, s := range []struct{ body, key string }{
		{start(`,"contact":{"phone":"11 98765-0001","name":"João"},"template_id":"` + tpl + `","parameters":{"nome":"João","atendente":"Ana"}`), ""},
		{start(`,"contact":{"phone":"+55 21 99876-0002"},"template_id":"` + pos + `","parameters":["Ana","tênis","20%"]`), "pedido-1"},
		{start(`,"contact_id":"` + e.Demo.ContactID + `","template_id":"` + tpl + `","parameters":{"nome":"João","atendente":"Ana"}`), ""},
		{start(`,"contact":{"phone":"11 98765-0003","name":"Zé"},"text":"oi"`), ""},
		{`{"contact":{"phone":"11 98765-0004"},"channel_id":"` + ch + `","team_id":"` + team + `","send_type":"scheduled","scheduled_at":"` +
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `","template_id":"` + tpl + `","parameters":{"nome":"a","atendente":"b"}}`, "k"},
		{start(`,"contact":{"phone":"11 98765-0005","name":"Ana\tMaria"},"template_id":"` + tpl + `","parameters":{"nome":"a\nb","atendente":"     x"}`), ""},
		{start(`,"contact":{"phone":"11 98765-0006"},"template_id":"` + tpl + `","parameters":{"nome":"` + strings.Repeat("x", 100000) + `","atendente":"b"}`), ""},
		{start(`,"contact":{"phone":"999"},"contact_id":"` + e.Demo.ContactID + `","template_id":"` + pos + `","parameters":{"1":"a"}`), ""},
		{start(`,"contact":{"phone":"11 98765-0007"},"template_id":"` + tpl + `","parameters":[1,2,{"a":null}]`), "\xe9"},
		{`{"send_type":"later","scheduled_at":"yesterday","channel_id":"x","team_id":"` + team + `","template_id":"` + tpl + `"}`, ""},
	} {
		f.Add([]byte(s.body), s.key)
	}
	addSeeds(f, func(b []byte) { f.Add(b, "") })
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		for _, e := range envs {
			header := map[string]string{}
			if key != "" && validHeaderValue(key) {
				header["Idempotency-Key"] = key
			}
			before := e.counts(t)
			r := e.do(t, "POST", "/api/v1/conversations", body, header)
			switch {
			case r.Status == http.StatusCreated && r.Header.Get("Idempotent-Replayed") == "true":
				e.unchanged(t, before, r, body)
			case r.Status == http.StatusCreated:
				var got struct {
					ID             string
					OpeningMessage *struct{ ID string } `json:"opening_message"`
				}
				if err := json.Unmarshal(r.Body, &got); err != nil || got.OpeningMessage == nil || got.OpeningMessage.ID == "" {
					t.Fatalf("201 without an opening message: %s", r.Body)
				}
				if after := e.counts(t); after["conversations"] != before["conversations"]+1 || after["messages"] != before["messages"]+1 {
					t.Fatalf("a start wrote %v → %v", before, after)
				}
			default:
				e.unchanged(t, before, r, body)
			}
			e.invariants(t)
		}
	})
}

func FuzzCreateContact(f *testing.F) {
	envs := fuzzEnvs(f, false)
	for _, s := range []string{
		`{"name":"João","phone":"11 98765-4320"}`, `{"name":"Ana","phone":"+1 415 555 0100","email":"ana@example.com","attributes":{"plano":"ouro","n":3}}`,
		`{"phone":"(21) 3333-4444"}`, `{"name":"","phone":""}`, `{"name":"x","phone":"0800 123 4567"}`, `{"phone":"+55 11 98765-4321"}`,
		`{"name":"Jo\u0000ão","phone":"11 91234-5678"}`, `{"name":"a\u001bb","phone":"11 91234-5679"}`, `{"name":"a\u0085b","phone":"11 91234-5670"}`,
		`{"email":"not an email","attributes":[]}`, `{"attributes":{"deep":` + strings.Repeat(`[`, 31) + strings.Repeat(`]`, 31) + `}}`,
		`{"phone":"` + strings.Repeat("9", 5000) + `"}`, `{"phone":"+55 11 98765-4321 ext 5"}`, `{"phone":"١١٩٨٧٦٥٤٣٢١"}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	addSeeds(f, func(b []byte) { f.Add(b, false) })
	f.Fuzz(func(t *testing.T, body []byte, patch bool) {
		for _, e := range envs {
			before := e.counts(t)
			if patch {
				row := e.row(t, "contacts", e.Demo.ContactID)
				r := e.do(t, "PATCH", "/api/v1/contacts/"+e.Demo.ContactID, body, nil)
				if r.Status != http.StatusOK {
					e.unchanged(t, before, r, body)
					if after := e.row(t, "contacts", e.Demo.ContactID); fmt.Sprint(after) != fmt.Sprint(row) {
						t.Fatalf("a refused PATCH (%d %s) changed the contact: %v → %v", r.Status, r.Body, row, after)
					}
				}
			} else {
				r := e.do(t, "POST", "/api/v1/contacts", body, nil)
				if r.Status != http.StatusCreated {
					e.unchanged(t, before, r, body)
				} else if after := e.counts(t); after["contacts"] != before["contacts"]+1 {
					t.Fatalf("a create wrote %v → %v", before, after)
				}
			}
			e.invariants(t)
		}
	})
}

func FuzzPreview(f *testing.F) {
	envs := fuzzEnvs(f, false)
	names := make([]string, 0, len(envs[0].Demo.TemplateIDs))
	for n := range envs[0].Demo.TemplateIDs {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, s := range []string{
		`{"parameters":{"nome":"João","atendente":"Ana"}}`, `{"parameters":["Ana","tênis","20%"]}`, `{"parameters":{"1":"a","2":"b","3":"c"}}`,
		`{"parameters":{"nome":"João","pedido":"123","situacao":"enviado"}}`, `{"parameters":{}}`, `{"parameters":[]}`, `{"parameters":null}`,
		`{"parameters":{"nome":"{{atendente}}","atendente":"{{nome}}"}}`, `{"parameters":{"nome":"a\nb\tc     d"}}`,
		`{"parameters":{"nome":"` + strings.Repeat("ã", 70000) + `"}}`, `{"parameters":[` + strings.Repeat(`"x",`, 1000) + `"x"]}`,
		`{"parameters":{"__proto__":"x","constructor":1}}`, `{"parameters":[null,true,1.5,{"a":[]}]}`,
	} {
		f.Add([]byte(s), uint8(i))
	}
	addSeeds(f, func(b []byte) { f.Add(b, uint8(0)) })
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		for _, e := range envs {
			tpl := e.Demo.TemplateIDs[names[int(which)%len(names)]]
			before := e.counts(t)
			r := e.do(t, "POST", "/api/v1/templates/"+tpl+"/preview", body, nil)
			e.unchanged(t, before, r, body) // a preview never writes
			if r.Status == http.StatusOK && !json.Valid(r.Body) {
				t.Fatalf("preview answered invalid JSON: %q", r.Body)
			}
		}
	})
}

func FuzzWebhookPost(f *testing.F) {
	envs := fuzzEnvs(f, true)
	files, err := filepath.Glob(filepath.Join("..", "internal", "whatsapp", "testdata", "webhooks", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("webhook samples: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	now := strconv.FormatInt(time.Now().Unix(), 10)
	value := func(v string) []byte {
		return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"` + fuzzWABA + `","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",` +
			`"metadata":{"display_phone_number":"551140009999","phone_number_id":"` + fuzzPNID + `"},` + v + `}}]}]}`)
	}
	for _, wamid := range envs[0].wamids {
		for _, st := range []string{"sent", "delivered", "read", "failed", "deleted", ""} {
			f.Add(value(`"statuses":[{"id":"` + wamid + `","status":"` + st + `","timestamp":"` + now + `","recipient_id":"551187650001",` +
				`"errors":[{"code":131026,"title":"Message undeliverable","error_data":{"details":"x"}}],"pricing":{"billable":true,"category":"utility"}}]`))
		}
	}
	for _, v := range []string{
		`"contacts":[{"profile":{"name":"Ana"},"wa_id":"5511987650001"}],"messages":[{"from":"5511987650001","id":"wamid.f1","timestamp":"` + now + `","type":"text","text":{"body":"oi"}}]`,
		`"contacts":[{"profile":{"name":"\u0000"},"wa_id":"5511900000009"}],"messages":[{"from":"5511900000009","id":"wamid.f2","timestamp":"` + now + `","type":"text","text":{"body":"a\u0000"}}]`,
		`"messages":[{"from":"+1","id":"wamid.f3","timestamp":"99999999999999999","type":"text","text":{"body":"x"}}]`,
		`"messages":[{"from":"5511987650002","id":"wamid.f4","timestamp":"-62135596801","type":"image","image":{"caption":"` + strings.Repeat("x", 5000) + `"}}]`,
		`"messages":[{"from":"","id":"","type":"text"},{"from":"5511987650003","id":"wamid.f5","timestamp":1e30,"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"a","title":"b"}}}]`,
		`"messages":[{"from":"5511987650004","id":"wamid.f6","timestamp":"` + now + `","type":"reaction","reaction":{"message_id":"wamid.f1","emoji":"👍"}},{"from":"5511987650004","id":"wamid.f6","type":"text","text":{"body":"dup"}}]`,
		`"statuses":[{"id":"wamid.unknown","status":"read","timestamp":"1"}]`,
		`"messages":[{"from":"5511987650005","id":"` + strings.Repeat("w", 3000) + `","timestamp":"` + now + `","type":"text","text":{"body":"long id"}}]`,
	} {
		f.Add(value(v))
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"` + fuzzWABA + `","changes":[{"field":"message_template_status_update","value":` +
		`{"event":"APPROVED","message_template_id":1,"message_template_name":"saudacao","message_template_language":"pt_BR","reason":null}}]}]}`))
	addSeeds(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, e := range envs {
			header := map[string]string{"anonymous": "", whatsapp.SignatureHeader: whatsapp.Sign(body, fuzzAppSecret)}
			r := e.do(t, "POST", "/webhooks/whatsapp/"+e.cloud, body, header)
			if r.Status == http.StatusUnauthorized {
				t.Fatalf("a correctly signed body was refused: %s", r.Body)
			}
			e.invariants(t)
			// Meta retries: the same delivery again has no further effect. (Statuses kept aside
			// for ids not sent yet may be applied meanwhile by the dispatcher, when a reply in the
			// first delivery released queued messages: they may only decrease.)
			before := e.counts(t)
			again := e.do(t, "POST", "/webhooks/whatsapp/"+e.cloud, body, header)
			if again.Status != r.Status {
				t.Fatalf("the same delivery answered %d, then %d: %s", r.Status, again.Status, again.Body)
			}
			after := e.counts(t)
			if after["orphan_statuses"] > before["orphan_statuses"] {
				t.Fatalf("the same delivery kept more statuses aside: %v → %v\nbody sent: %q", before, after, body)
			}
			before["orphan_statuses"], after["orphan_statuses"] = 0, 0
			if fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("the same delivery wrote rows again: %v → %v\nbody sent: %q", before, after, body)
			}
			e.invariants(t)
		}
	})
}

func FuzzSandboxInbound(f *testing.F) {
	envs := fuzzEnvs(f, false)
	for _, s := range []string{
		`{"from":"11 90000-0001","text":"Pode falar"}`, `{"from":"11 90000-0002","text":"de novo"}`, `{"from":"+55 21 99999-0000","text":"novo","name":"Zé"}`,
		`{"from":"11 90000-0003","text":"oi","name":"Ana\u001b[31m"}`, `{"from":"11 90000-0004","text":"` + strings.Repeat("x", 4097) + `"}`,
		`{"from":"abc","text":"x"}`, `{"from":"","text":""}`, `{"from":"11 90000-0005","text":"a\u0000"}`, `{"from":"+1 202 555 0100","text":"EUA"}`,
		`{"from":"11 90000-0006","text":"\u202e\u200b","name":"` + strings.Repeat("n", 201) + `"}`,
	} {
		f.Add([]byte(s))
	}
	addSeeds(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, e := range envs {
			before := e.counts(t)
			r := e.do(t, "POST", "/api/v1/sandbox/channels/"+e.Demo.ChannelID+"/inbound", body, nil)
			if r.Status != http.StatusOK {
				e.unchanged(t, before, r, body)
			} else if after := e.counts(t); after["messages"] != before["messages"]+1 {
				t.Fatalf("a simulated reply stored %d messages: %s", after["messages"]-before["messages"], r.Body)
			}
			e.invariants(t)
		}
	})
}

// FuzzJSONBodies sends any body to every route that reads one. Refusals change nothing; the
// rows a PATCH targets stay as they were when it is refused.
func FuzzJSONBodies(f *testing.F) {
	envs := fuzzEnvs(f, false)
	type route struct {
		method, path, table, id string
	}
	routes := func(e *fuzzEnv) []route {
		agent := ""
		for _, u := range listIDs2(e) {
			agent = u
		}
		tpl := e.Demo.TemplateIDs["atualizacao_pedido"]
		return []route{
			{"POST", "/api/v1/auth/login", "", ""},
			{"POST", "/api/v1/users", "", ""},
			{"PATCH", "/api/v1/users/" + agent, "users", agent},
			{"POST", "/api/v1/api-keys", "", ""},
			{"PATCH", "/api/v1/account", "accounts", e.Demo.AccountID},
			{"POST", "/api/v1/contacts", "", ""},
			{"PATCH", "/api/v1/contacts/" + e.Demo.ContactID, "contacts", e.Demo.ContactID},
			{"POST", "/api/v1/channels", "", ""},
			{"PATCH", "/api/v1/channels/" + e.cloud, "channels", e.cloud},
			{"POST", "/api/v1/teams", "", ""},
			{"PATCH", "/api/v1/teams/" + e.Demo.TeamIDs[1], "teams", e.Demo.TeamIDs[1]},
			{"POST", "/api/v1/templates", "", ""},
			{"PATCH", "/api/v1/templates/" + tpl, "templates", tpl},
			{"POST", "/api/v1/templates/" + tpl + "/preview", "", ""},
			{"POST", "/api/v1/conversations", "", ""},
			{"POST", "/api/v1/conversations/" + e.conv + "/messages", "conversations", e.conv},
			{"POST", "/api/v1/conversations/" + e.active + "/messages", "conversations", e.active},
			{"POST", "/api/v1/sandbox/channels/" + e.Demo.ChannelID + "/inbound", "", ""},
			{"POST", "/api/v1/webhook-subscriptions", "", ""},
		}
	}
	n := len(routes(envs[0]))
	ch, tpl := envs[0].Demo.ChannelID, envs[0].Demo.TemplateIDs["atualizacao_pedido"]
	for i, s := range []string{
		`{"email":"admin@demo.atendimento.dev","password":"x"}`,
		`{"name":"Nova","email":"nova@example.com","password":"a-long-password","role":"agent"}`,
		`{"role":"admin","password":"short"}`,
		`{"name":"CRM","role":"agent"}`,
		`{"name":"Loja","default_region":"US","auto_close_waiting":true}`,
		`{"name":"Ana","phone":"11 91111-2222","attributes":{"a":1}}`,
		`{"phone":"+55 11 98765-4321"}`,
		`{"name":"C","provider":"whatsapp_cloud","phone_number":"+55 11 4000-0001","phone_number_id":"1","waba_id":"2","access_token":"t","app_secret":"s","verify_token":"v"}`,
		`{"active":false,"default_team_id":"","access_token":""}`,
		`{"name":"Financeiro","channel_ids":["` + ch + `"],"member_ids":[]}`,
		`{"channel_ids":["` + ch + `","` + ch + `"],"member_ids":["` + someID + `"]}`,
		`{"channel_id":"` + ch + `","name":"novo_modelo","language":"pt_BR","category":"UTILITY","status":"APPROVED","parameter_format":"POSITIONAL","components":[{"type":"BODY","text":"Oi {{1}}"}]}`,
		`{"status":"PAUSED","components":[{"type":"BODY","text":"{{1}} {{nome}}"}]}`,
		`{"parameters":{"nome":"a","pedido":"1","situacao":"ok"}}`,
		`{"contact_id":"` + envs[0].Demo.ContactID + `","channel_id":"` + ch + `","team_id":"` + envs[0].Demo.TeamIDs[0] + `","send_type":"now","template_id":"` + tpl + `","parameters":{"nome":"a","pedido":"1","situacao":"ok"}}`,
		`{"text":"mensagem na fila"}`,
		`{"template_id":"` + tpl + `","parameters":{"nome":"a","pedido":"1","situacao":"ok"}}`,
		`{"from":"11 95555-0000","text":"oi"}`,
		`{"url":"https://203.0.113.10/hook","events":["message.created"]}`,
	} {
		f.Add(uint8(i%n), []byte(s))
	}
	addSeeds(f, func(b []byte) {
		for i := range n {
			f.Add(uint8(i), b)
		}
	})
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		for _, e := range envs {
			rt := routes(e)[int(which)%n]
			before := e.counts(t)
			var row map[string]any
			if rt.table != "" {
				row = e.row(t, rt.table, rt.id)
			}
			header := map[string]string{}
			if rt.path == "/api/v1/auth/login" {
				header["anonymous"] = ""
			}
			r := e.do(t, rt.method, rt.path, body, header)
			if r.Status >= 300 {
				e.unchanged(t, before, r, body)
				if row != nil && rt.method == "PATCH" {
					if after := e.row(t, rt.table, rt.id); fmt.Sprint(after) != fmt.Sprint(row) {
						t.Fatalf("a refused %s %s (%d %s) changed the row: %v → %v", rt.method, rt.path, r.Status, r.Body, row, after)
					}
				}
			}
			if rt.path == "/api/v1/webhook-subscriptions" && r.Status == http.StatusCreated {
				e.do(t, "DELETE", "/api/v1/webhook-subscriptions/"+r.Str("id"), nil, nil)
			}
			e.invariants(t)
		}
	})
}

// listIDs2 returns the demo account's user ids other than the admin's (the agent's).
func listIDs2(e *fuzzEnv) []string {
	var ids []string
	_ = e.App.DB.Conn(context.Background()).Raw(`SELECT id FROM users WHERE account_id = ? AND role = 'agent' ORDER BY id`, e.Demo.AccountID).Scan(&ids).Error
	return ids
}
