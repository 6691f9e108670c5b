// Package webhook applies Meta's WhatsApp webhook notifications (real ones, and the sandbox's
// simulated replies, which take the same path) to the domain: inbound messages open the window
// and release the queue, statuses advance messages, template status updates change templates.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/logctx"
	"github.com/atendimento/atendimento/internal/media"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/template"
	"github.com/atendimento/atendimento/internal/whatsapp"
)

// Processor applies notifications for one channel.
type Processor struct {
	conv      *conversation.Service
	templates *template.Service
	publish   Publisher
	log       *slog.Logger
}

// Publisher is told about the templates Meta changed (template.updated), once they are stored.
type Publisher interface {
	Publish(ctx context.Context, accountID, kind string, id string)
}

// New returns a Processor; publish may be nil (nothing is announced) and log nil (discarded).
func New(conv *conversation.Service, templates *template.Service, publish Publisher, log *slog.Logger) *Processor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Processor{conv: conv, templates: templates, publish: publish, log: log}
}

// Summary counts what a notification did.
type Summary struct {
	Messages, Duplicates, Statuses, Templates, Preferences, Ignored int
}

// Process applies a parsed notification received on ch. Each item is its own short, idempotent
// transaction, so Meta's retries of the whole body are harmless. Items addressed to another
// phone number id than the channel's are ignored.
func (p *Processor) Process(ctx context.Context, ch channel.Channel, n *whatsapp.Notification) (Summary, error) {
	ctx = store.WithAccount(ctx, ch.AccountID)
	var s Summary
	// The delivery's messages are stored together, in a group commit with the deliveries that
	// arrive at the same time (conversation.ReceiveAll): the answer waits for that commit.
	var ins []conversation.Inbound
	for _, m := range n.Messages {
		if !p.mine(ch, m.PhoneNumberID) || m.ID == "" || m.From == "" {
			s.Ignored++
			continue
		}
		in := conversation.Inbound{ChannelID: ch.ID, DefaultTeamID: ch.DefaultTeamID, From: m.From,
			ProfileName: profileName(m.ContactName), ProviderMessageID: m.ID, At: m.Timestamp, Type: messageType(m.Type), Text: m.Text,
			Content: m.Content}
		if md := m.Media; md != nil {
			in.Media = &media.Inbound{ProviderMediaID: md.ID, MimeType: md.MimeType, DeclaredSHA256: md.SHA256, Filename: md.Filename, Voice: md.Voice}
			if ch.Provider == channel.ProviderSandbox {
				// A sandbox's media ids are the account's own files (SandboxBody): nothing to fetch.
				in.Media = &media.Inbound{SandboxMediaID: md.ID, Filename: md.Filename}
			}
		}
		ins = append(ins, in)
	}
	outcomes, err := p.conv.ReceiveAll(ctx, ins)
	if err != nil {
		return s, err
	}
	for i, res := range outcomes {
		if res.Err != nil {
			// A message that can never be stored (a sender's number that is no number): Meta
			// would retry the whole delivery for days, and the other items in it would wait.
			s.Ignored++
			continue
		}
		if res.Duplicate {
			s.Duplicates++
		} else {
			s.Messages++
		}
		if p.log.Enabled(ctx, slog.LevelInfo) {
			p.log.InfoContext(logctx.With(ctx, slog.String("wamid", ins[i].ProviderMessageID), slog.String("conversation_id", res.ConversationID),
				slog.String("message_id", res.MessageID)), "webhook: message received", "duplicate", res.Duplicate, "released", res.Released)
		}
	}
	// All the statuses of a delivery (Meta batches up to 1,000) are applied in one transaction.
	var updates []conversation.StatusUpdate
	for _, st := range n.Statuses {
		if !p.mine(ch, st.PhoneNumberID) || st.ID == "" {
			s.Ignored++
			continue
		}
		u := conversation.StatusUpdate{ProviderMessageID: st.ID, Status: conversation.MessageStatus(st.Status), At: st.Timestamp}
		if len(st.Errors) > 0 {
			u.ErrorCode, u.ErrorTitle, u.ErrorDetails = st.Errors[0].Code, st.Errors[0].Title, st.Errors[0].Details
			if u.ErrorTitle == "" {
				u.ErrorTitle = st.Errors[0].Message
			}
		}
		if st.Pricing != nil {
			u.Pricing = &conversation.Pricing{Billable: st.Pricing.Billable, Category: st.Pricing.Category, Type: st.Pricing.Type}
		}
		updates = append(updates, u)
	}
	if report, err := p.conv.ApplyStatusesReported(ctx, updates); apperr.IsKind(err, apperr.KindInvalid) {
		// One malformed value refuses the whole transaction: apply them one by one instead,
		// skipping only the ones refused (Meta would retry the delivery for days otherwise).
		for _, u := range updates {
			if r, err := p.conv.ApplyStatusesReported(ctx, []conversation.StatusUpdate{u}); apperr.IsKind(err, apperr.KindInvalid) {
				s.Ignored++
			} else if err != nil {
				return s, fmt.Errorf("status %s: %w", u.ProviderMessageID, err)
			} else {
				s.Statuses++
				p.logStatuses(ctx, []conversation.StatusUpdate{u}, r)
			}
		}
	} else if err != nil {
		return s, fmt.Errorf("statuses: %w", err)
	} else {
		s.Statuses += len(updates)
		p.logStatuses(ctx, updates, report)
	}
	for _, t := range n.TemplateUpdates {
		if ch.WABAID != "" && t.WABAID != "" && t.WABAID != ch.WABAID {
			s.Ignored++
			continue
		}
		status, ok := templateStatus(t.Event)
		if !ok {
			s.Ignored++
			continue
		}
		if _, err := p.templates.SetStatus(ctx, ch.ID, t.TemplateID, t.Name, t.Language, status); apperr.IsKind(err, apperr.KindInvalid) {
			s.Ignored++
			continue
		} else if err != nil {
			return s, fmt.Errorf("template %s: %w", t.Name, err)
		}
		s.Templates++
	}
	if err := p.templateSignals(ctx, ch, n, &s); err != nil {
		return s, err
	}
	if err := p.preferences(ctx, ch, n.Preferences, &s); err != nil {
		return s, err
	}
	return s, nil
}

