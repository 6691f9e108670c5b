package conversation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm/clause"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/store"
)

// Group commit of inbound messages. Each webhook delivery is acknowledged only once its messages
// are committed, so at volume the commits (a WAL flush each on Postgres, the single writer's
// turn on SQLite) bound the rate. ReceiveAll lets concurrent deliveries share one transaction:
// the first delivery to arrive leads a group, waits up to groupWait for others to join (at most
// groupMax deliveries), resolves every sender with a few multi-row statements, stores each
// delivery inside its own savepoint, commits once, publishes the group's events, and only then
// answers every delivery in it. A delivery whose savepoint fails is rolled back alone and
// stored again by itself, one transaction per message (Receive), so one bad item never fails
// its neighbours; a failed commit fails every delivery of the group (Meta retries them).

// Group commit bounds.
const (
	groupWait = time.Millisecond
	groupMax  = 64
	// groupTimeout bounds one group's transaction, whatever its deliveries' own deadlines.
	groupTimeout = 30 * time.Second
)

// InboundOutcome is what one message of a delivery did: its result, or Err when the message
// was refused for good (an apperr of kind invalid: a sender's number that is no number) and the
// delivery goes on without it.
type InboundOutcome struct {
	InboundResult
	Err error
}

// Change is one change to announce once committed: what Publisher.Publish takes.
type Change struct {
	AccountID, Kind, ID string
}

// BatchPublisher is a Publisher that takes the changes of a whole group at once (one write to
// the event log instead of one per event).
type BatchPublisher interface {
	PublishAll(ctx context.Context, changes []Change)
}

// TxPublisher is a Publisher that may log a transaction's changes inside it, sparing the log a
// write transaction of its own where the engine allows (see event.Broker.LogInTx), and announce
// them once it commits.
type TxPublisher interface {
	LogInTx(ctx context.Context, changes []Change) any
	Announce(ctx context.Context, logged any)
}

// ReceiveAll stores the messages of one webhook delivery (ctx acts for the channel's account)
// and returns one outcome per message, in order. It returns only once they are committed; an
// error means none of them may be acknowledged. Duplicates (by WhatsApp id) are stored once,
// within a delivery, within a group and across groups.
func (s *Service) ReceiveAll(ctx context.Context, ins []Inbound) ([]InboundOutcome, error) {
	if len(ins) == 0 {
		return nil, nil
	}
	d := &delivery{ctx: ctx, account: store.AccountID(ctx), ins: ins, done: make(chan struct{}), lead: make(chan struct{})}
	s.ingest.submit(d)
	if d.alone {
		return s.receiveAlone(ctx, ins)
	}
	return d.out, d.err
}

// receiveAlone stores each message in its own transaction (Receive).
func (s *Service) receiveAlone(ctx context.Context, ins []Inbound) ([]InboundOutcome, error) {
	out := make([]InboundOutcome, len(ins))
	for i, in := range ins {
		res, err := s.Receive(ctx, in)
		if apperr.IsKind(err, apperr.KindInvalid) {
			out[i].Err = err
			continue
		}
		if err != nil {
			return out, fmt.Errorf("inbound %s: %w", in.ProviderMessageID, err)
		}
		out[i].InboundResult = res
	}
	return out, nil
}

// delivery is one ReceiveAll call waiting for its group.
type delivery struct {
	ctx     context.Context
	account string
	ins     []Inbound
	// Set by the group before done is closed.
	out     []InboundOutcome
	err     error
	alone   bool // not stored by the group: the caller stores it by itself
	changes []Change
	wake    bool
	done    chan struct{}
	lead    chan struct{} // closed when this delivery becomes the next group's leader
}

