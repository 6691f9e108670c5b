// Package dispatch is the outbox's sender: goroutines that claim due outbound messages, send
// them through the channel's provider (WhatsApp Cloud API or the sandbox), and record the result.
// Per conversation messages leave strictly in order (the claim only offers a conversation's next
// message); per channel sends are paced by a token bucket; transient errors retry with backoff
// honouring Retry-After, permanent ones fail the message with the provider's code and title.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/clock"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/logctx"
	"github.com/atendimento/atendimento/internal/media"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/whatsapp"
	"github.com/atendimento/atendimento/internal/worker"
)

// Config tunes the dispatcher.
type Config struct {
	// Workers is how many messages are sent at once (default 32).
	Workers int
	// Media gives the files of media messages; nil refuses them (failed).
	Media MediaSource
	// Batch is how many rows one claim takes (default 200).
	Batch int
	// Lease is how long a claimed row is reserved; a crashed sender's rows return after it (default 60 s).
	Lease time.Duration
	// Poll is the safety-net poll interval when no wake-up arrives (default 5 s, jittered).
	Poll time.Duration
	// ChannelRate is the per-channel send rate in messages/s (default 80, Meta's default per number).
	ChannelRate float64
	// MaxAttempts bounds retries of transient errors (default 8).
	MaxAttempts int
	// Clock drives pacing, retries, backoff and the poll (nil: the real clock; tests pass a fake).
	Clock clock.Clock
	// Observer is told every send's outcome (nil: nobody); the app turns them into metrics.
	Observer Observer
}

// The results of a send attempt an Observer is told.
const (
	ResultSent    = "sent"    // the provider accepted the message
	ResultFailed  = "failed"  // the message failed for good
	ResultRetried = "retried" // a transient error: the message is sent again later
)

// Outcome is one send attempt as an Observer sees it.
type Outcome struct {
	ChannelID string
	// Provider is the channel's provider ("whatsapp_cloud", "sandbox"); "" when the channel
	// could not be read.
	Provider string
	// Result is ResultSent, ResultFailed or ResultRetried.
	Result string
	// Requested tells the provider's API was called; Took is how long it answered in, and Code
	// the provider's error code when it refused (0: none, or no answer at all).
	Requested bool
	Took      time.Duration
	Code      int
}

