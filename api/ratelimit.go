package api

import (
	"math"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/atendimento/atendimento/internal/apperr"
)

// LoginLimit tunes the login lockout; zero fields take the defaults. Its state lives in the
// memory of each server instance: with N instances behind a load balancer an attacker gets at most
// N times the allowance, and a restart forgets it (both bounded, and documented in docs/security.md).
type LoginLimit struct {
	// MaxFailuresPerEmail failed logins for one email lock that email (default 5).
	MaxFailuresPerEmail int
	// MaxFailuresPerIP failed logins from one client IP lock that IP (default 20: offices share
	// one address behind NAT).
	MaxFailuresPerIP int
	// Lockout is the first lock's length; each further lock of the same email or IP doubles it
	// (default 1 minute).
	Lockout time.Duration
	// MaxLockout caps the growing lock (default 1 hour).
	MaxLockout time.Duration
	// Window forgets failures this old that did not lead to a lock (default 15 minutes); an email
	// or IP that has been quiet for a day starts again from the first lock's length.
	Window time.Duration
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

func (l LoginLimit) withDefaults() LoginLimit {
	if l.MaxFailuresPerEmail <= 0 {
		l.MaxFailuresPerEmail = 5
	}
	if l.MaxFailuresPerIP <= 0 {
		l.MaxFailuresPerIP = 20
	}
	if l.Lockout <= 0 {
		l.Lockout = time.Minute
	}
	if l.MaxLockout <= 0 {
		l.MaxLockout = time.Hour
	}
	if l.Window <= 0 {
		l.Window = 15 * time.Minute
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return l
}

// lockMemory is how long an email or IP's past locks keep lengthening the next one.
const lockMemory = 24 * time.Hour

// maxGuardEntries bounds the guard's memory under a spray of distinct emails or addresses; past
// it, new keys are not tracked until a sweep frees room (locks already set stay).
const maxGuardEntries = 100_000

// loginGuard counts failed logins per email and per client IP and locks either after too many.
// An attempt is reserved before the password is checked, so parallel guesses cannot overshoot
// the limit while bcrypt runs.
type loginGuard struct {
	cfg     LoginLimit
	mu      sync.Mutex
	entries map[string]*guardEntry
	ops     int
}

type guardKey struct {
	key   string
	max   int
	email bool
	e     *guardEntry
}

type guardEntry struct {
	failures    int // failures since the last lock, within the window
	pending     int // attempts being checked right now
	locks       int // locks so far (the next one lasts Lockout << locks)
	lastFailure time.Time
	lockedUntil time.Time
}

func newLoginGuard(cfg LoginLimit) *loginGuard {
	return &loginGuard{cfg: cfg.withDefaults(), entries: map[string]*guardEntry{}}
}

// loginOutcome is how an attempt ended.
type loginOutcome int

const (
	loginSucceeded loginOutcome = iota
	loginFailed                 // wrong email or password: counts toward the lock
	loginAborted                // anything else (a database error): does not count
)

// begin reserves an attempt for email and ip. When either is locked (or its remaining allowance is
// already taken by attempts in flight) it returns how long to wait instead; otherwise done must be
// called with the outcome.
func (g *loginGuard) begin(email, ip string) (done func(loginOutcome), wait time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.cfg.Now()
	g.ops++
	if g.ops%1024 == 0 {
		g.sweep(now)
	}
	var keys []guardKey
	for _, k := range []guardKey{{key: "ip:" + ip, max: g.cfg.MaxFailuresPerIP}, {key: "email:" + email, max: g.cfg.MaxFailuresPerEmail, email: true}} {
		e := g.entries[k.key]
		if e == nil {
			if len(g.entries) >= maxGuardEntries {
				continue // full: new keys are not tracked until the sweep frees room
			}
			e = &guardEntry{}
			g.entries[k.key] = e
		}
		if now.Before(e.lockedUntil) {
			wait = max(wait, e.lockedUntil.Sub(now))
			continue
		}
		if e.failures > 0 && now.Sub(e.lastFailure) > g.cfg.Window {
			e.failures = 0
		}
		if e.failures+e.pending >= k.max {
			wait = max(wait, time.Second) // the attempts in flight decide whether it locks
			continue
		}
		k.e = e
		keys = append(keys, k)
	}
	if wait > 0 {
		return nil, wait
	}
	for _, k := range keys {
		k.e.pending++
	}
	var once sync.Once
	return func(o loginOutcome) {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			now := g.cfg.Now()
			for _, k := range keys {
				e := k.e
				e.pending--
				switch o {
				case loginSucceeded:
					// The email's owner proved themselves: forget its failures and locks. The IP's
					// count stays, or one valid account would let its holder reset the count while
					// spraying passwords at other emails.
					if k.email {
						e.failures, e.locks = 0, 0
					}
				case loginFailed:
					e.failures++
					e.lastFailure = now
					if e.failures >= k.max {
						e.lockedUntil = now.Add(g.lockLength(e.locks))
						e.locks++
						e.failures = 0
					}
				}
			}
		})
	}, 0
}