// ingest gathers concurrent deliveries into groups.
type ingest struct {
	s     *Service
	wait  time.Duration
	max   int
	slots chan struct{} // groups in flight at once

	mu      sync.Mutex
	pending []*delivery
	full    chan struct{} // signalled when pending reaches max
	lastN   int           // deliveries in the last group (1: no concurrency seen, so no waiting)

	// beforeCommit, when set (tests), runs last in every group's transaction; its error fails it.
	beforeCommit func(ctx context.Context) error
	// alwaysWait (tests) makes every leader wait the whole wait for others to join.
	alwaysWait bool
	// groups and grouped count the groups committed and the deliveries they stored.
	groups, grouped atomic.Int64
}

// SetGroupCommit is for tests: wait is how long a group's leader waits for others to join
// (every time, not only under load), and beforeCommit, when not nil, runs last in every group's
// transaction, its error failing the group as a failed commit would.
func (s *Service) SetGroupCommit(wait time.Duration, beforeCommit func(ctx context.Context) error) {
	s.ingest.mu.Lock()
	defer s.ingest.mu.Unlock()
	s.ingest.wait, s.ingest.alwaysWait, s.ingest.beforeCommit = wait, true, beforeCommit
}

// GroupStats returns how many groups of deliveries committed and how many deliveries they
// stored (the deliveries stored alone are not counted).
func (s *Service) GroupStats() (groups, deliveries int64) {
	return s.ingest.groups.Load(), s.ingest.grouped.Load()
}

func newIngest(s *Service, groups int) *ingest {
	return &ingest{s: s, wait: groupWait, max: groupMax, slots: make(chan struct{}, groups), full: make(chan struct{}, 1)}
}

// submit queues d and returns once its group has answered it.
func (g *ingest) submit(d *delivery) {
	g.mu.Lock()
	g.pending = append(g.pending, d)
	leader := len(g.pending) == 1
	if len(g.pending) >= g.max {
		select {
		case g.full <- struct{}{}:
		default:
		}
	}
	g.mu.Unlock()
	if !leader {
		select {
		case <-d.done:
			return
		case <-d.lead:
		}
	}
	g.collect()
	<-d.done
}

// collect is run by the group's leader: it takes a slot, lets others join for a moment, and
// runs the group.
func (g *ingest) collect() {
	waited := false
	select {
	case g.slots <- struct{}{}:
	default:
		g.slots <- struct{}{} // the other groups' time let this one fill up: no further wait
		waited = true
	}
	g.mu.Lock()
	busy := len(g.slots) > 1 || g.lastN > 1 || g.alwaysWait
	wait := g.wait
	g.mu.Unlock()
	if !waited && busy && wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-g.full:
		}
		t.Stop()
	}
	g.mu.Lock()
	n := min(len(g.pending), g.max)
	batch := append([]*delivery(nil), g.pending[:n]...)
	g.pending = append(g.pending[:0:0], g.pending[n:]...)
	select {
	case <-g.full:
	default:
	}
	if len(g.pending) > 0 {
		close(g.pending[0].lead)
	}
	g.lastN = n
	g.mu.Unlock()
	g.mu.Lock()
	hook := g.beforeCommit
	g.mu.Unlock()
	g.run(batch, hook)
}

// errAlone sends a delivery back to be stored by itself (something the group's shortcuts do not
// cover: a conversation or message another writer created meanwhile, a sender to create alone).
var errAlone = errors.New("conversation: store this delivery alone")

// errSlow abandons a group's first, optimistic attempt: the group runs again with a savepoint
// per delivery.
var errSlow = errors.New("conversation: group needs savepoints")

