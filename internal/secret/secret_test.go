package secret

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	b, err := NewBox("0123456789abcdef-key")
	require.NoError(t, err)
	s := b.Seal("EAAG-token")
	require.NotContains(t, s, "EAAG")
	require.NotEqual(t, s, b.Seal("EAAG-token"), "nonces differ")
	p, err := b.Open(s)
	require.NoError(t, err)
	require.Equal(t, "EAAG-token", p)

	other, _ := NewBox("another-key-0123456789")
	_, err = other.Open(s)
	require.Error(t, err)
	_, err = NewBox("short")
	require.Error(t, err)
	e, err := b.Open("")
	require.NoError(t, err)
	require.Empty(t, e)
}
