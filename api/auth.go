package api

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/store"
)

// SessionCookie is the SPA's session cookie; CSRFHeader carries the token a cookie request must echo.
const (
	SessionCookie = "atendimento_session"
	CSRFHeader    = "X-CSRF-Token"
)

const principalKey = "principal"

// authenticate resolves the caller from a bearer API key or the session cookie, puts the
// account into the request context (every tenant query reads it from there) and, for cookie
// requests that change state, requires the session's CSRF token in X-CSRF-Token.
func (s *server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		ctx := req.Context()
		var (
			p   account.Principal
			err error
		)
		if h := req.Header.Get(echo.HeaderAuthorization); h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				return apperr.New(apperr.KindUnauthorized, "unauthorized", "use Authorization: Bearer <api key>")
			}
			p, err = s.accounts.AuthenticateKey(ctx, strings.TrimSpace(token))
			if err != nil {
				return err
			}
		} else if ck, cerr := req.Cookie(SessionCookie); cerr == nil {
			var csrf string
			p, csrf, err = s.accounts.AuthenticateSession(ctx, ck.Value)
			if err != nil {
				return err
			}
			if !safeMethod(req.Method) {
				got := req.Header.Get(CSRFHeader)
				if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(csrf)) != 1 {
					return apperr.New(apperr.KindForbidden, "csrf_failed", "missing or wrong "+CSRFHeader+" header")
				}
			}
			c.Set(csrfKey, csrf)
		} else {
			return apperr.New(apperr.KindUnauthorized, "unauthorized", "missing credentials: send Authorization: Bearer <api key> or log in")
		}
		c.Set(principalKey, p)
		c.SetRequest(req.WithContext(store.WithAccount(ctx, p.AccountID)))
		return next(c)
	}
}

const csrfKey = "csrf"

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// adminOnly refuses agents.
func adminOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !principal(c).IsAdmin() {
			return apperr.Forbidden("this action needs the admin role")
		}
		return next(c)
	}
}

func principal(c echo.Context) account.Principal {
	p, _ := c.Get(principalKey).(account.Principal)
	return p
}

func actor(c echo.Context) conversation.Actor {
	p := principal(c)
	return conversation.Actor{UserID: p.UserID, IsAdmin: p.IsAdmin()}
}
