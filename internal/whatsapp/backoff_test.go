package whatsapp_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/whatsapp"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	fixed := func(v float64) func() float64 { return func() float64 { return v } }
	tests := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		rnd        float64
		want       time.Duration
	}{
		{"first retry, lowest jitter", 1, 0, 0, 500 * time.Millisecond},
		{"first retry, highest jitter", 1, 0, 1, time.Second},
		{"second retry", 2, 0, 0.5, 1500 * time.Millisecond},
		{"fourth retry", 4, 0, 1, 8 * time.Second},
		{"attempt 0 counts as the first", 0, 0, 1, time.Second},
		{"negative attempt", -3, 0, 1, time.Second},
		{"cap", 10, 0, 1, 5 * time.Minute},
		{"cap, lowest jitter", 10, 0, 0, 150 * time.Second},
		{"huge attempt", math.MaxInt, 0, 1, 5 * time.Minute},
		{"retry-after wins", 1, 30 * time.Second, 0.5, 30 * time.Second},
		{"retry-after beyond the cap", 3, 10 * time.Minute, 1, 10 * time.Minute},
		{"retry-after shorter than the backoff", 5, time.Second, 0, 8 * time.Second},
		{"rnd out of range", 1, 0, 7, time.Second},
		{"rnd negative", 1, 0, -1, 500 * time.Millisecond},
		{"rnd NaN", 1, 0, math.NaN(), 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, whatsapp.Backoff(tt.attempt, tt.retryAfter, fixed(tt.rnd)))
		})
	}
}

func TestBackoffDefaultRandom(t *testing.T) {
	t.Parallel()
	for attempt := 1; attempt <= 12; attempt++ {
		d := whatsapp.Backoff(attempt, 0, nil)
		ceiling := min(time.Second<<(attempt-1), 5*time.Minute)
		require.GreaterOrEqual(t, d, ceiling/2)
		require.LessOrEqual(t, d, ceiling)
	}
}
