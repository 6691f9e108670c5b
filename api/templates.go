package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/pricing"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/template"
)

// TemplateRequest registers or changes a template as it exists at the provider. components are
// in Meta's shape: [{"type":"BODY","text":"Olá {{nome}}"}, {"type":"FOOTER","text":"…"}].
type TemplateRequest struct {
	ChannelID       *string         `json:"channel_id" format:"uuid"`
	Name            *string         `json:"name" example:"boas_vindas"`
	Language        *string         `json:"language" example:"pt_BR"`
	Category        *string         `json:"category" enums:"MARKETING,UTILITY,AUTHENTICATION"`
	Status          *string         `json:"status" enums:"APPROVED,PENDING,REJECTED,PAUSED,DISABLED"`
	ParameterFormat *string         `json:"parameter_format" enums:"NAMED,POSITIONAL"`
	Components      json.RawMessage `json:"components" swaggertype:"array,object"`
	ExternalID      *string         `json:"external_id"`
} // @name TemplateRequest

func (r TemplateRequest) input() template.Input {
	return template.Input{ChannelID: r.ChannelID, ExternalID: r.ExternalID, Name: r.Name, Language: r.Language, Category: r.Category,
		Status: r.Status, ParameterFormat: r.ParameterFormat, Components: r.Components}
}

