package contact

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm/clause"

	"github.com/atendimento/atendimento/internal/apperr"
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
	// DedupeKey names a delivered fact (Meta's item, a message's wamid) so that a replay of it is
	// recorded once; "" for facts that cannot be replayed (an agent's click).
	DedupeKey string
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

// Recorded is what recording a fact did.
type Recorded struct {
	Entry ConsentEntry
	// Duplicate is true for a replay of a fact already recorded (nothing changed).
	Duplicate bool
	// Current is true when the fact became the contact's current state: it is not older than
	// the fact that was current.
	Current bool
}

// maxConsentDetail bounds a fact's note (Meta's detail, a keyword reply, an agent's note).
const maxConsentDetail = 500

type consentRow struct {
	ID        string
	AccountID string
	ContactID string
	OptedOut  bool
	Source    string
	Detail    string
	UserID    *string
	DedupeKey *string
	At        time.Time
	CreatedAt time.Time
}

func (consentRow) TableName() string { return "contact_consents" }

func (r consentRow) toEntry() ConsentEntry {
	return ConsentEntry{ID: r.ID, ContactID: r.ContactID, OptedOut: r.OptedOut, Source: ConsentSource(r.Source), Detail: r.Detail,
		UserID: r.UserID, At: r.At, CreatedAt: r.CreatedAt}
}

// RecordConsent stores a consent fact of a contact of the account and, when the fact is not older
// than the one the contact's state comes from, makes it the contact's state. A fact whose
// DedupeKey was recorded before is a replay: nothing changes and Duplicate is set. Callers that
// act on the change (failing queued marketing sends) run it in their transaction.
func (s *Service) RecordConsent(ctx context.Context, contactID string, in ConsentInput) (Recorded, error) {
	if _, err := s.Get(ctx, contactID); err != nil {
		return Recorded{}, err
	}
	detail := strings.TrimSpace(in.Detail)
	if !utf8.ValidString(detail) || hasControl(detail) || utf8.RuneCountInString(detail) > maxConsentDetail {
		return Recorded{}, apperr.Invalid(apperr.FieldError{Field: "detail", Code: "detail_invalid",
			Message: fmt.Sprintf("detail must be at most %d characters without control characters", maxConsentDetail)})
	}
	now := store.Now()
	at := in.At.UTC().Truncate(time.Microsecond)
	if in.At.IsZero() {
		at = now
	}
	r := consentRow{ID: store.NewID(), AccountID: store.AccountID(ctx), ContactID: contactID, OptedOut: in.OptedOut,
		Source: string(in.Source), Detail: detail, UserID: in.UserID, At: at, CreatedAt: now}
	if in.DedupeKey != "" {
		k := in.DedupeKey
		r.DedupeKey = &k
	}
	var out Recorded
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		res := s.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
		if res.Error != nil {
			return store.Translate(res.Error, nil, nil)
		}
		if res.RowsAffected == 0 {
			var prev consentRow
			if err := s.db.Tenant(ctx, "contact_consents").Where("dedupe_key = ?", *r.DedupeKey).Take(&prev).Error; err != nil {
				return store.Translate(err, nil, nil)
			}
			out = Recorded{Entry: prev.toEntry(), Duplicate: true}
			return nil
		}
		// The state follows the latest fact by when it happened, not by when it arrived: Meta
		// delivers out of order. An equal time lets the later arrival win.
		upd := s.db.Tenant(ctx, "contacts").Where("id = ? AND (marketing_consent_at IS NULL OR marketing_consent_at <= ?)", contactID, at).
			Updates(map[string]any{"marketing_opted_out": in.OptedOut, "marketing_consent_at": at, "updated_at": now})
		if upd.Error != nil {
			return store.Translate(upd.Error, nil, nil)
		}
		out = Recorded{Entry: r.toEntry(), Current: upd.RowsAffected == 1}
		return nil
	})
	return out, err
}

