package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/phone"
	"github.com/atendimento/atendimento/internal/pricing"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/template"
)

// Send types of a start.
const (
	SendNow       = "now"
	SendScheduled = "scheduled"
)

// MaxScheduleAhead is how far ahead a start may be scheduled.
const MaxScheduleAhead = 30 * 24 * time.Hour

// StartInput is an outbound start as the API receives it.
type StartInput struct {
	ContactID   *string
	Contact     *contact.Input
	ChannelID   *string
	TeamID      *string
	SendType    *string
	ScheduledAt *string
	TemplateID  *string
	Parameters  json.RawMessage
	Text        *string
}

// Started is the result of a start: the conversation, its contact, its opening message and the
// estimated cost of that message.
type Started struct {
	Conversation   Conversation
	Contact        contact.Contact
	OpeningMessage Message
	Estimate       pricing.Estimate
}

// plan is a validated start, ready to be written.
type plan struct {
	contactID   string
	newContact  *contact.Input
	channel     channel.Channel
	teamID      string
	scheduledAt *time.Time
	tpl         *template.Template
	params      template.Params
	text        string
	window      *time.Time
	windowOpen  bool
	region      string
}

// Start opens a conversation with a contact: every check runs and every failure is reported in
// one 422; then, in one transaction, the contact (when given by phone), the conversation and its
// opening message in the outbox are written. An open conversation for the same contact and
// channel → 409 conversation_already_open with existing_id (a database constraint decides races).
func (s *Service) Start(ctx context.Context, actor Actor, in StartInput) (Started, error) {
	p, err := s.check(ctx, actor, in)
	if err != nil {
		return Started{}, err
	}
	var out Started
	var existing string
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		var err error
		if p.newContact != nil {
			out.Contact, err = s.contacts.FindOrCreate(ctx, *p.newContact, "contact.")
		} else {
			out.Contact, err = s.contacts.Get(ctx, p.contactID)
		}
		if err != nil {
			return err
		}
		now := s.now()
		status := StatusWaiting
		msgStatus := MsgPending
		due := now
		if p.scheduledAt != nil {
			status, msgStatus, due = StatusScheduled, MsgScheduled, *p.scheduledAt
		}
		// A window already open (the contact wrote on this channel in the last 24 h) carries over;
		// the checks read it, and a contact created just now has none.
		win := p.window
		if p.contactID != out.Contact.ID {
			win = nil
		}
		if p.tpl == nil {
			status = StatusActive
		}
		acc := store.AccountID(ctx)
		var createdBy *string
		if actor.UserID != "" {
			createdBy = &actor.UserID
		}
		team := p.teamID
		conv := convRow{ID: store.NewID(), AccountID: acc, ContactID: out.Contact.ID, ChannelID: p.channel.ID, TeamID: &team,
			Status: status, Origin: OriginActive, ScheduledAt: p.scheduledAt, WindowExpiresAt: win, NextSeq: 1,
			CreatedBy: createdBy, CreatedAt: now, UpdatedAt: now}
		if status == StatusWaiting {
			conv.WaitingSince = &now
		}
		res := s.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&conv)
		if res.Error != nil {
			return store.Translate(res.Error, nil, nil)
		}
		if res.RowsAffected == 0 {
			existing, err = s.openFor(ctx, out.Contact.ID, p.channel.ID)
			if err != nil {
				return err
			}
			return apperr.Conflict("conversation_already_open", "the contact already has an open conversation on this channel").With("existing_id", existing)
		}
		msg := msgRow{ID: store.NewID(), AccountID: acc, ConversationID: conv.ID, ChannelID: p.channel.ID, Seq: 1,
			Direction: "out", Status: msgStatus, DueAt: &due, CreatedBy: createdBy, CreatedAt: now, UpdatedAt: now}
		if p.tpl != nil {
			if err := fillTemplate(&msg, p.tpl, p.params); err != nil {
				return err
			}
			out.Estimate = s.card.Template(string(p.tpl.Category), p.region, conv.WindowExpiresAt != nil && now.Before(*conv.WindowExpiresAt))
		} else {
			msg.Type, msg.Text, msg.RenderedText = "text", p.text, p.text
			out.Estimate = s.card.Text()
		}
		if err := s.db.Conn(ctx).Create(&msg).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		out.Conversation = conv.toConversation()
		out.OpeningMessage = msg.toMessage()
		return nil
	})
	if err != nil {
		return Started{}, err
	}
	// Inside a caller's transaction (an idempotent start) these wait for its commit.
	s.emit(ctx, EventConversationCreated, out.Conversation.ID)
	s.emit(ctx, EventMessageCreated, out.OpeningMessage.ID)
	// Scheduled openings wake it too, so it can sleep until their time instead of the next poll.
	s.wake(ctx)
	return out, nil
}

