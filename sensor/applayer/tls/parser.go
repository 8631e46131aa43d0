package tls

import (
	"crypto/sha1"
	"hash"
	"time"

	"github.com/polder-nsm/polder/sensor/flow"
)

// Record-layer constants (RFC 8446 §5, RFC 5246 §6.2).
const (
	ContentChangeCipherSpec = 0x14
	ContentAlert            = 0x15
	ContentHandshake        = 0x16
	ContentApplicationData  = 0x17
	ContentHeartbeat        = 0x18

	// RecordHeaderLen is the TLS record header: type, version, length.
	RecordHeaderLen = 5
	// MaxRecordLen is the largest record body accepted: 2^14 plus the
	// 2048 bytes of expansion RFC 5246 allows for TLSCiphertext. A header
	// announcing more is not TLS (or we are out of sync).
	MaxRecordLen = 1<<14 + 2048
	// MaxHandshake bounds handshake reassembly per direction (bytes). A
	// longer handshake message (a huge certificate chain) is parsed from
	// its first MaxHandshake bytes and the rest is skipped.
	MaxHandshake = 64 << 10
	// MaxResyncScan bounds how many bytes per direction are scanned for a
	// record header when the stream is picked up mid-way or after a gap;
	// past that the direction is given up (Parser.Failed).
	MaxResyncScan = 256 << 10
	// MaxCerts bounds the certificates kept in Session.CertDER.
	MaxCerts = 10

	// startProbe is how many bytes of a direction are looked at before
	// deciding between a TLS record, an SSLv2 hello and a mid-stream
	// pickup: an SSLv2 CLIENT-HELLO header is 11 bytes.
	startProbe = 11
	// probeLen is what plausibleHeader needs: a record header and the
	// first body byte.
	probeLen = RecordHeaderLen + 1
)

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
const (
	HandshakeClientHello       = 1
	HandshakeServerHello       = 2
	HandshakeNewSessionTicket  = 4
	HandshakeCertificate       = 11
	HandshakeServerKeyExchange = 12
	HandshakeCertificateReq    = 13
	HandshakeServerHelloDone   = 14
	HandshakeClientKeyExchange = 16
	HandshakeFinished          = 20
)

// Stats counts anomalies one Parser met. They are plain counters so the
// hot path never builds an error; the caller folds them into EVE stats.
type Stats struct {
	BadRecords     uint64 // record headers that did not look like TLS (a resync followed)
	ResyncBytes    uint64 // bytes skipped looking for a record header
	Oversized      uint64 // handshake messages longer than MaxHandshake
	BadHello       uint64 // Client/ServerHello that did not parse
	BadCertificate uint64 // certificates no parser could read
}

// Parser parses both directions of one TLS connection incrementally: TCP
// payload goes in as it arrives, in any split; records may span segments,
// handshake messages may span records and several may share one record.
// Once a direction turns encrypted its bytes are only framed, not parsed.
//
// A Parser belongs to one flow and one worker; it is not safe for
// concurrent use. Memory per direction is bounded by one record
// (MaxRecordLen+5) plus MaxHandshake.
type Parser struct {
	sess  Session
	dirs  [2]dirState
	stats Stats

	serverDir      flow.Direction
	serverKnown    bool
	certDone       bool // the server's certificate message was parsed
	helloDone      bool // ServerHelloDone seen
	serverFinished bool // server switched to encrypted records

	clientSID  []byte    // ClientHello legacy_session_id (≤ 32 bytes)
	certHash   hash.Hash // SHA-1 of a first certificate larger than MaxHandshake, while it streams
	certRemain int       // its bytes still to hash
}

type dirState struct {
	rec        []byte // partial record: header and as much body as arrived
	hs         []byte // partial handshake message(s), ≤ MaxHandshake
	hsSkip     int    // bytes of an oversized handshake message still to drop
	started    bool   // this direction has seen data
	lost       bool   // out of sync: scanning for a record header
	scanned    int    // bytes scanned while lost
	encrypted  bool   // this direction sent ChangeCipherSpec or app data
	v2need     int    // length of the SSLv2 record being collected in rec
	start      [startProbe]byte
	nstart     int    // bytes in start, before the direction's start is decided
	recVersion uint16 // version field of the last record header
	ignore     bool   // nothing more to read (after SSLv2 SERVER-HELLO)
	failed     bool   // no record header found within MaxResyncScan
}

// NewParser returns a Parser ready for the first bytes of a connection or
// of a flow picked up mid-stream.
func NewParser() *Parser { return &Parser{} }

