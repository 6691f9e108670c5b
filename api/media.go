package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/logctx"
	"github.com/atendimento/atendimento/internal/media"
)

// MediaResponse is a file of the account.
type MediaResponse struct {
	ID       string `json:"id" format:"uuid"`
	Kind     string `json:"kind" enums:"image,audio,video,document,sticker"`
	MimeType string `json:"mime_type" example:"application/pdf"`
	Size     int64  `json:"size" example:"48213"`
	SHA256   string `json:"sha256" example:"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"`
	Filename string `json:"filename" example:"boleto.pdf"`
} // @name Media

func toMediaResponse(m media.Media) MediaResponse {
	return MediaResponse{ID: m.ID, Kind: string(m.Kind), MimeType: m.MimeType, Size: m.Size, SHA256: m.SHA256, Filename: m.Filename}
}

// MessageMedia is the file a message carries.
type MessageMedia struct {
	ID       string `json:"id" format:"uuid"`
	Kind     string `json:"kind" enums:"image,audio,video,document,sticker"`
	MimeType string `json:"mime_type" example:"audio/ogg"`
	Size     int64  `json:"size"`
	Filename string `json:"filename"`
	Caption  string `json:"caption"`
	// Voice is a voice note (recorded in WhatsApp), not an audio file.
	Voice bool `json:"voice"`
	// Status is pending while an inbound file is fetched from WhatsApp, then ready or failed.
	Status string `json:"status" enums:"pending,ready,failed"`
	// Failure says why the fetch failed (status failed), else "".
	Failure string `json:"failure,omitempty"`
} // @name MessageMedia

// HeaderMediaRequest is the file of a template's IMAGE, VIDEO or DOCUMENT header: an uploaded
// media id, or a public https link.
type HeaderMediaRequest struct {
	MediaID *string `json:"media_id" format:"uuid"`
	Link    *string `json:"link" example:"https://example.com/boleto.pdf"`
} // @name HeaderMedia

// uploadMedia godoc
//
//	@Summary		Upload a file to send
//	@Description	Multipart field file (and optionally filename). The kind is judged from the bytes, not the client's claim or name. Over WhatsApp's limit for the kind (image 5 MB, audio and video 16 MB, document 100 MB, sticker 100 KB static / 500 KB animated) → 413 media_too_large; a type WhatsApp does not take (HTML, SVG, scripts, archives…) → 415 media_type_unsupported. Uploads are content-addressed: the same bytes with the same filename, uploaded again in the account, return the media uploaded first (same id); under another name they are a media of their own, sharing the stored bytes.
//	@Tags			media
//	@Accept			multipart/form-data
//	@Produce		json
//	@Param			file		formData	file	true	"the file"
//	@Param			filename	formData	string	false	"the name to show and send (default: the part's file name)"
//	@Success		201			{object}	MediaResponse
//	@Failure		400			{object}	Problem
//	@Failure		401			{object}	Problem
//	@Failure		403			{object}	Problem
//	@Failure		413			{object}	Problem
//	@Failure		415			{object}	Problem
//	@Failure		422			{object}	Problem
//	@Failure		503			{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/media [post]
func (s *server) uploadMedia(c echo.Context) error {
	ctx := c.Request().Context()
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return apperr.New(apperr.KindUnsupportedMedia, "unsupported_media_type", "the body must be multipart/form-data with a file field")
	}
	var uploaded *media.Media
	var filename string
	// The parts are read as they come: the file is streamed to the spool, never held whole.
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bodyError(err)
		}
		switch p.FormName() {
		case "file":
			if uploaded != nil {
				return apperr.Invalid(apperr.FieldError{Field: "file", Code: "media_file_repeated", Message: "send one file per request"})
			}
			m, err := s.Media.Upload(ctx, userIDPtr(c), p, firstNonEmpty(filename, p.FileName()))
			if err != nil {
				return bodyError(err)
			}
			uploaded = &m
		case "filename":
			b, err := io.ReadAll(io.LimitReader(p, 1024))
			if err != nil {
				return bodyError(err)
			}
			filename = strings.TrimSpace(string(b))
			if uploaded != nil && filename != "" {
				m, err := s.Media.Named(ctx, *uploaded, filename)
				if err != nil {
					return err
				}
				uploaded = &m
			}
		}
		p.Close()
	}
	if uploaded == nil {
		return apperr.Invalid(apperr.FieldError{Field: "file", Code: "media_file_required", Message: "the file field is required"})
	}
	logctx.Add(ctx, slog.String("media_id", uploaded.ID))
	return c.JSON(http.StatusCreated, toMediaResponse(*uploaded))
}

