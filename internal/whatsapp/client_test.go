package whatsapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

type bundle struct {
	fake   *whatsapptest.Fake
	client *whatsapp.Client
	creds  whatsapp.Credentials
}

func setup(t *testing.T) bundle {
	t.Helper()
	fake := whatsapptest.NewFake(t)
	fake.SetAccessToken("EAAtoken")
	return bundle{
		fake:   fake,
		client: whatsapp.NewClient(whatsapp.Config{BaseURL: fake.URL}),
		creds:  whatsapp.Credentials{PhoneNumberID: "106540352242922", WABAID: "102290129340398", AccessToken: "EAAtoken"},
	}
}

func TestSendTemplateBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		to         string
		template   string
		language   string
		components string
		wantBody   string
	}{
		{
			name:     "header, body and url button (Meta's example)",
			to:       "+5511987654321",
			template: "order_update", language: "pt_BR",
			components: `[
				{"type":"header","parameters":[{"type":"text","text":"Pedido 123"}]},
				{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"R$ 50"}]},
				{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"abc123"}]}]`,
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987654321","type":"template",` +
				`"template":{"name":"order_update","language":{"code":"pt_BR"},"components":[` +
				`{"type":"header","parameters":[{"type":"text","text":"Pedido 123"}]},` +
				`{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"R$ 50"}]},` +
				`{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"abc123"}]}]}}`,
		},
		{
			name:     "named parameters",
			to:       "+5511987654321",
			template: "boas_vindas", language: "pt_BR",
			components: `[{"type":"body","parameters":[{"type":"text","parameter_name":"nome","text":"João"},{"type":"text","parameter_name":"atendente","text":"Ana & Cia <SP>"}]}]`,
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987654321","type":"template",` +
				`"template":{"name":"boas_vindas","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[` +
				`{"type":"text","parameter_name":"nome","text":"João"},{"type":"text","parameter_name":"atendente","text":"Ana & Cia <SP>"}]}]}}`,
		},
		{
			name:     "positional parameters, recipient without plus",
			to:       "5511987654321",
			template: "lembrete", language: "pt_BR",
			components: `[{"type":"body","parameters":[{"type":"text","text":"João"},{"type":"text","text":"amanhã"}]}]`,
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987654321","type":"template",` +
				`"template":{"name":"lembrete","language":{"code":"pt_BR"},"components":[{"type":"body","parameters":[` +
				`{"type":"text","text":"João"},{"type":"text","text":"amanhã"}]}]}}`,
		},
		{
			name:     "no components",
			to:       "+5511987654321",
			template: "hello_world", language: "en_US",
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987654321","type":"template",` +
				`"template":{"name":"hello_world","language":{"code":"en_US"}}}`,
		},
		{
			name:     "null components",
			to:       "+5511987654321",
			template: "hello_world", language: "en_US", components: "null",
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987654321","type":"template",` +
				`"template":{"name":"hello_world","language":{"code":"en_US"}}}`,
		},
		{
			name:     "empty components",
			to:       "+5511987654321",
			template: "hello_world", language: "en_US", components: " [] ",
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987654321","type":"template",` +
				`"template":{"name":"hello_world","language":{"code":"en_US"}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t)
			var comps json.RawMessage
			if tt.components != "" {
				comps = json.RawMessage(tt.components)
			}
			res, err := s.client.SendTemplate(context.Background(), s.creds, tt.to, tt.template, tt.language, comps)
			require.NoError(t, err)
			require.Equal(t, whatsapp.SendResult{
				MessageID: "wamid.1", WaID: "5511987654321", Input: "+5511987654321", MessageStatus: "accepted",
			}, res)

			reqs := s.fake.Requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			require.Equal(t, http.MethodPost, r.Method)
			require.Equal(t, "/v25.0/106540352242922/messages", r.Path)
			require.Equal(t, "Bearer EAAtoken", r.Header.Get("Authorization"))
			require.Equal(t, "application/json", r.Header.Get("Content-Type"))
			require.Equal(t, tt.wantBody, string(r.Body))
			require.Equal(t, []string{tt.wantBody}, s.fake.Bodies())
		})
	}
}

func TestSendText(t *testing.T) {
	t.Parallel()
	s := setup(t)
	res, err := s.client.SendText(context.Background(), s.creds, "5511987654321", "Olá! Segue o link: https://example.com/?a=1&b=2")
	require.NoError(t, err)
	require.Equal(t, whatsapp.SendResult{MessageID: "wamid.1", WaID: "5511987654321", Input: "+5511987654321"}, res)
	require.Equal(t, []string{
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+5511987654321","type":"text",` +
			`"text":{"preview_url":false,"body":"Olá! Segue o link: https://example.com/?a=1&b=2"}}`,
	}, s.fake.Bodies())
	r := s.fake.Requests()[0]
	require.Equal(t, "/v25.0/106540352242922/messages", r.Path)
	require.Equal(t, "Bearer EAAtoken", r.Header.Get("Authorization"))
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
}

