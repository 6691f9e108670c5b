// Package contact owns the people the company talks to: one contact per phone number (E.164)
// and account, found by name (accent- and case-insensitive) or by phone digits.
package contact

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/phone"
	"github.com/atendimento/atendimento/internal/store"
)

// Contact is a person identified by a phone number.
type Contact struct {
	ID         string
	Name       string
	Phone      string // E.164
	WaID       string // the WhatsApp id Meta reported for the number, when known
	Email      string
	Attributes map[string]any
	// MarketingOptedOut is the contact's current marketing choice (see consent.go).
	MarketingOptedOut bool
	// MarketingConsentAt is when the fact behind MarketingOptedOut happened; nil when none was recorded.
	MarketingConsentAt *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Input is what creating or changing a contact takes; nil fields are left unchanged on update.
type Input struct {
	Name       *string
	Phone      *string
	Email      *string
	Attributes map[string]any
}

// RegionFunc returns the default phone region ("BR") of the context's account.
type RegionFunc func(ctx context.Context) string

// Service is the contact domain.
type Service struct {
	db     *store.DB
	region RegionFunc
}

// NewService returns the contact service.
func NewService(db *store.DB, region RegionFunc) *Service {
	if region == nil {
		region = func(context.Context) string { return "BR" }
	}
	return &Service{db: db, region: region}
}

type row struct {
	ID         string
	AccountID  string
	Name       string
	NameKey    string
	Phone      string
	WaID       *string
	Email      string
	Attributes string
	// MarketingOptedOut and MarketingConsentAt are written only by RecordConsent.
	MarketingOptedOut  bool
	MarketingConsentAt *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

func (row) TableName() string { return "contacts" }

func (r row) toContact() Contact {
	c := Contact{ID: r.ID, Name: r.Name, Phone: r.Phone, Email: r.Email, MarketingOptedOut: r.MarketingOptedOut,
		MarketingConsentAt: r.MarketingConsentAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.WaID != nil {
		c.WaID = *r.WaID
	}
	_ = json.Unmarshal([]byte(r.Attributes), &c.Attributes)
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	return c
}

// ErrNotFound is returned for an id or phone with no contact in the account.
var ErrNotFound = apperr.NotFound("contact_not_found", "no such contact in this account")

const (
	maxName       = 200
	maxEmail      = 254
	maxAttributes = 16 << 10
)

// ParsePhone normalises a phone typed by a user for the context's account; field names the
// request field for the error.
func (s *Service) ParsePhone(ctx context.Context, field, input string) (phone.Number, *apperr.FieldError) {
	n, err := phone.Parse(input, s.region(ctx))
	if err != nil {
		return phone.Number{}, &apperr.FieldError{Field: field, Code: "phone_invalid", Message: "phone is not a valid number (include the area code, DDD)"}
	}
	return n, nil
}

// check validates an input; prefix is the JSON path of the contact in the request ("" or "contact.").
func (s *Service) check(ctx context.Context, in Input, creating bool, prefix string) (row, apperr.Fields) {
	var f apperr.Fields
	var r row
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		switch {
		case !utf8.ValidString(name) || hasControl(name):
			f.Add(prefix+"name", "name_invalid", "name has invalid characters")
		case utf8.RuneCountInString(name) > maxName:
			f.Add(prefix+"name", "name_invalid", fmt.Sprintf("name must have at most %d characters", maxName))
		}
		r.Name = name
		r.NameKey = Fold(name)
	}
	if in.Phone != nil {
		n, fe := s.ParsePhone(ctx, prefix+"phone", *in.Phone)
		if fe != nil {
			f = append(f, *fe)
		} else {
			r.Phone = n.E164()
		}
	} else if creating {
		f.Add(prefix+"phone", "phone_invalid", "phone is required")
	}
	if in.Email != nil && *in.Email != "" {
		e := strings.TrimSpace(*in.Email)
		a, err := mail.ParseAddress(e)
		if err != nil || a.Address != e || len(e) > maxEmail {
			f.Add(prefix+"email", "email_invalid", "email is not a valid address")
		}
		r.Email = e
	}
	if in.Attributes != nil {
		b, err := json.Marshal(in.Attributes)
		if err != nil || len(b) > maxAttributes {
			f.Add(prefix+"attributes", "attributes_invalid", "attributes must be a JSON object of at most 16 KiB")
		}
		r.Attributes = string(b)
	}
	return r, f
}

// hasControl reports whether s holds a control character: C0 (tab, newline, escape…), DEL or C1
// (U+0080–U+009F, such as NEL).
func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// Check validates a new contact without storing it (the conversation start reports its errors
// together with its own).
func (s *Service) Check(ctx context.Context, in Input, prefix string) apperr.Fields {
	_, f := s.check(ctx, in, true, prefix)
	return f
}

// Create stores a new contact; a phone already in the account → 409 contact_exists with existing_id.
func (s *Service) Create(ctx context.Context, in Input) (Contact, error) {
	r, f := s.check(ctx, in, true, "")
	if err := f.Err(); err != nil {
		return Contact{}, err
	}
	c, created, err := s.insert(ctx, r)
	if err != nil {
		return Contact{}, err
	}
	if !created {
		return Contact{}, apperr.Conflict("contact_exists", "a contact with this phone already exists").With("existing_id", c.ID)
	}
	return c, nil
}

// FindOrCreate returns the contact with the input's phone, creating it when new. It works inside
// a caller's transaction on both engines (the insert never aborts it).
func (s *Service) FindOrCreate(ctx context.Context, in Input, prefix string) (Contact, error) {
	r, f := s.check(ctx, in, true, prefix)
	if err := f.Err(); err != nil {
		return Contact{}, err
	}
	c, _, err := s.insert(ctx, r)
	return c, err
}

func (s *Service) insert(ctx context.Context, r row) (Contact, bool, error) {
	now := store.Now()
	r.ID = store.NewID()
	r.AccountID = store.AccountID(ctx)
	if r.AccountID == "" {
		return Contact{}, false, store.ErrNoAccount
	}
	if r.Attributes == "" {
		r.Attributes = "{}"
	}
	r.CreatedAt, r.UpdatedAt = now, now
	res := s.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
	if res.Error != nil {
		return Contact{}, false, store.Translate(res.Error, nil, nil)
	}
	if res.RowsAffected == 1 {
		return r.toContact(), true, nil
	}
	existing, err := s.byPhone(ctx, r.Phone)
	return existing, false, err
}

func (s *Service) byPhone(ctx context.Context, e164 string) (Contact, error) {
	var r row
	if err := s.db.Tenant(ctx, "contacts").Where("phone = ?", e164).Take(&r).Error; err != nil {
		return Contact{}, store.Translate(err, ErrNotFound, nil)
	}
	return r.toContact(), nil
}

// Get returns one contact of the account.
func (s *Service) Get(ctx context.Context, id string) (Contact, error) {
	r, err := store.Get[row](s.db.Tenant(ctx, "contacts"), id, ErrNotFound)
	return r.toContact(), err
}

// Lookup finds a contact by a phone typed in any form (the "Conversar" button).
func (s *Service) Lookup(ctx context.Context, input string) (Contact, error) {
	n, fe := s.ParsePhone(ctx, "phone", input)
	if fe != nil {
		return Contact{}, apperr.Invalid(*fe)
	}
	return s.byPhone(ctx, n.E164())
}

// List returns a page of contacts, newest first; q matches the name (ignoring case and accents)
// or the phone's digits.
func (s *Service) List(ctx context.Context, q string, p store.Page) ([]Contact, *string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, nil, err
	}
	query, err := s.match(ctx, "q", q)
	if err != nil {
		return nil, nil, err
	}
	return store.List(p, query, func(r row) string { return r.ID }, row.toContact)
}

// match is the account's contacts whose folded name contains q or whose phone contains q's
// digits (any written form of a number); all of them for an empty q.
func (s *Service) match(ctx context.Context, field, q string) (*gorm.DB, error) {
	query := s.db.Tenant(ctx, "contacts")
	if q = strings.TrimSpace(q); q != "" {
		if len(q) > 200 {
			return nil, apperr.Invalid(apperr.FieldError{Field: field, Code: "q_invalid", Message: "q must have at most 200 characters"})
		}
		like := "%" + escapeLike(Fold(q)) + "%"
		if digits := phone.SearchDigits(q); digits != "" {
			query = query.Where("(name_key LIKE ? ESCAPE '\\' OR phone LIKE ?)", like, "%"+digits+"%")
		} else {
			query = query.Where("name_key LIKE ? ESCAPE '\\'", like)
		}
	}
	return query, nil
}

// Matching returns a subquery of the ids of the contacts List(q) would find, for another
// domain's filter ("conversations of contacts named …") without reading the contacts table itself.
func (s *Service) Matching(ctx context.Context, field, q string) (*gorm.DB, error) {
	query, err := s.match(ctx, field, q)
	if err != nil {
		return nil, err
	}
	return query.Select("contacts.id"), nil
}

// Update changes the given fields; a phone that another contact has → 409 contact_exists.
func (s *Service) Update(ctx context.Context, id string, in Input) (Contact, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return Contact{}, err
	}
	r, f := s.check(ctx, in, false, "")
	if err := f.Err(); err != nil {
		return Contact{}, err
	}
	updates := map[string]any{"updated_at": store.Now()}
	if in.Name != nil {
		updates["name"], updates["name_key"] = r.Name, r.NameKey
	}
	if in.Phone != nil {
		if other, err := s.byPhone(ctx, r.Phone); err == nil && other.ID != id {
			return Contact{}, apperr.Conflict("contact_exists", "a contact with this phone already exists").With("existing_id", other.ID)
		}
		updates["phone"] = r.Phone
		updates["wa_id"] = nil // the old WhatsApp id belongs to the old number
	}
	if in.Email != nil {
		updates["email"] = r.Email
	}
	if in.Attributes != nil {
		updates["attributes"] = r.Attributes
	}
	if err := s.db.Tenant(ctx, "contacts").Where("id = ?", id).Updates(updates).Error; err != nil {
		return Contact{}, store.Translate(err, nil, apperr.Conflict("contact_exists", "a contact with this phone already exists"))
	}
	return s.Get(ctx, id)
}

