package http

import (
	"bytes"
	"time"

	"github.com/polder-nsm/polder/sensor/applayer"
	"github.com/polder-nsm/polder/sensor/flow"
)

// state is where a side's parser is inside a message.
type state uint8

const (
	stStart        state = iota // expecting a request/status line
	stHeaders                   // header lines until the empty line
	stBodyLen                   // Content-Length body: remaining bytes
	stChunkSize                 // chunk-size [; ext] line
	stChunkData                 // chunk data: remaining bytes
	stChunkEnd                  // CRLF after chunk data
	stTrailers                  // trailer fields until the empty line
	stBodyClose                 // body delimited by connection close
	stTunnel                    // CONNECT/Upgrade: opaque bytes, ignored
	stMaybeHeaders              // after a request line without protocol: headers or HTTP/0.9?
)

// encoding is a Content-Encoding the parser decodes for inspection.
type encoding uint8

const (
	encIdentity encoding = iota
	encGzip
	encDeflate
)

// side is the parse state of one direction.
type side struct {
	state state
	// synced is false after bytes were skipped or a gap: the side then
	// accepts only plausible start lines and also tries the first bytes of
	// each Parse call as a start line (where a capture tool resyncs too).
	synced bool
	// resync enables the segment-start check: set until the side's first
	// start line parses and again whenever it loses its place.
	resync bool
	// sawStart: a start line was parsed on this side. started: the side
	// received any byte. clean: its first line was a valid start line.
	sawStart, started, clean bool

	line     []byte // partial line carried across Parse calls; lazily allocated
	lineDone bool   // line holds a completed line to drop on the next read
	overflow bool   // current line passed MaxHeaderBytes: rest discarded
	crlf     bool   // the line readLine returned ended in CRLF (else LF)

	tx        *Transaction
	hdrBytes  int // header-section bytes of the current message
	nHeaders  int
	lastHdr   int // index of the last kept header, -1 none (for folding)
	remaining int64
	chunked   bool
	clen      int64 // Content-Length, -1 none
	enc       encoding
	hole      bool // body lost bytes to a gap: stop keeping it
	file      fileState
}

// Parser parses both directions of one HTTP/1.x flow into Transactions.
// It is not safe for concurrent use: the worker that owns the flow calls
// it. Create it when the flow is detected as HTTP: it costs one small
// allocation; the 4 KiB arena block holding transaction fields, the line
// buffer (only when a line spans two Parse calls) and bodies come later,
// on demand.
type Parser struct {
	opts    Options
	stats   *Stats
	own     Stats // used when Options.Stats is nil
	nextID  uint64
	pending []*Transaction // transactions not yet emitted, in ID order
	req     side
	resp    side
	arena   arena
	// owed counts requests emitted early (MaxPendingTx) whose responses
	// have not arrived: the next that many responses are theirs.
	owed int
}

// NewParser returns a parser for one flow. opts may be nil for defaults;
// it is copied.
func NewParser(opts *Options) *Parser {
	p := &Parser{opts: opts.withDefaults()}
	p.stats = p.opts.Stats
	if p.stats == nil {
		p.stats = &p.own
	}
	p.req.reset(true)
	p.resp.reset(true)
	// The first bytes of a side may be the middle of a message (flow
	// picked up mid-stream): allow segment-start resync until a start
	// line parses.
	p.req.resync, p.resp.resync = true, true
	return p
}

func (s *side) reset(synced bool) {
	line := s.line[:0]
	started, sawStart, clean, resync := s.started, s.sawStart, s.clean, s.resync
	*s = side{state: stStart, synced: synced, line: line, lastHdr: -1, clen: -1}
	s.started, s.sawStart, s.clean, s.resync = started, sawStart, clean, resync || !synced
}

// Stats returns the counters this parser updates (Options.Stats, or a
// private set when none was given).
func (p *Parser) Stats() *Stats { return p.stats }

