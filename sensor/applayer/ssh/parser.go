// Package ssh parses the cleartext start of SSH sessions (RFC 4253): each
// side's identification string ("SSH-protoversion-softwareversion
// comments"), then the binary packets of the key exchange up to
// SSH_MSG_NEWKEYS, after which that side's packets are encrypted and
// nothing more can be read. It fills a Session with what Suricata's EVE ssh
// event logs (client and server proto_version and software_version) and
// reports when both sides have switched to encryption, the hook for
// Suricata's app-layer.protocols.ssh.encryption-handling.
//
// It follows Suricata's rust/src/ssh parser: a banner line ends at LF or
// CRLF (a lone CR followed by more bytes also ends it), the protocol version
// runs to the first '-', the software version to the first space, CR or
// LF; a record header is a 32-bit packet length (at least 2), a padding
// length and the message code. Unlike Suricata it stops reading a
// direction right after its NEWKEYS record instead of framing encrypted
// bytes as if they were cleartext records.
package ssh

import (
	"time"

	"github.com/polder-nsm/polder/sensor/flow"
)

// Limits and protocol constants.
const (
	// MaxBanner is how many bytes of an identification line are kept
	// (Suricata's SSH_MAX_BANNER_LEN; RFC 4253 allows 255 plus CR LF). A
	// longer line is parsed from its first MaxBanner bytes, flagged
	// EventLongBanner, and skipped to its end.
	MaxBanner = 256
	// MaxRecord bounds the packet_length of a cleartext record. Key
	// exchange packets are a few KiB (RFC 4253 §6.1 requires handling
	// 35000 bytes); a larger length means the direction is not (or no
	// longer) SSH, and it is given up with EventInvalidRecord.
	MaxRecord = 256 << 10

	recordHeaderLen = 6 // packet_length, padding_length, message code

	// Message numbers (RFC 4250 §4.1.2).
	MsgKexInit = 20
	MsgNewKeys = 21
)

// Events are anomalies one Parser met, as bits; Suricata's ssh app-layer
// events of the same names. They are flags, not errors: the hot path never
// builds an error value.
type Events uint8

const (
	EventInvalidBanner Events = 1 << iota // a first line not starting "SSH-protover-": the direction is given up
	EventLongBanner                       // an identification line longer than MaxBanner
	EventInvalidRecord                    // a record length below 2 or above MaxRecord: the direction is given up
	EventGap                              // bytes were lost before the direction turned encrypted: it is given up
)

var eventNames = [...]string{"invalid_banner", "long_banner", "invalid_record", "gap"}

// Each calls fn with the name of every event set in e.
func (e Events) Each(fn func(name string)) {
	for i, n := range eventNames {
		if e&(1<<i) != 0 {
			fn(n)
		}
	}
}

// Endpoint is what one side of the connection said in clear.
type Endpoint struct {
	ProtoVersion    []byte // "2.0", "1.99": EVE proto_version
	SoftwareVersion []byte // "OpenSSH_9.6p1": EVE software_version (may be empty)
	HasBanner       bool   // the identification string was parsed
	KexInit         bool   // SSH_MSG_KEXINIT was seen
	NewKeys         bool   // SSH_MSG_NEWKEYS was seen: this side now encrypts
}

// Session is what one SSH connection showed. Its slices are owned by the
// Parser (allocated once per side, at most MaxBanner bytes each).
type Session struct {
	// Timestamp is the time of the data that completed the second
	// banner (the EVE event's timestamp), or of the last banner seen.
	Timestamp time.Time
	Client    Endpoint // the side sending flow.ToServer
	Server    Endpoint
	// Encrypted is set once both sides sent NEWKEYS: everything after is
	// encrypted (Suricata's SshStateFinished in both directions).
	Encrypted bool
	Events    Events
}

// dir phases
const (
	phaseBanner  = iota // collecting the identification line
	phaseSkipEOL        // line longer than MaxBanner: dropping to its LF
	phaseRecords        // cleartext binary packets
	phaseDone           // encrypted, or given up: nothing more to read
)

type dirState struct {
	phase  uint8
	line   []byte // identification line so far (≤ MaxBanner), then reused for nothing
	cr     bool   // line ended in a lone CR: one more byte decides
	hdr    [recordHeaderLen]byte
	nhdr   uint8
	skip   uint32 // bytes of the current record still to skip
	newKey bool   // the record being skipped is NEWKEYS
}

// Parser parses both directions of one SSH connection incrementally: TCP
// payload goes in as it arrives, in any split. It belongs to one flow and
// one worker and is not safe for concurrent use. Memory is bounded by
// MaxBanner per direction.
type Parser struct {
	sess Session
	dirs [2]dirState
}

// NewParser returns a Parser for the start of a connection.
func NewParser() *Parser { return &Parser{} }

// Session returns what was parsed so far. The Session is owned by the
// Parser and changes as more data is parsed.
func (p *Parser) Session() *Session { return &p.sess }

// Done reports that both identification strings were seen: what Suricata
// waits for before logging the ssh event.
func (p *Parser) Done() bool { return p.sess.Client.HasBanner && p.sess.Server.HasBanner }

// Finished reports that neither direction has cleartext left to parse.
func (p *Parser) Finished() bool {
	return p.dirs[0].phase == phaseDone && p.dirs[1].phase == phaseDone
}

func (p *Parser) endpoint(dir flow.Direction) *Endpoint {
	if dir == flow.ToServer {
		return &p.sess.Client
	}
	return &p.sess.Server
}

