package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/idempotency"
	"github.com/atendimento/atendimento/internal/logctx"
	"github.com/atendimento/atendimento/internal/store"
)

// StartRequest starts a conversation ("Iniciar atendimento" or "Agendar mensagem").
type StartRequest struct {
	ContactID   *string         `json:"contact_id" format:"uuid"`
	Contact     *ContactRequest `json:"contact"`
	ChannelID   *string         `json:"channel_id" format:"uuid"`
	TeamID      *string         `json:"team_id" format:"uuid"`
	SendType    *string         `json:"send_type" enums:"now,scheduled" example:"now"`
	ScheduledAt *string         `json:"scheduled_at" format:"date-time"`
	TemplateID  *string         `json:"template_id" format:"uuid"`
	// Parameters fill the template's variables, keyed as the template's variables list them: {"nome": "João"}
	// (NAMED); {"header.1": "123", "1": "João", "2": "Ana", "button.0": "abc"} (POSITIONAL: the body's numbers,
	// header.1 for the header); button.<i> for the suffix of the URL button at position i. A POSITIONAL
	// template also takes an array, ["João", "Ana"], filling the body's variables in order. Errors name
	// the field parameters.<key>.
	Parameters json.RawMessage `json:"parameters" swaggertype:"object"`
	Text       *string         `json:"text"`
	// HeaderMedia is the file of a template's IMAGE, VIDEO or DOCUMENT header (header_media_missing without it,
	// header_media_kind_mismatch when the file's kind is not the header's).
	HeaderMedia *HeaderMediaRequest `json:"header_media"`
} // @name StartRequest

func (r StartRequest) input() conversation.StartInput {
	in := conversation.StartInput{ContactID: r.ContactID, ChannelID: r.ChannelID, TeamID: r.TeamID, SendType: r.SendType,
		ScheduledAt: r.ScheduledAt, TemplateID: r.TemplateID, Parameters: r.Parameters, Text: r.Text, HeaderMedia: r.HeaderMedia.input()}
	if r.Contact != nil {
		ci := r.Contact.input()
		in.Contact = &ci
	}
	return in
}

// Window tells whether free text may be sent, and until when.
type Window struct {
	Open      bool       `json:"open"`
	ExpiresAt *time.Time `json:"expires_at" extensions:"x-nullable"`
} // @name Window

// ErrorInfo is a provider error kept on a message or conversation. A marketing template that
// was not sent because the contact opted out carries code 131050 (Meta's own code for "user
// stopped marketing messages") and title contact_opted_out.
type ErrorInfo struct {
	Code  int    `json:"code" example:"131047"`
	Title string `json:"title" example:"Re-engagement message"`
} // @name ErrorInfo

// OpeningMessage summarises a conversation's first message.
type OpeningMessage struct {
	ID           string `json:"id" format:"uuid"`
	Status       string `json:"status" example:"pending"`
	RenderedText string `json:"rendered_text"`
} // @name OpeningMessage

