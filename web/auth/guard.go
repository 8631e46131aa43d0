package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CSRFHeader is the request header carrying the session's CSRF token;
// CSRFField is the form field that may carry it instead.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// GuardOptions configure a Guard.
type GuardOptions struct {
	Users    *Users
	Sessions *Sessions
	// IPLimiter and UserLimiter rate-limit logins per client network and
	// per user name; nil means NewLimiter with its defaults (UserLimiter
	// with Max 5 minutes, to bound how long an attacker can lock a user out).
	IPLimiter, UserLimiter *Limiter
	// LoginPath is the HTML login page, where browsers without a session
	// are redirected. Zero means "/login".
	LoginPath string
	// APIPrefix marks JSON API paths, answered with 401 instead of a
	// redirect. Zero means "/api/".
	APIPrefix string
	// Public reports requests served without a session (static assets).
	// The login page is always public. Nil means none.
	Public func(*http.Request) bool
	// Origins are the origins ("https://host:port") allowed on
	// state-changing requests besides the request's own (scheme + Host).
	Origins []string
	// Logger receives failed logins; nil discards.
	Logger *slog.Logger
}

// Guard is the web UI's front door: it authenticates logins, keeps
// sessions, and wraps handlers so that every request has a session and
// every state-changing request passes the Origin and CSRF checks.
type Guard struct {
	o GuardOptions
}

// NewGuard returns a guard.
func NewGuard(o GuardOptions) (*Guard, error) {
	if o.Users == nil || o.Sessions == nil {
		return nil, errors.New("new auth guard: Users and Sessions are required")
	}
	if o.IPLimiter == nil {
		o.IPLimiter = NewLimiter(LimiterOptions{})
	}
	if o.UserLimiter == nil {
		o.UserLimiter = NewLimiter(LimiterOptions{Max: 5 * time.Minute})
	}
	if o.LoginPath == "" {
		o.LoginPath = "/login"
	}
	if o.APIPrefix == "" {
		o.APIPrefix = "/api/"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Guard{o: o}, nil
}

type ctxKey struct{}

// SessionFrom returns the session of a request that passed Guard.Require.
func SessionFrom(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(ctxKey{}).(Session)
	return s, ok
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin checks the Origin header (or, without one, the Referer's
// origin) against the request's own origin and GuardOptions.Origins. A
// request with neither header, or Origin "null", is refused: browsers send
// Origin on every cross-origin and same-origin POST given the
// Referrer-Policy that SecurityHeaders sets.
func (g *Guard) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		ref := r.Header.Get("Referer")
		if ref == "" {
			return false
		}
		u, err := url.Parse(ref)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return false
		}
		origin = u.Scheme + "://" + u.Host
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if strings.EqualFold(origin, scheme+"://"+r.Host) {
		return true
	}
	return slices.ContainsFunc(g.o.Origins, func(o string) bool { return strings.EqualFold(o, origin) })
}

func (g *Guard) isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, g.o.APIPrefix)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

type apiError struct {
	Error string `json:"error"`
}

// Require wraps next: requests without a live session get 401 (API paths)
// or a 303 redirect to the login page with ?next= (pages); non-GET/HEAD/
// OPTIONS requests must come from an allowed origin and carry the
// session's CSRF token, or get 403. The session is in the request context
// (SessionFrom). Authenticated responses are marked Cache-Control: no-store.
func (g *Guard) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == g.o.LoginPath || (g.o.Public != nil && g.o.Public(r)) {
			next.ServeHTTP(w, r)
			return
		}
		id, s, ok := g.o.Sessions.FromRequest(r)
		if ok && !g.o.Users.current(s) {
			// The user was removed or changed password since this login
			// (with polder user, another process): the session ends.
			g.o.Sessions.Delete(id)
			ok = false
		}
		if !ok {
			if g.isAPI(r) || !safeMethod(r.Method) {
				writeJSON(w, http.StatusUnauthorized, apiError{"login required"})
				return
			}
			http.Redirect(w, r, g.o.LoginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if !safeMethod(r.Method) {
			if !g.sameOrigin(r) {
				writeJSON(w, http.StatusForbidden, apiError{"cross-origin request refused"})
				return
			}
			tok := r.Header.Get(CSRFHeader)
			if tok == "" {
				tok = formToken(w, r)
			}
			if subtle.ConstantTimeCompare([]byte(tok), []byte(s.CSRFToken)) != 1 {
				writeJSON(w, http.StatusForbidden, apiError{"missing or invalid CSRF token"})
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
	})
}

// formToken reads the CSRF field of a urlencoded or multipart form body.
func formToken(w http.ResponseWriter, r *http.Request) string {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" && ct != "multipart/form-data" {
		return ""
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	return r.PostFormValue(CSRFField)
}

// SessionInfo is what the UI fetches after loading a page: the user and the
// CSRF token to send back on state-changing requests.
type SessionInfo struct {
	User      string `json:"user"`
	CSRFToken string `json:"csrf_token"`
}

// SessionHandler answers GET with the SessionInfo of the request's session.
// Mount it behind Require.
func (g *Guard) SessionHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := SessionFrom(r.Context())
		if !ok {
			writeJSON(w, http.StatusUnauthorized, apiError{"login required"})
			return
		}
		writeJSON(w, http.StatusOK, SessionInfo{User: s.User, CSRFToken: s.CSRFToken})
	})
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Next     string `json:"next"`
}

