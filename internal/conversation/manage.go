package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/store"
)

// Filter narrows a conversation list.
type Filter struct {
	// Status holds states, each possibly a comma-separated list; "open" stands for scheduled,
	// waiting and active.
	Status    []string
	TeamID    string
	ChannelID string
	ContactID string
	// AssigneeID is "me", "none" (the queue) or a user id.
	AssigneeID string
	// Q matches the contact's name or phone, in any form.
	Q string
	// Unread keeps the conversations with inbound messages the caller has not read.
	Unread bool
}

// scope restricts q to the conversations the actor may see: agents logged into the SPA see only
// their teams' conversations; admins and API keys see the account's.
func (s *Service) scope(ctx context.Context, actor Actor, q *gorm.DB) (*gorm.DB, error) {
	if actor.UserID == "" || actor.IsAdmin {
		return q, nil
	}
	teams, err := s.teams.TeamsOf(ctx, actor.UserID)
	if err != nil {
		return nil, err
	}
	if len(teams) == 0 {
		return q.Where("1 = 0"), nil
	}
	return q.Where("conversations.team_id IN ?", teams), nil
}

func (s *Service) getRow(ctx context.Context, actor Actor, id string) (convRow, error) {
	if !store.ValidID(id) {
		return convRow{}, ErrNotFound
	}
	q, err := s.scope(ctx, actor, s.db.Tenant(ctx, "conversations").Where("id = ?", id))
	if err != nil {
		return convRow{}, err
	}
	var r convRow
	if err := q.Take(&r).Error; err != nil {
		return convRow{}, store.Translate(err, ErrNotFound, nil)
	}
	return r, nil
}

// Get returns a conversation the actor may see.
func (s *Service) Get(ctx context.Context, actor Actor, id string) (Conversation, error) {
	r, err := s.getRow(ctx, actor, id)
	return r.toConversation(), err
}

// OpeningMessage returns the first message of a conversation.
func (s *Service) OpeningMessage(ctx context.Context, conversationID string) (*Message, error) {
	var rows []msgRow
	if err := s.db.Tenant(ctx, "messages").Where("conversation_id = ?", conversationID).Order("seq").Limit(1).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	m := rows[0].toMessage()
	return &m, nil
}

// List returns a page of the conversations the actor may see, most recently changed first
// (updated_at, then id, both descending; the cursor carries both, so paging never skips or
// repeats a row that did not change meanwhile).
func (s *Service) List(ctx context.Context, actor Actor, f Filter, limit int, cursor string) ([]Conversation, *string, error) {
	var fe apperr.Fields
	if limit == 0 {
		limit = store.DefaultLimit
	}
	if limit < 1 || limit > store.MaxLimit {
		fe.Add("limit", "limit_invalid", "limit must be between 1 and 200")
	}
	after, afterID, ok := parseCursor(cursor)
	if !ok {
		fe.Add("cursor", "cursor_invalid", "cursor is not one this API returned")
	}
	q := s.db.Tenant(ctx, "conversations")
	var statuses []Status
	for _, group := range f.Status {
		for _, st := range strings.Split(group, ",") {
			st = strings.TrimSpace(st)
			switch {
			case st == "open":
				statuses = append(statuses, openStatuses...)
			case Status(st).Known():
				statuses = append(statuses, Status(st))
			default:
				fe.Add("status", "status_invalid", "unknown status "+st)
			}
		}
	}
	if len(statuses) > 0 {
		q = q.Where("conversations.status IN ?", statuses)
	}
	for _, c := range []struct{ v, col string }{{f.TeamID, "team_id"}, {f.ChannelID, "channel_id"}, {f.ContactID, "contact_id"}} {
		if c.v == "" {
			continue
		}
		if !store.ValidID(c.v) {
			fe.Add(c.col, c.col+"_invalid", c.col+" is not a valid id")
			continue
		}
		q = q.Where("conversations."+c.col+" = ?", c.v)
	}
	switch a := f.AssigneeID; {
	case a == "":
	case a == "none":
		q = q.Where("conversations.assignee_id IS NULL")
	case a == "me" && actor.UserID != "":
		q = q.Where("conversations.assignee_id = ?", actor.UserID)
	case store.ValidID(a):
		q = q.Where("conversations.assignee_id = ?", a)
	default:
		fe.Add("assignee_id", "assignee_id_invalid", "assignee_id is me (for a user), none or a user id")
	}
	if f.Unread {
		if actor.UserID == "" {
			fe.Add("unread", "unread_invalid", "only a user has unread conversations")
		} else {
			q = q.Where(`conversations.last_inbound_seq > COALESCE((SELECT r.last_read_seq FROM conversation_reads r
WHERE r.account_id = conversations.account_id AND r.conversation_id = conversations.id AND r.user_id = ?), 0)`, actor.UserID)
		}
	}
	if text := strings.TrimSpace(f.Q); text != "" {
		sub, err := s.contacts.Matching(ctx, "q", text)
		if err != nil {
			if apperr.IsKind(err, apperr.KindInvalid) {
				fe = append(fe, apperr.FieldsOf(err)...)
			} else {
				return nil, nil, err
			}
		} else {
			q = q.Where("conversations.contact_id IN (?)", sub)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, nil, err
	}
	q, err := s.scope(ctx, actor, q)
	if err != nil {
		return nil, nil, err
	}
	if afterID != "" {
		q = q.Where("(conversations.updated_at < ? OR (conversations.updated_at = ? AND conversations.id < ?))", after, after, afterID)
	}
	var rows []convRow
	if err := q.Order("conversations.updated_at DESC, conversations.id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, store.Translate(err, nil, nil)
	}
	var next *string
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		c := strconv.FormatInt(last.UpdatedAt.UTC().UnixMicro(), 10) + "_" + last.ID
		next = &c
	}
	out := make([]Conversation, len(rows))
	for i, r := range rows {
		out[i] = r.toConversation()
	}
	return out, next, nil
}

