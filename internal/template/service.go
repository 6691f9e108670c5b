package template

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/store"
)

// Template is a message template of a channel, as registered at the provider.
type Template struct {
	ID         string
	ChannelID  string
	ExternalID string
	Status     Status
	// Quality is Meta's quality rating of the template.
	Quality       Quality
	RawComponents json.RawMessage
	Variables     []string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Definition
}

// Quality is Meta's quality rating of a template.
type Quality string

// The quality ratings Meta reports.
const (
	QualityGreen   Quality = "GREEN"
	QualityYellow  Quality = "YELLOW"
	QualityRed     Quality = "RED"
	QualityUnknown Quality = "UNKNOWN"
)

// Input is what registering or changing a template takes; nil fields are left unchanged.
type Input struct {
	ChannelID       *string
	ExternalID      *string
	Name            *string
	Language        *string
	Category        *string
	Status          *string
	ParameterFormat *string
	Components      json.RawMessage
}

// Filter narrows a template list.
type Filter struct {
	ChannelID string
	Category  string
	Status    string
	Q         string
}

// ChannelExists reports whether a channel id belongs to the context's account.
type ChannelExists func(ctx context.Context, id string) (bool, error)

// Service is the template domain's storage.
type Service struct {
	db            *store.DB
	channelExists ChannelExists
	// byID caches Get per account and id, parsed: every start and template send reads one.
	// Callers treat a Template as read-only (it is shared).
	byID *store.Cache[Template]
}

// cacheTTL bounds how long an instance that missed another's change notification may use a
// template as it was (its status, say).
const cacheTTL = 30 * time.Second

// NewService returns the template service.
func NewService(db *store.DB, channelExists ChannelExists) *Service {
	return &Service{db: db, channelExists: channelExists, byID: store.NewCache[Template](db, "templates", cacheTTL)}
}

type row struct {
	ID              string
	AccountID       string
	ChannelID       string
	ExternalID      string
	Name            string
	Language        string
	Category        string
	Status          string
	Quality         string
	ParameterFormat string
	Components      string
	Variables       string
	SearchKey       string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (row) TableName() string { return "templates" }

func (r row) toTemplate() Template {
	t := Template{ID: r.ID, ChannelID: r.ChannelID, ExternalID: r.ExternalID, Status: Status(r.Status), Quality: Quality(r.Quality),
		RawComponents: json.RawMessage(r.Components), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	comps, _ := ParseComponents(t.RawComponents)
	t.Definition = Definition{Name: r.Name, Language: r.Language, Category: Category(r.Category),
		ParameterFormat: ParameterFormat(r.ParameterFormat), Components: comps}.Frozen()
	// The keys come from the components, not from the variables column: a template stored
	// under an older numbering (keys running across header, body and buttons) reads with today's.
	t.Variables = t.Definition.Variables()
	return t
}

// ErrNotFound is returned for an id with no template in the account.
var ErrNotFound = apperr.NotFound("template_not_found", "no such template in this account")

var errExists = apperr.Conflict("template_exists", "the channel already has a template with this name and language")

// build validates the merged definition and fills the derived columns of r.
func (s *Service) build(ctx context.Context, r *row, in Input) (apperr.Fields, error) {
	var f apperr.Fields
	str := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	str(&r.ChannelID, in.ChannelID)
	str(&r.ExternalID, in.ExternalID)
	str(&r.Name, in.Name)
	str(&r.Language, in.Language)
	if in.Category != nil {
		r.Category = strings.ToUpper(strings.TrimSpace(*in.Category))
	}
	if in.Status != nil {
		r.Status = strings.ToUpper(strings.TrimSpace(*in.Status))
	}
	if in.ParameterFormat != nil {
		r.ParameterFormat = strings.ToUpper(strings.TrimSpace(*in.ParameterFormat))
	}
	if r.ParameterFormat == "" {
		r.ParameterFormat = string(ParameterFormatPositional)
	}
	if in.ChannelID != nil {
		if ok, err := s.channelExists(ctx, r.ChannelID); err != nil {
			return nil, err
		} else if !ok {
			f.Add("channel_id", "channel_not_found", "no such channel in this account")
		}
	}
	if !Status(r.Status).IsKnown() {
		f.Add("status", "status_invalid", "status must be APPROVED, PENDING, REJECTED, PAUSED or DISABLED")
	}
	if !ParameterFormat(r.ParameterFormat).IsKnown() {
		f.Add("parameter_format", "parameter_format_invalid", "parameter_format must be NAMED or POSITIONAL")
	}
	if in.Components != nil {
		comps, err := ParseComponents(in.Components)
		if err != nil {
			f.Add("components", "components_invalid", "components must be an array of Meta template components")
		} else {
			norm, _ := json.Marshal(comps)
			r.Components = string(norm)
		}
	}
	comps, _ := ParseComponents(json.RawMessage(r.Components))
	def := Definition{Name: r.Name, Language: r.Language, Category: Category(r.Category), ParameterFormat: ParameterFormat(r.ParameterFormat), Components: comps}
	if len(f) == 0 {
		f = append(f, def.Validate()...)
	}
	vars, _ := json.Marshal(def.Variables())
	r.Variables = string(vars)
	r.SearchKey = searchKey(def)
	return f, nil
}

func searchKey(d Definition) string {
	parts := []string{d.Name}
	for _, c := range d.Components {
		parts = append(parts, c.Text)
	}
	return strings.ToLower(strings.Join(parts, " "))
}

// Create registers a template as it exists at the provider (status included).
func (s *Service) Create(ctx context.Context, in Input) (Template, error) {
	var f apperr.Fields
	for _, req := range []struct {
		missing        bool
		field, message string
	}{
		{in.ChannelID == nil, "channel_id", "channel_id is required"},
		{in.Name == nil, "name", "name is required"},
		{in.Language == nil, "language", "language is required"},
		{in.Category == nil, "category", "category is required"},
		{in.Status == nil, "status", "status is required"},
		{in.Components == nil, "components", "components are required"},
	} {
		if req.missing {
			f.Add(req.field, "required", req.message)
		}
	}
	if err := f.Err(); err != nil {
		return Template{}, err
	}
	now := store.Now()
	r := row{ID: store.NewID(), AccountID: store.AccountID(ctx), Quality: string(QualityUnknown), CreatedAt: now, UpdatedAt: now}
	f, err := s.build(ctx, &r, in)
	if err != nil {
		return Template{}, err
	}
	if err := f.Err(); err != nil {
		return Template{}, err
	}
	if err := s.db.Conn(ctx).Create(&r).Error; err != nil {
		return Template{}, store.Translate(err, nil, errExists)
	}
	s.byID.Changed(ctx, s.db)
	return r.toTemplate(), nil
}

func (s *Service) get(ctx context.Context, id string) (row, error) {
	return store.Get[row](s.db.Tenant(ctx, "templates"), id, ErrNotFound)
}

// Get returns one template of the account (as cached: see byID).
func (s *Service) Get(ctx context.Context, id string) (Template, error) {
	return s.byID.Get(ctx, store.AccountID(ctx)+"|"+id, func() (Template, error) {
		r, err := s.get(ctx, id)
		return r.toTemplate(), err
	})
}

// List returns a page of templates matching the filter.
func (s *Service) List(ctx context.Context, f Filter, p store.Page) ([]Template, *string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, nil, err
	}
	q := s.db.Tenant(ctx, "templates")
	if f.ChannelID != "" {
		if !store.ValidID(f.ChannelID) {
			return []Template{}, nil, nil
		}
		q = q.Where("channel_id = ?", f.ChannelID)
	}
	if f.Category != "" {
		q = q.Where("category = ?", strings.ToUpper(f.Category))
	}
	if f.Status != "" {
		q = q.Where("status = ?", strings.ToUpper(f.Status))
	}
	if f.Q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(f.Q)) + "%"
		q = q.Where("search_key LIKE ? ESCAPE '\\'", like)
	}
	return store.List(p, q, func(r row) string { return r.ID }, row.toTemplate)
}

