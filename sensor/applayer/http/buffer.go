package http

import (
	"strconv"

	"github.com/polder-nsm/polder/sensor/flow"
)

// Buffer returns the named sticky buffer of the transaction, as Suricata's
// rule keywords of the same name see it, or nil when the transaction has
// no such data (or the name is unknown). Buffers that exist in both
// directions (http.header, http.header.raw, http.content_type, http.start,
// http.protocol) are the request's here; use BufferDir for the response's.
//
// Fields are returned as stored (no copy); composed buffers (http.header,
// http.start, http.uri when it needs decoding, http.stat_code) are built
// on each call, so the rule engine should fetch them once per transaction.
// The caller must not modify the result.
//
//	http.uri            normalised request target, as libhtp normalises it:
//	                    path of an absolute URI only, %XX decoded in the
//	                    path, "." and ".." segments removed; query kept raw
//	http.uri.raw        request target exactly as sent (EVE "url")
//	http.method         request method
//	http.protocol       "HTTP/1.1" etc. from the request line
//	http.request_line   whole request line without CRLF
//	http.host           host name: URI authority or Host header, no port,
//	                    lower-cased (EVE "hostname")
//	http.host.raw       Host header value as sent (with port); the
//	                    authority of an absolute URI when there is one
//	http.user_agent     User-Agent value
//	http.referer        Referer value
//	http.cookie         Cookie value (request); see BufferDir for Set-Cookie
//	http.content_type   Content-Type value
//	http.header         headers normalised: "Name: value\r\n" per header,
//	                    surrounding whitespace trimmed, folding joined
//	http.header.raw     the header section as received: header lines with
//	                    their line endings, the empty line ending the
//	                    section, trailers (RequestHeadersRaw)
//	http.start          start line + "\r\n" + http.header + "\r\n"
//	http.request_body   decoded request body up to RequestBodyLimit
//	                    (http.client_body)
//	http.response_line  whole status line without CRLF
//	http.stat_code      three-digit status code
//	http.stat_msg       reason phrase
//	http.response_body  de-chunked, decompressed response body up to
//	                    ResponseBodyLimit (file.data, http.server_body)
func (tx *Transaction) Buffer(name string) []byte {
	return tx.BufferDir(name, flow.ToServer)
}

// BufferDir is Buffer for the side dir selects where a buffer exists in
// both directions (to_server: request, to_client: response). Buffers of
// only one side ignore dir.
func (tx *Transaction) BufferDir(name string, dir flow.Direction) []byte {
	req := dir == flow.ToServer
	switch name {
	case "http.uri":
		return normalizeURI(tx.URI, tx.Method)
	case "http.uri.raw":
		return tx.URI
	case "http.method":
		return tx.Method
	case "http.protocol":
		if req {
			return tx.Protocol
		}
		return tx.RespProtocol
	case "http.request_line":
		return tx.RequestLine
	case "http.host":
		return tx.Host
	case "http.host.raw":
		if h := findHeader(tx.RequestHeaders, "host"); h != nil {
			return h.Value
		}
		if h, _, ok := uriAuthority(tx.URI, tx.Method); ok {
			return h
		}
		return nil
	case "http.user_agent":
		return tx.UserAgent
	case "http.referer":
		return tx.Referer
	case "http.cookie":
		if req {
			return tx.Cookie
		}
		if h := findHeader(tx.ResponseHeaders, "set-cookie"); h != nil {
			return h.Value
		}
		return nil
	case "http.content_type":
		if req {
			return tx.ContentTypeReq
		}
		return tx.ContentType
	case "http.header.raw":
		if req {
			return nilIfEmpty(tx.RequestHeadersRaw)
		}
		return nilIfEmpty(tx.ResponseHeadersRaw)
	case "http.request_body", "http.client_body":
		return tx.RequestBody
	case "http.response_line":
		return tx.ResponseLine
	case "http.stat_msg":
		return tx.StatusMsg
	case "http.response_body", "file.data", "http.server_body":
		return tx.ResponseBody
	case "http.header", "http.start", "http.stat_code":
		b, _ := tx.AppendBufferDir(nil, name, dir)
		return b
	}
	return nil
}

