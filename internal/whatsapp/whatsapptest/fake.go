// Package whatsapptest provides a fake of the WhatsApp Cloud (Graph) API for tests: a local HTTP
// server that accepts message sends and serves template lists in Meta's wire format, records
// every request so tests can check exact bodies, and can be scripted to fail, slow down or hang
// up. It is safe for concurrent use, so dispatcher tests can send to it from many goroutines.
package whatsapptest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atendimento/atendimento/internal/whatsapp"
)

// defaultPageSize is Meta's page size when a list request gives no limit.
const defaultPageSize = 25

// Request is one request the fake received.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path, such as /v25.0/1234/messages.
	Path string
	// Query is the parsed query string.
	Query url.Values
	// Header holds the request headers.
	Header http.Header
	// Body is the raw request body.
	Body []byte
	// Time is when the request arrived.
	Time time.Time
}

// Response is a scripted answer. A zero Status means 200.
type Response struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Body is sent as is.
	Body string
	// Headers are added to the response (Content-Type defaults to application/json).
	Headers map[string]string
	// Hangup closes the connection without answering, as a reset or a crashed proxy would.
	Hangup bool
	// AcceptThenHangup accepts the message (it counts in Messages, as Meta would deliver it)
	// and then closes the connection without answering: the sender cannot tell it was sent, so
	// its retry is the one duplicate the Cloud API allows. AcceptedThenHungUp counts them.
	AcceptThenHangup bool
}

// Message is one message the fake accepted.
type Message struct {
	// ID is the wamid it answered with.
	ID string
	// PhoneNumberID is the sender number's id from the path.
	PhoneNumberID string
	// To is the recipient as sent.
	To string
	// WaID is the wa_id it answered with.
	WaID string
	// Type is the message type (template, text).
	Type string
	// Body is the raw request body.
	Body []byte
	// Time is when it arrived.
	Time time.Time
}

// Fake is a running fake Graph API. Point a whatsapp.Client at URL.
type Fake struct {
	// URL is the base URL of the fake, for whatsapp.Config.BaseURL.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server
	// Respond, when set, is asked first for every request that FailNext has not scripted; a nil
	// answer falls through to the default behaviour. Set it before the first request, or use
	// SetRespond to change it while requests are in flight.
	Respond func(req Request) *Response

	mu          sync.Mutex
	requests    []Request
	messages    []Message
	failNext    []Response
	latency     time.Duration
	waIDs       map[string]string
	token       string
	templates   map[string][]whatsapp.Template
	phones      map[string]whatsapp.PhoneNumber
	pageSize    int
	nextBaseURL string
	seq         int
	hungUp      int
	changed     chan struct{}
	done        chan struct{}
	media       map[string]fakeMedia
	declared    map[string]string
	expire      int
	stall       int
	stallAfter  int
	stalled     chan struct{}
	uploads     []Upload
}

// NewFake starts a fake Graph API that is closed when the test ends.
func NewFake(t testing.TB) *Fake {
	t.Helper()
	f := &Fake{
		waIDs:     map[string]string{},
		templates: map[string][]whatsapp.Template{},
		phones:    map[string]whatsapp.PhoneNumber{},
		changed:   make(chan struct{}),
		done:      make(chan struct{}),
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.Server.URL
	t.Cleanup(f.Close)
	return f
}

// Close stops the server; later requests fail to connect. NewFake arranges for it at the end of
// the test, and calling it twice is harmless.
func (f *Fake) Close() {
	f.mu.Lock()
	select {
	case <-f.done:
		f.mu.Unlock()
		return
	default:
		close(f.done)
	}
	f.mu.Unlock()
	f.Server.Close()
}

// FailNext makes the next n requests (to any endpoint) answer status with body and headers
// instead of their normal answer.
func (f *Fake) FailNext(n int, status int, body string, headers map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failNext = append(f.failNext, Response{Status: status, Body: body, Headers: headers})
	}
}

// SetRespond replaces the Respond hook safely while requests may be in flight.
func (f *Fake) SetRespond(fn func(req Request) *Response) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Respond = fn
}