// parseCursor reads a list cursor, "<updated_at in Unix microseconds>_<id>"; "" is the first page.
func parseCursor(c string) (time.Time, string, bool) {
	if c == "" {
		return time.Time{}, "", true
	}
	us, id, found := strings.Cut(c, "_")
	n, err := strconv.ParseInt(us, 10, 64)
	if !found || err != nil || n < 0 || !store.ValidID(id) {
		return time.Time{}, "", false
	}
	return time.UnixMicro(n).UTC(), id, true
}

// Close closes an open conversation, with an optional reason from the account's list (422
// close_reason_unknown). Queued messages stay queued, unsent and visible.
func (s *Service) Close(ctx context.Context, actor Actor, id string, reason *string) (Conversation, error) {
	r, err := s.getRow(ctx, actor, id)
	if err != nil {
		return Conversation{}, err
	}
	why, err := s.checkReason(ctx, reason)
	if err != nil {
		return Conversation{}, err
	}
	now := s.now()
	res := s.db.Tenant(ctx, "conversations").Where("id = ? AND status IN ?", id, openStatuses).
		Updates(map[string]any{"status": StatusClosed, "closed_at": now, "closed_reason": why, "updated_at": now})
	if res.Error != nil {
		return Conversation{}, store.Translate(res.Error, nil, nil)
	}
	if res.RowsAffected == 0 {
		return Conversation{}, errClosed
	}
	if r.Status == StatusScheduled {
		// A scheduled opening that never left is withdrawn with it.
		if err := s.db.Tenant(ctx, "messages").Where("conversation_id = ? AND status = ?", id, MsgScheduled).
			Updates(map[string]any{"status": MsgCancelled, "updated_at": now}).Error; err != nil {
			return Conversation{}, store.Translate(err, nil, nil)
		}
	}
	s.emit(ctx, EventConversationUpdated, id)
	s.emit(ctx, EventConversationClosed, id)
	return s.Get(ctx, actor, id)
}

// Cancel cancels a scheduled start before its template goes out; nothing is sent.
func (s *Service) Cancel(ctx context.Context, actor Actor, id string) (Conversation, error) {
	if _, err := s.getRow(ctx, actor, id); err != nil {
		return Conversation{}, err
	}
	now := s.now()
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		// The opening message is claimed only while still scheduled; cancelling it first means the
		// dispatcher either already took it (and we refuse) or never will.
		res := s.db.Tenant(ctx, "messages").Where("conversation_id = ? AND status = ?", id, MsgScheduled).
			Updates(map[string]any{"status": MsgCancelled, "updated_at": now})
		if res.Error != nil {
			return store.Translate(res.Error, nil, nil)
		}
		res = s.db.Tenant(ctx, "conversations").Where("id = ? AND status = ?", id, StatusScheduled).
			Updates(map[string]any{"status": StatusCancelled, "closed_at": now, "updated_at": now})
		if res.Error != nil {
			return store.Translate(res.Error, nil, nil)
		}
		if res.RowsAffected == 0 {
			return apperr.Conflict("conversation_not_scheduled", "only a scheduled start that has not gone out can be cancelled")
		}
		return nil
	})
	if err != nil {
		return Conversation{}, err
	}
	s.emit(ctx, EventConversationUpdated, id)
	return s.Get(ctx, actor, id)
}