// Parse consumes the next in-order bytes of one direction. data is read
// only during the call: everything a Transaction keeps is copied. emit is
// called, synchronously, for every transaction completed by these bytes;
// the Transaction then belongs to the callee and the parser never touches
// it again.
func (p *Parser) Parse(dir flow.Direction, data []byte, now time.Time, emit func(*Transaction)) {
	s := p.sideOf(dir)
	if len(data) == 0 {
		return
	}
	if !s.started {
		s.started = true
		if dir == flow.ToServer {
			s.clean = true // cleared if the first line is not a request
		}
	}
	// Resync at segment starts: when lost, drop a partial line if the new
	// bytes begin like a start line. Wireshark dissects each segment from
	// its start the same way, so this is where it finds requests after
	// mid-stream pickup.
	if s.resync && s.state == stStart && len(s.line) > 0 && !s.lineDone && looksLikeStart(dir, data) {
		p.stats.SkippedBytes += uint64(len(s.line))
		s.line = s.line[:0]
		s.overflow = false
	}
	for len(data) > 0 {
		switch s.state {
		case stTunnel:
			return
		case stBodyLen, stChunkData:
			n := len(data)
			if int64(n) > s.remaining {
				n = int(s.remaining)
			}
			p.body(s, dir, data[:n])
			s.remaining -= int64(n)
			data = data[n:]
			if s.remaining == 0 {
				if s.state == stChunkData {
					s.state = stChunkEnd
				} else {
					p.finish(s, dir, emit)
				}
			}
		case stBodyClose:
			p.body(s, dir, data)
			return
		case stStart:
			if dir == flow.ToClient && p.http09Response(s, data, emit) {
				continue
			}
			fallthrough
		default:
			st := s.state
			line, n, ok := p.readLine(s, data)
			data = data[n:]
			if st == stChunkSize || st == stChunkEnd {
				// Chunk framing counts in the message length, as libhtp's
				// response_message_len (EVE "length") counts it.
				p.frame(s, dir, n)
			}
			if !ok {
				return
			}
			p.onLine(s, dir, line, now, emit)
		}
	}
}

func (p *Parser) sideOf(dir flow.Direction) *side {
	if dir == flow.ToServer {
		return &p.req
	}
	return &p.resp
}

// readLine returns the next complete line without its LF/CRLF and how many
// bytes of data it used. When data ends without LF the bytes are kept
// (bounded by MaxHeaderBytes) and ok is false. The returned line is valid
// until the next readLine on s.
func (p *Parser) readLine(s *side, data []byte) (line []byte, n int, ok bool) {
	if s.lineDone {
		s.line = s.line[:0]
		if cap(s.line) > 4096 {
			s.line = nil // a rare long line should not pin its buffer for the flow's life
		}
		s.lineDone = false
		s.overflow = false
	}
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		p.keep(s, data)
		return nil, len(data), false
	}
	if len(s.line) == 0 && !s.overflow {
		line = data[:i]
	} else {
		p.keep(s, data[:i])
		line = s.line
		s.lineDone = true
	}
	s.crlf = false
	if l := len(line); l > 0 && line[l-1] == '\r' {
		line = line[:l-1]
		s.crlf = true
	} else if s.tx != nil {
		s.tx.Events |= EventLFOnly
	}
	if len(line) > p.opts.MaxHeaderBytes {
		line = line[:p.opts.MaxHeaderBytes]
		s.overflow = true
	}
	if s.overflow && s.tx != nil {
		s.tx.Events |= EventLineTooLong
	}
	return line, i + 1, true
}

// keep appends a partial line to the side's buffer, up to MaxHeaderBytes.
func (p *Parser) keep(s *side, b []byte) {
	room := p.opts.MaxHeaderBytes - len(s.line)
	if len(b) > room {
		b = b[:room]
		s.overflow = true
	}
	if len(b) == 0 {
		return
	}
	if s.line == nil {
		c := 256
		for c < len(b) {
			c *= 2
		}
		s.line = make([]byte, 0, min(c, p.opts.MaxHeaderBytes))
	}
	s.line = append(s.line, b...)
}

