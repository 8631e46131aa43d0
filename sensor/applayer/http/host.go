package http

import "bytes"

// uriAuthority extracts host and port from an absolute-form target
// ("http://user@Host:8080/x") or, for CONNECT, an authority-form one
// ("host:443"), as libhtp does before it looks at the Host header.
func uriAuthority(uri, method []byte) (host []byte, port int, ok bool) {
	if string(method) == "CONNECT" {
		if len(uri) == 0 || uri[0] == '/' {
			return nil, 0, false
		}
		h, p := splitHostPort(uri)
		return h, p, len(h) > 0
	}
	i := bytes.Index(uri, []byte("://"))
	if i <= 0 {
		return nil, 0, false
	}
	for _, c := range uri[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return nil, 0, false
		}
	}
	auth := uri[i+3:]
	if j := bytes.IndexAny(auth, "/?#"); j >= 0 {
		auth = auth[:j]
	}
	if j := bytes.LastIndexByte(auth, '@'); j >= 0 {
		auth = auth[j+1:]
	}
	h, p := splitHostPort(auth)
	return h, p, len(h) > 0
}

// splitHostPort splits "host[:port]" or "[v6]:port". A port that is not a
// number in 1..65535 is reported as 0 and left off the host (libhtp flags
// it and keeps the host).
func splitHostPort(v []byte) (host []byte, port int) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '[' {
		if j := bytes.IndexByte(v, ']'); j > 0 {
			host, v = v[:j+1], v[j+1:]
			if len(v) > 1 && v[0] == ':' {
				port = parsePort(v[1:])
			}
			return host, port
		}
		return v, 0
	}
	i := bytes.LastIndexByte(v, ':')
	if i < 0 {
		return v, 0
	}
	if bytes.IndexByte(v[:i], ':') >= 0 {
		return v, 0 // bare IPv6 address
	}
	return v[:i], parsePort(v[i+1:])
}

func parsePort(b []byte) int {
	if len(b) == 0 || len(b) > 5 {
		return 0
	}
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return 0
	}
	return n
}

// trimDots removes trailing dots ("example.com." names the same host).
func trimDots(h []byte) []byte {
	for len(h) > 0 && h[len(h)-1] == '.' {
		h = h[:len(h)-1]
	}
	return h
}

// normHost copies a host name lower-cased and without trailing dots, as
// libhtp normalises request_hostname (EVE "hostname", http.host).
func (p *Parser) normHost(h []byte) []byte {
	h = trimDots(h)
	d := p.arena.copy(h)
	for i, c := range d {
		d[i] = lower(c)
	}
	return d
}
