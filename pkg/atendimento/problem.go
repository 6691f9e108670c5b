package atendimento

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Problem is an error answer of the API (RFC 9457 problem+json). Code is the stable snake_case
// string to switch on; Errors lists every failing field of a validation error.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	// Errors are the failing fields, each with its own code (e.g. parameter_missing).
	Errors []FieldError `json:"errors"`
	// ExistingID names the resource a conflict is about (contact_exists, conversation_already_open).
	ExistingID string `json:"existing_id,omitempty"`
	// AssigneeID and AssigneeName are, on a 409 conversation_already_assigned, who owns the
	// conversation now (empty when it went back to the queue).
	AssigneeID   string `json:"assignee_id,omitempty"`
	AssigneeName string `json:"assignee_name,omitempty"`
	// RequestID is the server's id of the request, for its logs.
	RequestID string `json:"request_id,omitempty"`
	// RetryAfterSeconds is the body's retry_after: on a 429, the seconds to wait.
	RetryAfterSeconds int `json:"retry_after,omitempty"`
	// RetryAfter is the wait the server asked for with a 429 or 503 (zero when it named none).
	RetryAfter time.Duration `json:"-"`
}

// FieldError is one failing field of a request: its JSON path, a stable code and a message.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error formats the status, the code, the detail and the failing fields.
func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "atendimento: %d", p.Status)
	if p.Code != "" {
		b.WriteString(" " + p.Code)
	}
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	} else if p.Title != "" {
		b.WriteString(": " + p.Title)
	}
	for i, e := range p.Errors {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", e.Field, e.Code)
		if i == len(p.Errors)-1 {
			b.WriteString(")")
		}
	}
	return b.String()
}

// Has reports whether the problem's code, or the code of one of its failing fields, is code.
func (p *Problem) Has(code string) bool {
	if p.Code == code {
		return true
	}
	for _, e := range p.Errors {
		if e.Code == code {
			return true
		}
	}
	return false
}

// AsProblem returns the *Problem in err's chain, if there is one.
func AsProblem(err error) (*Problem, bool) {
	var p *Problem
	ok := errors.As(err, &p)
	return p, ok
}

// problemFrom builds the Problem of a non-2xx answer. A body that is not a problem document (a
// proxy's HTML page, a plain-text 403) still gives the status, with the text as the detail.
func problemFrom(resp *http.Response, body []byte) *Problem {
	p := &Problem{}
	if err := json.Unmarshal(body, p); err != nil || p.Status == 0 {
		p = &Problem{Title: http.StatusText(resp.StatusCode), Detail: strings.TrimSpace(truncate(string(body), 300))}
	}
	p.Status = resp.StatusCode
	if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		p.RetryAfter = d
	}
	return p
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ApperrFieldError is the name openapi.yaml gives FieldError (the schema apperr.FieldError);
// generated types such as Preview use it.
type ApperrFieldError = FieldError
