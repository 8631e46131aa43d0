package dns

import (
	"time"

	"github.com/polder-nsm/polder/sensor/flow"
)

// MaxStreamBuffer bounds the bytes a StreamParser holds per direction: one
// length prefix plus the largest message it can announce (65535). Nothing
// more is ever buffered, so a flow costs at most 2 × 65537 bytes.
const MaxStreamBuffer = 2 + 65535

// StreamParser parses DNS over TCP (RFC 1035 §4.2.2, RFC 7766): every
// message is preceded by a two-byte length. Messages may be split across
// segments and several may share one; the parser buffers only an
// incomplete message, at most MaxStreamBuffer bytes per direction.
//
// A StreamParser belongs to one flow and one worker; it is not safe for
// concurrent use. The zero value is ready to use.
type StreamParser struct {
	dir [2]streamDir
	// NextTxID is the tx_id the next emitted message gets; it counts
	// messages in both directions in the order they were completed.
	NextTxID uint64
	msg      Message

	// Errors counts messages whose header or first question did not parse
	// (they are not emitted); the caller adds it to its decoder counters.
	Errors uint64
}

type streamDir struct {
	buf  []byte // an incomplete message, prefix included; len ≤ MaxStreamBuffer
	lost bool   // a gap left us between messages we cannot find
}

// Parse consumes data, the next in-order bytes of direction dir, and calls
// emit for each complete message, in order. The *Message passed to emit
// (and every slice in it) is only valid during the call. data is not
// retained past the call; the parser copies at most one incomplete
// message.
func (p *StreamParser) Parse(dir flow.Direction, data []byte, now time.Time, emit func(*Message)) {
	d := &p.dir[dir&1]
	if d.lost {
		// After a gap the stream position is unknown. TCP stacks almost
		// always start a segment with a message, so take the next chunk
		// as a boundary when its prefix looks like one: the length must
		// cover at least a header. Otherwise drop the chunk.
		if !plausibleStart(data) {
			return
		}
		d.lost = false
	}
	if len(d.buf) > 0 {
		// Complete the buffered message first.
		need := 2
		if len(d.buf) >= 2 {
			need = 2 + int(be16(d.buf))
		}
		for len(d.buf) < need && len(data) > 0 {
			take := need - len(d.buf)
			if take > len(data) {
				take = len(data)
			}
			d.buf = append(d.buf, data[:take]...)
			data = data[take:]
			if len(d.buf) == 2 {
				need = 2 + int(be16(d.buf))
			}
		}
		if len(d.buf) < need {
			return
		}
		p.one(d.buf[2:], now, emit)
		d.buf = d.buf[:0]
	}
	for len(data) >= 2 {
		n := int(be16(data))
		if 2+n > len(data) {
			break
		}
		p.one(data[2:2+n], now, emit)
		data = data[2+n:]
	}
	if len(data) > 0 {
		if d.buf == nil {
			d.buf = make([]byte, 0, 512)
		}
		d.buf = append(d.buf, data...)
	}
}

// one parses and emits one complete message.
func (p *StreamParser) one(b []byte, now time.Time, emit func(*Message)) {
	if err := Parse(b, &p.msg); err != nil {
		p.Errors++
		return
	}
	p.msg.Timestamp = now
	p.msg.TxID = p.NextTxID
	p.NextTxID++
	emit(&p.msg)
}

// Gap tells the parser that n bytes of direction dir were lost. The
// partly buffered message is dropped and the parser resynchronises on the
// next chunk that starts with a plausible length prefix.
func (p *StreamParser) Gap(dir flow.Direction, n int) {
	if n <= 0 {
		return
	}
	d := &p.dir[dir&1]
	d.buf = d.buf[:0]
	d.lost = true
}

// Buffered reports how many bytes direction dir holds (for memory
// accounting).
func (p *StreamParser) Buffered(dir flow.Direction) int { return len(p.dir[dir&1].buf) }

// plausibleStart guesses whether data starts with a length-prefixed DNS
// message, to resynchronise after a gap: the length must cover a header
// and, when visible, the header must have a defined opcode (0–6), and at
// most 16 questions (real messages have one).
func plausibleStart(data []byte) bool {
	if len(data) < 2 || int(be16(data)) < HeaderLen {
		return false
	}
	if len(data) >= 2+HeaderLen {
		h := data[2:]
		if (h[2]>>3)&0xf > 6 || be16(h[4:]) > 16 {
			return false
		}
	}
	return true
}

// DatagramParser parses DNS over UDP for one flow: one message per
// datagram, numbered in arrival order across both directions (EVE tx_id),
// with the same emit contract as StreamParser. The zero value is ready to
// use; it is not safe for concurrent use.
type DatagramParser struct {
	// NextTxID is the tx_id the next emitted message gets.
	NextTxID uint64
	// Errors counts datagrams that were not DNS (ErrShort, ErrNoQuestion).
	Errors uint64
	msg    Message
}

// Parse parses one UDP payload and calls emit with the message, valid only
// during the call. dir is accepted for symmetry with StreamParser (a
// datagram carries no state between directions).
func (p *DatagramParser) Parse(dir flow.Direction, b []byte, now time.Time, emit func(*Message)) {
	if err := ParseDatagram(b, now, p.NextTxID, &p.msg); err != nil {
		p.Errors++
		return
	}
	p.NextTxID++
	emit(&p.msg)
}
