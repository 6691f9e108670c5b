package conversation

import (
	"context"
	"fmt"
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

// expirableSQL picks, across accounts, waits that began at or before the cut-off and have not
// been reported yet (waiting_expired_at is older than waiting_since after a re-engagement).
// 'waiting' stays a literal: the partial index conversations_waiting_since (migration 0004)
// matches only a statement that names the same state, not a parameter.
const expirableSQL = `SELECT id, account_id FROM conversations
WHERE status = 'waiting' AND waiting_since <= ?
  AND (waiting_expired_at IS NULL OR waiting_expired_at < waiting_since)
ORDER BY waiting_since
LIMIT ?`

// ExpireWaiting marks expired every conversation waiting for the contact's first reply since
// olderThan or before and, when autoClose says so for its account, closes it: its queued
// messages stay queued, unsent and visible. Each conversation is one guarded statement, so
// several instances sweeping at once report each wait once, and a reply that arrives first wins.
// It handles up to 500 conversations per call and returns what it did.
func (s *Service) ExpireWaiting(ctx context.Context, olderThan time.Time, autoClose AutoClose) ([]Expired, error) {
	var found []struct{ ID, AccountID string }
	if err := s.db.Conn(ctx).Raw(expirableSQL, olderThan.UTC(), expireBatch).Scan(&found).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
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
		now := s.now()
		updates := map[string]any{"waiting_expired_at": now, "updated_at": now}
		if autoclose {
			updates["status"], updates["closed_at"] = StatusClosed, now
		}
		res := s.db.Tenant(actx, "conversations").
			Where("id = ? AND status = ? AND waiting_since <= ? AND (waiting_expired_at IS NULL OR waiting_expired_at < waiting_since)",
				f.ID, StatusWaiting, olderThan.UTC()).
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
