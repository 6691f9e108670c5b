package phone

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// brForms are the ways Brazilian users type the same mobile "com DDD".
var brForms = []string{
	"11 98765-4321",
	"(11) 98765-4321",
	"(11)98765-4321",
	"11987654321",
	"11 9 8765-4321",
	"11.98765.4321",
	"[11] 98765/4321",
	"+55 11 98765-4321",
	"+55 (11) 98765-4321",
	"+5511987654321",
	"55 11 98765 4321",
	"5511987654321",
	"011 98765-4321",
	"0 11 98765-4321",
	"+55 0 11 98765-4321",
	"0021 55 11 98765 4321", // international call from Brazil through carrier 21
	"  11 98765-4321\t\n",
	"11\u00a098765\u20114321",       // NBSP and non-breaking hyphen, as apps display numbers
	"\u202a+55 11 98765-4321\u202c", // directional marks around a copied number
	"+55 11 98765\u20134321",        // en dash typed by a word processor
	"１１９８７６５４３２１",                   // fullwidth digits (CJK input methods): folded to ASCII
	"＋５５ （１１） ９８７６５－４３２１", // fullwidth punctuation too
	"1\u200b1 98765-4321", // zero-width space is ignored
	"+55 11 98765-4321 ",
}

func TestParseBrazilianForms(t *testing.T) {
	t.Parallel()
	for _, in := range brForms {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(in, "BR")
			require.NoError(t, err)
			require.Equal(t, "+5511987654321", n.E164())
			require.Equal(t, "5511987654321", n.Digits())
			require.Equal(t, "+5511987654321", n.String())
			require.Equal(t, "(11) 98765-4321", n.National())
			require.Equal(t, "BR", n.Region())
			require.Equal(t, 55, n.CountryCode())
			require.False(t, n.IsZero())
			// Every form gives the very same value, usable with == and as a map key.
			require.True(t, n == MustParse("+5511987654321", "BR"))
		})
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, region, reason string
	}{
		{"empty", "", "BR", "empty"},
		{"blank", " \t\n ", "BR", "empty"},
		{"letters", "abc", "BR", "letters"},
		{"letters mixed in", "11 9abc", "BR", "letters"},
		{"vanity number", "0800-FLORES", "BR", "letters"},
		{"extension with x", "11 98765-4321 x22", "BR", "letters"},
		{"extension with ext", "11 98765-4321 ext 22", "BR", "letters"},
		{"extension with #", "11 98765-4321 #22", "BR", "unexpected character"},
		{"rfc3966", "tel:+55-11-98765-4321", "BR", "letters"},
		{"fullwidth letters", "１１ ９ａｂｃ", "BR", "letters"},
		{"too few digits", "123", "BR", ""},
		{"incomplete", "11 9876", "BR", "too short"},
		{"too long", "+55 11 98765-43210000", "BR", "too long"},
		{"more than 40 characters", "+55 11 98765-4321" + strings.Repeat(" ", 30) + "1", "BR", "40 characters"},
		{"control character", "11 98765\x00-4321", "BR", "control"},
		{"tab inside", "11\t98765-4321", "BR", "control"},
		{"invalid utf-8", "11 98765-4321\xff", "BR", "UTF-8"},
		{"two numbers", "11 98765-4321 / 11 91234-5678", "BR", ""},
		{"emoji", "📞 11 98765-4321", "BR", "unexpected character"},
		{"asterisk", "*11 98765-4321", "BR", "unexpected character"},
		// Digits of other scripts are not folded (libphonenumber folds only some of them).
		{"arabic-indic digits", "١١٩٨٧٦٥٤٣٢١", "BR", "unexpected character"},
		{"devanagari digits", "११९८७६५४३२१", "BR", "unexpected character"},
		{"no digits", "+() -", "BR", ""},
		{"just a plus", "+", "BR", ""},
		// "00" is not an international prefix in Brazil (a carrier code must follow it); the
		// digits are read as a national number, which is invalid, never as a wrong valid one.
		{"00 without carrier", "00 55 11 98765 4321", "BR", ""},
		{"00 to the US", "00 1 650 253 0000", "BR", ""},
		// A national number needs a known default region.
		{"no region", "11 98765-4321", "", "unknown country code"},
		{"unknown region", "11 98765-4321", "XX", "unknown country code"},
		{"unknown country code", "+999 1234 5678", "BR", ""},
		// Brazilian area codes have no 0 and 20 is not one.
		{"area code 20", "20 98765-4321", "BR", "not a valid number in BR"},
		// A 9-digit mobile must start with 9.
		{"9 digits not starting with 9", "11 88765-4321", "BR", "not a valid number in BR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tt.in, tt.region)
			require.Error(t, err)
			require.ErrorIs(t, err, ErrInvalid)
			require.Contains(t, err.Error(), tt.reason)
			require.True(t, n.IsZero())
			require.Equal(t, Number{}, n)
		})
	}
}