// lockLength is the length of a lock after n earlier ones: Lockout, doubling, up to MaxLockout.
func (g *loginGuard) lockLength(n int) time.Duration {
	d := g.cfg.Lockout
	for range n {
		d *= 2
		if d >= g.cfg.MaxLockout {
			return g.cfg.MaxLockout
		}
	}
	return min(d, g.cfg.MaxLockout)
}

// sweep drops entries that no longer affect anything.
func (g *loginGuard) sweep(now time.Time) {
	for k, e := range g.entries {
		if e.pending > 0 || now.Before(e.lockedUntil) {
			continue
		}
		quiet := now.Sub(e.lastFailure)
		if quiet > lockMemory || (e.locks == 0 && quiet > g.cfg.Window) {
			delete(g.entries, k)
		}
	}
}

// retryAfter is a wait in whole seconds, rounded up, at least 1 (the Retry-After header).
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

func loginLocked(wait time.Duration) error {
	return apperr.New(apperr.KindRateLimited, "login_locked",
		"too many failed logins for this email or from this address; try again after Retry-After seconds").With("retry_after", retryAfter(wait))
}

// keyLimiter is a token bucket per API key: rate requests per second on average, bursts up to
// burst. Like the login guard it lives in each instance's memory.
type keyLimiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time
	mu    sync.Mutex
	keys  map[string]*keyBucket
	ops   int
}

type keyBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newKeyLimiter(perSecond float64, burst int, now func() time.Time) *keyLimiter {
	if now == nil {
		now = time.Now
	}
	if burst < 1 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	return &keyLimiter{rate: rate.Limit(perSecond), burst: burst, now: now, keys: map[string]*keyBucket{}}
}

// take spends one token of key's bucket, or says how long until one is available.
func (k *keyLimiter) take(key string) (wait time.Duration, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	k.ops++
	if k.ops%4096 == 0 {
		// An idle bucket refills completely; dropping it changes nothing.
		full := time.Duration(float64(k.burst)/float64(k.rate)*float64(time.Second)) + time.Minute
		for id, b := range k.keys {
			if now.Sub(b.seen) > full {
				delete(k.keys, id)
			}
		}
	}
	b := k.keys[key]
	if b == nil {
		b = &keyBucket{lim: rate.NewLimiter(k.rate, k.burst)}
		k.keys[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return time.Second, false
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// limitAPIKeys applies the per-key token bucket to requests authenticated with an API key
// (integrators); the SPA's sessions are people and are not limited here.
func (s *server) limitAPIKeys(next echo.HandlerFunc) echo.HandlerFunc {
	if s.keyLimiter == nil {
		return next
	}
	return func(c echo.Context) error {
		p := principal(c)
		if p.APIKeyID != "" {
			if wait, ok := s.keyLimiter.take(p.APIKeyID); !ok {
				return apperr.New(apperr.KindRateLimited, "rate_limited",
					"this API key sent more requests than its rate allows; retry after Retry-After seconds").With("retry_after", retryAfter(wait))
			}
		}
		return next(c)
	}
}
