package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm/clause"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/media"
	"github.com/atendimento/atendimento/internal/phone"
	"github.com/atendimento/atendimento/internal/store"
)

// Inbound is a message a contact sent to a channel.
type Inbound struct {
	ChannelID         string
	DefaultTeamID     *string
	From              string // wa_id / from: digits, possibly without Brazil's ninth digit
	ProfileName       string
	ProviderMessageID string // the WhatsApp message id: the deduplication key
	At                time.Time
	Type              string
	Text              string
	// Media is the file of an image, audio, video, document or sticker message, nil for none.
	Media *media.Inbound
	// Content is the type's fields of a location, contacts, interactive, button or reaction message.
	Content json.RawMessage
}

// InboundResult tells what an inbound message did.
type InboundResult struct {
	Duplicate      bool
	ConversationID string
	MessageID      string
	Created        bool // a receptive conversation was opened
	Released       int  // queued messages released to the dispatcher
	// ReplyID is the account's opt-out confirmation queued in reply to a keyword, "" for none.
	ReplyID string
}

// Receive stores a contact's message exactly once (keyed by its WhatsApp id) and, in the same
// transaction: finds or creates the contact (matching Brazil's ninth digit both ways), finds the
// open conversation on the channel or opens a receptive one for the channel's default team,
// opens the 24-hour window from the message's time, moves a waiting conversation to active and
// releases its queued messages in posting order. A reply that is exactly one of the account's
// consent keywords also records the contact's opt-out or opt-in (and queues the account's
// opt-out reply, if it has one). The context acts for the channel's account.
func (s *Service) Receive(ctx context.Context, in Inbound) (InboundResult, error) {
	var out InboundResult
	at := in.At.UTC().Truncate(time.Microsecond)
	if at.IsZero() {
		at = s.now()
	}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		out = InboundResult{}
		var dup int64
		if err := s.db.Tenant(ctx, "messages").Where("provider_message_id = ?", in.ProviderMessageID).Count(&dup).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		if dup > 0 {
			out.Duplicate = true
			return nil
		}
		ct, err := s.contactFor(ctx, in)
		if err != nil {
			return err
		}
		conv, created, err := s.openOrCreate(ctx, ct.ID, in, at)
		if err != nil {
			return err
		}
		out.ConversationID, out.Created = conv.ID, created
		now := s.now()
		var seq int64
		if err := s.db.Conn(ctx).Raw("UPDATE conversations SET next_seq = next_seq + 1 WHERE id = ? AND account_id = ? RETURNING next_seq",
			conv.ID, conv.AccountID).Scan(&seq).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		// That update locked the row: re-read what concurrent replies changed since openOrCreate
		// read it, or an older reply committing last would shorten the window (Postgres).
		if err := s.db.Tenant(ctx, "conversations").Where("id = ?", conv.ID).Take(&conv).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		pid := in.ProviderMessageID
		var mediaID, content *string
		// Without a media service (tests that need none) the message keeps its caption only.
		if in.Media != nil && s.media != nil {
			md := *in.Media
			md.ChannelID = in.ChannelID
			id, err := s.media.RecordInbound(ctx, md)
			if err != nil {
				return err
			}
			mediaID = &id
		}
		if len(in.Content) > 0 {
			c := string(in.Content)
			content = &c
		}
		msg := msgRow{MediaID: mediaID, Content: content, ID: store.NewID(), AccountID: conv.AccountID, ConversationID: conv.ID, ChannelID: in.ChannelID, Seq: seq,
			Direction: "in", Type: in.Type, Status: MsgReceived, Text: in.Text, RenderedText: in.Text, ProviderMessageID: &pid,
			ReceivedAt: &at, CreatedAt: now, UpdatedAt: now}
		res := s.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&msg)
		if res.Error != nil {
			return store.Translate(res.Error, nil, nil)
		}
		if res.RowsAffected == 0 {
			out.Duplicate = true
			return errRollback
		}
		out.MessageID = msg.ID
		// The window runs from the latest message: out-of-order deliveries never shorten it.
		expires := at.Add(WindowLength)
		updates := map[string]any{"updated_at": now}
		if conv.WindowExpiresAt == nil || expires.After(*conv.WindowExpiresAt) {
			updates["window_expires_at"] = expires
		}
		if conv.LastInboundAt == nil || at.After(*conv.LastInboundAt) {
			updates["last_inbound_at"] = at
		}
		if conv.Status == StatusWaiting {
			updates["status"] = StatusActive
		}
		if err := s.db.Tenant(ctx, "conversations").Where("id = ?", conv.ID).Updates(updates).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		rel := s.db.Tenant(ctx, "messages").Where("conversation_id = ? AND status = ?", conv.ID, MsgQueued).
			Updates(map[string]any{"status": MsgPending, "due_at": now, "updated_at": now})
		if rel.Error != nil {
			return store.Translate(rel.Error, nil, nil)
		}
		out.Released = int(rel.RowsAffected)
		out.ReplyID, err = s.keywordConsent(ctx, conv.ContactID, conv.ID, in, at)
		return err
	})
	if err == errRollback {
		err = nil
	}
	if err != nil || out.Duplicate {
		return out, err
	}
	if out.Created {
		s.emit(ctx, EventConversationCreated, out.ConversationID)
	} else {
		s.emit(ctx, EventConversationUpdated, out.ConversationID)
	}
	s.emit(ctx, EventMessageCreated, out.MessageID)
	if out.ReplyID != "" {
		s.emit(ctx, EventMessageCreated, out.ReplyID)
	}
	if out.Released > 0 || out.ReplyID != "" {
		s.wake(ctx)
	}
	return out, nil
}

