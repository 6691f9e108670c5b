// Package phone parses, normalises and matches the phone numbers of contacts.
//
// Every number is stored in E.164 form ("+5511987654321") so that the same person typed as
// "(11) 98765-4321", "011 98765-4321" or "+55 11 98765 4321" ends up as one contact. Parsing and
// validation are delegated to github.com/nyaruka/phonenumbers (a port of Google's
// libphonenumber); this package only narrows what it accepts, because libphonenumber is lenient
// in ways that do not suit user input (it converts letters to digits, reads extensions and skips
// unknown characters).
//
// Numbers that arrive from WhatsApp are not user input: Meta sends a wa_id of digits only, and
// for Brazilian mobiles that wa_id may lack the ninth digit. MatchKeys turns such an identifier
// into the keys a stored contact may have.
package phone

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid is returned, wrapped with the reason, for every input that Parse rejects, so that
// callers can map it to a validation error with errors.Is without parsing messages.
var ErrInvalid = errors.New("invalid phone number")

// maxInputLen is the longest input, in characters after trimming surrounding whitespace, that
// Parse accepts. The longest formatted E.164 number is well under it; anything longer is not a
// phone number, and the cap bounds the work done on untrusted input.
const maxInputLen = 40

// Number is a valid phone number in E.164 form ("+5511987654321"); the zero value is not valid.
//
// A Number is built only from its own E.164 form, so two Numbers for the same phone are equal
// with == and can be used as map keys.
type Number struct {
	e164     string
	national string
	region   string
	cc       int
}

// Parse parses a phone number typed by a person and returns it if it is a valid number.
//
// A number without a leading '+' is read as a national number of defaultRegion (an ISO 3166
// region such as "BR", case-insensitive), so Brazilian users may type it "com DDD" in any of the
// usual forms, with or without the trunk prefix 0, the country code 55 or punctuation. With
// defaultRegion "BR", foreign numbers must start with '+' (or the carrier-selection prefix a
// call abroad is dialled with in Brazil, such as "0021"): a bare "00" is not an international
// prefix in Brazil, so "00 1 650…" reads as a national number and is rejected as invalid. A
// Brazilian mobile typed without the ninth digit ("11 8765-4321") is not a valid number and is
// rejected rather than guessed; wa_ids in that form are handled by MatchKeys.
//
// Parse rejects, with an error wrapping ErrInvalid: empty input, input longer than 40
// characters, letters (libphonenumber would read "0800-FLORES" as digits; a contact's phone
// must not be guessed), control characters, any character that is not a digit, whitespace or
// the punctuation + - ( ) [ ] . /, extensions, and numbers that libphonenumber does not
// consider valid for their region. Fullwidth digits and punctuation (typed with CJK input
// methods) are read as their ASCII forms; invisible formatting characters such as the
// directional marks that apps put around copied numbers are ignored; digits of other scripts
// are rejected. Parse never panics.
func Parse(input, defaultRegion string) (Number, error) {
	key := input + "\x00" + defaultRegion
	memoMu.Lock()
	m, ok := memo[key]
	memoMu.Unlock()
	if ok {
		return m.n, m.err
	}
	n, err := parse(input, defaultRegion)
	memoMu.Lock()
	if len(memo) >= memoSize {
		clear(memo)
	}
	memo[key] = parsed{n, err}
	memoMu.Unlock()
	return n, err
}

// Parse is pure and costly (libphonenumber's patterns: tens of microseconds), and one request
// parses the same number several times (the start's checks, the contact's, its lookup and its
// creation), so it remembers its last answers: at most memoSize, then it starts over.
const memoSize = 4096

type parsed struct {
	n   Number
	err error
}

var (
	memoMu sync.Mutex
	memo   = map[string]parsed{}
)

func parse(input, defaultRegion string) (Number, error) {
	input = strings.TrimSpace(input)
	if input == "" {
		return Number{}, invalid("empty")
	}
	if !utf8.ValidString(input) {
		return Number{}, invalid("not valid UTF-8")
	}
	if utf8.RuneCountInString(input) > maxInputLen {
		return Number{}, invalid(fmt.Sprintf("longer than %d characters", maxInputLen))
	}
	clean, err := sanitize(input)
	if err != nil {
		return Number{}, err
	}
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))

	pn, err := parseNumber(clean, region)
	if err != nil {
		return Number{}, err
	}
	if pn.GetExtension() != "" {
		// WhatsApp cannot dial an extension and the E.164 form would silently drop it.
		return Number{}, invalid("extensions are not supported")
	}
	if reason := validity(pn); reason != "" {
		return Number{}, invalid(reason)
	}

	// Build the Number from its own E.164 form, so that it depends on nothing but that string
	// and Parse(n.E164(), any region) gives back an equal Number.
	e164 := phonenumbers.Format(pn, phonenumbers.E164)
	canon, err := parseNumber(e164, "")
	if err != nil {
		return Number{}, err
	}
	if validity(canon) != "" || phonenumbers.Format(canon, phonenumbers.E164) != e164 {
		return Number{}, invalid("does not survive normalisation to E.164")
	}
	return Number{
		e164:     e164,
		national: phonenumbers.Format(canon, phonenumbers.NATIONAL),
		region:   phonenumbers.GetRegionCodeForNumber(canon),
		cc:       int(canon.GetCountryCode()),
	}, nil
}