// SetLatency delays every answer by d (a cancelled request stops waiting).
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// SetWaID makes sends to the number to answer with waID instead of to's digits, as Meta does for
// Brazilian numbers registered before the ninth digit (+5511987654321 → 551187654321).
func (f *Fake) SetWaID(to, waID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waIDs[digits(to)] = waID
}

// SetAccessToken makes the fake accept only this bearer token and answer anything else with
// Meta's 401 code 190. By default any non-empty token is accepted.
func (f *Fake) SetAccessToken(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.token = token
}

// SetTemplates sets the templates served for the WhatsApp Business Account wabaID.
func (f *Fake) SetTemplates(wabaID string, templates ...whatsapp.Template) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.templates[wabaID] = append([]whatsapp.Template(nil), templates...)
}

// SetPhoneNumber makes GET /{p.ID} answer with p (display_phone_number, verified_name,
// quality_rating). Any other id is Meta's 400 code 100 subcode 33: no such object.
func (f *Fake) SetPhoneNumber(p whatsapp.PhoneNumber) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.phones[p.ID] = p
}

// SetPageSize caps the page size of template lists (whatever limit the client asks), so a few
// templates span several pages.
func (f *Fake) SetPageSize(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pageSize = n
}

// SetNextBaseURL makes paging.next links point at base instead of the fake, to check that a
// client does not follow them to another host.
func (f *Fake) SetNextBaseURL(base string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextBaseURL = strings.TrimRight(base, "/")
}

// Requests returns every request received so far, in arrival order.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	for i, r := range f.requests {
		out[i] = cloneRequest(r)
	}
	return out
}

// Bodies returns the raw bodies of every POST to a messages endpoint so far, accepted or not, in
// arrival order.
func (f *Fake) Bodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/messages") {
			out = append(out, string(r.Body))
		}
	}
	return out
}

// Messages returns the messages accepted (answered 2xx) so far, in the order they were answered.
func (f *Fake) Messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Message, len(f.messages))
	for i, m := range f.messages {
		m.Body = bytes.Clone(m.Body)
		out[i] = m
	}
	return out
}

// Count returns how many messages were accepted so far.
func (f *Fake) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.messages)
}

// AcceptedThenHungUp returns how many messages were accepted and then answered with a hang-up
// (Response.AcceptThenHangup): each is a send its sender may repeat.
func (f *Fake) AcceptedThenHungUp() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hungUp
}

// WaitFor waits until at least n messages have been accepted, and reports whether that happened
// within timeout.
func (f *Fake) WaitFor(n int, timeout time.Duration) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		f.mu.Lock()
		count, changed := len(f.messages), f.changed
		f.mu.Unlock()
		if count >= n {
			return true
		}
		select {
		case <-changed:
		case <-timer.C:
			return f.Count() >= n
		}
	}
}

func (f *Fake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readAll(r)
	if err != nil {
		return
	}
	req := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		Body:   body,
		Time:   time.Now(),
	}

	f.mu.Lock()
	f.requests = append(f.requests, req)
	latency := f.latency
	var scripted *Response
	if len(f.failNext) > 0 {
		scripted = &f.failNext[0]
		f.failNext = f.failNext[1:]
	}
	respond := f.Respond
	f.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-f.done:
			// Closing: drop the connection rather than let net/http answer an empty 200.
			t.Stop()
			f.write(w, req, Response{Hangup: true})
			return
		}
	}

	if scripted == nil && respond != nil {
		scripted = respond(cloneRequest(req))
	}
	if scripted != nil && scripted.AcceptThenHangup {
		if resp := f.sendMessage(req); resp.Status >= 200 && resp.Status <= 299 && strings.HasSuffix(req.Path, "/messages") {
			f.recordMessage(req, resp.Body)
			f.mu.Lock()
			f.hungUp++
			f.mu.Unlock()
		}
		f.write(w, req, Response{Hangup: true})
		return
	}
	if scripted != nil {
		f.write(w, req, *scripted)
		return
	}

	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if f.serveMedia(r.Context(), w, req, parts) {
		return
	}
	switch {
	case len(parts) == 3 && parts[2] == "messages" && r.Method == http.MethodPost:
		f.write(w, req, f.sendMessage(req))
	case len(parts) == 3 && parts[2] == "message_templates" && r.Method == http.MethodGet:
		f.write(w, req, f.listTemplates(req, parts[1]))
	case len(parts) == 2 && r.Method == http.MethodGet:
		f.write(w, req, f.phoneNumber(req, parts[1]))
	default:
		f.write(w, req, metaError(http.StatusBadRequest, 100, "OAuthException",
			"Unsupported "+strings.ToLower(r.Method)+" request.", ""))
	}
}