// Messages returns a page of a conversation's messages in order (oldest first), after the
// given sequence number.
func (s *Service) Messages(ctx context.Context, actor Actor, id string, afterSeq int64, limit int) ([]Message, *int64, error) {
	if _, err := s.getRow(ctx, actor, id); err != nil {
		return nil, nil, err
	}
	if limit == 0 {
		limit = store.DefaultLimit
	}
	if limit < 1 || limit > store.MaxLimit {
		return nil, nil, apperr.Invalid(apperr.FieldError{Field: "limit", Code: "limit_invalid", Message: "limit must be between 1 and 200"})
	}
	var rows []msgRow
	if err := s.db.Tenant(ctx, "messages").Where("conversation_id = ? AND seq > ?", id, afterSeq).Order("seq").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, store.Translate(err, nil, nil)
	}
	var next *int64
	if len(rows) > limit {
		rows = rows[:limit]
		n := rows[len(rows)-1].Seq
		next = &n
	}
	out := make([]Message, len(rows))
	for i, r := range rows {
		out[i] = r.toMessage()
	}
	return out, next, nil
}

// GetMessage returns one message of the account by id.
func (s *Service) GetMessage(ctx context.Context, id string) (Message, error) {
	r, err := store.Get[msgRow](s.db.Tenant(ctx, "messages"), id, ErrMessageNotFound)
	return r.toMessage(), err
}

// PostInput is a message an agent posts: free text, or a template with parameters.
type PostInput struct {
	Text       *string
	TemplateID *string
	Parameters json.RawMessage
	// MediaID is a file to send (from the media service), with Caption.
	MediaID *string
	Caption *string
	// HeaderMedia is the file of the template's media header.
	HeaderMedia *HeaderMedia
}

// HeaderMedia is the file of a template's IMAGE, VIDEO or DOCUMENT header: an uploaded media id
// or a public link.
type HeaderMedia struct {
	MediaID *string
	Link    *string
}

// Post adds a message to a conversation. Free text is queued while the conversation waits for
// the contact (or is scheduled), sent at once inside the window, and refused (template_required)
// on an active conversation whose window has closed. A template is sent at once; on an active
// conversation with the window closed it re-engages the contact and the conversation waits again.
func (s *Service) Post(ctx context.Context, actor Actor, id string, in PostInput) (Message, error) {
	if in.kind() == postText && (actor.UserID == "" || actor.IsAdmin) && store.ValidID(id) && len(textFields(*in.Text)) == 0 {
		// The common case, a valid text from someone who may see every conversation, needs
		// nothing read first: the decision is taken under the row's lock anyway. Only a
		// conversation that is not open (or not there) takes the long way, which tells which.
		m, err := s.write(ctx, actor, id, in, plan{}, s.now())
		if !errors.Is(err, errClosed) {
			return m, err
		}
	}
	conv, err := s.getRow(ctx, actor, id)
	if err != nil {
		return Message{}, err
	}
	now := s.now()
	p, err := s.checkPost(ctx, conv.toConversation(), in, now)
	if err != nil {
		return Message{}, err
	}
	return s.write(ctx, actor, id, in, p, now)
}

// write writes a checked post (writePost) in a transaction and announces it once committed.
func (s *Service) write(ctx context.Context, actor Actor, id string, in PostInput, p plan, now time.Time) (Message, error) {
	var out msgRow
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		var err error
		var d postDecision
		if out, d, err = s.writePost(ctx, actor, id, in, p, now); err != nil {
			return err
		}
		// After the commit, in one write to the event log.
		s.emit(ctx, EventMessageCreated, out.ID)
		if d.reengage {
			s.emit(ctx, EventConversationUpdated, id)
		}
		if out.Status == MsgPending {
			s.wake(ctx)
		}
		return nil
	})
	if err != nil {
		return Message{}, err
	}
	return out.toMessage(), nil
}

// writePost takes the conversation's next sequence number, decides again on the state read
// under that lock (the window or status may have moved since the check), and writes the message
// and, for a re-engagement, the conversation's return to waiting.
func (s *Service) writePost(ctx context.Context, actor Actor, id string, in PostInput, p plan, now time.Time) (msgRow, postDecision, error) {
	cur, err := s.nextSeq(ctx, id, now)
	if err != nil {
		return msgRow{}, postDecision{}, err
	}
	seq := cur.NextSeq
	d := decidePost(cur.Status, cur.toConversation().WindowOpen(now), in.kind())
	if d.err != nil {
		return msgRow{}, d, d.err
	}
	out := msgRow{ID: store.NewID(), AccountID: cur.AccountID, ConversationID: id, ChannelID: cur.ChannelID, Seq: seq,
		Direction: "out", Status: d.status, CreatedBy: actor.createdBy(), CreatedAt: now, UpdatedAt: now}
	if d.status == MsgPending {
		out.DueAt = &now
	}
	if p.tpl != nil {
		if err := fillTemplate(&out, p); err != nil {
			return msgRow{}, d, err
		}
	} else if p.media != nil {
		caption := ""
		if in.Caption != nil {
			caption = *in.Caption
		}
		mid := p.media.ID
		out.Type, out.Text, out.RenderedText, out.MediaID = string(p.media.Kind), caption, caption, &mid
	} else {
		out.Type, out.Text, out.RenderedText = "text", *in.Text, *in.Text
	}
	if d.reengage {
		if err := s.db.Tenant(ctx, "conversations").Where("id = ?", id).
			Updates(map[string]any{"status": StatusWaiting, "waiting_since": now, "updated_at": now}).Error; err != nil {
			return msgRow{}, d, store.Translate(err, nil, nil)
		}
	}
	return out, d, store.Translate(s.db.Conn(ctx).Create(&out).Error, nil, nil)
}

