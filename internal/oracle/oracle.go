// Package oracle is the accuracy harness: it measures how far the sensor's
// EVE output agrees with an independent dissector (Debian's tshark) on the
// same pcap, and how its flow records agree with Suricata's reference EVE.
//
// Three kinds of value are compared per pcap, each as a set of distinct
// normalised strings:
//
//   - DNS: every DNS message's question names (queries and responses alike,
//     since the sensor logs both), case-folded, trailing dot removed. Only
//     unicast DNS over UDP or TCP: mDNS and LLMNR reuse tshark's dns.* fields
//     but are separate protocols that Suricata's DNS logger does not cover.
//   - HTTP: HTTP/1.x request (host, URI) pairs over TCP. The URI is kept
//     exactly as sent on the wire (an absolute "http://h/p" proxy URI stays
//     absolute). The host is the authority of an absolute URI when there is
//     one, else the Host header, lowercased, without port and without the
//     brackets of an IPv6 literal. That is what libhtp, hence Suricata's
//     "hostname", does. A request without any host has host "".
//   - TLS: ClientHello SNIs over TCP (not QUIC, not DTLS), lowercased.
//
// Values holding bytes outside printable ASCII are dropped on both sides
// and kept apart in Sets.Dropped: tshark escapes them and EVE encodes them
// differently, so they cannot be compared as text. So are tshark's
// placeholders for names it cannot show ("<Root>", "<Name too long>") and
// libhtp's for a response without a request ("/libhtp::request_uri_not_seen").
//
// CONNECT targets ("host:443") give the host like absolute URIs do.
//
// Agreement for one kind is |both| / |either| summed over the corpus.
//
// Typical use in a corpus test (tshark runs at most 2 at a time, cached):
//
//	ts := &oracle.Tshark{CacheDir: dir}
//	want, errs := ts.SetsAll(ctx, pcaps, 2)
//	var rep oracle.Report
//	for i, p := range pcaps {
//		got, err := oracle.EVESets(evePath[i]) // the sensor's EVE for p
//		...
//		rep.Add(name[i], oracle.Compare(got, want[i]))
//	}
//	rep.Print(os.Stdout) // agreement overall and per kind, every disagreement
//
// Calibration (TestOracleSuricataReference): Suricata 7.0.4's reference
// EVE over the 775 corpus pcaps agrees 83.8% overall with tshark 4.0.17
// (dns 91.9%, http 78.1%, tls 50.0%). Most of the gap is Suricata not
// picking up mid-stream sessions (stream.midstream: false) and DNS on
// ports other than 53; see the test for details.
package oracle

import (
	"sort"
	"strings"
)

// Kind is one of the compared value kinds.
type Kind int

// The compared kinds.
const (
	DNS Kind = iota
	HTTP
	TLS
	numKinds
)

// Kinds lists every Kind in report order.
var Kinds = [...]Kind{DNS, HTTP, TLS}

// String returns "dns", "http" or "tls".
func (k Kind) String() string {
	switch k {
	case DNS:
		return "dns"
	case HTTP:
		return "http"
	case TLS:
		return "tls"
	}
	return "kind?"
}

// Set is a set of normalised values.
type Set map[string]struct{}

// Add inserts v.
func (s Set) Add(v string) { s[v] = struct{}{} }

// Has reports whether v is in s.
func (s Set) Has(v string) bool { _, ok := s[v]; return ok }