// Session returns what the handshake revealed so far. The Session and its
// slices are owned by the Parser and change as more data is parsed; copy
// what must outlive the flow or cross goroutines.
func (p *Parser) Session() *Session { return &p.sess }

// Stats returns the anomaly counters.
func (p *Parser) Stats() Stats { return p.stats }

// Done reports that the handshake has shown all the cleartext it will:
// the server sent its certificate, ServerHelloDone, or switched to
// encrypted records (resumption, TLS 1.3). The pipeline logs the tls event
// then, or at flow end if Done never turns true.
func (p *Parser) Done() bool {
	return p.sess.HasServerHello && (p.certDone || p.helloDone || p.serverFinished)
}

// Failed reports that every direction that carried data was given up (no
// TLS record header found within MaxResyncScan bytes): the flow is not
// TLS and the caller can stop feeding it.
func (p *Parser) Failed() bool {
	d0, d1 := &p.dirs[0], &p.dirs[1]
	return (d0.failed || d1.failed) && (d0.failed || !d0.started) && (d1.failed || !d1.started)
}

// Parse consumes data, the next in-order TCP payload bytes of direction
// dir, at time now. data is not retained: at most one partial record and
// the partial handshake message are copied.
func (p *Parser) Parse(dir flow.Direction, data []byte, now time.Time) {
	dir &= 1
	d := &p.dirs[dir]
	if d.failed || d.ignore || len(data) == 0 {
		return
	}
	if p.sess.Timestamp.IsZero() {
		p.sess.Timestamp = now
	}
	if !d.started {
		// Decide how the direction starts (TLS record, SSLv2 hello, or
		// mid-stream) on its first startProbe bytes, whatever the
		// segmentation.
		if d.nstart > 0 || len(data) < startProbe {
			// SSLv2 (top bit set) needs startProbe bytes, TLS probeLen.
			need := probeLen
			if d.nstart > 0 && d.start[0]&0x80 != 0 || d.nstart == 0 && data[0]&0x80 != 0 {
				need = startProbe
			}
			k := min(need-d.nstart, len(data))
			copy(d.start[d.nstart:], data[:k])
			d.nstart += k
			data = data[k:]
			if d.nstart < need {
				return
			}
			data = append(d.start[:d.nstart:d.nstart], data...)
		}
		d.started = true
		if n := sslv2Len(data); n > 0 {
			d.v2need = n
		} else if !plausibleHeader(data) {
			d.lost = true
		}
	}
	if d.v2need > 0 {
		// Collect the whole SSLv2 record (≤ 32 KiB) so its parse does
		// not depend on segmentation.
		if len(d.rec) == 0 && len(data) >= d.v2need {
			p.sslv2(dir, data[:d.v2need])
			data = data[d.v2need:]
		} else {
			k := min(d.v2need-len(d.rec), len(data))
			d.rec = append(d.rec, data[:k]...)
			data = data[k:]
			if len(d.rec) < d.v2need {
				return
			}
			p.sslv2(dir, d.rec)
			d.rec = d.rec[:0]
		}
		d.v2need = 0
		d.lost = true // what follows, if anything, is TLS records
		if d.ignore {
			return
		}
	}
	for len(data) > 0 && !d.failed {
		if d.lost {
			data = p.resync(d, data)
			continue
		}
		if len(d.rec) > 0 || len(data) < RecordHeaderLen {
			data = p.fill(dir, d, data)
			continue
		}
		n := int(data[3])<<8 | int(data[4])
		if !validHeader(data) {
			p.lose(d)
			continue
		}
		if len(data) < RecordHeaderLen+n {
			data = p.fill(dir, d, data)
			continue
		}
		d.recVersion = uint16(data[1])<<8 | uint16(data[2])
		p.record(dir, data[0], data[RecordHeaderLen:RecordHeaderLen+n])
		data = data[RecordHeaderLen+n:]
	}
}