// Update changes a template (operators mirroring Meta by hand).
func (s *Service) Update(ctx context.Context, id string, in Input) (Template, error) {
	r, err := s.get(ctx, id)
	if err != nil {
		return Template{}, err
	}
	if in.ChannelID != nil && *in.ChannelID != r.ChannelID {
		return Template{}, apperr.Invalid(apperr.FieldError{Field: "channel_id", Code: "channel_immutable", Message: "a template's channel cannot change"})
	}
	f, err := s.build(ctx, &r, in)
	if err != nil {
		return Template{}, err
	}
	if err := f.Err(); err != nil {
		return Template{}, err
	}
	r.UpdatedAt = store.Now()
	if err := s.db.Tenant(ctx, "templates").Where("id = ?", id).Select("*").Omit("id", "account_id", "created_at").Updates(&r).Error; err != nil {
		return Template{}, store.Translate(err, nil, errExists)
	}
	s.byID.Changed(ctx, s.db)
	return r.toTemplate(), nil
}

// Delete removes a template; messages sent with it keep their rendered text.
func (s *Service) Delete(ctx context.Context, id string) error {
	if _, err := s.get(ctx, id); err != nil {
		return err
	}
	err := s.db.Tenant(ctx, "templates").Where("id = ?", id).Delete(&row{}).Error
	s.byID.Changed(ctx, s.db)
	return store.Translate(err, nil, nil)
}

