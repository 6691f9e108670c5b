package conversation

import (
	"context"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
)

// RecordConsent records a consent fact of a contact of the account.
func (s *Service) RecordConsent(ctx context.Context, contactID string, in contact.ConsentInput) (contact.ConsentEntry, error) {
	if _, err := s.contacts.Get(ctx, contactID); err != nil {
		return contact.ConsentEntry{}, err
	}
	return contact.ConsentEntry{}, apperr.New(apperr.KindUnavailable, "not_implemented", "consent is not recorded yet")
}