// run stores a group in one transaction and answers its deliveries. The first attempt writes
// the group's new conversations and all its messages with one multi-row insert each and no
// savepoints; anything unusual in it (an error, a conflict with another writer) rolls it back,
// and the group runs again with each delivery in its own savepoint, where a delivery that fails
// is rolled back alone and then stored by itself.
func (g *ingest) run(batch []*delivery, beforeCommit func(ctx context.Context) error) {
	s := g.s
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), groupTimeout)
	defer cancel()
	stored, prepared, logged, err := g.attempt(ctx, batch, false, beforeCommit)
	if errors.Is(err, errSlow) {
		stored, prepared, logged, err = g.attempt(ctx, batch, true, beforeCommit)
	}
	// The next group may write now: this one's events need no slot (on SQLite they were logged in
	// its transaction, so the next group does not wait for a write of theirs).
	<-g.slots
	switch {
	case err == nil:
		g.groups.Add(1)
		g.grouped.Add(int64(len(stored)))
		// Committed: the deliveries are answered first, the events follow.
		for _, d := range batch {
			close(d.done)
		}
		s.publishAll(ctx, stored, logged)
		return
	case !prepared || store.IsRetryable(err):
		// Nothing of the group was committed: each delivery is stored by itself.
		for _, d := range batch {
			d.alone = true
		}
	default:
		for _, d := range stored {
			d.out, d.err = nil, fmt.Errorf("inbound: group commit: %w", err)
		}
	}
	for _, d := range batch {
		close(d.done)
	}
}

// attempt runs the group's transaction once; prepared tells whether it got past the group's
// shared reads and writes (before them, a failure leaves every delivery to be stored alone).
func (g *ingest) attempt(ctx context.Context, batch []*delivery, savepoints bool, beforeCommit func(ctx context.Context) error) (stored []*delivery, prepared bool, logged any, err error) {
	s := g.s
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		stored, prepared, logged = nil, false, nil
		for _, d := range batch {
			d.out, d.changes, d.wake, d.alone = nil, nil, false, false
		}
		known, err := s.prepareGroup(ctx, batch)
		if err != nil {
			return err
		}
		prepared = true
		var w *groupWrites
		if !savepoints {
			w = &groupWrites{newConv: map[string]int{}, replies: map[string]*replyAgg{}}
			w.deferReplies = !s.anyConsent(ctx, batch)
		}
		for i, d := range batch {
			col := &collector{}
			dctx := context.WithValue(store.WithAccount(ctx, d.account), collectorKey{}, col)
			var out []InboundOutcome
			if !savepoints {
				if out, err = s.receiveGrouped(dctx, d, known, w); err != nil {
					return fmt.Errorf("%w: %w", errSlow, err)
				}
			} else {
				dk := known.fork()
				err := s.db.Savepoint(dctx, fmt.Sprintf("delivery_%d", i), func(ctx context.Context) error {
					var err error
					out, err = s.receiveGrouped(ctx, d, dk, nil)
					return err
				})
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					d.alone = true
					continue
				}
				known.merge(dk)
			}
			d.out, d.changes, d.wake = out, col.changes, col.wake
			stored = append(stored, d)
		}
		if w != nil {
			if err := s.flushGroup(ctx, w); err != nil {
				return err
			}
			if w.wake && len(stored) > 0 {
				stored[0].wake = true
			}
		}
		if tp, ok := s.publish.(TxPublisher); ok {
			if all := changesOfGroup(stored); len(all) > 0 {
				logged = tp.LogInTx(ctx, all)
			}
		}
		if beforeCommit != nil {
			return beforeCommit(ctx)
		}
		return nil
	})
	return stored, prepared, logged, err
}

// groupWrites are the rows a group's optimistic attempt writes at its end, one statement each.
type groupWrites struct {
	convs   []convRow
	newConv map[string]int // conversation key → index in convs
	msgs    []msgRow
	// deferReplies (Postgres) leaves the replies to open conversations to flushGroup.
	deferReplies bool
	replies      map[string]*replyAgg
	replyOrder   []string
	wake         bool // flushGroup released queued messages
}

// replyAgg is what a group's replies do to one open conversation.
type replyAgg struct {
	id, account string
	n           int64
	at, now     time.Time // the latest reply's time; the group's clock
	msgs        []int     // the replies, in order, as indexes in groupWrites.msgs
	first       *InboundOutcome
	conv        convRow // the row as the group read it (SQLite: current, the transaction holds the write lock)
}

