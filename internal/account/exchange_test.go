package account

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseExchangeRate(t *testing.T) {
	t.Parallel()
	// 02:00 UTC on 5 December is still 4 December in Brasília.
	now := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	rate := func(v float64) *float64 { return &v }
	day := func(s string) *string { return &s }
	for _, tc := range []struct {
		name     string
		in       ExchangeRateInput
		want     map[string]any
		wantErrs []string
	}{
		{"rate today", ExchangeRateInput{Rate: rate(5.8)}, map[string]any{"exchange_rate": 5.8, "exchange_rate_date": "2026-12-04"}, nil},
		{"rate with date", ExchangeRateInput{Rate: rate(5.1234), Date: day("2026-11-30")}, map[string]any{"exchange_rate": 5.1234, "exchange_rate_date": "2026-11-30"}, nil},
		{"largest", ExchangeRateInput{Rate: rate(100)}, map[string]any{"exchange_rate": 100.0, "exchange_rate_date": "2026-12-04"}, nil},
		{"clear", ExchangeRateInput{Clear: true}, map[string]any{"exchange_rate": nil, "exchange_rate_date": nil}, nil},
		{"zero and future", ExchangeRateInput{Rate: rate(0), Date: day("2026-12-05")}, nil, []string{"exchange_rate:exchange_rate_invalid", "exchange_rate_date:exchange_rate_date_invalid"}},
		{"negative", ExchangeRateInput{Rate: rate(-5)}, nil, []string{"exchange_rate:exchange_rate_invalid"}},
		{"too large", ExchangeRateInput{Rate: rate(100.0001)}, nil, []string{"exchange_rate:exchange_rate_invalid"}},
		{"five decimals", ExchangeRateInput{Rate: rate(5.12345)}, nil, []string{"exchange_rate:exchange_rate_invalid"}},
		{"not a date", ExchangeRateInput{Rate: rate(5), Date: day("04/12/2026")}, nil, []string{"exchange_rate_date:exchange_rate_date_invalid"}},
		{"date alone", ExchangeRateInput{Date: day("2026-12-01")}, nil, []string{"exchange_rate:exchange_rate_invalid"}},
		{"clear with a date", ExchangeRateInput{Clear: true, Date: day("2026-12-01")}, nil, []string{"exchange_rate_date:exchange_rate_date_invalid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := parseExchangeRate(tc.in, now)
			require.ElementsMatch(t, tc.wantErrs, errs.Codes())
			if tc.wantErrs == nil {
				require.Equal(t, tc.want, got)
			}
		})
	}
}