// write sends resp and, for an accepted message, records it.
func (f *Fake) write(w http.ResponseWriter, req Request, resp Response) {
	if resp.Hangup {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if status >= 200 && status <= 299 && req.Method == http.MethodPost && strings.HasSuffix(req.Path, "/messages") {
		f.recordMessage(req, resp.Body)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(resp.Body))
}

func (f *Fake) recordMessage(req Request, respBody string) {
	var in struct {
		To   string `json:"to"`
		Type string `json:"type"`
	}
	_ = json.Unmarshal(req.Body, &in)
	var out struct {
		Contacts []struct {
			WaID string `json:"wa_id"`
		} `json:"contacts"`
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	_ = json.Unmarshal([]byte(respBody), &out)
	m := Message{To: in.To, Type: in.Type, Body: req.Body, Time: req.Time}
	if parts := strings.Split(strings.Trim(req.Path, "/"), "/"); len(parts) >= 2 {
		m.PhoneNumberID = parts[len(parts)-2]
	}
	if len(out.Messages) > 0 {
		m.ID = out.Messages[0].ID
	}
	if len(out.Contacts) > 0 {
		m.WaID = out.Contacts[0].WaID
	}
	f.mu.Lock()
	f.messages = append(f.messages, m)
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// checkAuth answers Meta's 401 when the bearer token is missing or not the expected one.
func (f *Fake) checkAuth(req Request) *Response {
	f.mu.Lock()
	want := f.token
	f.mu.Unlock()
	got, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" || (want != "" && got != want) {
		r := metaError(http.StatusUnauthorized, 190, "OAuthException",
			"Invalid OAuth access token - Cannot parse access token", "")
		return &r
	}
	return nil
}

func (f *Fake) sendMessage(req Request) Response {
	if r := f.checkAuth(req); r != nil {
		return *r
	}
	if !strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		return metaError(http.StatusBadRequest, 100, "OAuthException", "(#100) Invalid parameter", "Content-Type must be application/json")
	}
	var in struct {
		MessagingProduct string          `json:"messaging_product"`
		To               string          `json:"to"`
		Type             string          `json:"type"`
		Template         json.RawMessage `json:"template"`
		Text             json.RawMessage `json:"text"`
	}
	if err := json.Unmarshal(req.Body, &in); err != nil {
		return metaError(http.StatusBadRequest, 100, "OAuthException", "(#100) Invalid parameter", "body is not valid JSON: "+err.Error())
	}
	switch {
	case in.MessagingProduct != "whatsapp":
		return metaError(http.StatusBadRequest, 100, "OAuthException", "(#100) The parameter messaging_product is required.", "")
	case digits(in.To) == "":
		return metaError(http.StatusBadRequest, 100, "OAuthException", "(#100) The parameter to is required.", "")
	case in.Type == "template" && len(in.Template) == 0, in.Type == "text" && len(in.Text) == 0:
		return metaError(http.StatusBadRequest, 100, "OAuthException", "(#100) Param "+in.Type+" is required.", "")
	}

	f.mu.Lock()
	f.seq++
	id := "wamid." + strconv.Itoa(f.seq)
	waID, ok := f.waIDs[digits(in.To)]
	f.mu.Unlock()
	if !ok {
		waID = digits(in.To)
	}
	type contact struct {
		Input string `json:"input"`
		WaID  string `json:"wa_id"`
	}
	type message struct {
		ID            string `json:"id"`
		MessageStatus string `json:"message_status,omitempty"`
	}
	out := struct {
		MessagingProduct string    `json:"messaging_product"`
		Contacts         []contact `json:"contacts"`
		Messages         []message `json:"messages"`
	}{"whatsapp", []contact{{in.To, waID}}, []message{{ID: id}}}
	if in.Type == "template" {
		out.Messages[0].MessageStatus = "accepted"
	}
	b, _ := json.Marshal(out)
	return Response{Status: http.StatusOK, Body: string(b)}
}

func (f *Fake) listTemplates(req Request, wabaID string) Response {
	if r := f.checkAuth(req); r != nil {
		return *r
	}
	f.mu.Lock()
	all := f.templates[wabaID]
	maxPage := f.pageSize
	nextBase := f.nextBaseURL
	f.mu.Unlock()
	if nextBase == "" {
		nextBase = f.URL
	}

	limit := defaultPageSize
	if l := req.Query.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			return metaError(http.StatusBadRequest, 100, "OAuthException", "(#100) Param limit must be a positive integer", "")
		}
		limit = n
	}
	if maxPage > 0 && limit > maxPage {
		limit = maxPage
	}
	start := 0
	if a := req.Query.Get("after"); a != "" {
		n, ok := decodeCursor(a)
		if !ok || n > len(all) {
			return metaError(http.StatusBadRequest, 100, "OAuthException", "(#100) Invalid after cursor", "")
		}
		start = n
	}
	end := min(start+limit, len(all))

	type cursors struct {
		Before string `json:"before"`
		After  string `json:"after"`
	}
	type paging struct {
		Cursors cursors `json:"cursors"`
		Next    string  `json:"next,omitempty"`
	}
	out := struct {
		Data   []whatsapp.Template `json:"data"`
		Paging paging              `json:"paging"`
	}{Data: append([]whatsapp.Template{}, all[start:end]...)}
	out.Paging.Cursors = cursors{Before: encodeCursor(start), After: encodeCursor(end)}
	if end < len(all) {
		q := url.Values{}
		for k, v := range req.Query {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(limit))
		q.Set("after", encodeCursor(end))
		out.Paging.Next = nextBase + req.Path + "?" + q.Encode()
	}
	b, _ := json.Marshal(out)
	return Response{Status: http.StatusOK, Body: string(b)}
}

