package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/quickreply"
	"github.com/atendimento/atendimento/internal/store"
)

// QuickReplyRequest creates or changes a quick reply; absent fields are left as they are on PATCH.
type QuickReplyRequest struct {
	// Shortcut is what the agent types after "/" in the composer: 1-40 letters, digits, _ or - (stored in lower case; a leading / is dropped). Unique per scope and owner (409 quick_reply_exists).
	Shortcut *string `json:"shortcut" example:"boasvindas"`
	// Text has 1-4000 characters; its only placeholders are {{nome}}, {{primeiro_nome}} and {{atendente}} (422 quick_reply_placeholder_unknown naming any other).
	Text *string `json:"text" example:"Olá {{primeiro_nome}}! Aqui é {{atendente}}, como posso ajudar?"`
	// Scope is account (admins only) or personal (the caller's own); it cannot change on PATCH.
	Scope *string `json:"scope" enums:"account,personal" example:"personal"`
} // @name QuickReplyRequest

func (r QuickReplyRequest) input() quickreply.Input {
	return quickreply.Input{Shortcut: r.Shortcut, Text: r.Text, Scope: r.Scope}
}

// QuickReplyResponse is a quick reply.
type QuickReplyResponse struct {
	ID       string `json:"id" format:"uuid"`
	Shortcut string `json:"shortcut" example:"boasvindas"`
	Text     string `json:"text" example:"Olá {{primeiro_nome}}! Aqui é {{atendente}}, como posso ajudar?"`
	Scope    string `json:"scope" enums:"account,personal"`
	// OwnerID is the user a personal reply belongs to; null for the account's.
	OwnerID   *string   `json:"owner_id" format:"uuid" extensions:"x-nullable"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
} // @name QuickReply

func toQuickReply(q quickreply.QuickReply) QuickReplyResponse {
	return QuickReplyResponse{ID: q.ID, Shortcut: q.Shortcut, Text: q.Text, Scope: q.Scope, OwnerID: q.OwnerID, CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt}
}

// QuickReplyList is a page of quick replies.
type QuickReplyList struct {
	Items      []QuickReplyResponse `json:"items"`
	NextCursor *string              `json:"next_cursor" extensions:"x-nullable"`
} // @name QuickReplyList

// RenderQuickReplyRequest names the conversation a quick reply is used in.
type RenderQuickReplyRequest struct {
	ConversationID *string `json:"conversation_id" format:"uuid"`
} // @name RenderQuickReplyRequest

// RenderedQuickReply is a quick reply's text with its placeholders filled.
type RenderedQuickReply struct {
	Text string `json:"text" example:"Olá João! Aqui é Bruno Lima, como posso ajudar?"`
} // @name RenderedQuickReply

func caller(c echo.Context) quickreply.Caller {
	a := actor(c)
	return quickreply.Caller{UserID: a.UserID, IsAdmin: a.IsAdmin}
}

// listQuickReplies godoc
//
//	@Summary	The account's quick replies and the caller's personal ones, newest first
//	@Tags		quick-replies
//	@Produce	json
//	@Param		q		query		string	false	"matches the shortcut or the text (ignoring case and accents)"
//	@Param		limit	query		int		false	"page size (1-200, default 50)"
//	@Param		cursor	query		string	false	"next_cursor of the previous page"
//	@Success	200		{object}	QuickReplyList
//	@Failure	401		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/quick-replies [get]
func (s *server) listQuickReplies(c echo.Context) error {
	return list[QuickReplyList](c, func(ctx context.Context, p store.Page) ([]quickreply.QuickReply, *string, error) {
		return s.QuickReplies.List(ctx, caller(c), c.QueryParam("q"), p)
	}, toQuickReply)
}

// createQuickReply godoc
//
//	@Summary		Create a quick reply
//	@Description	scope account is for admins (403 for agents, including agent API keys); personal belongs to the calling user (an API key has none: quick_reply_scope_invalid). Every invalid field at once: quick_reply_shortcut_invalid, quick_reply_text_invalid, quick_reply_placeholder_unknown, quick_reply_scope_invalid. A shortcut already used in the same scope (and owner) → 409 quick_reply_exists.
//	@Tags			quick-replies
//	@Accept			json
//	@Produce		json
//	@Param			body	body		QuickReplyRequest	true	"the quick reply"
//	@Success		201		{object}	QuickReplyResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		409		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/quick-replies [post]
func (s *server) createQuickReply(c echo.Context) error {
	return created[QuickReplyRequest](c, func(ctx context.Context, in quickreply.Input) (quickreply.QuickReply, error) {
		return s.QuickReplies.Create(ctx, caller(c), in)
	}, toQuickReply)
}

// updateQuickReply godoc
//
//	@Summary		Change a quick reply's shortcut or text
//	@Description	The account's are changed by admins (403 for agents), personal ones by their owner (another user's → 404). Same rules as creating.
//	@Tags			quick-replies
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string				true	"quick reply id"
//	@Param			body	body		QuickReplyRequest	true	"fields to change"
//	@Success		200		{object}	QuickReplyResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		409		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/quick-replies/{id} [patch]
func (s *server) updateQuickReply(c echo.Context) error {
	return withBody[QuickReplyRequest](c, http.StatusOK, func(ctx context.Context, in quickreply.Input) (quickreply.QuickReply, error) {
		return s.QuickReplies.Update(ctx, caller(c), c.Param("id"), in)
	}, toQuickReply)
}

// deleteQuickReply godoc
//
//	@Summary	Delete a quick reply (the account's: admins; personal: their owner)
//	@Tags		quick-replies
//	@Param		id	path	string	true	"quick reply id"
//	@Success	204
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/quick-replies/{id} [delete]
func (s *server) deleteQuickReply(c echo.Context) error {
	if err := s.QuickReplies.Delete(c.Request().Context(), caller(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// renderQuickReply godoc
//
//	@Summary		A quick reply's text filled for a conversation
//	@Description	{{nome}} is the contact's name, {{primeiro_nome}} its first word, {{atendente}} the calling user's name (empty for what is not known). The conversation must be one the caller may see (404 conversation_not_found otherwise).
//	@Tags			quick-replies
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string					true	"quick reply id"
//	@Param			body	body		RenderQuickReplyRequest	true	"the conversation"
//	@Success		200		{object}	RenderedQuickReply
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/quick-replies/{id}/render [post]
func (s *server) renderQuickReply(c echo.Context) error {
	var req RenderQuickReplyRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	qr, err := s.QuickReplies.Get(ctx, caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	id := ""
	if req.ConversationID != nil {
		id = *req.ConversationID
	}
	cv, err := s.Conversations.Get(ctx, actor(c), id)
	if err != nil {
		return err
	}
	ct, err := s.Contacts.Get(ctx, cv.ContactID)
	if err != nil {
		return err
	}
	text := quickreply.Render(qr.Text, quickreply.Values{ContactName: ct.Name, AgentName: principal(c).UserName})
	return c.JSON(http.StatusOK, RenderedQuickReply{Text: text})
}