// TestParseEightDigitMobile documents what happens to a Brazilian mobile typed without the
// ninth digit: libphonenumber says an 8-digit subscriber number starting with 6-9 is neither a
// landline (those start with 2-5) nor a mobile (9 digits since 2016), so Parse rejects it rather
// than guess the missing 9. Numbers without the ninth digit that come from WhatsApp are handled
// by MatchKeys instead.
func TestParseEightDigitMobile(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"11 8765-4321", "(11) 9876-5432", "+55 11 8765-4321", "551187654321"} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(in, "BR")
			require.ErrorIs(t, err, ErrInvalid)
			require.Contains(t, err.Error(), "not a valid number in BR")
		})
	}
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, region           string
		e164, national, wantRegion string
		cc                         int
	}{
		{"br landline", "11 3456-7890", "BR", "+551134567890", "(11) 3456-7890", "BR", 55},
		{"br landline with country code", "+55 21 2345-6789", "BR", "+552123456789", "(21) 2345-6789", "BR", 55},
		{"br mobile other area", "(21) 99876-5432", "BR", "+5521998765432", "(21) 99876-5432", "BR", 55},
		// "55" at the start is the area code here, not the country code: the number is
		// complete as a national number.
		{"br area code 55", "55 98765-4321", "BR", "+5555987654321", "(55) 98765-4321", "BR", 55},
		{"br toll free", "0800 123 4567", "BR", "+558001234567", "0800 123 4567", "BR", 55},
		{"lowercase region", "11 98765-4321", "br", "+5511987654321", "(11) 98765-4321", "BR", 55},
		{"us", "+1 650 253 0000", "BR", "+16502530000", "(650) 253-0000", "US", 1},
		{"us with punctuation", "+1 (650) 253-0000", "BR", "+16502530000", "(650) 253-0000", "US", 1},
		{"us national with region US", "(650) 253-0000", "US", "+16502530000", "(650) 253-0000", "US", 1},
		{"portugal mobile", "+351 912 345 678", "BR", "+351912345678", "912 345 678", "PT", 351},
		{"portugal national with region PT", "912 345 678", "PT", "+351912345678", "912 345 678", "PT", 351},
		// In Portugal "00" is the international prefix, so this reaches Brazil.
		{"00 prefix from portugal", "00 55 11 98765 4321", "PT", "+5511987654321", "(11) 98765-4321", "BR", 55},
		{"italy keeps the leading zero", "+39 06 1234 5678", "BR", "+390612345678", "06 1234 5678", "IT", 39},
		{"uk", "+44 20 7946 0018", "BR", "+442079460018", "020 7946 0018", "GB", 44},
		{"non-geographic", "+800 1234 5678", "BR", "+80012345678", "1234 5678", "001", 800},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := Parse(tt.in, tt.region)
			require.NoError(t, err)
			require.Equal(t, tt.e164, n.E164())
			require.Equal(t, tt.e164[1:], n.Digits())
			require.Equal(t, tt.national, n.National())
			require.Equal(t, tt.wantRegion, n.Region())
			require.Equal(t, tt.cc, n.CountryCode())

			// The E.164 form parses back to the same Number whatever the default region.
			for _, region := range []string{"BR", "US", ""} {
				back, err := Parse(n.E164(), region)
				require.NoError(t, err)
				require.Equal(t, n, back)
			}
		})
	}
}