var errRollback = apperr.Conflict("duplicate", "duplicate inbound message")

// contactFor finds the sender by every form of their number, or creates them.
func (s *Service) contactFor(ctx context.Context, in Inbound) (contact.Contact, error) {
	c, err := s.contacts.FindByWhatsApp(ctx, in.From)
	if err == nil {
		if c.WaID != in.From {
			if err := s.contacts.SetWaID(ctx, c.ID, in.From); err != nil {
				return contact.Contact{}, err
			}
		}
		return c, nil
	}
	if !errors.Is(err, contact.ErrNotFound) {
		return contact.Contact{}, err
	}
	// A new contact is stored under the number's valid E.164 form (with the ninth digit).
	var e164 string
	for _, k := range phone.MatchKeys(in.From) {
		if n, err := phone.Parse("+"+k, ""); err == nil {
			e164 = n.E164()
			break
		}
	}
	if e164 == "" {
		return contact.Contact{}, apperr.Invalid(apperr.FieldError{Field: "from", Code: "phone_invalid", Message: "the sender's number is not valid"})
	}
	name := in.ProfileName
	c, err = s.contacts.FindOrCreate(ctx, contact.Input{Name: &name, Phone: &e164}, "")
	if err != nil {
		return contact.Contact{}, err
	}
	return c, s.contacts.SetWaID(ctx, c.ID, in.From)
}

// openOrCreate returns the open conversation of the contact on the channel, or opens a
// receptive, active one assigned to the channel's default team.
func (s *Service) openOrCreate(ctx context.Context, contactID string, in Inbound, at time.Time) (convRow, bool, error) {
	for range 2 {
		var rows []convRow
		if err := s.db.Tenant(ctx, "conversations").Where("contact_id = ? AND channel_id = ? AND status IN ?", contactID, in.ChannelID,
			openStatuses).Limit(1).Find(&rows).Error; err != nil {
			return convRow{}, false, store.Translate(err, nil, nil)
		}
		if len(rows) == 1 {
			return rows[0], false, nil
		}
		now := s.now()
		conv := convRow{ID: store.NewID(), AccountID: store.AccountID(ctx), ContactID: contactID, ChannelID: in.ChannelID,
			TeamID: in.DefaultTeamID, Status: StatusActive, Origin: OriginReceptive, CreatedAt: now, UpdatedAt: now}
		res := s.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&conv)
		if res.Error != nil {
			return convRow{}, false, store.Translate(res.Error, nil, nil)
		}
		if res.RowsAffected == 1 {
			return conv, true, nil
		}
	}
	return convRow{}, false, apperr.Conflict("conversation_race", "could not open a conversation")
}