// MustParse is Parse for numbers known to be valid, such as those in tests and seed data; it
// panics on an invalid number because that is a bug in the program, not bad input.
func MustParse(s, region string) Number {
	n, err := Parse(s, region)
	if err != nil {
		panic(fmt.Sprintf("phone.MustParse(%q, %q): %v", s, region, err))
	}
	return n
}

// E164 returns the number in E.164 form, such as "+5511987654321", the form in which it is
// stored; it returns "" for the zero Number.
func (n Number) E164() string { return n.e164 }

// Digits returns the E.164 form without the '+', such as "5511987654321", which is how the
// WhatsApp Cloud API addresses numbers; it returns "" for the zero Number.
func (n Number) Digits() string { return strings.TrimPrefix(n.e164, "+") }

// String returns the E.164 form, so that logs and fmt show the canonical number.
func (n Number) String() string { return n.e164 }

// IsZero reports whether n is the zero Number, which holds no number (for example an optional
// phone that was not given).
func (n Number) IsZero() bool { return n.e164 == "" }

// National returns the number formatted for display in its own country, such as
// "(11) 98765-4321" for a Brazilian mobile or "(650) 253-0000" for a US number; it returns ""
// for the zero Number.
func (n Number) National() string { return n.national }

// Region returns the ISO 3166 region of the number, such as "BR", as libphonenumber decides it
// (for +1 numbers it tells "US" from "CA" by area code). Numbers of non-geographic services such
// as +800 return "001". It returns "" for the zero Number.
func (n Number) Region() string { return n.region }

// CountryCode returns the country calling code of the number, such as 55 for Brazil; it returns
// 0 for the zero Number.
func (n Number) CountryCode() int { return n.cc }

// invalid wraps ErrInvalid with a reason, so that errors.Is works and logs say why.
func invalid(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalid, reason)
}

// sanitize checks every character of the trimmed input and returns it in ASCII, so that
// libphonenumber only ever sees digits, spaces and a little punctuation: it would otherwise
// accept letters as keypad digits and skip characters it does not know.
func sanitize(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if d, ok := foldDigit(r); ok {
			b.WriteByte(d)
			continue
		}
		switch {
		case unicode.IsLetter(r):
			return "", invalid("contains letters")
		case unicode.IsControl(r):
			return "", invalid("contains control characters")
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		case unicode.Is(unicode.Cf, r):
			// Invisible formatting (directional marks, zero-width spaces, soft hyphens) comes with
			// numbers copied from apps and web pages; it carries no meaning.
		default:
			p, ok := foldPunct(r)
			if !ok {
				return "", invalid(fmt.Sprintf("unexpected character %q", r))
			}
			b.WriteByte(p)
		}
	}
	return b.String(), nil
}

// foldDigit returns the ASCII digit for an ASCII or fullwidth digit. Other scripts' digits are
// not folded: nobody types them for a Brazilian contact and libphonenumber handles only some.
func foldDigit(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), true
	case r >= '０' && r <= '９':
		return byte('0' + (r - '０')), true
	}
	return 0, false
}

// foldPunct returns the ASCII form of the punctuation people put in phone numbers: the plus
// sign, brackets, dots, slashes and every kind of dash (word processors and phones replace '-'
// with typographic dashes).
func foldPunct(r rune) (byte, bool) {
	if r >= '！' && r <= '～' {
		// The fullwidth forms (＋ （ － …) stand at a fixed distance from their ASCII ones.
		r -= '！' - '!'
	}
	switch r {
	case '+', '(', ')', '[', ']', '.', '/', '-':
		return byte(r), true
	case '\u2212': // the minus sign, which is a math symbol rather than a dash (Pd)
		return '-', true
	}
	if unicode.Is(unicode.Pd, r) {
		return '-', true
	}
	return 0, false
}

