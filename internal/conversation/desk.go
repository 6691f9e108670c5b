package conversation

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm/clause"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/store"
)

// The agent's desk (DESIGN.md § The desk): who owns a conversation, transfers, internal notes,
// close reasons, reopening and what each user has read.

// MaxNoteLength bounds an internal note, in characters.
const MaxNoteLength = 4000

// MsgInternal is the status of an internal note: it is recorded, never sent.
const MsgInternal MessageStatus = "internal"

// Message directions and the note type.
const (
	DirectionIn       = "in"
	DirectionOut      = "out"
	DirectionInternal = "internal"
	TypeNote          = "note"
)

var (
	errForceAdmin = apperr.Forbidden("only admins may force an assignment")
	// errNotClosed refuses reopening a conversation that is not closed.
	errNotClosed = apperr.Conflict("conversation_not_closed", "only a closed conversation can be reopened")
	// errWindowClosed refuses reopening once the contact's 24-hour window has closed: a new start is needed.
	errWindowClosed = apperr.New(apperr.KindInvalid, "window_closed", "the 24-hour window has closed: start a new conversation with a template")
)

// mayHandle reports whether the actor may transfer a conversation: admins, API keys (they act
// for the account, routing conversations for it) and agents acting on their own or an
// unassigned one. The team scope was
// applied when the row was read.
func (a Actor) mayHandle(assignee *string) bool {
	if a.UserID == "" || a.IsAdmin {
		return true
	}
	return assignee == nil || *assignee == a.UserID
}

// owns reports whether the conversation is unassigned or already the actor's: what every caller
// may act on without force.
func (a Actor) owns(assignee *string) bool {
	return assignee == nil || (a.UserID != "" && *assignee == a.UserID)
}

// alreadyAssigned is the 409 naming who owns the conversation now.
func (s *Service) alreadyAssigned(ctx context.Context, assignee *string) error {
	e := apperr.Conflict("conversation_already_assigned", "another agent owns this conversation")
	if assignee == nil {
		return e
	}
	e = e.With("assignee_id", *assignee)
	if s.userNames != nil {
		names, err := s.userNames(ctx, []string{*assignee})
		if err != nil {
			return err
		}
		e = e.With("assignee_name", names[*assignee])
	}
	return e
}

// memberOf reports whether userID may own a conversation of team: a member of it, or, for a
// conversation without a team, any user of the account.
func (s *Service) memberOf(ctx context.Context, teamID *string, userID string) (bool, error) {
	if !store.ValidID(userID) {
		return false, nil
	}
	if teamID == nil {
		if s.userNames == nil {
			return false, nil
		}
		names, err := s.userNames(ctx, []string{userID})
		_, ok := names[userID]
		return ok, err
	}
	return s.teams.HasMember(ctx, *teamID, userID)
}

// setOwner writes updates to an open conversation whose assignee is still expected (force: any
// assignee): the single conditional statement that decides a race between two takers.
func (s *Service) setOwner(ctx context.Context, id string, expected *string, force bool, updates map[string]any) (bool, error) {
	q := s.db.Tenant(ctx, "conversations").Where("id = ? AND status IN ?", id, openStatuses)
	if !force {
		if expected == nil {
			q = q.Where("assignee_id IS NULL")
		} else {
			q = q.Where("assignee_id = ?", *expected)
		}
	}
	res := q.Updates(updates)
	return res.RowsAffected == 1, store.Translate(res.Error, nil, nil)
}

// lostRace explains a conditional update that changed nothing: the conversation closed, or
// someone else owns it now.
func (s *Service) lostRace(ctx context.Context, id string) error {
	var cur convRow
	if err := s.db.Tenant(ctx, "conversations").Where("id = ?", id).Take(&cur).Error; err != nil {
		return store.Translate(err, ErrNotFound, nil)
	}
	if !cur.Status.Open() {
		return errClosed
	}
	return s.alreadyAssigned(ctx, cur.AssigneeID)
}

