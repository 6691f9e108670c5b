package whatsapp

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// The types below decode Meta's JSON leniently. Meta documents ids and timestamps as strings but
// some payloads carry numbers, and a webhook must never be rejected because one field has an
// unexpected shape: each of these accepts what it can and silently keeps its zero value for
// anything else, so they never return an error.

// flexString holds a JSON string, or the decimal text of a JSON number; other values decode to "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		*s = ""
		return nil
	}
	switch b[0] {
	case '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			*s = ""
			return nil
		}
		*s = flexString(v)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		*s = flexString(numberText(string(b)))
	default:
		*s = ""
	}
	return nil
}

// numberText returns a JSON number as decimal text: integers as written, and exponent or
// fraction forms of an exactly representable integer (1.5e3) in plain digits, so an id sent as
// 1.689556908129832e15 still reads as its digits. Anything else is kept as written.
func numberText(lit string) string {
	plain := true
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		if (c < '0' || c > '9') && !(i == 0 && c == '-') {
			plain = false
			break
		}
	}
	if plain {
		return lit
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return lit
}

// flexInt holds a JSON number or a numeric string as an int; other values decode to 0.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	_ = s.UnmarshalJSON(b)
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || v > math.MaxInt32 || v < math.MinInt32 {
		*n = 0
		return nil
	}
	*n = flexInt(v)
	return nil
}

// flexBool holds a JSON boolean or the strings "true"/"false"; other values decode to false.
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true", `"true"`:
		*v = true
	default:
		*v = false
	}
	return nil
}

// maxUnix is the first second of year 10000: later values cannot be written as RFC 3339.
const maxUnix = 253402300800

// flexTime holds a unix-seconds timestamp given as a string or a number. Anything that is not a
// positive number of seconds before year 10000 decodes to the zero time.
type flexTime time.Time

func (t *flexTime) UnmarshalJSON(b []byte) error {
	*t = flexTime(parseUnix(b))
	return nil
}

func parseUnix(b []byte) time.Time {
	var s flexString
	_ = s.UnmarshalJSON(b)
	if s == "" {
		return time.Time{}
	}
	if v, err := strconv.ParseInt(string(s), 10, 64); err == nil {
		if v <= 0 || v >= maxUnix {
			return time.Time{}
		}
		return time.Unix(v, 0).UTC()
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f >= maxUnix {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}
