package account

import (
	"context"
	"math"
	"time"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/store"
)

// Bounds of an account's own waiting timeout: whole hours from an hour to 30 days (0 = never).
const (
	MinWaitingTimeout = time.Hour
	MaxWaitingTimeout = 30 * 24 * time.Hour
)

// WaitingTimeoutInput sets the account's waiting timeout (Seconds: whole hours from 1 h to
// 30 days, or 0 for never) or, with Default, returns it to the server's WAITING_TIMEOUT.
type WaitingTimeoutInput struct {
	Default bool
	Seconds float64
}

// parseWaitingTimeout turns the input into the column's value: nil for the server's default.
func parseWaitingTimeout(in WaitingTimeoutInput) (*int64, apperr.Fields) {
	if in.Default {
		return nil, nil
	}
	s := in.Seconds
	ok := s == 0 || (s == math.Trunc(s) && s >= MinWaitingTimeout.Seconds() && s <= MaxWaitingTimeout.Seconds() && math.Mod(s, 3600) == 0)
	if !ok {
		var f apperr.Fields
		f.Add("waiting_timeout_seconds", "waiting_timeout_invalid",
			"waiting_timeout_seconds must be whole hours from 3600 (1 h) to 2592000 (30 days), 0 for never, or null for the server's default")
		return nil, f
	}
	v := int64(s)
	return &v, nil
}

// WaitingTimeouts returns the accounts that chose their own waiting timeout, by id (0: their
// waits never expire); every other account follows the server's WAITING_TIMEOUT. It spans
// accounts: the waiting sweeper runs outside any request.
func (s *Service) WaitingTimeouts(ctx context.Context) (map[string]time.Duration, error) {
	var rows []struct {
		ID                    string
		WaitingTimeoutSeconds int64
	}
	if err := s.db.Conn(ctx).Table("accounts").Select("id, waiting_timeout_seconds").
		Where("waiting_timeout_seconds IS NOT NULL").Find(&rows).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	out := make(map[string]time.Duration, len(rows))
	for _, r := range rows {
		out[r.ID] = time.Duration(r.WaitingTimeoutSeconds) * time.Second
	}
	return out, nil
}