func (p *Parser) onLine(s *side, dir flow.Direction, line []byte, now time.Time, emit func(*Transaction)) {
	switch s.state {
	case stStart:
		p.startLine(s, dir, line, now, emit)
	case stHeaders:
		p.rawHeader(s, dir, line)
		if len(line) == 0 {
			p.endHeaders(s, dir, emit)
			return
		}
		p.header(s, dir, line)
	case stChunkSize:
		size, res := parseChunkSize(line)
		switch {
		case res == chunkEmpty:
			return // libhtp reads the next line as the chunk size
		case res == chunkInvalid && dir == flow.ToClient:
			// libhtp: the response is not chunked after all; its bytes,
			// this line included, are the body until the connection
			// closes.
			s.tx.Events |= EventChunkInvalid
			s.chunked = false
			s.state = stBodyClose
			p.body(s, dir, line)
			if s.crlf {
				p.body(s, dir, crlf)
			} else {
				p.body(s, dir, crlf[1:])
			}
			return
		case res == chunkInvalid:
			s.tx.Events |= EventChunkInvalid
			p.finish(s, dir, emit)
			s.synced, s.resync = false, true
			return
		}
		if size == 0 {
			s.state = stTrailers
			return
		}
		s.remaining = size
		s.state = stChunkData
	case stChunkEnd:
		if len(bytes.TrimSpace(line)) != 0 {
			s.tx.Events |= EventChunkInvalid
			// Lenient like libhtp: take it as the next chunk-size line.
			s.state = stChunkSize
			p.onLine(s, dir, line, now, emit)
			return
		}
		s.state = stChunkSize
	case stTrailers:
		p.rawHeader(s, dir, line)
		if len(line) == 0 {
			p.finish(s, dir, emit)
			return
		}
		p.header(s, dir, line)
	case stMaybeHeaders:
		if isHeaderLine(line) {
			s.state = stHeaders
			p.rawHeader(s, dir, line)
			p.header(s, dir, line)
			return
		}
		p.finish(s, dir, emit)
		p.startLine(s, dir, line, now, emit)
	}
}

// startLine handles a line where a request or status line is expected.
func (p *Parser) startLine(s *side, dir flow.Direction, line []byte, now time.Time, emit func(*Transaction)) {
	if len(bytes.TrimSpace(line)) == 0 {
		// Empty lines between messages are ignored (RFC 9112 §2.2).
		return
	}
	if dir == flow.ToServer {
		method, uri, proto, ok := parseRequestLine(line)
		if !ok {
			p.skip(s, len(line)+1)
			s.clean = s.clean && s.sawStart
			return
		}
		if isH2Preface(method, uri, proto) {
			// HTTP/2 with prior knowledge, or after an h2c upgrade whose
			// 101 has not been parsed yet: not HTTP/1 from here on.
			p.stats.Tunnels++
			s.state = stTunnel
			return
		}
		s.sawStart = true
		p.stats.Requests++
		tx := p.newTx(now)
		tx.reqSeen = true
		s.tx = tx
		s.synced, s.resync = true, false
		defer p.overflowPending(emit)
		tx.RequestLine = p.arena.copy(line)
		rl := tx.RequestLine
		tx.Method = sub(rl, line, method)
		tx.URI = sub(rl, line, uri)
		tx.Protocol = sub(rl, line, proto)
		if host, port, ok := uriAuthority(tx.URI, tx.Method); ok {
			tx.Host, tx.Port = p.normHost(host), port
		}
		if len(proto) == 0 {
			// HTTP/0.9 has no headers and no body, but clients that just
			// omit the protocol ("GET HTTP/1.1", "GET /x") still send
			// headers. Like libhtp, look at what follows before deciding.
			s.state = stMaybeHeaders
			return
		}
		s.state = stHeaders
		return
	}
	proto, code, msg, ok := parseStatusLine(line)
	if !ok {
		p.skip(s, len(line)+1)
		return
	}
	s.sawStart = true
	p.stats.Responses++
	tx := p.txForResponse(now)
	s.tx = tx
	s.synced, s.resync = true, false
	tx.respStarted = true
	tx.HasResponse = true
	tx.ResponseLine = p.arena.copy(line)
	tx.RespProtocol = sub(tx.ResponseLine, line, proto)
	tx.StatusMsg = sub(tx.ResponseLine, line, msg)
	tx.Status = code
	s.state = stHeaders
}

