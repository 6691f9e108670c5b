package channel

import (
	"context"

	"github.com/atendimento/atendimento/internal/store"
)

// AllByProvider returns every channel of the provider, across accounts, oldest first. It is for
// background jobs (the periodic template sync), which then act for each channel's own account;
// requests never call it.
func (s *Service) AllByProvider(ctx context.Context, provider string) ([]Channel, error) {
	var rows []row
	if err := s.db.Conn(ctx).Where("provider = ?", provider).Order("account_id, id").Find(&rows).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	out := make([]Channel, len(rows))
	for i, r := range rows {
		out[i] = r.toChannel()
	}
	return out, nil
}
