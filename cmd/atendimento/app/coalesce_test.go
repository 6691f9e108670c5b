package app

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCoalesce: every call is followed by a run; calls made during a run share the next one;
// runs never overlap.
func TestCoalesce(t *testing.T) {
	var runs, inside atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	call := coalesce(func() {
		require.EqualValues(t, 1, inside.Add(1), "two runs at once")
		started <- struct{}{}
		<-release
		runs.Add(1)
		inside.Add(-1)
	})
	call()
	<-started // the first run is under way
	for range 50 {
		call() // all of these share one next run
	}
	release <- struct{}{}
	<-started
	release <- struct{}{}
	require.Eventually(t, func() bool { return runs.Load() == 2 }, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	require.EqualValues(t, 2, runs.Load(), "51 calls, 2 runs")

	call() // after the goroutine ended, a call starts another
	<-started
	release <- struct{}{}
	require.Eventually(t, func() bool { return runs.Load() == 3 }, time.Second, time.Millisecond)
}
