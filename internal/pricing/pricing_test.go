package pricing

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEstimates(t *testing.T) {
	t.Parallel()
	c := Default()
	for _, tc := range []struct {
		cat, region string
		open        bool
		billable    bool
		amount      *float64
	}{
		{"MARKETING", "BR", false, true, ptr(0.0625)},
		{"MARKETING", "BR", true, true, ptr(0.0625)},
		{"UTILITY", "BR", false, true, ptr(0.0068)},
		{"UTILITY", "BR", true, false, ptr(0)},
		{"AUTHENTICATION", "BR", true, true, ptr(0.0068)},
		{"MARKETING", "ZZ", false, true, nil},
	} {
		e := c.Template(tc.cat, tc.region, tc.open)
		require.Equal(t, tc.billable, e.Billable, tc)
		require.Equal(t, tc.amount, e.Amount, tc)
		require.Equal(t, "USD", e.Currency)
		require.Equal(t, "2026-01-01", e.RateCardDate)
	}
	require.False(t, c.Text().Billable)
}

func ptr(f float64) *float64 { return &f }

func TestInBRL(t *testing.T) {
	t.Parallel()
	c := Default()
	l := c.Template("MARKETING", "BR", false).InBRL(5.8, "2026-12-04")
	require.Equal(t, &Local{Amount: 0.3625, Currency: "BRL", ExchangeRate: 5.8, RateDate: "2026-12-04"}, l)
	// Rounded to 4 decimals: 0.0068 × 5.4321 = 0.03693828.
	require.InDelta(t, 0.0369, c.Template("UTILITY", "BR", false).InBRL(5.4321, "2026-12-04").Amount, 1e-12)
	require.Equal(t, 0.0, c.Template("UTILITY", "BR", true).InBRL(5.8, "2026-12-04").Amount)
	require.Nil(t, c.Template("MARKETING", "ZZ", false).InBRL(5.8, "2026-12-04"), "unknown amount")
	eur := Estimate{Amount: ptr(1), Currency: "EUR"}
	require.Nil(t, eur.InBRL(5.8, "2026-12-04"), "only a card in US dollars converts")
}