// LoginHandler answers POST with a JSON body {"username","password"} (then
// 200 with SessionInfo, 401, 429 with Retry-After) or an HTML form with
// fields username, password and next (then 303 to next, or back to the
// login page with ?error=1 / ?error=wait). Logins must come from an allowed
// origin (login CSRF). Refused attempts never reach the KDF. A successful
// login replaces any session the client had. Mount it outside Require (it
// is public anyway).
func (g *Guard) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, apiError{"method not allowed"})
			return
		}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		isJSON := ct == "application/json"
		fail := func(code int, msg, formErr string) {
			if isJSON {
				writeJSON(w, code, apiError{msg})
				return
			}
			http.Redirect(w, r, g.o.LoginPath+"?error="+formErr, http.StatusSeeOther)
		}
		if !g.sameOrigin(r) {
			writeJSON(w, http.StatusForbidden, apiError{"cross-origin request refused"})
			return
		}
		var req loginRequest
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if isJSON {
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				writeJSON(w, http.StatusBadRequest, apiError{"bad login request"})
				return
			}
		} else {
			if err := r.ParseForm(); err != nil {
				writeJSON(w, http.StatusBadRequest, apiError{"bad login request"})
				return
			}
			req = loginRequest{r.PostForm.Get("username"), r.PostForm.Get("password"), r.PostForm.Get("next")}
		}
		ipKey, userKey := ClientKey(r), "user:"+req.Username
		okIP, waitIP := g.o.IPLimiter.Allow(ipKey)
		okUser, waitUser := g.o.UserLimiter.Allow(userKey)
		if !okIP || !okUser {
			wait := max(waitIP, waitUser)
			w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			fail(http.StatusTooManyRequests, "too many failed logins; try again later", "wait")
			return
		}
		u, err := g.o.Users.Authenticate(req.Username, req.Password)
		if err != nil {
			if !errors.Is(err, ErrInvalidCredentials) {
				g.o.Logger.Error("login", "err", err)
				writeJSON(w, http.StatusInternalServerError, apiError{"login unavailable"})
				return
			}
			g.o.IPLimiter.Fail(ipKey)
			g.o.UserLimiter.Fail(userKey)
			g.o.Logger.Warn("failed login", "user", req.Username, "client", r.RemoteAddr)
			fail(http.StatusUnauthorized, ErrInvalidCredentials.Error(), "1")
			return
		}
		g.o.UserLimiter.Reset(userKey)
		if old, _, ok := g.o.Sessions.FromRequest(r); ok {
			g.o.Sessions.Delete(old)
		}
		id, s, err := g.o.Sessions.Create(u)
		if err != nil {
			g.o.Logger.Error("login", "err", err)
			writeJSON(w, http.StatusInternalServerError, apiError{"login unavailable"})
			return
		}
		http.SetCookie(w, g.o.Sessions.Cookie(id))
		if isJSON {
			writeJSON(w, http.StatusOK, SessionInfo{User: s.User, CSRFToken: s.CSRFToken})
			return
		}
		http.Redirect(w, r, SafeNext(req.Next), http.StatusSeeOther)
	})
}

// SafeNext returns next if it is a local absolute path ("/x", not "//x" or
// "/\x", which browsers treat as another host), else "/": the guard against
// open redirects through the login page's next parameter.
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	if strings.ContainsAny(next, "\r\n\t") {
		return "/"
	}
	return next
}

// LogoutHandler ends the request's session and clears the cookie; it
// answers 204 (JSON clients) or 303 to the login page (forms). Mount it
// behind Require, which enforces POST-only CSRF checks.
func (g *Guard) LogoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, apiError{"method not allowed"})
			return
		}
		if id, _, ok := g.o.Sessions.FromRequest(r); ok {
			g.o.Sessions.Delete(id)
		}
		http.SetCookie(w, g.o.Sessions.ClearCookie())
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data" {
			http.Redirect(w, r, g.o.LoginPath, http.StatusSeeOther)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