// Observer is told the outcome of every send attempt. It is called from the send goroutines
// and must not block.
type Observer interface {
	ObserveSend(Outcome)
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.Batch <= 0 {
		c.Batch = 200
	}
	if c.Lease <= 0 {
		c.Lease = 60 * time.Second
	}
	if c.Poll <= 0 {
		c.Poll = 5 * time.Second
	}
	if c.ChannelRate <= 0 {
		c.ChannelRate = 80
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	c.Clock = clock.Or(c.Clock)
}

// CloudSender sends through the WhatsApp Cloud API; *whatsapp.Client implements it.
type CloudSender interface {
	SendTemplate(ctx context.Context, cr whatsapp.Credentials, to, name, language string, components json.RawMessage) (whatsapp.SendResult, error)
	SendText(ctx context.Context, cr whatsapp.Credentials, to, body string) (whatsapp.SendResult, error)
	SendMedia(ctx context.Context, cr whatsapp.Credentials, to, kind, mediaID, caption, filename string) (whatsapp.SendResult, error)
}

// MediaSource gives the files media messages send and Meta's id for them on a channel
// (uploading once per channel and file); *media.Service implements it.
type MediaSource interface {
	Get(ctx context.Context, id string) (media.Media, error)
	ProviderID(ctx context.Context, up media.Uploader, cr whatsapp.Credentials, channelID string, m media.Media) (string, error)
}

// Dispatcher sends the outbox.
type Dispatcher struct {
	cfg      Config
	conv     *conversation.Service
	channels *channel.Service
	contacts *contact.Service
	cloud    CloudSender
	log      *slog.Logger
	clock    clock.Clock
	w        *worker.Worker

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// New returns a dispatcher running its loop on w (nil: a worker of its own on cfg.Clock); Start
// runs it. Whoever wakes the dispatcher before it exists (the conversations it sends through)
// is handed w's Wake.
func New(cfg Config, w *worker.Worker, conv *conversation.Service, channels *channel.Service, contacts *contact.Service, cloud CloudSender, log *slog.Logger) *Dispatcher {
	cfg.defaults()
	if w == nil {
		w = worker.New(cfg.Clock)
	}
	return &Dispatcher{cfg: cfg, conv: conv, channels: channels, contacts: contacts, cloud: cloud, log: log,
		clock: cfg.Clock, w: w, limiters: map[string]*rate.Limiter{}}
}

// Wake asks the dispatcher to claim now (a commit added due rows). It never blocks, and wake-ups
// while a batch is being sent make one more claim.
func (d *Dispatcher) Wake() { d.w.Wake() }

// Start runs the dispatch loop until Stop or the end of ctx; a second Start does nothing.
func (d *Dispatcher) Start(ctx context.Context) { d.w.Start(ctx, d.loop) }

// Stop ends the loop and waits for in-flight sends to be recorded.
func (d *Dispatcher) Stop() { d.w.Stop() }

// loop claims and sends. Claims overlap the sends in flight: once every message of a claim has
// a worker, the next claim runs, so the workers never idle through a batch's tail. Order per
// conversation holds because a claim only offers a conversation's head, and a head in flight is
// leased until its outcome is recorded (then the next message is the head). A message still in
// flight here whose lease ran out (a send slower than the lease) may be claimed again: that
// claim is dropped, and the send in flight records it.
func (d *Dispatcher) loop(ctx context.Context) {
	sem := make(chan struct{}, d.cfg.Workers)
	var wg sync.WaitGroup
	rec := newRecorder(context.WithoutCancel(ctx), d, d.cfg.Workers)
	defer rec.stop()
	defer wg.Wait()
	var mu sync.Mutex
	inflight := map[string]bool{}
	// ended is signalled by every send that ends: its conversation's next message may be due.
	ended := make(chan struct{}, 1)
	// settle waits, while sends are in flight, for one to end or a wake-up. It needs no timer:
	// every send ends, bounded by its timeouts; and once none is in flight the loop is back on
	// its poll, the clock's only sleeper (the fake-clock tests count its timers).
	settle := func() bool {
		select {
		case <-ended:
		case <-d.w.Woken():
		case <-ctx.Done():
			return false
		}
		return true
	}
	// drained says the last claim took every due message there was (fewer than it asked for):
	// claiming again before a send ends or a wake-up arrives would find nothing.
	drained := false
	for {
		if ctx.Err() != nil {
			return
		}
		mu.Lock()
		busy := len(inflight)
		mu.Unlock()
		if busy >= d.cfg.Batch || (drained && busy > 0) {
			drained = false
			if !settle() {
				return
			}
			continue
		}
		claimedAt := d.clock.Now()
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
		asked := d.cfg.Batch - busy
		items, err := d.conv.Claim(cctx, asked, d.cfg.Lease)
		cancel()
		drained = len(items) < asked
		if err != nil {
			d.log.Error("dispatch: claim failed", "err", err.Error())
			if !d.w.Sleep(ctx, time.Second) {
				return
			}
			continue
		}
		mu.Lock()
		fresh := items[:0]
		for _, it := range items {
			if !inflight[it.ID] {
				inflight[it.ID] = true
				fresh = append(fresh, it)
			}
		}
		items = fresh
		mu.Unlock()
		if len(items) == 0 && busy > 0 {
			// busy was counted before the claim: a send in flight then may have been recorded
			// after the claim read the outbox, its conversation's next message unseen. The top
			// of the loop waits for it to end (or claims at once if it has), never the poll.
			continue
		}
		if len(items) == 0 {
			// Everything sendable is out; wait for a wake-up, the next due row, or the poll.
			wait := worker.Jitter(d.cfg.Poll/2, d.cfg.Poll)
			// A row already due when the claim ran, and not claimed, cannot be sent now (its
			// conversation closed, or another instance holds its lease): only rows that fell due
			// since shorten the wait, else the loop would spin on it every few milliseconds.
			nctx, cancel := context.WithTimeout(ctx, dbTimeout)
			next, err := d.conv.NextDue(nctx)
			cancel()
			if err == nil && next != nil && next.After(claimedAt) {
				if until := next.Sub(d.clock.Now()); until < wait {
					wait = max(until, 5*time.Millisecond)
				}
			}
			if !d.w.Sleep(ctx, wait) {
				return
			}
			continue
		}
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
		lookups := d.prefetch(pctx, items)
		cancel()
		for _, it := range items {
			sem <- struct{}{}
			wg.Add(1)
			rec.busy.Add(1)
			go func() {
				defer func() {
					rec.busy.Add(-1)
					mu.Lock()
					delete(inflight, it.ID)
					mu.Unlock()
					<-sem
					wg.Done()
					signal(ended)
				}()
				// Sends finish even when Stop is called: the message must be recorded.
				d.send(context.WithoutCancel(ctx), it, lookups, rec)
			}()
		}
	}
}

func (d *Dispatcher) limiter(channelID string) *rate.Limiter {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.limiters[channelID]
	if !ok {
		burst := max(1, int(d.cfg.ChannelRate))
		l = rate.NewLimiter(rate.Limit(d.cfg.ChannelRate), burst)
		d.limiters[channelID] = l
	}
	return l
}

// pace waits for the channel's next send slot. It reserves on the dispatcher's clock, which
// rate.Limiter.Wait cannot do (it reads the system clock); a send abandoned by the end of ctx
// gives its slot back.
func (d *Dispatcher) pace(ctx context.Context, channelID string) error {
	now := d.clock.Now()
	r := d.limiter(channelID).ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("pace channel %s: a rate of %v allows no send", channelID, d.cfg.ChannelRate)
	}
	wait := r.DelayFrom(now)
	if wait <= 0 {
		return nil
	}
	t := d.clock.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		r.CancelAt(d.clock.Now())
		return fmt.Errorf("pace channel %s: %w", channelID, ctx.Err())
	}
}

