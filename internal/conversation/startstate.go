package conversation

import (
	"context"
	"errors"
	"time"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/channel"
)

// StartState is what a start with a contact on a channel would meet, known before anything is
// filled: the contact's 24-hour window there (open when the contact wrote on the channel in the
// last 24 hours, across conversations) and the conversation already open, if any.
type StartState struct {
	ChannelID          string
	WindowExpiresAt    *time.Time
	WindowOpen         bool
	OpenConversationID string
}

// StartStateFor reads the start state of a contact of this account on one of its channels.
func (s *Service) StartStateFor(ctx context.Context, contactID, channelID string) (StartState, error) {
	var f apperr.Fields
	if _, err := s.contacts.Get(ctx, contactID); err != nil {
		return StartState{}, err // contact_not_found (404) or the database's error
	}
	if channelID == "" {
		f.Add("channel_id", "channel_required", "channel_id is required")
	} else if _, err := s.channels.Get(ctx, channelID); errors.Is(err, channel.ErrNotFound) {
		f.Add("channel_id", "channel_not_found", "no such channel in this account")
	} else if err != nil {
		return StartState{}, err
	}
	if err := f.Err(); err != nil {
		return StartState{}, err
	}
	win, err := s.windowFor(ctx, contactID, channelID)
	if err != nil {
		return StartState{}, err
	}
	open, err := s.openFor(ctx, contactID, channelID)
	if err != nil {
		return StartState{}, err
	}
	st := StartState{ChannelID: channelID, OpenConversationID: open}
	if win != nil && s.now().Before(*win) {
		w := win.UTC()
		st.WindowExpiresAt, st.WindowOpen = &w, true
	}
	return st, nil
}