// logStatuses logs each applied status with the ids that follow its message: the wamid, and the
// message and conversation it named. A routine status (sent, delivered, read: three a message)
// is a DEBUG line; a failure is a WARN line with Meta's code.
func (p *Processor) logStatuses(ctx context.Context, updates []conversation.StatusUpdate, report []conversation.StatusApplied) {
	for i, r := range report {
		if i >= len(updates) {
			return
		}
		u := updates[i]
		level, msg := slog.LevelDebug, "webhook: status applied"
		if u.Status == conversation.MsgFailed {
			level, msg = slog.LevelWarn, "webhook: message failed"
		}
		if !p.log.Enabled(ctx, level) {
			continue
		}
		lctx := logctx.With(ctx, slog.String("wamid", r.ProviderMessageID), slog.String("message_id", r.MessageID),
			slog.String("conversation_id", r.ConversationID))
		args := []any{"message_status", string(u.Status), "changed", r.Changed}
		if r.Kept {
			msg = "webhook: status kept for a send not yet recorded"
		}
		if u.Status == conversation.MsgFailed {
			args = append(args, "code", u.ErrorCode, "title", u.ErrorTitle)
		}
		p.log.Log(lctx, level, msg, args...)
	}
}

// templateSignals applies Meta's quality ratings and reclassifications of the channel's templates
// and announces each template that changed (template.updated). A template this account does not
// know is ignored: sync brings it with its current category.
func (p *Processor) templateSignals(ctx context.Context, ch channel.Channel, n *whatsapp.Notification, s *Summary) error {
	type change struct {
		waba, id, name, lang string
		set                  func() ([]string, error)
	}
	var changes []change
	for _, q := range n.QualityUpdates {
		quality, ok := template.ParseQuality(q.New)
		if !ok {
			s.Ignored++
			continue
		}
		changes = append(changes, change{q.WABAID, q.TemplateID, q.Name, q.Language, func() ([]string, error) {
			return p.templates.SetQuality(ctx, ch.ID, q.TemplateID, q.Name, q.Language, quality)
		}})
	}
	for _, c := range n.CategoryUpdates {
		category := template.Category(strings.ToUpper(strings.TrimSpace(c.New)))
		changes = append(changes, change{c.WABAID, c.TemplateID, c.Name, c.Language, func() ([]string, error) {
			return p.templates.SetCategory(ctx, ch.ID, c.TemplateID, c.Name, c.Language, category)
		}})
	}
	for _, c := range changes {
		if ch.WABAID != "" && c.waba != "" && c.waba != ch.WABAID {
			s.Ignored++
			continue
		}
		ids, err := c.set()
		if apperr.IsKind(err, apperr.KindInvalid) {
			s.Ignored++
			continue
		}
		if err != nil {
			return fmt.Errorf("template %s (%s): %w", c.name, c.id, err)
		}
		s.Templates++
		for _, id := range ids {
			if p.publish != nil {
				p.publish.Publish(ctx, ch.AccountID, template.EventTemplateUpdated, id)
			}
		}
	}
	return nil
}