// Parse consumes the next bytes b of direction dir (flow.ToServer: the
// client's) seen at now. b is only read during the call.
func (p *Parser) Parse(dir flow.Direction, b []byte, now time.Time) {
	dir &= 1
	d := &p.dirs[dir]
	for len(b) > 0 {
		switch d.phase {
		case phaseBanner:
			b = p.banner(dir, d, b, now)
		case phaseSkipEOL:
			i := indexByte(b, '\n')
			if i < 0 {
				return
			}
			b = b[i+1:]
			d.phase = phaseRecords
		case phaseRecords:
			b = p.records(dir, d, b)
		default:
			return
		}
	}
}

// Gap reports n bytes of dir lost: a banner cannot be trusted after it and
// binary packets cannot be re-framed, so the direction is given up unless
// it was already encrypted (then nothing is lost).
func (p *Parser) Gap(dir flow.Direction, n int) {
	d := &p.dirs[dir&1]
	if d.phase != phaseDone && n > 0 {
		d.phase = phaseDone
		p.sess.Events |= EventGap
	}
}

// banner collects the identification line. It returns the bytes after it.
func (p *Parser) banner(dir flow.Direction, d *dirState, b []byte, now time.Time) []byte {
	if d.cr {
		// The line ended in CR; CR LF ends it here, anything else ends
		// it before this byte (Suricata's lone-CR rule).
		d.cr = false
		if b[0] == '\n' {
			b = b[1:]
		}
		p.endBanner(dir, d, now, false)
		return b
	}
	for i, c := range b {
		switch c {
		case '\n':
			d.line = appendMax(d.line, b[:i])
			p.endBanner(dir, d, now, false)
			return b[i+1:]
		case '\r':
			d.line = appendMax(d.line, b[:i])
			if i+1 < len(b) {
				rest := b[i+1:]
				if rest[0] == '\n' {
					rest = rest[1:]
				}
				p.endBanner(dir, d, now, false)
				return rest
			}
			d.cr = true
			return nil
		}
		if len(d.line)+i+1 > MaxBanner {
			// No end of line within MaxBanner: take the banner from what
			// we have, then drop the rest of the line.
			d.line = appendMax(d.line, b[:i])
			p.endBanner(dir, d, now, true)
			if d.phase == phaseRecords {
				d.phase = phaseSkipEOL
			}
			return b[i:]
		}
	}
	d.line = append(d.line, b...)
	return nil
}

func appendMax(dst, b []byte) []byte {
	if room := MaxBanner - len(dst); len(b) > room {
		b = b[:max(room, 0)]
	}
	return append(dst, b...)
}

// endBanner parses the collected line as "SSH-protover-swver[ comments]".
func (p *Parser) endBanner(dir flow.Direction, d *dirState, now time.Time, long bool) {
	line := d.line
	if long || len(line) >= MaxBanner {
		p.sess.Events |= EventLongBanner
	}
	e := p.endpoint(dir)
	proto, sw, ok := splitBanner(line)
	if !ok {
		p.sess.Events |= EventInvalidBanner
		d.phase = phaseDone
		return
	}
	// The Endpoint's slices reuse the line's buffer: proto and sw are
	// disjoint sub-slices of it, and the line is never written again.
	e.ProtoVersion = proto
	e.SoftwareVersion = sw
	e.HasBanner = true
	p.sess.Timestamp = now
	d.phase = phaseRecords
}

// splitBanner splits an identification line.
func splitBanner(line []byte) (proto, sw []byte, ok bool) {
	const tag = "SSH-"
	if len(line) < len(tag) || string(line[:len(tag)]) != tag {
		return nil, nil, false
	}
	rest := line[len(tag):]
	i := indexByte(rest, '-')
	if i <= 0 {
		return nil, nil, false
	}
	proto, rest = rest[:i:i], rest[i+1:]
	j := 0
	for j < len(rest) && rest[j] != ' ' && rest[j] != '\r' && rest[j] != '\n' {
		j++
	}
	return proto, rest[:j:j], true
}

// records frames cleartext binary packets; it returns the bytes left once
// the direction is done, or nil when b was consumed.
func (p *Parser) records(dir flow.Direction, d *dirState, b []byte) []byte {
	for len(b) > 0 {
		if d.skip > 0 {
			if uint64(len(b)) < uint64(d.skip) {
				d.skip -= uint32(len(b))
				return nil
			}
			b = b[d.skip:]
			d.skip = 0
			if d.newKey {
				p.newKeys(dir, d)
				return nil
			}
			continue
		}
		n := copy(d.hdr[d.nhdr:], b)
		d.nhdr += uint8(n)
		b = b[n:]
		if d.nhdr < recordHeaderLen {
			return nil
		}
		d.nhdr = 0
		plen := uint32(d.hdr[0])<<24 | uint32(d.hdr[1])<<16 | uint32(d.hdr[2])<<8 | uint32(d.hdr[3])
		if plen < 2 || plen > MaxRecord {
			p.sess.Events |= EventInvalidRecord
			d.phase = phaseDone
			return nil
		}
		code := d.hdr[5]
		if code == MsgKexInit {
			p.endpoint(dir).KexInit = true
		}
		d.skip = plen - 2 // padding_length and code are in the header
		d.newKey = code == MsgNewKeys
		if d.skip == 0 && d.newKey {
			p.newKeys(dir, d)
			return nil
		}
	}
	return nil
}

// newKeys ends the cleartext of dir.
func (p *Parser) newKeys(dir flow.Direction, d *dirState) {
	d.newKey = false
	d.phase = phaseDone
	p.endpoint(dir).NewKeys = true
	if p.sess.Client.NewKeys && p.sess.Server.NewKeys {
		p.sess.Encrypted = true
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
