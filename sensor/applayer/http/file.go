package http

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"hash"
	"strconv"

	"github.com/polder-nsm/polder/sensor/flow"
)

// FileHash selects the checksums computed over tracked files
// (Options.FileHashes), as Suricata's force-hash.
type FileHash uint8

const (
	HashMD5 FileHash = 1 << iota
	HashSHA1
	HashSHA256
)

// File is a message body tracked as a file, as Suricata's HTTP file
// tracking opens one (and EVE fileinfo logs it): the response body of any
// response that has one, and the request body of a PUT or of a POST that
// is not multipart/form-data. The file opens with the body's first byte.
// Every field is owned by the File.
type File struct {
	// Name is the filename parameter of a Content-Disposition header
	// (response only), else the path of the request URI, normalised as
	// http.uri, without the query ("/libhtp::request_uri_not_seen" for a
	// response whose request was not seen, as libhtp names it). Suricata
	// truncates names longer than MaxFileName bytes; so does the parser.
	Name []byte
	// Size counts the body's bytes as the file has them: de-chunked and,
	// for gzip or deflate content, decoded; gap bytes included. As in
	// Suricata, a file holds at most the body limit of its direction
	// (request-body-limit, response-body-limit): a longer body truncates
	// it there.
	Size int64
	// Gaps says a stream gap hit the body: the file misses bytes.
	Gaps bool
	// Closed says the file ended with its message and holds all of it.
	// A file cut short by the body limit, a gap or the end of the flow is
	// truncated.
	Closed bool
	// Start and End are the byte range of a partial response
	// ("Content-Range: bytes Start-End/..."), when HasRange.
	Start, End int64
	HasRange   bool
	// MD5, SHA1 and SHA256 are the checksums selected by
	// Options.FileHashes, set when the file ends. As Suricata, a truncated
	// file gets its SHA256 only, a file with gaps none.
	MD5, SHA1, SHA256 []byte
}

// uriNotSeen is the URI libhtp gives a response whose request it never
// saw, which names that response's file.
const uriNotSeen = "/libhtp::request_uri_not_seen"

// MaxFileName is the longest file name kept, in bytes (Suricata's
// SC_FILENAME_MAX).
const MaxFileName = 1024

// fileState is the side's tracking of its current file while the body
// arrives.
type fileState struct {
	f      *File
	hashes [3]hash.Hash // md5, sha1, sha256; nil when not selected
	// decoded: the body is gzip/deflate encoded, so size and checksums are
	// taken from the decoded body when the message ends.
	decoded bool
	// cut: body bytes went past the limit; the file is truncated.
	cut bool
}

// openFile starts the file of the message being parsed on s, when files
// are tracked and this body is one. It runs at the first body byte (or
// gap) of the message.
func (p *Parser) openFile(s *side, dir flow.Direction) {
	if !p.opts.Files || s.file.f != nil || s.tx == nil || s.tx.discard {
		return
	}
	tx := s.tx
	var name []byte
	if dir == flow.ToServer {
		m := string(tx.Method)
		if m != "PUT" && (m != "POST" || isMultipart(tx.ContentTypeReq)) {
			return
		}
	} else if h := findHeader(tx.ResponseHeaders, "content-disposition"); h != nil {
		name = dispositionFilename(h.Value)
	}
	if name == nil {
		name = uriPath(tx.URI, tx.Method)
		if !tx.reqSeen {
			name = []byte(uriNotSeen)
		}
	}
	if len(name) > MaxFileName {
		name = name[:MaxFileName]
	}
	f := &File{Name: p.arena.copy(name)}
	if dir == flow.ToClient {
		if h := findHeader(tx.ResponseHeaders, "content-range"); h != nil {
			f.Start, f.End, f.HasRange = parseContentRange(h.Value)
		}
		tx.ResponseFile = f
	} else {
		tx.RequestFile = f
	}
	s.file = fileState{f: f, decoded: s.enc != encIdentity}
	if hs := p.opts.FileHashes; hs != 0 {
		for i, h := range [...]struct {
			bit FileHash
			new func() hash.Hash
		}{{HashMD5, md5.New}, {HashSHA1, sha1.New}, {HashSHA256, sha256.New}} {
			if hs&h.bit != 0 {
				s.file.hashes[i] = h.new()
			}
		}
	}
}

