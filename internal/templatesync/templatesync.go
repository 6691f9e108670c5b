// Package templatesync mirrors the message templates of a channel's WhatsApp Business Account:
// it lists them at Meta (paginated), maps Meta's statuses onto the ones the product models, and
// upserts them through the template domain. An admin triggers it for one channel; a background
// loop runs it for every whatsapp_cloud channel.
package templatesync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/template"
	"github.com/atendimento/atendimento/internal/whatsapp"
)

// Lister lists a WhatsApp Business Account's templates at Meta; *whatsapp.Client implements it.
type Lister interface {
	ListTemplates(ctx context.Context, cr whatsapp.Credentials) ([]whatsapp.Template, error)
}

var _ Lister = (*whatsapp.Client)(nil)

// Syncer pulls channels' templates from the provider.
type Syncer struct {
	channels  *channel.Service
	templates *template.Service
	cloud     Lister
	log       *slog.Logger
}

// New returns a Syncer.
func New(channels *channel.Service, templates *template.Service, cloud Lister, log *slog.Logger) *Syncer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Syncer{channels: channels, templates: templates, cloud: cloud, log: log}
}

// Result is what one channel's sync did.
type Result struct {
	ChannelID string
	// Templates are the channel's templates Meta listed, as stored after the sync, in Meta's order.
	Templates []template.Template
	// Created counts templates new to the channel; Updated those whose status, category,
	// components or Meta id changed; Unchanged those already stored as Meta has them.
	Created, Updated, Unchanged int
	// Disabled counts templates synced earlier (they carry a Meta id) that Meta no longer lists:
	// deleted at Meta, they are marked DISABLED so they cannot start conversations.
	Disabled int
	// Failed are the templates Meta listed that cannot be stored (components that are not an
	// array of components): they are left as they were, and the others sync regardless.
	Failed []Failure
}

// Failure is a template Meta listed that could not be stored, and why.
type Failure struct {
	Name, Language string
	// Errors are the template rules it breaks (field, code, message).
	Errors []apperr.FieldError
}

// Errors of a sync.
var (
	// ErrNotSyncable is returned for a sandbox channel, which has no provider to pull from.
	ErrNotSyncable   = apperr.Conflict("channel_not_syncable", "only whatsapp_cloud channels have templates at a provider; register sandbox templates with POST /api/v1/templates")
	errNoCredentials = apperr.Conflict("channel_not_syncable", "the channel needs a waba_id and an access_token to sync its templates")
)

// StatusFromMeta maps a template status Meta reports onto the statuses the product models.
// Statuses that mean "under review" become PENDING; those that mean the template cannot be
// used (deleted, archived, over the account's template limit) and any status Meta may add later
// become DISABLED, so that nothing unknown can start a conversation.
func StatusFromMeta(status string) template.Status {
	switch s := template.Status(strings.ToUpper(strings.TrimSpace(status))); s {
	case template.StatusApproved, template.StatusPending, template.StatusRejected, template.StatusPaused, template.StatusDisabled:
		return s
	case "IN_APPEAL":
		return template.StatusPending
	default: // PENDING_DELETION, DELETED, ARCHIVED, LIMIT_EXCEEDED, FLAGGED, …
		return template.StatusDisabled
	}
}

// Sync pulls the templates of one channel of the context's account and upserts them. A sandbox
// channel, or one without a WABA id or access token, is ErrNotSyncable (409); a failure at Meta is
// a 502 provider_error naming Meta's code and title.
func (s *Syncer) Sync(ctx context.Context, channelID string) (Result, error) {
	ch, err := s.channels.Get(ctx, channelID)
	if err != nil {
		return Result{}, err
	}
	if ch.Provider != channel.ProviderWhatsAppCloud {
		return Result{}, ErrNotSyncable
	}
	sec, err := s.channels.Secrets(ctx, ch.ID)
	if err != nil {
		return Result{}, err
	}
	if ch.WABAID == "" || sec.AccessToken == "" {
		return Result{}, errNoCredentials
	}
	remote, err := s.cloud.ListTemplates(ctx, whatsapp.Credentials{PhoneNumberID: ch.PhoneNumberID, WABAID: ch.WABAID, AccessToken: sec.AccessToken})
	if err != nil {
		return Result{}, providerError(err)
	}
	stored, err := s.stored(ctx, ch.ID)
	if err != nil {
		return Result{}, err
	}
	res := Result{ChannelID: ch.ID, Templates: make([]template.Template, 0, len(remote))}
	listed := map[key]bool{}
	for _, mt := range remote {
		if mt.Name == "" || mt.Language == "" {
			continue // nothing to key it by; Meta always sends both
		}
		k := key{mt.Name, mt.Language}
		if listed[k] {
			continue
		}
		listed[k] = true
		in := input(mt)
		old, exists := stored[k]
		if exists && same(old, in) {
			res.Unchanged++
			res.Templates = append(res.Templates, old)
			continue
		}
		// The template domain stores what Meta has even where its own rules disagree, but not
		// components it cannot read at all: those fail alone, and the rest still sync.
		_, err := template.ParseComponents(in.Components)
		var t template.Template
		if err == nil {
			t, err = s.templates.Upsert(ctx, ch.ID, in)
		}
		if apperr.IsKind(err, apperr.KindInvalid) {
			fs := apperr.FieldsOf(err)
			if len(fs) == 0 {
				ae, _ := apperr.As(err)
				fs = apperr.Fields{{Code: ae.Code, Message: ae.Message}}
			}
			res.Failed = append(res.Failed, Failure{Name: mt.Name, Language: mt.Language, Errors: fs})
			if exists {
				res.Templates = append(res.Templates, old)
			}
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("upsert template %s (%s): %w", mt.Name, mt.Language, err)
		}
		if exists {
			res.Updated++
		} else {
			res.Created++
		}
		res.Templates = append(res.Templates, t)
	}
	for k, old := range stored {
		if listed[k] || old.ExternalID == "" || old.Status == template.StatusDisabled {
			continue // registered by hand (no Meta id), or already disabled
		}
		if _, err := s.templates.SetStatus(ctx, ch.ID, old.ExternalID, old.Name, old.Language, template.StatusDisabled); err != nil {
			return Result{}, fmt.Errorf("disable template %s (%s): %w", old.Name, old.Language, err)
		}
		res.Disabled++
	}
	return res, nil
}