func TestSendBrazilianWaID(t *testing.T) {
	t.Parallel()
	s := setup(t)
	s.fake.SetWaID("+5511987654321", "551187654321")
	res, err := s.client.SendText(context.Background(), s.creds, "+5511987654321", "oi")
	require.NoError(t, err)
	require.Equal(t, "551187654321", res.WaID)
	require.Equal(t, "+5511987654321", res.Input)
}

func TestConfigVersionAndBase(t *testing.T) {
	t.Parallel()
	s := setup(t)
	c := whatsapp.NewClient(whatsapp.Config{BaseURL: s.fake.URL + "/", Version: "v21.0"})
	_, err := c.SendText(context.Background(), s.creds, "+5511987654321", "oi")
	require.NoError(t, err)
	require.Equal(t, "/v21.0/106540352242922/messages", s.fake.Requests()[0].Path)
}

func TestSendInvalidArguments(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := context.Background()
	noToken := s.creds
	noToken.AccessToken = ""
	noPhone := s.creds
	noPhone.PhoneNumberID = ""
	calls := map[string]func() error{
		"no token":     func() error { _, err := s.client.SendText(ctx, noToken, "+5511987654321", "oi"); return err },
		"no phone id":  func() error { _, err := s.client.SendText(ctx, noPhone, "+5511987654321", "oi"); return err },
		"no recipient": func() error { _, err := s.client.SendText(ctx, s.creds, " + ", "oi"); return err },
		"empty text":   func() error { _, err := s.client.SendText(ctx, s.creds, "+5511987654321", ""); return err },
		"no template name": func() error {
			_, err := s.client.SendTemplate(ctx, s.creds, "+5511987654321", "", "pt_BR", nil)
			return err
		},
		"no language": func() error {
			_, err := s.client.SendTemplate(ctx, s.creds, "+5511987654321", "x", "", nil)
			return err
		},
		"invalid component": func() error {
			_, err := s.client.SendTemplate(ctx, s.creds, "+5511987654321", "x", "pt_BR", json.RawMessage(`[{`))
			return err
		},
		"list without waba": func() error { _, err := s.client.ListTemplates(ctx, noPhone2(s.creds)); return err },
	}
	for name, call := range calls {
		err := call()
		require.ErrorIs(t, err, whatsapp.ErrInvalidArgument, name)
		require.False(t, whatsapp.IsTransient(err), name)
	}
	require.Empty(t, s.fake.Requests())
}

