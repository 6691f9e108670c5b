package whatsapp_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/whatsapp"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	require.NoError(t, err)
	return b
}

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]}`)
	const secret = "app-secret"
	good := whatsapp.Sign(body, secret)
	require.True(t, strings.HasPrefix(good, "sha256="))
	require.Len(t, good, len("sha256=")+64)

	tests := []struct {
		name   string
		body   []byte
		header string
		secret string
		want   bool
	}{
		{"good", body, good, secret, true},
		{"uppercase hex", body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), secret, true},
		{"surrounding spaces", body, "  " + good + " ", secret, true},
		{"wrong secret", body, good, "other-secret", false},
		{"empty secret", body, whatsapp.Sign(body, ""), "", false},
		{"missing header", body, "", secret, false},
		{"prefix only", body, "sha256=", secret, false},
		{"no prefix", body, strings.TrimPrefix(good, "sha256="), secret, false},
		{"sha1 prefix", body, "sha1=" + strings.TrimPrefix(good, "sha256="), secret, false},
		{"not hex", body, "sha256=" + strings.Repeat("zz", 32), secret, false},
		{"odd length hex", body, good[:len(good)-1], secret, false},
		{"truncated digest", body, good[:len(good)-2], secret, false},
		{"digest too long", body, good + "00", secret, false},
		{"body changed", append(bytes.Clone(body), ' '), good, secret, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, whatsapp.VerifySignature(tt.body, tt.header, tt.secret))
		})
	}
}

// TestVerifySignatureRawBytes shows why the raw bytes must be hashed: Meta escapes non-ASCII as
// \uXXXX, and re-serialising the same JSON gives other bytes and a signature that does not match.
func TestVerifySignatureRawBytes(t *testing.T) {
	t.Parallel()
	raw := readFixture(t, "text_message.json")
	require.Contains(t, string(raw), `Jo\u00e3o`)
	sig := whatsapp.Sign(raw, "s3cret")
	require.True(t, whatsapp.VerifySignature(raw, sig, "s3cret"))

	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	reserialised, err := json.Marshal(v)
	require.NoError(t, err)
	require.False(t, whatsapp.VerifySignature(reserialised, sig, "s3cret"))
}

func TestVerifyChallenge(t *testing.T) {
	t.Parallel()
	q := func(mode, token, challenge string) url.Values {
		v := url.Values{}
		if mode != "" {
			v.Set("hub.mode", mode)
		}
		if token != "" {
			v.Set("hub.verify_token", token)
		}
		if challenge != "" {
			v.Set("hub.challenge", challenge)
		}
		return v
	}
	tests := []struct {
		name          string
		query         url.Values
		token         string
		wantChallenge string
		wantOK        bool
	}{
		{"match", q("subscribe", "tok", "1158201444"), "tok", "1158201444", true},
		{"wrong token", q("subscribe", "nope", "1158201444"), "tok", "", false},
		{"token prefix", q("subscribe", "to", "1"), "tok", "", false},
		{"wrong mode", q("unsubscribe", "tok", "1"), "tok", "", false},
		{"no mode", q("", "tok", "1"), "tok", "", false},
		{"no token in request", q("subscribe", "", "1"), "tok", "", false},
		{"channel has no token", q("subscribe", "", "1"), "", "", false},
		{"empty query", url.Values{}, "tok", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := whatsapp.VerifyChallenge(tt.query, tt.token)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.wantChallenge, got)
		})
	}
}

// withoutRaw returns n with every message's Raw cleared, after checking that each Raw is the
// message object it was read from.
func withoutRaw(t *testing.T, n *whatsapp.Notification) *whatsapp.Notification {
	t.Helper()
	out := *n
	out.Messages = nil
	for _, m := range n.Messages {
		require.True(t, json.Valid(m.Raw), "raw of %s is JSON", m.ID)
		var obj map[string]any
		require.NoError(t, json.Unmarshal(m.Raw, &obj))
		if m.ID != "" {
			require.Equal(t, m.ID, obj["id"])
		}
		m.Raw = nil
		out.Messages = append(out.Messages, m)
	}
	return &out
}

func TestParseWebhookFixtures(t *testing.T) {
	t.Parallel()
	const (
		waba    = "102290129340398"
		phoneID = "106540352242922"
		display = "5511940000000"
	)
	ana := func(id string, ts int64, typ, text string) whatsapp.InboundMessage {
		return whatsapp.InboundMessage{
			PhoneNumberID: phoneID, DisplayPhoneNumber: display, WABAID: waba,
			From: "5511987654321", ContactName: "Ana", WaID: "5511987654321",
			ID: id, Timestamp: unix(ts), Type: typ, Text: text,
		}
	}
	status := func(id, st string, ts int64, recipient string) whatsapp.StatusUpdate {
		return whatsapp.StatusUpdate{
			PhoneNumberID: phoneID, WABAID: waba, ID: id, Status: st, Timestamp: unix(ts), RecipientID: recipient,
		}
	}
	// with adds the media item or the content the parser keeps beside the text.
	with := func(m whatsapp.InboundMessage, media *whatsapp.InboundMedia, content string) whatsapp.InboundMessage {
		m.Media = media
		if content != "" {
			m.Content = json.RawMessage(content)
		}
		return m
	}
	utility := &whatsapp.Pricing{Billable: true, PricingModel: "PMP", Category: "utility", Type: "regular"}

	tests := []struct {
		file string
		want *whatsapp.Notification
	}{
		{"text_message.json", &whatsapp.Notification{Messages: []whatsapp.InboundMessage{{
			PhoneNumberID: phoneID, DisplayPhoneNumber: display, WABAID: waba,
			From: "551187654321", ContactName: "João Conceição", WaID: "551187654321",
			ID:        "wamid.HBgMNTUxMTg3NjU0MzIxFQIAEhgUM0FBQUFBQUFBQUFBQUFBQUFBQUEA",
			Timestamp: unix(1767225600), Type: "text", Text: "Olá, quero saber do meu pedido 😀",
		}}}},
		{"button_reply.json", &whatsapp.Notification{Messages: []whatsapp.InboundMessage{
			with(ana("wamid.quick1", 1767225601, "button", "Confirmar pedido"), nil, `{"payload": "CONFIRMAR", "text": "Confirmar pedido"}`),
			with(ana("wamid.interactive1", 1767225602, "interactive", "Sim"), nil, `{"type": "button_reply", "button_reply": {"id": "yes", "title": "Sim"}}`),
			with(ana("wamid.list1", 1767225603, "interactive", "Segunda via"), nil,
				`{"type": "list_reply", "list_reply": {"id": "opt2", "title": "Segunda via", "description": "Boleto"}}`),
		}}},
		{"image_caption.json", &whatsapp.Notification{Messages: []whatsapp.InboundMessage{
			with(ana("wamid.image1", 1767225610, "image", "Comprovante"),
				&whatsapp.InboundMedia{ID: "1234567890", MimeType: "image/jpeg", SHA256: "abc=", Caption: "Comprovante"}, ""),
			with(ana("wamid.doc1", 1767225611, "document", "nota-fiscal.pdf"),
				&whatsapp.InboundMedia{ID: "1234567891", MimeType: "application/pdf", SHA256: "def=", Filename: "nota-fiscal.pdf"}, ""),
			with(ana("wamid.sticker1", 1767225612, "sticker", ""), &whatsapp.InboundMedia{ID: "1234567892", MimeType: "image/webp", SHA256: "ghi="}, ""),
			with(ana("wamid.reaction1", 1767225613, "reaction", "👍"), nil, `{"message_id": "wamid.sent1", "emoji": "\ud83d\udc4d"}`),
			with(ana("wamid.location1", 1767225614, "location", "MASP, Av. Paulista, 1578"), nil,
				`{"latitude": -23.5613, "longitude": -46.6565, "name": "MASP", "address": "Av. Paulista, 1578"}`),
		}}},
		{"media_voice_contacts.json", &whatsapp.Notification{Messages: []whatsapp.InboundMessage{
			with(ana("wamid.voice1", 1767225650, "audio", ""),
				&whatsapp.InboundMedia{ID: "2234567890", MimeType: "audio/ogg; codecs=opus", SHA256: "dm9pY2U=", Voice: true}, ""),
			with(ana("wamid.video1", 1767225651, "video", "Olha isso"),
				&whatsapp.InboundMedia{ID: "2234567891", MimeType: "video/mp4", SHA256: "dmlkZW8=", Caption: "Olha isso"}, ""),
			with(ana("wamid.contacts1", 1767225652, "contacts", "Bia Souza"), nil,
				`{"contacts":[{"name":{"formatted_name":"Bia Souza","first_name":"Bia"},"phones":[{"phone":"+55 11 91234-5678","wa_id":"5511912345678","type":"CELL"}]}]}`),
			// A media message without an id carries nothing to fetch: its caption is still read.
			ana("wamid.noid1", 1767225653, "image", "sem id"),
		}}},
		{"statuses.json", &whatsapp.Notification{Statuses: []whatsapp.StatusUpdate{
			func() whatsapp.StatusUpdate {
				s := status("wamid.out1", "sent", 1767225700, "551187654321")
				s.Pricing = utility
				return s
			}(),
			func() whatsapp.StatusUpdate {
				s := status("wamid.out1", "delivered", 1767225701, "551187654321")
				s.Pricing = utility
				return s
			}(),
			status("wamid.out1", "read", 1767225760, "551187654321"),
			func() whatsapp.StatusUpdate {
				s := status("wamid.out2", "failed", 1767225800, "5511999998888")
				s.Errors = []whatsapp.StatusError{{
					Code: 131047, Title: "Re-engagement message", Message: "Re-engagement message",
					Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
				}}
				return s
			}(),
			func() whatsapp.StatusUpdate {
				s := status("wamid.out3", "delivered", 1767225801, "5511999997777")
				s.Pricing = &whatsapp.Pricing{Billable: false, PricingModel: "PMP", Category: "service", Type: "free_customer_service"}
				return s
			}(),
		}}},
		{"numeric_timestamps.json", &whatsapp.Notification{
			Messages: []whatsapp.InboundMessage{
				ana("wamid.num1", 1767225600, "text", "número"),
				func() whatsapp.InboundMessage {
					m := ana("wamid.num2", 0, "text", "sem hora")
					m.Timestamp = time.Time{}
					return m
				}(),
			},
			Statuses: []whatsapp.StatusUpdate{
				status("wamid.out9", "read", 1767225900, "5511987654321"),
				func() whatsapp.StatusUpdate {
					s := status("wamid.out10", "sent", 0, "5511987654321")
					s.Timestamp = time.Time{}
					return s
				}(),
			},
		}},
		{"template_status_update.json", &whatsapp.Notification{TemplateUpdates: []whatsapp.TemplateStatusUpdate{
			{WABAID: waba, Event: "APPROVED", TemplateID: "1689556908129832", Name: "pedido_confirmado", Language: "pt_BR", Reason: "NONE"},
			{WABAID: waba, Event: "REJECTED", TemplateID: "1689556908129835", Name: "carrinho_abandonado", Language: "pt_BR", Reason: "INVALID_FORMAT"},
		}, QualityUpdates: []whatsapp.TemplateQualityUpdate{
			{WABAID: waba, TemplateID: "806312974732579", Name: "boas_vindas", Language: "pt_BR", Previous: "GREEN", New: "YELLOW"},
		}}},
		{"template_quality_update.json", &whatsapp.Notification{QualityUpdates: []whatsapp.TemplateQualityUpdate{
			{WABAID: waba, TemplateID: "806312974732579", Name: "promo_natal", Language: "pt_BR", Previous: "GREEN", New: "RED"},
		}}},
		{"template_category_update.json", &whatsapp.Notification{CategoryUpdates: []whatsapp.TemplateCategoryUpdate{
			{WABAID: waba, TemplateID: "1689556908129832", Name: "pedido_confirmado", Language: "pt_BR", Previous: "UTILITY", New: "MARKETING"},
		}}},
		{"user_preferences.json", &whatsapp.Notification{Preferences: []whatsapp.UserPreference{
			{PhoneNumberID: phoneID, WABAID: waba, WaID: "5511987654321", Category: "marketing_messages", Value: "stop",
				Detail: "User requested to stop marketing messages", Timestamp: unix(1767225900)},
			{PhoneNumberID: phoneID, WABAID: waba, WaID: "551187654321", Category: "marketing_messages", Value: "resume",
				Detail: "User requested to resume marketing messages", Timestamp: unix(1767225960)},
			{PhoneNumberID: phoneID, WABAID: waba, WaID: "5511987654321", Category: "marketing_messages", Value: "signup",
				Detail: "User signed up via signup link", Timestamp: unix(1767226000)},
		}}},
		{"unknown_fields.json", &whatsapp.Notification{
			Messages: []whatsapp.InboundMessage{
				ana("wamid.future1", 1767225620, "hologram", ""),
				ana("wamid.unsupported1", 1767225621, "unsupported", ""),
			},
			Statuses: []whatsapp.StatusUpdate{status("wamid.out20", "played", 1767225622, "5511987654321")},
		}},
		{"batch.json", &whatsapp.Notification{
			Messages: []whatsapp.InboundMessage{
				{PhoneNumberID: "200000000000001", DisplayPhoneNumber: "5511940000001", WABAID: "111111111111111",
					From: "5511987654321", ContactName: "Ana", WaID: "5511987654321",
					ID: "wamid.b1", Timestamp: unix(1767225630), Type: "text", Text: "primeira"},
				{PhoneNumberID: "200000000000002", DisplayPhoneNumber: "5521940000002", WABAID: "222222222222222",
					From: "5521976543210", ContactName: "Carla", WaID: "5521976543210",
					ID: "wamid.b2", Timestamp: unix(1767225632), Type: "text", Text: "sou a Carla"},
				{PhoneNumberID: "200000000000002", DisplayPhoneNumber: "5521940000002", WABAID: "222222222222222",
					From: "552187654321", ContactName: "Bruno", WaID: "552187654321",
					ID: "wamid.b3", Timestamp: unix(1767225633), Type: "text", Text: "sou o Bruno"},
			},
			Statuses: []whatsapp.StatusUpdate{
				{PhoneNumberID: "200000000000001", WABAID: "111111111111111", ID: "wamid.outA", Status: "delivered",
					Timestamp: unix(1767225631), RecipientID: "5511987654321"},
				{PhoneNumberID: "200000000000002", WABAID: "222222222222222", ID: "wamid.outB", Status: "read",
					Timestamp: unix(1767225634), RecipientID: "5521976543210"},
			},
			TemplateUpdates: []whatsapp.TemplateStatusUpdate{
				{WABAID: "222222222222222", Event: "PAUSED", TemplateID: "42", Name: "promo", Language: "pt_BR", Reason: "LOW_QUALITY"},
			},
		}},
		{"username.json", &whatsapp.Notification{
			Messages: []whatsapp.InboundMessage{{
				PhoneNumberID: phoneID, DisplayPhoneNumber: display, WABAID: waba,
				ContactName: "Dani", UserID: "BR.1502576394655843",
				ID: "wamid.user1", Timestamp: unix(1767225640), Type: "text", Text: "oi, sou a Dani",
			}},
			Statuses: []whatsapp.StatusUpdate{{
				PhoneNumberID: phoneID, WABAID: waba, ID: "wamid.out30", Status: "delivered",
				Timestamp: unix(1767225641), RecipientUserID: "BR.1502576394655843",
			}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			n, err := whatsapp.ParseWebhook(readFixture(t, tt.file))
			require.NoError(t, err)
			require.Equal(t, tt.want, withoutRaw(t, n))
		})
	}
}

// TestParseWebhookRaw checks that Raw keeps the message object with the fields the flattened
// view leaves out (here the reply context).
func TestParseWebhookRaw(t *testing.T) {
	t.Parallel()
	n, err := whatsapp.ParseWebhook(readFixture(t, "button_reply.json"))
	require.NoError(t, err)
	require.Len(t, n.Messages, 3)
	var m struct {
		Context struct {
			ID string `json:"id"`
		} `json:"context"`
		Button struct {
			Payload string `json:"payload"`
		} `json:"button"`
	}
	require.NoError(t, json.Unmarshal(n.Messages[0].Raw, &m))
	require.Equal(t, "wamid.sent1", m.Context.ID)
	require.Equal(t, "CONFIRMAR", m.Button.Payload)
}

func TestParseWebhookMalformed(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		``, ` `, `{`, `not json`, `{"entry":[}`, `{"entry":[]}{}`, `[]`, `null`, `"text"`, `123`, `true`,
		`{"entry":[{"id":"1"}],}`, "\xff\xfe",
	} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			n, err := whatsapp.ParseWebhook([]byte(body))
			require.ErrorIs(t, err, whatsapp.ErrMalformed)
			require.Nil(t, n)
		})
	}
}

// TestParseWebhookLenient feeds values of unexpected types: they are skipped, never an error,
// and what can be read still is.
func TestParseWebhookLenient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		messages []string // ids
		statuses []string // ids
	}{
		{"empty object", `{}`, nil, nil},
		{"entry not a list", `{"entry":"x"}`, nil, nil},
		{"entry items of other types", `{"entry":[1,"a",null,{"id":"w","changes":[{"field":"messages","value":{"messages":[{"id":"wamid.ok","type":"text","text":{"body":"hi"}}]}}]}]}`, []string{"wamid.ok"}, nil},
		{"value not an object", `{"entry":[{"changes":[{"field":"messages","value":[1,2]}]}]}`, nil, nil},
		{"messages not a list", `{"entry":[{"changes":[{"field":"messages","value":{"messages":{"id":"x"},"statuses":[{"id":"wamid.s"}]}}]}]}`, nil, []string{"wamid.s"}},
		{"message items of other types", `{"entry":[{"changes":[{"field":"messages","value":{"messages":[5,"x",null,{"id":"wamid.m","timestamp":true,"text":"flat"}]}}]}]}`, []string{"wamid.m"}, nil},
		{"metadata of another type", `{"entry":[{"changes":[{"field":"messages","value":{"metadata":"x","contacts":"y","messages":[{"id":"wamid.m2","from":"1"}]}}]}]}`, []string{"wamid.m2"}, nil},
		{"status fields of other types", `{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.s2","errors":"none","pricing":"free","timestamp":{}}]}}]}]}`, nil, []string{"wamid.s2"}},
		{"field not a string", `{"entry":[{"changes":[{"field":7,"value":{"messages":[{"id":"wamid.no"}]}}]}]}`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := whatsapp.ParseWebhook([]byte(tt.body))
			require.NoError(t, err)
			var msgs, sts []string
			for _, m := range n.Messages {
				msgs = append(msgs, m.ID)
			}
			for _, s := range n.Statuses {
				sts = append(sts, s.ID)
			}
			require.Equal(t, tt.messages, msgs)
			require.Equal(t, tt.statuses, sts)
		})
	}
}

