package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/event"
	"github.com/atendimento/atendimento/internal/media"
	"github.com/atendimento/atendimento/internal/template"
)

// ssePing is how often an idle event stream gets a comment, so proxies keep it open and a gone
// client is noticed.
const ssePing = 15 * time.Second

// streamEvents godoc
//
//	@Summary		Stream the account's conversation and message changes (server-sent events)
//	@Description	A text/event-stream that stays open. Each change is `event: <kind>` (conversation.created, conversation.updated, conversation.waiting_expired, message.created, message.updated, template.updated), `id: <id>` and `data:` the resource's JSON exactly as GET /api/v1/conversations/{id}, the message list or GET /api/v1/templates/{id} (template.updated: Meta changed a template's quality or category) returns it. A `: ping` comment comes every 15 s. Only the caller's account is streamed; an agent logged in with a session gets only its teams' conversations. Each event's data is the resource's latest state, so clients apply it as an upsert: events of different writers (a request, the dispatcher, another server) may arrive in another order than their changes (compare updated_at). The stream is subscribed before the response starts: events of changes made after the first line (`: connected`) are never missed.
//	@Description	Ids are numbers the server's database assigns, growing, unique across every server instance. Events are kept 24 hours: a client that reconnects with the `Last-Event-ID` header (browsers send it on their own reconnects) or the `last_event_id` query parameter set to the last id it received first gets, in order and each once, the events it missed that it may see, with the resources' current state, then the live events. When the id cannot be replayed from (older than 24 h, unknown, not a number, or more than 1000 events behind) the stream starts with `event: reset`, `data: {}` and the id of the account's newest event instead: the client reloads what it shows and keeps that id for its next reconnect. A client too slow to read is disconnected; it reconnects with its last id.
//	@Tags			events
//	@Produce		text/event-stream
//	@Param			last_event_id	query		string	false	"the id of the last event received, to replay what followed it: the Last-Event-ID header does the same and wins (browsers send it on their own reconnects)"
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
	account := principal(c).AccountID
	last, resume := lastEventID(c)
	// Subscribed before the replay reads the log: an event logged meanwhile is in one or the
	// other (or both, and then sent once).
	sub := s.Events.Subscribe(account)
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

	render := &EventRenderer{Conversations: s.Conversations, Contacts: s.Contacts, Templates: s.Templates, Media: s.Media}
	// send writes one event as who sees it (nothing when the resource is gone or hidden from who).
	send := func(e event.Event) error {
		data, rerr := render.render(ctx, who, e.Kind, e.ID)
		if rerr != nil {
			s.Log.WarnContext(ctx, "events: render", "kind", e.Kind, "id", e.ID, "err", rerr.Error())
			return nil
		}
		if data == nil {
			return nil // gone, or not visible to this caller
		}
		var err error
		if e.Seq > 0 {
			_, err = fmt.Fprintf(w, "event: %s\nid: %d\ndata: %s\n\n", e.Kind, e.Seq, data)
		} else {
			_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Kind, data)
		}
		return err
	}
	var replayed map[int64]struct{}
	if resume {
		var err error
		if replayed, err = s.replay(ctx, w, account, last, send); err != nil {
			return nil // the client went away
		}
		w.Flush()
	}
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
				return nil // dropped (too slow, or LISTEN reconnected): the client reconnects with its last id
			}
			if _, done := replayed[e.Seq]; done && e.Seq > 0 {
				continue // sent by the replay
			}
			err = send(e)
		}
		if err != nil {
			return nil // the client went away
		}
		w.Flush()
	}
}

// resetEvent tells the client that what it missed cannot be replayed: it reloads what it shows.
const resetEvent = "reset"

// lastEventID reads the id of the last event a reconnecting client received: the Last-Event-ID
// header (which browsers send on their own reconnects), else the last_event_id query parameter
// (for clients that cannot set headers). ok is false when the client sent neither; a value that
// is not an id gives -1, which the log answers with a reset.
func lastEventID(c echo.Context) (id int64, ok bool) {
	v := c.Request().Header.Get("Last-Event-ID")
	if v == "" {
		v = c.QueryParam("last_event_id")
	}
	if v == "" {
		return 0, false
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return -1, true
	}
	return id, true
}

// replay sends the account's logged events after last, in order, through send (which filters
// them as the live path does), and returns their ids, so the live events that the subscription
// also holds are not sent twice. When the log cannot replay from last it sends a reset instead,
// whose id is the account's newest event: the client's next reconnect resumes from there. It
// fails only when the client is gone.
func (s *server) replay(ctx context.Context, w io.Writer, account string, last int64, send func(event.Event) error) (map[int64]struct{}, error) {
	events, err := s.Events.Since(ctx, account, last)
	if err != nil {
		if !errors.Is(err, event.ErrReset) {
			s.Log.WarnContext(ctx, "events: replay; the client resets", "last_event_id", last, "err", err.Error())
		}
		return nil, s.sendReset(ctx, w, account)
	}
	replayed := make(map[int64]struct{}, len(events))
	for _, e := range events {
		if err := send(e); err != nil {
			return nil, err
		}
		replayed[e.Seq] = struct{}{}
	}
	return replayed, nil
}

// sendReset writes a reset event: `event: reset`, the id of the account's newest logged event
// (none when it cannot be read) and `data: {}`.
func (s *server) sendReset(ctx context.Context, w io.Writer, account string) error {
	latest, err := s.Events.Latest(ctx, account)
	if err != nil {
		s.Log.WarnContext(ctx, "events: reset without an id", "err", err.Error())
		_, err = fmt.Fprintf(w, "event: %s\ndata: {}\n\n", resetEvent)
		return err
	}
	_, err = fmt.Fprintf(w, "event: %s\nid: %d\ndata: {}\n\n", resetEvent, latest)
	return err
}

// EventRenderer renders the resource an event names as the REST API returns it: the
// Conversation of GET /conversations/{id} for conversation events, the Message of the message
// list for message events, the Template of GET /templates/{id} for template events. The event stream and the CRM webhooks send the same JSON.
type EventRenderer struct {
	Conversations *conversation.Service
	Contacts      *contact.Service
	Templates     *template.Service
	Media         *media.Service
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
		out, err := messagesWithMedia(ctx, r.Media, []conversation.Message{m})
		if err != nil {
			return nil, err
		}
		return json.Marshal(out[0])
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
