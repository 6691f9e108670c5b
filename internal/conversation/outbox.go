package conversation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/atendimento/atendimento/internal/store"
)

// OutboxItem is an outbound message claimed for sending.
type OutboxItem struct {
	ID               string
	AccountID        string
	ConversationID   string
	ChannelID        string
	ContactID        string
	Seq              int64
	Type             string
	Text             string
	TemplateName     string
	TemplateLanguage string
	Components       json.RawMessage
	Attempts         int
	// MediaID is the file a media message sends ("" for none).
	MediaID string
}

type claimedRow struct {
	ID, AccountID, ConversationID, ChannelID, ContactID string
	Seq                                                 int64
	Type, Text, TemplateName, TemplateLanguage          string
	Components                                          *string
	Attempts                                            int
	MediaID                                             *string
}

// claimSQL picks due outbound rows of open conversations that are their conversation's head
// (every earlier outbound row has left, so each conversation's messages go strictly in order),
// and leases them. The head is read with ORDER BY … LIMIT 1 so the planner probes the
// (conversation_id, seq) index even before statistics catch up with a burst. Expired leases
// (a crashed sender) are claimable again. Postgres skips rows another instance is claiming.
const claimSQL = `UPDATE messages SET lease_until = ?, attempts = attempts + 1, updated_at = ?
WHERE id IN (
  SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id
  WHERE m.status IN ('pending', 'scheduled') AND m.direction = 'out' AND m.due_at <= ?
    AND (m.lease_until IS NULL OR m.lease_until < ?)
    AND c.status IN ('scheduled', 'waiting', 'active')
    AND m.seq = (SELECT p.seq FROM messages p WHERE p.conversation_id = m.conversation_id
      AND p.status IN ('pending', 'scheduled') AND p.direction = 'out' ORDER BY p.conversation_id, p.seq LIMIT 1)
  ORDER BY m.due_at
  LIMIT ? %s)
RETURNING id`

// Claim leases up to limit due messages for lease. It is one statement: on Postgres with
// FOR UPDATE SKIP LOCKED, so instances never claim the same row; on SQLite under its single writer.
func (s *Service) Claim(ctx context.Context, limit int, lease time.Duration) ([]OutboxItem, error) {
	now := s.now()
	lock := ""
	if s.db.Dialect() == store.Postgres {
		lock = "FOR UPDATE OF m SKIP LOCKED"
	}
	var ids []string
	if err := s.db.Conn(ctx).Raw(fmt.Sprintf(claimSQL, lock), now.Add(lease), now, now, now, limit).Scan(&ids).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []claimedRow
	if err := s.db.Conn(ctx).Table("messages").Select("messages.id, messages.account_id, messages.conversation_id, messages.channel_id, "+
		"conversations.contact_id, messages.seq, messages.type, messages.text, messages.template_name, messages.template_language, "+
		"messages.components, messages.attempts, messages.media_id").
		Joins("JOIN conversations ON conversations.id = messages.conversation_id").
		Where("messages.id IN ?", ids).Order("messages.due_at, messages.seq").Scan(&rows).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	out := make([]OutboxItem, len(rows))
	for i, r := range rows {
		out[i] = OutboxItem{ID: r.ID, AccountID: r.AccountID, ConversationID: r.ConversationID, ChannelID: r.ChannelID,
			ContactID: r.ContactID, Seq: r.Seq, Type: r.Type, Text: r.Text, TemplateName: r.TemplateName,
			TemplateLanguage: r.TemplateLanguage, Attempts: r.Attempts}
		if r.Components != nil {
			out[i].Components = json.RawMessage(*r.Components)
		}
		if r.MediaID != nil {
			out[i].MediaID = *r.MediaID
		}
	}
	return out, nil
}

