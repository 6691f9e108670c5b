package account

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/phone"
	"github.com/atendimento/atendimento/internal/store"
)

// Settings are the account fields its admins may change; nil fields are left as they are.
type Settings struct {
	Name *string
	// DefaultRegion is the ISO 3166 region national phone numbers are read in ("BR").
	DefaultRegion *string
	// AutoCloseWaiting closes a conversation that waited too long for the contact's first reply.
	AutoCloseWaiting *bool
	// OptOutKeywords replaces the replies that opt a contact out of marketing messages.
	OptOutKeywords *[]string
	// OptInKeywords replaces the replies that opt a contact back in.
	OptInKeywords *[]string
	// OptOutConfirmation is the reply to a keyword opt-out; "" sends nothing.
	OptOutConfirmation *string
}

// maxAccountName bounds an account's name.
const maxAccountName = 200

// UpdateCurrent changes the context's account, reporting every invalid field at once.
func (s *Service) UpdateCurrent(ctx context.Context, in Settings) (Account, error) {
	var f apperr.Fields
	updates := map[string]any{}
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		switch {
		case name == "":
			f.Add("name", "required", "name is required")
		case utf8.RuneCountInString(name) > maxAccountName:
			f.Add("name", "name_invalid", "name must have at most 200 characters")
		default:
			updates["name"] = name
		}
	}
	if in.DefaultRegion != nil {
		if !phone.ValidRegion(*in.DefaultRegion) {
			f.Add("default_region", "default_region_invalid", "default_region must be an ISO 3166 region code such as BR")
		} else {
			updates["default_region"] = strings.ToUpper(strings.TrimSpace(*in.DefaultRegion))
		}
	}
	if in.AutoCloseWaiting != nil {
		updates["auto_close_waiting"] = *in.AutoCloseWaiting
	}
	f = append(f, s.keywordUpdates(ctx, in, updates)...)
	if err := f.Err(); err != nil {
		return Account{}, err
	}
	if len(updates) > 0 {
		updates["updated_at"] = store.Now()
		// accounts is the tenant table itself: its own id is the account filter.
		if err := s.db.Conn(ctx).Table("accounts").Where("id = ?", store.AccountID(ctx)).Updates(updates).Error; err != nil {
			return Account{}, store.Translate(err, nil, nil)
		}
		s.regions.Delete(store.AccountID(ctx)) // after the write, so no read re-caches the old value
	}
	return s.Current(ctx)
}

// regionTTL bounds how long another instance may read a changed default region from its cache.
const regionTTL = 30 * time.Second

type cachedRegion struct {
	region string
	at     time.Time
}

// Region returns the context's account's default phone region, "BR" when it cannot be read. It
// is read for every phone parsed (several per conversation start), so it is cached per account
// for regionTTL; UpdateCurrent forgets this instance's copy at once.
func (s *Service) Region(ctx context.Context) string {
	acc := store.AccountID(ctx)
	if c, ok := s.regions.Load(acc); ok && time.Since(c.(cachedRegion).at) < regionTTL {
		return c.(cachedRegion).region
	}
	var regions []string
	if err := s.db.Conn(ctx).Table("accounts").Where("id = ?", acc).Limit(1).Pluck("default_region", &regions).Error; err != nil || len(regions) == 0 || regions[0] == "" {
		return "BR"
	}
	s.regions.Store(acc, cachedRegion{region: regions[0], at: time.Now()})
	return regions[0]
}

// AutoClosesWaiting reports whether the account chose to close conversations that waited too
// long for the contact's first reply. It acts for the given account, not the context's (the
// waiting sweeper runs outside any request).
func (s *Service) AutoClosesWaiting(ctx context.Context, accountID string) (bool, error) {
	var flags []bool
	if err := s.db.Conn(ctx).Table("accounts").Where("id = ?", accountID).Limit(1).Pluck("auto_close_waiting", &flags).Error; err != nil {
		return false, store.Translate(err, nil, nil)
	}
	return len(flags) == 1 && flags[0], nil
}