// phoneNumber answers GET /{phone-number-id} as Meta does: the token first, then the id.
func (f *Fake) phoneNumber(req Request, id string) Response {
	if r := f.checkAuth(req); r != nil {
		return *r
	}
	f.mu.Lock()
	p, ok := f.phones[id]
	f.mu.Unlock()
	if !ok {
		r := metaError(http.StatusBadRequest, 100, "GraphMethodException", "Unsupported get request. Object with ID '"+id+
			"' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", "")
		r.Body = strings.Replace(r.Body, `"code":100`, `"code":100,"error_subcode":33`, 1)
		return r
	}
	b, _ := json.Marshal(map[string]string{"display_phone_number": p.DisplayPhoneNumber, "verified_name": p.VerifiedName,
		"quality_rating": p.QualityRating, "id": p.ID})
	return Response{Status: http.StatusOK, Body: string(b)}
}

// metaError builds a Graph API error answer.
func metaError(status, code int, typ, message, details string) Response {
	e := map[string]any{
		"message":    message,
		"type":       typ,
		"code":       code,
		"fbtrace_id": "Afake" + strconv.Itoa(code),
	}
	if details != "" {
		e["error_data"] = map[string]any{"messaging_product": "whatsapp", "details": details}
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return Response{Status: status, Body: string(b)}
}

// ErrorBody returns Meta's error JSON for code, for FailNext and Respond scripts:
// ErrorBody(131047, "Re-engagement message", "…") is
// {"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,
// "error_data":{"messaging_product":"whatsapp","details":"…"},"fbtrace_id":"…"}}.
func ErrorBody(code int, title, details string) string {
	return metaError(0, code, "OAuthException", fmt.Sprintf("(#%d) %s", code, title), details).Body
}

func encodeCursor(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(n)))
}

func decodeCursor(c string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(string(b), "offset:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func readAll(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, 8<<20))
	return buf.Bytes(), err
}

func cloneRequest(r Request) Request {
	r.Header = r.Header.Clone()
	r.Body = bytes.Clone(r.Body)
	q := url.Values{}
	for k, v := range r.Query {
		q[k] = append([]string(nil), v...)
	}
	r.Query = q
	return r
}
