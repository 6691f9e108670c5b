// Package crmhook owns the outgoing webhooks CRMs subscribe to: an admin registers a URL and
// the event kinds it wants; every matching event becomes a delivery row (the outbox), which a
// worker goroutine POSTs, signed with the subscription's secret, retrying with exponential
// backoff. Deliveries and every attempt live in the database, so retries survive restarts and
// the API can show what happened.
package crmhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/event"
	"github.com/atendimento/atendimento/internal/secret"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/worker"
)

// Delivery states.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Config tunes the deliveries. Zero values take the defaults.
type Config struct {
	// AllowPrivate lets subscriptions target loopback, private and link-local addresses
	// (WEBHOOK_ALLOW_PRIVATE=1: tests, and installations whose CRM runs on the private network).
	AllowPrivate bool
	// Workers is how many deliveries are in flight at once (default 8).
	Workers int
	// Timeout bounds one attempt, connection to last byte (default 10 s).
	Timeout time.Duration
	// Lease is how long a claimed delivery is reserved; a crashed instance's claims return after it (default 60 s).
	Lease time.Duration
	// Poll is the safety-net poll when no wake-up arrives (default 5 s, jittered).
	Poll time.Duration
	// BaseDelay is the first retry's delay; attempt n waits BaseDelay·2^(n-1) (default 1 s).
	BaseDelay time.Duration
	// MaxDelay caps the retry delay (default 1 h).
	MaxDelay time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is failed (default 10).
	MaxAttempts int
	// Retention is how long finished (succeeded or failed) deliveries and their attempts are
	// kept (default 30 days); pending ones are kept until they finish.
	Retention time.Duration
	// Observer is told each recorded attempt's result (nil: nobody); the app counts them.
	Observer Observer
}

// The results of a delivery attempt an Observer is told.
const (
	AttemptSucceeded = "succeeded" // the receiver answered 2xx
	AttemptRetried   = "retried"   // it failed; the delivery is attempted again later
	AttemptFailed    = "failed"    // it failed and was the last: the delivery failed for good
)

// Observer is told the result of every recorded delivery attempt; it must not block.
type Observer interface {
	ObserveDelivery(result string)
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 60 * time.Second
	}
	if c.Lease < 2*c.Timeout {
		c.Lease = 2 * c.Timeout
	}
	if c.Poll <= 0 {
		c.Poll = 5 * time.Second
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = time.Second
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = time.Hour
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.Retention <= 0 {
		c.Retention = 30 * 24 * time.Hour
	}
}

// Backoff is the delay after the attempt-th failed attempt (1-based): BaseDelay·2^(attempt-1),
// capped at MaxDelay.
func (c Config) Backoff(attempt int) time.Duration {
	d := c.BaseDelay
	for i := 1; i < attempt && d < c.MaxDelay; i++ {
		d *= 2
	}
	return min(d, c.MaxDelay)
}

// Render returns the JSON of the resource an event names, as the REST API shows it; nil (with
// no error) when the resource is gone and there is nothing to deliver.
type Render func(ctx context.Context, kind, id string) (json.RawMessage, error)

// Service manages subscriptions and delivers their events.
type Service struct {
	cfg      Config
	db       *store.DB
	box      *secret.Box
	render   Render
	log      *slog.Logger
	client   *http.Client
	resolver *net.Resolver
	now      func() time.Time

	w *worker.Worker

	// subs caches each account's subscriptions for SubscriptionsTTL, so events of accounts
	// without webhooks (and the dispatcher's stream of status changes) cost no query.
	subsMu sync.Mutex
	subs   map[string]cachedSubs
}

// SubscriptionsTTL is how long an instance trusts its copy of an account's subscriptions. The
// instance that creates or deletes a subscription forgets its copy at once; others catch up
// within this time.
const SubscriptionsTTL = 2 * time.Second

type cachedSubs struct {
	rows []subRow
	at   time.Time
}

var _ event.Sink = (*Service)(nil)

// New returns the service; Start runs its delivery worker.
func New(cfg Config, db *store.DB, box *secret.Box, render Render, log *slog.Logger) *Service {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, db: db, box: box, render: render, log: log, client: newClient(cfg), resolver: net.DefaultResolver,
		now: store.Now, w: worker.New(nil), subs: map[string]cachedSubs{}}
}