// TemplateResponse is a template with its derived variables: the parameter keys, in order
// (["nome","atendente"]; ["header.1","1","2","button.0"] for a POSITIONAL template with a header,
// two body variables and a URL button), and each key's details.
type TemplateResponse struct {
	ID              string          `json:"id" format:"uuid"`
	ChannelID       string          `json:"channel_id" format:"uuid"`
	ExternalID      string          `json:"external_id"`
	Name            string          `json:"name" example:"boas_vindas"`
	Language        string          `json:"language" example:"pt_BR"`
	Category        string          `json:"category" enums:"MARKETING,UTILITY,AUTHENTICATION"`
	Status          string          `json:"status" example:"APPROVED"`
	ParameterFormat string          `json:"parameter_format" enums:"NAMED,POSITIONAL"`
	Components      json.RawMessage `json:"components" swaggertype:"array,object"`
	// Variables are the keys of `parameters`, in order: a NAMED variable's name (header or body);
	// in a POSITIONAL template the body's number ("1", "2") and "header.1" for the header's
	// variable; "button.<i>" for the suffix of the URL button at 0-based position i.
	Variables []string `json:"variables" example:"nome,atendente"`
	// VariableDetails describe each key of variables, in the same order.
	VariableDetails []VariableDetail `json:"variable_details"`
	// Quality is Meta's quality rating of the template (message_template_quality_update): UNKNOWN until Meta rates it; YELLOW warns, RED means Meta may pause it.
	Quality string `json:"quality" enums:"GREEN,YELLOW,RED,UNKNOWN" example:"GREEN"`
	// UnusableReason says why the template cannot start a conversation, null when it can: its
	// status (pending, rejected, paused, disabled: only APPROVED templates are sent), or what the
	// server cannot send yet (media_header_unsupported: a LOCATION
	// header; button_unsupported: a COPY_CODE or OTP button).
	UnusableReason *string   `json:"unusable_reason" enums:"pending,rejected,paused,disabled,media_header_unsupported,button_unsupported" extensions:"x-nullable"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
} // @name Template

// VariableDetail describes one variable of a template, for a form that fills it.
type VariableDetail struct {
	// Key is the key in `parameters` (and in errors[].field as parameters.<key>).
	Key string `json:"key" example:"nome"`
	// Component is where the value goes: HEADER, BODY or BUTTON (a URL button's link suffix). A
	// NAMED variable used in both the header and the body is BODY.
	Component string `json:"component" enums:"HEADER,BODY,BUTTON" example:"BODY"`
	// Label is the bare label the preview shows in place of a missing value: the placeholder as
	// written, upper-cased in brackets ("[NOME]"; "[1]" for "1", "header.1" and "button.0"). It
	// does not say where the variable is: clients add that from component (the SPA shows
	// "[PROTOCOLO] · cabeçalho", "[1] · complemento do link do botão").
	Label string `json:"label" example:"[NOME]"`
	// Example is Meta's example value from the template's example fields (header_text,
	// body_text, body_text_named_params, a URL button's example with its fixed part removed), or
	// null when the template carries none.
	Example *string `json:"example" example:"Maria" extensions:"x-nullable"`
} // @name TemplateVariable

func toTemplate(t template.Template) TemplateResponse {
	details := []VariableDetail{}
	for _, d := range t.VariableDetails() {
		details = append(details, VariableDetail{Key: d.Key, Component: d.Component, Label: d.Label, Example: d.Example})
	}
	comps := t.RawComponents
	if len(comps) == 0 {
		comps = json.RawMessage("[]")
	}
	var reason *string
	if r := t.UnusableReason(); r != "" {
		reason = &r
	}
	return TemplateResponse{UnusableReason: reason, ID: t.ID, ChannelID: t.ChannelID, ExternalID: t.ExternalID, Name: t.Name, Language: t.Language,
		Category: string(t.Category), Status: string(t.Status), ParameterFormat: string(t.ParameterFormat), Components: comps,
		Variables: t.Variables, VariableDetails: details, Quality: string(t.Quality), CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

// TemplateList is a page of templates.
type TemplateList struct {
	Items      []TemplateResponse `json:"items"`
	NextCursor *string            `json:"next_cursor" extensions:"x-nullable"`
} // @name TemplateList

// listTemplates godoc
//
//	@Summary	List templates
//	@Tags		templates
//	@Produce	json
//	@Param		channel_id	query		string	false	"only this channel's templates"
//	@Param		category	query		string	false	"MARKETING, UTILITY or AUTHENTICATION"
//	@Param		status		query		string	false	"e.g. APPROVED"
//	@Param		q			query		string	false	"searches the name and text"
//	@Param		limit		query		int		false	"page size (1-200, default 50)"
//	@Param		cursor		query		string	false	"next_cursor of the previous page"
//	@Success	200			{object}	TemplateList
//	@Failure	401			{object}	Problem
//	@Failure	422			{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/templates [get]
func (s *server) listTemplates(c echo.Context) error {
	f := template.Filter{ChannelID: c.QueryParam("channel_id"), Category: c.QueryParam("category"), Status: c.QueryParam("status"), Q: c.QueryParam("q")}
	return list[TemplateList](c, func(ctx context.Context, p store.Page) ([]template.Template, *string, error) {
		return s.Templates.List(ctx, f, p)
	}, toTemplate)
}

// createTemplate godoc
//
//	@Summary	Register a template as it exists at the provider (admin)
//	@Tags		templates
//	@Accept		json
//	@Produce	json
//	@Param		body	body		TemplateRequest	true	"the template"
//	@Success	201		{object}	TemplateResponse
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	409		{object}	Problem
//	@Failure	413		{object}	Problem
//	@Failure	415		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/templates [post]
func (s *server) createTemplate(c echo.Context) error {
	return created[TemplateRequest](c, s.Templates.Create, toTemplate)
}

// getTemplate godoc
//
//	@Summary	Get a template
//	@Tags		templates
//	@Produce	json
//	@Param		id	path		string	true	"template id"
//	@Success	200	{object}	TemplateResponse
//	@Failure	401	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/templates/{id} [get]
func (s *server) getTemplate(c echo.Context) error {
	return fetched(c, s.Templates.Get, toTemplate)
}

// updateTemplate godoc
//
//	@Summary	Change a template (admin)
//	@Tags		templates
//	@Accept		json
//	@Produce	json
//	@Param		id		path		string			true	"template id"
//	@Param		body	body		TemplateRequest	true	"fields to change"
//	@Success	200		{object}	TemplateResponse
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	404		{object}	Problem
//	@Failure	409		{object}	Problem
//	@Failure	413		{object}	Problem
//	@Failure	415		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/templates/{id} [patch]
func (s *server) updateTemplate(c echo.Context) error {
	return updated[TemplateRequest](c, s.Templates.Update, toTemplate)
}

// deleteTemplate godoc
//
//	@Summary	Delete a template (admin)
//	@Tags		templates
//	@Param		id	path	string	true	"template id"
//	@Success	204
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/templates/{id} [delete]
func (s *server) deleteTemplate(c echo.Context) error {
	return deleted(c, s.Templates.Delete)
}

// PreviewRequest holds the parameters to render: an object by variable key; a POSITIONAL template
// also takes an array filling the body's {{1}}, {{2}}… in order.
type PreviewRequest struct {
	// Parameters are keyed as the template's variables list them (nome; header.1, 1, 2; button.0), or an
	// array for the body of a POSITIONAL template.
	Parameters json.RawMessage `json:"parameters" swaggertype:"object"`
} // @name PreviewRequest

// RenderedButton is a rendered button.
type RenderedButton struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	URL         string `json:"url,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
} // @name RenderedButton

// PreviewResponse is the rendered template (missing values shown as their bare label, [NOME] or
// [1]), the label of each variable key (as variable_details gives it) and the parameter errors a
// start with these parameters would report.
type PreviewResponse struct {
	Header  string              `json:"header"`
	Body    string              `json:"body"`
	Footer  string              `json:"footer"`
	Buttons []RenderedButton    `json:"buttons"`
	Text    string              `json:"text"`
	Labels  map[string]string   `json:"labels"`
	Errors  []apperr.FieldError `json:"errors"`
} // @name Preview

