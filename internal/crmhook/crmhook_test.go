package crmhook

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/event"
	"github.com/atendimento/atendimento/internal/secret"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

func TestBackoff(t *testing.T) {
	var c Config
	c.defaults()
	require.Equal(t, 10, c.MaxAttempts)
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 10: 512 * time.Second,
		12: 2048 * time.Second, 13: time.Hour, 40: time.Hour} {
		require.Equal(t, want, c.Backoff(n), "after attempt %d", n)
	}
}

func TestBlocked(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "127.8.9.1": true, "::1": true, "10.0.0.1": true, "172.16.5.4": true, "192.168.1.1": true,
		"169.254.169.254": true, "fe80::1": true, "fc00::1": true, "0.0.0.0": true, "::": true, "100.64.0.1": true,
		"224.0.0.1": true, "255.255.255.255": true, "::ffff:10.1.1.1": true, "::ffff:127.0.0.1": true,
		"8.8.8.8": false, "203.0.113.10": false, "2606:4700:4700::1111": false, "::ffff:8.8.8.8": false,
	} {
		require.Equal(t, want, Blocked(netip.MustParseAddr(addr)), addr)
	}
}

func TestSign(t *testing.T) {
	// echo -n '{"a":1}' | openssl dgst -sha256 -hmac whsec_test
	sig := Sign([]byte(`{"a":1}`), "whsec_test")
	require.Equal(t, "sha256=51426af50a41dd7ff2cd3f116594734766d4018d15d6fb07169aee5d2959adf5", sig)
	require.True(t, Verify([]byte(`{"a":1}`), "whsec_test", sig))
	require.False(t, Verify([]byte(`{"a":2}`), "whsec_test", sig))
	require.False(t, Verify([]byte(`{"a":1}`), "whsec_other", sig))
}

// fixture is a crmhook service on a fresh database with one account.
type fixture struct {
	db  *store.DB
	box *secret.Box
	ctx context.Context
}

func setup(t *testing.T, db *store.DB) fixture {
	t.Helper()
	acc, err := account.NewService(db).CreateAccount(context.Background(), "Loja", "BR")
	require.NoError(t, err)
	box, err := secret.NewBox("test-secret-key-0123456789")
	require.NoError(t, err)
	return fixture{db: db, box: box, ctx: store.WithAccount(context.Background(), acc.ID)}
}

func (f fixture) service(t *testing.T, cfg Config) *Service {
	t.Helper()
	render := func(_ context.Context, kind, id string) (json.RawMessage, error) {
		return json.RawMessage(`{"id":"` + id + `"}`), nil
	}
	s := New(cfg, f.db, f.box, render, nil)
	ctx, cancel := context.WithCancel(context.Background())
	s.Start(ctx)
	t.Cleanup(func() { cancel(); s.Stop() })
	return s
}

// receiver answers with the status codes given, then 200.
func receiver(t *testing.T, codes ...int) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(codes) {
			w.WriteHeader(codes[i])
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func (f fixture) deliveries(t *testing.T, s *Service, subID string) []Delivery {
	t.Helper()
	ds, _, err := s.Deliveries(f.ctx, subID, store.Page{})
	require.NoError(t, err)
	return ds
}

func waitDelivery(t *testing.T, f fixture, s *Service, subID string, cond func(d Delivery) bool) Delivery {
	t.Helper()
	var last Delivery
	require.Eventually(t, func() bool {
		ds := f.deliveries(t, s, subID)
		if len(ds) != 1 {
			return false
		}
		last = ds[0]
		return cond(last)
	}, 15*time.Second, 20*time.Millisecond, "delivery state: %+v", last)
	return last
}

// A subscription whose name resolved to a public address when it was registered but points
// to a private one when a delivery connects (DNS rebinding; here stored directly) is refused
// at dial time, and nothing reaches the private target.
func TestPrivateTargetRefusedAtDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		srv, hits := receiver(t)
		s := f.service(t, Config{BaseDelay: time.Hour})
		_, _, err := s.Create(f.ctx, Input{URL: &srv.URL, Events: &[]string{"conversation.created"}})
		e, ok := apperr.As(err)
		require.True(t, ok, err)
		require.Equal(t, []apperr.FieldError{{Field: "url", Code: "url_not_allowed",
			Message: "url must not point to a loopback, private or link-local address"}}, e.Fields)

		now := store.Now()
		row := subRow{ID: store.NewID(), AccountID: store.AccountID(f.ctx), URL: srv.URL + "/hook", Events: `["conversation.created"]`,
			Secret: f.box.Seal("whsec_x"), CreatedAt: now, UpdatedAt: now}
		require.NoError(t, db.Tenant(f.ctx, "webhook_subscriptions").Create(&row).Error)
		s.Handle(f.ctx, event.Event{AccountID: row.AccountID, Kind: "conversation.created", ID: store.NewID()})

		d := waitDelivery(t, f, s, row.ID, func(d Delivery) bool { return len(d.Attempts) == 1 })
		require.Equal(t, StatusPending, d.Status)
		require.Nil(t, d.Attempts[0].StatusCode)
		require.Contains(t, *d.Attempts[0].Error, "private, loopback or link-local")
		require.NotNil(t, d.Attempts[0].NextAttemptAt)
		require.EqualValues(t, 0, hits.Load())
	})
}