// sub returns the part of dst at the offset where part sits in src (part
// must be a subslice of src). It maps fields parsed from a transient line
// onto the transaction's copy of it.
func sub(dst, src, part []byte) []byte {
	if len(part) == 0 {
		return nil
	}
	off := cap(src) - cap(part)
	return dst[off : off+len(part) : off+len(part)]
}

// skip counts bytes dropped while resynchronising.
func (p *Parser) skip(s *side, n int) {
	p.stats.SkippedBytes += uint64(n)
	s.synced, s.resync = false, true
}

// http09Response handles a response side at a message start when the
// transaction it answers is an HTTP/0.9 request, or when the server
// answers without a status line (as libhtp does, the bytes are then the
// body until close). It only does so on a side known to be in step with
// its request side; a response side picked up mid-stream resyncs instead.
func (p *Parser) http09Response(s *side, data []byte, emit func(*Transaction)) bool {
	if !s.synced || len(s.line) > 0 || !p.req.clean {
		return false
	}
	var tx *Transaction
	for _, t := range p.pending {
		if !t.respStarted {
			tx = t
			break
		}
	}
	if tx == nil || !tx.reqSeen {
		return false
	}
	pending09 := p.req.tx == tx && p.req.state == stMaybeHeaders
	if !tx.RequestDone && !pending09 {
		return false
	}
	// Leading CR/LF before a status line is allowed; decide on the rest.
	d := data
	for len(d) > 0 && (d[0] == '\r' || d[0] == '\n') {
		d = d[1:]
	}
	if len(d) == 0 {
		return false
	}
	n := min(len(d), 5)
	if bytes.EqualFold(d[:n], []byte("HTTP/")[:n]) {
		return false
	}
	if len(tx.Protocol) != 0 && s.sawStart {
		// A real HTTP/1.x server answered before: these are not a 0.9 body.
		return false
	}
	if pending09 {
		p.finish(&p.req, flow.ToServer, emit) // the server answered: it was HTTP/0.9
	}
	s.sawStart = true
	tx.respStarted = true
	tx.HasResponse = true
	tx.Events |= EventHTTP09Response
	s.tx = tx
	s.state = stBodyClose
	p.prepareBody(s, flow.ToClient, -1)
	return true
}

// newTx starts a transaction and queues it, enforcing MaxPendingTx.
func (p *Parser) newTx(now time.Time) *Transaction {
	tx := &Transaction{ID: p.nextID, Timestamp: now}
	p.nextID++
	p.pending = append(p.pending, tx)
	return tx
}

// txForResponse returns the oldest transaction still waiting for a status
// line, or a new response-only transaction when none is (response stream
// seen alone, or more responses than requests).
func (p *Parser) txForResponse(now time.Time) *Transaction {
	if p.owed > 0 {
		// This answers a request already emitted by overflowPending (they
		// are older than any still pending): parse it to stay in step,
		// into a transaction nobody sees.
		p.owed--
		p.stats.ResponsesUnmatched++
		return &Transaction{discard: true}
	}
	for _, t := range p.pending {
		if !t.respStarted {
			return t
		}
	}
	p.stats.ResponseOnly++
	return p.newTx(now)
}

// overflowPending emits the oldest transactions while the queue is longer
// than MaxPendingTx. A side still writing into one gets a throwaway
// transaction so the emitted one is never touched again.
func (p *Parser) overflowPending(emit func(*Transaction)) {
	for len(p.pending) > p.opts.MaxPendingTx {
		tx := p.pending[0]
		tx.Events |= EventPendingOverflow
		p.stats.PendingDropped++
		if !tx.respStarted {
			p.owed++
		}
		p.detach(tx)
		p.pop(emit)
	}
}

