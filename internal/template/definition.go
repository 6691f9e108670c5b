// Package template holds the pure logic of WhatsApp message templates ("modelos de mensagem"):
// the component shape that Meta's message_templates API returns, the rules a template definition
// follows, its variables, the parameters that fill them, the rendered preview, and the components
// of a Cloud API template send. It does no I/O.
//
// Variables are keyed so that one flat set of parameters fills a whole template, and so that a
// key can be read off the template without counting (DESIGN.md § Parameter keys):
//
//   - NAMED templates: a header or body variable {{nome}} is the variable "nome"; the same name in
//     the header and the body is one variable with one value.
//   - POSITIONAL templates: Meta numbers each component's placeholders on its own, so the body's
//     {{1}}, {{2}}… are the variables "1", "2"…, and the header's {{1}} is "header.1".
//   - A URL button's dynamic suffix ({{1}} at Meta, in both formats) is "button.<i>", i being the
//     button's 0-based position in the BUTTONS component (the index of Meta's send component).
//
// Keys are derived from the components whenever a template is read; they are never the truth
// themselves, so a template stored under an older numbering reads with these keys.
package template

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atendimento/atendimento/internal/apperr"
)

// Category is the Meta category of a template; it decides the price of a delivered message.
type Category string

// The template categories Meta knows.
const (
	CategoryMarketing      Category = "MARKETING"
	CategoryUtility        Category = "UTILITY"
	CategoryAuthentication Category = "AUTHENTICATION"
)

// IsKnown reports whether c is one of the categories Meta knows (upper case, as Meta spells it).
func (c Category) IsKnown() bool {
	switch c {
	case CategoryMarketing, CategoryUtility, CategoryAuthentication:
		return true
	}
	return false
}

// Status is the review state of a template at Meta; only an approved template can be sent.
type Status string

// The template statuses of the API contract. Meta reports more (IN_APPEAL, PENDING_DELETION,
// LIMIT_EXCEEDED, ARCHIVED…); they are not known here, and code that mirrors Meta maps them to
// one of these before storing.
const (
	StatusApproved Status = "APPROVED"
	StatusPending  Status = "PENDING"
	StatusRejected Status = "REJECTED"
	StatusPaused   Status = "PAUSED"
	StatusDisabled Status = "DISABLED"
)

// IsKnown reports whether s is one of the statuses of the API contract.
func (s Status) IsKnown() bool {
	switch s {
	case StatusApproved, StatusPending, StatusRejected, StatusPaused, StatusDisabled:
		return true
	}
	return false
}

// Sendable reports whether a template in status s may be sent: only APPROVED ones.
func (s Status) Sendable() bool { return s == StatusApproved }

// ParameterFormat says how a template writes its variables: {{nome}} (NAMED) or {{1}}
// (POSITIONAL). The empty value means POSITIONAL, as at Meta.
type ParameterFormat string

// The parameter formats Meta knows.
const (
	ParameterFormatNamed      ParameterFormat = "NAMED"
	ParameterFormatPositional ParameterFormat = "POSITIONAL"
)

// IsKnown reports whether f is NAMED, POSITIONAL or empty (positional).
func (f ParameterFormat) IsKnown() bool {
	return f == "" || f == ParameterFormatNamed || f == ParameterFormatPositional
}

// IsNamed reports whether f is NAMED; every other value is treated as positional.
func (f ParameterFormat) IsNamed() bool { return f == ParameterFormatNamed }

// The component types of a template, as Meta spells them.
const (
	ComponentHeader  = "HEADER"
	ComponentBody    = "BODY"
	ComponentFooter  = "FOOTER"
	ComponentButtons = "BUTTONS"
)

// The header formats Meta knows; only TEXT headers carry text and variables.
const (
	HeaderFormatText     = "TEXT"
	HeaderFormatImage    = "IMAGE"
	HeaderFormatVideo    = "VIDEO"
	HeaderFormatDocument = "DOCUMENT"
	HeaderFormatLocation = "LOCATION"
)

// The button types this package treats specially; Meta has more (FLOW, CATALOG, MPM…), which
// are kept as given.
const (
	ButtonURL         = "URL"
	ButtonPhoneNumber = "PHONE_NUMBER"
	ButtonQuickReply  = "QUICK_REPLY"
	ButtonCopyCode    = "COPY_CODE"
	ButtonOTP         = "OTP"
)

