package conversation

import (
	"context"
	"encoding/json"
	"errors"
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
	// optedOut is the known contact's marketing opt-out (a new contact has none).
	optedOut bool
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
		createdBy := actor.createdBy()
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