// NextDue returns when the earliest outbox row of an open conversation that is not due yet (a
// scheduled start or a retry) becomes due, so the dispatcher can sleep until then; nil when none.
func (s *Service) NextDue(ctx context.Context) (*time.Time, error) {
	var ts []time.Time
	err := s.db.Conn(ctx).Table("messages").Joins("JOIN conversations ON conversations.id = messages.conversation_id").
		Where("messages.status IN ? AND messages.direction = 'out' AND messages.due_at > ? AND conversations.status IN ?",
			[]MessageStatus{MsgPending, MsgScheduled}, s.now(), openStatuses).
		Order("messages.due_at").Limit(1).Pluck("messages.due_at", &ts).Error
	if err != nil || len(ts) == 0 {
		return nil, store.Translate(err, nil, nil)
	}
	t := ts[0].UTC()
	return &t, nil
}

// OutboxStats measures the outbox for an operator: how many outbound messages wait to be sent,
// by status (pending: due now or at a retry; scheduled: a scheduled start), and since when the
// oldest one that is due and sendable has waited.
type OutboxStats struct {
	Depth map[MessageStatus]int64
	// OldestDue is the due time of the earliest sendable message already due (its conversation
	// is open); nil when none is due.
	OldestDue *time.Time
}

// OutboxStats measures the outbox across every account. Both statements read only the outbox's
// own rows through its partial index (messages_sendable: pending or scheduled outbound rows), so
// their cost follows the queue's length, not the messages table's. The index's predicate is
// written as literals, not parameters: a generic plan of a prepared statement cannot match a
// partial index's predicate to bound values (claimSQL does the same). It is meant for a periodic measure, not a query per scrape.
func (s *Service) OutboxStats(ctx context.Context) (OutboxStats, error) {
	out := OutboxStats{Depth: map[MessageStatus]int64{MsgPending: 0, MsgScheduled: 0}}
	var rows []struct {
		Status MessageStatus
		N      int64
	}
	if err := s.db.Conn(ctx).Table("messages").Select("status, COUNT(*) AS n").
		Where("status IN ('pending', 'scheduled') AND direction = 'out'").Group("status").Scan(&rows).Error; err != nil {
		return out, store.Translate(err, nil, nil)
	}
	for _, r := range rows {
		out.Depth[r.Status] = r.N
	}
	var ts []time.Time
	err := s.db.Conn(ctx).Table("messages").Joins("JOIN conversations ON conversations.id = messages.conversation_id").
		Where("messages.status IN ('pending', 'scheduled') AND messages.direction = 'out' AND messages.due_at <= ? AND conversations.status IN ?",
			s.now(), openStatuses).
		Order("messages.due_at").Limit(1).Pluck("messages.due_at", &ts).Error
	if err != nil {
		return out, store.Translate(err, nil, nil)
	}
	if len(ts) > 0 {
		t := ts[0].UTC()
		out.OldestDue = &t
	}
	return out, nil
}

// Sent is a send the provider accepted: the claimed item and its WhatsApp message id.
type Sent struct {
	Item       OutboxItem
	ProviderID string
}

// markSentSQL records a group of accepted sends in one statement; the VALUES rows are
// (id, provider id, account id). Postgres needs the uuid casts, SQLite must not have them.
var markSentSQL = map[store.Dialect]string{
	store.Postgres: `UPDATE messages AS m SET status = 'sent', provider_message_id = v.column2, sent_at = ?, lease_until = NULL, updated_at = ?
FROM (VALUES %s) AS v WHERE m.id = CAST(v.column1 AS uuid) AND m.account_id = CAST(v.column3 AS uuid) AND m.status IN ('pending', 'scheduled')
RETURNING m.id`,
	store.SQLite: `UPDATE messages AS m SET status = 'sent', provider_message_id = v.column2, sent_at = ?, lease_until = NULL, updated_at = ?
FROM (VALUES %s) AS v WHERE m.id = v.column1 AND m.account_id = v.column3 AND m.status IN ('pending', 'scheduled')
RETURNING id`,
}

