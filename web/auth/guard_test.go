package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const origin = "https://polder.test"

type fixture struct {
	g       *Guard
	s       *Sessions
	c       *clock
	handler http.Handler
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := newClock()
	u := testUsers(t)
	if err := u.Add("admin", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	s, _ := NewSessions(SessionOptions{Now: c.now})
	g, err := NewGuard(GuardOptions{
		Users: u, Sessions: s,
		IPLimiter:   NewLimiter(LimiterOptions{Free: 10, Now: c.now}),
		UserLimiter: NewLimiter(LimiterOptions{Free: 3, Now: c.now}),
		Public:      func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/static/") },
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /api/login", g.LoginHandler())
	mux.Handle("POST /api/logout", g.LogoutHandler())
	mux.Handle("GET /api/session", g.SessionHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, _ := SessionFrom(r.Context())
		w.Write([]byte("ok " + s.User))
	})
	outer := http.NewServeMux()
	outer.Handle("POST /api/login", g.LoginHandler())
	outer.Handle("/", g.Require(mux))
	return &fixture{g: g, s: s, c: c, handler: SecurityHeaders(outer)}
}

type req struct {
	method, path, body, ctype string
	hdr                       map[string]string
	cookie                    string
}

func (f *fixture) do(r req) *http.Response {
	hr := httptest.NewRequest(r.method, origin+r.path, strings.NewReader(r.body))
	hr.RemoteAddr = "192.0.2.1:40000"
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	for k, v := range r.hdr {
		hr.Header.Set(k, v)
	}
	if r.cookie != "" {
		hr.AddCookie(&http.Cookie{Name: DefaultCookieName, Value: r.cookie})
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, hr)
	return rec.Result()
}

// login returns the session cookie value and CSRF token.
func (f *fixture) login(t *testing.T, user, pw string) (*http.Response, string, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	res := f.do(req{method: "POST", path: "/api/login", body: string(body), ctype: "application/json",
		hdr: map[string]string{"Origin": origin}})
	var info SessionInfo
	json.NewDecoder(res.Body).Decode(&info)
	for _, c := range res.Cookies() {
		if c.Name == DefaultCookieName {
			return res, c.Value, info.CSRFToken
		}
	}
	return res, "", ""
}

func TestLoginAndRequire(t *testing.T) {
	f := newFixture(t)
	// No session: API 401, page redirect, static and login page public.
	if res := f.do(req{method: "GET", path: "/api/alerts"}); res.StatusCode != 401 {
		t.Errorf("API without session: %d, want 401", res.StatusCode)
	}
	res := f.do(req{method: "GET", path: "/inbox?q=a"})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/login?next="+url.QueryEscape("/inbox?q=a") {
		t.Errorf("page without session: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	for _, p := range []string{"/static/app.js", "/login"} {
		if res := f.do(req{method: "GET", path: p}); res.StatusCode != 200 {
			t.Errorf("%s without session: %d, want 200", p, res.StatusCode)
		}
	}

	res, id, csrf := f.login(t, "admin", "correct horse battery")
	if res.StatusCode != 200 || id == "" || csrf == "" {
		t.Fatalf("login: %d, cookie %q, csrf %q", res.StatusCode, id, csrf)
	}
	res = f.do(req{method: "GET", path: "/api/session", cookie: id})
	var info SessionInfo
	json.NewDecoder(res.Body).Decode(&info)
	if res.StatusCode != 200 || info.User != "admin" || info.CSRFToken != csrf {
		t.Errorf("session: %d %+v", res.StatusCode, info)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	if res := f.do(req{method: "GET", path: "/inbox", cookie: id}); res.StatusCode != 200 {
		t.Errorf("page with session: %d", res.StatusCode)
	}
	if res := f.do(req{method: "GET", path: "/inbox", cookie: "forged"}); res.StatusCode != 303 {
		t.Errorf("page with forged cookie: %d", res.StatusCode)
	}

	// Logout needs CSRF, then ends the session.
	if res := f.do(req{method: "POST", path: "/api/logout", cookie: id, hdr: map[string]string{"Origin": origin}}); res.StatusCode != 403 {
		t.Errorf("logout without CSRF: %d, want 403", res.StatusCode)
	}
	res = f.do(req{method: "POST", path: "/api/logout", cookie: id, hdr: map[string]string{"Origin": origin, CSRFHeader: csrf}})
	if res.StatusCode != 204 {
		t.Errorf("logout: %d", res.StatusCode)
	}
	if cs := res.Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Errorf("logout cookies: %v", cs)
	}
	if res := f.do(req{method: "GET", path: "/api/alerts", cookie: id}); res.StatusCode != 401 {
		t.Errorf("after logout: %d, want 401", res.StatusCode)
	}
}

func TestLoginReplacesSession(t *testing.T) {
	f := newFixture(t)
	_, id1, _ := f.login(t, "admin", "correct horse battery")
	body := `{"username":"admin","password":"correct horse battery"}`
	res := f.do(req{method: "POST", path: "/api/login", body: body, ctype: "application/json", cookie: id1,
		hdr: map[string]string{"Origin": origin}})
	if res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	if _, ok := f.s.Lookup(id1); ok {
		t.Error("old session survived a new login (fixation)")
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	_, id, csrf := f.login(t, "admin", "correct horse battery")
	_, _, otherCSRF := f.login(t, "admin", "correct horse battery")
	for _, tc := range []struct {
		name   string
		method string
		hdr    map[string]string
		body   string
		ctype  string
		want   int
	}{
		{"GET needs no token", "GET", nil, "", "", 200},
		{"HEAD needs no token", "HEAD", nil, "", "", 200},
		{"header token", "POST", map[string]string{"Origin": origin, CSRFHeader: csrf}, "", "", 200},
		{"form token", "POST", map[string]string{"Origin": origin}, CSRFField + "=" + url.QueryEscape(csrf), "application/x-www-form-urlencoded", 200},
		{"referer instead of origin", "DELETE", map[string]string{"Referer": origin + "/inbox", CSRFHeader: csrf}, "", "", 200},
		{"no token", "POST", map[string]string{"Origin": origin}, "", "", 403},
		{"wrong token", "PUT", map[string]string{"Origin": origin, CSRFHeader: "x" + csrf[1:]}, "", "", 403},
		{"another session's token", "POST", map[string]string{"Origin": origin, CSRFHeader: otherCSRF}, "", "", 403},
		{"cross origin", "POST", map[string]string{"Origin": "https://evil.test", CSRFHeader: csrf}, "", "", 403},
		{"other port", "POST", map[string]string{"Origin": origin + ":8443", CSRFHeader: csrf}, "", "", 403},
		{"http origin", "POST", map[string]string{"Origin": "http://polder.test", CSRFHeader: csrf}, "", "", 403},
		{"null origin", "POST", map[string]string{"Origin": "null", CSRFHeader: csrf}, "", "", 403},
		{"no origin no referer", "PATCH", map[string]string{CSRFHeader: csrf}, "", "", 403},
		{"cross-site referer", "POST", map[string]string{"Referer": "https://evil.test/x", CSRFHeader: csrf}, "", "", 403},
	} {
		res := f.do(req{method: tc.method, path: "/api/alerts/archive", body: tc.body, ctype: tc.ctype, hdr: tc.hdr, cookie: id})
		if res.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	// State-changing request without a session: 401 even on page paths.
	if res := f.do(req{method: "POST", path: "/inbox", hdr: map[string]string{"Origin": origin}}); res.StatusCode != 401 {
		t.Errorf("POST without session: %d", res.StatusCode)
	}
}

func TestLoginFailuresAndRateLimit(t *testing.T) {
	f := newFixture(t)
	// Cross-origin login (login CSRF) refused.
	res := f.do(req{method: "POST", path: "/api/login", body: `{"username":"admin","password":"correct horse battery"}`,
		ctype: "application/json", hdr: map[string]string{"Origin": "https://evil.test"}})
	if res.StatusCode != 403 {
		t.Errorf("cross-origin login: %d", res.StatusCode)
	}
	if res := f.do(req{method: "GET", path: "/api/login"}); res.StatusCode == 200 {
		t.Errorf("GET login: %d", res.StatusCode)
	}
	// The user limiter allows 3 failures, then waits 1 s, 2 s...
	for i := range 3 {
		if res, _, _ := f.login(t, "admin", "wrong password!"); res.StatusCode != 401 {
			t.Fatalf("failure %d: %d, want 401", i, res.StatusCode)
		}
	}
	res, id, _ := f.login(t, "admin", "correct horse battery")
	if res.StatusCode != 429 || id != "" || res.Header.Get("Retry-After") != "1" {
		t.Errorf("limited: %d, cookie %q, Retry-After %q; want 429 without session", res.StatusCode, id, res.Header.Get("Retry-After"))
	}
	// Another user from the same address is still allowed (IP limiter has room).
	if res, _, _ := f.login(t, "bob", "wrong password!"); res.StatusCode != 401 {
		t.Errorf("other user: %d", res.StatusCode)
	}
	f.c.add(time.Second)
	if res, id, _ := f.login(t, "admin", "correct horse battery"); res.StatusCode != 200 || id == "" {
		t.Errorf("after waiting: %d", res.StatusCode)
	}
	// Success reset the user's failures.
	if res, _, _ := f.login(t, "admin", "wrong password!"); res.StatusCode != 401 {
		t.Errorf("after reset: %d", res.StatusCode)
	}
	// The IP limiter: many users from one address.
	for i := range 20 {
		res, _, _ := f.login(t, "user"+string(rune('a'+i)), "wrong password!")
		if res.StatusCode == 429 {
			return
		}
	}
	t.Error("IP limiter never engaged")
}

func TestFormLogin(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"username": {"admin"}, "password": {"correct horse battery"}, "next": {"/inbox"}}
	res := f.do(req{method: "POST", path: "/api/login", body: form.Encode(), ctype: "application/x-www-form-urlencoded",
		hdr: map[string]string{"Origin": origin}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/inbox" || len(res.Cookies()) != 1 {
		t.Errorf("form login: %d %q %v", res.StatusCode, res.Header.Get("Location"), res.Cookies())
	}
	form.Set("password", "nope nope nope")
	res = f.do(req{method: "POST", path: "/api/login", body: form.Encode(), ctype: "application/x-www-form-urlencoded",
		hdr: map[string]string{"Origin": origin}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/login?error=1" || len(res.Cookies()) != 0 {
		t.Errorf("bad form login: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/inbox?q=1":            "/inbox?q=1",
		"":                      "/",
		"//evil.test/":          "/",
		"/\\evil.test":          "/",
		"https://evil.test/":    "/",
		"javascript:alert(1)":   "/",
		"/a\r\nSet-Cookie: x=1": "/",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	res := f.do(req{method: "GET", path: "/static/app.js"})
	for k, want := range map[string]string{
		"X-Content-Type-Options":    "nosniff",
		"X-Frame-Options":           "DENY",
		"Referrer-Policy":           "same-origin",
		"Strict-Transport-Security": "max-age=31536000",
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline or eval: %q", csp)
	}
	// Errors carry the headers too.
	if res := f.do(req{method: "GET", path: "/api/x"}); res.Header.Get("Content-Security-Policy") == "" {
		t.Error("401 lacks CSP")
	}
}

// TestSessionEndsWithUser: a user removed or given a new password by
// another process (polder user, working on the same file) loses the
// sessions opened before, at their next request; other users keep theirs.
func TestSessionEndsWithUser(t *testing.T) {
	f := newFixture(t)
	other := OpenUsers(f.g.o.Users.Path(), UsersOptions{Params: fastParams}) // the CLI's view of the file
	if err := other.Add("alice", "another long password"); err != nil {
		t.Fatal(err)
	}
	_, admin, _ := f.login(t, "admin", "correct horse battery")
	_, alice, _ := f.login(t, "alice", "another long password")
	for _, id := range []string{admin, alice} {
		if res := f.do(req{method: "GET", path: "/api/session", cookie: id}); res.StatusCode != 200 {
			t.Fatalf("fresh session: %d", res.StatusCode)
		}
	}

	if err := other.SetPassword("admin", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if res := f.do(req{method: "GET", path: "/api/session", cookie: admin}); res.StatusCode != 401 {
		t.Errorf("after a password change: %d, want 401", res.StatusCode)
	}
	if res := f.do(req{method: "GET", path: "/api/session", cookie: alice}); res.StatusCode != 200 {
		t.Errorf("another user's session after admin's password change: %d, want 200", res.StatusCode)
	}
	if err := other.Remove("alice"); err != nil {
		t.Fatal(err)
	}
	if res := f.do(req{method: "GET", path: "/api/session", cookie: alice}); res.StatusCode != 401 {
		t.Errorf("after the user's removal: %d, want 401", res.StatusCode)
	}
	// The new password opens a new session.
	if res, id, _ := f.login(t, "admin", "a brand new password"); res.StatusCode != 200 || id == "" {
		t.Errorf("login with the new password: %d", res.StatusCode)
	}
}
