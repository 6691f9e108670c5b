package api

import (
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
	// AutoCloseWaiting closes a waiting conversation whose contact has not replied within the server's waiting timeout.
	AutoCloseWaiting *bool `json:"auto_close_waiting" example:"false"`
} // @name AccountRequest

func (r AccountRequest) input() account.Settings {
	return account.Settings{Name: r.Name, DefaultRegion: r.DefaultRegion, AutoCloseWaiting: r.AutoCloseWaiting}
}

// AccountResponse is the caller's account (the company) and its settings.
type AccountResponse struct {
	ID               string `json:"id" format:"uuid"`
	Name             string `json:"name" example:"Loja Exemplo"`
	DefaultRegion    string `json:"default_region" example:"BR"`
	AutoCloseWaiting bool   `json:"auto_close_waiting" example:"false"`
	// WaitingTimeoutSeconds is how long a conversation waits for the contact's first reply before it expires (the server's WAITING_TIMEOUT; 0 = never).
	WaitingTimeoutSeconds int64     `json:"waiting_timeout_seconds" example:"259200"`
	CreatedAt             time.Time `json:"created_at"`
	UpdatedAt             time.Time `json:"updated_at"`
} // @name Account

func (s *server) toAccount(a account.Account) AccountResponse {
	return AccountResponse{ID: a.ID, Name: a.Name, DefaultRegion: a.DefaultRegion, AutoCloseWaiting: a.AutoCloseWaiting,
		WaitingTimeoutSeconds: int64(s.WaitingTimeout / time.Second), CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
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
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/account [patch]
func (s *server) updateAccount(c echo.Context) error {
	return withBody[AccountRequest](c, http.StatusOK, s.accounts.UpdateCurrent, s.toAccount)
}
