package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

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
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
} // @name Contact

func toContact(c contact.Contact) ContactResponse {
	out := ContactResponse{ID: c.ID, Name: c.Name, Phone: c.Phone, Email: c.Email, Attributes: c.Attributes, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
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
	return deleted(c, s.Contacts.Delete)
}