func (p *Parser) detach(tx *Transaction) {
	for _, s := range [...]*side{&p.req, &p.resp} {
		if s.tx == tx {
			s.tx = &Transaction{discard: true}
			s.hole = true
		}
	}
}

// pop emits pending[0].
func (p *Parser) pop(emit func(*Transaction)) {
	tx := p.pending[0]
	copy(p.pending, p.pending[1:])
	p.pending[len(p.pending)-1] = nil
	p.pending = p.pending[:len(p.pending)-1]
	p.stats.Transactions++
	if !tx.HasResponse {
		p.stats.RequestOnly++
	}
	if emit != nil {
		emit(tx)
	}
}

// flush emits completed transactions from the head of the queue, keeping ID
// order. A transaction is complete when its response is, unless its request
// side is still sending it (a server may answer before the upload ends).
func (p *Parser) flush(emit func(*Transaction)) {
	for len(p.pending) > 0 {
		tx := p.pending[0]
		if !tx.ResponseDone || (p.req.tx == tx && !tx.RequestDone) {
			return
		}
		p.pop(emit)
	}
}

// header parses one header (or trailer) line into the current transaction.
func (p *Parser) header(s *side, dir flow.Direction, line []byte) {
	tx := s.tx
	s.hdrBytes += len(line) + 2
	if line[0] == ' ' || line[0] == '\t' {
		tx.Events |= EventFoldedHeader
		if s.lastHdr >= 0 && s.hdrBytes <= p.opts.MaxHeaderBytes {
			hs := p.headers(tx, dir)
			h := &hs[s.lastHdr]
			h.Value = p.arena.join(h.Value, bytes.TrimSpace(line))
			p.special(s, dir, h.Name, h.Value, true)
		}
		return
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		tx.Events |= EventHeaderInvalid
		s.lastHdr = -1
		return
	}
	name := bytes.TrimRight(line[:colon], " \t")
	value := bytes.TrimSpace(line[colon+1:])
	if len(name) == 0 {
		tx.Events |= EventHeaderInvalid
		s.lastHdr = -1
		return
	}
	keep := true
	if s.nHeaders >= p.opts.MaxHeaders {
		tx.Events |= EventTooManyHeaders
		keep = false
	} else if s.hdrBytes > p.opts.MaxHeaderBytes {
		tx.Events |= EventHeaderSectionTooLarge
		keep = false
	}
	s.lastHdr = -1
	if keep {
		h := Header{Name: p.arena.copy(name), Value: p.arena.copy(value)}
		if dir == flow.ToServer {
			if tx.RequestHeaders == nil {
				tx.RequestHeaders = make([]Header, 0, 16)
			}
			tx.RequestHeaders = append(tx.RequestHeaders, h)
			s.lastHdr = len(tx.RequestHeaders) - 1
		} else {
			if tx.ResponseHeaders == nil {
				tx.ResponseHeaders = make([]Header, 0, 16)
			}
			tx.ResponseHeaders = append(tx.ResponseHeaders, h)
			s.lastHdr = len(tx.ResponseHeaders) - 1
		}
		s.nHeaders++
		name, value = h.Name, h.Value
	}
	p.special(s, dir, name, value, keep)
}

func (p *Parser) headers(tx *Transaction, dir flow.Direction) []Header {
	if dir == flow.ToServer {
		return tx.RequestHeaders
	}
	return tx.ResponseHeaders
}

var crlf = []byte("\r\n")

