package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/store"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// requestValidator adapts validator/v10 to Echo, reporting JSON field names.
type requestValidator struct{ v *validator.Validate }

func newValidator() *requestValidator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name := strings.SplitN(f.Tag.Get("json"), ",", 2)[0]
		if name == "-" {
			return ""
		}
		return name
	})
	return &requestValidator{v: v}
}

// Validate checks a request DTO's tags and lists every failing field.
func (rv *requestValidator) Validate(i any) error {
	err := rv.v.Struct(i)
	if err == nil {
		return nil
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		return err
	}
	var f apperr.Fields
	for _, fe := range ves {
		field := fe.Namespace()
		if i := strings.IndexByte(field, '.'); i >= 0 {
			field = field[i+1:]
		}
		code, msg := "invalid", fmt.Sprintf("%s is invalid (%s)", field, fe.Tag())
		switch fe.Tag() {
		case "required":
			code, msg = "required", field+" is required"
		case "max":
			code, msg = field+"_invalid", fmt.Sprintf("%s must have at most %s characters", field, fe.Param())
		case "oneof":
			code, msg = field+"_invalid", fmt.Sprintf("%s must be one of: %s", field, fe.Param())
		case "email":
			code, msg = "email_invalid", field+" is not a valid address"
		}
		f.Add(field, code, msg)
	}
	return f.Err()
}

// errNotJSON is a body sent as another media type to a route that reads JSON.
var errNotJSON = apperr.New(apperr.KindUnsupportedMedia, "unsupported_media_type", "send JSON with Content-Type: application/json")

// bind decodes a JSON body strictly (unknown fields, wrong types, trailing data and bodies over
// 1 MiB are 400/413 with a clear code) and validates the DTO's tags. Every route that reads a
// JSON body reads it here, so this is the one place a body of another Content-Type (a form, a
// multipart upload, text) is refused: 415 unsupported_media_type. No Content-Type at all is read
// as JSON; routes without a body (close, cancel) never bind and take any.
func bind(c echo.Context, dst any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != echo.MIMEApplicationJSON {
			return errNotJSON
		}
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBody+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.KindTooLarge, "body_too_large", "the body is larger than 1 MiB")
		}
		return apperr.New(apperr.KindBadRequest, "body_unreadable", "the body could not be read")
	}
	if len(body) > MaxBody {
		return apperr.New(apperr.KindTooLarge, "body_too_large", "the body is larger than 1 MiB")
	}
	c.Set(rawBodyKey, body)
	if err := decodeStrict(body, dst); err != nil {
		return err
	}
	return c.Validate(dst)
}

const rawBodyKey = "raw_body"

func decodeStrict(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return apperr.New(apperr.KindBadRequest, "malformed_json", "the body is empty; send a JSON object")
	}
	if !utf8.Valid(body) {
		return apperr.New(apperr.KindBadRequest, "malformed_json", "the body is not valid UTF-8")
	}
	if depth(body) > 32 {
		return apperr.New(apperr.KindBadRequest, "malformed_json", "the JSON is nested too deeply")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	// Only whitespace may follow the value. dec.More() is not enough: it reports false for a
	// stray closing '}' or ']', which would let `{...}}` through.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apperr.New(apperr.KindBadRequest, "malformed_json", "unexpected data after the JSON object")
	}
	if len(nulEscapes(body)) > 0 {
		// Well-formed JSON, but no text we store may hold a NUL (PostgreSQL's text and jsonb
		// refuse it): every string or key that does is a failing field.
		var f apperr.Fields
		for _, field := range nulFields(body) {
			f.Add(field, "invalid_characters", field+" holds a NUL character (\\u0000)")
		}
		return f.Err()
	}
	return nil
}

