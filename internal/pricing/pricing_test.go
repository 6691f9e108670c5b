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