// Limits from Meta's template rules.
const (
	MaxNameLength            = 512  // characters of a template name
	MaxBodyLength            = 1024 // characters of the body, as written and once rendered
	MaxHeaderLength          = 60   // characters of a text header
	MaxFooterLength          = 60   // characters of the footer
	MaxButtons               = 10   // buttons of a template
	MaxBodyParameterLength   = 1024 // characters of one body parameter value
	MaxHeaderParameterLength = 60   // characters of one header parameter value
	MaxURLParameterLength    = 2000 // characters of a URL button's dynamic suffix
)

// The stable error codes of this package, used in apperr.FieldError.Code.
const (
	CodeNameInvalid            = "name_invalid"
	CodeLanguageInvalid        = "language_invalid"
	CodeCategoryInvalid        = "category_invalid"
	CodeParameterFormatInvalid = "parameter_format_invalid"
	CodeComponentsInvalid      = "components_invalid"
	CodeComponentInvalid       = "component_invalid"
	CodeBodyMissing            = "body_missing"
	CodeBodyTooLong            = "body_too_long"
	CodeHeaderTooLong          = "header_too_long"
	CodeFooterTooLong          = "footer_too_long"
	CodeButtonsTooMany         = "buttons_too_many"
	CodeButtonInvalid          = "button_invalid"
	CodeVariablesInvalid       = "variables_invalid"
	CodeParameterMissing       = "parameter_missing"
	CodeParameterUnknown       = "parameter_unknown"
	CodeParameterInvalid       = "parameter_invalid"
	CodeTemplateUnsupported    = "template_unsupported"
)

// Component is one part of a template (header, body, footer or buttons) in Meta's shape.
type Component struct {
	Type    string          `json:"type"`
	Format  string          `json:"format,omitempty"`
	Text    string          `json:"text,omitempty"`
	Buttons []Button        `json:"buttons,omitempty"`
	Example json.RawMessage `json:"example,omitempty"`
}

// Button is one button of a BUTTONS component in Meta's shape.
type Button struct {
	Type        string          `json:"type"`
	Text        string          `json:"text,omitempty"`
	URL         string          `json:"url,omitempty"`
	PhoneNumber string          `json:"phone_number,omitempty"`
	Example     json.RawMessage `json:"example,omitempty"`
}

// Definition is what validating, rendering and sending a template needs.
type Definition struct {
	Name            string
	Language        string
	Category        Category
	ParameterFormat ParameterFormat
	Components      []Component
	// frozen is the layout of a definition that no longer changes, worked out once (Frozen).
	frozen *layout
}

// Frozen returns d with its layout worked out once, so rendering, checking and sending with the
// copy skip that work (a start does it several times). Only for a definition that nobody changes
// afterwards, such as a stored template as read: the copy shares d's components.
func (d Definition) Frozen() Definition {
	l := d.computeLayout()
	d.frozen = &l
	return d
}

// ParseComponents decodes a components array in Meta's shape and normalises the component,
// header format and button types to upper case. Absent or null input gives no components. Fields
// this package does not model (such as an authentication button's otp_type) are dropped, so keep
// the raw JSON where a faithful copy of Meta's object matters.
func ParseComponents(raw json.RawMessage) ([]Component, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return nil, nil
	}
	var cs []Component
	if err := json.Unmarshal([]byte(s), &cs); err != nil {
		e := apperr.Invalid(apperr.FieldError{
			Field:   "components",
			Code:    CodeComponentsInvalid,
			Message: "components must be an array of template components",
		})
		e.Err = fmt.Errorf("parse template components: %w", err)
		return nil, e
	}
	for i := range cs {
		cs[i].Type = upper(cs[i].Type)
		cs[i].Format = upper(cs[i].Format)
		for j := range cs[i].Buttons {
			cs[i].Buttons[j].Type = upper(cs[i].Buttons[j].Type)
		}
	}
	return cs, nil
}