// pause waits on the dispatcher's clock between retries of a write the database refused.
func (d *Dispatcher) pause(wait time.Duration) {
	t := d.clock.NewTimer(wait)
	defer t.Stop()
	<-t.C()
}

// errPermanent marks a failure that no retry can fix (a channel without credentials, a deleted contact).
type errPermanent struct {
	code  int
	title string
}

func (e errPermanent) Error() string { return e.title }

// lookups are the channels and contacts of one claimed batch, read once for the whole batch.
type lookups struct {
	channels map[string]channelInfo
	contacts map[string]contact.Contact
}

type channelInfo struct {
	ch  channel.Channel
	sec channel.Secrets
	err error
}

func (d *Dispatcher) prefetch(ctx context.Context, items []conversation.OutboxItem) lookups {
	l := lookups{channels: map[string]channelInfo{}, contacts: map[string]contact.Contact{}}
	byAccount := map[string][]string{}
	for _, it := range items {
		actx := store.WithAccount(ctx, it.AccountID)
		if _, ok := l.channels[it.ChannelID]; !ok {
			var info channelInfo
			info.ch, info.err = d.channels.Checked(actx, it.ChannelID)
			if info.err == nil && info.ch.Provider == channel.ProviderWhatsAppCloud {
				info.sec, info.err = d.channels.Secrets(actx, it.ChannelID)
			}
			l.channels[it.ChannelID] = info
		}
		byAccount[it.AccountID] = append(byAccount[it.AccountID], it.ContactID)
	}
	for acc, ids := range byAccount {
		cs, err := d.contacts.GetMany(store.WithAccount(ctx, acc), ids)
		if err != nil {
			continue // each send then reads its own contact
		}
		for id, c := range cs {
			l.contacts[id] = c
		}
	}
	return l
}

// recorder groups accepted sends so they are recorded many per transaction. A worker keeps its
// slot until its send is recorded, so a crash leaves at most DISPATCH_WORKERS messages sent
// but unrecorded; a flush happens when every busy worker is waiting, or after a few ms.
type recorder struct {
	d   *Dispatcher
	max int
	// busy is how many sends are running (the loop counts them): once that many wait here,
	// nothing else can join the group, and it is flushed at once.
	busy atomic.Int64
	mu   sync.Mutex
	buf  []*accepted
	// first says a group has started, kick that it is full; done ends the flusher.
	first chan struct{}
	kick  chan struct{}
	done  chan struct{}
}

