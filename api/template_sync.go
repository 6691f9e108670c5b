package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/apperr"
)

// TemplateSyncResponse is what a template sync did, with the channel's templates as Meta lists them.
type TemplateSyncResponse struct {
	// Synced is how many templates Meta listed for the channel.
	Synced int `json:"synced" example:"12"`
	// Created counts templates new to the channel.
	Created int `json:"created" example:"2"`
	// Updated counts templates whose status, category, components or Meta id changed.
	Updated int `json:"updated" example:"1"`
	// Unchanged counts templates already stored as Meta has them.
	Unchanged int `json:"unchanged" example:"9"`
	// Disabled counts templates synced before that Meta no longer lists (deleted at Meta): they are now DISABLED.
	Disabled int `json:"disabled" example:"0"`
	// Failed counts templates Meta listed that cannot be stored (unreadable components); Failures says why, and
	// the other templates synced regardless.
	Failed    int                   `json:"failed" example:"0"`
	Failures  []TemplateSyncFailure `json:"failures"`
	Templates []TemplateResponse    `json:"templates"`
} // @name TemplateSyncResult

// TemplateSyncFailure is a template Meta listed that could not be stored.
type TemplateSyncFailure struct {
	Name     string              `json:"name" example:"catalogo_carrossel"`
	Language string              `json:"language" example:"pt_BR"`
	Errors   []apperr.FieldError `json:"errors"`
} // @name TemplateSyncFailure

// syncTemplates godoc
//
//	@Summary		Pull a channel's templates from WhatsApp (admin)
//	@Description	Lists the message templates of the channel's WhatsApp Business Account at Meta (every page) and upserts them by name and language. A template that cannot be stored (components that are not an array of template components) is counted in failed and listed in failures with its errors; the others sync regardless. Meta's statuses outside APPROVED, PENDING, REJECTED, PAUSED and DISABLED are stored as PENDING (IN_APPEAL) or DISABLED (PENDING_DELETION, DELETED, ARCHIVED, LIMIT_EXCEEDED…). Templates synced before that Meta no longer lists become DISABLED. A sandbox channel → 409 channel_not_syncable; a failure at Meta → 502 provider_error with Meta's code and title in detail.
//	@Tags			templates
//	@Produce		json
//	@Param			id	path		string	true	"channel id"
//	@Success		200	{object}	TemplateSyncResponse
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		404	{object}	Problem
//	@Failure		409	{object}	Problem
//	@Failure		502	{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/channels/{id}/templates/sync [post]
func (s *server) syncTemplates(c echo.Context) error {
	res, err := s.TemplateSync.Sync(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	out := TemplateSyncResponse{Synced: len(res.Templates), Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged,
		Disabled: res.Disabled, Failed: len(res.Failed), Failures: make([]TemplateSyncFailure, len(res.Failed)),
		Templates: make([]TemplateResponse, len(res.Templates))}
	for i, f := range res.Failed {
		out.Failures[i] = TemplateSyncFailure{Name: f.Name, Language: f.Language, Errors: f.Errors}
	}
	for i, t := range res.Templates {
		out.Templates[i] = toTemplate(t)
	}
	return c.JSON(http.StatusOK, out)
}
