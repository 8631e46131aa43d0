package auth

import (
	"net/http/httptest"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func TestLimiterBackoff(t *testing.T) {
	c := newClock()
	l := NewLimiter(LimiterOptions{Free: 3, Base: time.Second, Max: 8 * time.Second, Forget: time.Hour, Now: c.now})
	// Steps: fail, then the wait required before the next attempt.
	wants := []time.Duration{0, 0, 1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, want := range wants {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatalf("step %d: refused before failing", i)
		}
		l.Fail("k")
		ok, wait := l.Allow("k")
		if want == 0 {
			if !ok {
				t.Errorf("failure %d: refused, want allowed (free)", i+1)
			}
			continue
		}
		if ok || wait != want {
			t.Errorf("failure %d: Allow = %v, %v; want false, %v", i+1, ok, wait, want)
		}
		c.add(want - time.Millisecond)
		if ok, _ := l.Allow("k"); ok {
			t.Errorf("failure %d: allowed before the wait ended", i+1)
		}
		c.add(time.Millisecond)
	}
	if ok, _ := l.Allow("other"); !ok {
		t.Error("another key is limited")
	}
	l.Reset("k")
	if ok, _ := l.Allow("k"); !ok {
		t.Error("Reset did not clear the key")
	}
	for range 10 {
		l.Fail("k")
	}
	c.add(time.Hour)
	if ok, _ := l.Allow("k"); !ok {
		t.Error("failures not forgotten after Forget")
	}
}

func TestLimiterBounded(t *testing.T) {
	c := newClock()
	l := NewLimiter(LimiterOptions{MaxKeys: 3, Now: c.now})
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		l.Fail(k)
		c.add(time.Second)
	}
	if n := len(l.m); n != 3 {
		t.Errorf("limiter holds %d keys, want 3", n)
	}
	if _, ok := l.m["a"]; ok {
		t.Error("oldest key was not evicted")
	}
}

func TestClientKey(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"192.0.2.7:5555", "ip:192.0.2.7"},
		{"[::ffff:192.0.2.7]:5555", "ip:192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "ip:2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "ip:2001:db8:1:2::/64"},
		{"garbage", "ip:garbage"},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.RemoteAddr = tc.remote
		if got := ClientKey(r); got != tc.want {
			t.Errorf("ClientKey(%q) = %q, want %q", tc.remote, got, tc.want)
		}
	}
}