// MarkSentBatch records accepted sends, many in one transaction: their WhatsApp ids, the move of
// scheduled openings to waiting, and any statuses that arrived before this (webhooks racing the
// send's answer). A message no longer pending (withdrawn by a close, recorded by another
// instance after a lease expiry) is left as it is.
func (s *Service) MarkSentBatch(ctx context.Context, sent []Sent) error {
	if len(sent) == 0 {
		return nil
	}
	now := s.now()
	var (
		updated map[string]bool
		changes []Change
		logged  any
	)
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		logged = nil
		if err := s.lockStatuses(ctx, sent...); err != nil {
			return err
		}
		placeholders := make([]byte, 0, len(sent)*10)
		args := []any{now, now}
		for i, x := range sent {
			if i > 0 {
				placeholders = append(placeholders, ',')
			}
			placeholders = append(placeholders, "(?, ?, ?)"...)
			args = append(args, x.Item.ID, x.ProviderID, x.Item.AccountID)
		}
		var ids []string
		if err := s.db.Conn(ctx).Raw(fmt.Sprintf(markSentSQL[s.db.Dialect()], placeholders), args...).Scan(&ids).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		updated = make(map[string]bool, len(ids))
		for _, id := range ids {
			updated[id] = true
		}
		var openings, pids []string
		for _, x := range sent {
			if !updated[x.Item.ID] {
				continue
			}
			pids = append(pids, x.ProviderID)
			if x.Item.Seq == 1 {
				openings = append(openings, x.Item.ConversationID)
			}
		}
		if len(openings) > 0 {
			// Openings of scheduled starts: those conversations now wait for the reply.
			if err := s.db.Conn(ctx).Table("conversations").Where("id IN ? AND status = ?", openings, StatusScheduled).
				Updates(map[string]any{"status": StatusWaiting, "waiting_since": now, "updated_at": now}).Error; err != nil {
				return store.Translate(err, nil, nil)
			}
		}
		var early []orphanRow
		if err := s.db.Conn(ctx).Table("orphan_statuses").Where("provider_message_id IN ?", pids).Find(&early).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		done := map[string]bool{}
		for _, o := range early {
			if done[o.AccountID+o.ProviderMessageID] {
				continue
			}
			done[o.AccountID+o.ProviderMessageID] = true
			if err := s.applyOrphans(store.WithAccount(ctx, o.AccountID), o.ProviderMessageID); err != nil {
				return err
			}
		}
		// The group's events go out together: one event_log insert and batched NOTIFYs, where
		// one by one they were two autocommitted statements per message sent. Where the engine
		// allows (SQLite, one writer), the insert is this transaction's, sparing the log a write
		// transaction of its own that every other writer would wait for.
		changes = changes[:0]
		for _, x := range sent {
			if updated[x.Item.ID] {
				changes = append(changes, Change{AccountID: x.Item.AccountID, Kind: EventMessageUpdated, ID: x.Item.ID})
				if x.Item.Seq == 1 {
					changes = append(changes, Change{AccountID: x.Item.AccountID, Kind: EventConversationUpdated, ID: x.Item.ConversationID})
				}
			}
		}
		if tp, ok := s.publish.(TxPublisher); ok && len(changes) > 0 {
			logged = tp.LogInTx(ctx, changes)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if tp, ok := s.publish.(TxPublisher); ok && logged != nil {
		tp.Announce(ctx, logged)
		return nil
	}
	if s.publish != nil && len(changes) > 0 {
		if bp, ok := s.publish.(BatchPublisher); ok {
			bp.PublishAll(ctx, changes)
		} else {
			for _, c := range changes {
				s.emit(store.WithAccount(ctx, c.AccountID), c.Kind, c.ID)
			}
		}
	}
	return nil
}

// MarkSent records one accepted send (see MarkSentBatch).
func (s *Service) MarkSent(ctx context.Context, item OutboxItem, providerID string) error {
	return s.MarkSentBatch(ctx, []Sent{{Item: item, ProviderID: providerID}})
}

// MarkFailed records a permanent provider error on a message. A template that the provider
// rejects while the conversation waits for it (the opening, or a re-engagement) fails the
// conversation; its queued messages stay queued, unsent and visible.
func (s *Service) MarkFailed(ctx context.Context, item OutboxItem, code int, title, details string) error {
	ctx = store.WithAccount(ctx, item.AccountID)
	now := s.now()
	var convFailed bool
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		res := s.db.Tenant(ctx, "messages").Where("id = ? AND status IN ?", item.ID, []MessageStatus{MsgPending, MsgScheduled}).
			Updates(map[string]any{"status": MsgFailed, "error_code": code, "error_title": title, "error_details": details,
				"failed_at": now, "lease_until": nil, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			return store.Translate(res.Error, nil, nil)
		}
		if item.Type != "template" {
			return nil
		}
		res = s.db.Tenant(ctx, "conversations").Where("id = ? AND status IN ?", item.ConversationID, []Status{StatusScheduled, StatusWaiting}).
			Updates(map[string]any{"status": StatusFailed, "failure_code": code, "failure_title": title, "closed_at": now, "updated_at": now})
		convFailed = res.RowsAffected == 1
		return store.Translate(res.Error, nil, nil)
	})
	if err == nil {
		s.emit(ctx, EventMessageUpdated, item.ID)
		if convFailed {
			s.emit(ctx, EventConversationUpdated, item.ConversationID)
		}
	}
	return err
}