// rawHeader appends a header, trailer or terminating empty line as it was
// received (with its CRLF or LF) to the message's raw header bytes, up to
// MaxHeaderBytes plus the terminator.
func (p *Parser) rawHeader(s *side, dir flow.Direction, line []byte) {
	tx := s.tx
	if tx == nil || tx.discard {
		return
	}
	dst := &tx.RequestHeadersRaw
	if dir == flow.ToClient {
		dst = &tx.ResponseHeadersRaw
	}
	eol := crlf
	if !s.crlf {
		eol = crlf[1:]
	}
	room := p.opts.MaxHeaderBytes + len(eol) - len(*dst)
	if room <= 0 {
		return
	}
	if *dst == nil {
		*dst = make([]byte, 0, min(512, p.opts.MaxHeaderBytes+2))
	}
	*dst = append(*dst, line[:min(len(line), room)]...)
	if room > len(line) {
		*dst = append(*dst, eol[:min(len(eol), room-len(line))]...)
	}
}

// special records the headers that frame the body or that EVE and the
// named buffers expose. owned says value is already a transaction copy.
// Only the first occurrence of a logged field is kept (like libhtp's
// request_headers table lookups); framing headers are honoured even when
// the header itself was dropped by a limit.
func (p *Parser) special(s *side, dir flow.Direction, name, value []byte, owned bool) {
	tx := s.tx
	if s.state == stTrailers {
		return // trailers never change framing or logged fields
	}
	cp := func(dst *[]byte) {
		if *dst != nil && !owned {
			return
		}
		if owned {
			*dst = value
		} else {
			*dst = p.arena.copy(value)
		}
	}
	switch {
	case equalFold(name, "content-length"):
		n, ok := parseContentLength(value)
		if !ok || (s.clen >= 0 && s.clen != n) {
			tx.Events |= EventContentLengthInvalid
			if !ok {
				return
			}
		}
		s.clen = n
	case equalFold(name, "transfer-encoding"):
		if containsFold(value, "chunked") {
			s.chunked = true
		}
	case equalFold(name, "content-encoding"):
		switch {
		case containsFold(value, "gzip"):
			s.enc = encGzip
		case containsFold(value, "deflate"):
			s.enc = encDeflate
		}
	case equalFold(name, "content-type"):
		if dir == flow.ToServer {
			cp(&tx.ContentTypeReq)
		} else {
			cp(&tx.ContentType)
		}
	}
	if dir == flow.ToClient {
		if equalFold(name, "location") {
			cp(&tx.Location)
		}
		return
	}
	switch {
	case equalFold(name, "host"):
		// Stored when headers end: the URI authority wins (libhtp).
	case equalFold(name, "user-agent"):
		cp(&tx.UserAgent)
	case equalFold(name, "referer"):
		cp(&tx.Referer)
	case equalFold(name, "cookie"):
		cp(&tx.Cookie)
	case equalFold(name, "x-forwarded-for"):
		cp(&tx.XFF)
	}
}

// endHeaders decides how the body is framed (RFC 9112 §6.3).
func (p *Parser) endHeaders(s *side, dir flow.Direction, emit func(*Transaction)) {
	tx := s.tx
	if dir == flow.ToServer {
		h := findHeader(tx.RequestHeaders, "host")
		if tx.Host == nil {
			if h != nil {
				host, port := splitHostPort(h.Value)
				tx.Host, tx.Port = p.normHost(host), port
			} else if string(tx.Protocol) == "HTTP/1.1" {
				tx.Events |= EventMissingHost
			}
		} else if h != nil {
			host, _ := splitHostPort(h.Value)
			if !bytes.EqualFold(trimDots(host), tx.Host) {
				tx.Events |= EventHostAmbiguous
			}
		}
		switch {
		case s.chunked:
			p.prepareBody(s, dir, -1)
			s.state = stChunkSize
		case s.clen > 0:
			p.prepareBody(s, dir, s.clen)
			s.remaining = s.clen
			s.state = stBodyLen
		default:
			p.finish(s, dir, emit)
		}
		return
	}
	code := tx.Status
	if code >= 100 && code < 200 && code != 101 {
		// Interim response (100 Continue, 102, 103): the final response
		// for the same request follows. Forget this one's fields.
		if tx.discard {
			p.owed++ // the final response is still owed to the same request
		}
		tx.respStarted = false
		tx.HasResponse = false
		tx.Status = 0
		tx.StatusMsg, tx.RespProtocol, tx.ResponseLine = nil, nil, nil
		tx.ResponseHeaders, tx.ResponseHeadersRaw = nil, nil
		tx.ContentType, tx.Location = nil, nil
		s.reset(true)
		return
	}
	head := string(tx.Method) == "HEAD"
	connect := string(tx.Method) == "CONNECT" && code >= 200 && code < 300
	switch {
	case code == 101 || connect:
		// The connection now carries another protocol (RFC 9110 §9.3.6,
		// §15.2.2). Stop parsing both directions.
		p.stats.Tunnels++
		p.finish(s, dir, emit)
		if p.req.tx != nil && !p.req.tx.RequestDone {
			p.req.tx.RequestDone = true
			p.req.tx = nil
		}
		p.req.state, p.resp.state = stTunnel, stTunnel
		p.flush(emit)
		return
	case head || code == 204 || code == 304:
		p.finish(s, dir, emit)
	case s.chunked:
		p.prepareBody(s, dir, -1)
		s.state = stChunkSize
	case s.clen >= 0:
		if s.clen == 0 {
			p.finish(s, dir, emit)
			return
		}
		p.prepareBody(s, dir, s.clen)
		s.remaining = s.clen
		s.state = stBodyLen
	default:
		p.prepareBody(s, dir, -1)
		s.state = stBodyClose
	}
}

