package http

import (
	"bytes"

	"github.com/polder-nsm/polder/sensor/applayer"
)

// parseRequestLine splits "METHOD SP target [SP HTTP/x.y]" as tolerantly as
// libhtp: any run of spaces or tabs separates the parts, leading whitespace
// is ignored, the target ends at the first whitespace and everything after
// it is the protocol (so "CONNECT h:25 / HTTP/1.0" has protocol
// "/ HTTP/1.0", as in Suricata's EVE), and a missing protocol means
// HTTP/0.9.
//
// To stay in step on streams picked up mid-message it is stricter than
// libhtp about what counts as a request at all: the method must be a token
// and either a known method or followed by a target and an HTTP/ protocol.
// The returned slices alias line.
func parseRequestLine(line []byte) (method, uri, proto []byte, ok bool) {
	line = bytes.TrimLeft(line, " \t")
	i := bytes.IndexAny(line, " \t")
	if i <= 0 {
		return nil, nil, nil, false
	}
	method = line[:i]
	for _, c := range method {
		if !isTokenChar(c) {
			return nil, nil, nil, false
		}
	}
	rest := bytes.Trim(line[i:], " \t")
	if len(rest) == 0 {
		return nil, nil, nil, false
	}
	// The target ends at the first whitespace and the rest is the
	// protocol, whatever it says (libhtp and Wireshark both split so).
	if j := bytes.IndexAny(rest, " \t"); j >= 0 {
		uri = rest[:j]
		proto = bytes.TrimLeft(rest[j:], " \t")
	} else {
		uri = rest
	}
	if len(uri) == 0 {
		return nil, nil, nil, false
	}
	if bytes.IndexByte(uri, 0) >= 0 && len(proto) == 0 {
		return nil, nil, nil, false
	}
	if len(proto) > 0 && !containsFold(proto, "http/") {
		return nil, nil, nil, false // SIP, RTSP and friends share methods with HTTP
	}
	if !applayer.IsHTTPMethod(method) && !hasVersionSuffix(proto) {
		return nil, nil, nil, false
	}
	return method, uri, proto, true
}

// hasVersionSuffix reports whether p ends in "HTTP/d.d".
func hasVersionSuffix(p []byte) bool {
	return len(p) >= 8 && validVersion(p[len(p)-8:])
}

// validVersion reports whether p is "HTTP/d.d" (case-insensitive name).
func validVersion(p []byte) bool {
	return len(p) == 8 && hasPrefixFold(p, "HTTP/") && isDigit(p[5]) && p[6] == '.' && isDigit(p[7])
}

// parseStatusLine splits "HTTP/x.y SP 3DIGIT [SP reason]" (RFC 9112 §4),
// tolerating extra whitespace and a missing reason. The returned slices
// alias line.
func parseStatusLine(line []byte) (proto []byte, code int, msg []byte, ok bool) {
	line = bytes.TrimLeft(line, " \t")
	if len(line) < 6 || !hasPrefixFold(line, "HTTP/") || !isDigit(line[5]) {
		return nil, 0, nil, false
	}
	i := bytes.IndexAny(line, " \t")
	if i < 0 {
		return nil, 0, nil, false
	}
	proto = line[:i]
	rest := bytes.TrimLeft(line[i:], " \t")
	if len(rest) < 3 || !isDigit(rest[0]) || !isDigit(rest[1]) || !isDigit(rest[2]) {
		return nil, 0, nil, false
	}
	if len(rest) > 3 && rest[3] != ' ' && rest[3] != '\t' {
		return nil, 0, nil, false
	}
	code = int(rest[0]-'0')*100 + int(rest[1]-'0')*10 + int(rest[2]-'0')
	msg = bytes.Trim(rest[3:], " \t")
	return proto, code, msg, true
}

// chunkResult classifies a chunk-size line.
type chunkResult uint8

const (
	chunkOK      chunkResult = iota
	chunkEmpty               // nothing but whitespace: libhtp reads the next line instead
	chunkInvalid             // no hex digits, or a size over 2^31-1
)