// preferences records contacts' marketing stop and resume (Meta's user_preferences). An item for
// a wa_id with no contact in the account is ignored with a log line: Meta enforces the stop
// itself (it refuses marketing templates to that user, 131050), so nothing unwanted can go out,
// and keeping choices of people the account never knew would be data held on no one's behalf.
// A contact created later starts with no recorded choice; the next stop/resume Meta sends, or a
// refused send, tells.
func (p *Processor) preferences(ctx context.Context, ch channel.Channel, prefs []whatsapp.UserPreference, s *Summary) error {
	for _, up := range prefs {
		optedOut, ok := preferenceValue(up)
		if !ok || !p.mine(ch, up.PhoneNumberID) || up.WaID == "" {
			s.Ignored++
			continue
		}
		at := up.Timestamp
		key := fmt.Sprintf("meta:%s:%s:%d", up.WaID, strings.ToLower(up.Value), at.Unix())
		if at.IsZero() {
			key = "" // no time to tell a replay from a new choice: record it, at arrival
		}
		_, err := p.conv.RecordConsentByWhatsApp(ctx, up.WaID, contact.ConsentInput{OptedOut: optedOut, Source: contact.SourceMeta,
			Detail: consentDetail(up), At: at, DedupeKey: key})
		switch {
		case errors.Is(err, contact.ErrNotFound):
			p.log.InfoContext(ctx, "webhook: marketing preference for an unknown contact ignored", "channel_id", ch.ID,
				"wa_id", up.WaID, "value", up.Value)
			s.Ignored++
		case apperr.IsKind(err, apperr.KindInvalid):
			s.Ignored++
		case err != nil:
			return fmt.Errorf("user preference %s: %w", up.WaID, err)
		default:
			s.Preferences++
		}
	}
	return nil
}

// preferenceValue reads a marketing preference: stop opts out; resume (and a signup through the
// business's signup link, an explicit opt-in) opts in. Other categories or values are not ours.
func preferenceValue(up whatsapp.UserPreference) (optedOut, ok bool) {
	if !strings.EqualFold(up.Category, "marketing_messages") {
		return false, false
	}
	switch strings.ToLower(up.Value) {
	case "stop":
		return true, true
	case "resume", "signup":
		return false, true
	}
	return false, false
}

// consentDetail is Meta's explanation of a preference, fit for a fact's note: one line, bounded.
func consentDetail(up whatsapp.UserPreference) string {
	d := profileName(up.Detail)
	if d == "" {
		d = up.Value
	}
	return d
}

// maxProfileName is the longest contact name stored (the contact's own rule).
const maxProfileName = 200

// profileName makes a WhatsApp profile name fit a contact's name: control characters become
// spaces, runs of spaces one, and it is cut to maxProfileName characters.
func profileName(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }), " ")
	if utf8.RuneCountInString(s) > maxProfileName {
		s = string([]rune(s)[:maxProfileName])
	}
	return strings.TrimSpace(s)
}

func (p *Processor) mine(ch channel.Channel, phoneNumberID string) bool {
	return phoneNumberID == "" || ch.PhoneNumberID == "" || phoneNumberID == ch.PhoneNumberID
}

func messageType(t string) string {
	if t == "" {
		return "unknown"
	}
	return t
}

// templateStatus maps Meta's template events to our statuses.
func templateStatus(event string) (template.Status, bool) {
	switch strings.ToUpper(event) {
	case "APPROVED", "REINSTATED":
		return template.StatusApproved, true
	case "REJECTED":
		return template.StatusRejected, true
	case "PAUSED":
		return template.StatusPaused, true
	case "DISABLED", "PENDING_DELETION", "DELETED":
		return template.StatusDisabled, true
	case "PENDING", "IN_APPEAL":
		return template.StatusPending, true
	}
	return "", false
}

// SandboxBody builds the webhook body Meta would post for a contact's text message, so the
// sandbox's simulated replies take exactly the real webhook's path (parse, then Process).
func SandboxBody(ch channel.Channel, from, name, text string, at time.Time) []byte {
	return SandboxMediaBody(ch, from, name, text, "", "", at)
}

// SandboxMediaBody is SandboxBody for a file: kind is the media's kind and mediaID the
// account's own media id (the sandbox stands in for Meta's), text its caption.
func SandboxMediaBody(ch channel.Channel, from, name, text, kind, mediaID string, at time.Time) []byte {
	type obj = map[string]any
	msg := obj{"from": from, "id": "wamid.sandbox.in." + store.NewID(), "timestamp": strconv.FormatInt(at.Unix(), 10),
		"type": "text", "text": obj{"body": text}}
	if mediaID != "" {
		item := obj{"id": mediaID}
		if text != "" && kind != "audio" && kind != "sticker" {
			item["caption"] = text
		}
		msg = obj{"from": from, "id": msg["id"], "timestamp": msg["timestamp"], "type": kind, kind: item}
	}
	body := obj{"object": "whatsapp_business_account", "entry": []obj{{"id": ch.WABAID, "changes": []obj{{"field": "messages",
		"value": obj{"messaging_product": "whatsapp",
			"metadata": obj{"display_phone_number": strings.TrimPrefix(ch.PhoneNumber, "+"), "phone_number_id": ch.PhoneNumberID},
			"contacts": []obj{{"profile": obj{"name": name}, "wa_id": from}},
			"messages": []obj{msg}}}}}}}
	b, _ := json.Marshal(body)
	return b
}
