// Package channel owns the WhatsApp numbers an account sends from. Their Meta secrets are
// write-only: stored encrypted, given only to the provider, never returned by the API.
package channel

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/phone"
	"github.com/atendimento/atendimento/internal/secret"
	"github.com/atendimento/atendimento/internal/store"
)

// Providers.
const (
	ProviderWhatsAppCloud = "whatsapp_cloud"
	ProviderSandbox       = "sandbox"
)

// Channel is a WhatsApp number of the company.
type Channel struct {
	ID             string
	AccountID      string
	Name           string
	Provider       string
	PhoneNumber    string
	PhoneNumberID  string
	WABAID         string
	Active         bool
	DefaultTeamID  *string
	HasAccessToken bool
	HasAppSecret   bool
	HasVerifyToken bool
	// LastWebhookAt is when a delivery signed with the channel's app secret last arrived (to the
	// minute: it is written at most once a minute), nil until one does.
	LastWebhookAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Secrets are a channel's decrypted Meta credentials, for the provider and the webhook only.
type Secrets struct {
	AccessToken string
	AppSecret   string
	VerifyToken string
}

// Input is what creating or changing a channel takes; nil fields are left unchanged on update.
// DefaultTeamID set to a pointer to "" clears the default team.
type Input struct {
	Name          *string
	Provider      *string
	PhoneNumber   *string
	PhoneNumberID *string
	WABAID        *string
	AccessToken   *string
	AppSecret     *string
	VerifyToken   *string
	Active        *bool
	DefaultTeamID *string
}

// TeamExists reports whether a team id belongs to the context's account.
type TeamExists func(ctx context.Context, id string) (bool, error)

// Service is the channel domain.
type Service struct {
	db         *store.DB
	box        *secret.Box
	teamExists TeamExists
	// webhookSeen throttles LastWebhookAt's writes: the time this instance last wrote it, per channel.
	webhookMu   sync.Mutex
	webhookSeen map[string]time.Time
	// hooked caches ForWebhook's channels (with their opened secrets) for WebhookCacheTTL: every
	// delivery needs its channel, and Meta posts many a second.
	hookedMu sync.Mutex
	hooked   map[string]cachedChannel
	// byID caches Checked per account and id, secrets Secrets (the dispatcher's, every batch).
	byID    *store.Cache[Channel]
	secrets *store.Cache[Secrets]
}

// checkedTTL bounds how long an instance that missed another's change notification may check
// starts against a channel as it was.
const checkedTTL = 30 * time.Second

// WebhookCacheTTL is how long a webhook delivery may use a channel read before: a change made on
// another instance (a new app secret, a deleted channel) reaches this one's webhooks within it.
// This instance's own changes apply at once.
const WebhookCacheTTL = 5 * time.Second

type cachedChannel struct {
	ch  Channel
	sec Secrets
	at  time.Time
}

// forget drops the cached copies of a channel this instance changed (called after the write), at
// once and again once the change commits (a delivery in between may have cached the old row).
func (s *Service) forget(ctx context.Context, id string) {
	drop := func() {
		s.hookedMu.Lock()
		delete(s.hooked, id)
		s.hookedMu.Unlock()
	}
	drop()
	store.AfterCommit(ctx, func(context.Context) { drop() })
	s.byID.Changed(ctx, s.db)
}

// NewService returns the channel service.
func NewService(db *store.DB, box *secret.Box, teamExists TeamExists) *Service {
	return &Service{db: db, box: box, teamExists: teamExists, webhookSeen: map[string]time.Time{}, hooked: map[string]cachedChannel{},
		byID: store.NewCache[Channel](db, "channels", checkedTTL), secrets: store.NewCache[Secrets](db, "channels", checkedTTL)}
}

type row struct {
	ID            string
	AccountID     string
	Name          string
	Provider      string
	PhoneNumber   string
	PhoneNumberID string
	WabaID        string
	AccessToken   string
	AppSecret     string
	VerifyToken   string
	Active        bool
	DefaultTeamID *string
	LastWebhookAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (row) TableName() string { return "channels" }

func (r row) toChannel() Channel {
	return Channel{ID: r.ID, AccountID: r.AccountID, Name: r.Name, Provider: r.Provider, PhoneNumber: r.PhoneNumber,
		PhoneNumberID: r.PhoneNumberID, WABAID: r.WabaID, Active: r.Active, DefaultTeamID: r.DefaultTeamID,
		HasAccessToken: r.AccessToken != "", HasAppSecret: r.AppSecret != "", HasVerifyToken: r.VerifyToken != "",
		LastWebhookAt: r.LastWebhookAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// ErrNotFound is returned for an id with no channel in the account.
var ErrNotFound = apperr.NotFound("channel_not_found", "no such channel in this account")

func (s *Service) apply(ctx context.Context, r *row, in Input) apperr.Fields {
	var f apperr.Fields
	set := func(dst *string, src *string, field string, max int) {
		if src == nil {
			return
		}
		v := strings.TrimSpace(*src)
		if len(v) > max {
			f.Add(field, field+"_invalid", fmt.Sprintf("%s must have at most %d characters", field, max))
		}
		*dst = v
	}
	set(&r.Name, in.Name, "name", 200)
	set(&r.Provider, in.Provider, "provider", 40)
	set(&r.PhoneNumberID, in.PhoneNumberID, "phone_number_id", 64)
	set(&r.WabaID, in.WABAID, "waba_id", 64)
	if in.PhoneNumber != nil {
		n, err := phone.Parse(*in.PhoneNumber, "BR")
		if err != nil {
			f.Add("phone_number", "phone_invalid", "phone_number is not a valid number")
		} else {
			r.PhoneNumber = n.E164()
		}
	}
	for _, sec := range []struct {
		dst   *string
		src   *string
		field string
	}{{&r.AccessToken, in.AccessToken, "access_token"}, {&r.AppSecret, in.AppSecret, "app_secret"}, {&r.VerifyToken, in.VerifyToken, "verify_token"}} {
		if sec.src == nil {
			continue
		}
		if len(*sec.src) > 4096 {
			f.Add(sec.field, sec.field+"_invalid", sec.field+" is too long")
			continue
		}
		*sec.dst = s.box.Seal(*sec.src)
	}
	if in.Active != nil {
		r.Active = *in.Active
	}
	if in.DefaultTeamID != nil {
		if *in.DefaultTeamID == "" {
			r.DefaultTeamID = nil
		} else if ok, err := s.teamExists(ctx, *in.DefaultTeamID); err != nil || !ok {
			f.Add("default_team_id", "team_not_found", "no such team in this account")
		} else {
			id := *in.DefaultTeamID
			r.DefaultTeamID = &id
		}
	}
	if r.Name == "" {
		f.Add("name", "required", "name is required")
	}
	switch r.Provider {
	case ProviderSandbox:
	case ProviderWhatsAppCloud:
		for _, req := range []struct{ v, field string }{{r.PhoneNumberID, "phone_number_id"}, {r.WabaID, "waba_id"},
			{r.AccessToken, "access_token"}, {r.AppSecret, "app_secret"}, {r.VerifyToken, "verify_token"}} {
			if req.v == "" {
				f.Add(req.field, "required", req.field+" is required for whatsapp_cloud channels")
			}
		}
	default:
		f.Add("provider", "provider_invalid", "provider must be whatsapp_cloud or sandbox")
	}
	if r.PhoneNumber == "" && in.PhoneNumber == nil {
		f.Add("phone_number", "required", "phone_number is required")
	}
	return f
}

// Create adds a channel to the account.
func (s *Service) Create(ctx context.Context, in Input) (Channel, error) {
	now := store.Now()
	r := row{ID: store.NewID(), AccountID: store.AccountID(ctx), Active: true, CreatedAt: now, UpdatedAt: now}
	if err := s.apply(ctx, &r, in).Err(); err != nil {
		return Channel{}, err
	}
	if err := s.db.Conn(ctx).Create(&r).Error; err != nil {
		return Channel{}, store.Translate(err, nil, nil)
	}
	return r.toChannel(), nil
}

func (s *Service) get(ctx context.Context, id string) (row, error) {
	return store.Get[row](s.db.Tenant(ctx, "channels"), id, ErrNotFound)
}

// Get returns one channel of the account.
func (s *Service) Get(ctx context.Context, id string) (Channel, error) {
	r, err := s.get(ctx, id)
	return r.toChannel(), err
}

// Checked is Get for the checks of every start and send: the channel as this instance last read
// it (see byID), whose LastWebhookAt may be old. Screens that show a channel use Get.
func (s *Service) Checked(ctx context.Context, id string) (Channel, error) {
	return s.byID.Get(ctx, store.AccountID(ctx)+"|"+id, func() (Channel, error) { return s.Get(ctx, id) })
}

// List returns a page of the account's channels.
func (s *Service) List(ctx context.Context, p store.Page) ([]Channel, *string, error) {
	return store.List(p, s.db.Tenant(ctx, "channels"), func(r row) string { return r.ID }, row.toChannel)
}

// Update changes the given fields of a channel.
func (s *Service) Update(ctx context.Context, id string, in Input) (Channel, error) {
	r, err := s.get(ctx, id)
	if err != nil {
		return Channel{}, err
	}
	if in.Provider != nil && *in.Provider != r.Provider {
		return Channel{}, apperr.Invalid(apperr.FieldError{Field: "provider", Code: "provider_immutable", Message: "a channel's provider cannot change; create another channel"})
	}
	if err := s.apply(ctx, &r, in).Err(); err != nil {
		return Channel{}, err
	}
	r.UpdatedAt = store.Now()
	if err := s.db.Tenant(ctx, "channels").Where("id = ?", id).Select("*").Omit("id", "account_id", "created_at", "last_webhook_at").Updates(&r).Error; err != nil {
		return Channel{}, store.Translate(err, nil, nil)
	}
	s.forget(ctx, id)
	return r.toChannel(), nil
}

// Delete removes a channel that has no conversations (else 409 channel_in_use; deactivate it instead).
func (s *Service) Delete(ctx context.Context, id string) error {
	if _, err := s.get(ctx, id); err != nil {
		return err
	}
	if err := s.db.Tenant(ctx, "channels").Where("id = ?", id).Delete(&row{}).Error; err != nil {
		if msg := strings.ToLower(err.Error()); strings.Contains(msg, "foreign key") || strings.Contains(msg, "23503") {
			return apperr.Conflict("channel_in_use", "the channel has conversations; deactivate it instead")
		}
		return store.Translate(err, nil, nil)
	}
	s.forget(ctx, id)
	// Its templates and team links went with it (ON DELETE CASCADE): their caches forget them.
	s.db.CachesChanged(ctx, "templates", "teams")
	return nil
}

// Secrets returns the decrypted credentials of a channel of the account.
func (s *Service) Secrets(ctx context.Context, id string) (Secrets, error) {
	return s.secrets.Get(ctx, store.AccountID(ctx)+"|"+id, func() (Secrets, error) {
		r, err := s.get(ctx, id)
		if err != nil {
			return Secrets{}, err
		}
		return s.open(r)
	})
}

func (s *Service) open(r row) (Secrets, error) {
	var out Secrets
	var err error
	if out.AccessToken, err = s.box.Open(r.AccessToken); err != nil {
		return Secrets{}, err
	}
	if out.AppSecret, err = s.box.Open(r.AppSecret); err != nil {
		return Secrets{}, err
	}
	if out.VerifyToken, err = s.box.Open(r.VerifyToken); err != nil {
		return Secrets{}, err
	}
	return out, nil
}

// ForWebhook loads a channel by its globally unique id, before any account is known (Meta's
// webhook path carries only the channel id), with its secrets.
func (s *Service) ForWebhook(ctx context.Context, id string) (Channel, Secrets, error) {
	if !store.ValidID(id) {
		return Channel{}, Secrets{}, ErrNotFound
	}
	now := time.Now()
	s.hookedMu.Lock()
	c, ok := s.hooked[id]
	s.hookedMu.Unlock()
	if ok && now.Sub(c.at) < WebhookCacheTTL && !now.Before(c.at) {
		return c.ch, c.sec, nil
	}
	var r row
	if err := s.db.Conn(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return Channel{}, Secrets{}, store.Translate(err, ErrNotFound, nil)
	}
	sec, err := s.open(r)
	if err != nil {
		return r.toChannel(), sec, err
	}
	s.hookedMu.Lock()
	if len(s.hooked) > 10000 {
		clear(s.hooked) // bounded memory; the next deliveries refill what is in use
	}
	s.hooked[id] = cachedChannel{ch: r.toChannel(), sec: sec, at: now}
	s.hookedMu.Unlock()
	return r.toChannel(), sec, nil
}

// AnyWhatsApp reports whether any account has a whatsapp_cloud channel: until one does, no
// real message can be sent or received, and the server says at start how to connect a number.
func (s *Service) AnyWhatsApp(ctx context.Context) (bool, error) {
	var n int64
	if err := s.db.Conn(ctx).Table("channels").Where("provider = ?", ProviderWhatsAppCloud).Count(&n).Error; err != nil {
		return false, fmt.Errorf("count whatsapp channels: %w", err)
	}
	return n > 0, nil
}

// Missing returns those of ids that are not channels of the account.
func (s *Service) Missing(ctx context.Context, ids []string) ([]string, error) {
	return s.db.MissingIDs(ctx, "channels", ids)
}

// WebhookEvery is how often, at most, a channel's LastWebhookAt is written: Meta may post many
// deliveries a second, and the screen that shows the time needs it to the minute.
const WebhookEvery = time.Minute

// WebhookReceived records that a delivery signed with the channel's app secret arrived at now.
// Within WebhookEvery of this instance's last write it writes nothing, so the webhook pays a
// map lookup, and one small UPDATE a minute per channel.
func (s *Service) WebhookReceived(ctx context.Context, id string, now time.Time) error {
	s.webhookMu.Lock()
	if last, ok := s.webhookSeen[id]; ok && now.Sub(last) < WebhookEvery && !now.Before(last) {
		s.webhookMu.Unlock()
		return nil
	}
	s.webhookSeen[id] = now
	s.webhookMu.Unlock()
	at := now.UTC().Truncate(time.Microsecond)
	if err := s.db.Conn(ctx).Table("channels").Where("id = ?", id).Update("last_webhook_at", at).Error; err != nil {
		// Not recorded: let the next delivery try again.
		s.webhookMu.Lock()
		delete(s.webhookSeen, id)
		s.webhookMu.Unlock()
		return fmt.Errorf("record webhook time: %w", err)
	}
	return nil
}
