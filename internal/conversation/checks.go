package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/media"
	"github.com/atendimento/atendimento/internal/template"
)

// check runs every rule of a start and reports all failures together, in the order of the
// steps. A field left out (absent or empty) is *_required (contact_required, channel_required,
// team_required; template_required when neither a template nor text that may go is given), one
// given that the account lacks is *_not_found. The steps: contact, channel, team, schedule, content (which needs the window the earlier steps
// locate), then the contact's marketing consent (which needs both the contact and the template). A step stops the start only when the database fails.
func (s *Service) check(ctx context.Context, actor Actor, in StartInput) (plan, error) {
	var p plan
	now := s.now()
	steps := []func() (apperr.Fields, error){
		func() (apperr.Fields, error) { return s.checkContact(ctx, in, &p) },
		func() (apperr.Fields, error) { return s.checkChannel(ctx, in.ChannelID, &p) },
		func() (apperr.Fields, error) { return s.checkTeam(ctx, actor, in.TeamID, &p) },
		func() (apperr.Fields, error) {
			var f apperr.Fields
			p.scheduledAt, f = checkSchedule(in.SendType, in.ScheduledAt, now)
			return f, nil
		},
		func() (apperr.Fields, error) { return nil, s.readWindow(ctx, now, &p) },
		func() (apperr.Fields, error) { return s.checkContent(ctx, in, &p) },
		func() (apperr.Fields, error) { return consentFields(p.optedOut, p.tpl), nil },
	}
	var f apperr.Fields
	for _, step := range steps {
		fs, err := step()
		if err != nil {
			return p, err
		}
		f = append(f, fs...)
	}
	return p, f.Err()
}

// fieldErr is a single failing field, the answer of most checks.
func fieldErr(field, code, message string) apperr.Fields {
	return apperr.Fields{{Field: field, Code: code, Message: message}}
}

// checkContact resolves the contact: an id of this account, or a phone (and name) to find or
// create when the start is written.
func (s *Service) checkContact(ctx context.Context, in StartInput, p *plan) (apperr.Fields, error) {
	switch {
	case in.ContactID != nil && *in.ContactID != "":
		c, err := s.contacts.Get(ctx, *in.ContactID)
		if errors.Is(err, contact.ErrNotFound) {
			return fieldErr("contact_id", "contact_not_found", "no such contact in this account"), nil
		}
		if err != nil {
			return nil, err
		}
		p.contactID, p.region, p.optedOut = c.ID, regionOf(c.Phone), c.MarketingOptedOut
		return nil, nil
	case in.Contact != nil:
		p.newContact = in.Contact
		s.knownContact(ctx, *in.Contact, p)
		return s.contacts.Check(ctx, *in.Contact, "contact."), nil
	}
	return fieldErr("contact_id", "contact_required", "contact_id or contact is required"), nil
}

// knownContact notes the region of a contact given by phone and, when the phone already has a
// contact, that contact: its window and open conversation then count. A bad phone is reported by
// the contact's own checks.
func (s *Service) knownContact(ctx context.Context, in contact.Input, p *plan) {
	if in.Phone == nil {
		return
	}
	n, fe := s.contacts.ParsePhone(ctx, "contact.phone", *in.Phone)
	if fe != nil {
		return
	}
	p.region = n.Region()
	if c, err := s.contacts.Lookup(ctx, *in.Phone); err == nil {
		p.contactID, p.optedOut = c.ID, c.MarketingOptedOut
	}
}

// checkChannel requires an active channel of this account. An inactive one is still recorded, so
// the team and template checks can tell whether they fit it.
func (s *Service) checkChannel(ctx context.Context, id *string, p *plan) (apperr.Fields, error) {
	if id == nil || *id == "" {
		return fieldErr("channel_id", "channel_required", "channel_id is required"), nil
	}
	ch, err := s.channels.Checked(ctx, *id)
	if errors.Is(err, channel.ErrNotFound) {
		return fieldErr("channel_id", "channel_not_found", "no such channel in this account"), nil
	}
	if err != nil {
		return nil, err
	}
	p.channel = ch
	if !ch.Active {
		return fieldErr("channel_id", "channel_inactive", "the channel is inactive"), nil
	}
	return nil, nil
}

