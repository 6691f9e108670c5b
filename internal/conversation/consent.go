package conversation

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/template"
)

// The error a marketing template carries when it is not sent because its contact opted out:
// Meta's own code for "user stopped marketing messages" (so clients that switch on Meta's codes
// treat both alike) and our stable code as the title (the message error has no string code).
const (
	OptedOutCode  = 131050
	OptedOutTitle = "contact_opted_out"
)

// maxKeywordDetail bounds the reply kept as a keyword fact's detail.
const maxKeywordDetail = 100

// KeywordsFunc returns the context's account's consent keywords and opt-out reply.
type KeywordsFunc func(ctx context.Context) (contact.Keywords, error)

// consentFields refuses t to a contact who opted out of marketing messages when t is a
// MARKETING template: Meta's rule too (it refuses them to users who stopped them, 131050), while
// UTILITY and AUTHENTICATION templates still go.
func consentFields(optedOut bool, t *template.Template) apperr.Fields {
	if t == nil || !optedOut || t.Category != template.CategoryMarketing {
		return nil
	}
	return fieldErr("contact", OptedOutTitle, "the contact opted out of marketing messages")
}

// RecordConsent records a consent fact of a contact of the account (see applyConsent). A replay
// returns the fact recorded first.
func (s *Service) RecordConsent(ctx context.Context, contactID string, in contact.ConsentInput) (contact.Recorded, error) {
	var rec contact.Recorded
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		var err error
		rec, err = s.applyConsent(ctx, contactID, in)
		return err
	})
	return rec, err
}

// RecordConsentByWhatsApp records a fact about the contact with a WhatsApp id (Meta's
// user_preferences); contact.ErrNotFound when the account has no such contact.
func (s *Service) RecordConsentByWhatsApp(ctx context.Context, waID string, in contact.ConsentInput) (contact.Recorded, error) {
	c, err := s.contacts.FindByWhatsApp(ctx, waID)
	if err != nil {
		return contact.Recorded{}, err
	}
	var rec contact.Recorded
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		rec, err = s.applyConsent(ctx, c.ID, in)
		return err
	})
	return rec, err
}

// applyConsent records the fact in the context's transaction and, when an opt-out becomes the
// contact's state, fails the contact's MARKETING templates that have not left yet.
func (s *Service) applyConsent(ctx context.Context, contactID string, in contact.ConsentInput) (contact.Recorded, error) {
	rec, err := s.contacts.RecordConsent(ctx, contactID, in)
	if err != nil || rec.Duplicate || !rec.Current || !in.OptedOut {
		return rec, err
	}
	return rec, s.failMarketing(ctx, contactID)
}

// failMarketing fails the contact's outbound MARKETING templates that are still waiting to go
// (scheduled, queued or pending) and not leased by a sender in flight: a lease means the send may
// already be at Meta, which refuses it itself (131050) if it must. A template that was the
// conversation's opening or re-engagement fails its waiting conversation, as a provider's refusal
// would (MarkFailed).
func (s *Service) failMarketing(ctx context.Context, contactID string) error {
	now := s.now()
	var rows []msgRow
	err := s.db.Tenant(ctx, "messages").
		Where("conversation_id IN (?)", s.db.Tenant(ctx, "conversations").Select("id").Where("contact_id = ?", contactID)).
		Where("direction = 'out' AND type = 'template' AND template_category = ? AND status IN ?", string(template.CategoryMarketing),
			[]MessageStatus{MsgScheduled, MsgQueued, MsgPending}).
		Where("lease_until IS NULL OR lease_until < ?", now).Find(&rows).Error
	if err != nil {
		return store.Translate(err, nil, nil)
	}
	for _, m := range rows {
		res := s.db.Tenant(ctx, "messages").Where("id = ? AND status IN ? AND (lease_until IS NULL OR lease_until < ?)", m.ID,
			[]MessageStatus{MsgScheduled, MsgQueued, MsgPending}, now).
			Updates(map[string]any{"status": MsgFailed, "error_code": OptedOutCode, "error_title": OptedOutTitle,
				"error_details": "the contact opted out of marketing messages", "failed_at": now, "lease_until": nil, "updated_at": now})
		if res.Error != nil {
			return store.Translate(res.Error, nil, nil)
		}
		if res.RowsAffected == 0 {
			continue // claimed meanwhile
		}
		s.emit(ctx, EventMessageUpdated, m.ID)
		conv := s.db.Tenant(ctx, "conversations").Where("id = ? AND status IN ?", m.ConversationID, []Status{StatusScheduled, StatusWaiting}).
			Updates(map[string]any{"status": StatusFailed, "failure_code": OptedOutCode, "failure_title": OptedOutTitle, "closed_at": now, "updated_at": now})
		if conv.Error != nil {
			return store.Translate(conv.Error, nil, nil)
		}
		if conv.RowsAffected == 1 {
			s.emit(ctx, EventConversationUpdated, m.ConversationID)
		}
	}
	return nil
}

// keywordConsent records the consent an inbound message expresses when its text is exactly one
// of the account's keywords, and queues the account's opt-out reply (inside the window the
// message just opened) through the ordinary outbox. It runs in Receive's transaction, after the
// message is stored; it reports whether it queued a reply.
func (s *Service) keywordConsent(ctx context.Context, contactID, conversationID string, in Inbound, at time.Time) (string, error) {
	if s.keywords == nil || (in.Type != "text" && in.Type != "button") {
		return "", nil
	}
	kw, err := s.keywords(ctx)
	if err != nil {
		return "", err
	}
	optedOut, ok := kw.Match(in.Text)
	if !ok {
		return "", nil
	}
	// The detail keeps what the contact wrote, on one line and bounded (a keyword is short, but
	// the punctuation around it is not).
	detail := strings.Join(strings.Fields(in.Text), " ")
	if utf8.RuneCountInString(detail) > maxKeywordDetail {
		detail = string([]rune(detail)[:maxKeywordDetail])
	}
	rec, err := s.applyConsent(ctx, contactID, contact.ConsentInput{OptedOut: optedOut, Source: contact.SourceKeyword,
		Detail: detail, At: at, DedupeKey: "wamid:" + in.ProviderMessageID})
	if err != nil || rec.Duplicate || !optedOut || kw.Confirmation == "" {
		return "", err
	}
	text := kw.Confirmation
	msg, d, err := s.writePost(ctx, Actor{}, conversationID, PostInput{Text: &text}, plan{}, s.now())
	if d.err != nil {
		return "", nil // the window had closed already (a delivery days late): nothing may be sent
	}
	if err != nil {
		return "", err
	}
	return msg.ID, nil
}
