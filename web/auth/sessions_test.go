package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSessionsExpiry(t *testing.T) {
	c := newClock()
	s, err := NewSessions(SessionOptions{MaxAge: 2 * time.Hour, IdleTimeout: 30 * time.Minute, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	id, sess, err := s.Create(User{Name: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 43 || len(sess.CSRFToken) != 43 || id == sess.CSRFToken {
		t.Fatalf("id %q, csrf %q: want two distinct 256-bit base64url tokens", id, sess.CSRFToken)
	}
	// Used every 20 minutes: alive until the absolute MaxAge.
	for range 5 {
		c.add(20 * time.Minute)
		if _, ok := s.Lookup(id); !ok {
			t.Fatalf("session ended at %v of use", c.t)
		}
	}
	c.add(20 * time.Minute) // 2h after creation
	if _, ok := s.Lookup(id); ok {
		t.Error("session outlived MaxAge")
	}
	if s.Len() != 0 {
		t.Error("expired session not deleted on lookup")
	}

	id, _, _ = s.Create(User{Name: "admin"})
	c.add(30 * time.Minute)
	if _, ok := s.Lookup(id); ok {
		t.Error("session outlived IdleTimeout")
	}

	id, _, _ = s.Create(User{Name: "admin"})
	id2, _, _ := s.Create(User{Name: "bob"})
	s.Delete(id)
	if _, ok := s.Lookup(id); ok {
		t.Error("deleted session still valid")
	}
	if _, ok := s.Lookup(id2); !ok {
		t.Error("Delete removed another session")
	}
	if n := s.DeleteUser("bob"); n != 1 {
		t.Errorf("DeleteUser = %d, want 1", n)
	}
	if _, ok := s.Lookup(""); ok {
		t.Error("empty id looked up")
	}
}

func TestSessionsBounded(t *testing.T) {
	c := newClock()
	s, _ := NewSessions(SessionOptions{MaxSessions: 2, Now: c.now})
	a, _, _ := s.Create(User{Name: "a"})
	c.add(time.Second)
	b, _, _ := s.Create(User{Name: "b"})
	c.add(time.Second)
	s.Lookup(a) // a is now more recently used than b
	s.Create(User{Name: "c"})
	if s.Len() != 2 {
		t.Errorf("Len = %d, want 2", s.Len())
	}
	if _, ok := s.Lookup(b); ok {
		t.Error("least recently used session was not evicted")
	}
	if _, ok := s.Lookup(a); !ok {
		t.Error("recently used session evicted")
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	s, _ := NewSessions(SessionOptions{CookieName: CookieName("customer 1")})
	rec := httptest.NewRecorder()
	http.SetCookie(rec, s.Cookie("ID"))
	res := rec.Result()
	cs := res.Cookies()
	if len(cs) != 1 {
		t.Fatalf("cookies: %v", cs)
	}
	c := cs[0]
	if c.Name != "__Host-polder-session-customer_1" || c.Value != "ID" || c.Path != "/" || c.Domain != "" ||
		!c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.MaxAge != 12*3600 {
		t.Errorf("cookie = %+v", c)
	}
	raw := res.Header.Get("Set-Cookie")
	for _, want := range []string{"Secure", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(raw, want) {
			t.Errorf("Set-Cookie %q lacks %s", raw, want)
		}
	}
	if _, err := NewSessions(SessionOptions{CookieName: "session"}); err == nil {
		t.Error("cookie name without __Host- accepted")
	}
	clr := s.ClearCookie()
	if clr.MaxAge >= 0 || clr.Value != "" || !clr.Secure {
		t.Errorf("ClearCookie = %+v", clr)
	}
}