// nulFields returns the paths ("contact.name", "components[0].text") of the strings, object keys
// included, that hold a NUL character in a well-formed JSON text.
func nulFields(body []byte) []string {
	type frame struct {
		object    bool
		key       string
		index     int
		wantKey   bool
		hasMember bool
	}
	var stack []*frame
	var out []string
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			switch {
			case f.object && f.hasMember:
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			case !f.object:
				fmt.Fprintf(&b, "[%d]", f.index)
			}
		}
		if b.Len() == 0 {
			return "body"
		}
		return b.String()
	}
	advance := func() { // a value of the innermost container is complete
		if n := len(stack); n > 0 {
			if f := stack[n-1]; f.object {
				f.wantKey = true
			} else {
				f.index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for len(out) < 20 {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{object: true, wantKey: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				advance()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
				f := stack[n-1]
				f.wantKey, f.hasMember = false, true
				f.key = strings.ReplaceAll(v, "\x00", "\uFFFD")
				if strings.IndexByte(v, 0) >= 0 {
					out = append(out, path())
				}
				continue
			}
			if strings.IndexByte(v, 0) >= 0 {
				out = append(out, path())
			}
			advance()
		default:
			advance()
		}
	}
	return out
}

func decodeError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return apperr.New(apperr.KindBadRequest, "malformed_json", fmt.Sprintf("malformed JSON at byte %d", se.Offset))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			e := apperr.New(apperr.KindBadRequest, "wrong_type", "the body must be a JSON object")
			return e
		}
		e := apperr.New(apperr.KindBadRequest, "wrong_type", fmt.Sprintf("%s must be %s, not %s", field, jsonKind(te.Type), te.Value))
		e.Fields = []apperr.FieldError{{Field: field, Code: "wrong_type", Message: e.Message}}
		return e
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		e := apperr.New(apperr.KindBadRequest, "unknown_field", fmt.Sprintf("unknown field %q", name))
		e.Fields = []apperr.FieldError{{Field: name, Code: "unknown_field", Message: e.Message}}
		return e
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return apperr.New(apperr.KindBadRequest, "malformed_json", "the JSON ends too early")
	}
	return apperr.New(apperr.KindBadRequest, "malformed_json", "the body is not valid JSON: "+err.Error())
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// depth returns the deepest nesting of arrays and objects in a JSON text (outside strings).
func depth(b []byte) int {
	d, max := 0, 0
	inStr, esc := false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
			if d > max {
				max = d
			}
		case c == '}' || c == ']':
			d--
		}
	}
	return max
}

// nulEscapes returns the offsets of the \u0000 escapes inside the strings of a JSON text (a raw
// NUL byte is not valid JSON, so the escape is the only way one gets in).
func nulEscapes(b []byte) []int {
	var at []int
	inStr := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			inStr = !inStr
		case inStr && c == '\\':
			if i+5 < len(b) && b[i+1] == 'u' && string(b[i+2:i+6]) == "0000" {
				at = append(at, i)
			}
			i++ // the escaped character, so \\ and \" are skipped whole
		}
	}
	return at
}

// checkQuery refuses query parameters that hold a NUL character or invalid UTF-8: no search or
// filter means anything with them, and PostgreSQL refuses them in a query (a 500 otherwise).
func checkQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var f apperr.Fields
		for name, vs := range c.QueryParams() {
			for _, v := range append([]string{name}, vs...) {
				if strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) {
					f.Add(name, "invalid_characters", name+" holds a NUL character or invalid UTF-8")
					break
				}
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		return next(c)
	}
}

// page reads ?limit= and ?cursor=.
func page(c echo.Context) (store.Page, error) {
	p := store.Page{Cursor: c.QueryParam("cursor")}
	n, err := queryLimit(c)
	if err != nil {
		return p, err
	}
	p.Limit = n
	return p.Normalize()
}

// queryLimit reads ?limit=: 0 when absent (the list's default applies), else a number from 1 to
// store.MaxLimit. An explicit limit=0 is refused rather than read as "the default".
func queryLimit(c echo.Context) (int, error) {
	l := c.QueryParam("limit")
	if l == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > store.MaxLimit {
		return 0, apperr.Invalid(apperr.FieldError{Field: "limit", Code: "limit_invalid", Message: fmt.Sprintf("limit must be a number between 1 and %d", store.MaxLimit)})
	}
	return n, nil
}