// Assign gives an open conversation to userID, or returns it to its team's queue (nil). Without
// force, the conversation must be unassigned or the caller's own (else 409
// conversation_already_assigned naming the owner, also when someone took it meanwhile); only
// admins may force. The assignee must belong to the conversation's team (422
// assignee_not_in_team).
func (s *Service) Assign(ctx context.Context, actor Actor, id string, userID *string, force bool) (Conversation, error) {
	r, err := s.getRow(ctx, actor, id)
	if err != nil {
		return Conversation{}, err
	}
	if force && !actor.IsAdmin {
		return Conversation{}, errForceAdmin
	}
	if userID != nil {
		ok, err := s.memberOf(ctx, r.TeamID, *userID)
		if err != nil {
			return Conversation{}, err
		}
		if !ok {
			return Conversation{}, apperr.Invalid(apperr.FieldError{Field: "user_id", Code: "assignee_not_in_team",
				Message: "the user is not a member of the conversation's team"})
		}
	}
	if !r.Status.Open() {
		return Conversation{}, errClosed
	}
	if !force && !actor.owns(r.AssigneeID) && !sameID(r.AssigneeID, userID) {
		return Conversation{}, s.alreadyAssigned(ctx, r.AssigneeID)
	}
	if sameID(r.AssigneeID, userID) {
		return r.toConversation(), nil
	}
	ok, err := s.setOwner(ctx, id, r.AssigneeID, force, map[string]any{"assignee_id": userID, "updated_at": s.now()})
	if err != nil {
		return Conversation{}, err
	}
	if !ok {
		return Conversation{}, s.lostRace(ctx, id)
	}
	s.emit(ctx, EventConversationUpdated, id)
	s.emit(ctx, EventConversationAssigned, id)
	// The caller handed it on, possibly out of their sight: read it unscoped.
	return s.Get(ctx, Actor{}, id)
}

func sameID(a, b *string) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// TransferInput moves a conversation to a team, optionally to one of its members, with an
// optional note for them.
type TransferInput struct {
	TeamID *string
	UserID *string
	Note   *string
}

// Transfer moves an open conversation to a team linked to its channel (422
// team_not_allowed_on_channel), to one of that team's members or to its queue; the note becomes
// an internal note. Agents transfer only conversations they own or unassigned ones (else 409
// conversation_already_assigned); admins and API keys transfer any. Nothing is written unless
// all of it is.
func (s *Service) Transfer(ctx context.Context, actor Actor, id string, in TransferInput) (Conversation, error) {
	r, err := s.getRow(ctx, actor, id)
	if err != nil {
		return Conversation{}, err
	}
	var f apperr.Fields
	teamOK := false
	switch {
	case in.TeamID == nil || *in.TeamID == "":
		f.Add("team_id", "team_required", "team_id is required")
	default:
		exists, err := s.teams.Exists(ctx, *in.TeamID)
		if err != nil {
			return Conversation{}, err
		}
		if !exists {
			f.Add("team_id", "team_not_found", "no such team in this account")
			break
		}
		allowed, err := s.teams.AllowedOnChannel(ctx, *in.TeamID, r.ChannelID)
		if err != nil {
			return Conversation{}, err
		}
		if !allowed {
			f.Add("team_id", "team_not_allowed_on_channel", "the team is not linked to the conversation's channel")
			break
		}
		teamOK = true
	}
	userID := in.UserID
	if userID != nil && *userID == "" {
		userID = nil
	}
	if userID != nil && teamOK {
		ok, err := s.memberOf(ctx, in.TeamID, *userID)
		if err != nil {
			return Conversation{}, err
		}
		if !ok {
			f.Add("user_id", "assignee_not_in_team", "the user is not a member of that team")
		}
	}
	var note string
	if in.Note != nil && strings.TrimSpace(*in.Note) != "" {
		note = *in.Note
		f = append(f, noteFields("note", note)...)
	}
	if err := f.Err(); err != nil {
		return Conversation{}, err
	}
	if !r.Status.Open() {
		return Conversation{}, errClosed
	}
	if !actor.mayHandle(r.AssigneeID) {
		return Conversation{}, s.alreadyAssigned(ctx, r.AssigneeID)
	}
	var noteID string
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		now := s.now()
		ok, err := s.setOwner(ctx, id, r.AssigneeID, false, map[string]any{"team_id": *in.TeamID, "assignee_id": userID, "updated_at": now})
		if err != nil {
			return err
		}
		if !ok {
			return s.lostRace(ctx, id)
		}
		if note != "" {
			m, err := s.insertNote(ctx, actor, r, note, now)
			if err != nil {
				return err
			}
			noteID = m.ID
		}
		return nil
	})
	if err != nil {
		return Conversation{}, err
	}
	s.emit(ctx, EventConversationUpdated, id)
	s.emit(ctx, EventConversationTransferred, id)
	if noteID != "" {
		s.emit(ctx, EventMessageCreated, noteID)
	}
	return s.Get(ctx, Actor{}, id)
}

