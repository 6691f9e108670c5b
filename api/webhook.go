package api

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/logctx"
	"github.com/atendimento/atendimento/internal/phone"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/webhook"
	"github.com/atendimento/atendimento/internal/whatsapp"
)

// MaxWebhookBody is the largest webhook body accepted (Meta batches up to 3 MB).
const MaxWebhookBody = 4 << 20

// WebhookAck is the answer to a processed webhook delivery.
type WebhookAck struct {
	Status     string `json:"status" example:"ok"`
	Messages   int    `json:"messages"`
	Duplicates int    `json:"duplicates"`
	Statuses   int    `json:"statuses"`
	// Templates counts template status, quality and category updates applied.
	Templates int `json:"templates"`
	// Preferences counts user_preferences items (marketing stop/resume) recorded.
	Preferences int `json:"preferences"`
} // @name WebhookAck

// verifyWebhook godoc
//
//	@Summary	Meta's webhook verification handshake
//	@Tags		webhooks
//	@Produce	plain
//	@Param		channel_id			path		string	true	"channel id"
//	@Param		hub.mode			query		string	true	"subscribe"
//	@Param		hub.verify_token	query		string	true	"the channel's verify token"
//	@Param		hub.challenge		query		string	true	"echoed back"
//	@Success	200					{string}	string	"the challenge"
//	@Failure	403					{object}	Problem
//	@Failure	404					{object}	Problem
//	@Router		/webhooks/whatsapp/{channel_id} [get]
func (s *server) verifyWebhook(c echo.Context) error {
	ch, sec, err := s.Channels.ForWebhook(c.Request().Context(), c.Param("channel_id"))
	if err != nil {
		return err
	}
	challenge, ok := whatsapp.VerifyChallenge(c.QueryParams(), sec.VerifyToken)
	if !ok || ch.Provider != channel.ProviderWhatsAppCloud {
		return apperr.New(apperr.KindForbidden, "verify_token_mismatch", "the verify token does not match the channel's")
	}
	return c.String(http.StatusOK, challenge)
}

// receiveWebhook godoc
//
//	@Summary		Meta's signed webhook deliveries (messages, statuses, template status, quality and category updates, marketing preferences)
//	@Description	Verified with X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the channel's app secret). Idempotent: Meta's retries and duplicates have one effect.
//	@Tags			webhooks
//	@Accept			json
//	@Produce		json
//	@Param			channel_id			path		string	true	"channel id"
//	@Param			X-Hub-Signature-256	header		string	true	"sha256=<hex>"
//	@Param			body				body		object	true	"Meta's notification"
//	@Success		200					{object}	WebhookAck
//	@Failure		400					{object}	Problem
//	@Failure		401					{object}	Problem
//	@Failure		404					{object}	Problem
//	@Failure		413					{object}	Problem
//	@Router			/webhooks/whatsapp/{channel_id} [post]
func (s *server) receiveWebhook(c echo.Context) error {
	ctx := c.Request().Context()
	m := s.webhookMetrics
	ch, sec, err := s.Channels.ForWebhook(ctx, c.Param("channel_id"))
	if err != nil {
		if errors.Is(err, channel.ErrNotFound) {
			m.rejected.WithLabelValues("unknown", rejectChannel).Inc()
		}
		return err
	}
	logctx.Add(ctx, slog.String("channel_id", ch.ID))
	m.received.WithLabelValues(ch.ID).Inc()
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, MaxWebhookBody+1))
	if err != nil {
		m.rejected.WithLabelValues(ch.ID, rejectPayload).Inc()
		return apperr.New(apperr.KindBadRequest, "body_unreadable", "the body could not be read")
	}
	if len(body) > MaxWebhookBody {
		m.rejected.WithLabelValues(ch.ID, rejectPayload).Inc()
		return apperr.New(apperr.KindTooLarge, "body_too_large", "the body is larger than 4 MiB")
	}
	if ch.Provider != channel.ProviderWhatsAppCloud || !whatsapp.VerifySignature(body, c.Request().Header.Get(whatsapp.SignatureHeader), sec.AppSecret) {
		m.rejected.WithLabelValues(ch.ID, rejectSignature).Inc()
		return apperr.New(apperr.KindUnauthorized, "signature_invalid", "missing or wrong X-Hub-Signature-256")
	}
	// Signed by Meta: the channel's webhook is alive, whatever the body turns out to hold.
	m.lastReceived.WithLabelValues(ch.ID).SetToCurrentTime()
	err = s.process(c, ch, body)
	if ae, ok := apperr.As(err); ok && ae.Code == "malformed_json" {
		m.rejected.WithLabelValues(ch.ID, rejectPayload).Inc()
	}
	return err
}

