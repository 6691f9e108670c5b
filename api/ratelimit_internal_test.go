package api

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestGuard() (*loginGuard, *fakeClock) {
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return newLoginGuard(LoginLimit{Now: clock.Now}), clock
}

// fail makes one failed attempt and requires that it was allowed.
func fail(t *testing.T, g *loginGuard, email, ip string) {
	t.Helper()
	done, wait := g.begin(email, ip)
	require.Zero(t, wait, "attempt for %s from %s refused", email, ip)
	done(loginFailed)
}

func TestLoginGuardLocksAndGrows(t *testing.T) {
	g, clock := newTestGuard()
	for range 5 {
		fail(t, g, "ana@example.com", "198.51.100.1")
	}
	// The sixth attempt is refused before the password is checked, for a minute.
	_, wait := g.begin("ana@example.com", "198.51.100.1")
	require.Equal(t, time.Minute, wait)
	// From another address too: the email is locked.
	_, wait = g.begin("ana@example.com", "198.51.100.2")
	require.Equal(t, time.Minute, wait)
	// Another email from the same address is not (5 failures < the IP's 20).
	done, wait := g.begin("bruno@example.com", "198.51.100.1")
	require.Zero(t, wait)
	done(loginSucceeded)

	clock.Advance(59 * time.Second)
	_, wait = g.begin("ana@example.com", "198.51.100.1")
	require.Equal(t, time.Second, wait)
	require.Equal(t, 1, retryAfter(wait))

	// Each further lock doubles: 2, 4, 8, ... minutes, up to an hour.
	want := []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for _, w := range want {
		clock.Advance(time.Hour)
		for range 5 {
			fail(t, g, "ana@example.com", "198.51.100.9")
		}
		_, wait = g.begin("ana@example.com", "198.51.100.9")
		require.Equal(t, w, wait)
	}
}

func TestLoginGuardSuccessResetsTheEmailNotTheIP(t *testing.T) {
	g, clock := newTestGuard()
	for range 4 {
		fail(t, g, "ana@example.com", "198.51.100.1")
	}
	done, wait := g.begin("ana@example.com", "198.51.100.1")
	require.Zero(t, wait)
	done(loginSucceeded)
	// The count starts again: four more failures do not lock.
	for range 4 {
		fail(t, g, "ana@example.com", "198.51.100.1")
	}
	done, wait = g.begin("ana@example.com", "198.51.100.1")
	require.Zero(t, wait)
	done(loginAborted) // a database error does not count
	done, wait = g.begin("ana@example.com", "198.51.100.1")
	require.Zero(t, wait)
	done(loginFailed)
	_, wait = g.begin("ana@example.com", "198.51.100.1")
	require.Equal(t, time.Minute, wait)

	// The address's failures (9 so far) were not forgotten by the success: 11 more, spread over
	// distinct emails (a spray), lock the address.
	clock.Advance(2 * time.Minute)
	for i := range 11 {
		fail(t, g, string(rune('a'+i))+"@example.com", "198.51.100.1")
	}
	_, wait = g.begin("new@example.com", "198.51.100.1")
	require.Equal(t, time.Minute, wait)
	done, wait = g.begin("new@example.com", "198.51.100.2")
	require.Zero(t, wait)
	done(loginSucceeded)
}

func TestLoginGuardForgetsOldFailures(t *testing.T) {
	g, clock := newTestGuard()
	for range 4 {
		fail(t, g, "ana@example.com", "198.51.100.1")
	}
	clock.Advance(16 * time.Minute) // past the window: the four are forgotten
	for range 4 {
		fail(t, g, "ana@example.com", "198.51.100.1")
	}
	done, wait := g.begin("ana@example.com", "198.51.100.1")
	require.Zero(t, wait)
	done(loginSucceeded)

	// A lock more than a day old no longer lengthens the next one.
	for range 5 {
		fail(t, g, "bia@example.com", "198.51.100.3")
	}
	clock.Advance(25 * time.Hour)
	g.sweep(clock.Now())
	for range 5 {
		fail(t, g, "bia@example.com", "198.51.100.3")
	}
	_, wait = g.begin("bia@example.com", "198.51.100.3")
	require.Equal(t, time.Minute, wait)
}