// parseNumber calls phonenumbers.Parse and turns its errors, and any panic, into ErrInvalid.
// The input is already sanitised, but libphonenumber is a large regexp-driven port and a bad
// phone typed by a user must never bring a request down.
func parseNumber(s, region string) (pn *phonenumbers.PhoneNumber, err error) {
	defer func() {
		if r := recover(); r != nil {
			pn, err = nil, invalid(fmt.Sprintf("could not be parsed (%v)", r))
		}
	}()
	pn, err = phonenumbers.Parse(s, region)
	if err != nil {
		if errors.Is(err, phonenumbers.ErrInvalidCountryCode) {
			return nil, invalid(fmt.Sprintf("unknown country code (no '+' and default region %q)", region))
		}
		return nil, invalid(err.Error())
	}
	return pn, nil
}

// validity returns why pn is not a valid number, or "" if it is. The length check comes first
// only to give a more useful reason; IsValidNumber is what decides.
func validity(pn *phonenumbers.PhoneNumber) (reason string) {
	defer func() {
		if r := recover(); r != nil {
			reason = fmt.Sprintf("could not be validated (%v)", r)
		}
	}()
	switch phonenumbers.IsPossibleNumberWithReason(pn) {
	case phonenumbers.IS_POSSIBLE, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "unknown country code"
	case phonenumbers.TOO_SHORT:
		return "too short"
	case phonenumbers.TOO_LONG:
		return "too long"
	default:
		return "wrong number of digits"
	}
	if !phonenumbers.IsValidNumber(pn) {
		if region := phonenumbers.GetRegionCodeForNumber(pn); region != "" {
			return "not a valid number in " + region
		}
		return "not a valid number"
	}
	return ""
}

// MatchKeys returns the digit strings under which a number received from WhatsApp (a wa_id,
// `from` or `recipient_id`: digits only, no '+', possibly a username-like key that is not digits)
// may be stored. Brazil: Meta's wa_id may lack the ninth digit: for a 12-digit "55"+DD+8 digits
// number whose subscriber part starts with 6-9, also return the 13-digit form with a '9' inserted
// after the 2-digit area code; conversely for a 13-digit 55DD9XXXXXXXX mobile also return the
// 12-digit form without the 9 (so a contact stored either way matches). Landlines (subscriber
// starting 2-5) get no variant. The input itself (digits only) always comes first. Non-digit input → nil.
//
// The keys are in the form of Number.Digits, so a contact is found with "digits IN keys". The
// 13-digit form gets its 12-digit variant only when the digit after the 9 is 6-9, the mirror of
// the rule above: removing the 9 from 55 11 9 3456-7890 would give the São Paulo landline
// 3456-7890, a different phone. With that, the relation is symmetric: k is a key of x exactly
// when x is a key of k. Area codes containing a 0 do not exist and get no variant. Empty input
// also returns nil, since it identifies nobody.
func MatchKeys(waID string) []string {
	if waID == "" || !allDigits(waID) {
		return nil
	}
	keys := []string{waID}
	if v := ninthDigitVariant(waID); v != "" {
		keys = append(keys, v)
	}
	return keys
}

// ninthDigitVariant returns the other form of a Brazilian mobile wa_id (with the ninth digit
// added or removed), or "" if the wa_id is not one.
func ninthDigitVariant(d string) string {
	if !strings.HasPrefix(d, "55") || len(d) < 12 || !isAreaDigit(d[2]) || !isAreaDigit(d[3]) {
		return ""
	}
	switch {
	case len(d) == 12 && isMobileLead(d[4]):
		return d[:4] + "9" + d[4:]
	case len(d) == 13 && d[4] == '9' && isMobileLead(d[5]):
		return d[:4] + d[5:]
	}
	return ""
}

// isAreaDigit reports whether c may be a digit of a Brazilian area code (DDD), which are 11-99
// without zeros.
func isAreaDigit(c byte) bool { return c >= '1' && c <= '9' }

// isMobileLead reports whether c may start the 8-digit subscriber part of a Brazilian mobile
// (landlines start with 2-5).
func isMobileLead(c byte) bool { return c >= '6' && c <= '9' }

// allDigits reports whether s consists of ASCII digits only.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// SearchDigits returns the digits of a free-text query if it looks like part of a phone number
// (only digits, spaces, + - ( ) . after trimming, and at least 3 digits), for searching contacts by phone digits; else "".
//
// The result is meant for a substring match against Number.Digits, so "(11) 98765" finds
// "5511987654321". Queries with fewer than 3 digits would match almost every contact, and
// anything else (a name, an e-mail) is searched as text instead. Fullwidth digits count as
// digits, as in Parse; a trunk prefix or country code typed in the query is kept as typed.
func SearchDigits(q string) string {
	q = strings.TrimSpace(q)
	var b strings.Builder
	for _, r := range q {
		if d, ok := foldDigit(r); ok {
			b.WriteByte(d)
			continue
		}
		switch {
		case unicode.IsSpace(r), r == '+', r == '-', r == '(', r == ')', r == '.':
		default:
			return ""
		}
	}
	if b.Len() < 3 {
		return ""
	}
	return b.String()
}