// flushGroup inserts the group's new conversations, then its messages. A row another writer
// got in first (an open conversation, a WhatsApp id) abandons the attempt (errSlow).
func (s *Service) flushGroup(ctx context.Context, w *groupWrites) error {
	const chunk = 200
	if err := s.flushReplies(ctx, w); err != nil {
		return fmt.Errorf("%w: %w", errSlow, err)
	}
	for i := 0; i < len(w.convs); i += chunk {
		part := w.convs[i:min(i+chunk, len(w.convs))]
		res := s.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&part)
		if res.Error != nil {
			return fmt.Errorf("%w: %w", errSlow, store.Translate(res.Error, nil, nil))
		}
		if res.RowsAffected != int64(len(part)) {
			return errSlow
		}
	}
	for i := 0; i < len(w.msgs); i += chunk {
		part := w.msgs[i:min(i+chunk, len(w.msgs))]
		res := s.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&part)
		if res.Error != nil {
			return fmt.Errorf("%w: %w", errSlow, store.Translate(res.Error, nil, nil))
		}
		if res.RowsAffected != int64(len(part)) {
			return errSlow
		}
	}
	return nil
}

// publishAll announces the committed group's changes, in the deliveries' order (logged, when
// the group's transaction logged them: see TxPublisher), and wakes the dispatcher once if any
// released or queued a message.
func (s *Service) publishAll(ctx context.Context, stored []*delivery, logged any) {
	all := changesOfGroup(stored)
	wake := false
	for _, d := range stored {
		wake = wake || d.wake
	}
	switch tp, txp := s.publish.(TxPublisher); {
	case len(all) == 0 || s.publish == nil:
	case txp && logged != nil:
		tp.Announce(ctx, logged)
	default:
		if bp, ok := s.publish.(BatchPublisher); ok {
			bp.PublishAll(ctx, all)
		} else {
			for _, c := range all {
				s.publish.Publish(store.WithAccount(ctx, c.AccountID), c.AccountID, c.Kind, c.ID)
			}
		}
	}
	if wake {
		s.signal()
	}
}

// changesOfGroup is the changes the group's stored deliveries announce, in order.
func changesOfGroup(stored []*delivery) []Change {
	var all []Change
	for _, d := range stored {
		all = append(all, d.changes...)
	}
	return all
}

// collector gathers, in a group's transaction, the changes one delivery announces (emit) and
// whether it wakes the dispatcher: they are published once the group commits, and dropped with
// the delivery's savepoint.
type collector struct {
	changes []Change
	wake    bool
}

type collectorKey struct{}

func collectorOf(ctx context.Context) *collector {
	c, _ := ctx.Value(collectorKey{}).(*collector)
	return c
}

// groupKnown is what a group knows before storing its deliveries: the WhatsApp ids already
// stored, the senders' contacts, the open conversations. A delivery works on a fork, merged
// back once its savepoint is released.
type groupKnown struct {
	dup      map[string]bool            // account|wamid
	contacts map[string]contact.Contact // account|wa_id
	convs    map[string]convRow         // account|contact|channel
}

func (k groupKnown) fork() groupKnown {
	return groupKnown{dup: overlay(k.dup), contacts: k.contacts, convs: overlay(k.convs)}
}

func (k groupKnown) merge(f groupKnown) {
	for key, v := range f.dup {
		k.dup[key] = v
	}
	for key, v := range f.convs {
		k.convs[key] = v
	}
}

