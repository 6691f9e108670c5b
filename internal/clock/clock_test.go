package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/clock"
)

func TestFakeFiresTimersAsTimeMoves(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := clock.NewFake(t0)
	now := f.NewTimer(0)
	require.Equal(t, t0, <-now.C(), "a timer of no duration fires at once")
	require.False(t, now.Stop())

	late, soon, gone := f.NewTimer(time.Minute), f.NewTimer(time.Second), f.NewTimer(2*time.Second)
	require.Equal(t, 3, f.Timers())
	require.True(t, gone.Stop())
	require.NoError(t, f.WaitTimers(context.Background(), 2))

	f.Advance(500 * time.Millisecond)
	require.Empty(t, soon.C(), "not due yet")
	require.Equal(t, 500*time.Millisecond, f.AdvanceToNext())
	require.Equal(t, t0.Add(time.Second), <-soon.C())
	require.Empty(t, gone.C(), "a stopped timer never fires")
	f.Advance(time.Hour)
	require.Equal(t, t0.Add(time.Hour+time.Second), <-late.C(), "it fires with the time it was advanced to")
	require.Zero(t, f.AdvanceToNext(), "nothing left to fire")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, f.WaitTimers(ctx, 1), context.Canceled)
}
