package http

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"

	"github.com/polder-nsm/polder/sensor/flow"
)

// decodeBody replaces a gzip or deflate body kept for inspection by its
// decoded form, at most the body limit long (compression bombs stop there).
// A truncated stream keeps what decoded; a stream that does not decode at
// all keeps the raw bytes and flags EventDecodeFailed. "deflate" is tried as
// zlib (RFC 9110 §8.4.1.2) and then as raw DEFLATE, which some servers
// send. It reports whether decoded output was left beyond the limit.
func (p *Parser) decodeBody(tx *Transaction, dir flow.Direction, enc encoding) bool {
	body := &tx.ResponseBody
	if dir == flow.ToServer {
		body = &tx.RequestBody
	}
	raw := *body
	if len(raw) == 0 {
		return false
	}
	limit := p.limit(dir)
	var out []byte
	var ok, more bool
	switch enc {
	case encGzip:
		if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
			zr.Multistream(true)
			out, ok, more = readLimited(zr, limit)
		}
	case encDeflate:
		if zr, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
			out, ok, more = readLimited(zr, limit)
		}
		if !ok {
			out, ok, more = readLimited(flate.NewReader(bytes.NewReader(raw)), limit)
		}
	}
	if !ok {
		tx.Events |= EventDecodeFailed
		p.stats.DecodeErrors++
		return false
	}
	if more {
		tx.Events |= EventBodyTruncated
	}
	*body = out
	return more
}

// readLimited reads up to limit bytes. ok is false when nothing decoded
// and the stream failed; a stream cut short after some output is ok. more
// reports output left beyond the limit.
func readLimited(r io.Reader, limit int) (out []byte, ok, more bool) {
	buf := make([]byte, 0, min(limit, 4096))
	for idle := 0; len(buf) < limit && idle < 100; {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		if n == 0 {
			idle++
		}
		if err == io.EOF {
			return buf, true, false
		}
		if err != nil {
			return buf, len(buf) > 0, false
		}
	}
	var one [1]byte
	n, _ := r.Read(one[:])
	return buf, true, n > 0
}