// ConsentHistory returns a page of the contact's consent facts, newest first by when they
// happened.
func (s *Service) ConsentHistory(ctx context.Context, contactID string, p store.Page) ([]ConsentEntry, *string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.Get(ctx, contactID); err != nil {
		return nil, nil, err
	}
	q := s.db.Tenant(ctx, "contact_consents").Where("contact_id = ?", contactID)
	if p.Cursor != "" {
		// The cursor is the last entry's id; the page continues after its (at, id).
		var last consentRow
		err := s.db.Tenant(ctx, "contact_consents").Where("contact_id = ? AND id = ?", contactID, p.Cursor).Take(&last).Error
		if err != nil {
			return nil, nil, store.Translate(err, apperr.Invalid(apperr.FieldError{Field: "cursor", Code: "cursor_invalid",
				Message: "cursor is not one this API returned"}), nil)
		}
		q = q.Where("(at < ? OR (at = ? AND id < ?))", last.At, last.At, last.ID)
	}
	var rows []consentRow
	if err := q.Order("at DESC").Order("id DESC").Limit(p.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, store.Translate(err, nil, nil)
	}
	rows, next := store.Trim(p, rows, func(r consentRow) string { return r.ID })
	out := make([]ConsentEntry, len(rows))
	for i, r := range rows {
		out[i] = r.toEntry()
	}
	return out, next, nil
}

// Keywords are an account's consent keywords: replies that opt a contact out of marketing
// messages or back in, and the text replied to an opt-out ("" sends nothing).
type Keywords struct {
	OptOut       []string
	OptIn        []string
	Confirmation string
}

// Match tells whether text is exactly one of the keywords once case, accents and surrounding
// spaces and punctuation are ignored ("Sáir!" is SAIR; "vou sair agora" is nothing). optedOut
// says which list matched; an opt-out keyword wins over an opt-in one.
func (k Keywords) Match(text string) (optedOut, ok bool) {
	key := KeywordKey(text)
	if key == "" {
		return false, false
	}
	for _, w := range k.OptOut {
		if KeywordKey(w) == key {
			return true, true
		}
	}
	for _, w := range k.OptIn {
		if KeywordKey(w) == key {
			return false, true
		}
	}
	return false, false
}

// KeywordKey is the form keywords are compared in: folded (lower case, no accents), without the
// spaces, punctuation and symbols around it, and with inner runs of spaces made one.
func KeywordKey(s string) string {
	s = strings.TrimFunc(Fold(s), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsControl(r)
	})
	return strings.Join(strings.Fields(s), " ")
}

// Limits of an account's keyword lists.
const (
	MaxKeywords     = 20
	maxKeywordRunes = 40
)

// keywordInvalid is the error code of a keyword list's failures.
const keywordInvalid = "keyword_invalid"

// ParseKeywords checks a keyword list an admin typed: at most MaxKeywords, each non-empty once
// trimmed and at most 40 characters, none repeated. It returns the trimmed keywords; field names
// the request field of the errors.
func ParseKeywords(field string, in []string) ([]string, apperr.Fields) {
	var f apperr.Fields
	if len(in) > MaxKeywords {
		f.Add(field, keywordInvalid, fmt.Sprintf("at most %d keywords", MaxKeywords))
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for i, w := range in {
		w = strings.TrimSpace(w)
		key := KeywordKey(w)
		switch {
		case key == "" || hasControl(w):
			f.Add(fmt.Sprintf("%s[%d]", field, i), keywordInvalid, "a keyword needs a letter or digit and no control characters")
		case utf8.RuneCountInString(w) > maxKeywordRunes:
			f.Add(fmt.Sprintf("%s[%d]", field, i), keywordInvalid, fmt.Sprintf("a keyword has at most %d characters", maxKeywordRunes))
		case seen[key]:
			f.Add(fmt.Sprintf("%s[%d]", field, i), keywordInvalid, "the keyword is repeated")
		}
		seen[key] = true
		out = append(out, w)
	}
	return out, f
}