func noPhone2(c whatsapp.Credentials) whatsapp.Credentials {
	c.WABAID = ""
	return c
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name          string
		status        int
		body          string
		headers       map[string]string
		wantCode      int
		wantSubcode   int
		wantTransient bool
		wantTitle     string
		wantDetails   string
		wantRetry     time.Duration // exact, or the lower bound when retryAtLeast
		retryAtLeast  bool
	}{
		{
			name:   "131047 re-engagement",
			status: 400,
			body: `{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,` +
				`"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"AbCdEf"}}`,
			wantCode: 131047, wantTitle: "Re-engagement message",
			wantDetails: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
		},
		{
			name:     "131026 undeliverable",
			status:   400,
			body:     whatsapptest.ErrorBody(131026, "Message undeliverable", "Unable to deliver message."),
			wantCode: 131026, wantTitle: "Message undeliverable", wantDetails: "Unable to deliver message.",
		},
		{
			name:     "132000 parameter count mismatch",
			status:   400,
			body:     whatsapptest.ErrorBody(132000, "Number of parameters does not match the expected number of params", "body: number of localizable_params (1) does not match the expected number of params (2)"),
			wantCode: 132000, wantTitle: "Number of parameters does not match the expected number of params",
			wantDetails: "body: number of localizable_params (1) does not match the expected number of params (2)",
		},
		{
			name:     "132001 template does not exist, with a 404",
			status:   404,
			body:     whatsapptest.ErrorBody(132001, "Template name does not exist in the translation", "template name (x) does not exist in pt_BR"),
			wantCode: 132001, wantTitle: "Template name does not exist in the translation",
			wantDetails: "template name (x) does not exist in pt_BR",
		},
		{
			name:     "132012 parameter format mismatch",
			status:   400,
			body:     whatsapptest.ErrorBody(132012, "Parameter format does not match format in the created template", "header: Format mismatch"),
			wantCode: 132012, wantTitle: "Parameter format does not match format in the created template", wantDetails: "header: Format mismatch",
		},
		{
			name:     "131056 pair rate limit is transient despite the 400",
			status:   400,
			body:     whatsapptest.ErrorBody(131056, "(Business Account, Consumer Account) pair rate limit hit", "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."),
			wantCode: 131056, wantTransient: true, wantTitle: "(Business Account, Consumer Account) pair rate limit hit",
			wantDetails: "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
		},
		{
			name:     "130429 throughput with Retry-After seconds",
			status:   429,
			body:     whatsapptest.ErrorBody(130429, "Rate limit hit", "Cloud API message throughput has been reached."),
			headers:  map[string]string{"Retry-After": "7"},
			wantCode: 130429, wantTransient: true, wantTitle: "Rate limit hit", wantDetails: "Cloud API message throughput has been reached.",
			wantRetry: 7 * time.Second,
		},
		{
			name:     "130429 with Retry-After as an HTTP date",
			status:   400,
			body:     whatsapptest.ErrorBody(130429, "Rate limit hit", ""),
			headers:  map[string]string{"Retry-After": httpDate},
			wantCode: 130429, wantTransient: true, wantTitle: "Rate limit hit",
			wantRetry: 80 * time.Second, retryAtLeast: true,
		},
		{
			name:   "190 expired token with subcode and user title",
			status: 401,
			body: `{"error":{"message":"Error validating access token: Session has expired on Friday, 02-Jan-26 10:00:00 PST.",` +
				`"type":"OAuthException","code":190,"error_subcode":463,"error_user_title":"Token expirado","fbtrace_id":"A1"}}`,
			wantCode: 190, wantSubcode: 463, wantTitle: "Token expirado",
		},
		{
			name:     "4 app rate limit",
			status:   400,
			body:     `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"fbtrace_id":"A2"}}`,
			wantCode: 4, wantTransient: true, wantTitle: "Application request limit reached",
		},
		{
			name:      "500 with an HTML body",
			status:    500,
			body:      "<html><body><h1>500 Internal Server Error</h1></body></html>",
			wantTitle: "Internal Server Error", wantTransient: true,
		},
		{
			name:     "503 with JSON and an unknown code",
			status:   503,
			body:     `{"error":{"message":"Service temporarily unavailable","type":"OAuthException","code":2,"fbtrace_id":"A3"}}`,
			wantCode: 2, wantTransient: true, wantTitle: "Service temporarily unavailable",
		},
		{
			name:     "500 with a known permanent code stays permanent",
			status:   500,
			body:     whatsapptest.ErrorBody(131026, "Message undeliverable", ""),
			wantCode: 131026, wantTitle: "Message undeliverable",
		},
		{
			name:      "429 with an empty body",
			status:    429,
			wantTitle: "Too Many Requests", wantTransient: true,
			headers: map[string]string{"Retry-After": "2"}, wantRetry: 2 * time.Second,
		},
		{
			name:      "404 from something that is not Meta",
			status:    404,
			body:      "not found",
			wantTitle: "Not Found",
		},
		{
			name:     "unknown code on a 400 is permanent",
			status:   400,
			body:     whatsapptest.ErrorBody(999999, "Something new", ""),
			wantCode: 999999, wantTitle: "Something new",
		},
		{
			name:     "131000 something went wrong",
			status:   500,
			body:     whatsapptest.ErrorBody(131000, "Something went wrong", ""),
			wantCode: 131000, wantTransient: true, wantTitle: "Something went wrong",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t)
			s.fake.FailNext(1, tt.status, tt.body, tt.headers)
			_, err := s.client.SendTemplate(context.Background(), s.creds, "+5511987654321", "x", "pt_BR", nil)
			require.Error(t, err)
			var e *whatsapp.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tt.status, e.HTTPStatus)
			require.Equal(t, tt.wantCode, e.Code)
			require.Equal(t, tt.wantSubcode, e.Subcode)
			require.Equal(t, tt.wantTransient, e.Transient)
			require.Equal(t, tt.wantTransient, whatsapp.IsTransient(err))
			require.Equal(t, tt.wantTitle, e.Title)
			require.Equal(t, tt.wantDetails, e.Details)
			if tt.retryAtLeast {
				require.GreaterOrEqual(t, whatsapp.RetryAfter(err), tt.wantRetry)
				require.LessOrEqual(t, whatsapp.RetryAfter(err), 91*time.Second)
			} else {
				require.Equal(t, tt.wantRetry, whatsapp.RetryAfter(err))
			}
			if tt.wantCode != 0 {
				require.Contains(t, err.Error(), "code "+itoa(tt.wantCode))
			}
			require.Nil(t, e.Unwrap())
			require.Equal(t, 0, s.fake.Count(), "a failed send is not counted")

			// The next send goes through: FailNext scripted one answer only.
			res, err := s.client.SendText(context.Background(), s.creds, "+5511987654321", "oi")
			require.NoError(t, err)
			require.Equal(t, "wamid.1", res.MessageID)
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestErrorFields(t *testing.T) {
	t.Parallel()
	s := setup(t)
	s.fake.FailNext(1, 400, `{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"details":"24h"},"fbtrace_id":"AbCdEf"}}`, nil)
	_, err := s.client.SendText(context.Background(), s.creds, "+5511987654321", "oi")
	var e *whatsapp.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "OAuthException", e.Type)
	require.Equal(t, "(#131047) Re-engagement message", e.Message)
	require.Equal(t, "AbCdEf", e.FBTraceID)
	require.Equal(t, "send text: whatsapp: api error code 131047 (http 400): (#131047) Re-engagement message: 24h", err.Error())
}

