package template

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/atendimento/atendimento/internal/apperr"
)

// Params are the values that fill a template's variables ("parâmetros"), keyed as Variables
// returns them.
type Params struct {
	// Named holds values by variable key: {"nome": "João"} for a NAMED template, or {"1": "João",
	// "header.1": "123"} for a POSITIONAL template whose parameters came as an object. It wins
	// over Positional.
	Named map[string]string
	// Positional holds the values of an array, in the body's order: Positional[0] fills the
	// body's {{1}}, the variable "1". Header and button variables cannot be given this way.
	Positional []string
}

// Value returns the value given for the variable key, and whether one was given.
func (p Params) Value(key string) (string, bool) {
	if v, ok := p.Named[key]; ok {
		return v, true
	}
	if len(p.Positional) > 0 && positionalRE.MatchString(key) && len(key) <= 9 {
		if n, err := strconv.Atoi(key); err == nil && n <= len(p.Positional) {
			return p.Positional[n-1], true
		}
	}
	return "", false
}

// ParseParams decodes the parameters of a request: a JSON object ({"nome":"João"}) for a NAMED
// template; an object keyed "1", "2", "header.1", "button.0"… or a JSON array (["João","Ana"],
// filling the body's {{1}}, {{2}}… in order) for a POSITIONAL one.
// Absent or null input means no parameters. Values must be strings; JSON numbers are accepted and
// kept as written (50.00 gives "50.00"). Every other shape or value fails with field
// "parameters" and code parameter_invalid; the values that were well-formed are still returned,
// so a preview can show them (a bad array element keeps its place as an empty value, which Check
// then also reports). Whether the keys are the template's variables is Check's job.
func ParseParams(raw json.RawMessage, f ParameterFormat) (Params, []apperr.FieldError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return Params{}, nil
	}
	var p Params
	var errs apperr.Fields
	invalid := func(msg string) { errs.Add("parameters", CodeParameterInvalid, msg) }
	malformed := func() (Params, []apperr.FieldError) {
		invalid("the parameters are not valid JSON")
		return p, errs
	}

	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return malformed()
	}
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return malformed()
			}
			key, _ := kt.(string)
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return malformed()
			}
			if _, dup := p.Named[key]; dup {
				invalid(fmt.Sprintf("parameter %q is given more than once", key))
				continue
			}
			s, ok := paramText(v)
			if !ok {
				invalid(fmt.Sprintf("parameter %q must be a string", key))
				continue
			}
			if p.Named == nil {
				p.Named = map[string]string{}
			}
			p.Named[key] = s
		}
	case json.Delim('['):
		if f.IsNamed() {
			invalid(`a NAMED template takes its parameters as an object, such as {"nome": "João"}`)
			return p, errs
		}
		for i := 0; dec.More(); i++ {
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return malformed()
			}
			s, ok := paramText(v)
			if !ok {
				invalid(fmt.Sprintf("parameter %d must be a string", i+1))
				// Keep the positions of the values that follow.
				s = ""
			}
			p.Positional = append(p.Positional, s)
		}
	default:
		if f.IsNamed() {
			invalid(`the parameters must be an object, such as {"nome": "João"}`)
		} else {
			invalid(`the parameters must be an array, such as ["João", "Ana"], or an object keyed "1", "2"…`)
		}
		return p, errs
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return malformed()
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed()
	}
	if len(errs) == 0 {
		return p, nil
	}
	return p, errs
}

// paramText returns the text of a JSON string or number.
func paramText(v json.RawMessage) (string, bool) {
	if len(v) == 0 {
		return "", false
	}
	switch c := v[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false
		}
		return s, true
	case c == '-' || (c >= '0' && c <= '9'):
		return string(v), true
	}
	return "", false
}

