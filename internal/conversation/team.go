package conversation

import (
	"context"

	"github.com/atendimento/atendimento/internal/store"
)

// OpenInTeam counts the team's open (scheduled, waiting or active) conversations. Deleting a
// team with any would leave them without a team, out of every agent's sight, so the team's
// deletion is refused until they are closed.
func (s *Service) OpenInTeam(ctx context.Context, teamID string) (int64, error) {
	var n int64
	err := s.db.Tenant(ctx, "conversations").Where("team_id = ? AND status IN ?", teamID, openStatuses).Count(&n).Error
	return n, store.Translate(err, nil, nil)
}