// SyncAll syncs every active whatsapp_cloud channel of every account, each acting for its own
// account. A channel that fails is logged and skipped; it returns how many synced and failed.
func (s *Syncer) SyncAll(ctx context.Context) (synced, failed int, err error) {
	chs, err := s.channels.AllByProvider(ctx, channel.ProviderWhatsAppCloud)
	if err != nil {
		return 0, 0, fmt.Errorf("list whatsapp_cloud channels: %w", err)
	}
	for _, ch := range chs {
		if ctx.Err() != nil {
			return synced, failed, ctx.Err()
		}
		if !ch.Active || !ch.HasAccessToken || ch.WABAID == "" {
			continue
		}
		res, err := s.Sync(store.WithAccount(ctx, ch.AccountID), ch.ID)
		if err != nil {
			failed++
			s.log.Warn("template sync failed", "account_id", ch.AccountID, "channel_id", ch.ID, "err", err.Error())
			continue
		}
		synced++
		if res.Created+res.Updated+res.Disabled+len(res.Failed) > 0 {
			s.log.Info("templates synced", "account_id", ch.AccountID, "channel_id", ch.ID, "created", res.Created,
				"updated", res.Updated, "disabled", res.Disabled, "unchanged", res.Unchanged, "failed", len(res.Failed))
		}
	}
	return synced, failed, nil
}

type key struct{ name, language string }

// stored returns the channel's templates by name and language.
func (s *Syncer) stored(ctx context.Context, channelID string) (map[key]template.Template, error) {
	out := map[key]template.Template{}
	p := store.Page{Limit: store.MaxLimit}
	for {
		items, next, err := s.templates.List(ctx, template.Filter{ChannelID: channelID}, p)
		if err != nil {
			return nil, err
		}
		for _, t := range items {
			out[key{t.Name, t.Language}] = t
		}
		if next == nil {
			return out, nil
		}
		p.Cursor = *next
	}
}

// input maps Meta's template onto the template domain's input; the components go as Meta sent them.
func input(mt whatsapp.Template) template.Input {
	status := string(StatusFromMeta(mt.Status))
	in := template.Input{ExternalID: &mt.ID, Name: &mt.Name, Language: &mt.Language, Category: &mt.Category, Status: &status,
		Components: mt.Components}
	if mt.ParameterFormat != "" {
		in.ParameterFormat = &mt.ParameterFormat
	}
	if len(in.Components) == 0 {
		in.Components = json.RawMessage("[]")
	}
	return in
}

// same reports whether the stored template already is what in would write.
func same(t template.Template, in template.Input) bool {
	pf := string(template.ParameterFormatPositional)
	if in.ParameterFormat != nil {
		pf = strings.ToUpper(strings.TrimSpace(*in.ParameterFormat))
	}
	return t.ExternalID == strings.TrimSpace(*in.ExternalID) && string(t.Status) == *in.Status &&
		string(t.Category) == strings.ToUpper(strings.TrimSpace(*in.Category)) && string(t.ParameterFormat) == pf &&
		normalized(t.RawComponents) == normalized(in.Components)
}

// normalized is components as the template domain stores them; Postgres keeps them as jsonb,
// which reorders keys, so stored and new components are compared in one form.
func normalized(raw json.RawMessage) string {
	comps, err := template.ParseComponents(raw)
	if err != nil {
		return "invalid:" + string(raw)
	}
	b, _ := json.Marshal(comps)
	return string(b)
}

// providerError turns a failed call to Meta into a 502 provider_error that names Meta's code and
// title; the cause stays wrapped for the log.
func providerError(err error) error {
	detail := "the WhatsApp Cloud API could not be reached"
	var we *whatsapp.Error
	switch {
	case errors.As(err, &we) && we.Code != 0:
		detail = fmt.Sprintf("the WhatsApp Cloud API refused to list the templates: error %d: %s", we.Code, we.Title)
	case errors.As(err, &we) && we.HTTPStatus != 0:
		detail = fmt.Sprintf("the WhatsApp Cloud API answered HTTP %d", we.HTTPStatus)
	case errors.Is(err, whatsapp.ErrInvalidArgument):
		return errNoCredentials
	}
	return &apperr.Error{Kind: apperr.KindBadGateway, Code: "provider_error", Message: detail, Err: err}
}