// Check checks parameters against the template's variables and returns every failure, sorted by
// variable order: parameter_missing for a variable without a value, parameter_invalid for a bad
// value (both with field "parameters.<variable>"), then parameter_invalid for a body that grows
// too long and parameter_unknown for each value that fills no variable (both with field
// "parameters", naming the key in the message). It returns nil when the parameters fit.
func (d Definition) Check(p Params) []apperr.FieldError {
	l := d.layout()
	var errs apperr.Fields
	bodyValueTooLong := false
	for _, key := range l.vars {
		field := "parameters." + key
		v, ok := p.Value(key)
		if !ok {
			errs.Add(field, CodeParameterMissing, fmt.Sprintf("parameter %q is missing: the template uses %s", key, l.label(key)))
			continue
		}
		u := l.uses[key]
		if u.body && utf8.ValidString(v) && utf8.RuneCountInString(v) > MaxBodyParameterLength {
			bodyValueTooLong = true
		}
		checkValue(&errs, field, key, v, u)
	}
	if l.body != nil && !bodyValueTooLong {
		body := l.fill(l.body.Text, l.bodyVars, func(key string) string {
			v, _ := p.Value(key)
			return v
		})
		if n := utf8.RuneCountInString(body); n > MaxBodyLength {
			errs.Add("parameters", CodeParameterInvalid, fmt.Sprintf("with these parameters the body has %d characters; the limit is %d", n, MaxBodyLength))
		}
	}
	for i := range p.Positional {
		key := strconv.Itoa(i + 1)
		if _, ok := l.uses[key]; !ok {
			errs.Add("parameters", CodeParameterUnknown, fmt.Sprintf("parameter %d fills no variable: the template's body has %d variables", i+1, len(l.bodyVars.tokens)))
		}
	}
	unknown := make([]string, 0, len(p.Named))
	for key := range p.Named {
		if _, ok := l.uses[key]; !ok {
			unknown = append(unknown, key)
		}
	}
	sort.Strings(unknown)
	for _, key := range unknown {
		errs.Add("parameters", CodeParameterUnknown, fmt.Sprintf("parameter %q is not a variable of the template", key))
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// checkValue checks one value against the limits of the places its variable appears in.
func checkValue(errs *apperr.Fields, field, key, v string, u usage) {
	invalid := func(msg string) { errs.Add(field, CodeParameterInvalid, fmt.Sprintf("parameter %q %s", key, msg)) }
	if !utf8.ValidString(v) {
		invalid("is not valid UTF-8")
		return
	}
	if strings.TrimSpace(v) == "" {
		invalid("is empty")
		return
	}
	n := utf8.RuneCountInString(v)
	if u.header && n > MaxHeaderParameterLength {
		invalid(fmt.Sprintf("has %d characters; a header parameter takes at most %d", n, MaxHeaderParameterLength))
	}
	if u.body && n > MaxBodyParameterLength {
		invalid(fmt.Sprintf("has %d characters; a body parameter takes at most %d", n, MaxBodyParameterLength))
	}
	if u.url && n > MaxURLParameterLength {
		invalid(fmt.Sprintf("has %d characters; a URL button's suffix takes at most %d", n, MaxURLParameterLength))
	}
	text := u.header || u.body
	if text && strings.ContainsAny(v, "\n\r") {
		invalid("has a line break; WhatsApp rejects line breaks in parameters")
	}
	if text && strings.Contains(v, "\t") {
		invalid("has a tab; WhatsApp rejects tabs in parameters")
	}
	if text && strings.Contains(v, "     ") {
		invalid("has more than four consecutive spaces; WhatsApp rejects them in parameters")
	}
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && (!text || (r != '\n' && r != '\r' && r != '\t')) }) >= 0 {
		invalid("has control characters")
	}
}

// fill replaces the variables of text in scope s with value(key); other placeholders stay.
func (l *layout) fill(text string, s scope, value func(key string) string) string {
	if len(s.tokens) == 0 {
		return text
	}
	return placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		key, ok := s.keys[m[2:len(m)-2]]
		if !ok {
			return m
		}
		return value(key)
	})
}

