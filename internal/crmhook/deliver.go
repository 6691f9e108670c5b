package crmhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/worker"
)

// The headers of every delivery.
const (
	SignatureHeader = "X-Atendimento-Signature"
	EventHeader     = "X-Atendimento-Event"
	DeliveryHeader  = "X-Atendimento-Delivery"
	AttemptHeader   = "X-Atendimento-Attempt"
)

// Sign returns the signature header's value for body: "sha256=" and the hex HMAC-SHA256 of the
// exact bytes sent, keyed with the subscription's secret (the whole "whsec_…" string).
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is body's signature under secret, in constant time. Receivers
// written in Go may use it; it documents the check every receiver must make.
func Verify(body []byte, secret, header string) bool {
	return hmac.Equal([]byte(Sign(body, secret)), []byte(header))
}

// newClient is the deliveries' HTTP client: bounded at every step, no proxy (the target
// address is what the SSRF check vets), no redirects (a 3xx is a failed attempt), and unless
// private targets are allowed, a dialer that refuses private addresses after resolution.
func newClient(cfg Config) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		d.Control = dialControl
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Wake asks the worker to claim now (deliveries were enqueued). It never blocks, and wake-ups
// while it is busy make one more claim.
func (s *Service) Wake() { s.w.Wake() }

// Start runs the delivery worker until Stop or the end of ctx; a second Start does nothing.
func (s *Service) Start(ctx context.Context) { s.w.Start(ctx, s.loop) }

// Stop ends the worker and waits for its attempts to return. Attempts in flight are abandoned
// unrecorded; their lease expires and they are attempted again (receivers deduplicate by the
// X-Atendimento-Delivery id).
func (s *Service) Stop() { s.w.Stop() }

func (s *Service) loop(ctx context.Context) {
	finished := make(chan struct{}, s.cfg.Workers)
	inFlight := 0
	var swept time.Time
	defer func() {
		for ; inFlight > 0; inFlight-- {
			<-finished
		}
	}()
	for {
		if ctx.Err() != nil {
			return
		}
		if time.Since(swept) > time.Hour {
			swept = time.Now()
			if n, err := s.Sweep(ctx); err != nil {
				s.log.Error("crmhook: sweep finished deliveries", "err", err.Error())
			} else if n > 0 {
				s.log.Info("crmhook: swept finished deliveries", "deleted", n)
			}
		}
		if inFlight < s.cfg.Workers {
			items, err := s.claim(context.WithoutCancel(ctx), s.cfg.Workers-inFlight)
			if err != nil {
				s.log.Error("crmhook: claim failed", "err", err.Error())
			}
			for _, it := range items {
				inFlight++
				go func() {
					defer func() { finished <- struct{}{} }()
					s.attempt(ctx, it)
				}()
			}
			if len(items) > 0 && err == nil {
				continue
			}
		}
		wait := worker.Jitter(s.cfg.Poll/2, s.cfg.Poll)
		if inFlight < s.cfg.Workers {
			if next, err := s.nextDue(ctx); err == nil && next != nil {
				wait = min(wait, max(time.Until(*next), 10*time.Millisecond))
			}
		}
		// Worker.Sleep would not hear a finished attempt, which frees a slot to claim into.
		t := s.w.Clock().NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-s.w.Woken():
		case <-finished:
			inFlight--
		case <-t.C():
		}
		t.Stop()
	}
}

type claimed struct {
	ID, AccountID, SubscriptionID, Event, Body, URL, Secret string
	Attempts                                                int
}

// claimSQL leases due pending deliveries; an expired lease (a crashed instance) is claimable
// again. Postgres skips rows another instance is claiming; SQLite has a single writer.
const claimSQL = `UPDATE webhook_deliveries SET lease_until = ?
WHERE id IN (
  SELECT id FROM webhook_deliveries
  WHERE status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)
  ORDER BY next_attempt_at
  LIMIT ? %s)
RETURNING id`

func (s *Service) claim(ctx context.Context, limit int) ([]claimed, error) {
	now := s.now()
	lock := ""
	if s.db.Dialect() == store.Postgres {
		lock = "FOR UPDATE SKIP LOCKED"
	}
	var ids []string
	if err := s.db.Conn(ctx).Raw(fmt.Sprintf(claimSQL, lock), now.Add(s.cfg.Lease), now, now, limit).Scan(&ids).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []claimed
	err := s.db.Conn(ctx).Table("webhook_deliveries d").
		Select("d.id, d.account_id, d.subscription_id, d.event, d.body, d.attempts, s.url, s.secret").
		Joins("JOIN webhook_subscriptions s ON s.id = d.subscription_id").
		Where("d.id IN ?", ids).Order("d.next_attempt_at").Scan(&rows).Error
	return rows, store.Translate(err, nil, nil)
}

// Sweep deletes finished deliveries (with their attempts) created before the retention period,
// in batches; it returns how many it deleted. The worker runs it hourly. Ids are UUIDv7, so
// "created before" is an id range on the primary key.
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	cutoff := idAt(s.now().Add(-s.cfg.Retention))
	var total int64
	for ctx.Err() == nil {
		res := s.db.Conn(ctx).Exec(`DELETE FROM webhook_deliveries WHERE id IN (
  SELECT id FROM webhook_deliveries WHERE id < ? AND status IN ('succeeded', 'failed') ORDER BY id LIMIT 1000)`, cutoff)
		if res.Error != nil {
			return total, store.Translate(res.Error, nil, nil)
		}
		total += res.RowsAffected
		if res.RowsAffected < 1000 {
			break
		}
	}
	return total, nil
}