// AppendBufferDir is BufferDir building the composed buffers (http.header,
// http.start, http.stat_code) in dst's spare capacity instead of new
// memory: it returns the buffer and dst extended, so a caller that keeps
// dst across transactions allocates only while it grows. Other buffers
// are returned as BufferDir returns them, dst unchanged.
func (tx *Transaction) AppendBufferDir(dst []byte, name string, dir flow.Direction) ([]byte, []byte) {
	req := dir == flow.ToServer
	start := len(dst)
	switch name {
	case "http.header":
		dst = appendHeaderBlock(dst, tx.headersFor(req))
	case "http.start":
		line := tx.RequestLine
		if !req {
			line = tx.ResponseLine
		}
		if line == nil {
			return nil, dst
		}
		dst = append(append(dst, line...), "\r\n"...)
		dst = append(appendHeaderBlock(dst, tx.headersFor(req)), "\r\n"...)
	case "http.stat_code":
		if tx.Status == 0 {
			return nil, dst
		}
		dst = strconv.AppendInt(dst, int64(tx.Status), 10)
	default:
		return tx.BufferDir(name, dir), dst
	}
	if len(dst) == start {
		return nil, dst
	}
	return dst[start:len(dst):len(dst)], dst
}

func (tx *Transaction) headersFor(req bool) []Header {
	if req {
		return tx.RequestHeaders
	}
	return tx.ResponseHeaders
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// appendHeaderBlock appends headers as "Name: value\r\n" lines
// (http.header).
func appendHeaderBlock(dst []byte, hs []Header) []byte {
	for _, h := range hs {
		dst = append(append(append(append(dst, h.Name...), ": "...), h.Value...), "\r\n"...)
	}
	return dst
}

// normalizeURI returns the request target as libhtp's normalised URI that
// Suricata's http.uri inspects: for an absolute URI only path and query;
// %XX sequences in the path decoded (invalid ones kept as sent); "." and
// ".." segments removed (RFC 3986 §5.2.4); the query kept raw; a fragment
// dropped. The result aliases uri when nothing changes.
func normalizeURI(uri, method []byte) []byte {
	if len(uri) == 0 || string(method) == "CONNECT" {
		return uri
	}
	u := uri
	if _, _, ok := uriAuthority(u, method); ok {
		i := indexOf(u, "://") + 3
		u = u[i:]
		j := 0
		for j < len(u) && u[j] != '/' && u[j] != '?' && u[j] != '#' {
			j++
		}
		u = u[j:]
		if len(u) == 0 || u[0] != '/' {
			u = append([]byte{'/'}, u...)
		}
	}
	path, query := u, []byte(nil)
	for i, c := range u {
		if c == '?' || c == '#' {
			path, query = u[:i], u[i:]
			break
		}
	}
	if k := indexByte(query, '#'); k >= 0 {
		query = query[:k]
	}
	needs := false
	for i, c := range path {
		if c == '%' || (c == '.' && (i == 0 || path[i-1] == '/')) {
			needs = true
			break
		}
	}
	if !needs && len(query) == len(u)-len(path) && len(u) == len(uri) {
		return uri
	}
	out := make([]byte, 0, len(path)+len(query))
	// Percent-decode the path.
	dec := make([]byte, 0, len(path))
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '%' && i+2 < len(path) && isHex(path[i+1]) && isHex(path[i+2]) {
			dec = append(dec, unhex(path[i+1])<<4|unhex(path[i+2]))
			i += 2
			continue
		}
		dec = append(dec, c)
	}
	out = append(out, removeDotSegments(dec)...)
	return append(out, query...)
}

// removeDotSegments applies RFC 3986 §5.2.4 to a path.
func removeDotSegments(in []byte) []byte {
	out := make([]byte, 0, len(in))
	for len(in) > 0 {
		switch {
		case hasPrefix(in, "../"):
			in = in[3:]
		case hasPrefix(in, "./"):
			in = in[2:]
		case hasPrefix(in, "/./"):
			in = in[2:]
		case string(in) == "/.":
			in = []byte{'/'}
		case hasPrefix(in, "/../"):
			in = in[3:]
			out = popSegment(out)
		case string(in) == "/..":
			in = []byte{'/'}
			out = popSegment(out)
		case string(in) == "." || string(in) == "..":
			in = nil
		default:
			j := 1
			if in[0] != '/' {
				j = 0
			}
			for j < len(in) && in[j] != '/' {
				j++
			}
			out = append(out, in[:j]...)
			in = in[j:]
		}
	}
	return out
}

func popSegment(out []byte) []byte {
	for len(out) > 0 {
		c := out[len(out)-1]
		out = out[:len(out)-1]
		if c == '/' {
			break
		}
	}
	return out
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

func indexOf(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