// fill adds data to the partial record buffer and processes the record
// once complete; it returns the unconsumed rest of data.
func (p *Parser) fill(dir flow.Direction, d *dirState, data []byte) []byte {
	if len(d.rec) < RecordHeaderLen {
		take := min(RecordHeaderLen-len(d.rec), len(data))
		d.rec = append(d.rec, data[:take]...)
		data = data[take:]
		if len(d.rec) < RecordHeaderLen {
			return data
		}
		if !validHeader(d.rec) {
			// Re-scan the buffered bytes after the first one.
			b := append([]byte(nil), d.rec[1:]...)
			d.rec = d.rec[:0]
			p.lose(d)
			p.stats.ResyncBytes++
			d.scanned++
			rest := p.resync(d, b)
			if len(rest) > 0 {
				// Found a header inside the buffered bytes: keep them.
				d.rec = append(d.rec, rest...)
			}
			return data
		}
	}
	need := RecordHeaderLen + (int(d.rec[3])<<8 | int(d.rec[4]))
	take := min(need-len(d.rec), len(data))
	d.rec = append(d.rec, data[:take]...)
	data = data[take:]
	if len(d.rec) == need {
		d.recVersion = uint16(d.rec[1])<<8 | uint16(d.rec[2])
		p.record(dir, d.rec[0], d.rec[RecordHeaderLen:])
		d.rec = d.rec[:0]
	}
	return data
}

// lose marks the direction out of sync.
func (p *Parser) lose(d *dirState) {
	p.stats.BadRecords++
	d.lost = true
	d.rec = d.rec[:0]
	d.hs = d.hs[:0]
	d.hsSkip = 0
}

// resync scans data for a plausible record header. It returns data from
// the header on (and clears lost), or nil after keeping the last few bytes
// that could still start a header.
func (p *Parser) resync(d *dirState, data []byte) []byte {
	if len(d.rec) > 0 {
		// Tail kept from the previous chunk.
		b := append(d.rec, data...)
		d.rec = nil
		data = b
	}
	for i := 0; i+probeLen <= len(data); i++ {
		if plausibleHeader(data[i:]) {
			p.stats.ResyncBytes += uint64(i)
			d.scanned += i
			d.lost = false
			return data[i:]
		}
	}
	keep := min(len(data), probeLen-1)
	skipped := len(data) - keep
	p.stats.ResyncBytes += uint64(skipped)
	d.scanned += skipped
	if d.scanned > MaxResyncScan {
		d.failed = true
		d.rec = nil
		return nil
	}
	d.rec = append(d.rec[:0], data[len(data)-keep:]...)
	return nil
}

// validHeader checks a record header (len(h) ≥ 5) while in sync: a known
// content type, major version 3 and a bounded length.
func validHeader(h []byte) bool {
	return h[0] >= ContentChangeCipherSpec && h[0] <= ContentHeartbeat &&
		h[1] == 3 && h[2] <= 4 && int(h[3])<<8|int(h[4]) <= MaxRecordLen
}

// plausibleHeader is validHeader for a stream picked up at an unknown
// position, where a false match costs a wrong parse: a zero-length record
// is refused and a handshake record must start with a known message type.
func plausibleHeader(h []byte) bool {
	if len(h) < probeLen || !validHeader(h) {
		return false
	}
	n := int(h[3])<<8 | int(h[4])
	if n == 0 {
		return false
	}
	switch h[0] {
	case ContentChangeCipherSpec:
		return n == 1 && h[5] == 1
	case ContentAlert:
		return n == 2 || n >= 16 // cleartext alert, or encrypted
	case ContentHandshake:
		switch h[5] {
		case 1, 2, 4, 8, 11, 12, 13, 14, 15, 16, 20, 22, 24:
			return true
		}
		// An encrypted Finished (or other encrypted handshake record)
		// is at least a tag long.
		return n >= 16
	}
	return true
}

// sslv2Len recognises an SSLv2-format CLIENT-HELLO or SERVER-HELLO at the
// start of a direction (RFC 6101 appendix E.2, RFC 5246 appendix E.2): a
// two-byte header with the top bit set, message type 1 or 4 and a known
// version. It returns the record length (header included), or 0.
func sslv2Len(data []byte) int {
	if len(data) < startProbe || data[0]&0x80 == 0 {
		return 0
	}
	n := int(data[0]&0x7f)<<8 | int(data[1])
	switch data[2] {
	case 1: // CLIENT-HELLO: version, cipher-spec len, session-id len, challenge len
		v := uint16(data[3])<<8 | uint16(data[4])
		if n < 9 || v != VersionSSLv2 && v>>8 != 3 {
			return 0
		}
	case 4: // SERVER-HELLO: session-id-hit, cert type, version
		v := uint16(data[5])<<8 | uint16(data[6])
		if n < 11 || v != VersionSSLv2 {
			return 0
		}
	default:
		return 0
	}
	if 2+n > RecordHeaderLen+MaxRecordLen {
		return 0 // keeps the record buffer bound; real SSLv2 hellos are small
	}
	return 2 + n
}