func TestParseWebhookTimestamps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ts   string
		want time.Time
	}{
		{`"1767225600"`, unix(1767225600)},
		{`1767225600`, unix(1767225600)},
		{`1767225600.0`, unix(1767225600)},
		{`1.7672256e9`, unix(1767225600)},
		{`" 1767225600"`, time.Time{}},
		{`"abc"`, time.Time{}},
		{`""`, time.Time{}},
		{`0`, time.Time{}},
		{`-1`, time.Time{}},
		{`1e300`, time.Time{}},
		{`99999999999999999999`, time.Time{}},
		{`null`, time.Time{}},
		{`true`, time.Time{}},
		{`{}`, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.ts, func(t *testing.T) {
			t.Parallel()
			body := `{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"wamid.t","timestamp":` + tt.ts + `}]}}]}]}`
			n, err := whatsapp.ParseWebhook([]byte(body))
			require.NoError(t, err)
			require.Len(t, n.Messages, 1)
			require.Equal(t, tt.want, n.Messages[0].Timestamp)
		})
	}
}

// TestParseWebhookMessageTexts covers the human-readable text of the remaining message types.
func TestParseWebhookMessageTexts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		message string
		want    string
	}{
		{"video caption", `{"type":"video","video":{"caption":"veja","id":"1"}}`, "veja"},
		{"document caption wins", `{"type":"document","document":{"caption":"segue","filename":"a.pdf"}}`, "segue"},
		{"voice", `{"type":"audio","audio":{"id":"1","voice":true}}`, ""},
		{"removed reaction", `{"type":"reaction","reaction":{"message_id":"wamid.x"}}`, ""},
		{"location without name", `{"type":"location","location":{"latitude":12.25089,"longitude":43.90539}}`, "12.25089, 43.90539"},
		{"contacts", `{"type":"contacts","contacts":[{"name":{"formatted_name":"Chandler Bing"}},{"name":{"first_name":"Monica","last_name":"Geller"}}]}`, "Chandler Bing, Monica Geller"},
		{"order", `{"type":"order","order":{"catalog_id":"1","text":"para hoje","product_items":[]}}`, "para hoje"},
		{"system", `{"type":"system","system":{"body":"User A changed number","type":"user_changed_number"}}`, "User A changed number"},
		{"flow reply", `{"type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":"{}"}}}`, "Sent"},
		{"quick reply without text", `{"type":"button","button":{"payload":"SIM"}}`, "SIM"},
		{"edit", `{"type":"edit","edit":{"original_message_id":"wamid.o","message":{"type":"image","image":{"caption":"nova legenda"}}}}`, "nova legenda"},
		{"edit of an edit stops", `{"type":"edit","edit":{"message":{"type":"edit","edit":{"message":{"type":"text","text":{"body":"deep"}}}}}}`, ""},
		{"revoke", `{"type":"revoke","revoke":{"original_message_id":"wamid.o"}}`, ""},
		{"unknown type with a text body", `{"type":"novelty","text":{"body":"still readable"}}`, "still readable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := `{"entry":[{"changes":[{"field":"messages","value":{"messages":[` + tt.message + `]}}]}]}`
			n, err := whatsapp.ParseWebhook([]byte(body))
			require.NoError(t, err)
			require.Len(t, n.Messages, 1)
			require.Equal(t, tt.want, n.Messages[0].Text)
		})
	}
}

