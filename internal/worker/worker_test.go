package worker_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/clock"
	"github.com/atendimento/atendimento/internal/worker"
)

// start is a fixed instant for fake clocks.
var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// recv returns the next value of c, failing the test if none comes before the test's deadline
// (the deadline only bounds a broken test; a passing one never waits on it).
func recv[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting")
		var zero T
		return zero
	}
}

func TestStartOnce(t *testing.T) {
	t.Parallel()
	w := worker.New(nil)
	entered := make(chan int, 3)
	loop := func(n int) func(ctx context.Context) {
		return func(ctx context.Context) {
			entered <- n
			<-ctx.Done()
		}
	}
	require.True(t, w.Start(context.Background(), loop(1)))
	require.False(t, w.Start(context.Background(), loop(2)), "a running worker ignores a second Start")
	require.Equal(t, 1, recv(t, entered))
	w.Stop()
	// Stopped, it starts again; the ignored loop 2 never ran, so 3 is the next to enter.
	require.True(t, w.Start(context.Background(), loop(3)))
	require.Equal(t, 3, recv(t, entered))
	w.Stop()
	require.Empty(t, entered)
}

func TestStopWaitsForTheLoop(t *testing.T) {
	t.Parallel()
	w := worker.New(nil)
	cancelled, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	w.Start(context.Background(), func(ctx context.Context) {
		<-ctx.Done()
		close(cancelled)
		<-release // in-flight work that outlives the cancel
		finished.Store(true)
	})
	stopped := make(chan struct{})
	go func() {
		w.Stop()
		close(stopped)
	}()
	recv(t, cancelled) // Stop cancelled the loop's context...
	select {
	case <-stopped:
		t.Fatal("Stop returned while the loop was still working")
	default: // ...and is still waiting for it
	}
	close(release)
	recv(t, stopped)
	require.True(t, finished.Load())
	w.Stop() // again: nothing to do
}

func TestStopBeforeStart(t *testing.T) {
	t.Parallel()
	w := worker.New(nil)
	w.Stop()
	w.Stop()
	w.Wake() // a wake-up before the start is kept for the first Sleep
	ran := make(chan struct{})
	w.Start(context.Background(), func(ctx context.Context) {
		if w.Sleep(ctx, time.Hour) {
			close(ran)
		}
		<-ctx.Done()
	})
	recv(t, ran)
	w.Stop()
}

func TestWakeCoalesces(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(start)
	w := worker.New(fake)
	runs, proceed := make(chan time.Time), make(chan struct{})
	w.Start(context.Background(), func(ctx context.Context) {
		for {
			select {
			case runs <- fake.Now():
			case <-ctx.Done():
				return
			}
			<-proceed
			if !w.Sleep(ctx, time.Hour) {
				return
			}
		}
	})
	t.Cleanup(w.Stop)

	require.Equal(t, start, recv(t, runs)) // first run: busy until proceed
	for range 5 {
		w.Wake()
	}
	proceed <- struct{}{}
	require.Equal(t, start, recv(t, runs), "the wake-ups while busy make one more run, at once")
	proceed <- struct{}{}
	// No wake-up is left: the loop sleeps on its timer, and the next run comes only when the
	// time reaches it (a leftover wake-up would have run it at the old time first).
	require.NoError(t, fake.WaitTimers(context.Background(), 1))
	fake.Advance(time.Hour)
	require.Equal(t, start.Add(time.Hour), recv(t, runs))
	proceed <- struct{}{}
}

func TestSleepEndsWithTheContext(t *testing.T) {
	t.Parallel()
	w := worker.New(clock.NewFake(start))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.False(t, w.Sleep(ctx, time.Hour))
}

func TestEvery(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(start)
	w := worker.New(fake)
	runs := make(chan time.Time, 1)
	w.Every(context.Background(), time.Minute, func(context.Context) { runs <- fake.Now() })
	require.Equal(t, start, recv(t, runs), "the first run is at once")
	require.NoError(t, fake.WaitTimers(context.Background(), 1))
	waited := fake.AdvanceToNext()
	require.GreaterOrEqual(t, waited, time.Minute)
	require.LessOrEqual(t, waited, time.Minute+6*time.Second, "the jitter is at most a tenth of the period")
	require.Equal(t, start.Add(waited), recv(t, runs))
	w.Wake()
	require.Equal(t, start.Add(waited), recv(t, runs), "a wake-up runs the job early")
	w.Stop()
}
