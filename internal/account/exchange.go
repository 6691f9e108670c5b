package account

import (
	"math"
	"time"

	"github.com/atendimento/atendimento/internal/apperr"
)

// ExchangeRate is the account's rate for showing the rate card's US dollars in reais: BRLPerUSD
// reais buy one dollar, as of Date (YYYY-MM-DD).
type ExchangeRate struct {
	BRLPerUSD float64
	Date      string
}

// ExchangeRateInput changes the account's exchange rate. Clear removes the rate and its date;
// otherwise Rate is the new rate (required) and Date the day it is from (nil: today in Brasília).
type ExchangeRateInput struct {
	Clear bool
	Rate  *float64
	Date  *string
}

// The bounds of an exchange rate: more than zero, at most 100 reais a dollar, 4 decimals.
const (
	maxExchangeRate      = 100
	exchangeRateDecimals = 4
)

// brasilia is the time zone the rate's day is read in; a fixed UTC-3 (Brazil has had no
// daylight saving since 2019) when the system has no zone database.
var brasilia = func() *time.Location {
	if loc, err := time.LoadLocation("America/Sao_Paulo"); err == nil {
		return loc
	}
	return time.FixedZone("BRT", -3*60*60)
}()

// parseExchangeRate checks an exchange rate change against today (now), collecting every
// failure, and returns the columns to write.
func parseExchangeRate(in ExchangeRateInput, now time.Time) (map[string]any, apperr.Fields) {
	var f apperr.Fields
	if in.Clear {
		if in.Date != nil {
			f.Add("exchange_rate_date", "exchange_rate_date_invalid", "exchange_rate_date needs an exchange_rate; send exchange_rate null alone to clear the rate")
		}
		return map[string]any{"exchange_rate": nil, "exchange_rate_date": nil}, f
	}
	var rate float64
	switch {
	case in.Rate == nil:
		f.Add("exchange_rate", "exchange_rate_invalid", "exchange_rate is required with exchange_rate_date")
	case math.IsNaN(*in.Rate) || *in.Rate <= 0 || *in.Rate > maxExchangeRate:
		f.Add("exchange_rate", "exchange_rate_invalid", "exchange_rate must be the reais one US dollar buys: more than 0 and at most 100")
	default:
		scaled := *in.Rate * math.Pow10(exchangeRateDecimals)
		if math.Abs(scaled-math.Round(scaled)) > 1e-6 {
			f.Add("exchange_rate", "exchange_rate_invalid", "exchange_rate must have at most 4 decimals")
		}
		rate = math.Round(scaled) / math.Pow10(exchangeRateDecimals)
	}
	today := now.In(brasilia).Format(time.DateOnly)
	date := today
	if in.Date != nil {
		d, err := time.Parse(time.DateOnly, *in.Date)
		switch {
		case err != nil:
			f.Add("exchange_rate_date", "exchange_rate_date_invalid", "exchange_rate_date must be a date as YYYY-MM-DD")
		case d.Format(time.DateOnly) > today:
			f.Add("exchange_rate_date", "exchange_rate_date_invalid", "exchange_rate_date cannot be in the future (Brasília time)")
		default:
			date = d.Format(time.DateOnly)
		}
	}
	return map[string]any{"exchange_rate": rate, "exchange_rate_date": date}, f
}