func upper(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9_]+$`)
	languageRE = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
	// placeholderRE finds {{…}} with no brace inside; what is inside decides whether it is a
	// variable of the template's format or stays literal text (and fails Validate).
	placeholderRE = regexp.MustCompile(`\{\{([^{}]*)\}\}`)
	namedVarRE    = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	positionalRE  = regexp.MustCompile(`^[1-9][0-9]*$`)
)

// placeholders returns the tokens inside every {{…}} of text, in order, repeats included.
func placeholders(text string) []string {
	ms := placeholderRE.FindAllStringSubmatch(text, -1)
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m[1]
	}
	return out
}

// Validate checks the definition against Meta's template rules and returns every failure, with
// field paths such as "components[0].text"; it returns nil when the definition is valid.
func (d Definition) Validate() []apperr.FieldError {
	var errs apperr.Fields
	if !nameRE.MatchString(d.Name) || len(d.Name) > MaxNameLength {
		errs.Add("name", CodeNameInvalid, fmt.Sprintf(
			"the name must have 1 to %d characters: lowercase letters, digits and _", MaxNameLength))
	}
	if !languageRE.MatchString(d.Language) {
		errs.Add("language", CodeLanguageInvalid, "the language must be a code such as pt_BR, en or en_US")
	}
	if !d.Category.IsKnown() {
		errs.Add("category", CodeCategoryInvalid, "the category must be MARKETING, UTILITY or AUTHENTICATION")
	}
	if !d.ParameterFormat.IsKnown() {
		errs.Add("parameter_format", CodeParameterFormatInvalid, "the parameter format must be NAMED or POSITIONAL")
	}
	named := d.ParameterFormat.IsNamed()
	seen := map[string]bool{}
	for i, c := range d.Components {
		path := fmt.Sprintf("components[%d]", i)
		t := upper(c.Type)
		switch t {
		case ComponentHeader, ComponentBody, ComponentFooter, ComponentButtons:
			if seen[t] {
				errs.Add(path+".type", CodeComponentInvalid, fmt.Sprintf("a template has at most one %s component", t))
			}
			seen[t] = true
		default:
			errs.Add(path+".type", CodeComponentInvalid, fmt.Sprintf("unknown component type %q: use HEADER, BODY, FOOTER or BUTTONS", c.Type))
			continue
		}
		switch t {
		case ComponentHeader:
			validateHeader(&errs, path, c, named)
		case ComponentBody:
			validateBody(&errs, path, c, named)
		case ComponentFooter:
			validateFooter(&errs, path, c)
		case ComponentButtons:
			validateButtons(&errs, path, c)
		}
	}
	if !seen[ComponentBody] {
		errs.Add("components", CodeBodyMissing, "a template needs a BODY component")
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func validateHeader(errs *apperr.Fields, path string, c Component, named bool) {
	switch headerFormat(c) {
	case HeaderFormatText:
		if strings.TrimSpace(c.Text) == "" {
			errs.Add(path+".text", CodeComponentInvalid, "a TEXT header needs text")
			return
		}
		if n := utf8.RuneCountInString(c.Text); n > MaxHeaderLength {
			errs.Add(path+".text", CodeHeaderTooLong, fmt.Sprintf("the header has %d characters; the limit is %d", n, MaxHeaderLength))
		}
		toks := placeholders(c.Text)
		if len(toks) > 1 {
			errs.Add(path+".text", CodeVariablesInvalid, "a header has at most one variable")
		}
		validateVariables(errs, path+".text", toks, named)
	case HeaderFormatImage, HeaderFormatVideo, HeaderFormatDocument, HeaderFormatLocation:
	case "":
		errs.Add(path+".format", CodeComponentInvalid, "a header needs a format: TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION")
	default:
		errs.Add(path+".format", CodeComponentInvalid, fmt.Sprintf("unknown header format %q: use TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION", c.Format))
	}
}

// headerFormat is the upper-cased format of a header; a header with text and no format is TEXT.
func headerFormat(c Component) string {
	f := upper(c.Format)
	if f == "" && c.Text != "" {
		return HeaderFormatText
	}
	return f
}

func validateBody(errs *apperr.Fields, path string, c Component, named bool) {
	if strings.TrimSpace(c.Text) == "" {
		errs.Add(path+".text", CodeBodyMissing, "the body text is empty")
		return
	}
	if n := utf8.RuneCountInString(c.Text); n > MaxBodyLength {
		errs.Add(path+".text", CodeBodyTooLong, fmt.Sprintf("the body has %d characters; the limit is %d", n, MaxBodyLength))
	}
	validateVariables(errs, path+".text", placeholders(c.Text), named)
}

// validateVariables checks the syntax of header or body placeholders: named ones must be
// lower_snake names; positional ones must be {{1}}, {{2}}… numbered in order of first appearance.
func validateVariables(errs *apperr.Fields, field string, toks []string, named bool) {
	reported := map[string]bool{}
	next := 1
	ordered := true
	for _, tok := range toks {
		if reported[tok] {
			continue
		}
		switch {
		case named && !namedVarRE.MatchString(tok):
			reported[tok] = true
			if positionalRE.MatchString(tok) {
				errs.Add(field, CodeVariablesInvalid, fmt.Sprintf("{{%s}} is positional but the template's parameter format is NAMED", tok))
			} else {
				errs.Add(field, CodeVariablesInvalid, fmt.Sprintf("{{%s}} is not a valid variable: use lowercase letters, digits and _, starting with a letter or _", tok))
			}
		case !named && !positionalRE.MatchString(tok):
			reported[tok] = true
			if namedVarRE.MatchString(tok) {
				errs.Add(field, CodeVariablesInvalid, fmt.Sprintf("{{%s}} is a named variable but the template's parameter format is POSITIONAL", tok))
			} else {
				errs.Add(field, CodeVariablesInvalid, fmt.Sprintf("{{%s}} is not a valid variable: use {{1}}, {{2}}…", tok))
			}
		case !named:
			reported[tok] = true
			if ordered && tok != strconv.Itoa(next) {
				ordered = false
				errs.Add(field, CodeVariablesInvalid, fmt.Sprintf("variables must be numbered from {{1}} in order of first appearance: found {{%s}} where {{%d}} was expected", tok, next))
			}
			next++
		}
	}
}

func validateFooter(errs *apperr.Fields, path string, c Component) {
	if strings.TrimSpace(c.Text) == "" {
		errs.Add(path+".text", CodeComponentInvalid, "the footer text is empty")
		return
	}
	if n := utf8.RuneCountInString(c.Text); n > MaxFooterLength {
		errs.Add(path+".text", CodeFooterTooLong, fmt.Sprintf("the footer has %d characters; the limit is %d", n, MaxFooterLength))
	}
	if len(placeholders(c.Text)) > 0 {
		errs.Add(path+".text", CodeVariablesInvalid, "a footer cannot have variables")
	}
}

func validateButtons(errs *apperr.Fields, path string, c Component) {
	switch n := len(c.Buttons); {
	case n == 0:
		errs.Add(path+".buttons", CodeComponentInvalid, "a BUTTONS component needs at least one button")
	case n > MaxButtons:
		errs.Add(path+".buttons", CodeButtonsTooMany, fmt.Sprintf("the template has %d buttons; the limit is %d", n, MaxButtons))
	}
	for j, b := range c.Buttons {
		bpath := fmt.Sprintf("%s.buttons[%d]", path, j)
		t := upper(b.Type)
		if t == "" {
			errs.Add(bpath+".type", CodeButtonInvalid, "a button needs a type")
		}
		if (t == ButtonURL || t == ButtonPhoneNumber || t == ButtonQuickReply) && strings.TrimSpace(b.Text) == "" {
			errs.Add(bpath+".text", CodeButtonInvalid, "the button needs a text")
		}
		if len(placeholders(b.Text)) > 0 {
			errs.Add(bpath+".text", CodeVariablesInvalid, "a button's text cannot have variables")
		}
		switch t {
		case ButtonURL:
			if strings.TrimSpace(b.URL) == "" {
				errs.Add(bpath+".url", CodeButtonInvalid, "a URL button needs a url")
				break
			}
			toks := placeholders(b.URL)
			if len(toks) > 1 || (len(toks) == 1 && (toks[0] != "1" || !strings.HasSuffix(b.URL, "{{1}}"))) {
				errs.Add(bpath+".url", CodeVariablesInvalid, "a URL button has at most one variable, {{1}}, at the end of the url")
			}
		case ButtonPhoneNumber:
			if strings.TrimSpace(b.PhoneNumber) == "" {
				errs.Add(bpath+".phone_number", CodeButtonInvalid, "a PHONE_NUMBER button needs a phone_number")
			}
		}
	}
}

// Variables returns the template's variable keys in order (header, then body, then URL buttons,
// by first appearance), each once: ["nome","atendente"] for a NAMED template, ["header.1","1","2",
// "button.0"] for a POSITIONAL one with a header, a body and a URL button, and an empty slice when
// it has none. See the package comment for the keys.
func (d Definition) Variables() []string {
	vars := d.layout().vars
	if vars == nil {
		return []string{}
	}
	return vars
}

// Where a variable's value goes, as VariableDetail.Component says it.
const (
	PlaceHeader = "HEADER"
	PlaceBody   = "BODY"
	PlaceButton = "BUTTON"
)

// VariableDetail describes one variable for a form that fills it: its key, where its value goes
// (HEADER, BODY or BUTTON; a NAMED variable used in the header and the body is BODY), the label a
// preview shows in its place ("[NOME]", "[1]": the placeholder as written, upper-cased in
// brackets, without saying where it is), and Meta's example value from the template's example
// fields, nil when the template carries none.
type VariableDetail struct {
	Key       string
	Component string
	Label     string
	Example   *string
}

// VariableDetails returns a VariableDetail for each variable, in the order of Variables.
func (d Definition) VariableDetails() []VariableDetail {
	l := d.layout()
	out := make([]VariableDetail, 0, len(l.vars))
	for _, k := range l.vars {
		out = append(out, *l.details[k])
	}
	return out
}

// scope is the variables of one piece of text that Meta fills as one send component: the header,
// the body, or one URL button's url.
type scope struct {
	keys   map[string]string // placeholder token → variable key
	tokens []string          // the distinct tokens in send order
}

// usage says where a variable appears, which decides the limits its value must meet.
type usage struct{ header, body, url bool }

type layout struct {
	named      bool
	header     *Component // the first HEADER component
	body       *Component // the first BODY component
	footer     *Component // the first FOOTER component
	buttons    []Button   // the buttons of the first BUTTONS component
	headerText bool       // the header is a TEXT header
	headerVars scope
	bodyVars   scope
	urlVars    map[int]scope // by button index
	vars       []string
	uses       map[string]usage
	details    map[string]*VariableDetail
}

// layout works out the template's variables. Only the first component of each type counts, and a
// placeholder that is not a variable in the template's format stays literal text: Validate
// reports both, while rendering and sending stay total functions.
func (d Definition) layout() layout {
	if d.frozen != nil {
		return *d.frozen
	}
	return d.computeLayout()
}

func (d Definition) computeLayout() layout {
	l := layout{named: d.ParameterFormat.IsNamed(), urlVars: map[int]scope{}, uses: map[string]usage{}, details: map[string]*VariableDetail{}}
	for i := range d.Components {
		c := &d.Components[i]
		switch upper(c.Type) {
		case ComponentHeader:
			if l.header == nil {
				l.header = c
			}
		case ComponentBody:
			if l.body == nil {
				l.body = c
			}
		case ComponentFooter:
			if l.footer == nil {
				l.footer = c
			}
		case ComponentButtons:
			if l.buttons == nil {
				l.buttons = c.Buttons
				if l.buttons == nil {
					l.buttons = []Button{}
				}
			}
		}
	}
	if l.header != nil && headerFormat(*l.header) == HeaderFormatText {
		l.headerText = true
		ex := textExamples(l.header.Example, "header_text", "header_text_named_params", false)
		l.headerVars = l.textScope(l.header.Text, "header.", PlaceHeader, ex, func(u *usage) { u.header = true })
	}
	if l.body != nil {
		ex := textExamples(l.body.Example, "body_text", "body_text_named_params", true)
		l.bodyVars = l.textScope(l.body.Text, "", PlaceBody, ex, func(u *usage) { u.body = true })
	}
	for j, b := range l.buttons {
		if upper(b.Type) != ButtonURL {
			continue
		}
		for _, tok := range placeholders(b.URL) {
			if tok == "1" {
				key := "button." + strconv.Itoa(j)
				l.urlVars[j] = scope{keys: map[string]string{"1": key}, tokens: []string{"1"}}
				l.use(key, tok, PlaceButton, urlExample(b), func(u *usage) { u.url = true })
				break
			}
		}
	}
	return l
}

// textScope assigns keys to the variables of a header or body text: the name in a NAMED
// template, prefix+number in a POSITIONAL one. examples maps a token to Meta's example value.
func (l *layout) textScope(text, prefix, place string, examples map[string]string, mark func(*usage)) scope {
	s := scope{keys: map[string]string{}}
	if l.named {
		for _, tok := range placeholders(text) {
			if _, ok := s.keys[tok]; ok || !namedVarRE.MatchString(tok) {
				continue
			}
			s.keys[tok] = tok
			s.tokens = append(s.tokens, tok)
			l.use(tok, tok, place, examples[tok], mark)
		}
		return s
	}
	for _, tok := range placeholders(text) {
		if _, ok := s.keys[tok]; ok || !positionalRE.MatchString(tok) {
			continue
		}
		s.keys[tok] = prefix + tok
		s.tokens = append(s.tokens, tok)
	}
	// Meta fills {{1}}, {{2}}… in number order, whatever order they appear in.
	sort.Slice(s.tokens, func(i, j int) bool {
		a, b := s.tokens[i], s.tokens[j]
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a < b
	})
	for _, tok := range s.tokens {
		l.use(s.keys[tok], tok, place, examples[tok], mark)
	}
	return s
}

// use records that the variable key (written tok in its text) appears in place. A NAMED variable
// in the header and the body is placed in the body, where the agent sees it in context; its
// example is the first one found.
func (l *layout) use(key, tok, place, example string, mark func(*usage)) {
	u, ok := l.uses[key]
	if !ok {
		l.vars = append(l.vars, key)
		l.details[key] = &VariableDetail{Key: key, Component: place, Label: "[" + strings.ToUpper(tok) + "]"}
	}
	det := l.details[key]
	if place == PlaceBody {
		det.Component = PlaceBody
	}
	if det.Example == nil && example != "" {
		det.Example = &example
	}
	mark(&u)
	l.uses[key] = u
}

// label is how a variable without a value shows: its detail's label, or the key in brackets.
func (l *layout) label(key string) string {
	if det, ok := l.details[key]; ok {
		return det.Label
	}
	return "[" + strings.ToUpper(key) + "]"
}

// textExamples reads Meta's example values of a header or body by token: the positional list
// (header_text: ["v1"], body_text: [["v1","v2"]]) or the named list ([{"param_name":…,
// "example":…}]). Anything malformed gives no examples: they only help the person filling in.
func textExamples(raw json.RawMessage, positionalField, namedField string, nested bool) map[string]string {
	out := map[string]string{}
	if len(raw) == 0 {
		return out
	}
	var ex map[string]json.RawMessage
	if json.Unmarshal(raw, &ex) != nil {
		return out
	}
	var named []struct {
		ParamName string `json:"param_name"`
		Example   string `json:"example"`
	}
	if json.Unmarshal(ex[namedField], &named) == nil {
		for _, n := range named {
			out[n.ParamName] = n.Example
		}
	}
	var list []string
	if nested {
		var rows [][]string
		if json.Unmarshal(ex[positionalField], &rows) == nil && len(rows) > 0 {
			list = rows[0]
		}
	} else {
		_ = json.Unmarshal(ex[positionalField], &list)
	}
	for i, v := range list {
		out[strconv.Itoa(i+1)] = v
	}
	return out
}

// urlExample is Meta's example of a URL button's suffix. Meta gives the whole link
// (["https://loja.example/pedidos/123"]); the suffix is what follows the url's fixed part.
func urlExample(b Button) string {
	var ex string
	var list []string
	if json.Unmarshal(b.Example, &list) == nil && len(list) > 0 {
		ex = list[0]
	} else if json.Unmarshal(b.Example, &ex) != nil {
		return ""
	}
	prefix, _, _ := strings.Cut(b.URL, "{{")
	if prefix != "" && strings.HasPrefix(ex, prefix) && len(ex) > len(prefix) {
		return ex[len(prefix):]
	}
	return ex
}
