package api

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/team"
)

// TeamRequest creates or changes a team; the id lists replace the current ones.
type TeamRequest struct {
	Name       *string   `json:"name" example:"Vendas"`
	ChannelIDs *[]string `json:"channel_ids"`
	MemberIDs  *[]string `json:"member_ids"`
} // @name TeamRequest

func (r TeamRequest) input() team.Input {
	return team.Input{Name: r.Name, ChannelIDs: r.ChannelIDs, MemberIDs: r.MemberIDs}
}

// TeamResponse is a team with the channels it may use and its members.
type TeamResponse struct {
	ID         string    `json:"id" format:"uuid"`
	Name       string    `json:"name" example:"Vendas"`
	ChannelIDs []string  `json:"channel_ids"`
	MemberIDs  []string  `json:"member_ids"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
} // @name Team

func toTeam(t team.Team) TeamResponse {
	return TeamResponse{ID: t.ID, Name: t.Name, ChannelIDs: t.ChannelIDs, MemberIDs: t.MemberIDs, CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

// TeamList is a page of teams.
type TeamList struct {
	Items      []TeamResponse `json:"items"`
	NextCursor *string        `json:"next_cursor" extensions:"x-nullable"`
} // @name TeamList

// listTeams godoc
//
//	@Summary	List teams
//	@Tags		teams
//	@Produce	json
//	@Param		channel_id	query		string	false	"only teams allowed on this channel"
//	@Param		limit		query		int		false	"page size (1-200, default 50)"
//	@Param		cursor		query		string	false	"next_cursor of the previous page"
//	@Success	200			{object}	TeamList
//	@Failure	401			{object}	Problem
//	@Failure	422			{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/teams [get]
func (s *server) listTeams(c echo.Context) error {
	return list[TeamList](c, func(ctx context.Context, p store.Page) ([]team.Team, *string, error) {
		return s.Teams.List(ctx, c.QueryParam("channel_id"), p)
	}, toTeam)
}

// createTeam godoc
//
//	@Summary	Create a team (admin)
//	@Tags		teams
//	@Accept		json
//	@Produce	json
//	@Param		body	body		TeamRequest	true	"the team"
//	@Success	201		{object}	TeamResponse
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	409		{object}	Problem
//	@Failure	413		{object}	Problem
//	@Failure	415		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/teams [post]
func (s *server) createTeam(c echo.Context) error {
	return created[TeamRequest](c, s.Teams.Create, toTeam)
}

// getTeam godoc
//
//	@Summary	Get a team
//	@Tags		teams
//	@Produce	json
//	@Param		id	path		string	true	"team id"
//	@Success	200	{object}	TeamResponse
//	@Failure	401	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/teams/{id} [get]
func (s *server) getTeam(c echo.Context) error {
	return fetched(c, s.Teams.Get, toTeam)
}

// updateTeam godoc
//
//	@Summary	Change a team (admin)
//	@Tags		teams
//	@Accept		json
//	@Produce	json
//	@Param		id		path		string		true	"team id"
//	@Param		body	body		TeamRequest	true	"fields to change"
//	@Success	200		{object}	TeamResponse
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
//	@Router		/api/v1/teams/{id} [patch]
func (s *server) updateTeam(c echo.Context) error {
	return updated[TeamRequest](c, s.Teams.Update, toTeam)
}

// deleteTeam godoc
//
//	@Summary		Delete a team (admin)
//	@Description	Its closed conversations keep their history without a team; a channel whose default team it was gets none. A team with open (scheduled, waiting or active) conversations is not deleted: 409 team_has_open_conversations with open_conversations, the count.
//	@Tags			teams
//	@Param			id	path	string	true	"team id"
//	@Success		204
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		404	{object}	Problem
//	@Failure		409	{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/teams/{id} [delete]
func (s *server) deleteTeam(c echo.Context) error {
	return deleted(c, func(ctx context.Context, id string) error {
		// The count and the delete share one transaction with the team's row locked: a start
		// that names the team waits for it, and then finds the team gone.
		inUse := func(ctx context.Context) error {
			open, err := s.Conversations.OpenInTeam(ctx, id)
			if err != nil {
				return err
			}
			if open > 0 {
				return errTeamInUse.With("open_conversations", open)
			}
			return nil
		}
		return s.Teams.Delete(ctx, id, inUse, errTeamInUse)
	})
}

// errTeamInUse refuses to delete a team that open conversations (or a write racing the delete)
// still refer to.
var errTeamInUse = apperr.Conflict("team_has_open_conversations", "the team has open conversations: close them first")