type accepted struct {
	item     conversation.OutboxItem
	res      sendResult
	recorded chan struct{}
	// err is why the send could not be recorded (set before recorded is closed).
	err error
}

func newRecorder(ctx context.Context, d *Dispatcher, max int) *recorder {
	r := &recorder{d: d, max: max, first: make(chan struct{}, 1), kick: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		for {
			// Idle until a group starts: the recorder lives as long as the loop.
			select {
			case <-r.done:
				r.flush(ctx)
				return
			case <-r.first:
			}
			// A batching delay, not a schedule: it stays on the system clock, so a test's fake
			// clock never has to move for sends to be recorded.
			t := time.NewTimer(3 * time.Millisecond)
			select {
			case <-r.kick:
			case <-t.C:
			case <-r.done:
			}
			t.Stop()
			r.flush(ctx)
		}
	}()
	return r
}

// add queues an accepted send and returns once it is recorded, or recording it failed (a.err).
func (r *recorder) add(a *accepted) {
	a.recorded = make(chan struct{})
	r.mu.Lock()
	r.buf = append(r.buf, a)
	// Signalled under the lock, which flush drains kick under: a group's kick never outlives it.
	if len(r.buf) == 1 {
		signal(r.first)
	}
	if len(r.buf) >= r.max || int64(len(r.buf)) >= r.busy.Load() {
		signal(r.kick)
	}
	r.mu.Unlock()
	<-a.recorded
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// stop flushes what is left and ends the flusher.
func (r *recorder) stop() { close(r.done) }

func (r *recorder) flush(ctx context.Context) {
	r.mu.Lock()
	take := r.buf
	r.buf = nil
	select {
	case <-r.kick:
	default:
	}
	r.mu.Unlock()
	r.record(ctx, take)
	for _, a := range take {
		close(a.recorded)
	}
}

func (r *recorder) record(ctx context.Context, take []*accepted) {
	if len(take) == 0 {
		return
	}
	d := r.d
	sent := make([]conversation.Sent, len(take))
	for i, a := range take {
		sent[i] = conversation.Sent{Item: a.item, ProviderID: a.res.MessageID}
	}
	if err := d.recordSent(ctx, sent); err != nil {
		// Left claimed: the lease expires and the messages are sent again (the documented
		// duplicate case), rather than silently marked.
		d.log.Error("dispatch: record sent", "messages", len(sent), "err", err.Error())
		for _, a := range take {
			a.err = err
		}
		return
	}
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	for _, a := range take {
		actx := store.WithAccount(ctx, a.item.AccountID)
		if a.res.WaID != "" && a.res.WaID != a.res.knownWaID {
			if err := d.contacts.SetWaID(actx, a.item.ContactID, a.res.WaID); err != nil {
				d.log.Warn("dispatch: store wa_id", "contact_id", a.item.ContactID, "err", err.Error())
			}
		}
		if a.res.sandbox {
			// The sandbox "delivers" at once; a busy database gets a few more tries, since no
			// webhook will ever bring this status again.
			u := conversation.StatusUpdate{ProviderMessageID: a.res.MessageID, Status: conversation.MsgDelivered, At: d.clock.Now()}
			for attempt := 1; ; attempt++ {
				err := d.conv.ApplyStatus(actx, u)
				if err == nil {
					break
				}
				if attempt == 3 {
					d.log.Error("dispatch: sandbox delivery status", "conversation_id", a.item.ConversationID, "message_id", a.item.ID,
						"wamid", a.res.MessageID, "err", err.Error())
					break
				}
				d.pause(time.Duration(attempt) * 100 * time.Millisecond)
			}
		}
	}
}

// dbTimeout bounds each of the dispatcher's database calls: past it the connection is taken
// for dead (a black-holed network keeps a query waiting forever) and the call is retried, on a
// fresh connection, by the next loop or attempt.
const dbTimeout = 10 * time.Second

// recordSent records accepted sends, retrying while the database is unavailable for up to half
// the lease: a send the provider accepted is only sent again if it could not be recorded
// before its lease let another claim take it (an outage shorter than that duplicates nothing).
func (d *Dispatcher) recordSent(ctx context.Context, sent []conversation.Sent) error {
	giveUp := d.clock.Now().Add(d.cfg.Lease / 2)
	// Several attempts fit in the budget even when each waits on a dead connection to time out.
	attempt := min(dbTimeout, max(time.Second, d.cfg.Lease/8))
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		actx, cancel := context.WithTimeout(ctx, attempt)
		err := d.conv.MarkSentBatch(actx, sent)
		cancel()
		if err == nil || !store.IsUnavailable(err) || d.clock.Now().Add(wait).After(giveUp) {
			return err
		}
		d.log.Warn("dispatch: record sent: database unavailable, retrying", "messages", len(sent), "in", wait.String(), "err", err.Error())
		d.pause(wait)
	}
}

