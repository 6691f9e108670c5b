package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidArgument is returned, wrapped, when a call is missing something it needs (a phone
// number id, a token, a recipient) before any request is made. It is never transient.
var ErrInvalidArgument = errors.New("whatsapp: invalid argument")

// Error is a failed call to the Graph API: Meta's error object when the response carried one, and
// otherwise what is known about the failure (the HTTP status, or the network cause in Unwrap).
// Transient says whether the same request may succeed later; decide on it, not on HTTPStatus.
type Error struct {
	// HTTPStatus is the response status, or 0 when no response arrived.
	HTTPStatus int
	// Code is Meta's error.code (131047, 130429, …), or 0 when there was none.
	Code int
	// Subcode is Meta's error.error_subcode, 0 when absent.
	Subcode int
	// Type is Meta's error.type, such as OAuthException.
	Type string
	// Message is Meta's error.message, such as "(#131047) Re-engagement message".
	Message string
	// Title is error.error_user_title when Meta sent one, else the message without its "(#code)"
	// prefix: a short text to record next to the code.
	Title string
	// Details is error.error_data.details, Meta's longer explanation.
	Details string
	// FBTraceID is error.fbtrace_id, what Meta's support asks for.
	FBTraceID string
	// RetryAfter is the delay the Retry-After header asked for, 0 when absent.
	RetryAfter time.Duration
	// Transient is true when retrying later may succeed (rate limits, Meta outages, 5xx, network
	// failures and timeouts) and false when the request itself must change.
	Transient bool

	cause error
}

// Error describes the failure in one line, code first, for logs.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("whatsapp: ")
	switch {
	case e.Code != 0:
		fmt.Fprintf(&b, "api error code %d", e.Code)
		if e.Subcode != 0 {
			fmt.Fprintf(&b, " subcode %d", e.Subcode)
		}
		if e.HTTPStatus != 0 {
			fmt.Fprintf(&b, " (http %d)", e.HTTPStatus)
		}
	case e.HTTPStatus != 0:
		fmt.Fprintf(&b, "http %d", e.HTTPStatus)
	default:
		b.WriteString("request failed")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Details != "" && e.Details != e.Message {
		b.WriteString(": ")
		b.WriteString(e.Details)
	}
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

// Unwrap returns the network or context error behind a request that got no response, so
// errors.Is(err, context.DeadlineExceeded) works.
func (e *Error) Unwrap() error { return e.cause }

// IsTransient reports whether err is an *Error (possibly wrapped) that may succeed when retried.
// Any other error, including ErrInvalidArgument, is permanent.
func IsTransient(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Transient
}

// RetryAfter returns the delay the provider asked for in Retry-After, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// transientCodes are the error codes that may succeed later, from Meta's error-code reference:
// throughput (130429), pair rate (131056), "something went wrong" / service unavailable /
// maintenance (131000, 131016, 131057) and the app and WABA rate limits (4, 80007).
var transientCodes = map[int]bool{
	130429: true, 131056: true, 131000: true, 131016: true, 131057: true, 4: true, 80007: true,
}

// knownPermanentCodes are the codes whose retry cannot help whatever the HTTP status says.
var knownPermanentCodes = map[int]bool{
	131047: true, 131026: true, 131049: true, 131048: true, 131050: true,
	132000: true, 132001: true, 132005: true, 132007: true, 132012: true,
	132015: true, 132016: true, 132018: true, 100: true, 190: true,
}

// KnownCode reports whether code is one of the Meta error codes this client classifies (transient
// or permanent): a bounded set, fit for a metric's label where any other code is "other".
func KnownCode(code int) bool { return transientCodes[code] || knownPermanentCodes[code] }

// classify decides on Meta's code first: a known code wins over the HTTP status, and only an
// unknown one falls back on it (5xx and 429 are worth retrying).
func classify(httpStatus, code int) bool {
	switch {
	case transientCodes[code]:
		return true
	case knownPermanentCodes[code]:
		return false
	default:
		return httpStatus >= 500 || httpStatus == http.StatusTooManyRequests
	}
}

// metaError is the body of a failed Graph API call.
type metaError struct {
	Error *struct {
		Message     flexString `json:"message"`
		Type        flexString `json:"type"`
		Code        flexInt    `json:"code"`
		Subcode     flexInt    `json:"error_subcode"`
		UserTitle   flexString `json:"error_user_title"`
		UserMessage flexString `json:"error_user_msg"`
		FBTraceID   flexString `json:"fbtrace_id"`
		ErrorData   *struct {
			Details flexString `json:"details"`
		} `json:"error_data"`
	} `json:"error"`
}

// responseError turns a non-2xx response into an *Error.
func responseError(status int, header http.Header, body []byte) *Error {
	e := &Error{HTTPStatus: status, RetryAfter: parseRetryAfter(header.Get("Retry-After"), time.Now())}
	var m metaError
	if err := json.Unmarshal(body, &m); err == nil && m.Error != nil {
		me := m.Error
		e.Code = int(me.Code)
		e.Subcode = int(me.Subcode)
		e.Type = string(me.Type)
		e.Message = string(me.Message)
		e.FBTraceID = string(me.FBTraceID)
		if me.ErrorData != nil {
			e.Details = string(me.ErrorData.Details)
		}
		if e.Details == "" {
			e.Details = string(me.UserMessage)
		}
		e.Title = string(me.UserTitle)
		if e.Title == "" {
			e.Title = titleFromMessage(e.Message)
		}
	} else {
		// Not Meta's JSON: a proxy's or load balancer's page. Keep a short excerpt for the logs.
		e.Message = excerpt(body)
	}
	if e.Title == "" {
		e.Title = http.StatusText(status)
	}
	e.Transient = classify(status, e.Code)
	return e
}

var codePrefix = regexp.MustCompile(`^\s*\(#\d+\)\s*`)

// titleFromMessage drops the "(#131047) " prefix Meta puts in front of most messages.
func titleFromMessage(msg string) string {
	return strings.TrimSpace(codePrefix.ReplaceAllString(msg, ""))
}

// excerpt returns the start of a body that is not Meta's JSON, on one line.
func excerpt(body []byte) string {
	const max = 200
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "")), " ")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}

// parseRetryAfter reads Retry-After as delay-seconds or as an HTTP date (RFC 9110 §10.2.3).
// Anything unreadable or in the past is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// Backoff bounds.
const (
	backoffBase = time.Second
	backoffCap  = 5 * time.Minute
)

// Backoff returns how long to wait before retry number attempt (1 for the first retry) of a
// transient failure: an exponential delay starting at 1 s, doubling, capped at 5 minutes, with
// "equal jitter" (a random point in the upper half of the delay, so retries from many workers
// spread out but never collapse to zero), and never less than retryAfter, the delay the provider
// asked for. rnd returns a number in [0, 1); nil uses math/rand/v2.
func Backoff(attempt int, retryAfter time.Duration, rnd func() float64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := backoffCap
	if attempt-1 < 20 { // beyond 2^20 s the cap has long been reached; avoid overflowing the shift
		if exp := backoffBase << (attempt - 1); exp < backoffCap {
			d = exp
		}
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	r := rnd()
	if !(r >= 0) { // also NaN
		r = 0
	}
	if r > 1 {
		r = 1
	}
	half := d / 2
	wait := half + time.Duration(r*float64(d-half))
	if wait < retryAfter {
		wait = retryAfter
	}
	return wait
}
