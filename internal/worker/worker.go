// Package worker is the one lifecycle every background loop shares (the dispatcher, the CRM
// webhook deliveries, the event notifier, the periodic jobs): started once, stopped by
// cancelling its context and waiting for the work in flight, woken without blocking, with
// wake-ups that coalesce. It is river's startstop idea, cut down to what those loops need.
package worker

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/atendimento/atendimento/internal/clock"
)

// Worker runs one background loop. The zero value is not ready; use New. Start, Stop and Wake
// are safe to call from any goroutine, in any order, any number of times; only the loop itself
// must not call Start or Stop (Stop would wait for itself).
type Worker struct {
	clock clock.Clock
	// wake holds at most one pending wake-up: any number of Wake calls while the loop is busy
	// leave exactly one more run.
	wake chan struct{}

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{} // nil while not running; closed when the loop returns
}

// New returns a stopped worker whose sleeps and periods follow c (nil: the real clock).
func New(c clock.Clock) *Worker {
	return &Worker{clock: clock.Or(c), wake: make(chan struct{}, 1)}
}

// Clock is the worker's clock, for loops that wait on something besides Sleep.
func (w *Worker) Clock() clock.Clock { return w.clock }

// Start runs loop in its own goroutine until ctx ends or Stop is called; loop must return
// promptly once its context is done. It reports whether it started: a worker started and not
// yet stopped is left as it is (a second Start is a no-op, so callers need not track it), even
// when its loop already returned because ctx ended. After Stop returns, it may start again.
func (w *Worker) Start(ctx context.Context, loop func(ctx context.Context)) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done != nil {
		return false
	}
	ctx, w.cancel = context.WithCancel(ctx)
	done := make(chan struct{})
	w.done = done
	go func() {
		defer close(done)
		loop(ctx)
	}()
	return true
}

// Stop cancels the loop's context and returns once the loop has returned, so work the loop
// waits for (in-flight sends, a run of a periodic job) is over. It does nothing on a worker that
// never started or is stopped already; concurrent calls all return after the loop ends.
func (w *Worker) Stop() {
	// Held while waiting, so a Start racing a Stop waits for the stop to complete.
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done == nil {
		return
	}
	w.cancel()
	<-w.done
	w.done, w.cancel = nil, nil
}

// Wake asks the loop to run again now. It never blocks: while a wake-up is pending, further
// ones are merged into it.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Woken delivers the pending wake-up, for loops that select on more than Sleep does.
func (w *Worker) Woken() <-chan struct{} { return w.wake }

// Sleep waits for d on the worker's clock, a wake-up, or the end of ctx. It reports whether
// the loop should go on (false once ctx is done).
func (w *Worker) Sleep(ctx context.Context, d time.Duration) bool {
	t := w.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-w.wake:
		return true
	case <-t.C():
		return ctx.Err() == nil
	}
}

// Every starts a loop that runs fn now, then again d after each run ends, plus up to a tenth of
// d at random (so instances started together drift apart); a Wake runs it early. It reports
// whether it started, as Start does. Stop waits for a run in progress.
func (w *Worker) Every(ctx context.Context, d time.Duration, fn func(ctx context.Context)) bool {
	return w.Start(ctx, func(ctx context.Context) {
		for {
			fn(ctx)
			if !w.Sleep(ctx, Jitter(d, d/10)) {
				return
			}
		}
	})
}

// Jitter returns d plus a random duration in [0, spread]: polls of many loops and instances
// spread out instead of hitting the database together.
func Jitter(d, spread time.Duration) time.Duration {
	if spread <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(int64(spread)+1))
}