// Retry puts a claimed message back to be sent again at the given time (a transient error).
func (s *Service) Retry(ctx context.Context, item OutboxItem, at time.Time, code int, title string) error {
	// Truncated as every stored time is (store.Now): on SQLite a due time kept to the nanosecond
	// was later than the claim's clock at the very instant it fell due, so a dispatcher woken
	// exactly then found nothing to claim and slept until its poll.
	updates := map[string]any{"due_at": at.UTC().Truncate(time.Microsecond), "lease_until": nil, "updated_at": s.now()}
	if code != 0 || title != "" {
		updates["error_code"], updates["error_title"] = code, title
	}
	return store.Translate(s.db.Conn(ctx).Table("messages").Where("id = ? AND account_id = ? AND status IN ?", item.ID, item.AccountID,
		[]MessageStatus{MsgPending, MsgScheduled}).Updates(updates).Error, nil, nil)
}

// statusLock is the advisory lock namespace of WhatsApp message ids.
const statusLock = 0x77616d69 // "wami"

// lockStatuses serialises, per WhatsApp id, recording a send with applying a status for it.
// Without it, on Postgres, a status whose transaction looked for the message before the send's
// record committed, and kept it aside after that record had looked for kept statuses, was never
// applied (the webhook storm test lost statuses that way).
func (s *Service) lockStatuses(ctx context.Context, sent ...Sent) error {
	ids := make([]string, len(sent))
	for i, x := range sent {
		ids[i] = x.ProviderID
	}
	return s.db.LockKeys(ctx, statusLock, ids...)
}

// statusRank orders delivery states; a status update only ever moves a message up.
var statusRank = map[MessageStatus]int{MsgScheduled: 0, MsgQueued: 0, MsgPending: 0, MsgSent: 1, MsgDelivered: 2, MsgRead: 3}

// below returns the statuses a message may leave for status st.
func below(st MessageStatus) []MessageStatus {
	if st == MsgFailed {
		// A failure can follow the send, never a delivery or a read.
		return []MessageStatus{MsgPending, MsgScheduled, MsgSent}
	}
	r, ok := statusRank[st]
	if !ok {
		return nil
	}
	var out []MessageStatus
	for s, rank := range statusRank {
		if rank < r {
			out = append(out, s)
		}
	}
	return out
}

// StatusUpdate is a delivery status the provider reported for a message it accepted.
type StatusUpdate struct {
	ProviderMessageID string
	Status            MessageStatus // sent, delivered, read, failed
	At                time.Time
	ErrorCode         int
	ErrorTitle        string
	ErrorDetails      string
	Pricing           *Pricing
}

// ApplyStatus applies one status update (see ApplyStatuses).
func (s *Service) ApplyStatus(ctx context.Context, u StatusUpdate) error {
	return s.ApplyStatuses(ctx, []StatusUpdate{u})
}

// ApplyStatuses advances messages' statuses (never backward), records their timestamps, errors
// and pricing, all in one transaction, and is idempotent: duplicates and reordering have exactly
// one effect. A status for a WhatsApp id not yet recorded (the send's answer is still in flight)
// is kept and applied when it is. The context acts for the channel's account.
func (s *Service) ApplyStatuses(ctx context.Context, updates []StatusUpdate) error {
	_, err := s.ApplyStatusesReported(ctx, updates)
	return err
}