// noteFields checks a note's text: 1 to MaxNoteLength characters, not only spaces.
func noteFields(field, text string) apperr.Fields {
	var f apperr.Fields
	if strings.TrimSpace(text) == "" || utf8.RuneCountInString(text) > MaxNoteLength {
		f.Add(field, "note_text_invalid", "a note has 1 to 4000 characters")
	}
	return f
}

// insertNote writes an internal note as the conversation's next message, whatever its status
// (a closed conversation still takes notes).
func (s *Service) insertNote(ctx context.Context, actor Actor, conv convRow, text string, now time.Time) (msgRow, error) {
	var seq int64
	if err := s.db.Conn(ctx).Raw("UPDATE conversations SET next_seq = next_seq + 1, updated_at = ? WHERE id = ? AND account_id = ? RETURNING next_seq",
		now, conv.ID, store.AccountID(ctx)).Scan(&seq).Error; err != nil {
		return msgRow{}, store.Translate(err, nil, nil)
	}
	if seq == 0 {
		return msgRow{}, ErrNotFound
	}
	m := msgRow{ID: store.NewID(), AccountID: conv.AccountID, ConversationID: conv.ID, ChannelID: conv.ChannelID, Seq: seq,
		Direction: DirectionInternal, Type: TypeNote, Status: MsgInternal, Text: text, RenderedText: text,
		CreatedBy: actor.createdBy(), CreatedAt: now, UpdatedAt: now}
	return m, store.Translate(s.db.Conn(ctx).Create(&m).Error, nil, nil)
}

// AddNote records an internal note on a conversation the actor may see: a message of type note
// and direction internal, in the conversation's order, that the dispatcher never sends and CRM
// webhooks never carry.
func (s *Service) AddNote(ctx context.Context, actor Actor, id string, text *string) (Message, error) {
	r, err := s.getRow(ctx, actor, id)
	if err != nil {
		return Message{}, err
	}
	t := ""
	if text != nil {
		t = *text
	}
	if err := noteFields("text", t).Err(); err != nil {
		return Message{}, err
	}
	var m msgRow
	if err := s.db.InTx(ctx, func(ctx context.Context) error {
		m, err = s.insertNote(ctx, actor, r, t, s.now())
		return err
	}); err != nil {
		return Message{}, err
	}
	s.emit(ctx, EventMessageCreated, m.ID)
	s.emit(ctx, EventConversationUpdated, id)
	return m.toMessage(), nil
}

// ContactNotes returns a page of the notes of every conversation of a contact that the actor
// may see, newest first.
func (s *Service) ContactNotes(ctx context.Context, actor Actor, contactID string, p store.Page) ([]Message, *string, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.contacts.Get(ctx, contactID); err != nil {
		return nil, nil, err
	}
	convs, err := s.scope(ctx, actor, s.db.Tenant(ctx, "conversations").Select("conversations.id").Where("conversations.contact_id = ?", contactID))
	if err != nil {
		return nil, nil, err
	}
	// 'note' stays a literal: the partial index messages_notes matches only the same predicate.
	q := s.db.Tenant(ctx, "messages").Where("messages.type = 'note' AND messages.conversation_id IN (?)", convs)
	return store.List(p, q, func(r msgRow) string { return r.ID }, msgRow.toMessage)
}

// checkReason returns the close reason to store: nil for none, else one of the account's list
// (422 close_reason_unknown).
func (s *Service) checkReason(ctx context.Context, reason *string) (*string, error) {
	if reason == nil || strings.TrimSpace(*reason) == "" {
		return nil, nil
	}
	var list []string
	if s.reasons != nil {
		var err error
		if list, err = s.reasons(ctx); err != nil {
			return nil, err
		}
	}
	r := strings.TrimSpace(*reason)
	if !slices.Contains(list, r) {
		return nil, apperr.Invalid(apperr.FieldError{Field: "reason", Code: "close_reason_unknown", Message: "the reason is not one of the account's close reasons"})
	}
	return &r, nil
}