// send delivers one claimed message and records the outcome. Every line it logs carries the
// conversation's, the message's and the channel's ids, and once the provider answered, the
// WhatsApp id (wamid) its webhooks will name.
func (d *Dispatcher) send(ctx context.Context, it conversation.OutboxItem, l lookups, rec *recorder) {
	actx := logctx.With(store.WithAccount(ctx, it.AccountID), slog.String("conversation_id", it.ConversationID),
		slog.String("message_id", it.ID), slog.String("channel_id", it.ChannelID))
	// The send's own lookups and the provider's answer, each bounded (the HTTP client by its timeout).
	dctx, cancel := context.WithTimeout(actx, dbTimeout+whatsapp.DefaultTimeout)
	res, err := d.deliver(dctx, it, l)
	cancel()
	out := Outcome{ChannelID: it.ChannelID, Provider: res.provider, Requested: res.requested, Took: res.took}
	if err == nil {
		out.Result = ResultSent
		d.observe(out)
		a := &accepted{item: it, res: res}
		rec.add(a)
		if a.err == nil {
			d.log.InfoContext(logctx.With(actx, slog.String("wamid", res.MessageID)), "dispatch: message sent", "attempt", it.Attempts)
		}
		return
	}
	var perm errPermanent
	var we *whatsapp.Error
	if errors.As(err, &we) {
		out.Code = we.Code
	}
	switch {
	case errors.As(err, &perm):
		out.Result = ResultFailed
		d.fail(actx, it, perm.code, perm.title, "")
	case we != nil && !we.Transient:
		out.Result = ResultFailed
		d.fail(actx, it, we.Code, we.Title, we.Details)
	default:
		code, title := 0, err.Error()
		if we != nil {
			code, title = we.Code, we.Title
		}
		if it.Attempts >= d.cfg.MaxAttempts {
			out.Result = ResultFailed
			d.fail(actx, it, code, fmt.Sprintf("gave up after %d attempts: %s", it.Attempts, title), "")
			break
		}
		out.Result = ResultRetried
		wait := whatsapp.Backoff(it.Attempts, whatsapp.RetryAfter(err), nil)
		d.log.WarnContext(actx, "dispatch: transient error, will retry", "attempt", it.Attempts, "in", wait.String(), "err", err.Error())
		rctx, cancel := context.WithTimeout(actx, dbTimeout)
		defer cancel()
		if err := d.conv.Retry(rctx, it, d.clock.Now().Add(wait), code, title); err != nil {
			d.log.ErrorContext(actx, "dispatch: schedule retry", "err", err.Error())
		}
	}
	d.observe(out)
}

func (d *Dispatcher) observe(o Outcome) {
	if d.cfg.Observer != nil {
		d.cfg.Observer.ObserveSend(o)
	}
}

func (d *Dispatcher) fail(ctx context.Context, it conversation.OutboxItem, code int, title, details string) {
	d.log.WarnContext(ctx, "dispatch: message failed", "code", code, "title", title)
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	if err := d.conv.MarkFailed(ctx, it, code, title, details); err != nil {
		d.log.ErrorContext(ctx, "dispatch: record failure", "err", err.Error())
	}
}

type sendResult struct {
	whatsapp.SendResult
	sandbox   bool
	knownWaID string
	// provider is the channel's provider; requested tells its API was called, took for how long.
	provider  string
	requested bool
	took      time.Duration
}