// Config returns the effective configuration (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// Subscription is a CRM's registration: where to POST and which event kinds.
type Subscription struct {
	ID        string
	URL       string
	Events    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Input creates a subscription.
type Input struct {
	URL    *string
	Events *[]string
}

// Errors of the webhook domain.
var (
	ErrNotFound = apperr.NotFound("webhook_subscription_not_found", "no such webhook subscription in this account")
)

type subRow struct {
	ID        string
	AccountID string
	URL       string
	Events    string
	Secret    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (subRow) TableName() string { return "webhook_subscriptions" }

func (r subRow) toSubscription() Subscription {
	var evs []string
	_ = json.Unmarshal([]byte(r.Events), &evs)
	return Subscription{ID: r.ID, URL: r.URL, Events: evs, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func (r subRow) wants(kind string) bool {
	for _, k := range r.toSubscription().Events {
		if k == kind {
			return true
		}
	}
	return false
}

// Create registers a subscription and returns it with its signing secret, which is not shown
// again. Every failing field is reported at once.
func (s *Service) Create(ctx context.Context, in Input) (Subscription, string, error) {
	var f apperr.Fields
	var target string
	if in.URL == nil {
		f.Add("url", "required", "url is required")
	} else if u, fe := checkURL(ctx, *in.URL, s.cfg.AllowPrivate, s.resolver); fe != nil {
		f = append(f, *fe)
	} else {
		target = u
	}
	var kinds []string
	switch {
	case in.Events == nil || len(*in.Events) == 0:
		f.Add("events", "required", "events must list at least one event kind")
	default:
		seen := map[string]bool{}
		for _, k := range *in.Events {
			if !event.ValidKind(k) {
				f.Add("events", "event_invalid", fmt.Sprintf("%q is not an event kind (one of %v)", k, event.Kinds))
				continue
			}
			if !seen[k] {
				seen[k] = true
				kinds = append(kinds, k)
			}
		}
	}
	if err := f.Err(); err != nil {
		return Subscription{}, "", err
	}
	plain := newSecret()
	evs, _ := json.Marshal(kinds)
	now := s.now()
	r := subRow{ID: store.NewID(), AccountID: store.AccountID(ctx), URL: target, Events: string(evs), Secret: s.box.Seal(plain),
		CreatedAt: now, UpdatedAt: now}
	if err := s.db.Tenant(ctx, "webhook_subscriptions").Create(&r).Error; err != nil {
		return Subscription{}, "", store.Translate(err, nil, nil)
	}
	s.forget(r.AccountID)
	return r.toSubscription(), plain, nil
}

// newSecret returns a signing secret: "whsec_" and 32 random bytes, base64url.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b)
}

// List returns a page of the account's subscriptions, newest first.
func (s *Service) List(ctx context.Context, p store.Page) ([]Subscription, *string, error) {
	return store.List(p, s.db.Tenant(ctx, "webhook_subscriptions"), func(r subRow) string { return r.ID }, subRow.toSubscription)
}

// Get returns one of the account's subscriptions.
func (s *Service) Get(ctx context.Context, id string) (Subscription, error) {
	r, err := store.Get[subRow](s.db.Tenant(ctx, "webhook_subscriptions"), id, ErrNotFound)
	return r.toSubscription(), err
}

// Delete removes a subscription with its deliveries; a delivery in flight finishes unrecorded.
func (s *Service) Delete(ctx context.Context, id string) error {
	if !store.ValidID(id) {
		return ErrNotFound
	}
	res := s.db.Tenant(ctx, "webhook_subscriptions").Where("id = ?", id).Delete(&subRow{})
	if res.Error != nil {
		return store.Translate(res.Error, nil, nil)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	s.forget(store.AccountID(ctx))
	return nil
}

func (s *Service) forget(accountID string) {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	delete(s.subs, accountID)
}

// subscriptions returns the account's subscriptions (id and events), from the cache when fresh.
func (s *Service) subscriptions(ctx context.Context, accountID string) ([]subRow, error) {
	now := time.Now()
	s.subsMu.Lock()
	c, ok := s.subs[accountID]
	s.subsMu.Unlock()
	if ok && now.Sub(c.at) < SubscriptionsTTL {
		return c.rows, nil
	}
	var rows []subRow
	if err := s.db.Tenant(ctx, "webhook_subscriptions").Select("id", "events").Find(&rows).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	if len(s.subs) > 10000 {
		clear(s.subs) // bounded memory; the next events refill what is in use
	}
	s.subs[accountID] = cachedSubs{rows: rows, at: now}
	return rows, nil
}

// Envelope is the body of every delivery.
type Envelope struct {
	// ID identifies the event; it is the same in every subscription's delivery of it.
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	AccountID string          `json:"account_id"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

type deliveryRow struct {
	ID             string
	AccountID      string
	SubscriptionID string
	EventID        string
	Event          string
	ResourceID     string
	Body           string
	Status         string
	Attempts       int
	NextAttemptAt  *time.Time
	LeaseUntil     *time.Time
	LastStatusCode *int
	LastError      *string
	DeliveredAt    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (deliveryRow) TableName() string { return "webhook_deliveries" }

// Handle implements event.Sink: it stores one delivery per subscription of the event's account
// that wants its kind, with the resource as it is now, and wakes the worker. It runs on the
// instance that published the event, so each event is enqueued once however many instances run.
func (s *Service) Handle(ctx context.Context, e event.Event) {
	ctx = store.WithAccount(ctx, e.AccountID)
	subs, err := s.subscriptions(ctx, e.AccountID)
	if err != nil {
		s.log.Error("crmhook: read subscriptions", "account_id", e.AccountID, "err", err.Error())
		return
	}
	var targets []string
	for _, r := range subs {
		if r.wants(e.Kind) {
			targets = append(targets, r.ID)
		}
	}
	if len(targets) == 0 {
		return
	}
	data, err := s.render(ctx, e.Kind, e.ID)
	if err != nil || data == nil {
		if err != nil {
			s.log.Error("crmhook: render event", "kind", e.Kind, "id", e.ID, "err", err.Error())
		}
		return
	}
	now := s.now()
	env := Envelope{ID: store.NewID(), Type: e.Kind, AccountID: e.AccountID, CreatedAt: now, Data: data}
	body, err := json.Marshal(env)
	if err != nil {
		s.log.Error("crmhook: encode event", "err", err.Error())
		return
	}
	rows := make([]deliveryRow, len(targets))
	for i, sub := range targets {
		rows[i] = deliveryRow{ID: store.NewID(), AccountID: e.AccountID, SubscriptionID: sub, EventID: env.ID, Event: e.Kind,
			ResourceID: e.ID, Body: string(body), Status: StatusPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}
	}
	if err := s.db.Tenant(ctx, "webhook_deliveries").Create(&rows).Error; err != nil {
		// A subscription deleted meanwhile fails the batch's foreign key: store the others one by one.
		for i := range rows {
			if err := s.db.Tenant(ctx, "webhook_deliveries").Create(&rows[i]).Error; err != nil {
				s.log.Warn("crmhook: enqueue delivery", "subscription_id", rows[i].SubscriptionID, "kind", e.Kind, "id", e.ID, "err", err.Error())
			}
		}
	}
	s.Wake()
}

// Delivery is one event's delivery to one subscription, with every attempt so far.
type Delivery struct {
	ID             string
	SubscriptionID string
	EventID        string
	Event          string
	ResourceID     string
	Status         string
	NextAttemptAt  *time.Time
	DeliveredAt    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Attempts       []Attempt
}

// Attempt is one POST of a delivery: the receiver's status code, or the error when there was
// no response; NextAttemptAt is when the next attempt was scheduled (nil after the last one).
type Attempt struct {
	Attempt       int
	StatusCode    *int
	Error         *string
	Duration      time.Duration
	AttemptedAt   time.Time
	NextAttemptAt *time.Time
}

type attemptRow struct {
	AccountID     string
	DeliveryID    string
	Attempt       int
	StatusCode    *int
	Error         *string
	DurationMs    int64
	AttemptedAt   time.Time
	NextAttemptAt *time.Time
}

func (attemptRow) TableName() string { return "webhook_attempts" }

// Deliveries returns a page of a subscription's deliveries, newest first, each with its attempts.
func (s *Service) Deliveries(ctx context.Context, subscriptionID string, p store.Page) ([]Delivery, *string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.Get(ctx, subscriptionID); err != nil {
		return nil, nil, err
	}
	q := s.db.Tenant(ctx, "webhook_deliveries").Omit("body").Where("subscription_id = ?", subscriptionID)
	rows, next, err := store.FetchPage(p, q, func(r deliveryRow) string { return r.ID })
	if err != nil {
		return nil, nil, err
	}
	out, err := s.withAttempts(ctx, rows)
	if err != nil {
		return nil, nil, err
	}
	return out, next, nil
}

// withAttempts maps delivery rows to Deliveries with every attempt of each.
func (s *Service) withAttempts(ctx context.Context, rows []deliveryRow) ([]Delivery, error) {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	byDelivery := map[string][]Attempt{}
	if len(ids) > 0 {
		var atts []attemptRow
		if err := s.db.Tenant(ctx, "webhook_attempts").Where("delivery_id IN ?", ids).Order("attempt").Find(&atts).Error; err != nil {
			return nil, store.Translate(err, nil, nil)
		}
		for _, a := range atts {
			byDelivery[a.DeliveryID] = append(byDelivery[a.DeliveryID], Attempt{Attempt: a.Attempt, StatusCode: a.StatusCode, Error: a.Error,
				Duration: time.Duration(a.DurationMs) * time.Millisecond, AttemptedAt: a.AttemptedAt.UTC(), NextAttemptAt: utc(a.NextAttemptAt)})
		}
	}
	out := make([]Delivery, len(rows))
	for i, r := range rows {
		d := Delivery{ID: r.ID, SubscriptionID: r.SubscriptionID, EventID: r.EventID, Event: r.Event, ResourceID: r.ResourceID,
			Status: r.Status, DeliveredAt: utc(r.DeliveredAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
			Attempts: byDelivery[r.ID]}
		if r.Status == StatusPending {
			d.NextAttemptAt = utc(r.NextAttemptAt)
		}
		if d.Attempts == nil {
			d.Attempts = []Attempt{}
		}
		out[i] = d
	}
	return out, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Errors of redelivery.
var (
	ErrDeliveryNotFound  = apperr.NotFound("webhook_delivery_not_found", "no such delivery for this webhook subscription")
	ErrDeliveryNotFailed = apperr.Conflict("webhook_delivery_not_failed", "only a failed delivery can be sent again; a pending one is still being retried")
)

// Redeliver queues a failed delivery for one more attempt, made by the delivery worker (never
// inline, so a slow CRM cannot hold the admin's request): the same body, signature scheme and
// X-Atendimento-Delivery id, the next attempt number. If that attempt fails too, the delivery is
// failed again and may be redelivered again. It returns the delivery as it is now (pending).
func (s *Service) Redeliver(ctx context.Context, subscriptionID, deliveryID string) (Delivery, error) {
	if _, err := s.Get(ctx, subscriptionID); err != nil {
		return Delivery{}, err
	}
	if !store.ValidID(deliveryID) {
		return Delivery{}, ErrDeliveryNotFound
	}
	now := s.now()
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		q := func() *gorm.DB {
			return s.db.Tenant(ctx, "webhook_deliveries").Where("id = ? AND subscription_id = ?", deliveryID, subscriptionID)
		}
		var rows []deliveryRow
		if err := q().Omit("body").Limit(1).Find(&rows).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		if len(rows) == 0 {
			return ErrDeliveryNotFound
		}
		res := q().Where("status = ?", StatusFailed).Updates(map[string]any{"status": StatusPending, "next_attempt_at": now, "lease_until": nil, "updated_at": now})
		if res.Error != nil {
			return store.Translate(res.Error, nil, nil)
		}
		if res.RowsAffected == 0 {
			return ErrDeliveryNotFailed
		}
		store.AfterCommit(ctx, func(context.Context) { s.Wake() })
		return nil
	})
	if err != nil {
		return Delivery{}, err
	}
	return s.delivery(ctx, subscriptionID, deliveryID)
}

// delivery returns one delivery of the subscription with its attempts.
func (s *Service) delivery(ctx context.Context, subscriptionID, deliveryID string) (Delivery, error) {
	r, err := store.Get[deliveryRow](s.db.Tenant(ctx, "webhook_deliveries").Omit("body").Where("subscription_id = ?", subscriptionID), deliveryID, ErrDeliveryNotFound)
	if err != nil {
		return Delivery{}, err
	}
	out, err := s.withAttempts(ctx, []deliveryRow{r})
	if err != nil {
		return Delivery{}, err
	}
	return out[0], nil
}