// pywaCorpus is the real-world webhook corpus kept beside the repository in development
// checkouts; tests must pass without it.
func pywaCorpus(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WHATSAPP_WEBHOOK_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "fixtures", "meta-webhooks", "pywa")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Skipf("webhook corpus not found at %s", dir)
	}
	return dir
}

// TestParseWebhookCorpus replays real payloads collected by the pywa library: none may fail, and
// every message, status and template status update in them must come out.
func TestParseWebhookCorpus(t *testing.T) {
	t.Parallel()
	dir := pywaCorpus(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var total int
	for _, file := range files {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		var cases map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(raw, &cases), file)
		for name, body := range cases {
			t.Run(filepath.Base(file)+"/"+name, func(t *testing.T) {
				n, err := whatsapp.ParseWebhook(body)
				require.NoError(t, err)

				var generic struct {
					Entry []struct {
						Changes []struct {
							Field string `json:"field"`
							Value struct {
								Messages []map[string]any `json:"messages"`
								Statuses []map[string]any `json:"statuses"`
							} `json:"value"`
						} `json:"changes"`
					} `json:"entry"`
				}
				require.NoError(t, json.Unmarshal(body, &generic))
				var wantMsgs, wantStatuses, wantTemplates int
				for _, e := range generic.Entry {
					for _, c := range e.Changes {
						switch c.Field {
						case "messages":
							wantMsgs += len(c.Value.Messages)
							wantStatuses += len(c.Value.Statuses)
						case "message_template_status_update":
							wantTemplates++
						}
					}
				}
				require.Len(t, n.Messages, wantMsgs)
				require.Len(t, n.Statuses, wantStatuses)
				require.Len(t, n.TemplateUpdates, wantTemplates)
				for _, m := range n.Messages {
					require.NotEmpty(t, m.ID)
					require.NotEmpty(t, m.Type)
					require.False(t, m.Timestamp.IsZero(), "timestamp of %s", m.ID)
					require.NotEmpty(t, m.PhoneNumberID)
					switch m.Type {
					case "text", "button", "system":
						require.NotEmpty(t, m.Text, "text of a %s message", m.Type)
					}
				}
				for _, s := range n.Statuses {
					require.NotEmpty(t, s.ID)
					require.NotEmpty(t, s.Status)
					require.False(t, s.Timestamp.IsZero())
				}
				for _, u := range n.TemplateUpdates {
					require.NotEmpty(t, u.Event)
					require.NotEmpty(t, u.TemplateID)
				}
				total += len(n.Messages) + len(n.Statuses) + len(n.TemplateUpdates)
			})
		}
	}
	require.Positive(t, total)
}