// overlay is a copy of m (groups are small: a few dozen entries).
func overlay[V any](m map[string]V) map[string]V {
	c := make(map[string]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// prepareGroup reads, per account of the group, which WhatsApp ids are stored already and the
// open conversations of the senders, and finds or creates the senders' contacts, with one
// statement each.
func (s *Service) prepareGroup(ctx context.Context, batch []*delivery) (groupKnown, error) {
	k := groupKnown{dup: map[string]bool{}, contacts: map[string]contact.Contact{}, convs: map[string]convRow{}}
	var accounts []string
	by := map[string][]*delivery{}
	for _, d := range batch {
		if _, ok := by[d.account]; !ok {
			accounts = append(accounts, d.account)
		}
		by[d.account] = append(by[d.account], d)
	}
	for _, acc := range accounts {
		actx := store.WithAccount(ctx, acc)
		var pids []string
		var senders []contact.Sender
		seen := map[string]bool{}
		channels := map[string]bool{}
		var channelIDs []string
		for _, d := range by[acc] {
			for _, in := range d.ins {
				pids = append(pids, in.ProviderMessageID)
				if !seen[in.From] {
					seen[in.From] = true
					senders = append(senders, contact.Sender{WaID: in.From, Name: in.ProfileName})
				}
				if !channels[in.ChannelID] {
					channels[in.ChannelID] = true
					channelIDs = append(channelIDs, in.ChannelID)
				}
			}
		}
		var stored []string
		if err := s.db.Tenant(actx, "messages").Where("provider_message_id IN ?", pids).Pluck("provider_message_id", &stored).Error; err != nil {
			return k, store.Translate(err, nil, nil)
		}
		for _, p := range stored {
			k.dup[acc+"|"+p] = true
		}
		cts, err := s.contacts.FindOrCreateSenders(actx, senders)
		if err != nil {
			return k, err
		}
		contactIDs := make([]string, 0, len(cts))
		for wa, c := range cts {
			k.contacts[acc+"|"+wa] = c
			contactIDs = append(contactIDs, c.ID)
		}
		if len(contactIDs) == 0 {
			continue
		}
		var rows []convRow
		if err := s.db.Tenant(actx, "conversations").Where("contact_id IN ? AND channel_id IN ? AND status IN ?", contactIDs, channelIDs,
			openStatuses).Find(&rows).Error; err != nil {
			return k, store.Translate(err, nil, nil)
		}
		for _, r := range rows {
			k.convs[acc+"|"+r.ContactID+"|"+r.ChannelID] = r
		}
	}
	return k, nil
}

// flushReplies applies the group's replies to open conversations (Postgres): one UPDATE …
// FROM (VALUES …) takes each conversation's seqs, opens its window and activates it, locking
// the rows; then one UPDATE releases their queued messages (after the locks, so a text an agent
// queued meanwhile is released too). The replies get their seqs in the group's order.
func (s *Service) flushReplies(ctx context.Context, w *groupWrites) error {
	if len(w.replyOrder) == 0 {
		return nil
	}
	keys := append([]string(nil), w.replyOrder...)
	slices.SortFunc(keys, func(a, b string) int { return strings.Compare(w.replies[a].id, w.replies[b].id) })
	var q strings.Builder
	args := make([]any, 0, 7*len(keys))
	if s.db.Dialect() == store.SQLite {
		// The single writer's transaction read the rows: the new values are computed here.
		q.WriteString("WITH v(id, account_id, next_seq, window_expires_at, last_inbound_at, status, updated_at) AS (VALUES ")
		for i, k := range keys {
			a := w.replies[k]
			c := a.conv
			exp, last, status := a.at.Add(WindowLength), a.at, c.Status
			if c.WindowExpiresAt != nil && c.WindowExpiresAt.After(exp) {
				exp = *c.WindowExpiresAt
			}
			if c.LastInboundAt != nil && c.LastInboundAt.After(last) {
				last = *c.LastInboundAt
			}
			if status == StatusWaiting {
				status = StatusActive
			}
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, a.id, a.account, c.NextSeq+a.n, exp, last, string(status), a.now)
		}
		q.WriteString(`) UPDATE conversations SET next_seq = v.next_seq, last_inbound_seq = v.next_seq, window_expires_at = v.window_expires_at,
	last_inbound_at = v.last_inbound_at, status = v.status, updated_at = v.updated_at
FROM v WHERE conversations.id = v.id AND conversations.account_id = v.account_id
RETURNING id, next_seq`)
	} else {
		q.WriteString(`UPDATE conversations AS c SET next_seq = c.next_seq + v.n, last_inbound_seq = c.next_seq + v.n, updated_at = v.now,
		window_expires_at = CASE WHEN c.window_expires_at IS NULL OR c.window_expires_at < v.exp THEN v.exp ELSE c.window_expires_at END,
		last_inbound_at = CASE WHEN c.last_inbound_at IS NULL OR c.last_inbound_at < v.at THEN v.at ELSE c.last_inbound_at END,
		status = CASE WHEN c.status = '` + string(StatusWaiting) + `' THEN '` + string(StatusActive) + `' ELSE c.status END
	FROM (VALUES `)
		for i, k := range keys {
			a := w.replies[k]
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?::uuid, ?::uuid, ?::bigint, ?::timestamptz, ?::timestamptz, ?::timestamptz)")
			args = append(args, a.id, a.account, a.n, a.at, a.at.Add(WindowLength), a.now)
		}
		q.WriteString(") AS v(id, account_id, n, at, exp, now) WHERE c.id = v.id AND c.account_id = v.account_id RETURNING c.id, c.next_seq")
	}
	var rows []struct {
		ID      string
		NextSeq int64
	}
	if err := s.db.Conn(ctx).Raw(q.String(), args...).Scan(&rows).Error; err != nil {
		return store.Translate(err, nil, nil)
	}
	if len(rows) != len(keys) {
		return errAlone // a conversation went away meanwhile
	}
	next := make(map[string]int64, len(rows))
	for _, r := range rows {
		next[r.ID] = r.NextSeq
	}
	byAccount := map[string][]string{}
	var accounts []string
	for _, k := range keys {
		a := w.replies[k]
		base := next[a.id] - a.n
		for j, idx := range a.msgs {
			w.msgs[idx].Seq = base + int64(j) + 1
		}
		if _, ok := byAccount[a.account]; !ok {
			accounts = append(accounts, a.account)
		}
		byAccount[a.account] = append(byAccount[a.account], a.id)
	}
	released := map[string]int{}
	for _, acc := range accounts {
		now := w.replies[keys[0]].now
		var convs []string
		if err := s.db.Conn(ctx).Raw("UPDATE messages SET status = ?, due_at = ?, updated_at = ? WHERE account_id = ? AND conversation_id IN ? AND status = ? RETURNING conversation_id",
			MsgPending, now, now, acc, byAccount[acc], MsgQueued).Scan(&convs).Error; err != nil {
			return store.Translate(err, nil, nil)
		}
		for _, c := range convs {
			released[c]++
		}
	}
	for _, k := range keys {
		a := w.replies[k]
		if n := released[a.id]; n > 0 && a.first != nil {
			a.first.Released = n
			w.wake = true
		}
	}
	return nil
}