func TestZeroNumber(t *testing.T) {
	t.Parallel()
	var n Number
	require.True(t, n.IsZero())
	require.Empty(t, n.E164())
	require.Empty(t, n.Digits())
	require.Empty(t, n.String())
	require.Empty(t, n.National())
	require.Empty(t, n.Region())
	require.Zero(t, n.CountryCode())
}

func TestMustParse(t *testing.T) {
	t.Parallel()
	require.Equal(t, "+5511987654321", MustParse("11 98765-4321", "BR").E164())
	require.PanicsWithValue(t, `phone.MustParse("123", "BR"): invalid phone number: too short`, func() {
		MustParse("123", "BR")
	})
}

func TestErrorsAreDistinguishable(t *testing.T) {
	t.Parallel()
	_, err := Parse("abc", "BR")
	require.True(t, errors.Is(err, ErrInvalid))
	require.Equal(t, "invalid phone number: contains letters", err.Error())
}

func TestMatchKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"br mobile without ninth digit", "551187654321", []string{"551187654321", "5511987654321"}},
		{"br mobile without ninth digit starting 6", "552166543210", []string{"552166543210", "5521966543210"}},
		{"br mobile with ninth digit", "5511987654321", []string{"5511987654321", "551187654321"}},
		{"br mobile 99", "5511998765432", []string{"5511998765432", "551198765432"}},
		{"br landline", "551134567890", []string{"551134567890"}},
		{"br landline starting 2", "552123456789", []string{"552123456789"}},
		{"br landline starting 5", "551155556666", []string{"551155556666"}},
		// Removing the 9 would give the landline 3456-7890 of the same area, a different phone.
		{"13 digits with 9 then landline digit", "5511934567890", []string{"5511934567890"}},
		{"13 digits without the 9", "5511887654321", []string{"5511887654321"}},
		{"area code with zero", "550187654321", []string{"550187654321"}},
		{"area code with zero 13", "5510987654321", []string{"5510987654321"}},
		{"not brazil", "16502530000", []string{"16502530000"}},
		{"not brazil 12 digits", "351912345678", []string{"351912345678"}},
		{"brazil too short", "55118765432", []string{"55118765432"}},
		{"brazil too long", "55119876543210", []string{"55119876543210"}},
		{"plus sign", "+5511987654321", nil},
		{"username-like key", "user.abc123", nil},
		{"spaces", "55 11 98765 4321", nil},
		{"fullwidth digits", "５５１１９８７６５４３２１", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, MatchKeys(tt.in))
		})
	}
}

// TestMatchKeysFindsStoredContact checks the purpose of MatchKeys: a contact saved from either
// form of a Brazilian mobile is found by a wa_id in either form.
func TestMatchKeysFindsStoredContact(t *testing.T) {
	t.Parallel()
	stored := MustParse("(11) 98765-4321", "BR").Digits()
	for _, waID := range []string{"5511987654321", "551187654321"} {
		require.Contains(t, MatchKeys(waID), stored, waID)
	}
	// A contact stored from an old wa_id without the ninth digit (not a valid number today, so
	// it can only have come from WhatsApp) is found by the current 13-digit wa_id.
	require.Contains(t, MatchKeys("5511987654321"), "551187654321")
}

func TestSearchDigits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"11 98765-4321", "11987654321"},
		{"(11) 98765", "1198765"},
		{"+55 11", "5511"},
		{"  987.65  ", "98765"},
		{"4321", "4321"},
		{"123", "123"},
		{"12", ""},
		{"1-2", ""},
		{"", ""},
		{"   ", ""},
		{"+()-.", ""},
		{"Maria", ""},
		{"Maria 1198765", ""},
		{"11 9abc", ""},
		{"maria@example.com", ""},
		{"11/98765", ""},
		{"#123", ""},
		{"１２３", "123"},
		{"11\u00a098765", "1198765"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, SearchDigits(tt.in))
		})
	}
	// The digits of a query are a substring of the stored digits.
	require.Contains(t, MustParse("11 98765-4321", "BR").Digits(), SearchDigits("(11) 98765"))
}