// prepareBody sizes the kept body when the length is known up front.
func (p *Parser) prepareBody(s *side, dir flow.Direction, clen int64) {
	limit := p.limit(dir)
	if clen > 0 && limit > 0 {
		c := int(min(clen, int64(limit)))
		if dir == flow.ToServer {
			s.tx.RequestBody = make([]byte, 0, c)
		} else {
			s.tx.ResponseBody = make([]byte, 0, c)
		}
	}
}

func (p *Parser) limit(dir flow.Direction) int {
	if dir == flow.ToServer {
		return p.opts.RequestBodyLimit
	}
	return p.opts.ResponseBodyLimit
}

// body accounts body bytes (after de-chunking) and keeps them up to the
// inspection limit.
func (p *Parser) body(s *side, dir flow.Direction, b []byte) {
	tx := s.tx
	dst := &tx.ResponseBody
	if dir == flow.ToServer {
		dst = &tx.RequestBody
		tx.RequestBodyLen += int64(len(b))
	} else {
		tx.ResponseBodyLen += int64(len(b))
	}
	limit := p.limit(dir)
	if len(b) > 0 {
		p.openFile(s, dir)
		s.fileData(b, limit)
	}
	if s.hole {
		return
	}
	room := limit - len(*dst)
	if len(b) > room {
		b = b[:max(room, 0)]
		tx.Events |= EventBodyTruncated
		s.file.cut = true
	}
	if len(b) > 0 {
		*dst = append(*dst, b...)
	}
}

// frame counts n bytes of chunk framing in the body length.
func (p *Parser) frame(s *side, dir flow.Direction, n int) {
	if s.tx == nil {
		return
	}
	if dir == flow.ToServer {
		s.tx.RequestBodyLen += int64(n)
	} else {
		s.tx.ResponseBodyLen += int64(n)
	}
}

// finish ends the current message of side s.
func (p *Parser) finish(s *side, dir flow.Direction, emit func(*Transaction)) {
	tx := s.tx
	if tx != nil {
		p.endBody(s, dir, !s.hole)
		if dir == flow.ToServer {
			tx.RequestDone = true
			if p.opts.OnRequest != nil {
				p.opts.OnRequest(tx)
			}
		} else {
			tx.ResponseDone = true
		}
	}
	synced := s.synced
	s.reset(synced)
	p.flush(emit)
	p.overflowPending(emit)
}

