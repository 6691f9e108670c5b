package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/channel"
)

// ChannelRequest creates or changes a channel. access_token, app_secret and verify_token are
// write-only: stored encrypted and never returned. default_team_id "" clears it.
type ChannelRequest struct {
	Name          *string `json:"name" example:"WhatsApp Vendas"`
	Provider      *string `json:"provider" enums:"whatsapp_cloud,sandbox"`
	PhoneNumber   *string `json:"phone_number" example:"+5511940000000"`
	PhoneNumberID *string `json:"phone_number_id" example:"106540352242922"`
	WABAID        *string `json:"waba_id" example:"102290129340398"`
	AccessToken   *string `json:"access_token"`
	AppSecret     *string `json:"app_secret"`
	VerifyToken   *string `json:"verify_token"`
	Active        *bool   `json:"active"`
	DefaultTeamID *string `json:"default_team_id"`
} // @name ChannelRequest

func (r ChannelRequest) input() channel.Input {
	return channel.Input{Name: r.Name, Provider: r.Provider, PhoneNumber: r.PhoneNumber, PhoneNumberID: r.PhoneNumberID,
		WABAID: r.WABAID, AccessToken: r.AccessToken, AppSecret: r.AppSecret, VerifyToken: r.VerifyToken, Active: r.Active,
		DefaultTeamID: r.DefaultTeamID}
}