// idAt is the smallest UUIDv7 of instant t: every id made at or after t sorts after it.
func idAt(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	b[6], b[8] = 0x70, 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// nextDue is when the earliest unclaimed pending delivery is due; nil when there is none.
func (s *Service) nextDue(ctx context.Context) (*time.Time, error) {
	var ts []time.Time
	err := s.db.Conn(ctx).Table("webhook_deliveries").Where("status = ? AND (lease_until IS NULL OR lease_until < ?)", StatusPending, s.now()).
		Order("next_attempt_at").Limit(1).Pluck("next_attempt_at", &ts).Error
	if err != nil || len(ts) == 0 {
		return nil, store.Translate(err, nil, nil)
	}
	t := ts[0].UTC()
	return &t, nil
}

// Pending counts the deliveries waiting for an attempt (new, or retrying after a failure)
// across every account, through the partial index of pending deliveries: its cost follows the
// queue, not the table. It is meant for a periodic measure, not a query per scrape.
func (s *Service) Pending(ctx context.Context) (int64, error) {
	var n int64
	// The predicate is a literal so a generic plan can still use the partial index.
	err := s.db.Conn(ctx).Table("webhook_deliveries").Where("status = 'pending'").Count(&n).Error
	return n, store.Translate(err, nil, nil)
}

// attempt POSTs one claimed delivery and records the outcome.
func (s *Service) attempt(ctx context.Context, it claimed) {
	n := it.Attempts + 1
	var (
		code    *int
		failure string
	)
	start := time.Now()
	key, err := s.box.Open(it.Secret)
	if err != nil {
		failure = "the subscription's secret cannot be read (SECRET_KEY changed?)"
		s.log.Error("crmhook: open secret", "subscription_id", it.SubscriptionID, "err", err.Error())
	} else {
		code, failure = s.post(ctx, it, key, n)
	}
	if ctx.Err() != nil {
		return // stopping: the lease returns the delivery to the queue
	}
	result, err := s.record(context.WithoutCancel(ctx), it, n, code, failure, time.Since(start))
	if err != nil {
		s.log.Error("crmhook: record attempt", "delivery_id", it.ID, "err", err.Error())
		return
	}
	if s.cfg.Observer != nil && result != "" {
		s.cfg.Observer.ObserveDelivery(result)
	}
}

// post sends the delivery once: the receiver's status code, and a failure text unless it is 2xx.
func (s *Service) post(ctx context.Context, it claimed, key string, n int) (*int, string) {
	body := []byte(it.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, it.URL, bytes.NewReader(body))
	if err != nil {
		return nil, clean(err.Error())
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Atendimento-Webhooks/1.0")
	h.Set(EventHeader, it.Event)
	h.Set(DeliveryHeader, it.ID)
	h.Set(AttemptHeader, fmt.Sprint(n))
	h.Set(SignatureHeader, Sign(body, key))
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, clean(err.Error())
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return &code, ""
	}
	msg := fmt.Sprintf("HTTP %d", code)
	if code >= 300 && code < 400 {
		msg += " (redirects are not followed)"
	}
	if t := strings.TrimSpace(string(snippet)); t != "" {
		msg += ": " + t
	}
	return &code, clean(msg)
}

// clean makes a failure text safe to store and show: valid UTF-8, no NUL, at most 500 bytes.
func clean(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "")
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "")
	}
	return s
}

var errStale = errors.New("crmhook: delivery already recorded by another worker")

// record stores attempt n and moves the delivery on: succeeded on a 2xx; else retried after
// the backoff, or failed after the last attempt. It is guarded by the attempt count the claim
// saw, so a worker whose lease expired cannot record over another's.
// record writes the attempt's outcome and returns it (AttemptSucceeded, AttemptRetried or
// AttemptFailed), or "" when another worker had already recorded this attempt (the lease was lost).
func (s *Service) record(ctx context.Context, it claimed, n int, code *int, failure string, took time.Duration) (string, error) {
	now := s.now()
	ctx = store.WithAccount(ctx, it.AccountID)
	upd := map[string]any{"attempts": n, "lease_until": nil, "last_status_code": nil, "last_error": nil, "updated_at": now}
	att := attemptRow{AccountID: it.AccountID, DeliveryID: it.ID, Attempt: n, StatusCode: code, DurationMs: took.Milliseconds(), AttemptedAt: now}
	if code != nil {
		upd["last_status_code"] = *code
	}
	result := AttemptRetried
	switch {
	case failure == "":
		result = AttemptSucceeded
		upd["status"], upd["delivered_at"], upd["next_attempt_at"] = StatusSucceeded, now, nil
	case n >= s.cfg.MaxAttempts:
		result = AttemptFailed
		upd["status"], upd["next_attempt_at"], upd["last_error"] = StatusFailed, nil, failure
		att.Error = &failure
	default:
		next := now.Add(s.cfg.Backoff(n))
		upd["next_attempt_at"], upd["last_error"] = next, failure
		att.Error, att.NextAttemptAt = &failure, &next
	}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		res := s.db.Tenant(ctx, "webhook_deliveries").Where("id = ? AND status = ? AND attempts = ?", it.ID, StatusPending, it.Attempts).Updates(upd)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errStale
		}
		return s.db.Tenant(ctx, "webhook_attempts").Create(&att).Error
	})
	if errors.Is(err, errStale) {
		return "", nil
	}
	if err == nil && failure == "" {
		s.log.Debug("crmhook: delivered", "delivery_id", it.ID, "attempt", n)
	} else if err == nil {
		s.log.Info("crmhook: attempt failed", "delivery_id", it.ID, "attempt", n, "err", failure)
	}
	if err != nil {
		return "", store.Translate(err, nil, nil)
	}
	return result, nil
}
