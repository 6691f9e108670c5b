package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/store"
)

// Problem is an RFC 9457 problem document with our stable code and the failing fields.
type Problem struct {
	Type       string              `json:"type" example:"about:blank"`
	Title      string              `json:"title" example:"Unprocessable Entity"`
	Status     int                 `json:"status" example:"422"`
	Detail     string              `json:"detail" example:"the request has invalid fields"`
	Code       string              `json:"code" example:"validation_failed"`
	Errors     []apperr.FieldError `json:"errors"`
	ExistingID *string             `json:"existing_id,omitempty"`
	// RetryAfter is, on a 429, the seconds to wait before trying again (also the Retry-After
	// header): the SPA says "tente de novo em N minutos" from it.
	RetryAfter *int `json:"retry_after,omitempty" example:"600"`
	// AssigneeID and AssigneeName are, on a 409 conversation_already_assigned, who owns the
	// conversation now (null when it went back to the queue).
	AssigneeID   *string `json:"assignee_id,omitempty" format:"uuid"`
	AssigneeName *string `json:"assignee_name,omitempty" example:"Bruno Lima"`
	RequestID    string  `json:"request_id,omitempty"`
} // @name Problem

var kindStatus = map[apperr.Kind]int{
	apperr.KindInvalid:          http.StatusUnprocessableEntity,
	apperr.KindBadRequest:       http.StatusBadRequest,
	apperr.KindNotFound:         http.StatusNotFound,
	apperr.KindConflict:         http.StatusConflict,
	apperr.KindUnauthorized:     http.StatusUnauthorized,
	apperr.KindForbidden:        http.StatusForbidden,
	apperr.KindTooLarge:         http.StatusRequestEntityTooLarge,
	apperr.KindRateLimited:      http.StatusTooManyRequests,
	apperr.KindUnavailable:      http.StatusServiceUnavailable,
	apperr.KindBadGateway:       http.StatusBadGateway,
	apperr.KindUnsupportedMedia: http.StatusUnsupportedMediaType,
}

// httpCodes names the problems Echo itself raises.
var httpCodes = map[int]string{
	http.StatusNotFound:              "route_not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "service_unavailable",
	http.StatusBadRequest:            "bad_request",
}

// errorHandler is Echo's single error writer: every error becomes problem+json. A 5xx says
// nothing internal; its cause is logged once with the request id.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := problemFor(err)
		p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
		if p.Status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed", "err", err.Error(),
				"method", c.Request().Method, "path", c.Path())
		}
		if p.RetryAfter != nil {
			c.Response().Header().Set("Retry-After", strconv.Itoa(*p.RetryAfter))
		}
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		c.Response().WriteHeader(p.Status)
		if c.Request().Method == http.MethodHead {
			return
		}
		_ = json.NewEncoder(c.Response()).Encode(p)
	}
}

func problemFor(err error) Problem {
	p := Problem{Type: "about:blank", Errors: []apperr.FieldError{}}
	if ae, ok := apperr.As(err); ok {
		status, known := kindStatus[ae.Kind]
		if !known {
			return internalProblem()
		}
		p.Status, p.Code, p.Detail = status, ae.Code, ae.Message
		if ae.Fields != nil {
			p.Errors = ae.Fields
		}
		if id, ok := ae.Extra["existing_id"].(string); ok && id != "" {
			p.ExistingID = &id
		}
		if id, ok := ae.Extra["assignee_id"].(string); ok && id != "" {
			p.AssigneeID = &id
		}
		if name, ok := ae.Extra["assignee_name"].(string); ok && name != "" {
			p.AssigneeName = &name
		}
		if ra, ok := ae.Extra["retry_after"].(int); ok && ae.Kind == apperr.KindRateLimited {
			p.RetryAfter = &ra
		}
		p.Title = http.StatusText(status)
		return p
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		p.Status = he.Code
		p.Title = http.StatusText(he.Code)
		p.Code = httpCodes[he.Code]
		if p.Code == "" {
			p.Code = "http_error"
		}
		if he.Code >= 500 {
			return internalProblem()
		}
		p.Detail = fmt.Sprint(he.Message)
		return p
	}
	if store.IsUnavailable(err) {
		// A database error no service translated (a commit, a middleware's lookup): still a 503.
		return Problem{Type: "about:blank", Title: http.StatusText(http.StatusServiceUnavailable), Status: http.StatusServiceUnavailable,
			Code: "database_unavailable", Detail: "the database is not available", Errors: []apperr.FieldError{}}
	}
	return internalProblem()
}

func internalProblem() Problem {
	return Problem{Type: "about:blank", Title: http.StatusText(500), Status: 500, Code: "internal_error",
		Detail: "something went wrong on our side; the request id identifies it in our logs", Errors: []apperr.FieldError{}}
}