// checkTeam requires a team of this account that may use the channel and, for a session agent,
// that includes them.
func (s *Service) checkTeam(ctx context.Context, actor Actor, id *string, p *plan) (apperr.Fields, error) {
	if id == nil || *id == "" {
		return fieldErr("team_id", "team_required", "team_id is required"), nil
	}
	ok, err := s.teams.Exists(ctx, *id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return fieldErr("team_id", "team_not_found", "no such team in this account"), nil
	}
	p.teamID = *id
	var f apperr.Fields
	if p.channel.ID != "" {
		ok, err = s.teams.AllowedOnChannel(ctx, p.teamID, p.channel.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			f.Add("team_id", "team_not_allowed_on_channel", "the team may not use this channel")
		}
	}
	if actor.UserID != "" && !actor.IsAdmin {
		ok, err = s.teams.HasMember(ctx, p.teamID, actor.UserID)
		if err != nil {
			return nil, err
		}
		if !ok {
			f.Add("team_id", "user_not_in_team", "you are not a member of this team")
		}
	}
	return f, nil
}

// checkSchedule reads the send type and, for a scheduled start, its time: after now and at most
// MaxScheduleAhead away. It returns the time to send (nil: now), in UTC at the database's
// precision.
func checkSchedule(sendType, scheduledAt *string, now time.Time) (*time.Time, apperr.Fields) {
	st := SendNow
	if sendType != nil {
		st = *sendType
	}
	given := scheduledAt != nil && *scheduledAt != ""
	switch {
	case st == SendNow && given:
		return nil, fieldErr("scheduled_at", "scheduled_at_invalid", "scheduled_at is only for send_type scheduled")
	case st == SendNow:
		return nil, nil
	case st != SendScheduled:
		return nil, fieldErr("send_type", "send_type_invalid", "send_type must be now or scheduled")
	case !given:
		return nil, fieldErr("scheduled_at", "scheduled_at_invalid", "scheduled_at is required for send_type scheduled")
	}
	at, err := time.Parse(time.RFC3339, *scheduledAt)
	switch {
	case err != nil:
		return nil, fieldErr("scheduled_at", "scheduled_at_invalid", "scheduled_at must be an RFC 3339 time")
	case !at.After(now):
		return nil, fieldErr("scheduled_at", "scheduled_at_invalid", "scheduled_at is in the past")
	case at.After(now.Add(MaxScheduleAhead)):
		return nil, fieldErr("scheduled_at", "scheduled_at_invalid", "scheduled_at is more than 30 days ahead")
	}
	t := at.UTC().Truncate(time.Microsecond)
	return &t, nil
}

// readWindow records the contact's window on the channel: open when the contact wrote there in
// the last 24 h. Without a known contact and channel there is none.
func (s *Service) readWindow(ctx context.Context, now time.Time, p *plan) error {
	if p.contactID == "" || p.channel.ID == "" {
		return nil
	}
	win, err := s.windowFor(ctx, p.contactID, p.channel.ID)
	if err != nil {
		return err
	}
	p.window, p.windowOpen = win, win != nil && now.Before(*win)
	return nil
}

// checkContent checks what a start sends: a template with its parameters, or free text, which
// may open a conversation only inside an open window and not on a schedule.
func (s *Service) checkContent(ctx context.Context, in StartInput, p *plan) (apperr.Fields, error) {
	if in.TemplateID != nil && *in.TemplateID != "" {
		return s.checkTemplate(ctx, *in.TemplateID, in.Text, in.Parameters, in.HeaderMedia, p.channel.ID, p)
	}
	if in.Text == nil || strings.TrimSpace(*in.Text) == "" {
		return fieldErr("template_id", "template_required", "an approved template is required to start a conversation"), nil
	}
	p.text = *in.Text
	if !p.windowOpen || p.scheduledAt != nil {
		return fieldErr("template_id", "template_required", "outside the 24-hour window a conversation starts with an approved template"), nil
	}
	return textFields(*in.Text), nil
}

