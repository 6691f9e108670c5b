// Package quickreply owns the ready replies ("respostas rápidas") agents insert in the composer:
// the account's, written by admins, and each user's personal ones, with the placeholders
// {{nome}}, {{primeiro_nome}} and {{atendente}} filled when one is used.
package quickreply

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/store"
)

// Scopes of a quick reply.
const (
	ScopeAccount  = "account"
	ScopePersonal = "personal"
)

// Limits of a quick reply.
const (
	MaxShortcut = 40
	MaxText     = 4000
)

// Placeholders are the variables a quick reply may use.
var Placeholders = []string{"nome", "primeiro_nome", "atendente"}

// QuickReply is one ready reply.
type QuickReply struct {
	ID       string
	Shortcut string
	Text     string
	Scope    string
	// OwnerID is the user a personal reply belongs to; nil for the account's.
	OwnerID   *string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Caller is who reads or writes quick replies: a user (UserID set) or an API key.
type Caller struct {
	UserID  string
	IsAdmin bool
}

// Input creates or changes a quick reply; nil fields are left unchanged on update.
type Input struct {
	Shortcut *string
	Text     *string
	Scope    *string
}

// Service is the quick reply domain.
type Service struct{ db *store.DB }

// NewService returns the quick reply service.
func NewService(db *store.DB) *Service { return &Service{db: db} }

type row struct {
	ID        string
	AccountID string
	OwnerID   *string
	Shortcut  string
	Text      string
	SearchKey string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (row) TableName() string { return "quick_replies" }

func (r row) toQuickReply() QuickReply {
	q := QuickReply{ID: r.ID, Shortcut: r.Shortcut, Text: r.Text, Scope: ScopeAccount, OwnerID: r.OwnerID,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.OwnerID != nil {
		q.Scope = ScopePersonal
	}
	return q
}

var (
	// ErrNotFound is a quick reply that does not exist or is another user's personal one.
	ErrNotFound  = apperr.NotFound("quick_reply_not_found", "no such quick reply")
	errExists    = apperr.Conflict("quick_reply_exists", "a quick reply with this shortcut already exists")
	errAdminOnly = apperr.Forbidden("only admins write the account's quick replies")
)

var placeholderRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// normalizeShortcut lowers a shortcut; letters, digits, _ and -; the leading "/" the composer types is dropped.
func normalizeShortcut(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "/"))
}

func validShortcut(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > MaxShortcut {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

// textFields checks a reply's text: 1 to MaxText characters, and only known placeholders (each
// unknown one named in its own error).
func textFields(text string) apperr.Fields {
	var f apperr.Fields
	if strings.TrimSpace(text) == "" || utf8.RuneCountInString(text) > MaxText {
		f.Add("text", "quick_reply_text_invalid", "a quick reply's text has 1 to 4000 characters")
		return f
	}
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		if !known(m[1]) {
			f.Add("text", "quick_reply_placeholder_unknown", "unknown placeholder {{"+m[1]+"}}: use {{nome}}, {{primeiro_nome}} or {{atendente}}")
		}
	}
	return f
}

func known(name string) bool {
	for _, p := range Placeholders {
		if p == name {
			return true
		}
	}
	return false
}

// writable reports whether the caller may write a reply of the given owner (nil: the account's).
func (c Caller) writable(owner *string) error {
	if owner == nil {
		if !c.IsAdmin {
			return errAdminOnly // agents, by session or by an agent API key
		}
		return nil
	}
	if *owner != c.UserID {
		return ErrNotFound
	}
	return nil
}

// visible restricts q to the account's replies and the caller's own.
func (c Caller) visible(q *gorm.DB) *gorm.DB {
	if c.UserID == "" {
		return q.Where("owner_id IS NULL")
	}
	return q.Where("(owner_id IS NULL OR owner_id = ?)", c.UserID)
}

// Create adds a quick reply, reporting every invalid field at once. A personal one belongs to
// the caller (an API key has none: quick_reply_scope_invalid); the account's are written by
// admins (403 for agents).
func (s *Service) Create(ctx context.Context, c Caller, in Input) (QuickReply, error) {
	var f apperr.Fields
	var owner *string
	scope := ""
	if in.Scope != nil {
		scope = *in.Scope
	}
	switch scope {
	case ScopeAccount:
	case ScopePersonal:
		if c.UserID == "" {
			f.Add("scope", "quick_reply_scope_invalid", "an API key has no personal quick replies")
		} else {
			id := c.UserID
			owner = &id
		}
	default:
		f.Add("scope", "quick_reply_scope_invalid", "scope is account or personal")
	}
	shortcut := ""
	if in.Shortcut != nil {
		shortcut = normalizeShortcut(*in.Shortcut)
	}
	if !validShortcut(shortcut) {
		f.Add("shortcut", "quick_reply_shortcut_invalid", "a shortcut has 1 to 40 letters, digits, _ or -")
	}
	text := ""
	if in.Text != nil {
		text = *in.Text
	}
	f = append(f, textFields(text)...)
	if err := f.Err(); err != nil {
		return QuickReply{}, err
	}
	if err := c.writable(owner); err != nil {
		return QuickReply{}, err
	}
	now := store.Now()
	r := row{ID: store.NewID(), AccountID: store.AccountID(ctx), OwnerID: owner, Shortcut: shortcut, Text: text,
		SearchKey: contact.Fold(shortcut + " " + text), CreatedAt: now, UpdatedAt: now}
	if err := s.db.Tenant(ctx, "quick_replies").Create(&r).Error; err != nil {
		return QuickReply{}, store.Translate(err, nil, errExists)
	}
	return r.toQuickReply(), nil
}

// Get returns a quick reply the caller may see.
func (s *Service) Get(ctx context.Context, c Caller, id string) (QuickReply, error) {
	r, err := s.get(ctx, c, id)
	return r.toQuickReply(), err
}

func (s *Service) get(ctx context.Context, c Caller, id string) (row, error) {
	return store.Get[row](c.visible(s.db.Tenant(ctx, "quick_replies")), id, ErrNotFound)
}

// List returns a page of the account's quick replies and the caller's own, newest first; q
// matches the shortcut or the text (ignoring case and accents).
func (s *Service) List(ctx context.Context, c Caller, q string, p store.Page) ([]QuickReply, *string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, nil, err
	}
	query := c.visible(s.db.Tenant(ctx, "quick_replies"))
	if q = strings.TrimSpace(q); q != "" {
		if len(q) > 200 {
			return nil, nil, apperr.Invalid(apperr.FieldError{Field: "q", Code: "q_invalid", Message: "q must have at most 200 characters"})
		}
		query = query.Where("search_key LIKE ? ESCAPE '\\'", "%"+escapeLike(contact.Fold(strings.TrimPrefix(q, "/")))+"%")
	}
	return store.List(p, query, func(r row) string { return r.ID }, row.toQuickReply)
}

// Update changes a quick reply's shortcut or text (its scope stays), with the rules of Create.
func (s *Service) Update(ctx context.Context, c Caller, id string, in Input) (QuickReply, error) {
	r, err := s.get(ctx, c, id)
	if err != nil {
		return QuickReply{}, err
	}
	if err := c.writable(r.OwnerID); err != nil {
		return QuickReply{}, err
	}
	var f apperr.Fields
	if in.Scope != nil && *in.Scope != r.toQuickReply().Scope {
		f.Add("scope", "quick_reply_scope_invalid", "a quick reply's scope cannot change: create another")
	}
	if in.Shortcut != nil {
		r.Shortcut = normalizeShortcut(*in.Shortcut)
		if !validShortcut(r.Shortcut) {
			f.Add("shortcut", "quick_reply_shortcut_invalid", "a shortcut has 1 to 40 letters, digits, _ or -")
		}
	}
	if in.Text != nil {
		r.Text = *in.Text
		f = append(f, textFields(r.Text)...)
	}
	if err := f.Err(); err != nil {
		return QuickReply{}, err
	}
	r.UpdatedAt = store.Now()
	r.SearchKey = contact.Fold(r.Shortcut + " " + r.Text)
	if err := s.db.Tenant(ctx, "quick_replies").Where("id = ?", id).
		Updates(map[string]any{"shortcut": r.Shortcut, "text": r.Text, "search_key": r.SearchKey, "updated_at": r.UpdatedAt}).Error; err != nil {
		return QuickReply{}, store.Translate(err, nil, errExists)
	}
	return r.toQuickReply(), nil
}

// Delete removes a quick reply the caller may write.
func (s *Service) Delete(ctx context.Context, c Caller, id string) error {
	r, err := s.get(ctx, c, id)
	if err != nil {
		return err
	}
	if err := c.writable(r.OwnerID); err != nil {
		return err
	}
	return store.Translate(s.db.Tenant(ctx, "quick_replies").Where("id = ?", id).Delete(&row{}).Error, nil, nil)
}

// Values fill a reply's placeholders.
type Values struct {
	// ContactName is the contact's name ({{nome}}; its first word is {{primeiro_nome}}).
	ContactName string
	// AgentName is the name of the agent using the reply ({{atendente}}).
	AgentName string
}

// Render fills the placeholders of text; a value that is not known (a contact without a name)
// leaves an empty string.
func Render(text string, v Values) string {
	first := ""
	if fs := strings.Fields(v.ContactName); len(fs) > 0 {
		first = fs[0]
	}
	vals := map[string]string{"nome": strings.TrimSpace(v.ContactName), "primeiro_nome": first, "atendente": strings.TrimSpace(v.AgentName)}
	return placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholderRE.FindStringSubmatch(m)[1]
		if val, ok := vals[name]; ok {
			return val
		}
		return m
	})
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
