package api

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/conversation"
)

// The agent's desk (DESIGN.md § The desk): ownership, transfer, notes, reopen, read marks and
// the tab counts.

// AssignRequest gives a conversation to a user or returns it to its team's queue.
type AssignRequest struct {
	// UserID is the new owner, a member of the conversation's team; null returns the conversation to the queue. Required (null included).
	UserID nullable[string] `json:"user_id" swaggertype:"string" format:"uuid" extensions:"x-nullable"`
	// Force (admins only) takes the conversation even from another agent.
	Force bool `json:"force" example:"false"`
} // @name AssignRequest

// TransferRequest moves a conversation to a team (and optionally one of its members).
type TransferRequest struct {
	// TeamID is a team linked to the conversation's channel.
	TeamID *string `json:"team_id" format:"uuid"`
	// UserID is a member of that team who will own it; absent or null: the team's queue.
	UserID *string `json:"user_id" format:"uuid" extensions:"x-nullable"`
	// Note becomes an internal note of the conversation (1-4000 characters; absent, null or "" for none).
	Note *string `json:"note" extensions:"x-nullable" example:"Cliente quer falar sobre a fatura."`
} // @name TransferRequest

// NoteRequest is an internal note.
type NoteRequest struct {
	// Text has 1 to 4000 characters (note_text_invalid otherwise).
	Text *string `json:"text" example:"Cliente prefere contato à tarde."`
} // @name NoteRequest

// TabCount is one tab of the desk.
type TabCount struct {
	Total int `json:"total" example:"12"`
	// Unread is how many of the tab's conversations have messages the caller has not read.
	Unread int `json:"unread" example:"3"`
} // @name TabCount

// ConversationCounts are the caller's desk tabs.
type ConversationCounts struct {
	// Mine: assigned to the caller and active.
	Mine TabCount `json:"mine"`
	// Waiting: assigned to the caller and waiting for the contact's reply (or scheduled).
	Waiting TabCount `json:"waiting"`
	// Others: open and unassigned (the team queue) or a colleague's, in the caller's teams (admins and API keys: all).
	Others TabCount `json:"others"`
	// Closed: closed, in the caller's teams (unread is always 0).
	Closed TabCount `json:"closed"`
} // @name ConversationCounts

// bindOptional binds a body that may be left out: no body (or only spaces) leaves dst as it is.
func bindOptional(c echo.Context, dst any) error {
	req := c.Request()
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBody+1))
	if err != nil {
		return bind(c, dst)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return bind(c, dst)
}

// assignConversation godoc
//
//	@Summary		Take, hand over or return a conversation to the queue
//	@Description	An agent may take an unassigned conversation of their teams, hand their own to a member of its team, or return it to the queue (user_id null). A conversation someone else owns (including one taken meanwhile) → 409 conversation_already_assigned with assignee_id and assignee_name; admins may pass force. A user outside the conversation's team → 422 assignee_not_in_team. A closed conversation → 409 conversation_closed. Publishes conversation.updated and conversation.assigned.
//	@Tags			conversations
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string			true	"conversation id"
//	@Param			body	body		AssignRequest	true	"the new owner"
//	@Success		200		{object}	ConversationResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		409		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/conversations/{id}/assign [post]
func (s *server) assignConversation(c echo.Context) error {
	var req AssignRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if !req.UserID.Set {
		return apperr.Invalid(apperr.FieldError{Field: "user_id", Code: "user_id_required", Message: "user_id is required: a user id, or null for the queue"})
	}
	cv, err := s.Conversations.Assign(c.Request().Context(), actor(c), c.Param("id"), req.UserID.Value, req.Force)
	if err != nil {
		return err
	}
	return s.conversationResponse(c, cv)
}