// sslv2 reads one complete SSLv2 hello record found by sslv2Len: the
// CLIENT-HELLO's version and cipher specs (no JA3/JA4: Suricata computes
// none), or the SERVER-HELLO, after which everything is encrypted and the
// flow is ignored.
func (p *Parser) sslv2(dir flow.Direction, rec []byte) {
	s := &p.sess
	switch rec[2] {
	case 1:
		if s.HasClientHello {
			return
		}
		s.HasClientHello = true
		s.SSLv2Hello = true
		s.ClientVersion = uint16(rec[3])<<8 | uint16(rec[4])
		cs := int(rec[5])<<8 | int(rec[6])
		body := rec[11:]
		for i := 0; i+3 <= cs && i+3 <= len(body); i += 3 {
			if body[i] == 0 && len(s.Ciphers) < maxList {
				s.Ciphers = append(s.Ciphers, uint16(body[i+1])<<8|uint16(body[i+2]))
			}
		}
		if !p.serverKnown {
			p.serverDir, p.serverKnown = dir^1, true
		}
	case 4:
		s.HasServerHello = true
		s.Version = VersionSSLv2
		s.ServerVersion = VersionSSLv2
		s.Encrypted = true
		p.serverDir, p.serverKnown = dir, true
		p.serverFinished = true
		p.dirs[0].ignore = true
		p.dirs[1].ignore = true
	}
}

// record handles one complete record body of content type ct.
func (p *Parser) record(dir flow.Direction, ct byte, body []byte) {
	d := &p.dirs[dir]
	if !p.sess.HasServerHello && p.isServer(dir) {
		// Suricata logs the server's record-layer version until a
		// ServerHello says better (handshake failures, aborted
		// handshakes).
		p.sess.Version = d.recVersion
	}
	switch ct {
	case ContentChangeCipherSpec:
		p.encrypt(dir)
	case ContentApplicationData:
		p.encrypt(dir)
		if p.sess.HasServerHello || !hasEarlyData(p.sess.Extensions) {
			p.sess.AppData = true
		}
	case ContentHandshake:
		if d.encrypted {
			// Encrypted Finished (or TLS 1.3 compat): nothing to read.
			return
		}
		p.handshake(dir, d, body)
	}
}

// hasEarlyData reports whether the ClientHello offered 0-RTT data (the
// early_data extension, RFC 8446 §4.2.10): application data before the
// ServerHello is then early data, not the end of the handshake.
func hasEarlyData(exts []uint16) bool {
	for _, e := range exts {
		if e == 42 {
			return true
		}
	}
	return false
}

// isServer reports whether dir carries the server's bytes: the side that
// sent ServerHello, else the side opposite the ClientHello, else
// flow.ToClient.
func (p *Parser) isServer(dir flow.Direction) bool {
	if p.serverKnown {
		return dir == p.serverDir
	}
	return dir == flow.ToClient
}

// encrypt marks dir as sending encrypted records and sets
// Session.Encrypted once both sides do.
func (p *Parser) encrypt(dir flow.Direction) {
	d := &p.dirs[dir]
	d.encrypted = true
	d.hs = d.hs[:0]
	d.hsSkip = 0
	if p.serverKnown && dir == p.serverDir {
		p.serverFinished = true
		if !p.certDone && p.sess.HasServerHello && p.sess.Version < VersionTLS13 {
			// ChangeCipherSpec right after ServerHello, no certificate:
			// a resumed session (id or ticket).
			p.sess.SessionResumed = true
		}
	}
	if p.dirs[0].encrypted && p.dirs[1].encrypted {
		p.sess.Encrypted = true
	}
}

// handshake reassembles handshake messages from one record body.
func (p *Parser) handshake(dir flow.Direction, d *dirState, body []byte) {
	body = p.skip(d, body)
	// Fast path: nothing buffered, parse whole messages in place.
	if len(d.hs) == 0 {
		for len(body) >= 4 {
			n := int(body[1])<<16 | int(body[2])<<8 | int(body[3])
			if 4+n > len(body) {
				break
			}
			p.message(dir, body[0], body[4:4+n])
			body = body[4+n:]
			if d.encrypted {
				return
			}
		}
	}
	for len(body) > 0 {
		take := min(len(body), MaxHandshake-len(d.hs))
		d.hs = append(d.hs, body[:take]...)
		body = body[take:]
		for len(d.hs) >= 4 {
			n := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
			if 4+n <= len(d.hs) {
				p.message(dir, d.hs[0], d.hs[4:4+n])
				if d.encrypted {
					d.hs = d.hs[:0]
					return
				}
				rest := copy(d.hs, d.hs[4+n:])
				d.hs = d.hs[:rest]
				continue
			}
			if len(d.hs) < MaxHandshake {
				break
			}
			// Oversized: parse what fits, drop the remainder (hashing
			// the rest of a first certificate that did not fit).
			p.stats.Oversized++
			if d.hs[0] == HandshakeCertificate && p.wantCert(dir) {
				p.bigCertificate(d.hs[4:])
			} else {
				p.message(dir, d.hs[0], d.hs[4:])
			}
			d.hsSkip = 4 + n - len(d.hs)
			d.hs = d.hs[:0]
			body = p.skip(d, body)
			break
		}
	}
}