// ConversationResponse is a conversation.
type ConversationResponse struct {
	ID             string            `json:"id" format:"uuid"`
	Status         string            `json:"status" enums:"scheduled,waiting,active,closed,failed,cancelled"`
	Origin         string            `json:"origin" enums:"active,receptive"`
	Contact        ContactResponse   `json:"contact"`
	ChannelID      string            `json:"channel_id" format:"uuid"`
	TeamID         *string           `json:"team_id" format:"uuid" extensions:"x-nullable"`
	Window         Window            `json:"window"`
	ScheduledAt    *time.Time        `json:"scheduled_at" extensions:"x-nullable"`
	WaitingSince   *time.Time        `json:"waiting_since" extensions:"x-nullable"`
	LastInboundAt  *time.Time        `json:"last_inbound_at" extensions:"x-nullable"`
	ClosedAt       *time.Time        `json:"closed_at" extensions:"x-nullable"`
	Failure        *ErrorInfo        `json:"failure" extensions:"x-nullable"`
	OpeningMessage *OpeningMessage   `json:"opening_message,omitempty"`
	EstimatedCost  *EstimateResponse `json:"estimated_cost,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	// WaitingSeconds is how long a waiting conversation has waited for the contact's reply, when
	// the response was made (null unless status is waiting).
	WaitingSeconds *int64 `json:"waiting_seconds" extensions:"x-nullable" example:"3600"`
} // @name Conversation

func toConversation(cv conversation.Conversation, ct contact.Contact) ConversationResponse {
	out := ConversationResponse{ID: cv.ID, Status: string(cv.Status), Origin: cv.Origin, Contact: toContact(ct), ChannelID: cv.ChannelID,
		TeamID: cv.TeamID, Window: Window{Open: cv.WindowOpen(time.Now()), ExpiresAt: cv.WindowExpiresAt}, ScheduledAt: cv.ScheduledAt,
		WaitingSince: cv.WaitingSince, LastInboundAt: cv.LastInboundAt, ClosedAt: cv.ClosedAt, CreatedAt: cv.CreatedAt, UpdatedAt: cv.UpdatedAt}
	if cv.Failure != nil {
		out.Failure = &ErrorInfo{Code: cv.Failure.Code, Title: cv.Failure.Title}
	}
	if cv.Status == conversation.StatusWaiting && cv.WaitingSince != nil {
		waited := int64(max(time.Since(*cv.WaitingSince), 0) / time.Second)
		out.WaitingSeconds = &waited
	}
	return out
}

// ConversationList is a page of conversations.
type ConversationList struct {
	Items      []ConversationResponse `json:"items"`
	NextCursor *string                `json:"next_cursor" extensions:"x-nullable"`
} // @name ConversationList

// startConversation godoc
//
//	@Summary		Start a conversation with a contact
//	@Description	Validates contact, channel, team, template, parameters and schedule, reporting every failing field at once (422). A field left out or empty is contact_required, channel_required or team_required (template_required when neither template_id nor text that may go is given); an id the account lacks is contact_not_found, channel_not_found, team_not_found or template_not_found. A body that is not JSON (Content-Type other than application/json) is 415 unsupported_media_type. A MARKETING template to a contact who opted out of marketing messages is refused with contact_opted_out (field contact) among the other errors; UTILITY and AUTHENTICATION templates and text inside the window still go (Meta's rule too). In one transaction it creates the contact when given by phone, the conversation (waiting, or scheduled) and the opening template message in the outbox. The same Idempotency-Key with the same body within 24 h returns the first response (keys are per account for API keys, per user for sessions).
//	@Tags			conversations
//	@Accept			json
//	@Produce		json
//	@Param			Idempotency-Key	header		string			false	"makes the start safe to retry"
//	@Param			body			body		StartRequest	true	"the start"
//	@Success		201				{object}	ConversationResponse
//	@Failure		400				{object}	Problem
//	@Failure		401				{object}	Problem
//	@Failure		403				{object}	Problem
//	@Failure		409				{object}	Problem
//	@Failure		413				{object}	Problem
//	@Failure		415				{object}	Problem
//	@Failure		422				{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/conversations [post]
func (s *server) startConversation(c echo.Context) error {
	var req StartRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	run := func(ctx context.Context) (idempotency.Response, error) {
		st, err := s.Conversations.Start(ctx, actor(c), req.input())
		if err != nil {
			return idempotency.Response{}, err
		}
		logctx.Add(ctx, slog.String("conversation_id", st.Conversation.ID), slog.String("message_id", st.OpeningMessage.ID))
		out := toConversation(st.Conversation, st.Contact)
		out.OpeningMessage = &OpeningMessage{ID: st.OpeningMessage.ID, Status: string(st.OpeningMessage.Status), RenderedText: st.OpeningMessage.RenderedText}
		if out.EstimatedCost, err = s.toEstimate(ctx, st.Estimate); err != nil {
			return idempotency.Response{}, err
		}
		body, err := json.Marshal(out)
		return idempotency.Response{Status: http.StatusCreated, Body: body}, err
	}
	key := c.Request().Header.Get("Idempotency-Key")
	var resp idempotency.Response
	var err error
	if key == "" {
		resp, err = run(ctx)
	} else {
		canonical, _ := json.Marshal(req)
		parts := [][]byte{[]byte("POST /api/v1/conversations"), canonical}
		if who := actor(c); who.UserID != "" {
			// A session user's key is theirs: another user (an agent of another team) repeating
			// it with the same body must not be handed a conversation they may not see.
			parts = append(parts, []byte("user:"+who.UserID))
		}
		var replayed bool
		resp, replayed, err = s.Idempotency.Do(ctx, key, idempotency.Hash(parts...), run)
		if replayed {
			c.Response().Header().Set("Idempotent-Replayed", "true")
		}
	}
	if err != nil {
		return err
	}
	return c.JSONBlob(resp.Status, resp.Body)
}

// listConversations godoc
//
//	@Summary	List conversations (agents see their teams' only)
//	@Tags		conversations
//	@Produce	json
//	@Param		status		query		string	false	"one status or several, comma-separated"
//	@Param		team_id		query		string	false	"team id"
//	@Param		channel_id	query		string	false	"channel id"
//	@Param		contact_id	query		string	false	"contact id"
//	@Param		limit		query		int		false	"page size (1-200, default 50)"
//	@Param		cursor		query		string	false	"next_cursor of the previous page"
//	@Success	200			{object}	ConversationList
//	@Failure	401			{object}	Problem
//	@Failure	422			{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/conversations [get]
func (s *server) listConversations(c echo.Context) error {
	f := conversation.Filter{Status: c.QueryParam("status"), TeamID: c.QueryParam("team_id"), ChannelID: c.QueryParam("channel_id"), ContactID: c.QueryParam("contact_id")}
	// The page's contacts are read in one query with the page, for the mapping that follows.
	var contacts map[string]contact.Contact
	return list[ConversationList](c, func(ctx context.Context, p store.Page) ([]conversation.Conversation, *string, error) {
		items, next, err := s.Conversations.List(ctx, actor(c), f, p)
		if err != nil {
			return nil, nil, err
		}
		ids := make([]string, len(items))
		for i, it := range items {
			ids[i] = it.ContactID
		}
		contacts, err = s.Contacts.GetMany(ctx, ids)
		return items, next, err
	}, func(cv conversation.Conversation) ConversationResponse {
		return toConversation(cv, contacts[cv.ContactID])
	})
}

func (s *server) conversationResponse(c echo.Context, cv conversation.Conversation) error {
	ctx := c.Request().Context()
	ct, err := s.Contacts.Get(ctx, cv.ContactID)
	if err != nil {
		return err
	}
	out := toConversation(cv, ct)
	m, err := s.Conversations.OpeningMessage(ctx, cv.ID)
	if err != nil {
		return err
	}
	if m != nil {
		out.OpeningMessage = &OpeningMessage{ID: m.ID, Status: string(m.Status), RenderedText: m.RenderedText}
	}
	return c.JSON(http.StatusOK, out)
}

// getConversation godoc
//
//	@Summary	Get a conversation
//	@Tags		conversations
//	@Produce	json
//	@Param		id	path		string	true	"conversation id"
//	@Success	200	{object}	ConversationResponse
//	@Failure	401	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/conversations/{id} [get]
func (s *server) getConversation(c echo.Context) error {
	cv, err := s.Conversations.Get(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.conversationResponse(c, cv)
}

// closeConversation godoc
//
//	@Summary	Close a conversation (queued messages stay unsent and visible)
//	@Tags		conversations
//	@Produce	json
//	@Param		id	path		string	true	"conversation id"
//	@Success	200	{object}	ConversationResponse
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Failure	409	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/conversations/{id}/close [post]
func (s *server) closeConversation(c echo.Context) error {
	cv, err := s.Conversations.Close(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.conversationResponse(c, cv)
}

// cancelConversation godoc
//
//	@Summary	Cancel a scheduled start before it goes out
//	@Tags		conversations
//	@Produce	json
//	@Param		id	path		string	true	"conversation id"
//	@Success	200	{object}	ConversationResponse
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Failure	409	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/conversations/{id}/cancel [post]
func (s *server) cancelConversation(c echo.Context) error {
	cv, err := s.Conversations.Cancel(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.conversationResponse(c, cv)
}

// PricingInfo is what Meta's status webhooks reported about a message's billing.
type PricingInfo struct {
	Billable bool   `json:"billable"`
	Category string `json:"category" example:"marketing"`
	Type     string `json:"type" example:"regular"`
} // @name PricingInfo

// MessageResponse is a message of a conversation.
type MessageResponse struct {
	ID                string          `json:"id" format:"uuid"`
	ConversationID    string          `json:"conversation_id" format:"uuid"`
	Seq               int64           `json:"seq"`
	Direction         string          `json:"direction" enums:"in,out"`
	Type              string          `json:"type" example:"text"`
	Status            string          `json:"status" enums:"scheduled,queued,pending,sent,delivered,read,failed,cancelled,received"`
	Text              string          `json:"text"`
	RenderedText      string          `json:"rendered_text"`
	TemplateID        *string         `json:"template_id" format:"uuid" extensions:"x-nullable"`
	TemplateName      *string         `json:"template_name" extensions:"x-nullable"`
	Parameters        json.RawMessage `json:"parameters,omitempty" swaggertype:"object"`
	ProviderMessageID *string         `json:"provider_message_id" extensions:"x-nullable"`
	Error             *ErrorInfo      `json:"error" extensions:"x-nullable"`
	Pricing           *PricingInfo    `json:"pricing" extensions:"x-nullable"`
	CreatedAt         time.Time       `json:"created_at"`
	UpdatedAt         time.Time       `json:"updated_at"`
	SentAt            *time.Time      `json:"sent_at" extensions:"x-nullable"`
	DeliveredAt       *time.Time      `json:"delivered_at" extensions:"x-nullable"`
	ReadAt            *time.Time      `json:"read_at" extensions:"x-nullable"`
	FailedAt          *time.Time      `json:"failed_at" extensions:"x-nullable"`
	ReceivedAt        *time.Time      `json:"received_at" extensions:"x-nullable"`
	// Media is the file the message carries (image, audio, video, document or sticker), null for none.
	Media *MessageMedia `json:"media,omitempty"`
	// Content keeps the fields of an inbound location ({latitude, longitude, name, address}), contacts
	// ({"contacts": [{name, phones, …}]}), interactive, button or reaction message as WhatsApp sent them;
	// absent for other types.
	Content json.RawMessage `json:"content,omitempty" swaggertype:"object"`
} // @name Message

func toMessage(m conversation.Message) MessageResponse {
	out := MessageResponse{ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, Direction: m.Direction, Type: m.Type, Status: string(m.Status),
		Text: m.Text, RenderedText: m.RenderedText, TemplateID: m.TemplateID, Parameters: m.Parameters, ProviderMessageID: m.ProviderMessageID,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, SentAt: m.SentAt, DeliveredAt: m.DeliveredAt, ReadAt: m.ReadAt, FailedAt: m.FailedAt, ReceivedAt: m.ReceivedAt,
		Content: m.Content}
	if m.TemplateName != "" {
		out.TemplateName = &m.TemplateName
	}
	if m.Error != nil {
		out.Error = &ErrorInfo{Code: m.Error.Code, Title: m.Error.Title}
	}
	if m.Pricing != nil {
		out.Pricing = &PricingInfo{Billable: m.Pricing.Billable, Category: m.Pricing.Category, Type: m.Pricing.Type}
	}
	return out
}

// MessageList is a page of messages in conversation order.
type MessageList struct {
	Items      []MessageResponse `json:"items"`
	NextCursor *string           `json:"next_cursor" extensions:"x-nullable"`
} // @name MessageList

// listMessages godoc
//
//	@Summary	A conversation's messages, oldest first
//	@Tags		conversations
//	@Produce	json
//	@Param		id		path		string	true	"conversation id"
//	@Param		limit	query		int		false	"page size (1-200, default 50)"
//	@Param		cursor	query		string	false	"next_cursor of the previous page"
//	@Success	200		{object}	MessageList
//	@Failure	401		{object}	Problem
//	@Failure	404		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/conversations/{id}/messages [get]
func (s *server) listMessages(c echo.Context) error {
	var after int64
	if cur := c.QueryParam("cursor"); cur != "" {
		n, err := strconv.ParseInt(cur, 10, 64)
		if err != nil || n < 0 {
			return apperr.Invalid(apperr.FieldError{Field: "cursor", Code: "cursor_invalid", Message: "cursor is not one this API returned"})
		}
		after = n
	}
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	msgs, next, err := s.Conversations.Messages(c.Request().Context(), actor(c), c.Param("id"), after, limit)
	if err != nil {
		return err
	}
	var cursor *string
	if next != nil {
		s := strconv.FormatInt(*next, 10)
		cursor = &s
	}
	items, err := s.withMedia(c, msgs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, MessageList{Items: items, NextCursor: cursor})
}

// PostMessageRequest is a message an agent posts: text, a file (media_id from POST /media, with an
// optional caption), or a template with parameters.
type PostMessageRequest struct {
	Text    *string `json:"text" example:"Olá! Já separei seu pedido."`
	MediaID *string `json:"media_id" format:"uuid"`
	// Caption goes with an image, video or document (audio and stickers take none).
	Caption *string `json:"caption" example:"Segue o boleto."`
	// HeaderMedia is the file of a template's IMAGE, VIDEO or DOCUMENT header.
	HeaderMedia *HeaderMediaRequest `json:"header_media"`
	TemplateID  *string             `json:"template_id" format:"uuid"`
	// Parameters fill the template's variables, keyed as the template's variables list them: {"nome": "João"}
	// (NAMED); {"header.1": "123", "1": "João", "2": "Ana", "button.0": "abc"} (POSITIONAL: the body's numbers,
	// header.1 for the header); button.<i> for the suffix of the URL button at position i. A POSITIONAL
	// template also takes an array, ["João", "Ana"], filling the body's variables in order. Errors name
	// the field parameters.<key>.
	Parameters json.RawMessage `json:"parameters" swaggertype:"object"`
} // @name PostMessageRequest

// postMessage godoc
//
//	@Summary		Post a message
//	@Description	Text or a file ({media_id, caption?}) is queued while the conversation waits for the contact's reply, sent at once inside the 24-hour window, and refused (422 template_required) after it closes. A template re-engages the contact. A MARKETING template to a contact who opted out of marketing messages → 422 contact_opted_out (field contact), with the template's other errors.
//	@Tags			conversations
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string				true	"conversation id"
//	@Param			body	body		PostMessageRequest	true	"the message"
//	@Success		201		{object}	MessageResponse
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
//	@Router			/api/v1/conversations/{id}/messages [post]
func (s *server) postMessage(c echo.Context) error {
	var req PostMessageRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	m, err := s.Conversations.Post(c.Request().Context(), actor(c), c.Param("id"),
		conversation.PostInput{Text: req.Text, TemplateID: req.TemplateID, Parameters: req.Parameters, MediaID: req.MediaID, Caption: req.Caption,
			HeaderMedia: req.HeaderMedia.input()})
	if err != nil {
		return err
	}
	logctx.Add(c.Request().Context(), slog.String("conversation_id", m.ConversationID), slog.String("message_id", m.ID))
	out, err := s.withMedia(c, []conversation.Message{m})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out[0])
}

// withdrawMessage godoc
//
//	@Summary	Withdraw a message that is still queued (else 409 message_not_queued)
//	@Tags		conversations
//	@Param		id			path	string	true	"conversation id"
//	@Param		message_id	path	string	true	"message id"
//	@Success	204
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Failure	409	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/conversations/{id}/messages/{message_id} [delete]
func (s *server) withdrawMessage(c echo.Context) error {
	if err := s.Conversations.Withdraw(c.Request().Context(), actor(c), c.Param("id"), c.Param("message_id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