// transferConversation godoc
//
//	@Summary		Transfer a conversation to a team, optionally to one of its members, with a note
//	@Description	The team must be linked to the conversation's channel (422 team_not_allowed_on_channel), the user a member of it (422 assignee_not_in_team); the note (1-4000 characters, note_text_invalid) becomes an internal note. Agents transfer their own or unassigned conversations (else 409 conversation_already_assigned); admins any. Nothing is saved unless everything is. Publishes conversation.updated, conversation.transferred and, with a note, message.created.
//	@Tags			conversations
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string			true	"conversation id"
//	@Param			body	body		TransferRequest	true	"where to"
//	@Success		200		{object}	ConversationResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		409		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/conversations/{id}/transfer [post]
func (s *server) transferConversation(c echo.Context) error {
	var req TransferRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	cv, err := s.Conversations.Transfer(c.Request().Context(), actor(c), c.Param("id"),
		conversation.TransferInput{TeamID: req.TeamID, UserID: req.UserID, Note: req.Note})
	if err != nil {
		return err
	}
	// The caller may have sent it out of their teams: answer with what they just did, unscoped.
	out, err := s.renderer().conversation(c.Request().Context(), actor(c), cv)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// addNote godoc
//
//	@Summary		Add an internal note to a conversation
//	@Description	A message with type note, direction internal and status internal, in the conversation's order, with its author. It is never sent to the contact and never in CRM webhook payloads. Closed conversations take notes too. Text of 0 or more than 4000 characters → 422 note_text_invalid. Publishes message.created and conversation.updated.
//	@Tags			conversations
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string		true	"conversation id"
//	@Param			body	body		NoteRequest	true	"the note"
//	@Success		201		{object}	MessageResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/conversations/{id}/notes [post]
func (s *server) addNote(c echo.Context) error {
	var req NoteRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	m, err := s.Conversations.AddNote(c.Request().Context(), actor(c), c.Param("id"), req.Text)
	if err != nil {
		return err
	}
	return s.messageResponse(c, http.StatusCreated, m)
}

// reopenConversation godoc
//
//	@Summary		Reopen a closed conversation while the contact's 24-hour window is open
//	@Description	It becomes active again, owned by the caller if it had no owner. After the window → 422 window_closed (start a new conversation with a template); not closed → 409 conversation_not_closed; the contact has another open conversation on the channel → 409 conversation_already_open (existing_id). Publishes conversation.updated and conversation.reopened.
//	@Tags			conversations
//	@Produce		json
//	@Param			id	path		string	true	"conversation id"
//	@Success		200	{object}	ConversationResponse
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		404	{object}	Problem
//	@Failure		409	{object}	Problem
//	@Failure		422	{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/conversations/{id}/reopen [post]
func (s *server) reopenConversation(c echo.Context) error {
	cv, err := s.Conversations.Reopen(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.conversationResponse(c, cv)
}

// readConversation godoc
//
//	@Summary		Mark a conversation read by the caller up to now
//	@Description	Its unread_count becomes 0 for the calling user (API keys have no read marks: nothing changes).
//	@Tags			conversations
//	@Produce		json
//	@Param			id	path		string	true	"conversation id"
//	@Success		200	{object}	ConversationResponse
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		404	{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/conversations/{id}/read [post]
func (s *server) readConversation(c echo.Context) error {
	cv, err := s.Conversations.MarkRead(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.conversationResponse(c, cv)
}

// conversationCounts godoc
//
//	@Summary		The caller's desk tabs: counts and unread per tab
//	@Description	mine = assigned to the caller and active; waiting = assigned to the caller and waiting for the contact (or scheduled); others = open and unassigned or a colleague's, in the caller's teams (admins and API keys: every team); closed = closed in the caller's teams. unread counts the tab's conversations with inbound messages the caller has not read.
//	@Tags			conversations
//	@Produce		json
//	@Success		200	{object}	ConversationCounts
//	@Failure		401	{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/conversations/counts [get]
func (s *server) conversationCounts(c echo.Context) error {
	n, err := s.Conversations.Counts(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	tab := func(t conversation.TabCount) TabCount { return TabCount{Total: t.Total, Unread: t.Unread} }
	return c.JSON(http.StatusOK, ConversationCounts{Mine: tab(n.Mine), Waiting: tab(n.Waiting), Others: tab(n.Others), Closed: tab(n.Closed)})
}

// contactNotes godoc
//
//	@Summary	The internal notes of every conversation of a contact, newest first
//	@Tags		contacts
//	@Produce	json
//	@Param		id		path		string	true	"contact id"
//	@Param		limit	query		int		false	"page size (1-200, default 50)"
//	@Param		cursor	query		string	false	"next_cursor of the previous page"
//	@Success	200		{object}	MessageList
//	@Failure	401		{object}	Problem
//	@Failure	404		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/contacts/{id}/notes [get]
func (s *server) contactNotes(c echo.Context) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	msgs, next, err := s.Conversations.ContactNotes(ctx, actor(c), c.Param("id"), p)
	if err != nil {
		return err
	}
	out, err := s.renderer().messages(ctx, msgs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, MessageList{Items: out, NextCursor: next})
}

func (s *server) messageResponse(c echo.Context, status int, m conversation.Message) error {
	out, err := s.renderer().messages(c.Request().Context(), []conversation.Message{m})
	if err != nil {
		return err
	}
	return c.JSON(status, out[0])
}

func (s *server) renderer() *EventRenderer {
	return &EventRenderer{Conversations: s.Conversations, Contacts: s.Contacts, Templates: s.Templates, Accounts: s.accounts, Media: s.Media}
}

// conversation renders one conversation as who sees it, with its opening message.
func (r *EventRenderer) conversation(ctx context.Context, who conversation.Actor, cv conversation.Conversation) (ConversationResponse, error) {
	out, err := r.conversations(ctx, who, []conversation.Conversation{cv})
	if err != nil {
		return ConversationResponse{}, err
	}
	return r.withOpening(ctx, out[0])
}

// withOpening adds the conversation's opening message to its rendering.
func (r *EventRenderer) withOpening(ctx context.Context, out ConversationResponse) (ConversationResponse, error) {
	m, err := r.Conversations.OpeningMessage(ctx, out.ID)
	if err != nil {
		return ConversationResponse{}, err
	}
	if m != nil {
		out.OpeningMessage = &OpeningMessage{ID: m.ID, Status: string(m.Status), RenderedText: m.RenderedText}
	}
	return out, nil
}

// conversations renders a page of conversations for who: contacts, owners' names, who's unread
// counts and last messages, each read once for the whole page.
func (r *EventRenderer) conversations(ctx context.Context, who conversation.Actor, cvs []conversation.Conversation) ([]ConversationResponse, error) {
	return r.conversationsFor(ctx, who, cvs, true)
}

// conversationsFor is conversations; without notes, last_message is the latest message that is
// not an internal note (for CRM payloads, which never carry notes).
func (r *EventRenderer) conversationsFor(ctx context.Context, who conversation.Actor, cvs []conversation.Conversation, withNotes bool) ([]ConversationResponse, error) {
	ids, contactIDs, users := make([]string, len(cvs)), make([]string, len(cvs)), []string{}
	for i, cv := range cvs {
		ids[i], contactIDs[i] = cv.ID, cv.ContactID
		if cv.AssigneeID != nil {
			users = append(users, *cv.AssigneeID)
		}
	}
	contacts, err := r.Contacts.GetMany(ctx, contactIDs)
	if err != nil {
		return nil, err
	}
	desk, err := r.Conversations.DeskOf(ctx, who, ids, withNotes)
	if err != nil {
		return nil, err
	}
	names, err := r.names(ctx, users)
	if err != nil {
		return nil, err
	}
	out := make([]ConversationResponse, len(cvs))
	for i, cv := range cvs {
		out[i] = toConversation(cv, contacts[cv.ContactID])
		if cv.AssigneeID != nil {
			if n, ok := names[*cv.AssigneeID]; ok {
				out[i].AssigneeName = &n
			}
		}
		d := desk[cv.ID]
		out[i].UnreadCount = d.Unread
		if l := d.LastMessage; l != nil {
			out[i].LastMessage = &LastMessage{Direction: l.Direction, Type: l.Type, Preview: l.Preview, At: l.At}
		}
	}
	return out, nil
}

// messages renders messages with their authors' names.
func (r *EventRenderer) messages(ctx context.Context, msgs []conversation.Message) ([]MessageResponse, error) {
	var users []string
	for _, m := range msgs {
		if m.CreatedBy != nil {
			users = append(users, *m.CreatedBy)
		}
	}
	names, err := r.names(ctx, users)
	if err != nil {
		return nil, err
	}
	out, err := messagesWithMedia(ctx, r.Media, msgs)
	if err != nil {
		return nil, err
	}
	for i, m := range msgs {
		if m.CreatedBy != nil {
			if n, ok := names[*m.CreatedBy]; ok {
				out[i].AuthorName = &n
			}
		}
	}
	return out, nil
}

func (r *EventRenderer) names(ctx context.Context, ids []string) (map[string]string, error) {
	if len(ids) == 0 || r.Accounts == nil {
		return map[string]string{}, nil
	}
	return r.Accounts.UserNames(ctx, ids)
}
