package whatsapp_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/whatsapp"
)

func FuzzParseWebhook(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "webhooks", "*.json"))
	require.NoError(f, err)
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `[]`, `null`, `{"entry":null}`, `{"entry":[{"changes":[{"field":"messages","value":null}]}]}`,
		`{"entry":[{"id":1e400,"changes":[{"field":"messages","value":{"messages":[{"timestamp":-1e400,"id":0.5}]}}]}]}`,
		`{"entry":[{"changes":[{"field":"user_preferences","value":{"user_preferences":[null,"stop",{"wa_id":5511,"value":["stop"],"timestamp":"x"}]}}]}]}`,
		`{"entry":[{"changes":[{"field":"message_template_quality_update","value":{"message_template_id":1e30,"new_quality_score":{}}}]}]}`,
		`{"entry":[{"changes":[{"field":"template_category_update","value":[]},{"field":"template_category_update","value":{"new_category":null}}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n1, err1 := whatsapp.ParseWebhook(body)
		n2, err2 := whatsapp.ParseWebhook(body)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("non-deterministic error: %v vs %v", err1, err2)
		}
		if err1 != nil {
			if !errors.Is(err1, whatsapp.ErrMalformed) {
				t.Fatalf("error is not ErrMalformed: %v", err1)
			}
			if n1 != nil {
				t.Fatal("notification returned with an error")
			}
			return
		}
		require.Equal(t, n1, n2)
		for _, m := range n1.Messages {
			if !json.Valid(m.Raw) {
				t.Fatalf("raw of message %q is not JSON: %q", m.ID, m.Raw)
			}
			if !m.Timestamp.IsZero() {
				if _, err := m.Timestamp.MarshalJSON(); err != nil {
					t.Fatalf("timestamp cannot be written: %v", err)
				}
			}
		}
		for _, s := range n1.Statuses {
			if _, err := s.Timestamp.MarshalJSON(); err != nil {
				t.Fatalf("timestamp cannot be written: %v", err)
			}
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account"}`), "secret", 0, byte(1))
	f.Add([]byte{}, "s", 3, byte(0x80))
	f.Add([]byte("Jo\\u00e3o"), "app secret with spaces", 70, byte(0xff))
	f.Fuzz(func(t *testing.T, body []byte, secret string, pos int, mask byte) {
		if secret == "" {
			// An empty secret never verifies, whatever the header.
			if whatsapp.VerifySignature(body, whatsapp.Sign(body, secret), secret) {
				t.Fatal("empty secret verified")
			}
			return
		}
		sig := whatsapp.Sign(body, secret)
		if !whatsapp.VerifySignature(body, sig, secret) {
			t.Fatalf("Sign then Verify failed for %q", body)
		}
		if mask == 0 {
			mask = 1
		}
		if pos < 0 {
			pos = -(pos + 1)
		}

		// Flipping any byte of the body breaks the signature.
		if len(body) > 0 {
			flipped := append([]byte(nil), body...)
			flipped[pos%len(body)] ^= mask
			if whatsapp.VerifySignature(flipped, sig, secret) {
				t.Fatalf("flipped body byte %d verified", pos%len(body))
			}
		}

		// Changing any byte of the signature breaks it: flip bits of the digest itself (a hex
		// digit changed only in case is the same digest).
		digest := []byte(sig[len("sha256="):])
		i := pos % len(digest)
		digest[i] = otherHexDigit(digest[i], mask)
		if whatsapp.VerifySignature(body, "sha256="+string(digest), secret) {
			t.Fatalf("signature with digit %d changed verified", i)
		}

		// And any raw byte flip of the header (prefix included) never verifies unless it only
		// changed the case of a letter.
		header := []byte(sig)
		j := pos % len(header)
		orig := header[j]
		header[j] ^= mask
		if whatsapp.VerifySignature(body, string(header), secret) && !sameLetterIgnoringCase(orig, header[j]) {
			t.Fatalf("header byte %d flipped from %q to %q verified", j, orig, header[j])
		}
	})
}

// otherHexDigit returns a lowercase hex digit of a different value than c.
func otherHexDigit(c, mask byte) byte {
	const digits = "0123456789abcdef"
	v := byte(0)
	for k := range digits {
		if digits[k] == c {
			v = byte(k)
		}
	}
	return digits[(v+1+mask%15)%16]
}

func sameLetterIgnoringCase(a, b byte) bool {
	lower := func(c byte) byte {
		if c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	return a != b && lower(a) == lower(b) && lower(a) >= 'a' && lower(a) <= 'z'
}
