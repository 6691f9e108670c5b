package api

import (
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
	ID             string    `json:"id" format:"uuid"`
	Name           string    `json:"name"`
	Provider       string    `json:"provider" enums:"whatsapp_cloud,sandbox"`
	PhoneNumber    string    `json:"phone_number"`
	PhoneNumberID  string    `json:"phone_number_id"`
	WABAID         string    `json:"waba_id"`
	Active         bool      `json:"active"`
	DefaultTeamID  *string   `json:"default_team_id" extensions:"x-nullable"`
	HasAccessToken bool      `json:"has_access_token"`
	HasAppSecret   bool      `json:"has_app_secret"`
	HasVerifyToken bool      `json:"has_verify_token"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
} // @name Channel

func toChannel(ch channel.Channel) ChannelResponse {
	return ChannelResponse{ID: ch.ID, Name: ch.Name, Provider: ch.Provider, PhoneNumber: ch.PhoneNumber, PhoneNumberID: ch.PhoneNumberID,
		WABAID: ch.WABAID, Active: ch.Active, DefaultTeamID: ch.DefaultTeamID, HasAccessToken: ch.HasAccessToken,
		HasAppSecret: ch.HasAppSecret, HasVerifyToken: ch.HasVerifyToken, CreatedAt: ch.CreatedAt.UTC(), UpdatedAt: ch.UpdatedAt.UTC()}
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
	return list[ChannelList](c, s.Channels.List, toChannel)
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
	return created[ChannelRequest](c, s.Channels.Create, toChannel)
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
	return fetched(c, s.Channels.Get, toChannel)
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
	return updated[ChannelRequest](c, s.Channels.Update, toChannel)
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
