// Package conversation owns conversations and their messages: the validated start (active
// origin), the queue of messages typed while the contact has not replied, and the outbox rows
// the dispatcher sends.
package conversation

import (
	"context"
	"encoding/json"
	"time"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/media"
	"github.com/atendimento/atendimento/internal/pricing"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/team"
	"github.com/atendimento/atendimento/internal/template"
)

// Origins.
const (
	OriginActive    = "active"
	OriginReceptive = "receptive"
)

// WindowLength is how long after the contact's last message free text may be sent.
const WindowLength = 24 * time.Hour

// Conversation is one thread with a contact on a channel, owned by a team.
type Conversation struct {
	ID              string
	AccountID       string
	ContactID       string
	ChannelID       string
	TeamID          *string
	Status          Status
	Origin          string
	ScheduledAt     *time.Time
	WaitingSince    *time.Time
	WindowExpiresAt *time.Time
	LastInboundAt   *time.Time
	ClosedAt        *time.Time
	Failure         *Failure
	// AssigneeID is the agent who owns the conversation; nil while it waits in its team's queue.
	AssigneeID *string
	// ClosedReason is the reason picked from the account's list when it was closed.
	ClosedReason *string
	// LastInboundSeq is the seq of the contact's latest message (0: none yet).
	LastInboundSeq int64
	CreatedBy      *string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Open reports whether the conversation still counts as open (scheduled, waiting or active).
func (c Conversation) Open() bool { return c.Status.Open() }

// WindowOpen reports whether free text may be sent now.
func (c Conversation) WindowOpen(now time.Time) bool {
	return c.WindowExpiresAt != nil && now.Before(*c.WindowExpiresAt)
}

// Failure is the provider's error that failed a conversation or message.
type Failure struct {
	Code  int
	Title string
}

// Pricing is what Meta's status webhooks reported about a message's billing.
type Pricing struct {
	Billable bool
	Category string
	Type     string
}

// Message is one message of a conversation, inbound or outbound.
type Message struct {
	ID                string
	ConversationID    string
	ChannelID         string
	Seq               int64
	Direction         string
	Type              string
	Status            MessageStatus
	Text              string
	RenderedText      string
	TemplateID        *string
	TemplateName      string
	TemplateLanguage  string
	TemplateCategory  string
	Parameters        json.RawMessage
	ProviderMessageID *string
	Error             *Failure
	Pricing           *Pricing
	DueAt             *time.Time
	SentAt            *time.Time
	DeliveredAt       *time.Time
	ReadAt            *time.Time
	FailedAt          *time.Time
	ReceivedAt        *time.Time
	CreatedBy         *string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	// MediaID is the file the message carries (its caption is Text), nil for none.
	MediaID *string
	// Content is the fields of a location, contacts, interactive, button or reaction message,
	// as Meta sent them (JSON), nil for other types.
	Content json.RawMessage
}

// Actor is who acts: a session user (UserID set) or an API key.
type Actor struct {
	UserID  string
	IsAdmin bool
}

// createdBy is the author recorded on rows the actor writes: the session user, or none for an
// API key.
func (a Actor) createdBy() *string {
	if a.UserID == "" {
		return nil
	}
	id := a.UserID
	return &id
}

// Service is the conversation domain.
type Service struct {
	db        *store.DB
	contacts  *contact.Service
	channels  *channel.Service
	teams     *team.Service
	templates *template.Service
	card      *pricing.Card
	signal    func()
	publish   Publisher
	keywords  KeywordsFunc
	reasons   func(ctx context.Context) ([]string, error)
	userNames func(ctx context.Context, ids []string) (map[string]string, error)
	now       func() time.Time
	media     MediaRecorder
	ingest    *ingest
}

// Publisher receives the changes of conversations and messages after they commit (server-sent
// events, CRM webhooks).
type Publisher interface {
	Publish(ctx context.Context, accountID, kind string, id string)
}

// Deps are the domains a conversation start consults.
type Deps struct {
	Contacts  *contact.Service
	Channels  *channel.Service
	Teams     *team.Service
	Templates *template.Service
	Card      *pricing.Card
	// Wake signals the dispatcher that due outbox rows were committed.
	Wake func()
	// Publisher, if set, is told about every change after it commits.
	Publisher Publisher
	// Now is the clock of the times the service stores (nil: store.Now).
	Now func() time.Time
	// Keywords, if set, reads the account's consent keywords: inbound replies that are exactly one
	// of them record an opt-out or opt-in.
	Keywords KeywordsFunc
	// CloseReasons reads the account's list of close reasons (nil: none may be given).
	CloseReasons func(ctx context.Context) ([]string, error)
	// UserNames names users by id (the assignee a 409 reports).
	UserNames func(ctx context.Context, ids []string) (map[string]string, error)
	// Media records the files of inbound messages in the message's transaction; nil refuses
	// inbound media (tests that need none).
	Media MediaRecorder
}

// MediaRecorder records a contact's file; *media.Service implements it.
type MediaRecorder interface {
	RecordInbound(ctx context.Context, in media.Inbound) (string, error)
	Get(ctx context.Context, id string) (media.Media, error)
}

// NewService returns the conversation service.
func NewService(db *store.DB, d Deps) *Service {
	s := &Service{db: db, contacts: d.Contacts, channels: d.Channels, teams: d.Teams, templates: d.Templates,
		card: d.Card, signal: d.Wake, publish: d.Publisher, keywords: d.Keywords, reasons: d.CloseReasons, userNames: d.UserNames, now: d.Now, media: d.Media}
	if s.now == nil {
		s.now = store.Now
	}
	// Postgres commits two groups at once (one flushes while the other fills); SQLite has one writer.
	groups := 2
	if db.Dialect() == store.SQLite {
		groups = 1
	}
	s.ingest = newIngest(s, groups)
	if s.signal == nil {
		s.signal = func() {}
	}
	if s.card == nil {
		s.card = pricing.Default()
	}
	return s
}

// SetClock replaces the clock (tests of windows and schedules).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Wake tells the dispatcher there may be due rows.
func (s *Service) Wake() { s.signal() }

// wake tells the dispatcher about due rows once the context's transaction (if any) commits.
// Callers emit a change's events before they wake: the dispatcher's own events about a message
// then rarely overtake the event that announced it (order is not promised, see event.Broker).
func (s *Service) wake(ctx context.Context) {
	if c := collectorOf(ctx); c != nil {
		c.wake = true
		return
	}
	store.AfterCommit(ctx, func(context.Context) { s.signal() })
}

// emit publishes a change once the context's transaction (if any) commits; a rollback drops it.
func (s *Service) emit(ctx context.Context, kind, id string) {
	if s.publish == nil {
		return
	}
	if c := collectorOf(ctx); c != nil {
		c.changes = append(c.changes, Change{AccountID: store.AccountID(ctx), Kind: kind, ID: id})
		return
	}
	change := Change{AccountID: store.AccountID(ctx), Kind: kind, ID: id}
	if tp, ok := s.publish.(TxPublisher); ok {
		// The changes of one transaction (a start announces its conversation and its message)
		// are logged with one statement, in the transaction where the engine allows.
		store.CommitBatch(ctx, emitBatch{}, change, func(ctx context.Context, items []any) any {
			return tp.LogInTx(ctx, changesOf(items))
		}, tp.Announce)
		return
	}
	bp, ok := s.publish.(BatchPublisher)
	if !ok {
		store.AfterCommit(ctx, func(ctx context.Context) {
			s.publish.Publish(ctx, store.AccountID(ctx), kind, id)
		})
		return
	}
	// The changes of one transaction (a start announces its conversation and its message) are
	// logged with one statement.
	store.AfterCommitBatch(ctx, emitBatch{}, change, func(ctx context.Context, items []any) {
		bp.PublishAll(ctx, changesOf(items))
	})
}

func changesOf(items []any) []Change {
	changes := make([]Change, len(items))
	for i, it := range items {
		changes[i] = it.(Change)
	}
	return changes
}

// emitBatch is the key of emit's batch in a transaction.
type emitBatch struct{}

// Event kinds published after commit.
const (
	EventConversationCreated = "conversation.created"
	EventConversationUpdated = "conversation.updated"
	EventMessageCreated      = "message.created"
	EventMessageUpdated      = "message.updated"
	// EventConversationAssigned, …Transferred, …Closed and …Reopened follow the
	// EventConversationUpdated of the same change, for CRM subscribers that want only them.
	EventConversationAssigned    = "conversation.assigned"
	EventConversationTransferred = "conversation.transferred"
	EventConversationClosed      = "conversation.closed"
	EventConversationReopened    = "conversation.reopened"
)

// Errors of the conversation domain.
var (
	ErrNotFound        = apperr.NotFound("conversation_not_found", "no such conversation in this account")
	ErrMessageNotFound = apperr.NotFound("message_not_found", "no such message in this conversation")
	errClosed          = apperr.Conflict("conversation_closed", "the conversation is no longer open")
)

type convRow struct {
	ID              string
	AccountID       string
	ContactID       string
	ChannelID       string
	TeamID          *string
	Status          Status
	Origin          string
	ScheduledAt     *time.Time
	WaitingSince    *time.Time
	WindowExpiresAt *time.Time
	LastInboundAt   *time.Time
	ClosedAt        *time.Time
	FailureCode     *int
	FailureTitle    *string
	NextSeq         int64
	AssigneeID      *string
	ClosedReason    *string
	LastInboundSeq  int64
	CreatedBy       *string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (convRow) TableName() string { return "conversations" }

func (r convRow) toConversation() Conversation {
	c := Conversation{ID: r.ID, AccountID: r.AccountID, ContactID: r.ContactID, ChannelID: r.ChannelID, TeamID: r.TeamID,
		Status: r.Status, Origin: r.Origin, ScheduledAt: utc(r.ScheduledAt), WaitingSince: utc(r.WaitingSince),
		WindowExpiresAt: utc(r.WindowExpiresAt), LastInboundAt: utc(r.LastInboundAt), ClosedAt: utc(r.ClosedAt),
		AssigneeID: r.AssigneeID, ClosedReason: r.ClosedReason, LastInboundSeq: r.LastInboundSeq,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.FailureCode != nil {
		c.Failure = &Failure{Code: *r.FailureCode}
		if r.FailureTitle != nil {
			c.Failure.Title = *r.FailureTitle
		}
	}
	return c
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

type msgRow struct {
	ID                string
	AccountID         string
	ConversationID    string
	ChannelID         string
	Seq               int64
	Direction         string
	Type              string
	Status            MessageStatus
	Text              string
	RenderedText      string
	TemplateID        *string
	TemplateName      string
	TemplateLanguage  string
	TemplateCategory  string
	Parameters        *string
	Components        *string
	ProviderMessageID *string
	ErrorCode         *int
	ErrorTitle        *string
	ErrorDetails      *string
	PricingBillable   *bool
	PricingCategory   *string
	PricingType       *string
	Attempts          int
	DueAt             *time.Time
	LeaseUntil        *time.Time
	SentAt            *time.Time
	DeliveredAt       *time.Time
	ReadAt            *time.Time
	FailedAt          *time.Time
	ReceivedAt        *time.Time
	CreatedBy         *string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	MediaID           *string
	Content           *string
}

func (msgRow) TableName() string { return "messages" }

func (r msgRow) toMessage() Message {
	m := Message{ID: r.ID, ConversationID: r.ConversationID, ChannelID: r.ChannelID, Seq: r.Seq, Direction: r.Direction,
		Type: r.Type, Status: r.Status, Text: r.Text, RenderedText: r.RenderedText, TemplateID: r.TemplateID,
		TemplateName: r.TemplateName, TemplateLanguage: r.TemplateLanguage, TemplateCategory: r.TemplateCategory,
		ProviderMessageID: r.ProviderMessageID, DueAt: utc(r.DueAt), SentAt: utc(r.SentAt), DeliveredAt: utc(r.DeliveredAt),
		ReadAt: utc(r.ReadAt), FailedAt: utc(r.FailedAt), ReceivedAt: utc(r.ReceivedAt), CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), MediaID: r.MediaID}
	if r.Content != nil {
		m.Content = json.RawMessage(*r.Content)
	}
	if r.Parameters != nil {
		m.Parameters = json.RawMessage(*r.Parameters)
	}
	if r.ErrorCode != nil || r.ErrorTitle != nil {
		m.Error = &Failure{}
		if r.ErrorCode != nil {
			m.Error.Code = *r.ErrorCode
		}
		if r.ErrorTitle != nil {
			m.Error.Title = *r.ErrorTitle
		}
	}
	m.Pricing = pricingOf(r.PricingCategory, r.PricingBillable, r.PricingType)
	return m
}

// pricingOf is the pricing stored in a row's nullable columns; none until Meta reported a
// category.
func pricingOf(category *string, billable *bool, typ *string) *Pricing {
	if category == nil {
		return nil
	}
	p := &Pricing{Category: *category}
	if billable != nil {
		p.Billable = *billable
	}
	if typ != nil {
		p.Type = *typ
	}
	return p
}
