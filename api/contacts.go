package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/store"
)

// ContactRequest creates or changes a contact. phone accepts national input "com DDD"
// ("11 98765-4321", "(11) 98765-4321") or E.164.
type ContactRequest struct {
	Name       *string        `json:"name" example:"João da Silva"`
	Phone      *string        `json:"phone" example:"11 98765-4321"`
	Email      *string        `json:"email" example:"joao@example.com"`
	Attributes map[string]any `json:"attributes"`
} // @name ContactRequest

func (r ContactRequest) input() contact.Input {
	return contact.Input{Name: r.Name, Phone: r.Phone, Email: r.Email, Attributes: r.Attributes}
}

// ContactResponse is a contact; phone is E.164.
type ContactResponse struct {
	ID         string         `json:"id" format:"uuid"`
	Name       string         `json:"name" example:"João da Silva"`
	Phone      string         `json:"phone" example:"+5511987654321"`
	WaID       *string        `json:"wa_id" example:"5511987654321" extensions:"x-nullable"`
	Email      string         `json:"email" example:"joao@example.com"`
	Attributes map[string]any `json:"attributes"`
	// MarketingOptedOut is the contact's current choice: true after an opt-out (a keyword reply, Meta's stop, an agent, the API, a CSV import) not reversed since. MARKETING templates to the contact are refused (422 contact_opted_out).
	MarketingOptedOut bool `json:"marketing_opted_out" example:"false"`
	// MarketingConsentAt is when the latest consent fact (opt-out or opt-in) happened; null when there is none.
	MarketingConsentAt *time.Time `json:"marketing_consent_at" extensions:"x-nullable"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
} // @name Contact

func toContact(c contact.Contact) ContactResponse {
	out := ContactResponse{ID: c.ID, Name: c.Name, Phone: c.Phone, Email: c.Email, Attributes: c.Attributes,
		MarketingOptedOut: c.MarketingOptedOut, MarketingConsentAt: utcPtr(c.MarketingConsentAt), CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	if c.WaID != "" {
		out.WaID = &c.WaID
	}
	if out.Attributes == nil {
		out.Attributes = map[string]any{}
	}
	return out
}

// ContactList is a page of contacts.
type ContactList struct {
	Items      []ContactResponse `json:"items"`
	NextCursor *string           `json:"next_cursor" extensions:"x-nullable"`
} // @name ContactList

// listContacts godoc
//
//	@Summary	List and search contacts
//	@Tags		contacts
//	@Produce	json
//	@Param		q		query		string	false	"matches the name (ignoring case and accents) or the phone's digits"
//	@Param		limit	query		int		false	"page size (1-200, default 50)"
//	@Param		cursor	query		string	false	"next_cursor of the previous page"
//	@Success	200		{object}	ContactList
//	@Failure	401		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/contacts [get]
func (s *server) listContacts(c echo.Context) error {
	return list[ContactList](c, func(ctx context.Context, p store.Page) ([]contact.Contact, *string, error) {
		return s.Contacts.List(ctx, c.QueryParam("q"), p)
	}, toContact)
}

// createContact godoc
//
//	@Summary	Create a contact; a phone already in the account → 409 contact_exists with existing_id
//	@Tags		contacts
//	@Accept		json
//	@Produce	json
//	@Param		body	body		ContactRequest	true	"the contact"
//	@Success	201		{object}	ContactResponse
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	409		{object}	Problem
//	@Failure	413		{object}	Problem
//	@Failure	415		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/contacts [post]
func (s *server) createContact(c echo.Context) error {
	return created[ContactRequest](c, s.Contacts.Create, toContact)
}

// lookupContact godoc
//
//	@Summary	Find a contact by phone in any form (the "Conversar" button)
//	@Tags		contacts
//	@Produce	json
//	@Param		phone	query		string	true	"phone, e.g. 11 98765-4321"
//	@Success	200		{object}	ContactResponse
//	@Failure	401		{object}	Problem
//	@Failure	404		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/contacts/lookup [get]
func (s *server) lookupContact(c echo.Context) error {
	ct, err := s.Contacts.Lookup(c.Request().Context(), c.QueryParam("phone"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toContact(ct))
}

// getContact godoc
//
//	@Summary	Get a contact
//	@Tags		contacts
//	@Produce	json
//	@Param		id	path		string	true	"contact id"
//	@Success	200	{object}	ContactResponse
//	@Failure	401	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/contacts/{id} [get]
func (s *server) getContact(c echo.Context) error {
	return fetched(c, s.Contacts.Get, toContact)
}

// updateContact godoc
//
//	@Summary	Change a contact
//	@Tags		contacts
//	@Accept		json
//	@Produce	json
//	@Param		id		path		string			true	"contact id"
//	@Param		body	body		ContactRequest	true	"fields to change"
//	@Success	200		{object}	ContactResponse
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
//	@Router		/api/v1/contacts/{id} [patch]
func (s *server) updateContact(c echo.Context) error {
	return updated[ContactRequest](c, s.Contacts.Update, toContact)
}

// deleteContact godoc
//
//	@Summary	Delete a contact without conversations (else 409 contact_in_use)
//	@Tags		contacts
//	@Param		id	path	string	true	"contact id"
//	@Success	204
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Failure	409	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/contacts/{id} [delete]
func (s *server) deleteContact(c echo.Context) error {
	if err := deleted(c, s.Contacts.Delete); err != nil {
		return err
	}
	// The contact's conversations and messages went with it: so do the files no other row uses.
	return s.Media.DeleteOrphans(c.Request().Context())
}

// ConsentRequest records a contact's marketing choice by hand: an agent's note of what the
// contact said on the phone, an integrator's (a CRM's) own record, or a row of a CSV import.
type ConsentRequest struct {
	// OptedOut is true to record an opt-out of marketing messages, false to record an opt-in.
	OptedOut *bool `json:"opted_out" validate:"required" example:"true"`
	// Detail is a note kept with the fact (why, where the contact said so).
	Detail *string `json:"detail" validate:"omitempty,max=500" example:"Pediu por telefone para não receber ofertas."`
	// Source is csv for a row of a CSV import (atendimento consent --csv); absent, the fact's source is agent (session user) or api (API key). Any other value is refused with source_invalid.
	Source *string `json:"source" enums:"csv" example:"csv"`
	// ImportKey names the imported row (1-200 characters, only with source csv; import_key_invalid otherwise): a second request with the same key for the same contact records nothing and answers the fact recorded the first time, so re-importing a file does not repeat its facts.
	ImportKey *string `json:"import_key" example:"3f1c9a0b7d2e4f65:12"`
	// At is when the contact made the choice (RFC 3339, only with source csv, not in the future; at_invalid otherwise); absent, now. The contact's state follows the latest fact by at, so an old row does not override a newer choice.
	At *string `json:"at" format:"date-time" example:"2026-05-04T09:00:00-03:00"`
} // @name ConsentRequest

// maxImportKey bounds ConsentRequest.ImportKey.
const maxImportKey = 200

// input checks the fields the tags cannot and builds the fact; the source of a request without
// one is the caller's to set.
func (r ConsentRequest) input(contactID string, now time.Time) (contact.ConsentInput, error) {
	in := contact.ConsentInput{OptedOut: r.OptedOut != nil && *r.OptedOut}
	if r.Detail != nil {
		in.Detail = *r.Detail
	}
	var f apperr.Fields
	csv := false
	if r.Source != nil {
		if *r.Source == string(contact.SourceCSV) {
			csv, in.Source = true, contact.SourceCSV
		} else {
			f.Add("source", "source_invalid", "source must be csv or absent")
		}
	}
	if r.ImportKey != nil {
		n := utf8.RuneCountInString(*r.ImportKey)
		switch {
		case !csv:
			f.Add("import_key", "import_key_invalid", "import_key is only accepted with source csv")
		case n < 1 || n > maxImportKey || strings.IndexFunc(*r.ImportKey, unicode.IsControl) >= 0:
			f.Add("import_key", "import_key_invalid", fmt.Sprintf("import_key must have 1 to %d characters without control characters", maxImportKey))
		default:
			// Scoped to the contact: one contact's key never answers with another contact's fact.
			in.DedupeKey = "csv:" + contactID + ":" + *r.ImportKey
		}
	}
	if r.At != nil {
		at, err := time.Parse(time.RFC3339, *r.At)
		switch {
		case !csv:
			f.Add("at", "at_invalid", "at is only accepted with source csv")
		case err != nil:
			f.Add("at", "at_invalid", "at must be an RFC 3339 time such as 2026-05-04T09:00:00-03:00")
		case at.After(now.Add(maxConsentSkew)):
			f.Add("at", "at_invalid", "at must not be in the future")
		default:
			in.At = at
		}
	}
	return in, f.Err()
}

// maxConsentSkew is how far in the future an imported fact's at may be (the clocks of the file's
// source and of the server differ).
const maxConsentSkew = 5 * time.Minute

// ConsentEntry is one recorded consent fact of a contact: an opt-out of marketing messages or an
// opt-in. The contact's current state is the fact with the latest at.
type ConsentEntry struct {
	ID       string `json:"id" format:"uuid"`
	OptedOut bool   `json:"opted_out" example:"true"`
	// Source is how the fact was learnt: keyword (the contact replied an opt-out or opt-in keyword of the account), meta (Meta's user_preferences webhook: stop or resume), agent (a session user), api (an API key), csv (a CSV import).
	Source string `json:"source" enums:"keyword,meta,agent,api,csv" example:"keyword"`
	// Detail is the keyword text the contact sent, Meta's detail, or the agent's note.
	Detail string `json:"detail" example:"SAIR"`
	// UserID is the session user who recorded the fact (source agent, or csv when a session user imported it), else null.
	UserID *string `json:"user_id" format:"uuid" extensions:"x-nullable"`
	// At is when the fact happened: the message's or Meta's timestamp for keywords and webhooks, the row's at for a CSV import that gave one, the request's time otherwise.
	At        time.Time `json:"at"`
	CreatedAt time.Time `json:"created_at"`
} // @name ConsentEntry

func toConsentEntry(e contact.ConsentEntry) ConsentEntry {
	return ConsentEntry{ID: e.ID, OptedOut: e.OptedOut, Source: string(e.Source), Detail: e.Detail, UserID: e.UserID,
		At: e.At.UTC(), CreatedAt: e.CreatedAt.UTC()}
}

// ConsentList is a page of a contact's consent history, newest first.
type ConsentList struct {
	Items      []ConsentEntry `json:"items"`
	NextCursor *string        `json:"next_cursor" extensions:"x-nullable"`
} // @name ConsentList

// listConsent godoc
//
//	@Summary		A contact's marketing consent history, newest first
//	@Description	Every opt-out and opt-in recorded for the contact, each once (Meta's replayed deliveries are not repeated), ordered by when it happened (at), newest first.
//	@Tags			contacts
//	@Produce		json
//	@Param			id		path		string	true	"contact id"
//	@Param			limit	query		int		false	"page size (1-200, default 50)"
//	@Param			cursor	query		string	false	"next_cursor of the previous page"
//	@Success		200		{object}	ConsentList
//	@Failure		401		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/contacts/{id}/consent [get]
func (s *server) listConsent(c echo.Context) error {
	return list[ConsentList](c, func(ctx context.Context, p store.Page) ([]contact.ConsentEntry, *string, error) {
		return s.Contacts.ConsentHistory(ctx, c.Param("id"), p)
	}, toConsentEntry)
}

// recordConsent godoc
//
//	@Summary		Record a contact's opt-out of (or opt-in to) marketing messages
//	@Description	The fact is recorded now with source agent (session user) or api (API key) and becomes the contact's current state. A CSV import sends source csv, an import_key per row and, optionally, at (when the contact chose; the state then follows the latest fact by at): a replay of an import_key already recorded for the contact records nothing and answers 201 with the fact recorded the first time and the header Idempotent-Replayed: true. An opt-out fails the contact's MARKETING template messages not yet sent (scheduled, queued or pending) with error {code: 131050, title: contact_opted_out}; UTILITY and AUTHENTICATION templates and text inside the window still go.
//	@Tags			contacts
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string			true	"contact id"
//	@Param			body	body		ConsentRequest	true	"the fact"
//	@Success		201		{object}	ConsentEntry
//	@Header			201		{string}	Idempotent-Replayed	"true when the import_key was recorded before (nothing changed)"
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		413		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/contacts/{id}/consent [post]
func (s *server) recordConsent(c echo.Context) error {
	var req ConsentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	in, err := req.input(c.Param("id"), store.Now())
	if err != nil {
		return err
	}
	// A session user is recorded with the fact whatever its source; without a source given, the
	// fact is theirs (agent) or the API key's (api).
	if uid := principal(c).UserID; uid != "" {
		in.UserID = &uid
	}
	if in.Source == "" {
		in.Source = contact.SourceAPI
		if in.UserID != nil {
			in.Source = contact.SourceAgent
		}
	}
	rec, err := s.Conversations.RecordConsent(c.Request().Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	if rec.Duplicate {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	return c.JSON(http.StatusCreated, toConsentEntry(rec.Entry))
}

// utcPtr is t in UTC, nil for nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// StartState is what starting a conversation with the contact on the channel would meet.
type StartState struct {
	ChannelID string `json:"channel_id" format:"uuid"`
	// Window is the contact's 24-hour window on the channel (open when the contact wrote there
	// in the last 24 hours, in any conversation): inside it a start may send free text.
	Window Window `json:"window"`
	// OpenConversationID names the conversation already open with the contact on the channel; a
	// start would answer 409 conversation_already_open with it.
	OpenConversationID *string `json:"open_conversation_id" extensions:"x-nullable" format:"uuid"`
} // @name StartState

// startState godoc
//
//	@Summary		What a start with the contact on a channel would meet, before anything is filled
//	@Description	The contact's 24-hour window on the channel (inside it a start may send text instead of a template) and the conversation already open with the contact there, if any (a start would answer 409 conversation_already_open). The SPA shows both at the first step of "Enviar mensagem".
//	@Tags			contacts
//	@Produce		json
//	@Param			id			path		string	true	"contact id"
//	@Param			channel_id	query		string	true	"channel id"
//	@Success		200			{object}	StartState
//	@Failure		401			{object}	Problem
//	@Failure		404			{object}	Problem	"contact_not_found"
//	@Failure		422			{object}	Problem	"channel_id: channel_required, channel_not_found"
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/contacts/{id}/start-state [get]
func (s *server) startState(c echo.Context) error {
	st, err := s.Conversations.StartStateFor(c.Request().Context(), c.Param("id"), c.QueryParam("channel_id"))
	if err != nil {
		return err
	}
	out := StartState{ChannelID: st.ChannelID, Window: Window{Open: st.WindowOpen, ExpiresAt: st.WindowExpiresAt}}
	if st.OpenConversationID != "" {
		out.OpenConversationID = &st.OpenConversationID
	}
	return c.JSON(http.StatusOK, out)
}
