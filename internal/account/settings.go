package account

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // time zones are validated the same on every host
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
	// ExchangeRate sets or clears the rate the estimate shows reais with.
	ExchangeRate *ExchangeRateInput
	// CloseReasons replaces the reasons agents pick from when closing a conversation.
	CloseReasons *[]string
	// TimeZone is an IANA time zone name ("America/Sao_Paulo").
	TimeZone *string
	// WaitingTimeout sets the account's own waiting timeout, or returns it to the server's.
	WaitingTimeout *WaitingTimeoutInput
}

// DefaultTimeZone is a new account's time zone: Brasília time.
const DefaultTimeZone = "America/Sao_Paulo"

// validTimeZone reports whether name is an IANA zone the server knows (time/tzdata is embedded,
// so the answer does not depend on the host's zoneinfo). "Local" and "" are not zones of a place.
func validTimeZone(name string) bool {
	if name == "" || name == "Local" || len(name) > 64 {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
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
	if in.WaitingTimeout != nil {
		v, ff := parseWaitingTimeout(*in.WaitingTimeout)
		f = append(f, ff...)
		switch {
		case len(ff) > 0:
		case v == nil:
			updates["waiting_timeout_seconds"] = nil // the server's default
		default:
			updates["waiting_timeout_seconds"] = *v
		}
	}
	if in.TimeZone != nil {
		if tz := strings.TrimSpace(*in.TimeZone); !validTimeZone(tz) {
			f.Add("time_zone", "time_zone_invalid", "time_zone must be an IANA time zone such as America/Sao_Paulo")
		} else {
			updates["time_zone"] = tz
		}
	}
	f = append(f, s.keywordUpdates(ctx, in, updates)...)
	if in.ExchangeRate != nil {
		cols, ff := parseExchangeRate(*in.ExchangeRate, time.Now())
		f = append(f, ff...)
		for k, v := range cols {
			updates[k] = v
		}
	}
	if in.CloseReasons != nil {
		list, ff := closeReasons(*in.CloseReasons)
		f = append(f, ff...)
		updates["close_reasons"] = keywordJSON(list)
	}
	if err := f.Err(); err != nil {
		return Account{}, err
	}
	if len(updates) > 0 {
		updates["updated_at"] = store.Now()
		// accounts is the tenant table itself: its own id is the account filter.
		if err := s.db.Conn(ctx).Table("accounts").Where("id = ?", store.AccountID(ctx)).Updates(updates).Error; err != nil {
			return Account{}, store.Translate(err, nil, nil)
		}
		// After the write, so no read re-caches the old values.
		s.regions.forget(store.AccountID(ctx))
		s.keywords.forget(store.AccountID(ctx))
		s.rates.forget(store.AccountID(ctx))
	}
	return s.Current(ctx)
}

// settingTTL bounds how long another instance may read a changed setting from its cache.
const settingTTL = 30 * time.Second

// perAccount caches one setting per account on this instance for settingTTL: settings read on
// hot paths (every phone parsed, every inbound text) would otherwise cost a query each.
type perAccount[T any] struct{ m sync.Map }

type cached[T any] struct {
	v  T
	at time.Time
}

// get returns the account's cached value, or load's (cached when it succeeds).
func (c *perAccount[T]) get(acc string, load func() (T, error)) (T, error) {
	if e, ok := c.m.Load(acc); ok && time.Since(e.(cached[T]).at) < settingTTL {
		return e.(cached[T]).v, nil
	}
	v, err := load()
	if err == nil {
		c.m.Store(acc, cached[T]{v: v, at: time.Now()})
	}
	return v, err
}

// forget drops the account's cached value (this instance changed it).
func (c *perAccount[T]) forget(acc string) { c.m.Delete(acc) }

// errNoRegion is a region that cannot be read: "BR", not cached.
var errNoRegion = errors.New("account: no default region")

// Region returns the context's account's default phone region, "BR" when it cannot be read. It
// is read for every phone parsed (several per conversation start), so it is cached per account
// for settingTTL; UpdateCurrent forgets this instance's copy at once.
func (s *Service) Region(ctx context.Context) string {
	acc := store.AccountID(ctx)
	region, err := s.regions.get(acc, func() (string, error) {
		var regions []string
		if err := s.db.Conn(ctx).Table("accounts").Where("id = ?", acc).Limit(1).Pluck("default_region", &regions).Error; err != nil {
			return "", err
		}
		if len(regions) == 0 || regions[0] == "" {
			return "", errNoRegion
		}
		return regions[0], nil
	})
	if err != nil {
		return "BR"
	}
	return region
}

// Rate returns the context's account's exchange rate, nil when none is set. Every estimate (and
// so every start) reads it, so it is cached per account for settingTTL like the region;
// UpdateCurrent forgets this instance's copy at once.
func (s *Service) Rate(ctx context.Context) (*ExchangeRate, error) {
	acc := store.AccountID(ctx)
	return s.rates.get(acc, func() (*ExchangeRate, error) {
		var rows []accountRow
		if err := s.db.Conn(ctx).Table("accounts").Select("exchange_rate, exchange_rate_date").Where("id = ?", acc).Limit(1).Find(&rows).Error; err != nil {
			return nil, store.Translate(err, nil, nil)
		}
		if len(rows) == 0 {
			return nil, apperr.NotFound("account_not_found", "no such account")
		}
		return rows[0].toAccount().ExchangeRate, nil
	})
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

// Limits of the account's close reasons.
const (
	maxCloseReasons     = 30
	maxCloseReasonChars = 80
)

// closeReasons checks a list of close reasons: at most 30, each 1 to 80 characters once
// trimmed, no two alike ignoring case. It returns the trimmed list.
func closeReasons(in []string) ([]string, apperr.Fields) {
	var f apperr.Fields
	if len(in) > maxCloseReasons {
		f.Add("close_reasons", "close_reasons_invalid", "at most 30 close reasons")
		return nil, f
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for i, r := range in {
		r = strings.TrimSpace(r)
		field := "close_reasons[" + strconv.Itoa(i) + "]"
		switch n := utf8.RuneCountInString(r); {
		case n == 0 || n > maxCloseReasonChars:
			f.Add(field, "close_reasons_invalid", "a close reason has 1 to 80 characters")
		case seen[strings.ToLower(r)]:
			f.Add(field, "close_reasons_invalid", "close reasons must be unique")
		}
		seen[strings.ToLower(r)] = true
		out = append(out, r)
	}
	return out, f
}

// CloseReasons returns the context's account's close reasons (read fresh: closing is rare and
// an admin's change must apply at once).
func (s *Service) CloseReasons(ctx context.Context) ([]string, error) {
	a, err := s.Current(ctx)
	return a.CloseReasons, err
}
