package auth

import "net/http"

// ContentSecurityPolicy allows scripts, styles, fonts and connections from
// the UI's own origin only: no inline script or style, no eval, no plugins,
// no framing, no <base> rewriting, forms posting only to polder. Event
// fields are attacker-controlled; this is the second line of defence behind
// rendering them as text.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"

// SecurityHeaders wraps next, setting on every response: the CSP above,
// X-Content-Type-Options nosniff, X-Frame-Options DENY (for browsers
// without frame-ancestors), Referrer-Policy same-origin, Cross-Origin-
// Opener/Resource-Policy same-origin, a Permissions-Policy turning off
// powerful features, and on TLS connections Strict-Transport-Security for
// one year.
//
// Referrer-Policy is same-origin rather than no-referrer on purpose: with
// no-referrer, browsers send "Origin: null" on same-origin POSTs, and
// Guard's Origin check would refuse them.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), usb=(), payment=()")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