// StatusApplied is what one status update found, for the webhook's log lines.
type StatusApplied struct {
	ProviderMessageID string
	// MessageID and ConversationID are the message the update named; both are "" when it
	// named no recorded send (Kept) or a status nothing records (played).
	MessageID, ConversationID string
	// Changed tells the message changed; Kept that it was kept for a send not yet recorded.
	Changed, Kept bool
}

// ApplyStatusesReported is ApplyStatuses telling what each update found, in the updates' order
// (none when the transaction failed).
func (s *Service) ApplyStatusesReported(ctx context.Context, updates []StatusUpdate) ([]StatusApplied, error) {
	if len(updates) == 0 {
		return nil, nil
	}
	var changed []applied
	var report []StatusApplied
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		changed = changed[:0]
		report = report[:0]
		locks := make([]Sent, len(updates))
		for i, u := range updates {
			locks[i] = Sent{ProviderID: u.ProviderMessageID}
		}
		if err := s.lockStatuses(ctx, locks...); err != nil {
			return err
		}
		for _, u := range updates {
			a, err := s.applyStatus(ctx, u)
			if err != nil {
				return err
			}
			report = append(report, StatusApplied{ProviderMessageID: u.ProviderMessageID, MessageID: a.messageID,
				ConversationID: a.conversationID, Changed: a.changed, Kept: !a.found})
			if !a.found {
				if err := s.keepOrphan(ctx, u); err != nil {
					return err
				}
				continue
			}
			if a.changed || a.convFailed {
				changed = append(changed, a)
			}
		}
		return nil
	})
	for _, a := range changed {
		if a.changed {
			s.emit(ctx, EventMessageUpdated, a.messageID)
		}
		if a.convFailed {
			s.emit(ctx, EventConversationUpdated, a.conversationID)
		}
	}
	if err != nil {
		return nil, err
	}
	return report, nil
}

// applied is what one status update did.
type applied struct {
	found, changed, convFailed bool
	messageID, conversationID  string
}

type statusTarget struct {
	ID             string
	ConversationID string
	Type           string
}

// applyStatus applies one update in at most two statements: the forward move (with its
// timestamp, error and pricing), or, when the status cannot move (a late or repeated update),
// just the timestamp and pricing it brings.
func (s *Service) applyStatus(ctx context.Context, u StatusUpdate) (applied, error) {
	// Timestamps are recorded even when the status itself cannot move (a delivered after a read).
	tsCol := map[MessageStatus]string{MsgSent: "sent_at", MsgDelivered: "delivered_at", MsgRead: "read_at", MsgFailed: "failed_at"}[u.Status]
	if tsCol == "" {
		return applied{found: true}, nil // played, deleted, unknown: nothing to record
	}
	at := u.At.UTC()
	if at.IsZero() {
		at = s.now()
	}
	now := s.now()
	set := []string{tsCol + " = COALESCE(" + tsCol + ", ?)", "updated_at = ?"}
	args := []any{at, now}
	if u.Pricing != nil {
		set = append(set, "pricing_billable = ?", "pricing_category = ?", "pricing_type = ?")
		args = append(args, u.Pricing.Billable, u.Pricing.Category, u.Pricing.Type)
	}
	where := " WHERE account_id = ? AND provider_message_id = ? AND direction = 'out'"
	keys := []any{store.AccountID(ctx), u.ProviderMessageID}

	move := append([]string{"status = ?", "lease_until = NULL"}, set...)
	moveArgs := append([]any{u.Status}, args...)
	if u.Status == MsgFailed {
		move = append(move, "error_code = ?", "error_title = ?", "error_details = ?")
		moveArgs = append(moveArgs, u.ErrorCode, u.ErrorTitle, u.ErrorDetails)
	}
	from := below(u.Status)
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(from)), ", ")
	moveArgs = append(append(moveArgs, keys...), toAny(from)...)
	var rows []statusTarget
	if err := s.db.Conn(ctx).Raw("UPDATE messages SET "+strings.Join(move, ", ")+where+" AND status IN ("+marks+") RETURNING id, conversation_id, type",
		moveArgs...).Scan(&rows).Error; err != nil {
		return applied{}, store.Translate(err, nil, nil)
	}
	if len(rows) == 0 {
		if err := s.db.Conn(ctx).Raw("UPDATE messages SET "+strings.Join(set, ", ")+where+" RETURNING id, conversation_id, type",
			append(args, keys...)...).Scan(&rows).Error; err != nil {
			return applied{}, store.Translate(err, nil, nil)
		}
		if len(rows) == 0 {
			return applied{}, nil
		}
		return applied{found: true, changed: u.Pricing != nil, messageID: rows[0].ID, conversationID: rows[0].ConversationID}, nil
	}
	m := rows[0]
	a := applied{found: true, changed: true, messageID: m.ID, conversationID: m.ConversationID}
	if u.Status == MsgFailed && m.Type == "template" {
		r := s.db.Tenant(ctx, "conversations").Where("id = ? AND status IN ?", m.ConversationID, []Status{StatusScheduled, StatusWaiting}).
			Updates(map[string]any{"status": StatusFailed, "failure_code": u.ErrorCode, "failure_title": u.ErrorTitle, "closed_at": now, "updated_at": now})
		if r.Error != nil {
			return a, store.Translate(r.Error, nil, nil)
		}
		a.convFailed = r.RowsAffected == 1
	}
	return a, nil
}

