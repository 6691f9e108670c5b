package conversation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/atendimento/atendimento/internal/store"
)

// EventConversationWaitingExpired is published once per wait, when a waiting conversation's
// contact has not replied within the waiting timeout. A conversation the account closes
// automatically also publishes EventConversationUpdated.
const EventConversationWaitingExpired = "conversation.waiting_expired"

// AutoClose reports whether an account closes conversations whose wait expired.
type AutoClose func(ctx context.Context, accountID string) (bool, error)

// Expired is one wait that ran out.
type Expired struct {
	AccountID      string
	ConversationID string
	// Closed is true when the account's setting closed the conversation.
	Closed bool
}

// expireBatch bounds how many waits one ExpireWaiting call handles.
const expireBatch = 500

// accountChunk bounds the account ids one candidate query names.
const accountChunk = 500

// WaitingRules say how long each account's conversations wait for the contact's first reply
// before the wait expires. A zero duration means waits never expire.
type WaitingRules struct {
	// Default is the server's WAITING_TIMEOUT, for every account not in Accounts.
	Default time.Duration
	// Accounts are the accounts that chose their own timeout, by id.
	Accounts map[string]time.Duration
}

// expirableSQL picks, across accounts, waits that began at or before the cut-off and have not
// been reported yet (waiting_expired_at is older than waiting_since after a re-engagement).
// 'waiting' stays a literal: the partial index conversations_waiting_since (migration 0004)
// matches only a statement that names the same state, not a parameter. The account filter is
// appended: the accounts a rule applies to (IN) or those it does not (NOT IN).
const expirableSQL = `SELECT id, account_id FROM conversations
WHERE status = 'waiting' AND waiting_since <= ?
  AND (waiting_expired_at IS NULL OR waiting_expired_at < waiting_since)`

const expirableOrder = `
ORDER BY waiting_since
LIMIT ?`

// candidate is a wait found due, with the cut-off of its account's rule (the update repeats it).
type candidate struct {
	ID, AccountID string
	cutoff        time.Time
}

// expirable returns up to limit due waits: those of the accounts following the server's default,
// then those of each group of accounts with the same timeout of their own.
func (s *Service) expirable(ctx context.Context, now time.Time, rules WaitingRules, limit int) ([]candidate, error) {
	var out []candidate
	find := func(cutoff time.Time, filter string, args ...any) error {
		var found []struct{ ID, AccountID string }
		q := append([]any{cutoff.UTC()}, args...)
		q = append(q, limit-len(out))
		if err := s.db.Conn(ctx).Raw(expirableSQL+filter+expirableOrder, q...).Scan(&found).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		for _, f := range found {
			out = append(out, candidate{ID: f.ID, AccountID: f.AccountID, cutoff: cutoff})
		}
		return nil
	}
	own := make([]string, 0, len(rules.Accounts))
	groups := map[time.Duration][]string{}
	for id, d := range rules.Accounts {
		own = append(own, id)
		if d > 0 {
			groups[d] = append(groups[d], id)
		}
	}
	if rules.Default > 0 {
		var err error
		if len(own) == 0 {
			err = find(now.Add(-rules.Default), "")
		} else {
			err = find(now.Add(-rules.Default), "\n  AND account_id NOT IN ?", own)
		}
		if err != nil {
			return out, err
		}
	}
	timeouts := make([]time.Duration, 0, len(groups))
	for d := range groups {
		timeouts = append(timeouts, d)
	}
	slices.Sort(timeouts)
	for _, d := range timeouts {
		ids := groups[d]
		slices.Sort(ids)
		for chunk := range slices.Chunk(ids, accountChunk) {
			if len(out) >= limit {
				return out, nil
			}
			if err := find(now.Add(-d), "\n  AND account_id IN ?", chunk); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// ExpireWaiting marks expired every conversation whose contact has not replied within its
// account's waiting timeout (rules; now is the sweep's time) and, when autoClose says so for its
// account, closes it: its queued messages stay queued, unsent and visible. Each conversation is
// one guarded statement, so several instances sweeping at once report each wait once, and a
// reply that arrives first wins. It handles up to 500 conversations per call and returns what it
// did.
func (s *Service) ExpireWaiting(ctx context.Context, now time.Time, rules WaitingRules, autoClose AutoClose) ([]Expired, error) {
	found, err := s.expirable(ctx, now, rules, expireBatch)
	if err != nil {
		return nil, err
	}
	closes := map[string]bool{}
	var out []Expired
	for _, f := range found {
		autoclose, ok := closes[f.AccountID]
		if !ok {
			var err error
			if autoclose, err = autoClose(ctx, f.AccountID); err != nil {
				return out, fmt.Errorf("account %s settings: %w", f.AccountID, err)
			}
			closes[f.AccountID] = autoclose
		}
		actx := store.WithAccount(ctx, f.AccountID)
		at := s.now()
		updates := map[string]any{"waiting_expired_at": at, "updated_at": at}
		if autoclose {
			updates["status"], updates["closed_at"] = StatusClosed, at
		}
		res := s.db.Tenant(actx, "conversations").
			Where("id = ? AND status = ? AND waiting_since <= ? AND (waiting_expired_at IS NULL OR waiting_expired_at < waiting_since)",
				f.ID, StatusWaiting, f.cutoff.UTC()).
			Updates(updates)
		if res.Error != nil {
			return out, store.Translate(res.Error, nil, nil)
		}
		if res.RowsAffected == 0 {
			continue // the contact replied, or another instance got there first
		}
		out = append(out, Expired{AccountID: f.AccountID, ConversationID: f.ID, Closed: autoclose})
		s.emit(actx, EventConversationWaitingExpired, f.ID)
		if autoclose {
			s.emit(actx, EventConversationUpdated, f.ID)
			s.emit(actx, EventConversationClosed, f.ID)
		}
	}
	return out, nil
}
