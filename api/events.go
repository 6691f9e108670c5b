package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/template"
)

// ssePing is how often an idle event stream gets a comment, so proxies keep it open and a gone
// client is noticed.
const ssePing = 15 * time.Second

// streamEvents godoc
//
//	@Summary		Stream the account's conversation and message changes (server-sent events)
//	@Description	A text/event-stream that stays open. Each change is `event: <kind>` (conversation.created, conversation.updated, conversation.waiting_expired, message.created, message.updated, template.updated), `id: <sequence>` and `data:` the resource's JSON exactly as GET /api/v1/conversations/{id}, the message list or GET /api/v1/templates/{id} (template.updated: Meta changed a template's quality or category) returns it. A `: ping` comment comes every 15 s. Only the caller's account is streamed; an agent logged in with a session gets only its teams' conversations. Each event's data is the resource's latest state, so clients apply it as an upsert: events of different writers (a request, the dispatcher, another server) may arrive in another order than their changes (compare updated_at). The stream is subscribed before the response starts: events of changes made after the first line (`: connected`) are never missed. Events are not stored: after a reconnect (Last-Event-ID is not honoured) clients reload what they show. A client too slow to read is disconnected.
//	@Tags			events
//	@Produce		text/event-stream
//	@Success		200	{string}	string	"the event stream"
//	@Failure		401	{object}	Problem
//	@Failure		503	{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/events [get]
func (s *server) streamEvents(c echo.Context) error {
	if s.Events == nil {
		return apperr.New(apperr.KindUnavailable, "events_unavailable", "this server does not stream events")
	}
	ctx := c.Request().Context()
	who := actor(c)
	sub := s.Events.Subscribe(principal(c).AccountID)
	defer sub.Close()

	w := c.Response()
	// The server's read and write timeouts are for ordinary requests; a stream lives on.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, ": connected\n\n"); err != nil {
		return nil
	}
	w.Flush()

	render := &EventRenderer{Conversations: s.Conversations, Contacts: s.Contacts, Templates: s.Templates}
	ping := time.NewTicker(ssePing)
	defer ping.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-ping.C:
			_, err = fmt.Fprint(w, ": ping\n\n")
		case e, ok := <-sub.Events():
			if !ok {
				return nil // dropped for being slow: the client reconnects and reloads
			}
			data, rerr := render.render(ctx, who, e.Kind, e.ID)
			if rerr != nil {
				s.Log.WarnContext(ctx, "events: render", "kind", e.Kind, "id", e.ID, "err", rerr.Error())
				continue
			}
			if data == nil {
				continue // gone, or not visible to this caller
			}
			_, err = fmt.Fprintf(w, "event: %s\nid: %d\ndata: %s\n\n", e.Kind, e.Seq, data)
		}
		if err != nil {
			return nil // the client went away
		}
		w.Flush()
	}
}

// EventRenderer renders the resource an event names as the REST API returns it: the
// Conversation of GET /conversations/{id} for conversation events, the Message of the message
// list for message events, the Template of GET /templates/{id} for template events. The event stream and the CRM webhooks send the same JSON.
type EventRenderer struct {
	Conversations *conversation.Service
	Contacts      *contact.Service
	Templates     *template.Service
}

// Render renders for the whole account (ctx must carry it); nil when the resource is gone. It
// is crmhook.Render for the CRM webhooks.
func (r *EventRenderer) Render(ctx context.Context, kind, id string) (json.RawMessage, error) {
	return r.render(ctx, conversation.Actor{}, kind, id)
}

// render renders as who sees it: nil when the resource is gone or, for an agent logged in by
// session, belongs to a conversation outside the agent's teams.
func (r *EventRenderer) render(ctx context.Context, who conversation.Actor, kind, id string) (json.RawMessage, error) {
	switch kind {
	case conversation.EventConversationCreated, conversation.EventConversationUpdated, conversation.EventConversationWaitingExpired:
		cv, err := r.Conversations.Get(ctx, who, id)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		ct, err := r.Contacts.Get(ctx, cv.ContactID)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		out := toConversation(cv, ct)
		m, err := r.Conversations.OpeningMessage(ctx, cv.ID)
		if err != nil {
			return nil, err
		}
		if m != nil {
			out.OpeningMessage = &OpeningMessage{ID: m.ID, Status: string(m.Status), RenderedText: m.RenderedText}
		}
		return json.Marshal(out)
	case conversation.EventMessageCreated, conversation.EventMessageUpdated:
		m, err := r.Conversations.GetMessage(ctx, id)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		if who.UserID != "" && !who.IsAdmin {
			// Costs one query per event per agent stream: the team scope lives on the conversation.
			if _, err := r.Conversations.Get(ctx, who, m.ConversationID); err != nil {
				return nil, ignoreNotFound(err)
			}
		}
		return json.Marshal(toMessage(m))
	case template.EventTemplateUpdated:
		t, err := r.Templates.Get(ctx, id)
		if err != nil {
			return nil, ignoreNotFound(err)
		}
		return json.Marshal(toTemplate(t))
	}
	return nil, nil
}

func ignoreNotFound(err error) error {
	if apperr.IsKind(err, apperr.KindNotFound) {
		return nil
	}
	return err
}