func toAny[T any](ss []T) []any {
	out := make([]any, len(ss))
	for i, v := range ss {
		out[i] = v
	}
	return out
}

type orphanRow struct {
	AccountID         string
	ProviderMessageID string
	Status            MessageStatus
	OccurredAt        time.Time
	ErrorCode         *int
	ErrorTitle        *string
	ErrorDetails      *string
	PricingBillable   *bool
	PricingCategory   *string
	PricingType       *string
	CreatedAt         time.Time
}

func (orphanRow) TableName() string { return "orphan_statuses" }

func (s *Service) keepOrphan(ctx context.Context, u StatusUpdate) error {
	at := u.At.UTC()
	if at.IsZero() {
		at = s.now()
	}
	r := orphanRow{AccountID: store.AccountID(ctx), ProviderMessageID: u.ProviderMessageID, Status: u.Status, OccurredAt: at, CreatedAt: s.now()}
	if u.ErrorCode != 0 || u.ErrorTitle != "" {
		r.ErrorCode, r.ErrorTitle, r.ErrorDetails = &u.ErrorCode, &u.ErrorTitle, &u.ErrorDetails
	}
	if u.Pricing != nil {
		r.PricingBillable, r.PricingCategory, r.PricingType = &u.Pricing.Billable, &u.Pricing.Category, &u.Pricing.Type
	}
	return store.Translate(s.db.Conn(ctx).Clauses(onConflictNothing).Create(&r).Error, nil, nil)
}

func (s *Service) applyOrphans(ctx context.Context, providerID string) error {
	var rows []orphanRow
	if err := s.db.Tenant(ctx, "orphan_statuses").Where("provider_message_id = ?", providerID).Order("occurred_at").Find(&rows).Error; err != nil || len(rows) == 0 {
		return store.Translate(err, nil, nil)
	}
	for _, o := range rows {
		u := StatusUpdate{ProviderMessageID: providerID, Status: o.Status, At: o.OccurredAt}
		if o.ErrorCode != nil {
			u.ErrorCode = *o.ErrorCode
		}
		if o.ErrorTitle != nil {
			u.ErrorTitle = *o.ErrorTitle
		}
		if o.ErrorDetails != nil {
			u.ErrorDetails = *o.ErrorDetails
		}
		u.Pricing = pricingOf(o.PricingCategory, o.PricingBillable, o.PricingType)
		if _, err := s.applyStatus(ctx, u); err != nil {
			return err
		}
	}
	return store.Translate(s.db.Tenant(ctx, "orphan_statuses").Where("provider_message_id = ?", providerID).Delete(&orphanRow{}).Error, nil, nil)
}