// bodyError turns a body cut off by the upload cap into 413 media_too_large.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apperr.New(apperr.KindTooLarge, "media_too_large", "the file is larger than WhatsApp takes (100 MB)")
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	return apperr.New(apperr.KindBadRequest, "body_invalid", "the multipart body could not be read")
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// getMedia godoc
//
//	@Summary		A file's bytes
//	@Description	To callers who may see a conversation whose messages carry it (its uploader, admins and API keys while no message does). Supports Range (206) and If-None-Match (ETag is the sha256); cached privately for a year (the bytes of an id never change). Documents and any type a browser could run are sent as attachments. A file still being fetched from WhatsApp → 409 media_not_ready.
//	@Tags			media
//	@Produce		*/*
//	@Param			id	path		string	true	"media id"
//	@Success		200	{file}		binary
//	@Success		206	{file}		binary
//	@Failure		401	{object}	Problem
//	@Failure		404	{object}	Problem
//	@Failure		409	{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/media/{id} [get]
func (s *server) getMedia(c echo.Context) error {
	ctx := c.Request().Context()
	m, err := s.Media.Get(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.Conversations.CanSeeMedia(ctx, actor(c), m.ID, m.CreatedBy); err != nil {
		return err
	}
	m, body, err := s.Media.Open(ctx, m.ID)
	if err != nil {
		return err
	}
	defer body.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, m.MimeType)
	h.Set("ETag", `"`+m.SHA256+`"`)
	h.Set(echo.HeaderCacheControl, "private, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	disposition := "inline"
	if !media.Inline(m.Kind, m.MimeType) {
		disposition = "attachment"
	}
	if m.Filename != "" {
		disposition = mime.FormatMediaType(disposition, map[string]string{"filename": m.Filename})
	}
	h.Set("Content-Disposition", disposition)
	http.ServeContent(c.Response(), c.Request(), "", m.CreatedAt, body)
	return nil
}

// toMessageMedia is the media object of a message.
func toMessageMedia(m media.Media, caption string) *MessageMedia {
	return &MessageMedia{ID: m.ID, Kind: string(m.Kind), MimeType: m.MimeType, Size: m.Size, Filename: m.Filename, Caption: caption,
		Voice: m.Voice, Status: string(m.Status), Failure: m.Failure}
}

// messagesWithMedia renders messages with the media objects of those that carry a file (one
// query for the page). A nil service (no media configured) leaves them out.
func messagesWithMedia(ctx context.Context, ms *media.Service, msgs []conversation.Message) ([]MessageResponse, error) {
	if ms == nil {
		out := make([]MessageResponse, len(msgs))
		for i, m := range msgs {
			out[i] = toMessage(m)
		}
		return out, nil
	}
	var ids []string
	for _, m := range msgs {
		if m.MediaID != nil {
			ids = append(ids, *m.MediaID)
		}
	}
	byID, err := ms.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]MessageResponse, len(msgs))
	for i, m := range msgs {
		out[i] = toMessage(m)
		if m.MediaID != nil {
			if md, ok := byID[*m.MediaID]; ok {
				out[i].Media = toMessageMedia(md, m.Text)
			}
		}
	}
	return out, nil
}

// userIDPtr is the session user's id, nil for an API key.
func userIDPtr(c echo.Context) *string {
	if id := principal(c).UserID; id != "" {
		return &id
	}
	return nil
}

func (r *HeaderMediaRequest) input() *conversation.HeaderMedia {
	if r == nil {
		return nil
	}
	return &conversation.HeaderMedia{MediaID: r.MediaID, Link: r.Link}
}