func TestSendWrongToken(t *testing.T) {
	t.Parallel()
	s := setup(t)
	creds := s.creds
	creds.AccessToken = "stale"
	_, err := s.client.SendText(context.Background(), creds, "+5511987654321", "oi")
	var e *whatsapp.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, 190, e.Code)
	require.Equal(t, http.StatusUnauthorized, e.HTTPStatus)
	require.False(t, e.Transient)
}

func TestSendNetworkErrors(t *testing.T) {
	t.Parallel()

	check := func(t *testing.T, err error) *whatsapp.Error {
		t.Helper()
		var e *whatsapp.Error
		require.ErrorAs(t, err, &e)
		require.True(t, e.Transient)
		require.True(t, whatsapp.IsTransient(err))
		require.Equal(t, 0, e.Code)
		require.Equal(t, 0, e.HTTPStatus)
		require.Error(t, e.Unwrap())
		return e
	}

	t.Run("connection reset", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		s.fake.SetRespond(func(whatsapptest.Request) *whatsapptest.Response {
			return &whatsapptest.Response{Hangup: true}
		})
		_, err := s.client.SendText(context.Background(), s.creds, "+5511987654321", "oi")
		check(t, err)
		require.Len(t, s.fake.Requests(), 1, "a POST is not retried by the transport")
	})

	t.Run("server closed", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		s.fake.Close()
		_, err := s.client.SendText(context.Background(), s.creds, "+5511987654321", "oi")
		check(t, err)
	})

	t.Run("context deadline", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		s.fake.SetLatency(5 * time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := s.client.SendText(ctx, s.creds, "+5511987654321", "oi")
		require.Less(t, time.Since(start), 3*time.Second)
		check(t, err)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})

	t.Run("client timeout", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		s.fake.SetLatency(5 * time.Second)
		c := whatsapp.NewClient(whatsapp.Config{BaseURL: s.fake.URL, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
		_, err := c.SendText(context.Background(), s.creds, "+5511987654321", "oi")
		check(t, err)
	})

	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := s.client.SendText(ctx, s.creds, "+5511987654321", "oi")
		check(t, err)
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestSendSuccessWithoutMessageID(t *testing.T) {
	t.Parallel()
	s := setup(t)
	s.fake.FailNext(1, 200, `{"messaging_product":"whatsapp","contacts":[{"input":"+5511987654321","wa_id":"5511987654321"}],"messages":[]}`, nil)
	_, err := s.client.SendText(context.Background(), s.creds, "+5511987654321", "oi")
	var e *whatsapp.Error
	require.ErrorAs(t, err, &e)
	require.False(t, e.Transient, "the message may have been accepted: retrying could send it twice")
}

func TestIsTransientOnOtherErrors(t *testing.T) {
	t.Parallel()
	require.False(t, whatsapp.IsTransient(nil))
	require.False(t, whatsapp.IsTransient(errors.New("x")))
	require.Equal(t, time.Duration(0), whatsapp.RetryAfter(errors.New("x")))
	wrapped := errors.Join(errors.New("ctx"), &whatsapp.Error{Transient: true, RetryAfter: time.Second})
	require.True(t, whatsapp.IsTransient(wrapped))
	require.Equal(t, time.Second, whatsapp.RetryAfter(wrapped))
}

func templatesFixture(n int) []whatsapp.Template {
	out := make([]whatsapp.Template, n)
	for i := range out {
		name := "modelo_" + string(rune('a'+i))
		format := "POSITIONAL"
		body := `[{"type":"BODY","text":"Olá {{1}}"}]`
		if i%2 == 1 {
			format = "NAMED"
			body = `[{"type":"HEADER","format":"TEXT","text":"Pedido"},{"type":"BODY","text":"Olá {{nome}}","example":{"body_text_named_params":[{"param_name":"nome","example":"Ana"}]}},{"type":"FOOTER","text":"Loja"}]`
		}
		out[i] = whatsapp.Template{
			ID: itoa(1000 + i), Name: name, Language: "pt_BR", Status: "APPROVED", Category: "UTILITY",
			ParameterFormat: format, Components: json.RawMessage(body),
		}
	}
	if n > 3 {
		out[2].Status = "PENDING"
		out[3].Category = "MARKETING"
	}
	return out
}

func TestListTemplatesPages(t *testing.T) {
	t.Parallel()
	s := setup(t)
	want := templatesFixture(7)
	s.fake.SetTemplates(s.creds.WABAID, want...)
	s.fake.SetTemplates("other-waba", templatesFixture(2)...)
	s.fake.SetPageSize(3)

	got, err := s.client.ListTemplates(context.Background(), s.creds)
	require.NoError(t, err)
	require.Equal(t, want, got)

	reqs := s.fake.Requests()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		require.Equal(t, http.MethodGet, r.Method)
		require.Equal(t, "/v25.0/102290129340398/message_templates", r.Path)
		require.Equal(t, "Bearer EAAtoken", r.Header.Get("Authorization"))
		require.Equal(t, i > 0, r.Query.Has("after"), "request %d", i)
	}
	require.Equal(t, "100", reqs[0].Query.Get("limit"))
	require.Contains(t, reqs[0].Query.Get("fields"), "parameter_format")
}