// ChannelResponse is a channel; secrets are reported only as set or not.
type ChannelResponse struct {
	ID             string  `json:"id" format:"uuid"`
	Name           string  `json:"name"`
	Provider       string  `json:"provider" enums:"whatsapp_cloud,sandbox"`
	PhoneNumber    string  `json:"phone_number"`
	PhoneNumberID  string  `json:"phone_number_id"`
	WABAID         string  `json:"waba_id"`
	Active         bool    `json:"active"`
	DefaultTeamID  *string `json:"default_team_id" extensions:"x-nullable"`
	HasAccessToken bool    `json:"has_access_token"`
	HasAppSecret   bool    `json:"has_app_secret"`
	HasVerifyToken bool    `json:"has_verify_token"`
	// WebhookURL is the callback URL to paste into Meta's webhook settings (PUBLIC_URL +
	// /webhooks/whatsapp/{id}); null when the server has no PUBLIC_URL or the channel is a sandbox.
	WebhookURL *string `json:"webhook_url" extensions:"x-nullable" example:"https://atendimento.example.com/webhooks/whatsapp/0190c3f4-7a7e-7cc1-9f57-4f1a2b3c4d5e"`
	// LastWebhookAt is when a delivery signed with the channel's app secret last arrived, to the
	// minute (written at most once a minute); null until one does.
	LastWebhookAt *time.Time `json:"last_webhook_at" extensions:"x-nullable"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
} // @name Channel

func (s *server) toChannel(ch channel.Channel) ChannelResponse {
	out := ChannelResponse{ID: ch.ID, Name: ch.Name, Provider: ch.Provider, PhoneNumber: ch.PhoneNumber, PhoneNumberID: ch.PhoneNumberID,
		WABAID: ch.WABAID, Active: ch.Active, DefaultTeamID: ch.DefaultTeamID, HasAccessToken: ch.HasAccessToken,
		HasAppSecret: ch.HasAppSecret, HasVerifyToken: ch.HasVerifyToken, CreatedAt: ch.CreatedAt.UTC(), UpdatedAt: ch.UpdatedAt.UTC()}
	if s.PublicURL != "" && ch.Provider == channel.ProviderWhatsAppCloud {
		u := s.PublicURL + "/webhooks/whatsapp/" + ch.ID
		out.WebhookURL = &u
	}
	if ch.LastWebhookAt != nil {
		at := ch.LastWebhookAt.UTC()
		out.LastWebhookAt = &at
	}
	return out
}

// ChannelList is a page of channels.
type ChannelList struct {
	Items      []ChannelResponse `json:"items"`
	NextCursor *string           `json:"next_cursor" extensions:"x-nullable"`
} // @name ChannelList

// listChannels godoc
//
//	@Summary	List channels
//	@Tags		channels
//	@Produce	json
//	@Param		limit	query		int		false	"page size (1-200, default 50)"
//	@Param		cursor	query		string	false	"next_cursor of the previous page"
//	@Success	200		{object}	ChannelList
//	@Failure	401		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/channels [get]
func (s *server) listChannels(c echo.Context) error {
	return list[ChannelList](c, s.Channels.List, s.toChannel)
}

// createChannel godoc
//
//	@Summary	Create a channel (admin)
//	@Tags		channels
//	@Accept		json
//	@Produce	json
//	@Param		body	body		ChannelRequest	true	"the channel"
//	@Success	201		{object}	ChannelResponse
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	413		{object}	Problem
//	@Failure	415		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/channels [post]
func (s *server) createChannel(c echo.Context) error {
	return created[ChannelRequest](c, s.Channels.Create, s.toChannel)
}

// getChannel godoc
//
//	@Summary	Get a channel
//	@Tags		channels
//	@Produce	json
//	@Param		id	path		string	true	"channel id"
//	@Success	200	{object}	ChannelResponse
//	@Failure	401	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/channels/{id} [get]
func (s *server) getChannel(c echo.Context) error {
	return fetched(c, s.Channels.Get, s.toChannel)
}

// updateChannel godoc
//
//	@Summary	Change a channel (admin)
//	@Tags		channels
//	@Accept		json
//	@Produce	json
//	@Param		id		path		string			true	"channel id"
//	@Param		body	body		ChannelRequest	true	"fields to change"
//	@Success	200		{object}	ChannelResponse
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	404		{object}	Problem
//	@Failure	413		{object}	Problem
//	@Failure	415		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/channels/{id} [patch]
func (s *server) updateChannel(c echo.Context) error {
	return updated[ChannelRequest](c, s.Channels.Update, s.toChannel)
}

// deleteChannel godoc
//
//	@Summary	Delete a channel without conversations (admin; else 409 channel_in_use)
//	@Tags		channels
//	@Param		id	path	string	true	"channel id"
//	@Success	204
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Failure	409	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/channels/{id} [delete]
func (s *server) deleteChannel(c echo.Context) error {
	return deleted(c, s.Channels.Delete)
}

// ChannelTestResponse is Meta's answer about the channel's number: the credentials work.
type ChannelTestResponse struct {
	// DisplayPhoneNumber is the number as Meta shows it.
	DisplayPhoneNumber string `json:"display_phone_number" example:"+55 11 4000-9999"`
	// VerifiedName is the business name Meta approved for the number.
	VerifiedName string `json:"verified_name" example:"Loja Exemplo"`
	// QualityRating is Meta's quality rating of the number.
	QualityRating string `json:"quality_rating" example:"GREEN"`
	// PhoneNumberMatches is false when Meta's number is not the channel's phone_number (the
	// phone_number_id is another number's).
	PhoneNumberMatches bool `json:"phone_number_matches"`
} // @name ChannelTestResult

// testChannel godoc
//
//	@Summary		Test a whatsapp_cloud channel's credentials at Meta (admin)
//	@Description	Asks Meta for the channel's number (GET /{phone-number-id} with the channel's access token). A refusal says what to fix, with the same code in errors[] at the field: 422 whatsapp_token_invalid (Meta's 190: wrong, expired or revoked token; field access_token), whatsapp_phone_number_id_invalid (100 or 404; field phone_number_id), whatsapp_permission_missing (10 or 200–299; field access_token); 502 whatsapp_unreachable when Meta does not answer, provider_error for any other refusal. A sandbox channel → 409 channel_not_testable.
//	@Tags			channels
//	@Produce		json
//	@Param			id	path		string	true	"channel id"
//	@Success		200	{object}	ChannelTestResponse
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		404	{object}	Problem
//	@Failure		409	{object}	Problem
//	@Failure		422	{object}	Problem
//	@Failure		502	{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/channels/{id}/test [post]
func (s *server) testChannel(c echo.Context) error {
	res, err := s.Channels.Check(c.Request().Context(), c.Param("id"), s.Cloud)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ChannelTestResponse{DisplayPhoneNumber: res.DisplayPhoneNumber, VerifiedName: res.VerifiedName,
		QualityRating: res.QualityRating, PhoneNumberMatches: res.PhoneNumberMatches})
}