// endBody ends the body of the message on s: a gzip or deflate body kept
// for inspection is decoded, and the body's file closes. complete is false
// when a gap cut the message's framing; the end of the flow completes a
// message, as libhtp finalises it then.
func (p *Parser) endBody(s *side, dir flow.Direction, complete bool) {
	var decoded []byte
	more := false
	if s.enc != encIdentity && !s.hole {
		more = p.decodeBody(s.tx, dir, s.enc)
		decoded = s.tx.ResponseBody
		if dir == flow.ToServer {
			decoded = s.tx.RequestBody
		}
	}
	if s.closeFile(decoded, more, complete) {
		if dir == flow.ToServer {
			s.tx.RequestFile = nil
		} else {
			s.tx.ResponseFile = nil
		}
	}
}

// Gap tells the parser that n bytes of direction dir were lost. Inside a
// body of known length the gap is skipped and parsing stays in step (the
// body is no longer kept for inspection); anywhere else the current
// message ends, flagged, and the side resynchronises at the next plausible
// start line.
func (p *Parser) Gap(dir flow.Direction, n uint32, now time.Time, emit func(*Transaction)) {
	s := p.sideOf(dir)
	p.stats.Gaps++
	p.stats.GapBytes += uint64(n)
	s.started = true
	if s.tx != nil {
		s.tx.Gap = true
	}
	switch s.state {
	case stTunnel:
		return
	case stBodyLen, stChunkData:
		if int64(n) <= s.remaining {
			p.openFile(s, dir)
			s.fileGap(int64(n), p.limit(dir))
			s.hole = true
			if dir == flow.ToServer {
				s.tx.RequestBodyLen += int64(n)
			} else {
				s.tx.ResponseBodyLen += int64(n)
			}
			s.remaining -= int64(n)
			if s.remaining == 0 {
				if s.state == stChunkData {
					s.state = stChunkEnd
				} else {
					p.finish(s, dir, emit)
				}
			}
			return
		}
	case stBodyClose:
		p.openFile(s, dir)
		s.fileGap(int64(n), p.limit(dir))
		s.hole = true
		if dir == flow.ToServer {
			s.tx.RequestBodyLen += int64(n)
		} else {
			s.tx.ResponseBodyLen += int64(n)
		}
		return
	}
	if s.tx != nil {
		s.tx.Events |= EventGap
		if s.file.f != nil {
			s.file.f.Gaps = true
		}
		s.hole = true
		p.finish(s, dir, emit)
	} else {
		s.reset(false)
	}
	s.synced, s.resync = false, true
	s.line = s.line[:0]
	s.lineDone, s.overflow = false, false
}

// Close ends the flow: a body delimited by connection close ends here,
// and every transaction still open is emitted in ID order, as Suricata logs
// unfinished transactions when the flow times out. The parser then accepts
// no more data (it may be reused only via NewParser).
func (p *Parser) Close(now time.Time, emit func(*Transaction)) {
	for _, dir := range [...]flow.Direction{flow.ToServer, flow.ToClient} {
		s := p.sideOf(dir)
		if s.tx == nil {
			continue
		}
		switch s.state {
		case stBodyClose:
		case stMaybeHeaders:
			s.tx.RequestDone = true
		default:
			s.tx.Events |= EventIncomplete
		}
		// libhtp finalises the message when the stream closes: a file cut
		// short by the end of the flow is logged CLOSED, as Suricata does.
		p.endBody(s, dir, true)
		if s.state == stBodyClose {
			s.tx.ResponseDone = true
		}
		s.tx = nil
	}
	for len(p.pending) > 0 {
		p.pop(emit)
	}
	p.req.state, p.resp.state = stTunnel, stTunnel
	p.req.line, p.resp.line = nil, nil
}

// looksLikeStart reports whether data begins like a request line (known
// method then a space) or a status line, for resynchronisation.
func looksLikeStart(dir flow.Direction, data []byte) bool {
	if dir == flow.ToClient {
		return len(data) >= 6 && string(data[:5]) == "HTTP/" && isDigit(data[5])
	}
	sp := bytes.IndexByte(data[:min(len(data), 21)], ' ')
	return sp > 0 && applayer.IsHTTPMethod(data[:sp])
}