func (s *server) process(c echo.Context, ch channel.Channel, body []byte) error {
	if at := nulEscapes(body); len(at) > 0 {
		// A NUL in a contact's text or name cannot be stored (PostgreSQL refuses it); keep the
		// message with U+FFFD in its place rather than refuse what Meta would retry for days.
		body = bytes.Clone(body)
		for _, i := range at {
			copy(body[i:], `\ufffd`)
		}
	}
	n, err := whatsapp.ParseWebhook(body)
	if err != nil {
		if errors.Is(err, whatsapp.ErrMalformed) {
			return apperr.New(apperr.KindBadRequest, "malformed_json", "the body is not a webhook notification")
		}
		return err
	}
	sum, err := s.Webhooks.Process(c.Request().Context(), ch, n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, WebhookAck{Status: "ok", Messages: sum.Messages, Duplicates: sum.Duplicates, Statuses: sum.Statuses, Templates: sum.Templates, Preferences: sum.Preferences})
}

// SandboxInboundRequest simulates a contact's message on a sandbox channel.
type SandboxInboundRequest struct {
	From string `json:"from" validate:"required,max=40" example:"11 98765-4321"`
	// Text is the message; with media_id, the file's caption (optional).
	Text string `json:"text" validate:"required_without=MediaID,max=4096" example:"Oi! Pode falar sim."`
	// MediaID (from POST /media) makes the contact send that file, ready at once.
	MediaID *string `json:"media_id" format:"uuid"`
	// Caption goes with the file (text is taken as the caption too).
	Caption *string `json:"caption" validate:"omitempty,max=1024"`
	Name    string  `json:"name" validate:"max=200" example:"João"`
} // @name SandboxInboundRequest

// sandboxInbound godoc
//
//	@Summary		Simulate a contact's reply on a sandbox channel
//	@Description	Builds the body Meta would post and runs it through the webhook's own path: the window opens and queued messages are released. With media_id (from POST /media) the contact sends that file (with caption), recorded ready at once; a media_id the account lacks → 422 media_not_found.
//	@Tags			sandbox
//	@Accept			json
//	@Produce		json
//	@Param			id		path		string					true	"sandbox channel id"
//	@Param			body	body		SandboxInboundRequest	true	"the message"
//	@Success		200		{object}	WebhookAck
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
//	@Router			/api/v1/sandbox/channels/{id}/inbound [post]
func (s *server) sandboxInbound(c echo.Context) error {
	var req SandboxInboundRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ch, err := s.Channels.Get(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if ch.Provider != channel.ProviderSandbox {
		return apperr.Conflict("channel_not_sandbox", "only sandbox channels accept simulated messages")
	}
	n, err := phone.Parse(req.From, "BR")
	if err != nil {
		return apperr.Invalid(apperr.FieldError{Field: "from", Code: "phone_invalid", Message: "from is not a valid number"})
	}
	ch.AccountID = store.AccountID(ctx)
	if req.MediaID != nil {
		m, err := s.Media.Get(ctx, *req.MediaID)
		if err != nil {
			return apperr.Invalid(apperr.FieldError{Field: "media_id", Code: "media_not_found", Message: "media_id is not a file of this account"})
		}
		caption := req.Text
		if req.Caption != nil {
			caption = *req.Caption
		}
		return s.process(c, ch, webhook.SandboxMediaBody(ch, n.Digits(), strings.TrimSpace(req.Name), caption, string(m.Kind), m.ID, time.Now()))
	}
	return s.process(c, ch, webhook.SandboxBody(ch, n.Digits(), strings.TrimSpace(req.Name), req.Text, time.Now()))
}