// skip drops the part of body that belongs to an oversized handshake
// message, feeding the certificate hash while one is pending.
func (p *Parser) skip(d *dirState, body []byte) []byte {
	if d.hsSkip == 0 {
		return body
	}
	n := min(d.hsSkip, len(body))
	if p.certRemain > 0 {
		k := min(p.certRemain, n)
		p.certHash.Write(body[:k])
		p.certRemain -= k
		if p.certRemain == 0 {
			var sum [sha1.Size]byte
			p.sess.Fingerprint = appendColonHex(p.sess.Fingerprint[:0], p.certHash.Sum(sum[:0]), hexLower)
			p.certHash = nil
		}
	}
	d.hsSkip -= n
	return body[n:]
}

// wantCert reports whether a Certificate message in dir is the server's
// first one.
func (p *Parser) wantCert(dir flow.Direction) bool {
	return !p.certDone && (p.serverKnown && dir == p.serverDir || !p.serverKnown && dir == flow.ToClient)
}

// bigCertificate handles the first MaxHandshake-4 bytes of a Certificate
// message too large to buffer. When even the first certificate does not
// fit, its fields are read from the prefix (they come first in the DER)
// and its SHA-1 is computed as the rest streams past, so memory stays
// bounded and the fingerprint still matches Suricata's.
func (p *Parser) bigCertificate(b []byte) {
	if len(b) < 6 {
		p.message(p.serverDir, HandshakeCertificate, b)
		return
	}
	n := int(b[3])<<16 | int(b[4])<<8 | int(b[5])
	if 6+n <= len(b) {
		p.certDone = true
		p.certificate(b)
		return
	}
	p.certDone = true
	s := &p.sess
	s.CertChainLen = 1
	s.CertDER = s.CertDER[:0]
	prefix := b[6:]
	certPrefixFields(s, prefix)
	p.certHash = sha1.New()
	p.certHash.Write(prefix)
	p.certRemain = n - len(prefix)
}

// message handles one (possibly cut) handshake message.
func (p *Parser) message(dir flow.Direction, typ byte, b []byte) {
	switch typ {
	case HandshakeClientHello:
		if p.sess.HasClientHello && !p.sess.SSLv2Hello {
			// Second ClientHello after HelloRetryRequest: JA3/JA4 stay
			// those of the first, as Suricata keeps them.
			return
		}
		if !p.clientHello(b) {
			p.stats.BadHello++
			return
		}
		if !p.serverKnown {
			p.serverDir, p.serverKnown = dir^1, true
		}
	case HandshakeServerHello:
		hrr, ok := p.serverHello(b)
		if !ok {
			p.stats.BadHello++
			return
		}
		p.serverDir, p.serverKnown = dir, true
		if !hrr && p.sess.Version >= VersionTLS13 && p.sess.Version <= 0x7fff {
			// TLS 1.3: everything after ServerHello is encrypted in this
			// direction; the client follows after its (compat) CCS or
			// first encrypted record.
			p.encrypt(dir)
		}
	case HandshakeCertificate:
		if !p.wantCert(dir) {
			return
		}
		p.certDone = true
		p.certificate(b)
	case HandshakeServerHelloDone:
		if !p.serverKnown || dir == p.serverDir {
			p.helloDone = true
		}
	}
}

// Gap tells the parser n bytes of direction dir were lost: partial record
// and handshake state of that side are dropped and the parser scans for
// the next record header.
func (p *Parser) Gap(dir flow.Direction, n int) {
	if n <= 0 {
		return
	}
	d := &p.dirs[dir&1]
	if d.failed || d.ignore {
		return
	}
	d.started = true
	d.nstart = 0
	d.v2need = 0
	d.rec = d.rec[:0]
	d.hs = d.hs[:0]
	d.hsSkip = 0
	d.lost = true
	d.scanned = 0
}
