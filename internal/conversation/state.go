package conversation

// Status is a conversation's state (DESIGN.md "States"). It is a type of its own so that a
// message status, an origin or a stray literal cannot be stored or compared in its place.
type Status string

// Conversation states.
const (
	StatusScheduled Status = "scheduled"
	StatusWaiting   Status = "waiting"
	StatusActive    Status = "active"
	StatusClosed    Status = "closed"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// openStatuses are the states in which a conversation counts as open; the partial unique index
// conversations_open (migration 0001) lists the same three, which is why they are literals there.
var openStatuses = []Status{StatusScheduled, StatusWaiting, StatusActive}

// Open reports whether a conversation in this state still counts as open.
func (s Status) Open() bool {
	return s == StatusScheduled || s == StatusWaiting || s == StatusActive
}

// Known reports whether s is one of the conversation states (a list filter's input).
func (s Status) Known() bool {
	switch s {
	case StatusScheduled, StatusWaiting, StatusActive, StatusClosed, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// MessageStatus is a message's state: outbound messages move forward through it, inbound ones
// are received. Provider status updates carry it too, including values we ignore (played).
type MessageStatus string

// Message states.
const (
	MsgScheduled MessageStatus = "scheduled"
	MsgQueued    MessageStatus = "queued"
	MsgPending   MessageStatus = "pending"
	MsgSent      MessageStatus = "sent"
	MsgDelivered MessageStatus = "delivered"
	MsgRead      MessageStatus = "read"
	MsgFailed    MessageStatus = "failed"
	MsgCancelled MessageStatus = "cancelled"
	MsgReceived  MessageStatus = "received"
)