func (d *Dispatcher) deliver(ctx context.Context, it conversation.OutboxItem, l lookups) (sendResult, error) {
	info, ok := l.channels[it.ChannelID]
	if !ok {
		info.ch, info.err = d.channels.Checked(ctx, it.ChannelID)
		if info.err == nil {
			info.sec, info.err = d.channels.Secrets(ctx, it.ChannelID)
		}
	}
	if info.err != nil {
		if errors.Is(info.err, channel.ErrNotFound) {
			return sendResult{}, errPermanent{title: "the channel no longer exists"}
		}
		return sendResult{}, info.err
	}
	ch := info.ch
	if !ch.Active {
		return sendResult{provider: string(ch.Provider)}, errPermanent{title: "the channel is inactive"}
	}
	ct, ok := l.contacts[it.ContactID]
	if !ok {
		var err error
		if ct, err = d.contacts.Get(ctx, it.ContactID); err != nil {
			return sendResult{provider: string(ch.Provider)}, err
		}
	}
	if err := d.pace(ctx, ch.ID); err != nil {
		return sendResult{provider: string(ch.Provider)}, err
	}
	if ch.Provider == channel.ProviderSandbox {
		return sendResult{SendResult: whatsapp.SendResult{MessageID: "wamid.sandbox." + it.ID, WaID: ct.Phone[1:], Input: ct.Phone}, sandbox: true,
			knownWaID: ct.WaID, provider: string(ch.Provider)}, nil
	}
	cr := whatsapp.Credentials{PhoneNumberID: ch.PhoneNumberID, WABAID: ch.WABAID, AccessToken: info.sec.AccessToken}
	var r whatsapp.SendResult
	var err error
	start := time.Now() // the provider's latency is real time, whatever the dispatcher's clock
	switch {
	case it.Type == "template":
		comps := it.Components
		if it.MediaID != "" {
			// The media header's file: Meta's id for it on this channel replaces the placeholder.
			var m media.Media
			var pid string
			if m, pid, err = d.providerMedia(ctx, cr, ch.ID, it); err != nil {
				break
			}
			comps = json.RawMessage(strings.ReplaceAll(string(comps), conversation.MediaPlaceholder(m.ID), pid))
		}
		r, err = d.cloud.SendTemplate(ctx, cr, ct.Phone, it.TemplateName, it.TemplateLanguage, comps)
	case it.MediaID != "":
		r, err = d.sendMedia(ctx, cr, ch.ID, ct.Phone, it)
	default:
		r, err = d.cloud.SendText(ctx, cr, ct.Phone, it.Text)
	}
	return sendResult{SendResult: r, knownWaID: ct.WaID, provider: string(ch.Provider), requested: true, took: time.Since(start)}, err
}

var _ CloudSender = (*whatsapp.Client)(nil)

// sendMedia sends a file by Meta's id for it on the channel, uploading it first when the
// channel has none (or only an expired one). A file gone from the account fails the message.
func (d *Dispatcher) sendMedia(ctx context.Context, cr whatsapp.Credentials, channelID, to string, it conversation.OutboxItem) (whatsapp.SendResult, error) {
	m, pid, err := d.providerMedia(ctx, cr, channelID, it)
	if err != nil {
		return whatsapp.SendResult{}, err
	}
	return d.cloud.SendMedia(ctx, cr, to, string(m.Kind), pid, it.Text, m.Filename)
}

// providerMedia is the item's file and Meta's id for it on the channel.
func (d *Dispatcher) providerMedia(ctx context.Context, cr whatsapp.Credentials, channelID string, it conversation.OutboxItem) (media.Media, string, error) {
	up, ok := d.cloud.(media.Uploader)
	if d.cfg.Media == nil || !ok {
		return media.Media{}, "", errPermanent{title: "this server sends no media"}
	}
	ctx = store.WithAccount(ctx, it.AccountID)
	m, err := d.cfg.Media.Get(ctx, it.MediaID)
	if err != nil {
		if errors.Is(err, media.ErrNotFound) {
			return m, "", errPermanent{title: "the file no longer exists"}
		}
		return m, "", err
	}
	pid, err := d.cfg.Media.ProviderID(ctx, up, cr, channelID, m)
	return m, pid, err
}