// anyConsent reports whether a message of the batch may act as a consent keyword.
func (s *Service) anyConsent(ctx context.Context, batch []*delivery) bool {
	for _, d := range batch {
		dctx := store.WithAccount(ctx, d.account)
		for _, in := range d.ins {
			if s.mayConsent(dctx, in) {
				return true
			}
		}
	}
	return false
}

// mayConsent reports whether keywordConsent may act on in (its text is one of the account's
// keywords): it then needs the conversation written at once.
func (s *Service) mayConsent(ctx context.Context, in Inbound) bool {
	if s.keywords == nil || (in.Type != "text" && in.Type != "button") {
		return false
	}
	kw, err := s.keywords(ctx)
	if err != nil {
		return true // keywordConsent reports the error
	}
	_, ok := kw.Match(in.Text)
	return ok
}

// receiveGrouped stores one delivery's messages in the group's transaction (inside the
// delivery's savepoint), as Receive does one by one. A message the shortcuts do not cover
// returns errAlone. With w, new conversations and messages are left to the group's multi-row
// inserts (flushGroup) instead of written one by one.
func (s *Service) receiveGrouped(ctx context.Context, d *delivery, k groupKnown, w *groupWrites) ([]InboundOutcome, error) {
	acc := d.account
	out := make([]InboundOutcome, len(d.ins))
	for i, in := range d.ins {
		if k.dup[acc+"|"+in.ProviderMessageID] {
			out[i].Duplicate = true
			continue
		}
		ct, ok := k.contacts[acc+"|"+in.From]
		if !ok {
			return nil, errAlone // a sender the bulk rules did not create: Receive says why
		}
		at := in.At.UTC().Truncate(time.Microsecond)
		if at.IsZero() {
			at = s.now()
		}
		now := s.now()
		ckey := acc + "|" + ct.ID + "|" + in.ChannelID
		conv, open := k.convs[ckey]
		created := false
		var seq int64
		var agg *replyAgg
		newIdx, newHere := -1, false
		if w != nil {
			newIdx, newHere = w.newConv[ckey]
		}
		switch {
		case newHere:
			// A second message to a conversation this group creates: counted in its row.
			c := &w.convs[newIdx]
			c.NextSeq++
			seq = c.NextSeq
			c.LastInboundSeq = seq
			if expires := at.Add(WindowLength); expires.After(*c.WindowExpiresAt) {
				c.WindowExpiresAt = &expires
			}
			if at.After(*c.LastInboundAt) {
				last := at
				c.LastInboundAt = &last
			}
			conv = *c
		case !open:
			// A receptive conversation, written with this message already counted.
			expires := at.Add(WindowLength)
			last := at
			conv = convRow{ID: store.NewID(), AccountID: acc, ContactID: ct.ID, ChannelID: in.ChannelID, TeamID: in.DefaultTeamID,
				Status: StatusActive, Origin: OriginReceptive, NextSeq: 1, LastInboundSeq: 1, WindowExpiresAt: &expires,
				LastInboundAt: &last, CreatedAt: now, UpdatedAt: now}
			if w != nil && !s.mayConsent(ctx, in) {
				w.convs = append(w.convs, conv)
				w.newConv[ckey] = len(w.convs) - 1
			} else {
				res := s.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&conv)
				if res.Error != nil {
					return nil, store.Translate(res.Error, nil, nil)
				}
				if res.RowsAffected == 0 {
					return nil, errAlone // another writer opened one meanwhile
				}
			}
			created, seq = true, 1
		case w != nil && w.deferReplies:
			// A reply to an open conversation: its seq, window, status and queue change with the
			// group's other replies, in one statement each (flushGroup).
			agg = w.replies[ckey]
			if agg == nil {
				agg = &replyAgg{id: conv.ID, account: acc, at: at, now: now, conv: conv}
				w.replies[ckey] = agg
				w.replyOrder = append(w.replyOrder, ckey)
			}
			agg.n++
			if at.After(agg.at) {
				agg.at = at
			}
		default:
			// The update locks the row and returns it as concurrent replies left it. On Postgres it
			// also opens the window and activates a waiting conversation, as the update below does
			// on SQLite (whose single writer makes the row read here the current one).
			var rows []convRow
			q := s.db.Conn(ctx).Raw("UPDATE conversations SET next_seq = next_seq + 1 WHERE id = ? AND account_id = ? RETURNING *", conv.ID, acc)
			if s.db.Dialect() == store.Postgres {
				expires := at.Add(WindowLength)
				q = s.db.Conn(ctx).Raw(`UPDATE conversations SET next_seq = next_seq + 1, last_inbound_seq = next_seq + 1, updated_at = ?,
	window_expires_at = CASE WHEN window_expires_at IS NULL OR window_expires_at < ?::timestamptz THEN ?::timestamptz ELSE window_expires_at END,
	last_inbound_at = CASE WHEN last_inbound_at IS NULL OR last_inbound_at < ?::timestamptz THEN ?::timestamptz ELSE last_inbound_at END,
	status = CASE WHEN status = ? THEN ? ELSE status END
WHERE id = ? AND account_id = ? RETURNING *`, now, expires, expires, at, at, StatusWaiting, StatusActive, conv.ID, acc)
			}
			if err := q.Scan(&rows).Error; err != nil {
				return nil, store.Translate(err, nil, nil)
			}
			if len(rows) != 1 {
				return nil, errAlone
			}
			conv = rows[0]
			seq = conv.NextSeq
		}
		pid := in.ProviderMessageID
		var mediaID, content *string
		if in.Media != nil && s.media != nil {
			md := *in.Media
			md.ChannelID = in.ChannelID
			id, err := s.media.RecordInbound(ctx, md)
			if err != nil {
				return nil, err
			}
			mediaID = &id
		}
		if len(in.Content) > 0 {
			c := string(in.Content)
			content = &c
		}
		msg := msgRow{MediaID: mediaID, Content: content, ID: store.NewID(), AccountID: acc, ConversationID: conv.ID, ChannelID: in.ChannelID, Seq: seq,
			Direction: "in", Type: in.Type, Status: MsgReceived, Text: in.Text, RenderedText: in.Text, ProviderMessageID: &pid,
			ReceivedAt: &at, CreatedAt: now, UpdatedAt: now}
		if w != nil {
			if agg != nil {
				agg.msgs = append(agg.msgs, len(w.msgs))
			}
			w.msgs = append(w.msgs, msg)
		} else {
			res := s.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&msg)
			if res.Error != nil {
				return nil, store.Translate(res.Error, nil, nil)
			}
			if res.RowsAffected == 0 {
				return nil, errAlone // stored meanwhile by another writer: Receive reports the duplicate
			}
		}
		r := &out[i]
		r.ConversationID, r.Created, r.MessageID = conv.ID, created, msg.ID
		if agg != nil && agg.first == nil {
			agg.first = r // the queue's release is counted on the conversation's first reply
		}
		if !created && !newHere && agg == nil && s.db.Dialect() != store.Postgres {
			expires := at.Add(WindowLength)
			updates := map[string]any{"updated_at": now, "last_inbound_seq": seq}
			if conv.WindowExpiresAt == nil || expires.After(*conv.WindowExpiresAt) {
				updates["window_expires_at"] = expires
				conv.WindowExpiresAt = &expires
			}
			if conv.LastInboundAt == nil || at.After(*conv.LastInboundAt) {
				updates["last_inbound_at"] = at
				conv.LastInboundAt = &at
			}
			if conv.Status == StatusWaiting {
				updates["status"] = StatusActive
				conv.Status = StatusActive
			}
			if err := s.db.Tenant(ctx, "conversations").Where("id = ?", conv.ID).Updates(updates).Error; err != nil {
				return nil, store.Translate(err, nil, nil)
			}
		}
		if !created && !newHere && agg == nil {
			// After the row lock: a text an agent queued meanwhile is released too.
			rel := s.db.Tenant(ctx, "messages").Where("conversation_id = ? AND status = ?", conv.ID, MsgQueued).
				Updates(map[string]any{"status": MsgPending, "due_at": now, "updated_at": now})
			if rel.Error != nil {
				return nil, store.Translate(rel.Error, nil, nil)
			}
			r.Released = int(rel.RowsAffected)
		}
		if agg == nil && !newHere {
			conv.NextSeq, conv.LastInboundSeq = seq, seq
			k.convs[ckey] = conv
		}
		k.dup[acc+"|"+pid] = true
		var err error
		if r.ReplyID, err = s.keywordConsent(ctx, conv.ContactID, conv.ID, in, at); err != nil {
			return nil, err
		}
		if r.Created {
			s.emit(ctx, EventConversationCreated, r.ConversationID)
		} else {
			s.emit(ctx, EventConversationUpdated, r.ConversationID)
		}
		s.emit(ctx, EventMessageCreated, r.MessageID)
		if r.ReplyID != "" {
			s.emit(ctx, EventMessageCreated, r.ReplyID)
		}
		if r.Released > 0 || r.ReplyID != "" {
			s.wake(ctx)
		}
	}
	return out, nil
}
