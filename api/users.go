package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/apperr"
)

// UserResponse is a user.
type UserResponse struct {
	ID    string `json:"id" format:"uuid"`
	Name  string `json:"name" example:"Ana Souza"`
	Email string `json:"email" example:"ana@example.com"`
	Role  string `json:"role" enums:"admin,agent"`
	// Active is false for a user an admin deactivated: they cannot log in, and the API keys they created are refused.
	Active bool `json:"active" example:"true"`
	// TeamIDs are the teams the user is a member of.
	TeamIDs   []string  `json:"team_ids"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
} // @name User

func toUser(u account.User, teams []string) UserResponse {
	if teams == nil {
		teams = []string{}
	}
	return UserResponse{ID: u.ID, Name: u.Name, Email: u.Email, Role: string(u.Role), Active: u.Active, TeamIDs: teams,
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

// user answers u with the teams it belongs to.
func (s *server) user(ctx context.Context, u account.User) (UserResponse, error) {
	teams, err := s.Teams.TeamsOfUsers(ctx, []string{u.ID})
	if err != nil {
		return UserResponse{}, err
	}
	return toUser(u, teams[u.ID]), nil
}

// UserList is a page of users.
type UserList struct {
	Items      []UserResponse `json:"items"`
	NextCursor *string        `json:"next_cursor" extensions:"x-nullable"`
} // @name UserList

// UserRequest creates or changes a user.
type UserRequest struct {
	Name  *string `json:"name" example:"Ana Souza"`
	Email *string `json:"email" example:"ana@example.com"`
	// Password is the user's (first) password, 8 to 72 characters; setting it ends the user's sessions.
	Password *string `json:"password" example:"a-long-password"`
	Role     *string `json:"role" enums:"admin,agent"`
	// Active false deactivates the user (their sessions end, they cannot log in, the API keys they created are refused); true reactivates. The last active admin cannot be deactivated or demoted (409 last_admin).
	Active *bool `json:"active" example:"true"`
	// TeamIDs replaces the teams the user is a member of (team_not_found for an id that is not a team of the account).
	TeamIDs *[]string `json:"team_ids"`
} // @name UserRequest

func (r UserRequest) input() account.UserInput {
	in := account.UserInput{Name: r.Name, Email: r.Email, Password: r.Password, Active: r.Active}
	if r.Role != nil {
		role := account.Role(*r.Role)
		in.Role = &role
	}
	return in
}

// listUsers godoc
//
//	@Summary	List users (agents and admins) with their teams
//	@Tags		users
//	@Produce	json
//	@Param		limit	query		int		false	"page size (1-200, default 50)"
//	@Param		cursor	query		string	false	"next_cursor of the previous page"
//	@Success	200		{object}	UserList
//	@Failure	401		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/users [get]
func (s *server) listUsers(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	users, next, err := s.accounts.ListUsers(ctx, p)
	if err != nil {
		return err
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	teams, err := s.Teams.TeamsOfUsers(ctx, ids)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listOf[UserList](users, next, func(u account.User) UserResponse { return toUser(u, teams[u.ID]) }))
}

// createUser godoc
//
//	@Summary		Create (invite) a user with a first password (admin)
//	@Description	The user and their team memberships are saved together or not at all; every failing field (the user's and team_ids) is reported at once.
//	@Tags			users
//	@Accept			json
//	@Produce		json
//	@Param			body	body		UserRequest	true	"the user"
//	@Success		201		{object}	UserResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		409		{object}	Problem
//	@Failure		413		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/users [post]
func (s *server) createUser(c echo.Context) error {
	return s.writeUser(c, http.StatusCreated, func(ctx context.Context, in account.UserInput) (account.User, error) {
		return s.accounts.CreateUser(ctx, in)
	})
}

// writeUser binds a UserRequest and applies it with save and the team memberships in one
// transaction, reporting the user's field errors and team_ids' together.
func (s *server) writeUser(c echo.Context, status int, save func(context.Context, account.UserInput) (account.User, error)) error {
	var req UserRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var teamErrs apperr.Fields
	if req.TeamIDs != nil {
		if len(*req.TeamIDs) > 500 {
			teamErrs.Add("team_ids", "team_ids_invalid", "at most 500 ids")
		} else {
			missing, err := s.Teams.MissingTeams(ctx, *req.TeamIDs)
			if err != nil {
				return err
			}
			for _, id := range missing {
				teamErrs.Add("team_ids", "team_not_found", id+" is not a team of this account")
			}
		}
	}
	var out UserResponse
	err := s.DB.InTx(ctx, func(ctx context.Context) error {
		u, err := save(ctx, req.input())
		if err != nil {
			if fe := apperr.FieldsOf(err); fe != nil && len(teamErrs) > 0 {
				return apperr.Invalid(append(fe, teamErrs...)...)
			}
			return err
		}
		if err := teamErrs.Err(); err != nil {
			return err
		}
		if req.TeamIDs != nil {
			if err := s.Teams.SetUserTeams(ctx, u.ID, *req.TeamIDs); err != nil {
				return err
			}
		}
		out, err = s.user(ctx, u)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(status, out)
}

// getUser godoc
//
//	@Summary	Get a user with their teams
//	@Tags		users
//	@Produce	json
//	@Param		id	path		string	true	"user id"
//	@Success	200	{object}	UserResponse
//	@Failure	401	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/users/{id} [get]
func (s *server) getUser(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.accounts.GetUser(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	out, err := s.user(ctx, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// updateUser godoc
//
//	@Summary		Change a user (admin): name, email, role, teams, deactivate or reactivate, reset the password
//	@Description	A new password or a deactivation ends the user's sessions. The last active admin cannot be demoted or deactivated: 409 last_admin. Nothing is saved when any field fails.
//	@Tags			users
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string		true	"user id"
//	@Param			body	body		UserRequest	true	"fields to change"
//	@Success		200		{object}	UserResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		409		{object}	Problem
//	@Failure		413		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/users/{id} [patch]
func (s *server) updateUser(c echo.Context) error {
	return s.writeUser(c, http.StatusOK, func(ctx context.Context, in account.UserInput) (account.User, error) {
		return s.accounts.UpdateUser(ctx, c.Param("id"), in)
	})
}

// deleteUser godoc
//
//	@Summary		Delete a user (admin)
//	@Description	Their sessions end and the API keys they created are revoked; the last active admin cannot be removed (409 last_admin). Deactivating (PATCH active=false) keeps the user's name on their history.
//	@Tags			users
//	@Param			id	path	string	true	"user id"
//	@Success		204
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		404	{object}	Problem
//	@Failure		409	{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/users/{id} [delete]
func (s *server) deleteUser(c echo.Context) error {
	return deleted(c, s.accounts.DeleteUser)
}