// Upsert stores a template pulled from the provider, keyed by channel, name and language. A
// definition Meta accepted but this package cannot validate is still stored, so its status shows.
func (s *Service) Upsert(ctx context.Context, channelID string, in Input) (Template, error) {
	now := store.Now()
	// A new template is not rated yet; a known one keeps the rating Meta's webhooks reported.
	r := row{ID: store.NewID(), AccountID: store.AccountID(ctx), Quality: string(QualityUnknown), CreatedAt: now, UpdatedAt: now}
	cid := channelID
	in.ChannelID = nil
	r.ChannelID = cid
	if _, err := s.build(ctx, &r, in); err != nil {
		return Template{}, err
	}
	err := s.db.Conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "account_id"}, {Name: "channel_id"}, {Name: "name"}, {Name: "language"}},
		DoUpdates: clause.AssignmentColumns([]string{"external_id", "category", "status", "parameter_format", "components", "variables", "search_key", "updated_at"}),
	}).Create(&r).Error
	s.byID.Changed(ctx, s.db)
	if err != nil {
		return Template{}, store.Translate(err, nil, nil)
	}
	var out row
	if err := s.db.Tenant(ctx, "templates").Where("channel_id = ? AND name = ? AND language = ?", cid, r.Name, r.Language).Take(&out).Error; err != nil {
		return Template{}, store.Translate(err, ErrNotFound, nil)
	}
	return out.toTemplate(), nil
}

// SetStatus records a status Meta reported for the channel's template, identified by its Meta
// id or by name and language. It returns how many templates changed.
func (s *Service) SetStatus(ctx context.Context, channelID, externalID, name, language string, status Status) (int64, error) {
	q := s.db.Tenant(ctx, "templates").Where("channel_id = ?", channelID)
	if externalID != "" {
		q = q.Where("(external_id = ? OR (name = ? AND language = ?))", externalID, name, language)
	} else {
		q = q.Where("name = ? AND language = ?", name, language)
	}
	res := q.Updates(map[string]any{"status": string(status), "updated_at": store.Now()})
	if res.RowsAffected > 0 {
		s.byID.Changed(ctx, s.db)
	}
	return res.RowsAffected, store.Translate(res.Error, nil, nil)
}

// ParseQuality reads a quality score as Meta reports it (GREEN, YELLOW, RED, UNKNOWN, any case);
// false for anything else.
func ParseQuality(s string) (Quality, bool) {
	switch q := Quality(strings.ToUpper(strings.TrimSpace(s))); q {
	case QualityGreen, QualityYellow, QualityRed, QualityUnknown:
		return q, true
	}
	return "", false
}

// SetQuality records the quality rating Meta reported for the channel's template, identified by
// its Meta id or by name and language. It returns the ids of the templates whose rating changed
// (none for a replay), so the caller announces only real changes.
func (s *Service) SetQuality(ctx context.Context, channelID, externalID, name, language string, q Quality) ([]string, error) {
	return s.setMeta(ctx, channelID, externalID, name, language, "quality", string(q))
}

// SetCategory records the category Meta moved the channel's template to (a UTILITY template
// reclassified as MARKETING now costs marketing rates and needs marketing consent). It returns
// the ids of the templates whose category changed; an unknown category is ErrCategoryInvalid.
func (s *Service) SetCategory(ctx context.Context, channelID, externalID, name, language string, c Category) ([]string, error) {
	if !c.IsKnown() {
		return nil, ErrCategoryInvalid
	}
	return s.setMeta(ctx, channelID, externalID, name, language, "category", string(c))
}

// ErrCategoryInvalid refuses a category that is not MARKETING, UTILITY or AUTHENTICATION.
var ErrCategoryInvalid = apperr.Invalid(apperr.FieldError{Field: "category", Code: "category_invalid",
	Message: "category must be MARKETING, UTILITY or AUTHENTICATION"})

// setMeta sets one column Meta's webhooks report on the channel's template found by Meta's id
// (or, failing that, name and language, as SetStatus does) where it differs.
func (s *Service) setMeta(ctx context.Context, channelID, externalID, name, language, column, value string) ([]string, error) {
	q := s.db.Tenant(ctx, "templates").Where("channel_id = ? AND "+column+" <> ?", channelID, value)
	switch {
	case externalID != "":
		q = q.Where("(external_id = ? OR (external_id = '' AND name = ? AND language = ?))", externalID, name, language)
	case name != "":
		q = q.Where("name = ? AND language = ?", name, language)
	default:
		return nil, nil
	}
	var ids []string
	if err := q.Pluck("id", &ids).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	res := s.db.Tenant(ctx, "templates").Where("id IN ?", ids).Updates(map[string]any{column: value, "updated_at": store.Now()})
	s.byID.Changed(ctx, s.db)
	return ids, store.Translate(res.Error, nil, nil)
}

// EventTemplateUpdated is published when Meta changes a template's quality rating or category.
const EventTemplateUpdated = "template.updated"

// Preview renders a template with the given parameters and returns the same parameter errors a
// conversation start would.
func (s *Service) Preview(ctx context.Context, id string, params json.RawMessage) (Template, Rendered, []apperr.FieldError, error) {
	t, err := s.Get(ctx, id)
	if err != nil {
		return Template{}, Rendered{}, nil, err
	}
	p, errs := ParseParams(params, t.ParameterFormat)
	if len(errs) == 0 {
		errs = t.Check(p)
	}
	return t, t.Render(p), errs, nil
}