// Rendered is a template filled with parameters: what the preview shows and what the
// conversation history records.
type Rendered struct {
	Header  string           `json:"header"`
	Body    string           `json:"body"`
	Footer  string           `json:"footer"`
	Buttons []RenderedButton `json:"buttons"`
	// Text is the header, body and footer joined by blank lines, skipping empty parts.
	Text string `json:"text"`
}

// RenderedButton is one button of a rendered template, with its URL's suffix filled in.
type RenderedButton struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	URL         string `json:"url,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
}

// Render fills the template with parameters. A variable without a value, or with a blank one,
// shows as its label ([NOME], [1]; see VariableDetail), as the preview presents it; values are used as given, valid or
// not (Check says which are not). A media or location header renders as empty text.
func (d Definition) Render(p Params) Rendered {
	l := d.layout()
	value := func(key string) string {
		if v, ok := p.Value(key); ok && strings.TrimSpace(v) != "" {
			return v
		}
		return l.label(key)
	}
	var r Rendered
	if l.headerText {
		r.Header = l.fill(l.header.Text, l.headerVars, value)
	}
	if l.body != nil {
		r.Body = l.fill(l.body.Text, l.bodyVars, value)
	}
	if l.footer != nil {
		r.Footer = l.footer.Text
	}
	r.Buttons = make([]RenderedButton, 0, len(l.buttons))
	for j, b := range l.buttons {
		rb := RenderedButton{Type: upper(b.Type), Text: b.Text, URL: b.URL, PhoneNumber: b.PhoneNumber}
		if s, ok := l.urlVars[j]; ok {
			rb.URL = l.fill(b.URL, s, value)
		}
		r.Buttons = append(r.Buttons, rb)
	}
	parts := make([]string, 0, 3)
	for _, s := range []string{r.Header, r.Body, r.Footer} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	r.Text = strings.Join(parts, "\n\n")
	return r
}

// DisplayLabel returns how the UI shows a variable without a value: the placeholder as written,
// upper-cased in brackets: "[NOME]" for "nome", "[1]" for "1", "header.1" and "button.0". A key
// that is not a variable of the template is upper-cased in brackets as it is.
func (d Definition) DisplayLabel(variable string) string {
	l := d.layout()
	return l.label(variable)
}

// SendComponent is one element of the template.components array of a Cloud API template send.
type SendComponent struct {
	Type       string          `json:"type"`
	SubType    string          `json:"sub_type,omitempty"`
	Index      string          `json:"index,omitempty"`
	Parameters []SendParameter `json:"parameters"`
}

// SendParameter is one parameter of a SendComponent: a text, or a media header's file.
type SendParameter struct {
	Type          string    `json:"type"`
	Text          string    `json:"text,omitempty"`
	ParameterName string    `json:"parameter_name,omitempty"`
	Image         *MediaRef `json:"image,omitempty"`
	Video         *MediaRef `json:"video,omitempty"`
	Document      *MediaRef `json:"document,omitempty"`
}

// MediaRef is a media header's file as Meta takes it: by media id or by public link, a
// document with its file name.
type MediaRef struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// MediaHeader is the kind of file the template's header takes ("image", "video" or
// "document"), "" when its header is text, a location or absent.
func (d Definition) MediaHeader() string {
	l := d.layout()
	if l.header == nil {
		return ""
	}
	switch f := headerFormat(*l.header); f {
	case "IMAGE", "VIDEO", "DOCUMENT":
		return strings.ToLower(f)
	}
	return ""
}

// SendComponents builds the template.components array of a Cloud API template send: a header,
// a body and one component per URL button with a suffix, each only if it has variables, with
// text parameters in placeholder order; in a NAMED template the header and body parameters
// carry parameter_name. It returns nil when the template has no variables. It fails with a
// validation error (the failures of Check) when the parameters do not fit, and with code
// template_unsupported when the template needs send parameters this package cannot supply:
// a media or location header, a COPY_CODE or OTP button.
func (d Definition) SendComponents(p Params) ([]SendComponent, error) {
	return d.SendComponentsWith(p, nil)
}

// SendComponentsWith is SendComponents for a template whose IMAGE, VIDEO or DOCUMENT header
// takes the file header (of the header's kind): the header component carries it as Meta
// specifies ({"type":"header","parameters":[{"type":"image","image":{"id":…}}]}).
func (d Definition) SendComponentsWith(p Params, header *MediaRef) ([]SendComponent, error) {
	if errs := d.Check(p); len(errs) > 0 {
		return nil, apperr.Invalid(errs...)
	}
	l := d.layout()
	var out []SendComponent
	if kind := d.MediaHeader(); kind != "" && header != nil {
		sp := SendParameter{Type: kind}
		ref := *header
		switch kind {
		case "image":
			ref.Filename, sp.Image = "", &ref
		case "video":
			ref.Filename, sp.Video = "", &ref
		case "document":
			sp.Document = &ref
		}
		out = append(out, SendComponent{Type: "header", Parameters: []SendParameter{sp}})
	} else if l.header != nil && !l.headerText {
		return nil, unsupported(fmt.Sprintf("the template has a %s header, whose media cannot be sent yet", headerFormat(*l.header)))
	}
	for _, b := range l.buttons {
		if t := upper(b.Type); t == ButtonCopyCode || t == ButtonOTP {
			return nil, unsupported(fmt.Sprintf("the template has a %s button, whose value cannot be sent yet", t))
		}
	}
	params := func(s scope, named bool) []SendParameter {
		out := make([]SendParameter, 0, len(s.tokens))
		for _, tok := range s.tokens {
			v, _ := p.Value(s.keys[tok])
			sp := SendParameter{Type: "text", Text: v}
			if named {
				sp.ParameterName = tok
			}
			out = append(out, sp)
		}
		return out
	}
	if len(l.headerVars.tokens) > 0 {
		out = append(out, SendComponent{Type: "header", Parameters: params(l.headerVars, l.named)})
	}
	if len(l.bodyVars.tokens) > 0 {
		out = append(out, SendComponent{Type: "body", Parameters: params(l.bodyVars, l.named)})
	}
	for j := range l.buttons {
		if s, ok := l.urlVars[j]; ok {
			out = append(out, SendComponent{Type: "button", SubType: "url", Index: strconv.Itoa(j), Parameters: params(s, false)})
		}
	}
	return out, nil
}

// ErrUnsupported is the kind of a template this server cannot send (compare with errors.Is; the
// message of each such error says what is unsupported).
var ErrUnsupported = apperr.New(apperr.KindInvalid, CodeTemplateUnsupported, "the template cannot be sent")

func unsupported(msg string) error {
	return apperr.New(apperr.KindInvalid, CodeTemplateUnsupported, msg)
}

// Reasons a template cannot start a conversation, from UsableReason; "" means it can.
const (
	ReasonPending           = "pending"
	ReasonRejected          = "rejected"
	ReasonPaused            = "paused"
	ReasonDisabled          = "disabled"
	ReasonMediaHeader       = "media_header_unsupported"
	ReasonButtonUnsupported = "button_unsupported"
)

// UnusableReason says why the template cannot be sent, "" when it can: its status first (only
// APPROVED templates are sent), then what SendComponents cannot supply yet (a location header, a
// COPY_CODE or OTP button). The settings screen and API clients show it next to the
// template, so an admin learns why the start flow does not offer it.
func (t Template) UnusableReason() string {
	switch t.Status {
	case StatusApproved:
	case StatusPending:
		return ReasonPending
	case StatusRejected:
		return ReasonRejected
	case StatusPaused:
		return ReasonPaused
	default:
		return ReasonDisabled
	}
	l := t.layout()
	if l.header != nil && !l.headerText && t.MediaHeader() == "" {
		return ReasonMediaHeader // a LOCATION header: IMAGE, VIDEO and DOCUMENT take header_media
	}
	for _, b := range l.buttons {
		if t := upper(b.Type); t == ButtonCopyCode || t == ButtonOTP {
			return ReasonButtonUnsupported
		}
	}
	return ""
}
