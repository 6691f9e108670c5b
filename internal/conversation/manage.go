package conversation

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/store"
)

// Filter narrows a conversation list.
type Filter struct {
	Status    string
	TeamID    string
	ChannelID string
	ContactID string
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

// List returns a page of the conversations the actor may see, newest first.
func (s *Service) List(ctx context.Context, actor Actor, f Filter, p store.Page) ([]Conversation, *string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, nil, err
	}
	var fe apperr.Fields
	q := s.db.Tenant(ctx, "conversations")
	if f.Status != "" {
		statuses := strings.Split(f.Status, ",")
		for _, st := range statuses {
			if !Status(st).Known() {
				fe.Add("status", "status_invalid", "unknown status "+st)
			}
		}
		q = q.Where("status IN ?", statuses)
	}
	for _, c := range []struct{ v, col string }{{f.TeamID, "team_id"}, {f.ChannelID, "channel_id"}, {f.ContactID, "contact_id"}} {
		if c.v == "" {
			continue
		}
		if !store.ValidID(c.v) {
			fe.Add(c.col, c.col+"_invalid", c.col+" is not a valid id")
			continue
		}
		q = q.Where(c.col+" = ?", c.v)
	}
	if err := fe.Err(); err != nil {
		return nil, nil, err
	}
	q, err = s.scope(ctx, actor, q)
	if err != nil {
		return nil, nil, err
	}
	return store.List(p, q, func(r convRow) string { return r.ID }, convRow.toConversation)
}

// Close closes an open conversation. Queued messages stay queued, unsent and visible.
func (s *Service) Close(ctx context.Context, actor Actor, id string) (Conversation, error) {
	r, err := s.getRow(ctx, actor, id)
	if err != nil {
		return Conversation{}, err
	}
	now := s.now()
	res := s.db.Tenant(ctx, "conversations").Where("id = ? AND status IN ?", id, openStatuses).
		Updates(map[string]any{"status": StatusClosed, "closed_at": now, "updated_at": now})
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
	conv, err := s.getRow(ctx, actor, id)
	if err != nil {
		return Message{}, err
	}
	now := s.now()
	p, err := s.checkPost(ctx, conv.toConversation(), in, now)
	if err != nil {
		return Message{}, err
	}
	var out msgRow
	var d postDecision
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		out, d, err = s.writePost(ctx, actor, id, in, p, now)
		return err
	})
	if err != nil {
		return Message{}, err
	}
	s.emit(ctx, EventMessageCreated, out.ID)
	if d.reengage {
		s.emit(ctx, EventConversationUpdated, id)
	}
	if out.Status == MsgPending {
		s.wake(ctx)
	}
	return out.toMessage(), nil
}

// writePost takes the conversation's next sequence number, decides again on the state read
// under that lock (the window or status may have moved since the check), and writes the message
// and, for a re-engagement, the conversation's return to waiting.
func (s *Service) writePost(ctx context.Context, actor Actor, id string, in PostInput, p plan, now time.Time) (msgRow, postDecision, error) {
	seq, err := s.nextSeq(ctx, id, now)
	if err != nil {
		return msgRow{}, postDecision{}, err
	}
	var cur convRow
	if err := s.db.Tenant(ctx, "conversations").Where("id = ?", id).Take(&cur).Error; err != nil {
		return msgRow{}, postDecision{}, store.Translate(err, ErrNotFound, nil)
	}
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
		if err := fillTemplate(&out, p.tpl, p.params); err != nil {
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

// nextSeq takes the next sequence number of an open conversation. The update locks the
// conversation's row, so concurrent posts are ordered by commit; a closed one → errClosed.
func (s *Service) nextSeq(ctx context.Context, id string, now time.Time) (int64, error) {
	var seq int64
	if err := s.db.Conn(ctx).Raw("UPDATE conversations SET next_seq = next_seq + 1, updated_at = ? WHERE id = ? AND account_id = ? AND status IN ? RETURNING next_seq",
		now, id, store.AccountID(ctx), openStatuses).Scan(&seq).Error; err != nil {
		return 0, store.Translate(err, nil, nil)
	}
	if seq == 0 {
		return 0, errClosed
	}
	return seq, nil
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