// fuzzInputs seeds the fuzz tests with every case above.
func fuzzInputs() []string {
	seeds := append([]string{}, brForms...)
	seeds = append(seeds,
		"", "abc", "123", "11 9876", "11 9abc", "+55 11 98765-43210000", "１１９８７６５４３２１",
		"11 8765-4321", "11 3456-7890", "+1 650 253 0000", "+351 912 345 678", "+800 1234 5678",
		"+39 06 1234 5678", "00 55 11 98765 4321", "11 98765-4321 #22", "0800-FLORES",
		"١١٩٨٧٦٥٤٣٢١", "11 98765\x00-4321", "11 98765-4321\xff", "551187654321", "5511987654321",
		"5511934567890", "user.abc123", "+", "0", "00", "+0", "+55", "(", "+54 9 11 2345-6789",
	)
	return seeds
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzInputs() {
		for _, region := range []string{"BR", "US", "PT", ""} {
			f.Add(s, region)
		}
	}
	f.Fuzz(func(t *testing.T, input, region string) {
		n, err := Parse(input, region)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			require.True(t, n.IsZero())
		} else {
			require.False(t, n.IsZero())
			require.True(t, strings.HasPrefix(n.E164(), "+"), n.E164())
			require.Equal(t, n.E164(), n.String())
			d := n.Digits()
			require.Equal(t, "+"+d, n.E164())
			require.NotEmpty(t, d)
			require.LessOrEqual(t, len(d), 15, "E.164 allows at most 15 digits")
			require.True(t, allDigits(d), d)
			require.Positive(t, n.CountryCode())
			require.True(t, strings.HasPrefix(d, strconv.Itoa(n.CountryCode())), d)
			require.NotEmpty(t, n.Region())
			require.NotEmpty(t, n.National())

			back, err := Parse(n.E164(), region)
			require.NoError(t, err)
			require.Equal(t, n, back)
			back, err = Parse(n.Digits(), region)
			if err == nil && n.Region() == "BR" && strings.EqualFold(strings.TrimSpace(region), "BR") {
				// In Brazil the digits of a Brazilian number parse back to it as well.
				require.Equal(t, n, back)
			}

			keys := MatchKeys(d)
			require.NotEmpty(t, keys)
			require.Equal(t, d, keys[0])
		}

		keys := MatchKeys(input)
		if input != "" && allDigits(input) {
			require.NotEmpty(t, keys)
			require.Equal(t, input, keys[0])
		} else {
			require.Nil(t, keys)
		}
		if s := SearchDigits(input); s != "" {
			require.True(t, allDigits(s), s)
			require.GreaterOrEqual(t, len(s), 3)
		}
	})
}

func FuzzMatchKeys(f *testing.F) {
	for _, s := range fuzzInputs() {
		f.Add(s)
	}
	f.Add("551167890123")
	f.Add("5599999999999")
	f.Fuzz(func(t *testing.T, waID string) {
		keys := MatchKeys(waID)
		if waID == "" || !allDigits(waID) {
			require.Nil(t, keys)
			return
		}
		require.NotEmpty(t, keys)
		require.LessOrEqual(t, len(keys), 2)
		require.Equal(t, waID, keys[0])
		for _, k := range keys[1:] {
			require.True(t, allDigits(k), k)
			require.NotEqual(t, waID, k)
			require.True(t, strings.HasPrefix(k, "55"), k)
			require.Contains(t, []int{12, 13}, len(k))
			require.Equal(t, 1, abs(len(k)-len(waID)))
			// Symmetric: the variant leads back to the input.
			require.Equal(t, []string{k, waID}, MatchKeys(k))
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