// nextSeq takes the next sequence number of an open conversation and returns the conversation
// as it is under that lock (NextSeq is the number taken). The update locks the conversation's
// row, so concurrent posts are ordered by commit; a closed one → errClosed.
func (s *Service) nextSeq(ctx context.Context, id string, now time.Time) (convRow, error) {
	var rows []convRow
	if err := s.db.Conn(ctx).Raw("UPDATE conversations SET next_seq = next_seq + 1, updated_at = ? WHERE id = ? AND account_id = ? AND status IN ? RETURNING *",
		now, id, store.AccountID(ctx), openStatuses).Scan(&rows).Error; err != nil {
		return convRow{}, store.Translate(err, nil, nil)
	}
	if len(rows) == 0 {
		return convRow{}, errClosed
	}
	return rows[0], nil
}

// Withdraw deletes a message that is still queued; once released it can no longer be withdrawn
// (409 message_not_queued). The delete and the release are single guarded statements, so exactly
// one of them wins a race.
func (s *Service) Withdraw(ctx context.Context, actor Actor, conversationID, messageID string) error {
	if _, err := s.getRow(ctx, actor, conversationID); err != nil {
		return err
	}
	if !store.ValidID(messageID) {
		return ErrMessageNotFound
	}
	res := s.db.Tenant(ctx, "messages").Where("id = ? AND conversation_id = ? AND status = ?", messageID, conversationID, MsgQueued).Delete(&msgRow{})
	if res.Error != nil {
		return store.Translate(res.Error, nil, nil)
	}
	if res.RowsAffected == 1 {
		s.emit(ctx, EventMessageUpdated, messageID)
		return nil
	}
	var n int64
	if err := s.db.Tenant(ctx, "messages").Where("id = ? AND conversation_id = ?", messageID, conversationID).Count(&n).Error; err != nil {
		return store.Translate(err, nil, nil)
	}
	if n == 0 {
		return ErrMessageNotFound
	}
	return apperr.Conflict("message_not_queued", "the message has already been released and cannot be withdrawn")
}

var onConflictNothing = clause.OnConflict{DoNothing: true}

// CanSeeMedia tells whether the actor may read a file of the account: one that messages carry,
// when the actor may see one of their conversations (the tenant and team rules of Get); one no
// message carries yet (a fresh upload), when the actor uploaded it, is an admin or an API key.
// Otherwise the file is not found, as a conversation the actor may not see is.
func (s *Service) CanSeeMedia(ctx context.Context, actor Actor, mediaID string, uploadedBy *string) error {
	convs := s.db.Tenant(ctx, "messages").Select("conversation_id").Where("media_id = ?", mediaID)
	var used int64
	if err := s.db.Tenant(ctx, "messages").Where("media_id = ?", mediaID).Limit(1).Count(&used).Error; err != nil {
		return store.Translate(err, nil, nil)
	}
	if used == 0 {
		if actor.IsAdmin || actor.UserID == "" || (uploadedBy != nil && *uploadedBy == actor.UserID) {
			return nil
		}
		return ErrMediaNotFound
	}
	q, err := s.scope(ctx, actor, s.db.Tenant(ctx, "conversations").Where("id IN (?)", convs))
	if err != nil {
		return err
	}
	var n int64
	if err := q.Limit(1).Count(&n).Error; err != nil {
		return store.Translate(err, nil, nil)
	}
	if n == 0 {
		return ErrMediaNotFound
	}
	return nil
}

// ErrMediaNotFound is a file the actor may not see: as for conversations, its existence is not told.
var ErrMediaNotFound = apperr.NotFound("media_not_found", "media not found")

// MediaChanged tells the account's clients that the messages carrying a file changed: it was
// fetched from WhatsApp (ready) or could not be (failed). ctx carries the account.
func (s *Service) MediaChanged(ctx context.Context, mediaID string) {
	var ids []string
	if err := s.db.Tenant(ctx, "messages").Where("media_id = ?", mediaID).Pluck("id", &ids).Error; err != nil {
		return
	}
	for _, id := range ids {
		s.emit(ctx, EventMessageUpdated, id)
	}
}
