package api

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atendimento/atendimento/internal/crmhook"
	"github.com/atendimento/atendimento/internal/store"
)

// WebhookSubscriptionRequest registers a CRM's webhook: where to POST and which event kinds.
type WebhookSubscriptionRequest struct {
	URL    *string   `json:"url" example:"https://crm.example.com/hooks/atendimento"`
	Events *[]string `json:"events" example:"conversation.created,message.updated"`
} // @name WebhookSubscriptionRequest

func (r WebhookSubscriptionRequest) input() crmhook.Input {
	return crmhook.Input{URL: r.URL, Events: r.Events}
}

// WebhookSubscriptionResponse is a webhook subscription; secret, the key of the deliveries'
// X-Atendimento-Signature (sha256=<hex HMAC-SHA256 of the body>), is present only in the
// response that creates it.
type WebhookSubscriptionResponse struct {
	ID        string    `json:"id" format:"uuid"`
	URL       string    `json:"url" example:"https://crm.example.com/hooks/atendimento"`
	Events    []string  `json:"events" example:"conversation.created,message.updated"`
	Secret    *string   `json:"secret,omitempty" example:"whsec_4fJ0…"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
} // @name WebhookSubscription

func toWebhookSubscription(s crmhook.Subscription) WebhookSubscriptionResponse {
	return WebhookSubscriptionResponse{ID: s.ID, URL: s.URL, Events: s.Events, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// reveal puts the signing secret in the answer that creates the subscription, the only one that
// holds it.
func (r *WebhookSubscriptionResponse) reveal(secret string) { r.Secret = &secret }

// WebhookSubscriptionList is a page of webhook subscriptions.
type WebhookSubscriptionList struct {
	Items      []WebhookSubscriptionResponse `json:"items"`
	NextCursor *string                       `json:"next_cursor" extensions:"x-nullable"`
} // @name WebhookSubscriptionList

// WebhookAttemptResponse is one POST of a delivery: the receiver's status code, or the error
// when there was no answer or it was not 2xx, and when the next attempt was scheduled.
type WebhookAttemptResponse struct {
	Attempt       int        `json:"attempt" example:"1"`
	StatusCode    *int       `json:"status_code" example:"500" extensions:"x-nullable"`
	Error         *string    `json:"error" example:"HTTP 500" extensions:"x-nullable"`
	DurationMs    int64      `json:"duration_ms" example:"42"`
	AttemptedAt   time.Time  `json:"attempted_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at" extensions:"x-nullable"`
} // @name WebhookAttempt

// WebhookDeliveryResponse is one event's delivery to a subscription, with its attempts in order.
// A pending delivery is retried with exponential backoff (1 s·2^n, at most 1 h) up to 10
// attempts, then failed.
type WebhookDeliveryResponse struct {
	ID             string                   `json:"id" format:"uuid"`
	SubscriptionID string                   `json:"subscription_id" format:"uuid"`
	EventID        string                   `json:"event_id" format:"uuid"`
	Event          string                   `json:"event" example:"message.updated"`
	ResourceID     string                   `json:"resource_id" format:"uuid"`
	Status         string                   `json:"status" enums:"pending,succeeded,failed"`
	NextAttemptAt  *time.Time               `json:"next_attempt_at" extensions:"x-nullable"`
	DeliveredAt    *time.Time               `json:"delivered_at" extensions:"x-nullable"`
	Attempts       []WebhookAttemptResponse `json:"attempts"`
	CreatedAt      time.Time                `json:"created_at"`
	UpdatedAt      time.Time                `json:"updated_at"`
} // @name WebhookDelivery

func toWebhookDelivery(d crmhook.Delivery) WebhookDeliveryResponse {
	out := WebhookDeliveryResponse{ID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID, Event: d.Event, ResourceID: d.ResourceID,
		Status: d.Status, NextAttemptAt: d.NextAttemptAt, DeliveredAt: d.DeliveredAt, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		Attempts: make([]WebhookAttemptResponse, len(d.Attempts))}
	for i, a := range d.Attempts {
		out.Attempts[i] = WebhookAttemptResponse{Attempt: a.Attempt, StatusCode: a.StatusCode, Error: a.Error,
			DurationMs: a.Duration.Milliseconds(), AttemptedAt: a.AttemptedAt, NextAttemptAt: a.NextAttemptAt}
	}
	return out
}

// WebhookDeliveryList is a page of deliveries, newest first.
type WebhookDeliveryList struct {
	Items      []WebhookDeliveryResponse `json:"items"`
	NextCursor *string                   `json:"next_cursor" extensions:"x-nullable"`
} // @name WebhookDeliveryList

// listWebhookSubscriptions godoc
//
//	@Summary	List webhook subscriptions (admin)
//	@Tags		webhook-subscriptions
//	@Produce	json
//	@Param		limit	query		int		false	"page size (1-200, default 50)"
//	@Param		cursor	query		string	false	"next_cursor of the previous page"
//	@Success	200		{object}	WebhookSubscriptionList
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/webhook-subscriptions [get]
func (s *server) listWebhookSubscriptions(c echo.Context) error {
	return list[WebhookSubscriptionList](c, s.CRMHooks.List, toWebhookSubscription)
}

// createWebhookSubscription godoc
//
//	@Summary		Register a webhook for a CRM (admin); the signing secret is shown only in this response
//	@Description	The url must be http or https (422 url_invalid); loopback, private and link-local targets are refused (422 url_not_allowed) unless the server sets WEBHOOK_ALLOW_PRIVATE=1, and are checked again when each delivery connects. events lists the kinds to receive: conversation.created, conversation.updated, conversation.waiting_expired (no reply within WAITING_TIMEOUT), conversation.assigned, conversation.transferred, conversation.closed, conversation.reopened, message.created, message.updated, template.updated. Internal notes are never delivered (nor shown as a conversation's last_message). Each delivery is a POST of {id, type, account_id, created_at, data} (data: the resource as the REST API returns it; for template.updated, sent when Meta changes a template's quality rating or category, the Template of GET /templates/{id}) with the headers X-Atendimento-Event, X-Atendimento-Delivery (the delivery id, stable across retries), X-Atendimento-Attempt and X-Atendimento-Signature: sha256=<hex HMAC-SHA256 of the body keyed with the secret>. Any 2xx is success; anything else is retried.
//	@Tags			webhook-subscriptions
//	@Accept			json
//	@Produce		json
//	@Param			body	body		WebhookSubscriptionRequest	true	"the subscription"
//	@Success		201		{object}	WebhookSubscriptionResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		413		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Security		BearerAuth
//	@Security		SessionCookie
//	@Router			/api/v1/webhook-subscriptions [post]
func (s *server) createWebhookSubscription(c echo.Context) error {
	return createdWithSecret[WebhookSubscriptionRequest](c, s.CRMHooks.Create, toWebhookSubscription)
}

// deleteWebhookSubscription godoc
//
//	@Summary	Delete a webhook subscription and its deliveries (admin)
//	@Tags		webhook-subscriptions
//	@Param		id	path	string	true	"subscription id"
//	@Success	204
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/webhook-subscriptions/{id} [delete]
func (s *server) deleteWebhookSubscription(c echo.Context) error {
	return deleted(c, s.CRMHooks.Delete)
}

// listWebhookDeliveries godoc
//
//	@Summary	A webhook subscription's deliveries and their attempts, newest first (admin)
//	@Tags		webhook-subscriptions
//	@Produce	json
//	@Param		id		path		string	true	"subscription id"
//	@Param		limit	query		int		false	"page size (1-200, default 50)"
//	@Param		cursor	query		string	false	"next_cursor of the previous page"
//	@Success	200		{object}	WebhookDeliveryList
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	404		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Security	BearerAuth
//	@Security	SessionCookie
//	@Router		/api/v1/webhook-subscriptions/{id}/deliveries [get]
func (s *server) listWebhookDeliveries(c echo.Context) error {
	return list[WebhookDeliveryList](c, func(ctx context.Context, p store.Page) ([]crmhook.Delivery, *string, error) {
		return s.CRMHooks.Deliveries(ctx, c.Param("id"), p)
	}, toWebhookDelivery)
}