// fileData adds body bytes (de-chunked, still encoded) to the side's
// file, up to limit bytes in all.
func (s *side) fileData(b []byte, limit int) {
	fs := &s.file
	if fs.f == nil || fs.decoded {
		return
	}
	if room := int64(limit) - fs.f.Size; int64(len(b)) > room {
		b = b[:max(room, 0)]
		fs.cut = true
	}
	fs.f.Size += int64(len(b))
	if fs.f.Gaps {
		return // checksums of a file with holes mean nothing
	}
	for _, h := range fs.hashes {
		if h != nil {
			h.Write(b)
		}
	}
}

// fileGap records n lost body bytes, up to limit bytes in all.
func (s *side) fileGap(n int64, limit int) {
	if fs := &s.file; fs.f != nil {
		fs.f.Gaps = true
		if room := int64(limit) - fs.f.Size; n > room {
			n = max(room, 0)
			fs.cut = true
		}
		fs.f.Size += n
	}
}

// closeFile ends the side's file with its message and reports whether
// the file is void: an encoded body that decoded to nothing, which never
// gives Suricata a byte to open a file with. For an encoded body, decoded
// is the body as kept after decoding (bounded by the limit) and more says
// decoding stopped at the limit with output left; they give the file its
// size and checksums. complete says the message ended without a gap in
// its framing (the end of the flow ends it too, as libhtp finalises).
func (s *side) closeFile(decoded []byte, more, complete bool) (void bool) {
	fs := &s.file
	f := fs.f
	if f == nil {
		return false
	}
	if fs.decoded && !f.Gaps {
		if len(decoded) == 0 {
			*fs = fileState{}
			return true
		}
		f.Size += int64(len(decoded))
		fs.cut = fs.cut || more
		for _, h := range fs.hashes {
			if h != nil {
				h.Write(decoded)
			}
		}
	}
	f.Closed = complete && !f.Gaps && !fs.cut
	if !f.Gaps {
		for i, h := range fs.hashes {
			if h == nil || (i != 2 && !f.Closed) {
				continue
			}
			sum := h.Sum(nil)
			switch i {
			case 0:
				f.MD5 = sum
			case 1:
				f.SHA1 = sum
			default:
				f.SHA256 = sum
			}
		}
	}
	*fs = fileState{}
	return false
}

// isMultipart reports whether a request Content-Type is multipart/form-data,
// whose parts Suricata tracks as files of their own (not done here).
func isMultipart(ct []byte) bool {
	return len(ct) >= 19 && bytes.EqualFold(ct[:19], []byte("multipart/form-data"))
}

// dispositionFilename returns the filename= parameter of a
// Content-Disposition value as Suricata's HTTPParseContentDispositionHeader
// finds it: the value is split at ';' outside double quotes, a token must
// start with "filename=" (any case), and one pair of surrounding quotes is
// removed. It returns nil when there is none.
func dispositionFilename(v []byte) []byte {
	v = bytes.TrimLeft(v, " \t\r\n\v\f")
	const key = "filename="
	quotes := 0
	start := 0
	for x := 1; x < len(v); x++ {
		if v[x-1] != '\\' && v[x] == '"' {
			quotes++
		}
		last := x+1 == len(v)
		if !((v[x-1] != '\\' && v[x] == ';') || last) || quotes%2 != 0 {
			continue
		}
		tok := v[start:x]
		if last {
			tok = v[start : x+1]
		}
		start = x + 1
		for start < len(v) && isSpace(v[start]) {
			x++
			start++
		}
		if len(tok) > len(key) && bytes.EqualFold(tok[:len(key)], []byte(key)) {
			val := tok[len(key):]
			if val[0] == '"' {
				val = val[1:]
			}
			if n := len(val); n > 0 && val[n-1] == '"' {
				val = val[:n-1]
			}
			return val
		}
	}
	return nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// uriPath is the normalised path of the request URI (http.uri without the
// query), libhtp's parsed_uri->path that names files.
func uriPath(uri, method []byte) []byte {
	u := normalizeURI(uri, method)
	if i := bytes.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return u
}

// parseContentRange reads "bytes START-END/SIZE" (SIZE may be "*").
func parseContentRange(v []byte) (start, end int64, ok bool) {
	v = bytes.TrimSpace(v)
	unit, rest, found := bytes.Cut(v, []byte(" "))
	if !found || !bytes.EqualFold(unit, []byte("bytes")) {
		return 0, 0, false
	}
	rng, _, _ := bytes.Cut(bytes.TrimSpace(rest), []byte("/"))
	a, b, found := bytes.Cut(rng, []byte("-"))
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseInt(string(bytes.TrimSpace(a)), 10, 64)
	e, err2 := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err1 != nil || err2 != nil || s < 0 || e < s {
		return 0, 0, false
	}
	return s, e, true
}
