package auth

import (
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// LimiterOptions configure a Limiter. Zero values mean the documented
// defaults.
type LimiterOptions struct {
	// Free is the number of failures a key may have before it must wait.
	// Zero means 5.
	Free int
	// Base is the wait after the first failure beyond Free; each further
	// failure doubles it. Zero means 1 second.
	Base time.Duration
	// Max caps the wait. Zero means 15 minutes.
	Max time.Duration
	// Forget drops a key's failures when it has had none for this long.
	// Zero means 1 hour.
	Forget time.Duration
	// MaxKeys bounds the table; when full, forgotten keys are dropped and
	// then the key with the oldest failure. Zero means 10000.
	MaxKeys int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Limiter slows down password guessing with exponential backoff per key
// (a client network or a user name): after Free failures, the key must wait
// Base, then 2×Base, 4×Base... up to Max after its last failure before the
// next attempt is allowed. Attempts refused by the limiter never reach the
// KDF. Safe for concurrent use.
//
// Keying by user name lets an attacker keep one account's logins waiting
// (at most Max between attempts); that is the usual trade against letting
// a botnet guess one account's password from many addresses.
type Limiter struct {
	o  LimiterOptions
	mu sync.Mutex
	m  map[string]*backoff
}

type backoff struct {
	failures int
	last     time.Time
}

// NewLimiter returns an empty limiter.
func NewLimiter(o LimiterOptions) *Limiter {
	if o.Free == 0 {
		o.Free = 5
	}
	if o.Base == 0 {
		o.Base = time.Second
	}
	if o.Max == 0 {
		o.Max = 15 * time.Minute
	}
	if o.Forget == 0 {
		o.Forget = time.Hour
	}
	if o.MaxKeys == 0 {
		o.MaxKeys = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Limiter{o: o, m: make(map[string]*backoff)}
}

func (l *Limiter) wait(b *backoff) time.Duration {
	over := b.failures - l.o.Free
	if over < 0 {
		return 0
	}
	d := l.o.Base
	for i := 0; i < over && d < l.o.Max; i++ {
		d *= 2
	}
	return min(d, l.o.Max)
}

// Allow reports whether key may attempt a login now; if not, it returns
// how long to wait (for a Retry-After header).
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	now := l.o.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok {
		return true, 0
	}
	if now.Sub(b.last) >= l.o.Forget {
		delete(l.m, key)
		return true, 0
	}
	if until := b.last.Add(l.wait(b)); now.Before(until) {
		return false, until.Sub(now)
	}
	return true, 0
}

// Fail records a failed attempt by key.
func (l *Limiter) Fail(key string) {
	now := l.o.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok {
		if len(l.m) >= l.o.MaxKeys {
			l.evictLocked(now)
		}
		b = &backoff{}
		l.m[key] = b
	}
	if now.Sub(b.last) >= l.o.Forget {
		b.failures = 0
	}
	b.failures++
	b.last = now
}

// Reset forgets key's failures (after a successful login as that user).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.m, key)
	l.mu.Unlock()
}

func (l *Limiter) evictLocked(now time.Time) {
	var oldest string
	var oldestT time.Time
	first := true
	for k, b := range l.m {
		if now.Sub(b.last) >= l.o.Forget {
			delete(l.m, k)
			continue
		}
		if first || b.last.Before(oldestT) {
			oldest, oldestT, first = k, b.last, false
		}
	}
	if len(l.m) >= l.o.MaxKeys && !first {
		delete(l.m, oldest)
	}
}

// ClientKey returns the rate-limiting key of the request's peer: its IPv4
// address, or its IPv6 /64 (one host usually holds a whole /64). It uses
// RemoteAddr only; X-Forwarded-For is not trusted because polder serves
// HTTPS itself.
func ClientKey(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return "ip:" + r.RemoteAddr
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + a.String()
}