// Delete removes a contact that has no conversations; one with history → 409 contact_in_use.
func (s *Service) Delete(ctx context.Context, id string) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	res := s.db.Tenant(ctx, "contacts").Where("id = ?", id).Delete(&row{})
	if res.Error != nil {
		if isForeignKey(res.Error) {
			return apperr.Conflict("contact_in_use", "the contact has conversations and cannot be deleted")
		}
		return store.Translate(res.Error, nil, nil)
	}
	return nil
}

func isForeignKey(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "foreign key") || strings.Contains(s, "23503")
}

// FindByWhatsApp finds the contact a WhatsApp user id (wa_id / from / recipient_id) belongs to,
// trying the forms with and without Brazil's ninth digit and the wa_id stored from sends.
func (s *Service) FindByWhatsApp(ctx context.Context, waID string) (Contact, error) {
	keys := phone.MatchKeys(waID)
	if len(keys) == 0 {
		return Contact{}, ErrNotFound
	}
	phones := make([]string, len(keys))
	for i, k := range keys {
		phones[i] = "+" + k
	}
	var rows []row
	err := s.db.Tenant(ctx, "contacts").Where("wa_id IN ? OR phone IN ?", keys, phones).Limit(len(keys) * 2).Find(&rows).Error
	if err != nil {
		return Contact{}, store.Translate(err, nil, nil)
	}
	// Prefer the exact wa_id, then the phone forms in MatchKeys order.
	for _, k := range keys {
		for _, r := range rows {
			if r.WaID != nil && *r.WaID == k {
				return r.toContact(), nil
			}
		}
		for _, r := range rows {
			if r.Phone == "+"+k {
				return r.toContact(), nil
			}
		}
	}
	return Contact{}, ErrNotFound
}