// Parallel guesses are reserved before bcrypt runs: no more than the limit get checked.
func TestLoginGuardParallelAttempts(t *testing.T) {
	g, _ := newTestGuard()
	var (
		mu      sync.Mutex
		allowed []func(loginOutcome)
		refused int
		wg      sync.WaitGroup
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, wait := g.begin("ana@example.com", "198.51.100.1")
			mu.Lock()
			defer mu.Unlock()
			if wait > 0 {
				refused++
				return
			}
			allowed = append(allowed, done)
		}()
	}
	wg.Wait()
	require.Len(t, allowed, 5)
	require.Equal(t, 45, refused)
	for _, done := range allowed {
		done(loginFailed)
		done(loginFailed) // a second call is ignored
	}
	_, wait := g.begin("ana@example.com", "198.51.100.1")
	require.Equal(t, time.Minute, wait)
}

func TestLoginGuardSweepKeepsLocks(t *testing.T) {
	g, clock := newTestGuard()
	for i := range 3000 {
		fail(t, g, string(rune('a'+i%26))+time.Duration(i).String()+"@example.com", "198.51.100.1")
		if i%20 == 19 {
			clock.Advance(time.Hour) // let the address's lock pass
		}
	}
	for range 5 {
		fail(t, g, "ana@example.com", "198.51.100.7")
	}
	clock.Advance(30 * time.Second)
	g.sweep(clock.Now())
	_, wait := g.begin("ana@example.com", "198.51.100.7")
	require.Equal(t, 30*time.Second, wait)
	clock.Advance(48 * time.Hour)
	g.sweep(clock.Now())
	require.Empty(t, g.entries)
}

func TestKeyLimiterTokenBucket(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	k := newKeyLimiter(2, 4, clock.Now)
	for range 4 {
		_, ok := k.take("key-a")
		require.True(t, ok)
	}
	wait, ok := k.take("key-a")
	require.False(t, ok)
	require.Equal(t, 500*time.Millisecond, wait)
	require.Equal(t, 1, retryAfter(wait))
	// Keys are independent.
	_, ok = k.take("key-b")
	require.True(t, ok)
	// A refused request spends nothing: after half a second exactly one more is allowed.
	clock.Advance(500 * time.Millisecond)
	_, ok = k.take("key-a")
	require.True(t, ok)
	_, ok = k.take("key-a")
	require.False(t, ok)
	clock.Advance(10 * time.Second)
	for range 4 {
		_, ok := k.take("key-a")
		require.True(t, ok)
	}
}

func TestNULDetection(t *testing.T) {
	for _, c := range []struct {
		body   string
		fields []string
	}{
		{`{"name":"ok"}`, nil},
		{`{"name":"a\\u0000"}`, nil}, // an escaped backslash followed by the text u0000
		{`{"name":"a\u0000b"}`, []string{"name"}},
		{`{"contact":{"phone":"1","name":"\u0000"}}`, []string{"contact.name"}},
		{`{"components":[{"type":"BODY","text":"x"},{"type":"FOOTER","text":"\u0000"}]}`, []string{"components[1].text"}},
		{`{"attributes":{"k\u0000":"v"},"ids":["a","\u0000"]}`, []string{"attributes.k\uFFFD", "ids[1]"}},
		{`{"a":[[1,{"b":"\u0000"}]],"c":"\"\u0000"}`, []string{"a[0][1].b", "c"}},
		{`"\u0000"`, []string{"body"}},
	} {
		require.Equal(t, len(c.fields) > 0, len(nulEscapes([]byte(c.body))) > 0, c.body)
		require.Equal(t, c.fields, nulFields([]byte(c.body)), c.body)
	}
}