// Retries are rows: a delivery whose first attempt failed is finished by the next process.
func TestRetriesSurviveRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		srv, hits := receiver(t, http.StatusServiceUnavailable)
		first := New(Config{AllowPrivate: true, BaseDelay: 300 * time.Millisecond}, db, f.box,
			func(context.Context, string, string) (json.RawMessage, error) { return json.RawMessage(`{}`), nil }, nil)
		url := srv.URL + "/hook"
		sub, _, err := first.Create(f.ctx, Input{URL: &url, Events: &[]string{"message.updated"}})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		first.Start(ctx)
		first.Handle(f.ctx, event.Event{AccountID: store.AccountID(f.ctx), Kind: "message.updated", ID: store.NewID()})
		waitDelivery(t, f, first, sub.ID, func(d Delivery) bool { return len(d.Attempts) == 1 })
		cancel()
		first.Stop() // the process ends with the delivery pending

		second := f.service(t, Config{AllowPrivate: true, BaseDelay: 300 * time.Millisecond})
		d := waitDelivery(t, f, second, sub.ID, func(d Delivery) bool { return d.Status == StatusSucceeded })
		require.Len(t, d.Attempts, 2)
		require.Equal(t, 503, *d.Attempts[0].StatusCode)
		require.Equal(t, "HTTP 503", *d.Attempts[0].Error)
		require.Equal(t, 200, *d.Attempts[1].StatusCode)
		require.Nil(t, d.Attempts[1].Error)
		require.NotNil(t, d.DeliveredAt)
		require.Nil(t, d.NextAttemptAt)
		require.EqualValues(t, 2, hits.Load())
	})
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		srv, hits := receiver(t, 500, 502, 400, 500)
		s := f.service(t, Config{AllowPrivate: true, BaseDelay: 20 * time.Millisecond, MaxAttempts: 3})
		url := srv.URL + "/hook"
		sub, _, err := s.Create(f.ctx, Input{URL: &url, Events: &[]string{"message.updated"}})
		require.NoError(t, err)
		s.Handle(f.ctx, event.Event{AccountID: store.AccountID(f.ctx), Kind: "message.updated", ID: store.NewID()})
		// An event the subscription did not ask for is not delivered.
		s.Handle(f.ctx, event.Event{AccountID: store.AccountID(f.ctx), Kind: "message.created", ID: store.NewID()})

		d := waitDelivery(t, f, s, sub.ID, func(d Delivery) bool { return d.Status == StatusFailed })
		require.Len(t, d.Attempts, 3)
		for i, code := range []int{500, 502, 400} {
			require.Equal(t, code, *d.Attempts[i].StatusCode)
			require.Equal(t, i+1, d.Attempts[i].Attempt)
		}
		require.NotNil(t, d.Attempts[1].NextAttemptAt)
		require.Nil(t, d.Attempts[2].NextAttemptAt, "no attempt after the last")
		require.Nil(t, d.NextAttemptAt)
		// A delivery enqueued after it failed is made after any further attempt would have been.
		later, laterHits := receiver(t)
		laterURL := later.URL + "/hook"
		laterSub, _, err := s.Create(f.ctx, Input{URL: &laterURL, Events: &[]string{"conversation.created"}})
		require.NoError(t, err)
		s.Handle(f.ctx, event.Event{AccountID: store.AccountID(f.ctx), Kind: "conversation.created", ID: store.NewID()})
		waitDelivery(t, f, s, laterSub.ID, func(d Delivery) bool { return d.Status == StatusSucceeded })
		require.EqualValues(t, 1, laterHits.Load())
		require.EqualValues(t, 3, hits.Load())
	})
}