// previewTemplate godoc
//
//	@Summary	Render a template with parameters (the SPA's live preview)
//	@Tags		templates
//	@Accept		json
//	@Produce	json
//	@Param		id		path		string			true	"template id"
//	@Param		body	body		PreviewRequest	true	"parameters"
//	@Success	200		{object}	PreviewResponse
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	404		{object}	Problem
//	@Failure	413		{object}	Problem
//	@Failure	415		{object}	Problem
//	@Failure	422		{object}	Problem	"a string of the body holds a NUL character (parameter problems are in the 200's errors)"
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/templates/{id}/preview [post]
func (s *server) previewTemplate(c echo.Context) error {
	var req PreviewRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	t, r, errs, err := s.Templates.Preview(c.Request().Context(), c.Param("id"), req.Parameters)
	if err != nil {
		return err
	}
	out := PreviewResponse{Header: r.Header, Body: r.Body, Footer: r.Footer, Text: r.Text, Buttons: []RenderedButton{}, Errors: errs, Labels: map[string]string{}}
	for _, b := range r.Buttons {
		out.Buttons = append(out.Buttons, RenderedButton{Type: b.Type, Text: b.Text, URL: b.URL, PhoneNumber: b.PhoneNumber})
	}
	for _, d := range t.VariableDetails() {
		out.Labels[d.Key] = d.Label
	}
	if out.Errors == nil {
		out.Errors = []apperr.FieldError{}
	}
	return c.JSON(http.StatusOK, out)
}

// EstimateResponse is the estimated cost of one message.
type EstimateResponse struct {
	Category     string   `json:"category" example:"MARKETING"`
	Billable     bool     `json:"billable"`
	Amount       *float64 `json:"amount" example:"0.0625" extensions:"x-nullable"`
	Currency     string   `json:"currency" example:"USD"`
	RateCardDate string   `json:"rate_card_date" example:"2026-01-01"`
	// Local is the amount in reais at the account's exchange rate; null when the account has no rate or the amount is unknown.
	Local *LocalCost `json:"local" extensions:"x-nullable"`
} // @name Estimate

// LocalCost is an estimate's amount in reais at the account's exchange rate.
type LocalCost struct {
	// Amount is the estimate's amount times the rate, rounded to 4 decimals.
	Amount   float64 `json:"amount" example:"0.3625"`
	Currency string  `json:"currency" enums:"BRL" example:"BRL"`
	// ExchangeRate is the reais one US dollar buys (the account's exchange_rate).
	ExchangeRate float64 `json:"exchange_rate" example:"5.8"`
	// ExchangeRateDate is the day the rate is from.
	ExchangeRateDate string `json:"exchange_rate_date" format:"date" example:"2026-12-04"`
} // @name LocalCost

// toEstimate is the estimate as the API shows it, in reais too when the request's account has
// an exchange rate: the one place both the estimate route and a start's estimated_cost use.
func (s *server) toEstimate(ctx context.Context, e pricing.Estimate) (*EstimateResponse, error) {
	out := &EstimateResponse{Category: e.Category, Billable: e.Billable, Amount: e.Amount, Currency: e.Currency, RateCardDate: e.RateCardDate}
	r, err := s.accounts.Rate(ctx)
	if err != nil {
		return nil, fmt.Errorf("exchange rate: %w", err)
	}
	if r != nil {
		if l := e.InBRL(r.BRLPerUSD, r.Date); l != nil {
			out.Local = &LocalCost{Amount: l.Amount, Currency: l.Currency, ExchangeRate: l.ExchangeRate, ExchangeRateDate: l.RateDate}
		}
	}
	return out, nil
}

// estimate godoc
//
//	@Summary		Estimated cost of sending a template to a contact now
//	@Description	template_id and contact_id are required (422 template_required, contact_required when absent or empty; template_not_found, contact_not_found when the account has no such one).
//	@Tags			pricing
//	@Produce		json
//	@Param			template_id	query		string	true	"template id"
//	@Param			contact_id	query		string	true	"contact id"
//	@Success		200			{object}	EstimateResponse
//	@Failure		401			{object}	Problem
//	@Failure		422			{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/pricing/estimate [get]
func (s *server) estimate(c echo.Context) error {
	ctx := c.Request().Context()
	e, err := s.Conversations.Estimate(ctx, c.QueryParam("template_id"), c.QueryParam("contact_id"))
	if err != nil {
		return err
	}
	out, err := s.toEstimate(ctx, e)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