// SetWaID records the WhatsApp id Meta reported for the contact's number.
func (s *Service) SetWaID(ctx context.Context, id, waID string) error {
	return store.Translate(s.db.Tenant(ctx, "contacts").Where("id = ? AND (wa_id IS NULL OR wa_id <> ?)", id, waID).
		Updates(map[string]any{"wa_id": waID, "updated_at": store.Now()}).Error, nil, nil)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

var foldReplacer = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ã", "a", "ä", "a", "å", "a",
	"é", "e", "è", "e", "ê", "e", "ë", "e",
	"í", "i", "ì", "i", "î", "i", "ï", "i",
	"ó", "o", "ò", "o", "ô", "o", "õ", "o", "ö", "o",
	"ú", "u", "ù", "u", "û", "u", "ü", "u",
	"ç", "c", "ñ", "n", "ý", "y", "ÿ", "y",
)

// Fold lower-cases s and removes the accents of Latin letters, so "João" and "joao" match.
func Fold(s string) string {
	return foldReplacer.Replace(strings.ToLower(s))
}

// GetMany returns the account's contacts with the given ids, by id.
func (s *Service) GetMany(ctx context.Context, ids []string) (map[string]Contact, error) {
	out := make(map[string]Contact, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []row
	if err := s.db.Tenant(ctx, "contacts").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	for _, r := range rows {
		out[r.ID] = r.toContact()
	}
	return out, nil
}

// Sender is a WhatsApp sender to find or create in bulk: the wa_id Meta reported and the
// profile name it gave.
type Sender struct {
	WaID string
	Name string
}

// FindOrCreateSenders resolves many WhatsApp senders at once, as FindByWhatsApp and then
// FindOrCreate and SetWaID would one by one: one query finds the existing contacts by every
// form of every number (the exact wa_id first, then the phone forms in MatchKeys order), one
// multi-row insert creates the missing ones under their valid E.164 form with their wa_id. It
// returns the contacts by wa_id; a sender left out (a number that is no number, a name the
// contact rules refuse) is for the caller to handle one by one. It works inside a caller's
// transaction on both engines (the insert never aborts it).
func (s *Service) FindOrCreateSenders(ctx context.Context, senders []Sender) (map[string]Contact, error) {
	out := make(map[string]Contact, len(senders))
	var keys, phones []string
	seen := map[string]bool{}
	for _, sd := range senders {
		for _, k := range phone.MatchKeys(sd.WaID) {
			if !seen[k] {
				seen[k] = true
				keys, phones = append(keys, k), append(phones, "+"+k)
			}
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	var rows []row
	if err := s.db.Tenant(ctx, "contacts").Where("wa_id IN ? OR phone IN ?", keys, phones).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	var create []row
	creating := map[string]bool{}
	for _, sd := range senders {
		if _, ok := out[sd.WaID]; ok || creating[sd.WaID] {
			continue
		}
		mk := phone.MatchKeys(sd.WaID)
		if r, ok := pickSender(mk, rows); ok {
			c := r.toContact()
			if c.WaID != sd.WaID {
				if err := s.SetWaID(ctx, c.ID, sd.WaID); err != nil {
					return nil, err
				}
				c.WaID = sd.WaID
			}
			out[sd.WaID] = c
			continue
		}
		var e164 string
		for _, k := range mk {
			if n, err := phone.Parse("+"+k, ""); err == nil {
				e164 = n.E164()
				break
			}
		}
		if e164 == "" {
			continue
		}
		name := sd.Name
		r, f := s.check(ctx, Input{Name: &name, Phone: &e164}, true, "")
		if f.Err() != nil || r.Phone != e164 {
			continue
		}
		w := sd.WaID
		r.WaID = &w
		create = append(create, r)
		creating[sd.WaID] = true
	}
	if len(create) == 0 {
		return out, nil
	}
	// Two wa_ids of one number (with and without Brazil's ninth digit) in one batch: the first
	// creates the contact, the other finds it by phone below.
	now := store.Now()
	var q strings.Builder
	var args []any
	ids := map[string]string{}   // phone → id
	insWa := map[string]string{} // phone → the wa_id its row was inserted with
	q.WriteString("INSERT INTO contacts (id, account_id, name, name_key, phone, wa_id, email, attributes, created_at, updated_at) VALUES ")
	for _, r := range create {
		if _, dup := ids[r.Phone]; dup {
			continue
		}
		id := store.NewID()
		ids[r.Phone] = id
		insWa[r.Phone] = *r.WaID
		if len(args) > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, id, store.AccountID(ctx), r.Name, r.NameKey, r.Phone, *r.WaID, r.Email, "{}", now, now)
	}
	q.WriteString(" ON CONFLICT DO NOTHING RETURNING id")
	if store.AccountID(ctx) == "" {
		return nil, store.ErrNoAccount
	}
	var inserted []string
	if err := s.db.Conn(ctx).Raw(q.String(), args...).Scan(&inserted).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	made := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		made[id] = true
	}
	var again []string
	for _, r := range create {
		if id := ids[r.Phone]; made[id] && insWa[r.Phone] == *r.WaID {
			c := r
			c.ID, c.AccountID, c.Attributes, c.CreatedAt, c.UpdatedAt = id, store.AccountID(ctx), "{}", now, now
			out[*r.WaID] = c.toContact()
			continue
		}
		again = append(again, r.Phone)
	}
	if len(again) == 0 {
		return out, nil
	}
	// Numbers someone else created meanwhile (or a second wa_id of a number created above).
	var found []row
	if err := s.db.Tenant(ctx, "contacts").Where("phone IN ?", again).Find(&found).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	for _, r := range create {
		if _, ok := out[*r.WaID]; ok {
			continue
		}
		for _, f := range found {
			if f.Phone != r.Phone {
				continue
			}
			c := f.toContact()
			if c.WaID != *r.WaID {
				if err := s.SetWaID(ctx, c.ID, *r.WaID); err != nil {
					return nil, err
				}
				c.WaID = *r.WaID
			}
			out[*r.WaID] = c
		}
	}
	return out, nil
}

// pickSender chooses, among rows, the contact of a sender with the match keys mk: the exact
// wa_id first, then the phone forms in MatchKeys order (FindByWhatsApp's preference).
func pickSender(mk []string, rows []row) (row, bool) {
	for _, k := range mk {
		for _, r := range rows {
			if r.WaID != nil && *r.WaID == k {
				return r, true
			}
		}
		for _, r := range rows {
			if r.Phone == "+"+k {
				return r, true
			}
		}
	}
	return row{}, false
}