func TestListTemplatesNextOnAnotherHost(t *testing.T) {
	t.Parallel()
	s := setup(t)
	want := templatesFixture(7)
	s.fake.SetTemplates(s.creds.WABAID, want...)
	s.fake.SetPageSize(3)
	// Meta's next links are absolute; one pointing elsewhere must not receive our token.
	s.fake.SetNextBaseURL("http://127.0.0.2:1")

	got, err := s.client.ListTemplates(context.Background(), s.creds)
	require.NoError(t, err)
	require.Equal(t, want, got)
	reqs := s.fake.Requests()
	require.Len(t, reqs, 3)
	require.Equal(t, "100", reqs[1].Query.Get("limit"))
	require.NotEmpty(t, reqs[1].Query.Get("after"))
}

func TestListTemplatesEmptyAndErrors(t *testing.T) {
	t.Parallel()
	s := setup(t)
	got, err := s.client.ListTemplates(context.Background(), s.creds)
	require.NoError(t, err)
	require.Empty(t, got)

	s.fake.SetTemplates(s.creds.WABAID, templatesFixture(5)...)
	s.fake.SetPageSize(2)
	s.fake.SetRespond(func(r whatsapptest.Request) *whatsapptest.Response {
		if r.Query.Has("after") {
			return &whatsapptest.Response{Status: 503, Body: "upstream unavailable"}
		}
		return nil
	})
	_, err = s.client.ListTemplates(context.Background(), s.creds)
	require.True(t, whatsapp.IsTransient(err))
	require.True(t, strings.Contains(err.Error(), "page 2"), err.Error())
}

func TestListTemplatesPagingLoop(t *testing.T) {
	t.Parallel()
	s := setup(t)
	s.fake.SetRespond(func(r whatsapptest.Request) *whatsapptest.Response {
		// A provider bug: every page says the next page is the same one.
		return &whatsapptest.Response{Body: `{"data":[],"paging":{"cursors":{"after":"same"},"next":"` + s.fake.URL + `/v25.0/x/message_templates?after=same"}}`}
	})
	_, err := s.client.ListTemplates(context.Background(), s.creds)
	require.ErrorContains(t, err, "paging does not end")
	require.Len(t, s.fake.Requests(), 2)
}
