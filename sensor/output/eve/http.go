package eve

import "github.com/polder-nsm/polder/sensor/applayer/http"

// HTTPOptions selects the optional parts of the http object, as Suricata's
// eve-log http options do. The zero value is Suricata's default.
type HTTPOptions struct {
	// DumpAllHeaders writes request_headers and response_headers
	// (Suricata "dump-all-headers: both"); off by default.
	DumpAllHeaders bool
	// Bodies writes http_request_body / http_response_body (base64) and
	// their *_printable forms (Suricata "http-body" and
	// "http-body-printable"); off by default.
	Bodies bool
}

// AppendHTTP appends a complete "http" event line (with '\n') for tx to buf,
// with Suricata's default fields. It allocates only when buf must grow.
func AppendHTTP(buf []byte, h *Header, tx *http.Transaction) []byte {
	return AppendHTTPWith(buf, h, tx, HTTPOptions{})
}

// AppendHTTPWith is AppendHTTP with optional fields. Field names and order
// follow Suricata's EveHttpLogJSONBasic: hostname, http_port, url,
// http_user_agent, xff, http_content_type (the media type only, lower
// case, as libhtp gives it), http_refer, http_method, protocol, status,
// redirect, length. The Cookie header has no basic EVE
// field and is logged only inside request_headers.
func AppendHTTPWith(buf []byte, h *Header, tx *http.Transaction, o HTTPOptions) []byte {
	b := Builder{B: buf}
	b.header(h, "http", true)
	b.Key("http")
	b.BeginObject()
	b.httpFields(tx)
	if o.Bodies {
		if len(tx.RequestBody) > 0 {
			b.Key("http_request_body")
			b.Base64(tx.RequestBody)
			b.Key("http_request_body_printable")
			b.printable(tx.RequestBody)
		}
		if len(tx.ResponseBody) > 0 {
			b.Key("http_response_body")
			b.Base64(tx.ResponseBody)
			b.Key("http_response_body_printable")
			b.printable(tx.ResponseBody)
		}
	}
	if o.DumpAllHeaders {
		b.headers("request_headers", tx.RequestHeaders)
		b.headers("response_headers", tx.ResponseHeaders)
	}
	b.EndObject()
	return b.end()
}

// httpFields writes the members of the http object that http events and
// alerts share (Suricata's EveHttpLogJSONBasic and EveHttpLogJSONExtended),
// inside an object the caller opened.
func (b *Builder) httpFields(tx *http.Transaction) {
	b.KeyBytesNonEmpty("hostname", tx.Host)
	if tx.Port != 0 {
		b.KeyInt("http_port", int64(tx.Port))
	}
	b.KeyBytesNonEmpty("url", tx.URI)
	b.KeyBytesNonEmpty("http_user_agent", tx.UserAgent)
	b.KeyBytesNonEmpty("xff", tx.XFF)
	if ct := mediaType(tx.ContentType); len(ct) > 0 {
		b.Key("http_content_type")
		start := len(b.B)
		b.Bytes(ct)
		// ASCII lower-casing after escaping is safe: escapes are already
		// lower-case and bytes ≥ 0x80 are untouched.
		for i := start; i < len(b.B); i++ {
			if c := b.B[i]; 'A' <= c && c <= 'Z' {
				b.B[i] = c + 'a' - 'A'
			}
		}
	}
	b.KeyBytesNonEmpty("http_refer", tx.Referer)
	b.KeyBytesNonEmpty("http_method", tx.Method)
	b.KeyBytesNonEmpty("protocol", tx.Protocol)
	if tx.Status > 0 {
		b.KeyInt("status", int64(tx.Status))
	}
	b.KeyBytesNonEmpty("redirect", tx.Location)
	b.KeyInt("length", max(tx.ResponseBodyLen, 0))
}

func (b *Builder) headers(k string, hs []http.Header) {
	if len(hs) == 0 { // the schema wants minItems 1
		return
	}
	b.Key(k)
	b.BeginArray()
	for i := range hs {
		b.BeginObject()
		b.KeyBytes("name", hs[i].Name)
		b.KeyBytes("value", hs[i].Value)
		b.EndObject()
	}
	b.EndArray()
}

// printable writes v as a string with every byte outside printable ASCII
// (and CR/LF/TAB) replaced by '.', as Suricata's PrintStringsToBuffer does
// for *_printable fields.
func (b *Builder) printable(v []byte) {
	b.sep()
	b.B = appendPrintable(b.B, v, true)
}

// appendPrintable appends v as a JSON string of one character per byte:
// printable ASCII as is (quote and backslash escaped), CR and LF escaped,
// TAB escaped when tab is set, every other byte '.'.
func appendPrintable(dst, v []byte, tab bool) []byte {
	dst = append(dst, '"')
	for _, c := range v {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t' && tab:
			dst = append(dst, '\\', 't')
		case c >= 0x20 && c < 0x7f:
			dst = append(dst, c)
		default:
			dst = append(dst, '.')
		}
	}
	return append(dst, '"')
}

// mediaType returns the Content-Type value up to the first ';', ',' or
// space, as libhtp's htp_parse_ct_header keeps it for Suricata's
// http_content_type (which it also lower-cases).
func mediaType(v []byte) []byte {
	for i, c := range v {
		if c == ';' || c == ',' || c == ' ' {
			return v[:i]
		}
	}
	return v
}
