package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/store"
)

// LoginRequest is the SPA's login.
type LoginRequest struct {
	Email    string `json:"email" validate:"required,max=254" example:"admin@demo.atendimento.dev"`
	Password string `json:"password" validate:"required,max=200" example:"demo-password"`
} // @name LoginRequest

// SessionResponse describes the logged-in user and the CSRF token that every state-changing
// cookie request must send in the header named by csrf_header.
type SessionResponse struct {
	User       UserResponse `json:"user"`
	CSRFToken  string       `json:"csrf_token"`
	CSRFHeader string       `json:"csrf_header" example:"X-CSRF-Token"`
} // @name Session

// login godoc
//
//	@Summary	Log in (SPA): sets the HttpOnly session cookie
//	@Tags		session
//	@Accept		json
//	@Produce	json
//	@Param		body	body		LoginRequest	true	"credentials"
//	@Success	200		{object}	SessionResponse
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	413		{object}	Problem
//	@Failure	415		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Failure	429		{object}	Problem		"login_locked: too many failed logins for this email or address; Retry-After says when to try again"
//	@Header		429		{integer}	Retry-After	"seconds to wait"
//	@Router		/api/v1/auth/login [post]
func (s *server) login(c echo.Context) error {
	var req LoginRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	done, wait := s.loginGuard.begin(strings.ToLower(strings.TrimSpace(req.Email)), c.RealIP())
	if wait > 0 {
		return loginLocked(wait)
	}
	sess, err := s.accounts.Login(c.Request().Context(), req.Email, req.Password)
	switch {
	case err == nil:
		done(loginSucceeded)
	case errors.Is(err, account.ErrInvalidCredentials):
		done(loginFailed)
		return err
	default:
		done(loginAborted)
		return err
	}
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: sess.Token, Path: "/", HttpOnly: true, Secure: s.SecureCookies,
		SameSite: http.SameSiteLaxMode, Expires: sess.ExpiresAt})
	u, err := s.user(store.WithAccount(c.Request().Context(), sess.User.AccountID), sess.User)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, SessionResponse{User: u, CSRFToken: sess.CSRFToken, CSRFHeader: CSRFHeader})
}

// logout godoc
//
//	@Summary	Log out (SPA): ends the session and clears the cookie
//	@Tags		session
//	@Success	204
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Security	SessionCookie
//	@Router		/api/v1/auth/logout [post]
func (s *server) logout(c echo.Context) error {
	p := principal(c)
	if p.SessionID != "" {
		if err := s.accounts.Logout(c.Request().Context(), p.SessionID); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.SecureCookies,
		SameSite: http.SameSiteLaxMode, Expires: time.Unix(0, 0), MaxAge: -1})
	return c.NoContent(http.StatusNoContent)
}

// MeResponse is who the caller is.
type MeResponse struct {
	User       *UserResponse `json:"user" extensions:"x-nullable"`
	AccountID  string        `json:"account_id"`
	Role       string        `json:"role" enums:"admin,agent"`
	APIKeyID   *string       `json:"api_key_id" extensions:"x-nullable"`
	CSRFToken  *string       `json:"csrf_token" extensions:"x-nullable"`
	CSRFHeader string        `json:"csrf_header" example:"X-CSRF-Token"`
} // @name Me

// me godoc
//
//	@Summary	Who am I: the session user (or the API key's account)
//	@Tags		session
//	@Produce	json
//	@Success	200	{object}	MeResponse
//	@Failure	401	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/me [get]
func (s *server) me(c echo.Context) error {
	p := principal(c)
	out := MeResponse{AccountID: p.AccountID, Role: string(p.Role), CSRFHeader: CSRFHeader}
	if p.UserID != "" {
		u, err := s.accounts.GetUser(c.Request().Context(), p.UserID)
		if err != nil {
			return err
		}
		r, err := s.user(c.Request().Context(), u)
		if err != nil {
			return err
		}
		out.User = &r
	}
	if p.APIKeyID != "" {
		out.APIKeyID = &p.APIKeyID
	}
	if csrf, ok := c.Get(csrfKey).(string); ok {
		out.CSRFToken = &csrf
	}
	return c.JSON(http.StatusOK, out)
}

// APIKeyResponse is an API key; secret is present only in the response that creates it.
type APIKeyResponse struct {
	ID         string     `json:"id" format:"uuid"`
	Name       string     `json:"name" example:"CRM"`
	Role       string     `json:"role" enums:"admin,agent"`
	Prefix     string     `json:"prefix" example:"atd_Xk3d"`
	Secret     *string    `json:"secret,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at" extensions:"x-nullable"`
	RevokedAt  *time.Time `json:"revoked_at" extensions:"x-nullable"`
	CreatedAt  time.Time  `json:"created_at"`
} // @name APIKey

func toAPIKey(k account.APIKey) APIKeyResponse {
	return APIKeyResponse{ID: k.ID, Name: k.Name, Role: string(k.Role), Prefix: k.Prefix, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt, CreatedAt: k.CreatedAt.UTC()}
}

// reveal puts the key's secret in the answer that creates it, the only one that holds it.
func (r *APIKeyResponse) reveal(secret string) { r.Secret = &secret }

// APIKeyList is a page of API keys.
type APIKeyList struct {
	Items      []APIKeyResponse `json:"items"`
	NextCursor *string          `json:"next_cursor" extensions:"x-nullable"`
} // @name APIKeyList

// APIKeyRequest creates an API key.
type APIKeyRequest struct {
	Name string `json:"name" validate:"required,max=200" example:"CRM"`
	Role string `json:"role" validate:"required,oneof=admin agent" enums:"admin,agent"`
} // @name APIKeyRequest

// input is the request itself: CreateAPIKey takes its fields as they are, beside who creates
// the key, which comes from the principal rather than the body.
func (r APIKeyRequest) input() APIKeyRequest { return r }

// listAPIKeys godoc
//
//	@Summary	List API keys (admin)
//	@Tags		api-keys
//	@Produce	json
//	@Param		limit	query		int		false	"page size (1-200, default 50)"
//	@Param		cursor	query		string	false	"next_cursor of the previous page"
//	@Success	200		{object}	APIKeyList
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/api-keys [get]
func (s *server) listAPIKeys(c echo.Context) error {
	return list[APIKeyList](c, s.accounts.ListAPIKeys, toAPIKey)
}

// createAPIKey godoc
//
//	@Summary	Create an API key (admin); the secret is shown only in this response
//	@Tags		api-keys
//	@Accept		json
//	@Produce	json
//	@Param		body	body		APIKeyRequest	true	"the key"
//	@Success	201		{object}	APIKeyResponse
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	413		{object}	Problem
//	@Failure	415		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/api-keys [post]
func (s *server) createAPIKey(c echo.Context) error {
	createdBy := principal(c).UserID
	return createdWithSecret[APIKeyRequest](c, func(ctx context.Context, r APIKeyRequest) (account.APIKey, string, error) {
		return s.accounts.CreateAPIKey(ctx, r.Name, account.Role(r.Role), createdBy)
	}, toAPIKey)
}

// revokeAPIKey godoc
//
//	@Summary	Revoke an API key (admin)
//	@Tags		api-keys
//	@Param		id	path	string	true	"key id"
//	@Success	204
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/api-keys/{id} [delete]
func (s *server) revokeAPIKey(c echo.Context) error {
	return deleted(c, s.accounts.RevokeAPIKey)
}
