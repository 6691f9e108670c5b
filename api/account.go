package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/account"
)

// AccountRequest changes the account's settings; absent fields are left as they are.
type AccountRequest struct {
	Name *string `json:"name" example:"Loja Exemplo"`
	// DefaultRegion is the ISO 3166 region national phone numbers ("com DDD") are read in.
	DefaultRegion *string `json:"default_region" example:"BR"`
	// AutoCloseWaiting closes a waiting conversation whose contact has not replied within the account's waiting timeout.
	AutoCloseWaiting *bool `json:"auto_close_waiting" example:"false"`
	// OptOutKeywords replaces the replies that opt a contact out of marketing messages (1-20 keywords of at most 40 characters; compared ignoring case, accents and surrounding spaces and punctuation).
	OptOutKeywords *[]string `json:"opt_out_keywords" example:"SAIR,PARAR,STOP,CANCELAR,DESCADASTRAR"`
	// OptInKeywords replaces the replies that opt a contact back in (0-20 keywords; none may also be an opt-out keyword).
	OptInKeywords *[]string `json:"opt_in_keywords" example:"VOLTAR"`
	// OptOutConfirmation is the text replied (inside the window) when a keyword opts a contact out; "" sends nothing.
	OptOutConfirmation *string `json:"opt_out_confirmation" validate:"omitempty,max=1024" example:"Pronto! Você não receberá mais mensagens de marketing. Responda VOLTAR para voltar a receber."`
	// ExchangeRate is how many reais (BRL) one US dollar buys, for showing estimated costs in reais: more than 0, at most 100, up to 4 decimals (exchange_rate_invalid). null clears the rate and its date.
	ExchangeRate nullable[float64] `json:"exchange_rate" swaggertype:"number" extensions:"x-nullable" example:"5.8"`
	// ExchangeRateDate is the day the rate is from (YYYY-MM-DD, not in the future in Brasília time; exchange_rate_date_invalid); absent or null with a rate means today in Brasília. Sent only with exchange_rate.
	ExchangeRateDate nullable[string] `json:"exchange_rate_date" swaggertype:"string" format:"date" extensions:"x-nullable" example:"2026-12-04"`
	// CloseReasons replaces the reasons agents pick from when closing a conversation: at most 30, each 1-80 characters, no two alike (close_reasons_invalid).
	CloseReasons *[]string `json:"close_reasons" example:"Resolvido,Sem resposta,Venda realizada"`
	// TimeZone is the IANA time zone the account's people work in (time_zone_invalid otherwise).
	TimeZone *string `json:"time_zone" example:"America/Sao_Paulo"`
	// WaitingTimeoutSeconds is the account's own waiting timeout: how long a conversation waits for the contact's first reply before it expires, in whole hours from 3600 (1 h) to 2592000 (30 days), or 0 for never (waiting_timeout_invalid otherwise). null returns the account to the server's default (WAITING_TIMEOUT).
	WaitingTimeoutSeconds nullable[float64] `json:"waiting_timeout_seconds" swaggertype:"integer" extensions:"x-nullable" example:"86400"`
} // @name AccountRequest

func (r AccountRequest) input() account.Settings {
	in := account.Settings{Name: r.Name, DefaultRegion: r.DefaultRegion, AutoCloseWaiting: r.AutoCloseWaiting,
		OptOutKeywords: r.OptOutKeywords, OptInKeywords: r.OptInKeywords, OptOutConfirmation: r.OptOutConfirmation, CloseReasons: r.CloseReasons,
		TimeZone: r.TimeZone}
	if r.ExchangeRate.Set || r.ExchangeRateDate.Set {
		in.ExchangeRate = &account.ExchangeRateInput{Clear: r.ExchangeRate.Set && r.ExchangeRate.Value == nil,
			Rate: r.ExchangeRate.Value, Date: r.ExchangeRateDate.Value}
	}
	if w := r.WaitingTimeoutSeconds; w.Set {
		in.WaitingTimeout = &account.WaitingTimeoutInput{Default: w.Value == nil}
		if w.Value != nil {
			in.WaitingTimeout.Seconds = *w.Value
		}
	}
	return in
}

// nullable is a request field that may be absent (Set false), null (Set, Value nil) or a value:
// PATCH tells "leave it" from "clear it".
type nullable[T any] struct {
	Set   bool
	Value *T
}

// UnmarshalJSON records that the field was sent; json calls it for null too.
func (n *nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	return json.Unmarshal(b, &n.Value)
}