// A delivery recorded by another worker (its lease expired and it was claimed again) is not
// recorded twice.
func TestStaleRecordIsIgnored(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		s := New(Config{AllowPrivate: true}, db, f.box, func(context.Context, string, string) (json.RawMessage, error) {
			return json.RawMessage(`{}`), nil
		}, nil)
		url := "http://127.0.0.1:9/hook"
		sub, _, err := s.Create(f.ctx, Input{URL: &url, Events: &[]string{"message.updated"}})
		require.NoError(t, err)
		s.Handle(f.ctx, event.Event{AccountID: store.AccountID(f.ctx), Kind: "message.updated", ID: store.NewID()})
		items, err := s.claim(context.Background(), 10)
		require.NoError(t, err)
		require.Len(t, items, 1)
		again, err := s.claim(context.Background(), 10)
		require.NoError(t, err)
		require.Empty(t, again, "a leased delivery is not claimed twice")
		code := 200
		result, err := s.record(context.Background(), items[0], 1, &code, "", time.Millisecond)
		require.NoError(t, err)
		require.Equal(t, AttemptSucceeded, result)
		// A late second record of the same attempt (the lease was lost) records nothing, and says
		// so: the metrics count only recorded attempts.
		result, err = s.record(context.Background(), items[0], 1, nil, "late", time.Millisecond)
		require.NoError(t, err)
		require.Empty(t, result)
		ds := f.deliveries(t, s, sub.ID)
		require.Len(t, ds[0].Attempts, 1)
		require.Equal(t, StatusSucceeded, ds[0].Status)
	})
}

func TestSweepDeletesOldFinishedDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		s := New(Config{AllowPrivate: true}, db, f.box, nil, nil)
		url := "http://127.0.0.1:9/hook"
		sub, _, err := s.Create(f.ctx, Input{URL: &url, Events: &[]string{"message.updated"}})
		require.NoError(t, err)
		now := store.Now()
		require.Less(t, idAt(now.Add(-time.Second)), store.NewID())
		require.Greater(t, idAt(now.Add(time.Second)), store.NewID())

		old := idAt(now.Add(-31 * 24 * time.Hour))
		oldID := func(last string) string { return old[:len(old)-1] + last }
		acc := store.AccountID(f.ctx)
		rows := []deliveryRow{
			{ID: oldID("1"), Status: StatusSucceeded},
			{ID: oldID("2"), Status: StatusFailed},
			{ID: oldID("3"), Status: StatusPending, NextAttemptAt: &now},
			{ID: store.NewID(), Status: StatusSucceeded},
		}
		for i := range rows {
			r := &rows[i]
			r.AccountID, r.SubscriptionID, r.EventID, r.Event, r.ResourceID, r.Body = acc, sub.ID, store.NewID(), "message.updated", store.NewID(), "{}"
			r.CreatedAt, r.UpdatedAt = now, now
			require.NoError(t, db.Tenant(f.ctx, "webhook_deliveries").Create(r).Error)
		}
		code := 200
		require.NoError(t, db.Tenant(f.ctx, "webhook_attempts").Create(&attemptRow{AccountID: acc, DeliveryID: rows[0].ID, Attempt: 1,
			StatusCode: &code, AttemptedAt: now}).Error)

		n, err := s.Sweep(context.Background())
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		var left []string
		for _, d := range f.deliveries(t, s, sub.ID) {
			left = append(left, d.ID)
		}
		require.ElementsMatch(t, []string{rows[2].ID, rows[3].ID}, left)
		var attempts int64
		require.NoError(t, db.Tenant(f.ctx, "webhook_attempts").Count(&attempts).Error)
		require.Zero(t, attempts, "attempts go with their delivery")
	})
}
