package atendimento

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Client calls the Atendimento API with an API key. Its methods (one per route, generated into
// methods.gen.go) are safe for concurrent use.
type Client struct {
	raw *ClientWithResponses
}

// Option adjusts a Client made by New.
type Option func(*transport)

// WithDoer sends the requests through d (an *http.Client with its own timeouts, proxy or cookie
// jar, say) instead of a plain http.Client.
func WithDoer(d HttpRequestDoer) Option { return func(t *transport) { t.doer = d } }

// WithRetries bounds the retries of 429 and 503 answers (and of 500, 502, 504 and network
// errors on requests that are safe to repeat: reads, and starts with their Idempotency-Key): at most max retries, none waiting longer than maxWait. A Retry-After
// longer than maxWait is not waited for: the *Problem is returned with its RetryAfter set.
// The default is 4 retries waiting at most 30 s each; max 0 turns retries off.
func WithRetries(max int, maxWait time.Duration) Option {
	return func(t *transport) { t.maxRetries, t.maxWait = max, maxWait }
}

// WithHeader adds a header to every request (a User-Agent, a tracing header).
func WithHeader(key, value string) Option {
	return func(t *transport) { t.header.Set(key, value) }
}

// New returns a client of the server at baseURL (e.g. "http://localhost:8080") that sends
// apiKey as a bearer token. An empty apiKey sends none (for a session cookie client).
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	t := &transport{doer: &http.Client{}, apiKey: apiKey, maxRetries: 4, maxWait: 30 * time.Second, header: http.Header{}}
	for _, o := range opts {
		o(t)
	}
	raw, err := NewClientWithResponses(baseURL, WithHTTPClient(t))
	if err != nil {
		return nil, fmt.Errorf("atendimento client: %w", err)
	}
	return &Client{raw: raw}, nil
}

// Raw returns the generated low-level client (same transport: auth, retries, problems) for
// callers who need a whole response, its headers say.
func (c *Client) Raw() *ClientWithResponses { return c.raw }

// Ptr returns a pointer to v, for the optional fields of requests.
func Ptr[T any](v T) *T { return &v }

// NewIdempotencyKey returns a fresh random key for the Idempotency-Key header of a start.
func NewIdempotencyKey() string { return uuid.NewString() }

// IdempotencyKey returns the params of a start that carries key, for the caller who wants to
// retry it later with the same key (the same key and body never start twice).
func IdempotencyKey(key string) *StartConversationParams {
	return &StartConversationParams{IdempotencyKey: &key}
}

// transport is the client's HttpRequestDoer: it authenticates, gives every start an
// Idempotency-Key, retries what may be retried, and turns error answers into *Problem.
type transport struct {
	doer       HttpRequestDoer
	apiKey     string
	header     http.Header
	maxRetries int
	maxWait    time.Duration
}

var _ HttpRequestDoer = (*transport)(nil)

func (t *transport) Do(req *http.Request) (*http.Response, error) {
	for k, v := range t.header {
		if req.Header.Get(k) == "" {
			req.Header[k] = v
		}
	}
	if t.apiKey != "" && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+t.apiKey)
	}
	if req.Method == http.MethodPost && strings.HasSuffix(strings.TrimRight(req.URL.Path, "/"), "/api/v1/conversations") &&
		req.Header.Get("Idempotency-Key") == "" {
		req.Header.Set("Idempotency-Key", NewIdempotencyKey()) // the same key on every retry below
	}
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		if attempt > 0 && req.Body != nil && req.Body != http.NoBody {
			if req.GetBody == nil {
				return nil, errors.New("atendimento: cannot retry a request whose body cannot be replayed")
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req.Body = body
		}
		resp, err := t.doer.Do(req)
		if err != nil {
			if attempt < t.maxRetries && ctx.Err() == nil && replayable(req) {
				if werr := sleep(ctx, backoff(attempt, t.maxWait)); werr != nil {
					return nil, werr
				}
				continue
			}
			return nil, err
		}
		if resp.StatusCode < 300 {
			return resp, nil
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if rerr != nil {
			return nil, fmt.Errorf("atendimento: read %d answer: %w", resp.StatusCode, rerr)
		}
		p := problemFrom(resp, body)
		if retryable(req, resp.StatusCode) && attempt < t.maxRetries {
			wait, named := retryAfter(resp.Header.Get("Retry-After"), time.Now())
			if !named {
				wait = backoff(attempt, t.maxWait)
			}
			if wait <= t.maxWait {
				if werr := sleep(ctx, wait); werr != nil {
					return nil, werr
				}
				continue
			}
		}
		return nil, p
	}
}

// retryable: 429 and 503 say "later" and are always retried; the other transient 5xx (500, 502,
// 504) may have done the work, so only requests that are safe to repeat are retried on them.
func retryable(req *http.Request, status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return replayable(req)
	}
	return false
}

// replayable: a request that failed on the network may have reached the server, so only those
// that are harmless to repeat are retried: reads, and writes that carry an Idempotency-Key.
func replayable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return req.Header.Get("Idempotency-Key") != ""
}

// backoff is the wait before retry n+1 when the server named none: 250 ms doubling, with
// jitter, capped at max.
func backoff(n int, max time.Duration) time.Duration {
	d := 250 * time.Millisecond << min(n, 10)
	d = d/2 + rand.N(d/2+1)
	return min(d, max)
}

// retryAfter parses a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// unexpected is the error of a success answer the contract does not describe (a 2xx without
// the JSON body it promises).
func unexpected(resp *http.Response, body []byte) error {
	ct := ""
	if resp != nil {
		ct = resp.Header.Get("Content-Type")
	}
	return fmt.Errorf("atendimento: unexpected answer %d (%s): %s", statusOf(resp), ct, truncate(string(body), 200))
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// drain reads and closes the body of an answer without one (204).
func drain(resp *http.Response) error {
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}