// Sorted returns the members in byte order.
func (s Set) Sorted() []string {
	out := make([]string, 0, len(s))
	for v := range s {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Sets holds one pcap's values of every kind. HTTP values are
// HTTPValue(host, uri). The zero value is not usable; call NewSets.
type Sets struct {
	Values [numKinds]Set
	// Dropped holds the distinct values of each kind left out of Values
	// for holding bytes outside printable ASCII (or tshark's escapes of
	// them), or for being a tshark placeholder such as "<Root>".
	Dropped [numKinds]Set
}

// NewSets returns empty sets.
func NewSets() Sets {
	var s Sets
	for i := range s.Values {
		s.Values[i] = Set{}
		s.Dropped[i] = Set{}
	}
	return s
}

// Of returns the set of kind k.
func (s Sets) Of(k Kind) Set { return s.Values[k] }

// HTTPValue is the set member for an HTTP request: host and URI joined by
// one space (a host never holds a space; a URI on the wire normally does
// not either, and SplitHTTP splits at the first one).
func HTTPValue(host, uri string) string { return host + " " + uri }

// SplitHTTP undoes HTTPValue.
func SplitHTTP(v string) (host, uri string) {
	host, uri, _ = strings.Cut(v, " ")
	return host, uri
}

// addDNS normalises and adds a DNS question name.
func (s *Sets) addDNS(name string) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if name == "" {
		return // the root; neither side has anything meaningful to say
	}
	s.add(DNS, name)
}

// addTLS normalises and adds an SNI.
func (s *Sets) addTLS(sni string) {
	sni = strings.TrimSuffix(strings.ToLower(sni), ".")
	if sni == "" {
		return
	}
	s.add(TLS, sni)
}

// addHTTP normalises and adds a request. hostHeader is the Host header (or
// the hostname a logger derived), uri the request target as sent.
func (s *Sets) addHTTP(hostHeader, uri string) {
	if !printable(hostHeader) || !printable(uri) {
		s.Dropped[HTTP].Add(HTTPValue(hostHeader, uri))
		return
	}
	host := NormalizeHost(hostHeader)
	if h, ok := uriHost(uri); ok {
		host = h
	} else if h, ok := authorityHost(uri); ok {
		host = h
	}
	s.add(HTTP, HTTPValue(host, uri))
}

func (s *Sets) add(k Kind, v string) {
	if !printable(v) || placeholder(v) {
		s.Dropped[k].Add(v)
		return
	}
	s.Values[k].Add(v)
}

// NormalizeHost lowercases h and strips a port and IPv6 brackets:
// "Example.COM:8080" → "example.com", "[::1]:80" → "::1".
func NormalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
		return h
	}
	if strings.Count(h, ":") == 1 { // host:port; more colons is a bare IPv6 literal
		h, _, _ = strings.Cut(h, ":")
	}
	return strings.TrimSuffix(h, ".")
}

// uriHost returns the normalised authority host of an absolute URI
// ("http://user@Host:8080/x" → "host"); ok is false for origin-form and
// authority-form (CONNECT) targets.
func uriHost(uri string) (string, bool) {
	i := strings.Index(uri, "://")
	if i <= 0 || strings.ContainsAny(uri[:i], "/?#") {
		return "", false
	}
	auth := uri[i+3:]
	if j := strings.IndexAny(auth, "/?#"); j >= 0 {
		auth = auth[:j]
	}
	if j := strings.LastIndexByte(auth, '@'); j >= 0 {
		auth = auth[j+1:]
	}
	if auth == "" {
		return "", false
	}
	return NormalizeHost(auth), true
}

// authorityHost returns the normalised host of an authority-form target
// ("Host.example:443", as CONNECT sends): libhtp takes the hostname from
// it, tshark only reports the (often absent) Host header.
func authorityHost(uri string) (string, bool) {
	if uri == "" || strings.ContainsAny(uri, "/?#@ ") {
		return "", false
	}
	h, p, ok := strings.Cut(uri, ":")
	if strings.HasPrefix(uri, "[") {
		i := strings.Index(uri, "]:")
		if i < 0 {
			return "", false
		}
		h, p, ok = uri[:i+1], uri[i+2:], true
	}
	if !ok || h == "" || p == "" || strings.Trim(p, "0123456789") != "" {
		return "", false
	}
	return NormalizeHost(h), true
}

// placeholder reports whether v is one of tshark's stand-ins for a name it
// cannot show ("<Root>", "<Name too long>", "<Unknown extended label>"):
// no DNS name or SNI starts with '<'.
func placeholder(v string) bool {
	return strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">")
}

// printable reports whether v is printable ASCII and free of the escapes
// tshark writes for other bytes (\xNN, \NNN octal, \r, \n, \t ...). A
// literal backslash in a value is therefore treated as non-printable on
// both sides; the count is reported, not hidden.
func printable(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == '\\' {
			return false
		}
	}
	return true
}