func fillTemplate(msg *msgRow, t *template.Template, p template.Params) error {
	comps, err := t.SendComponents(p)
	if err != nil {
		return err
	}
	cb, _ := json.Marshal(comps)
	pb, _ := json.Marshal(paramsJSON(t, p))
	cs, ps := string(cb), string(pb)
	msg.Type = "template"
	msg.TemplateID = &t.ID
	msg.TemplateName, msg.TemplateLanguage, msg.TemplateCategory = t.Name, t.Language, string(t.Category)
	msg.Components, msg.Parameters = &cs, &ps
	msg.RenderedText = t.Render(p).Text
	return nil
}

// paramsJSON is the parameters as stored: an object by variable key.
func paramsJSON(t *template.Template, p template.Params) map[string]string {
	out := map[string]string{}
	for _, v := range t.Variables {
		if val, ok := p.Value(v); ok {
			out[v] = val
		}
	}
	return out
}

// check runs every rule of a start and reports all failures together.
func (s *Service) check(ctx context.Context, actor Actor, in StartInput) (plan, error) {
	var f apperr.Fields
	var p plan

	// Contact: an id of this account, or a phone (and name) to find or create.
	switch {
	case in.ContactID != nil:
		c, err := s.contacts.Get(ctx, *in.ContactID)
		if err != nil {
			if !errors.Is(err, contact.ErrNotFound) {
				return p, err
			}
			f.Add("contact_id", "contact_not_found", "no such contact in this account")
		} else {
			p.contactID = c.ID
			p.region = regionOf(c.Phone)
		}
	case in.Contact != nil:
		f = append(f, s.contacts.Check(ctx, *in.Contact, "contact.")...)
		p.newContact = in.Contact
		if in.Contact.Phone != nil {
			if n, fe := s.contacts.ParsePhone(ctx, "contact.phone", *in.Contact.Phone); fe == nil {
				p.region = n.Region()
				// The contact may already exist: its window and open conversation then count.
				if c, err := s.contacts.Lookup(ctx, *in.Contact.Phone); err == nil {
					p.contactID = c.ID
				}
			}
		}
	default:
		f.Add("contact_id", "contact_not_found", "contact_id or contact is required")
	}

	// Channel.
	if in.ChannelID == nil || *in.ChannelID == "" {
		f.Add("channel_id", "channel_not_found", "channel_id is required")
	} else if ch, err := s.channels.Get(ctx, *in.ChannelID); err != nil {
		if !errors.Is(err, channel.ErrNotFound) {
			return p, err
		}
		f.Add("channel_id", "channel_not_found", "no such channel in this account")
	} else if !ch.Active {
		p.channel = ch
		f.Add("channel_id", "channel_inactive", "the channel is inactive")
	} else {
		p.channel = ch
	}

	// Team: must exist, be allowed on the channel, and include the session user.
	if in.TeamID == nil || *in.TeamID == "" {
		f.Add("team_id", "team_not_found", "team_id is required")
	} else if ok, err := s.teams.Exists(ctx, *in.TeamID); err != nil {
		return p, err
	} else if !ok {
		f.Add("team_id", "team_not_found", "no such team in this account")
	} else {
		p.teamID = *in.TeamID
		if p.channel.ID != "" {
			ok, err := s.teams.AllowedOnChannel(ctx, p.teamID, p.channel.ID)
			if err != nil {
				return p, err
			}
			if !ok {
				f.Add("team_id", "team_not_allowed_on_channel", "the team may not use this channel")
			}
		}
		if actor.UserID != "" && !actor.IsAdmin {
			ok, err := s.teams.HasMember(ctx, p.teamID, actor.UserID)
			if err != nil {
				return p, err
			}
			if !ok {
				f.Add("team_id", "user_not_in_team", "you are not a member of this team")
			}
		}
	}

	// Send type and schedule.
	sendType := SendNow
	if in.SendType != nil {
		sendType = *in.SendType
	}
	now := s.now()
	switch sendType {
	case SendNow:
		if in.ScheduledAt != nil && *in.ScheduledAt != "" {
			f.Add("scheduled_at", "scheduled_at_invalid", "scheduled_at is only for send_type scheduled")
		}
	case SendScheduled:
		if in.ScheduledAt == nil || *in.ScheduledAt == "" {
			f.Add("scheduled_at", "scheduled_at_invalid", "scheduled_at is required for send_type scheduled")
			break
		}
		at, err := time.Parse(time.RFC3339, *in.ScheduledAt)
		switch {
		case err != nil:
			f.Add("scheduled_at", "scheduled_at_invalid", "scheduled_at must be an RFC 3339 time")
		case !at.After(now):
			f.Add("scheduled_at", "scheduled_at_invalid", "scheduled_at is in the past")
		case at.After(now.Add(MaxScheduleAhead)):
			f.Add("scheduled_at", "scheduled_at_invalid", "scheduled_at is more than 30 days ahead")
		default:
			t := at.UTC().Truncate(time.Microsecond)
			p.scheduledAt = &t
		}
	default:
		f.Add("send_type", "send_type_invalid", "send_type must be now or scheduled")
	}

	// Window: open when the contact wrote on this channel in the last 24 h.
	if p.contactID != "" && p.channel.ID != "" {
		win, err := s.windowFor(ctx, p.contactID, p.channel.ID)
		if err != nil {
			return p, err
		}
		p.window = win
		p.windowOpen = win != nil && now.Before(*win)
	}

	// Template and parameters, or free text inside the window.
	switch {
	case in.TemplateID != nil && *in.TemplateID != "":
		if in.Text != nil {
			f.Add("text", "text_not_allowed", "send either template_id and parameters or text")
		}
		fs, err := s.checkTemplate(ctx, *in.TemplateID, in.Parameters, p.channel.ID, &p)
		if err != nil {
			return p, err
		}
		f = append(f, fs...)
	case in.Text != nil && strings.TrimSpace(*in.Text) != "":
		if !p.windowOpen || p.scheduledAt != nil {
			f.Add("template_id", "template_required", "outside the 24-hour window a conversation starts with an approved template")
		} else if fe := checkText(*in.Text); fe != nil {
			f = append(f, *fe)
		}
		p.text = *in.Text
	default:
		f.Add("template_id", "template_required", "an approved template is required to start a conversation")
	}
	if err := f.Err(); err != nil {
		return p, err
	}
	return p, nil
}