// parseChunkSize reads a chunk-size line as libhtp does (Suricata 7's
// htp_parse_chunked_length, Suricata 8's parse_chunked_length): leading
// CR, LF, space, tab, VT and FF are skipped, the hex digits that follow
// are the size, and whatever comes after them (a chunk extension, or junk
// such as "f,") is ignored. Sizes above 2^31-1 are invalid.
func parseChunkSize(line []byte) (int64, chunkResult) {
	i := 0
	for i < len(line) && isSpace(line[i]) {
		i++
	}
	if i == len(line) {
		return 0, chunkEmpty
	}
	var n int64
	digits := 0
	for ; i < len(line); i++ {
		c := line[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			i = len(line)
			continue
		}
		n = n<<4 | int64(d)
		digits++
		if n > 1<<31-1 {
			return 0, chunkInvalid
		}
	}
	if digits == 0 {
		return 0, chunkInvalid
	}
	return n, chunkOK
}

// parseContentLength reads a decimal length. A list of identical values
// ("5, 5") is accepted as RFC 9110 §8.6 allows.
func parseContentLength(v []byte) (int64, bool) {
	var first int64 = -1
	for len(v) > 0 {
		var part []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			part, v = v[:i], v[i+1:]
		} else {
			part, v = v, nil
		}
		part = bytes.TrimSpace(part)
		for len(part) > 1 && part[0] == '0' {
			part = part[1:] // leading zeros are valid digits (libhtp accepts them)
		}
		if len(part) == 0 || len(part) > 15 {
			return 0, false
		}
		var n int64
		for _, c := range part {
			if !isDigit(c) {
				return 0, false
			}
			n = n*10 + int64(c-'0')
		}
		if first >= 0 && n != first {
			return 0, false
		}
		first = n
	}
	return first, first >= 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isTokenChar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold compares b with the lower-case ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether b starts with s, ignoring ASCII case.
func hasPrefixFold(b []byte, s string) bool {
	if len(b) < len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

// containsFold reports whether the lower-case ASCII s occurs in b, ignoring
// case.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if equalFold(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

// findHeader returns the first header named name (lower-case), or nil.
func findHeader(hs []Header, name string) *Header {
	for i := range hs {
		if equalFold(hs[i].Name, name) {
			return &hs[i]
		}
	}
	return nil
}

// arena hands out copies carved from large blocks, so the many small
// fields of a transaction cost a few allocations instead of one each.
// Blocks are never reused or rewritten: a slice handed out stays valid and
// unchanged for as long as anyone holds it (blocks shared between
// transactions of a flow are freed when the last holder goes).
type arena struct{ b []byte }

const arenaBlock = 4 << 10

func (a *arena) alloc(n int) []byte {
	if cap(a.b)-len(a.b) < n {
		if n > arenaBlock/4 {
			return make([]byte, n)
		}
		a.b = make([]byte, 0, arenaBlock)
	}
	l := len(a.b)
	a.b = a.b[:l+n]
	return a.b[l : l+n : l+n]
}

func (a *arena) copy(b []byte) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	d := a.alloc(len(b))
	copy(d, b)
	return d
}

// join returns x + " " + y (line folding), y skipped when empty.
func (a *arena) join(x, y []byte) []byte {
	if len(y) == 0 {
		return x
	}
	d := a.alloc(len(x) + 1 + len(y))
	copy(d, x)
	d[len(x)] = ' '
	copy(d[len(x)+1:], y)
	return d
}

// isHeaderLine reports whether line looks like "token: ...".
func isHeaderLine(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	for _, c := range bytes.TrimRight(line[:i], " \t") {
		if !isTokenChar(c) {
			return false
		}
	}
	return true
}

// isH2Preface reports whether a request line is the HTTP/2 connection
// preface "PRI * HTTP/2.0" (RFC 9113 §3.4).
func isH2Preface(method, uri, proto []byte) bool {
	return string(method) == "PRI" && string(uri) == "*" && string(proto) == "HTTP/2.0"
}