// checkTemplate applies the template rules shared by starts and template messages; text beside
// a template is refused, so the agent knows it would not be sent.
func (s *Service) checkTemplate(ctx context.Context, id string, text *string, params json.RawMessage, header *HeaderMedia, channelID string,
	p *plan) (apperr.Fields, error) {
	var f apperr.Fields
	if text != nil {
		f.Add("text", "text_not_allowed", "send either template_id and parameters or text")
	}
	t, err := s.templates.Get(ctx, id)
	if errors.Is(err, template.ErrNotFound) {
		return append(f, fieldErr("template_id", "template_not_found", "no such template in this account")...), nil
	}
	if err != nil {
		return nil, err
	}
	prm, fs := templateFields(t, channelID, params)
	p.tpl, p.params = &t, prm
	f = append(f, fs...)
	return append(f, s.headerMediaFields(ctx, t, header, p)...), nil
}

// headerMediaFields checks the file of a template's IMAGE, VIDEO or DOCUMENT header: given
// (header_media_missing), of the header's kind (header_media_kind_mismatch), an uploaded file
// of the account or an https link. The plan keeps it for the send: an uploaded file as a
// placeholder the dispatcher replaces with Meta's id for it on the channel.
func (s *Service) headerMediaFields(ctx context.Context, t template.Template, h *HeaderMedia, p *plan) apperr.Fields {
	var f apperr.Fields
	kind := t.MediaHeader()
	if kind == "" {
		return nil
	}
	hasID, hasLink := h != nil && h.MediaID != nil && *h.MediaID != "", h != nil && h.Link != nil && *h.Link != ""
	switch {
	case !hasID && !hasLink:
		f.Add("header_media", "header_media_missing", "the template's "+kind+" header needs header_media: {media_id} or {link}")
	case hasID && hasLink:
		f.Add("header_media", "header_media_invalid", "give either media_id or link")
	case hasLink:
		u, err := url.Parse(*h.Link)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			f.Add("header_media.link", "header_media_invalid", "link must be an https URL")
			break
		}
		p.header = &template.MediaRef{Link: *h.Link, Filename: path.Base(u.Path)}
	default:
		if s.media == nil {
			f.Add("header_media.media_id", "media_not_found", "media_id is not a file of this account")
			break
		}
		m, err := s.media.Get(ctx, *h.MediaID)
		switch {
		case err != nil:
			f.Add("header_media.media_id", "media_not_found", "media_id is not a file of this account")
		case string(m.Kind) != kind:
			f.Add("header_media.media_id", "header_media_kind_mismatch", "the header takes a "+kind+", the file is a "+string(m.Kind))
		case m.Status != media.StatusReady:
			f.Add("header_media.media_id", "media_not_ready", "the file is not ready to send")
		default:
			p.header = &template.MediaRef{ID: MediaPlaceholder(m.ID), Filename: m.Filename}
			p.headerMedia = &m
		}
	}
	return f
}

// MediaPlaceholder stands in a stored template send for the file's id at Meta, which only the
// dispatcher knows (it uploads the file to the sending channel).
func MediaPlaceholder(mediaID string) string { return "media:" + mediaID }

// templateFields checks a template found in the account: sendable, of the channel (when one is
// known), and the parameters it needs, parsed.
func templateFields(t template.Template, channelID string, params json.RawMessage) (template.Params, apperr.Fields) {
	var f apperr.Fields
	if !t.Status.Sendable() {
		f.Add("template_id", "template_not_approved", "the template is "+string(t.Status)+", not APPROVED")
	}
	if channelID != "" && t.ChannelID != channelID {
		f.Add("template_id", "template_channel_mismatch", "the template belongs to another channel")
	}
	if len(params) == 0 {
		params = nil
	}
	prm, errs := template.ParseParams(params, t.ParameterFormat)
	if len(errs) == 0 {
		errs = t.Check(prm)
	}
	return prm, append(f, errs...)
}

// MaxText is the longest free-text message WhatsApp accepts.
const MaxText = 4096

// textFields checks free text against WhatsApp's limit.
func textFields(text string) apperr.Fields {
	if len([]rune(text)) > MaxText {
		return fieldErr("text", "text_invalid", "text must have at most 4096 characters")
	}
	return nil
}