// checkTemplate applies the template rules shared by starts and template messages.
func (s *Service) checkTemplate(ctx context.Context, id string, params json.RawMessage, channelID string, p *plan) (apperr.Fields, error) {
	var f apperr.Fields
	t, err := s.templates.Get(ctx, id)
	if err != nil {
		if !errors.Is(err, template.ErrNotFound) {
			return nil, err
		}
		f.Add("template_id", "template_not_found", "no such template in this account")
		return f, nil
	}
	if !t.Status.Sendable() {
		f.Add("template_id", "template_not_approved", "the template is "+string(t.Status)+", not APPROVED")
	}
	if channelID != "" && t.ChannelID != channelID {
		f.Add("template_id", "template_channel_mismatch", "the template belongs to another channel")
	}
	params = nullIfEmpty(params)
	prm, errs := template.ParseParams(params, t.ParameterFormat)
	if len(errs) == 0 {
		errs = t.Check(prm)
	}
	f = append(f, errs...)
	p.tpl, p.params = &t, prm
	return f, nil
}

func nullIfEmpty(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return b
}

// MaxText is the longest free-text message WhatsApp accepts.
const MaxText = 4096

func checkText(text string) *apperr.FieldError {
	if len([]rune(text)) > MaxText {
		return &apperr.FieldError{Field: "text", Code: "text_invalid", Message: "text must have at most 4096 characters"}
	}
	return nil
}

func regionOf(e164 string) string {
	n, err := phone.Parse(e164, "")
	if err != nil {
		return ""
	}
	return n.Region()
}

// windowFor returns the latest window expiry of the contact on the channel, across conversations.
func (s *Service) windowFor(ctx context.Context, contactID, channelID string) (*time.Time, error) {
	var rows []convRow
	err := s.db.Tenant(ctx, "conversations").Where("contact_id = ? AND channel_id = ? AND window_expires_at IS NOT NULL", contactID, channelID).
		Order("window_expires_at DESC").Limit(1).Find(&rows).Error
	if err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return utc(rows[0].WindowExpiresAt), nil
}

// openFor returns the id of the open conversation of the contact on the channel.
func (s *Service) openFor(ctx context.Context, contactID, channelID string) (string, error) {
	var ids []string
	err := s.db.Tenant(ctx, "conversations").Where("contact_id = ? AND channel_id = ? AND status IN ?", contactID, channelID,
		openStatuses).Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return "", store.Translate(err, nil, nil)
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[0], nil
}

// Estimate returns the estimated cost of sending a template to a contact now.
func (s *Service) Estimate(ctx context.Context, templateID, contactID string) (pricing.Estimate, error) {
	var f apperr.Fields
	t, err := s.templates.Get(ctx, templateID)
	if err != nil {
		if !errors.Is(err, template.ErrNotFound) {
			return pricing.Estimate{}, err
		}
		f.Add("template_id", "template_not_found", "no such template in this account")
	}
	c, err := s.contacts.Get(ctx, contactID)
	if err != nil {
		if !errors.Is(err, contact.ErrNotFound) {
			return pricing.Estimate{}, err
		}
		f.Add("contact_id", "contact_not_found", "no such contact in this account")
	}
	if err := f.Err(); err != nil {
		return pricing.Estimate{}, err
	}
	win, err := s.windowFor(ctx, c.ID, t.ChannelID)
	if err != nil {
		return pricing.Estimate{}, err
	}
	return s.card.Template(string(t.Category), regionOf(c.Phone), win != nil && s.now().Before(*win)), nil
}
