// Package pricing estimates what Meta charges for a message, from a rate card kept as data
// (ratecard.json, embedded): per delivered template message, by category and the recipient's
// country. Free text inside the customer-service window is free, and so is a utility template
// sent while the window is open.
package pricing

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
)

//go:embed ratecard.json
var defaultCard []byte

// Card is a rate card: the price of one delivered template message per country and category.
type Card struct {
	EffectiveDate string                        `json:"effective_date"`
	Currency      string                        `json:"currency"`
	Countries     map[string]map[string]float64 `json:"countries"`
}

// Default returns the rate card shipped with the binary.
func Default() *Card {
	c, err := Parse(defaultCard)
	if err != nil {
		panic(fmt.Sprintf("embedded rate card: %v", err))
	}
	return c
}

// Parse reads a rate card.
func Parse(b []byte) (*Card, error) {
	var c Card
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if c.Currency == "" || c.EffectiveDate == "" {
		return nil, fmt.Errorf("rate card needs currency and effective_date")
	}
	return &c, nil
}

// Estimate is the expected charge of one message.
type Estimate struct {
	Category     string
	Billable     bool
	Amount       *float64 // nil when the card has no rate for the country
	Currency     string
	RateCardDate string
}

// Template estimates a template message of the category to a contact in region (ISO country
// code of the contact's number), given whether the customer-service window is open.
func (c *Card) Template(category, region string, windowOpen bool) Estimate {
	e := Estimate{Category: category, Billable: true, Currency: c.Currency, RateCardDate: c.EffectiveDate}
	if category == "UTILITY" && windowOpen {
		e.Billable = false
	}
	zero := 0.0
	if !e.Billable {
		e.Amount = &zero
		return e
	}
	if rates, ok := c.Countries[region]; ok {
		if r, ok := rates[category]; ok {
			e.Amount = &r
		}
	}
	return e
}

// Text estimates a free-form message, which Meta does not charge.
func (c *Card) Text() Estimate {
	zero := 0.0
	return Estimate{Category: "SERVICE", Billable: false, Amount: &zero, Currency: c.Currency, RateCardDate: c.EffectiveDate}
}

// Local is an estimate's amount in reais, at the account's exchange rate.
type Local struct {
	Amount       float64
	Currency     string
	ExchangeRate float64
	RateDate     string
}

// InBRL converts the estimate at brlPerUSD reais a dollar (the rate of the day date), rounded to
// 4 decimals. It is nil when the amount is unknown or the card is not in US dollars.
func (e Estimate) InBRL(brlPerUSD float64, date string) *Local {
	if e.Amount == nil || e.Currency != "USD" {
		return nil
	}
	return &Local{Amount: math.Round(*e.Amount*brlPerUSD*1e4) / 1e4, Currency: "BRL", ExchangeRate: brlPerUSD, RateDate: date}
}
