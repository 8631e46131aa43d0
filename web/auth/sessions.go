package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultCookieName is the session cookie's name when SessionOptions sets
// none. Browsers do not separate cookies by port, so two instances on one
// host must use different names (CookieName("customer1")).
const DefaultCookieName = "__Host-polder-session"

// CookieName returns the session cookie name for an instance, so two
// instances served from one host name on different ports do not overwrite
// each other's sessions. The instance name is reduced to cookie-safe
// characters.
func CookieName(instance string) string {
	var b strings.Builder
	b.WriteString(DefaultCookieName)
	if instance != "" {
		b.WriteByte('-')
	}
	for _, c := range instance {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// SessionOptions configure Sessions. Zero values mean the documented
// defaults.
type SessionOptions struct {
	// CookieName must start with "__Host-" (the browser then requires
	// Secure, Path=/ and no Domain). Zero means DefaultCookieName.
	CookieName string
	// MaxAge is a session's absolute lifetime. Zero means 12 hours.
	MaxAge time.Duration
	// IdleTimeout ends a session not used for this long. Zero means 30 minutes.
	IdleTimeout time.Duration
	// MaxSessions bounds the store; when full, expired sessions are dropped
	// and then the least recently used one. Zero means 10000.
	MaxSessions int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Rand is the source of session IDs and CSRF tokens; nil means crypto/rand.
	Rand io.Reader
}

// Session is one logged-in browser. It is a copy: changing it changes
// nothing in the store.
type Session struct {
	User string
	// CSRFToken is the synchronizer token the client must send back in the
	// X-CSRF-Token header (or the csrf_token form field) on every request
	// that is not GET, HEAD or OPTIONS.
	CSRFToken string
	Created   time.Time
	LastSeen  time.Time
	// cred fingerprints the password hash the user logged in with: a
	// session ends when its user is removed or changes password.
	cred string
}

// Sessions is the server-side session store, in memory: a restart logs
// everyone out. Session IDs are 256 random bits; the store keys sessions by
// the SHA-256 of the ID, so neither a map lookup's timing nor a memory dump
// yields a usable ID. Safe for concurrent use.
type Sessions struct {
	o  SessionOptions
	mu sync.Mutex
	m  map[[32]byte]*Session
}

// NewSessions returns an empty store.
func NewSessions(o SessionOptions) (*Sessions, error) {
	if o.CookieName == "" {
		o.CookieName = DefaultCookieName
	}
	if !strings.HasPrefix(o.CookieName, "__Host-") {
		return nil, fmt.Errorf("session cookie name %q: must start with __Host-", o.CookieName)
	}
	if o.MaxAge == 0 {
		o.MaxAge = 12 * time.Hour
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 30 * time.Minute
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return &Sessions{o: o, m: make(map[[32]byte]*Session)}, nil
}

func (s *Sessions) token() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.o.Rand, b); err != nil {
		return "", fmt.Errorf("create session: read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func sessionKey(id string) [32]byte { return sha256.Sum256([]byte(id)) }

func (s *Sessions) expired(x *Session, now time.Time) bool {
	return now.Sub(x.Created) >= s.o.MaxAge || now.Sub(x.LastSeen) >= s.o.IdleTimeout
}

// Create starts a session for user and returns its ID (the cookie value).
// Call it only after a successful login, and delete the session the client
// had before, so an ID planted before login is never promoted (fixation).
func (s *Sessions) Create(user User) (string, Session, error) {
	id, err := s.token()
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := s.token()
	if err != nil {
		return "", Session{}, err
	}
	now := s.o.Now()
	x := &Session{User: user.Name, CSRFToken: csrf, Created: now, LastSeen: now, cred: credential(user)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.o.MaxSessions {
		s.evictLocked(now)
	}
	s.m[sessionKey(id)] = x
	return id, *x, nil
}

// evictLocked drops expired sessions and, if still full, the least recently
// used one.
func (s *Sessions) evictLocked(now time.Time) {
	var oldest [32]byte
	var oldestSeen time.Time
	first := true
	for k, x := range s.m {
		if s.expired(x, now) {
			delete(s.m, k)
			continue
		}
		if first || x.LastSeen.Before(oldestSeen) {
			oldest, oldestSeen, first = k, x.LastSeen, false
		}
	}
	if len(s.m) >= s.o.MaxSessions && !first {
		delete(s.m, oldest)
	}
}

// Lookup returns the live session with this ID and marks it used now. An
// expired session is deleted and not returned.
func (s *Sessions) Lookup(id string) (Session, bool) {
	if id == "" {
		return Session{}, false
	}
	k := sessionKey(id)
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.m[k]
	if !ok {
		return Session{}, false
	}
	if s.expired(x, now) {
		delete(s.m, k)
		return Session{}, false
	}
	x.LastSeen = now
	return *x, true
}

// Delete ends the session with this ID (logout). Unknown IDs are ignored.
func (s *Sessions) Delete(id string) {
	s.mu.Lock()
	delete(s.m, sessionKey(id))
	s.mu.Unlock()
}

// DeleteUser ends every session of user (after a password change or
// removal) and returns how many there were.
func (s *Sessions) DeleteUser(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, x := range s.m {
		if x.User == user {
			delete(s.m, k)
			n++
		}
	}
	return n
}

// Len returns the number of sessions held, expired ones included until
// they are looked up or evicted.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Cookie returns the session cookie for id: Secure, HttpOnly,
// SameSite=Strict, Path=/, no Domain (the __Host- prefix makes browsers
// enforce all but HttpOnly and SameSite), expiring with the session's
// absolute lifetime.
func (s *Sessions) Cookie(id string) *http.Cookie {
	return &http.Cookie{
		Name:     s.o.CookieName,
		Value:    id,
		Path:     "/",
		MaxAge:   int(s.o.MaxAge / time.Second),
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	}
}

// ClearCookie returns a cookie that makes the browser drop the session
// cookie (logout).
func (s *Sessions) ClearCookie() *http.Cookie {
	c := s.Cookie("")
	c.MaxAge = -1
	return c
}

// FromRequest returns the ID and session of the request's session cookie.
func (s *Sessions) FromRequest(r *http.Request) (string, Session, bool) {
	c, err := r.Cookie(s.o.CookieName)
	if err != nil {
		return "", Session{}, false
	}
	x, ok := s.Lookup(c.Value)
	if !ok {
		return "", Session{}, false
	}
	return c.Value, x, true
}