// AccountResponse is the caller's account (the company) and its settings.
type AccountResponse struct {
	ID               string `json:"id" format:"uuid"`
	Name             string `json:"name" example:"Loja Exemplo"`
	DefaultRegion    string `json:"default_region" example:"BR"`
	AutoCloseWaiting bool   `json:"auto_close_waiting" example:"false"`
	// WaitingTimeoutSeconds is how long a conversation waits for the contact's first reply before it expires (0 = never): the account's own timeout, or the server's default when waiting_timeout_is_default.
	WaitingTimeoutSeconds int64 `json:"waiting_timeout_seconds" example:"259200"`
	// WaitingTimeoutIsDefault is true while the account follows the server's default waiting timeout (it set none of its own).
	WaitingTimeoutIsDefault bool `json:"waiting_timeout_is_default" example:"true"`
	// DefaultWaitingTimeoutSeconds is the server's default waiting timeout (WAITING_TIMEOUT; 0 = never).
	DefaultWaitingTimeoutSeconds int64 `json:"default_waiting_timeout_seconds" example:"259200"`
	// OptOutKeywords are the replies that opt a contact out of marketing messages.
	OptOutKeywords []string `json:"opt_out_keywords" example:"SAIR,PARAR,STOP,CANCELAR,DESCADASTRAR"`
	// OptInKeywords are the replies that opt a contact back in.
	OptInKeywords []string `json:"opt_in_keywords" example:"VOLTAR"`
	// OptOutConfirmation is the text replied when a keyword opts a contact out; "" sends nothing.
	OptOutConfirmation string `json:"opt_out_confirmation" example:""`
	// ExchangeRate is how many reais (BRL) one US dollar buys, set by an admin; estimates show reais with it. null when none is set.
	ExchangeRate *float64 `json:"exchange_rate" extensions:"x-nullable" example:"5.8"`
	// ExchangeRateDate is the day the exchange rate is from (YYYY-MM-DD); null when no rate is set.
	ExchangeRateDate *string `json:"exchange_rate_date" format:"date" extensions:"x-nullable" example:"2026-12-04"`
	// CloseReasons are the reasons agents pick from when closing a conversation (readable by every user).
	CloseReasons []string `json:"close_reasons" example:"Resolvido,Sem resposta,Venda realizada"`
	// TimeZone is the IANA time zone the account's people work in.
	TimeZone  string    `json:"time_zone" example:"America/Sao_Paulo"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
} // @name Account

func (s *server) toAccount(a account.Account) AccountResponse {
	out := AccountResponse{ID: a.ID, Name: a.Name, DefaultRegion: a.DefaultRegion, AutoCloseWaiting: a.AutoCloseWaiting,
		WaitingTimeoutSeconds: int64(s.WaitingTimeout / time.Second), OptOutKeywords: nonNil(a.OptOutKeywords), OptInKeywords: nonNil(a.OptInKeywords),
		OptOutConfirmation: a.OptOutConfirmation, CloseReasons: nonNil(a.CloseReasons), TimeZone: a.TimeZone, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	if r := a.ExchangeRate; r != nil {
		out.ExchangeRate, out.ExchangeRateDate = &r.BRLPerUSD, &r.Date
	}
	out.DefaultWaitingTimeoutSeconds, out.WaitingTimeoutIsDefault = out.WaitingTimeoutSeconds, a.WaitingTimeout == nil
	if w := a.WaitingTimeout; w != nil {
		out.WaitingTimeoutSeconds = int64(*w / time.Second)
	}
	return out
}

// getAccount godoc
//
//	@Summary	Get the caller's account and its settings
//	@Tags		account
//	@Produce	json
//	@Success	200	{object}	AccountResponse
//	@Failure	401	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/account [get]
func (s *server) getAccount(c echo.Context) error {
	a, err := s.accounts.Current(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.toAccount(a))
}

// updateAccount godoc
//
//	@Summary	Change the account's settings (admin)
//	@Tags		account
//	@Accept		json
//	@Produce	json
//	@Param		body	body		AccountRequest	true	"fields to change"
//	@Success	200		{object}	AccountResponse
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	413		{object}	Problem
//	@Failure	415		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/account [patch]
func (s *server) updateAccount(c echo.Context) error {
	return withBody[AccountRequest](c, http.StatusOK, s.accounts.UpdateCurrent, s.toAccount)
}

// nonNil is ss, or an empty list for nil (JSON [] rather than null).
func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
