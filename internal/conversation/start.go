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
	"github.com/atendimento/atendimento/internal/media"
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
	HeaderMedia *HeaderMedia
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
	// media is the file a posted message sends; header (and headerMedia, for an uploaded file)
	// the file of a template's media header.
	media       *media.Media
	header      *template.MediaRef
	headerMedia *media.Media
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
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if out, err = s.writeStart(ctx, actor, p); err != nil {
			return err
		}
		// Once the outermost transaction commits (a caller's, for an idempotent start), in one
		// write to the event log.
		s.emit(ctx, EventConversationCreated, out.Conversation.ID)
		s.emit(ctx, EventMessageCreated, out.OpeningMessage.ID)
		// Scheduled openings wake it too, so it can sleep until their time instead of the next poll.
		s.wake(ctx)
		return nil
	})
	if err != nil {
		return Started{}, err
	}
	return out, nil
}

// writeStart writes a checked start in the context's transaction: the contact found or created,
// the conversation and its opening message.
func (s *Service) writeStart(ctx context.Context, actor Actor, p plan) (Started, error) {
	var out Started
	var err error
	if p.newContact != nil {
		out.Contact, err = s.contacts.FindOrCreate(ctx, *p.newContact, "contact.")
	} else {
		out.Contact, err = s.contacts.Get(ctx, p.contactID)
	}
	if err != nil {
		return Started{}, err
	}
	now := s.now()
	conv, msg, err := p.opening(store.AccountID(ctx), out.Contact.ID, actor.createdBy(), now)
	if err != nil {
		return Started{}, err
	}
	if err := s.insertOpen(ctx, &conv); err != nil {
		return Started{}, err
	}
	if err := s.db.Conn(ctx).Create(&msg).Error; err != nil {
		return Started{}, store.Translate(err, nil, nil)
	}
	out.Conversation, out.OpeningMessage = conv.toConversation(), msg.toMessage()
	out.Estimate = s.card.Text()
	if p.tpl != nil {
		out.Estimate = s.card.Template(string(p.tpl.Category), p.region, conv.WindowExpiresAt != nil && now.Before(*conv.WindowExpiresAt))
	}
	return out, nil
}

// opening builds the rows a start writes for contactID at now: the conversation (waiting for the
// reply to its template, scheduled, or active when it opens with text inside the window) and its
// opening message (due now, or at the scheduled time).
func (p plan) opening(accountID, contactID string, createdBy *string, now time.Time) (convRow, msgRow, error) {
	status, msgStatus, due := StatusWaiting, MsgPending, now
	if p.scheduledAt != nil {
		status, msgStatus, due = StatusScheduled, MsgScheduled, *p.scheduledAt
	}
	if p.tpl == nil {
		status = StatusActive
	}
	// A window already open (the contact wrote on this channel in the last 24 h) carries over;
	// the checks read it, and a contact created just now has none.
	win := p.window
	if p.contactID != contactID {
		win = nil
	}
	team := p.teamID
	conv := convRow{ID: store.NewID(), AccountID: accountID, ContactID: contactID, ChannelID: p.channel.ID, TeamID: &team,
		Status: status, Origin: OriginActive, ScheduledAt: p.scheduledAt, WindowExpiresAt: win, NextSeq: 1,
		AssigneeID: createdBy, CreatedBy: createdBy, CreatedAt: now, UpdatedAt: now}
	if status == StatusWaiting {
		conv.WaitingSince = &now
	}
	msg := msgRow{ID: store.NewID(), AccountID: accountID, ConversationID: conv.ID, ChannelID: p.channel.ID, Seq: 1,
		Direction: "out", Status: msgStatus, DueAt: &due, CreatedBy: createdBy, CreatedAt: now, UpdatedAt: now}
	if p.tpl == nil {
		msg.Type, msg.Text, msg.RenderedText = "text", p.text, p.text
		return conv, msg, nil
	}
	return conv, msg, fillTemplate(&msg, p)
}

// insertOpen inserts conv unless its contact already has an open conversation on its channel
// (the database's constraint decides, so two racing starts cannot both win): then 409
// conversation_already_open naming the existing one.
func (s *Service) insertOpen(ctx context.Context, conv *convRow) error {
	res := s.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(conv)
	if store.IsForeignKey(res.Error) {
		return referenceGone(res.Error)
	}
	if res.Error != nil || res.RowsAffected == 1 {
		return store.Translate(res.Error, nil, nil)
	}
	existing, err := s.openFor(ctx, conv.ContactID, conv.ChannelID)
	if err != nil {
		return err
	}
	return apperr.Conflict("conversation_already_open", "the contact already has an open conversation on this channel").With("existing_id", existing)
}

// referenceGone reports a start whose team, channel or contact was deleted between its checks
// and its insert (the delete committed first): the same field error the checks give when it is
// already gone, not a failure of the server.
func referenceGone(err error) error {
	name := store.ForeignKeyConstraint(err)
	switch {
	case strings.Contains(name, "channel"):
		return fieldErr("channel_id", "channel_not_found", "no such channel in this account").Err()
	case strings.Contains(name, "contact"):
		return fieldErr("contact_id", "contact_not_found", "no such contact in this account").Err()
	default: // the team (the usual race: its deletion), or an engine that does not name the key
		return fieldErr("team_id", "team_not_found", "no such team in this account").Err()
	}
}

func fillTemplate(msg *msgRow, pl plan) error {
	t, p := pl.tpl, pl.params
	comps, err := t.SendComponentsWith(p, pl.header)
	if err != nil {
		return err
	}
	if pl.headerMedia != nil {
		// The message carries the header's file: shown with it, uploaded by the dispatcher.
		id := pl.headerMedia.ID
		msg.MediaID = &id
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
	var t template.Template
	var c contact.Contact
	var err error
	if templateID == "" {
		f.Add("template_id", "template_required", "template_id is required")
	} else if t, err = s.templates.Get(ctx, templateID); err != nil {
		if !errors.Is(err, template.ErrNotFound) {
			return pricing.Estimate{}, err
		}
		f.Add("template_id", "template_not_found", "no such template in this account")
	}
	if contactID == "" {
		f.Add("contact_id", "contact_required", "contact_id is required")
	} else if c, err = s.contacts.Get(ctx, contactID); err != nil {
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