// Reopen makes a closed conversation active again while the contact's 24-hour window is open
// (422 window_closed afterwards: a new start is needed). An unassigned one becomes the caller's.
// A contact who meanwhile has another open conversation on the channel → 409
// conversation_already_open naming it.
func (s *Service) Reopen(ctx context.Context, actor Actor, id string) (Conversation, error) {
	r, err := s.getRow(ctx, actor, id)
	if err != nil {
		return Conversation{}, err
	}
	if r.Status != StatusClosed {
		return Conversation{}, errNotClosed
	}
	now := s.now()
	if !r.toConversation().WindowOpen(now) {
		return Conversation{}, errWindowClosed
	}
	updates := map[string]any{"status": StatusActive, "closed_at": nil, "closed_reason": nil, "updated_at": now}
	if r.AssigneeID == nil && actor.UserID != "" {
		updates["assignee_id"] = actor.UserID
	}
	res := s.db.Tenant(ctx, "conversations").Where("id = ? AND status = ?", id, StatusClosed).Updates(updates)
	if res.Error != nil {
		if store.IsDuplicate(res.Error) {
			existing, err := s.openFor(ctx, r.ContactID, r.ChannelID)
			if err != nil {
				return Conversation{}, err
			}
			return Conversation{}, apperr.Conflict("conversation_already_open", "the contact already has an open conversation on this channel").With("existing_id", existing)
		}
		return Conversation{}, store.Translate(res.Error, nil, nil)
	}
	if res.RowsAffected == 0 {
		return Conversation{}, errNotClosed
	}
	s.emit(ctx, EventConversationUpdated, id)
	s.emit(ctx, EventConversationReopened, id)
	return s.Get(ctx, actor, id)
}

type readRow struct {
	AccountID      string
	ConversationID string
	UserID         string
	LastReadSeq    int64
	ReadAt         time.Time
}

func (readRow) TableName() string { return "conversation_reads" }

// MarkRead records that the calling user has read the conversation up to its latest message. An
// API key reads nothing (no user to remember it for).
func (s *Service) MarkRead(ctx context.Context, actor Actor, id string) (Conversation, error) {
	r, err := s.getRow(ctx, actor, id)
	if err != nil {
		return Conversation{}, err
	}
	if actor.UserID == "" {
		return r.toConversation(), nil
	}
	row := readRow{AccountID: r.AccountID, ConversationID: id, UserID: actor.UserID, LastReadSeq: r.NextSeq, ReadAt: s.now()}
	err = s.db.Conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "account_id"}, {Name: "conversation_id"}, {Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"last_read_seq", "read_at"}),
	}).Create(&row).Error
	if err != nil {
		return Conversation{}, store.Translate(err, nil, nil)
	}
	return r.toConversation(), nil
}

// LastMessage summarises a conversation's latest message for the list.
type LastMessage struct {
	Direction string
	Type      string
	Preview   string
	At        time.Time
}

// Desk is what the list shows of a conversation for one user: their unread count and the latest
// message.
type Desk struct {
	Unread      int
	LastMessage *LastMessage
}

// previewLength bounds a last message's preview, in characters.
const previewLength = 120

