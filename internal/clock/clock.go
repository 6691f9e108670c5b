// Package clock is the time background work reads: the real clock in production, and a fake one
// that tests move by hand, so a test of a retry an hour away runs in milliseconds and never
// sleeps.
package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock tells the time and makes timers. It is all the workers need of time: Now for deadlines
// and stored times, NewTimer for waits that a wake-up or a stop may cut short.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer fires once on C, like time.Timer; Stop reports whether it stopped it before it fired.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// Or returns c, or the real clock when c is nil (configuration leaves it unset in production).
func Or(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}

// Real is the system clock.
type Real struct{}

var _ Clock = Real{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

var (
	_ Timer = realTimer{}
	_ Timer = (*fakeTimer)(nil)
)

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// Fake is a clock that moves only when a test calls Advance. Its timers fire during Advance, in
// deadline order; Timers and WaitTimers let a test see that a worker is waiting before it moves
// the time, which is what makes the test deterministic without sleeps.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	changed chan struct{} // closed and replaced whenever the set of timers changes
}

var _ Clock = (*Fake)(nil)

// NewFake returns a fake clock showing start.
func NewFake(start time.Time) *Fake { return &Fake{now: start, changed: make(chan struct{})} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires once the fake time reaches now+d; d <= 0 fires at once.
func (f *Fake) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, at: f.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- f.now
		return t
	}
	f.timers = append(f.timers, t)
	f.changedLocked()
	return t
}

// Advance moves the time by d and fires, in deadline order, every timer due by then.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	sort.SliceStable(f.timers, func(i, j int) bool { return f.timers[i].at.Before(f.timers[j].at) })
	n := 0
	for n < len(f.timers) && !f.timers[n].at.After(f.now) {
		f.timers[n].c <- f.now
		n++
	}
	if n > 0 {
		f.timers = append([]*fakeTimer(nil), f.timers[n:]...)
		f.changedLocked()
	}
}

// AdvanceToNext moves the time to the earliest pending timer's deadline, fires it, and returns
// how far the time moved; with no timer pending it does nothing and returns 0.
func (f *Fake) AdvanceToNext() time.Duration {
	f.mu.Lock()
	if len(f.timers) == 0 {
		f.mu.Unlock()
		return 0
	}
	next := f.timers[0].at
	for _, t := range f.timers[1:] {
		if t.at.Before(next) {
			next = t.at
		}
	}
	d := next.Sub(f.now)
	f.mu.Unlock()
	f.Advance(d)
	return d
}

// Timers counts the timers waiting to fire.
func (f *Fake) Timers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// WaitTimers returns once at least n timers are waiting to fire (something is now asleep on the
// clock), or with ctx's error.
func (f *Fake) WaitTimers(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		have, changed := len(f.timers), f.changed
		f.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *Fake) changedLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

type fakeTimer struct {
	f  *Fake
	at time.Time
	c  chan time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

// Stop removes the timer; it reports false when the timer had fired already.
func (t *fakeTimer) Stop() bool {
	f := t.f
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.timers {
		if x == t {
			f.timers = append(f.timers[:i:i], f.timers[i+1:]...)
			f.changedLocked()
			return true
		}
	}
	return false
}
