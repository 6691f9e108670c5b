package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// fakeGraph is a minimal WhatsApp Cloud (Graph) API for the bench: it answers a message send with
// a wamid, as Meta does, and records only what the figures need (recipient, type, text body,
// arrival time), so it stays cheap at thousands of sends per second. whatsapptest.Fake records
// every request with its headers, which is right for tests and too heavy here.
type fakeGraph struct {
	URL string
	srv *http.Server

	seq   atomic.Int64
	count atomic.Int64

	mu      sync.Mutex
	sent    []sentMsg
	waiters map[string]chan time.Time // text body → arrival of the first send carrying it
	changed chan struct{}

	media fakeMedia
}

// sentMsg is one message the fake accepted.
type sentMsg struct {
	To, Type, Text, WAMID string
	At                    time.Time
}

func newFakeGraph() (*fakeGraph, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakeGraph{URL: "http://" + ln.Addr().String(), waiters: map[string]chan time.Time{}, changed: make(chan struct{})}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

func (f *fakeGraph) Close() { _ = f.srv.Close() }

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if _, err := io.Copy(buf, r.Body); err != nil {
		return
	}
	if f.serveMedia(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/messages"):
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/message_templates"):
		_, _ = io.WriteString(w, `{"data":[],"paging":{"cursors":{}}}`)
		return
	default:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"message":"Unsupported request.","type":"OAuthException","code":100}}`)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`)
		return
	}
	var in struct {
		To   string `json:"to"`
		Type string `json:"type"`
		Text struct {
			Body string `json:"body"`
		} `json:"text"`
	}
	if err := json.Unmarshal(buf.Bytes(), &in); err != nil || in.To == "" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100}}`)
		return
	}
	now := time.Now()
	id := "wamid.bench." + strconv.FormatInt(f.seq.Add(1), 10)
	waID := strings.TrimPrefix(in.To, "+")
	// Answer first, then record: the time is the arrival, and the answer is not delayed by the
	// bookkeeping.
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":%q}]}`, in.To, waID, id)
	if in.To == benchProbeTo {
		return // the ceiling and round-trip probes are not messages of the server
	}
	m := sentMsg{To: in.To, Type: in.Type, Text: in.Text.Body, WAMID: id, At: now}
	f.mu.Lock()
	f.sent = append(f.sent, m)
	if ch, ok := f.waiters[m.Text]; ok && m.Text != "" {
		delete(f.waiters, m.Text)
		ch <- now
	}
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	f.count.Add(1)
}

// benchProbeTo is the recipient of the bench's own probes (not counted as sent messages).
const benchProbeTo = "+5511900000000"

// expect returns a channel that receives the arrival time of the next send whose text body is text.
func (f *fakeGraph) expect(text string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	f.mu.Lock()
	f.waiters[text] = ch
	f.mu.Unlock()
	return ch
}

// Count is how many server messages the fake accepted.
func (f *fakeGraph) Count() int { return int(f.count.Load()) }

// Reset forgets the recorded messages.
func (f *fakeGraph) Reset() {
	f.mu.Lock()
	f.sent = nil
	f.count.Store(0)
	f.mu.Unlock()
}

// Sent returns a copy of the recorded messages in arrival order.
func (f *fakeGraph) Sent() []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentMsg(nil), f.sent...)
}

// WaitFor waits until at least n messages arrived; false on timeout or ctx's end.
func (f *fakeGraph) WaitFor(ctx context.Context, n int, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		f.mu.Lock()
		got, ch := len(f.sent), f.changed
		f.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return f.Count() >= n
		case <-ctx.Done():
			return false
		}
	}
}

// probeBody is a text send like the dispatcher's, to the probe recipient.
var probeBody = []byte(`{"messaging_product":"whatsapp","recipient_type":"individual","to":"` + benchProbeTo +
	`","type":"text","text":{"preview_url":false,"body":"probe"}}`)

func newHTTPClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns * 2
	tr.MaxIdleConnsPerHost = conns * 2
	tr.MaxConnsPerHost = 0
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

func (f *fakeGraph) probe(c *http.Client) error {
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/v25.0/"+benchPNID+"/messages", bytes.NewReader(probeBody))
	req.Header.Set("Authorization", "Bearer "+benchToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fake answered %d", resp.StatusCode)
	}
	return nil
}

// ceiling measures the sends/s the fake answers from workers concurrent keep-alive clients in
// this process (the dispatcher's default is 32 workers), over n sends.
func (f *fakeGraph) ceiling(workers, n int) (float64, error) {
	c := newHTTPClient(workers)
	defer c.CloseIdleConnections()
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := f.probe(c); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// roundTrips measures n sequential sends on one warm keep-alive connection.
func (f *fakeGraph) roundTrips(n int) ([]time.Duration, error) {
	c := newHTTPClient(1)
	defer c.CloseIdleConnections()
	if err := f.probe(c); err != nil {
		return nil, err
	}
	out := make([]time.Duration, n)
	for i := range out {
		t0 := time.Now()
		if err := f.probe(c); err != nil {
			return nil, err
		}
		out[i] = time.Since(t0)
	}
	return out, nil
}