// DeskOf returns, for each of the conversations (by id), the calling user's unread count (inbound
// messages after what they last read; 0 for API keys) and the latest message, notes included
// unless withNotes is false (what leaves the system, CRM webhooks, never shows a note). Two
// queries for a whole page.
func (s *Service) DeskOf(ctx context.Context, actor Actor, ids []string, withNotes bool) (map[string]Desk, error) {
	out := make(map[string]Desk, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	acc := store.AccountID(ctx)
	noNotes := ""
	if !withNotes {
		noNotes = " AND m2.direction <> 'internal'"
	}
	var last []struct {
		ConversationID string
		Direction      string
		Type           string
		RenderedText   string
		CreatedAt      time.Time
	}
	// Driven by the page's conversations: each finds its latest seq walking the (account_id,
	// conversation_id, seq) index backwards, however long the conversation.
	if err := s.db.Conn(ctx).Raw(`SELECT m.conversation_id, m.direction, m.type, m.rendered_text, m.created_at
FROM conversations c JOIN messages m ON m.account_id = c.account_id AND m.conversation_id = c.id
  AND m.seq = (SELECT m2.seq FROM messages m2 WHERE m2.account_id = c.account_id AND m2.conversation_id = c.id`+noNotes+`
               ORDER BY m2.seq DESC LIMIT 1)
WHERE c.account_id = ? AND c.id IN ?`, acc, ids).Scan(&last).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	for _, l := range last {
		preview := l.RenderedText
		if utf8.RuneCountInString(preview) > previewLength {
			preview = string([]rune(preview)[:previewLength-1]) + "…"
		}
		out[l.ConversationID] = Desk{LastMessage: &LastMessage{Direction: l.Direction, Type: l.Type, Preview: preview, At: l.CreatedAt.UTC()}}
	}
	if actor.UserID == "" {
		return out, nil
	}
	var unread []struct {
		ConversationID string
		N              int
	}
	if err := s.db.Conn(ctx).Raw(`SELECT m.conversation_id, count(*) AS n FROM messages m
LEFT JOIN conversation_reads r ON r.account_id = m.account_id AND r.conversation_id = m.conversation_id AND r.user_id = ?
WHERE m.account_id = ? AND m.conversation_id IN ? AND m.direction = 'in' AND m.seq > COALESCE(r.last_read_seq, 0)
GROUP BY m.conversation_id`, actor.UserID, acc, ids).Scan(&unread).Error; err != nil {
		return nil, store.Translate(err, nil, nil)
	}
	for _, u := range unread {
		d := out[u.ConversationID]
		d.Unread = u.N
		out[u.ConversationID] = d
	}
	return out, nil
}

// TabCount is one tab of the desk: its conversations and how many of them have unread messages.
type TabCount struct {
	Total  int
	Unread int
}

// Counts are the desk's tabs for the caller: Mine (assigned to them, active), Waiting (assigned
// to them, waiting for the contact or scheduled), Others (open, unassigned or a colleague's) and
// Closed, each within the conversations the caller may see (an agent's teams).
type Counts struct {
	Mine, Waiting, Others, Closed TabCount
}

// Counts counts the caller's tabs over the conversations they may see.
func (s *Service) Counts(ctx context.Context, actor Actor) (Counts, error) {
	if actor.UserID != "" && !store.ValidID(actor.UserID) {
		return Counts{}, ErrNotFound // a user id is always a UUID: nothing else is ever written into the SQL
	}
	unread := "1 = 0"
	mine, others := "1 = 0", "1 = 1"
	var args []any
	join := ""
	if actor.UserID != "" {
		join = "LEFT JOIN conversation_reads r ON r.account_id = c.account_id AND r.conversation_id = c.id AND r.user_id = ?"
		args = append(args, actor.UserID)
		unread = "c.last_inbound_seq > COALESCE(r.last_read_seq, 0)"
		mine = "c.assignee_id = '" + actor.UserID + "'"
		others = "(c.assignee_id IS NULL OR c.assignee_id <> '" + actor.UserID + "')"
	}
	sum := func(cond string) string { return "COALESCE(SUM(CASE WHEN " + cond + " THEN 1 ELSE 0 END), 0)" }
	active, waiting := "c.status = 'active'", "c.status IN ('waiting', 'scheduled')"
	// Two passes, each over one side of the status index (conversations_account_status): the open
	// conversations with their read marks, and the closed ones counted alone (they pile up).
	// The states stay literals, like the index's.
	open := "SELECT " +
		sum(mine+" AND "+active) + " AS mine_total, " + sum(mine+" AND "+active+" AND "+unread) + " AS mine_unread, " +
		sum(mine+" AND "+waiting) + " AS waiting_total, " + sum(mine+" AND "+waiting+" AND "+unread) + " AS waiting_unread, " +
		sum(others) + " AS others_total, " + sum(others+" AND "+unread) + " AS others_unread " +
		"FROM conversations c " + join + " WHERE c.account_id = ? AND c.status IN ('scheduled', 'waiting', 'active')"
	closed := "SELECT count(*) FROM conversations c WHERE c.account_id = ? AND c.status = 'closed'"
	args = append(args, store.AccountID(ctx))
	closedArgs := []any{store.AccountID(ctx)}
	if actor.UserID != "" && !actor.IsAdmin {
		teams, err := s.teams.TeamsOf(ctx, actor.UserID)
		if err != nil {
			return Counts{}, err
		}
		if len(teams) == 0 {
			return Counts{}, nil
		}
		open += " AND c.team_id IN ?"
		closed += " AND c.team_id IN ?"
		args, closedArgs = append(args, teams), append(closedArgs, teams)
	}
	var row struct {
		MineTotal, MineUnread, WaitingTotal, WaitingUnread, OthersTotal, OthersUnread int
	}
	if err := s.db.Conn(ctx).Raw(open, args...).Scan(&row).Error; err != nil {
		return Counts{}, store.Translate(err, nil, nil)
	}
	var closedTotal int
	if err := s.db.Conn(ctx).Raw(closed, closedArgs...).Scan(&closedTotal).Error; err != nil {
		return Counts{}, store.Translate(err, nil, nil)
	}
	return Counts{Mine: TabCount{row.MineTotal, row.MineUnread}, Waiting: TabCount{row.WaitingTotal, row.WaitingUnread},
		Others: TabCount{row.OthersTotal, row.OthersUnread}, Closed: TabCount{Total: closedTotal}}, nil
}
