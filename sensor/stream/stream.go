// Package stream reassembles TCP byte streams per direction for the app
// layer, with hard limits: a per-direction depth, a per-worker memcap on
// buffered out-of-order data and a per-direction segment count. It delivers
// ordered chunks and gap notices to a Handler and never allocates for
// in-order data.
package stream

import (
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/flow"
)

// Options bounds a Reassembler. See DefaultOptions for the values the sensor
// uses; the zero value of Depth means unlimited, the zero value of every
// other field means its default.
type Options struct {
	// Depth is how many bytes of sequence space per direction (data plus
	// gaps) are delivered to the app layer (Suricata
	// stream.reassembly.depth). 0 = unlimited; DefaultOptions sets 1 MiB.
	Depth int

	// Memcap is the total capacity in bytes of the buffers holding
	// out-of-order segments, for all sessions of the Reassembler; 0 = 64
	// MiB. When it is reached a hole is given up: Gap is reported and
	// delivery resumes after it (counted tcp.segment_memcap_drop).
	Memcap int64

	// MaxSegmentsPerDir bounds the out-of-order segments buffered per
	// direction; 0 = 1024. Past it, the oldest hole is given up as with
	// Memcap.
	MaxSegmentsPerDir int
}

// DefaultOptions returns Suricata 7's stream defaults: depth 1 MiB, a 64 MiB
// reassembly memcap, 1024 segments per direction.
func DefaultOptions() Options {
	return Options{Depth: 1 << 20, Memcap: 64 << 20, MaxSegmentsPerDir: 1024}
}

// Handler receives reassembled data. Methods are called synchronously from
// Process and Close.
type Handler interface {
	// Data delivers the next in-order bytes of direction dir. b aliases the
	// packet or a pooled buffer and is valid only during the call.
	Data(dir flow.Direction, b []byte)
	// Gap reports that n bytes of direction dir were never seen (lost in
	// capture, or given up under memory limits); delivery continues after
	// them.
	Gap(dir flow.Direction, n uint32)
}

// half flags
const (
	hStarted uint8 = 1 << iota // next is valid
	hAcked                     // acked is valid
	hFin                       // FIN seen; fin is valid
	hRst                       // RST seen
	hDepth                     // depth reached: nothing more delivered
	hCounted                   // session counted in tcp.sessions (set on both halves)
)

// half is one direction of a Session.
type half struct {
	off   uint64 // sequence space consumed: bytes delivered plus gaps
	next  uint32 // sequence number of the next byte to deliver
	acked uint32 // highest ACK the peer sent for this direction
	fin   uint32 // sequence number of the FIN
	head  int32  // buffered segments, sorted, disjoint, all after next: index+1, 0 = none
	tail  int32
	nseg  uint16
	flags uint8
}

// Session is the reassembly state of one TCP flow: two halves indexed by
// flow.Direction. It is small and meant to be embedded by value in the
// pipeline's per-flow state; the zero value is ready to use. Buffered
// segments live in the Reassembler; call Close (or Release) before reusing
// or dropping a Session that may hold some, or their memory stays counted
// against the memcap.
type Session struct {
	h [2]half
}

// DepthReached reports whether direction dir hit Options.Depth.
func (s *Session) DepthReached(dir flow.Direction) bool { return s.h[dir&1].flags&hDepth != 0 }

// Done reports whether neither direction can deliver more data: each has
// reached the depth, been reset, or delivered everything up to its FIN. The
// pipeline uses it to set flow.FlagNoInspection (the bypass hook). A
// direction never seen is not done: it may still start.
func (s *Session) Done() bool {
	for i := range s.h {
		d := &s.h[i]
		switch {
		case d.flags&(hDepth|hRst) != 0:
		case d.flags&hFin != 0 && d.head == 0 && int32(d.next-d.fin) >= 0:
		default:
			return false
		}
	}
	return true
}

// Delivered returns the position of direction dir: the bytes of sequence
// space handed to the Handler as data or gaps so far. Inside a Data call it
// is the position of the call's first byte.
func (s *Session) Delivered(dir flow.Direction) uint64 { return s.h[dir&1].off }

// Acked returns the position, in Delivered's units, up to which the
// receiver of direction dir has acknowledged it, and false before its
// first ACK (or once the depth is reached, when ACKs are no longer
// followed). In IDS mode Suricata hands a direction's bytes to the app
// layer only once acknowledged; the pipeline uses this to time its
// inspection the same way.
func (s *Session) Acked(dir flow.Direction) (uint64, bool) {
	d := &s.h[dir&1]
	if d.flags&(hStarted|hAcked) != hStarted|hAcked || d.flags&hDepth != 0 {
		return 0, false
	}
	pos := int64(d.off) + int64(int32(d.acked-d.next))
	return uint64(max(pos, 0)), true
}

// Swap exchanges the halves, for when flow.Flow.Swap reverses the flow.
func (s *Session) Swap() { s.h[0], s.h[1] = s.h[1], s.h[0] }

// Buffered returns the number of out-of-order segments held for dir.
func (s *Session) Buffered(dir flow.Direction) int { return int(s.h[dir&1].nseg) }

// segment is a buffered out-of-order segment. buf's capacity is a pool size
// class; its length is the data length.
type segment struct {
	seq  uint32
	next int32 // index+1 of the following segment, 0 = none
	buf  []byte
}

func (g *segment) end() uint32 { return g.seq + uint32(len(g.buf)) }

// pool size classes: 256 B << k, k < numClasses (256 B … 64 KiB).
const (
	minClassShift = 8
	numClasses    = 9
	maxSegData    = 1 << (minClassShift + numClasses - 1)
	// maxWindow bounds how far ahead of the delivery point a segment may be
	// buffered: TCP's largest window (2^30 with window scaling). Beyond it
	// a segment is dropped unless the receiver already acknowledged it.
	maxWindow = 1 << 30
)

// Reassembler owns the segment buffers and memcap accounting of one worker.
// It is not safe for concurrent use. In steady state (pools warm) it does
// not allocate.
//
// Policy:
//   - In-order data is delivered straight from the packet, never copied;
//     out-of-order data is copied into pooled buffers until the hole fills.
//   - Overlaps: first wins. Bytes already delivered or buffered are kept;
//     a retransmission with different data is counted
//     (tcp.overlap_diff_data) when the earlier copy is still buffered. Data
//     already delivered is not retained, so retransmissions of it are counted
//     as tcp.overlap only.
//   - Gaps: a hole is given up (Gap, then delivery resumes) when the peer
//     ACKs past its end (the bytes passed the sensor unseen), when buffering
//     would exceed Memcap or MaxSegmentsPerDir, and at Close.
//   - Mid-stream pickup: a direction with no SYN starts at its first data
//     segment (counted tcp.midstream_pickups); one-directional captures are
//     delivered the same way.
type Reassembler struct {
	opts  Options
	segs  []segment
	free  int32 // free segment list (index+1)
	pools [numClasses][][]byte

	inUse     int64 // capacity of buffers held by segments (tcp.reassembly_memuse)
	allocated int64 // capacity of all buffers, held or pooled

	ctr struct {
		sessions, syn, synack, rst, midstream        uint64
		memcapDrop, gap, overlap, overlapDiff, depth uint64
	}
}

// NewReassembler returns a Reassembler bounded by opts.
func NewReassembler(opts Options) *Reassembler {
	if opts.Depth < 0 {
		opts.Depth = 0
	}
	if opts.Memcap <= 0 {
		opts.Memcap = 64 << 20
	}
	if opts.MaxSegmentsPerDir <= 0 {
		opts.MaxSegmentsPerDir = 1024
	}
	if opts.MaxSegmentsPerDir > 65535 {
		opts.MaxSegmentsPerDir = 65535
	}
	return &Reassembler{opts: opts, segs: make([]segment, 0, 256)}
}

// Process accounts one TCP packet travelling in dir to session s and hands
// any data that became deliverable, in order, to h. SYN and SYN/ACK set the
// initial sequence number of their direction; the ACK field tells the other
// direction which of its bytes the receiver got (used to give up holes); FIN
// and RST are recorded. Data carried by RST segments is ignored.
func (r *Reassembler) Process(s *Session, dir flow.Direction, p *decode.Packet, h Handler) {
	dir &= 1
	fl := p.TCPFlags
	if s.h[0].flags&hCounted == 0 {
		s.h[0].flags |= hCounted
		s.h[1].flags |= hCounted
		r.ctr.sessions++
	}
	if fl&decode.TCPSyn != 0 {
		if fl&decode.TCPAck != 0 {
			r.ctr.synack++
		} else {
			r.ctr.syn++
		}
	}
	if fl&decode.TCPAck != 0 && fl&decode.TCPRst == 0 {
		r.ack(&s.h[dir^1], dir^1, p.TCPAck, h)
	}
	d := &s.h[dir]
	seq := p.TCPSeq
	if fl&decode.TCPSyn != 0 {
		if d.flags&hStarted == 0 {
			d.next = seq + 1
			d.flags |= hStarted
		}
		seq++
	}
	if fl&decode.TCPRst != 0 {
		r.ctr.rst++
		d.flags |= hRst
		return
	}
	data := p.Payload
	if fl&decode.TCPFin != 0 {
		d.flags |= hFin
		d.fin = seq + uint32(len(data))
	}
	if len(data) == 0 || d.flags&hDepth != 0 {
		return
	}
	if d.flags&hStarted == 0 {
		d.next = seq
		d.flags |= hStarted
		r.ctr.midstream++
	}
	r.data(d, dir, seq, data, h)
}

// data handles payload data starting at seq.
func (r *Reassembler) data(d *half, dir flow.Direction, seq uint32, data []byte, h Handler) {
	for len(data) > 0 && d.flags&hDepth == 0 {
		rel := int32(seq - d.next)
		if rel < 0 {
			r.ctr.overlap++
			if int64(-rel) >= int64(len(data)) {
				return // retransmission of delivered data
			}
			data = data[-rel:]
			seq = d.next
			continue
		}
		if rel == 0 {
			r.inOrder(d, dir, data, h)
			return
		}
		// Out of order. If the receiver already acknowledged seq, the hole
		// before it passed the sensor unseen: give it up.
		if d.flags&hAcked != 0 && int32(d.acked-seq) >= 0 {
			r.skipTo(d, dir, seq, h)
			continue
		}
		if rel > maxWindow {
			return
		}
		if r.insert(d, seq, data) {
			return
		}
		// No room: give up the first hole and retry (in order now, or the
		// next hole).
		r.ctr.memcapDrop++
		if d.head != 0 {
			r.skipHole(d, dir, h)
		} else {
			r.gap(d, dir, uint32(rel), h)
		}
	}
}

// inOrder delivers data, which starts at d.next, merging buffered segments
// it overlaps (first wins: buffered bytes are delivered in preference to the
// packet's), then drains buffered segments that became contiguous.
func (r *Reassembler) inOrder(d *half, dir flow.Direction, data []byte, h Handler) {
	for len(data) > 0 && d.flags&hDepth == 0 {
		if d.head == 0 {
			r.deliver(d, dir, data, h)
			break
		}
		g := &r.segs[d.head-1]
		rel := int32(g.seq - d.next)
		if rel > 0 {
			n := len(data)
			if int(rel) < n {
				n = int(rel)
			}
			r.deliver(d, dir, data[:n], h)
			data = data[n:]
			continue
		}
		// g starts at next: its bytes win over the packet's.
		b := g.buf[-rel:]
		n := len(b)
		if n > len(data) {
			n = len(data)
		}
		r.ctr.overlap++
		if string(b[:n]) != string(data[:n]) {
			r.ctr.overlapDiff++
		}
		data = data[n:]
		r.deliver(d, dir, b, h)
		if d.flags&hDepth != 0 {
			return // reachDepth freed the segments
		}
		r.popHead(d)
	}
	r.drain(d, dir, h)
}

// drain delivers buffered segments that start at or before d.next.
func (r *Reassembler) drain(d *half, dir flow.Direction, h Handler) {
	for d.head != 0 && d.flags&hDepth == 0 {
		g := &r.segs[d.head-1]
		rel := int32(g.seq - d.next)
		if rel > 0 {
			return
		}
		if int64(-rel) < int64(len(g.buf)) {
			r.deliver(d, dir, g.buf[-rel:], h)
			if d.flags&hDepth != 0 {
				return // reachDepth freed the segments
			}
		}
		r.popHead(d)
	}
}

// skipHole gives up the hole before the first buffered segment and drains.
func (r *Reassembler) skipHole(d *half, dir flow.Direction, h Handler) {
	if d.head == 0 {
		return
	}
	if rel := int32(r.segs[d.head-1].seq - d.next); rel > 0 {
		r.gap(d, dir, uint32(rel), h)
	}
	r.drain(d, dir, h)
}

// skipTo advances d.next to at least seq, delivering buffered segments and
// reporting the holes between them as gaps.
func (r *Reassembler) skipTo(d *half, dir flow.Direction, seq uint32, h Handler) {
	for int32(seq-d.next) > 0 && d.flags&hDepth == 0 {
		if d.head != 0 && int32(r.segs[d.head-1].seq-seq) < 0 {
			r.skipHole(d, dir, h)
			continue
		}
		r.gap(d, dir, seq-d.next, h)
		r.drain(d, dir, h)
	}
}

// ack records that the receiver of direction dir acknowledged up to ack and
// gives up holes whose following segment it acknowledged.
func (r *Reassembler) ack(d *half, dir flow.Direction, ack uint32, h Handler) {
	if d.flags&hStarted == 0 || d.flags&hDepth != 0 {
		return
	}
	if int32(ack-d.next) > maxWindow {
		return // not an acknowledgement of anything this side could have sent
	}
	if d.flags&hAcked == 0 || int32(ack-d.acked) > 0 {
		d.acked = ack
		d.flags |= hAcked
	}
	for d.head != 0 && d.flags&hDepth == 0 {
		g := &r.segs[d.head-1]
		if int32(d.acked-g.seq) < 0 {
			return
		}
		r.skipHole(d, dir, h)
	}
}

// deliver hands b, which starts at d.next, to h within the depth limit.
func (r *Reassembler) deliver(d *half, dir flow.Direction, b []byte, h Handler) {
	if depth := uint64(r.opts.Depth); depth > 0 && d.off+uint64(len(b)) >= depth {
		b = b[:depth-d.off]
		if len(b) > 0 {
			h.Data(dir, b)
		}
		d.next += uint32(len(b))
		d.off += uint64(len(b))
		r.reachDepth(d)
		return
	}
	h.Data(dir, b)
	d.next += uint32(len(b))
	d.off += uint64(len(b))
}

// gap reports n unseen bytes at d.next and moves past them.
func (r *Reassembler) gap(d *half, dir flow.Direction, n uint32, h Handler) {
	if n == 0 {
		return
	}
	depth := uint64(r.opts.Depth)
	reached := depth > 0 && d.off+uint64(n) >= depth
	if reached {
		n = uint32(depth - d.off) // report no position past the depth
	}
	if n > 0 {
		r.ctr.gap++
		h.Gap(dir, n)
	}
	d.next += n
	d.off += uint64(n)
	if reached {
		r.reachDepth(d)
	}
}

func (r *Reassembler) reachDepth(d *half) {
	d.flags |= hDepth
	r.ctr.depth++
	r.freeAll(d)
}

// Close delivers whatever s still buffers, reporting the holes before it as
// gaps, plus a final gap when a FIN was seen beyond the delivered data, and
// frees the buffers. Call it when the flow ends; s is then empty (but keeps
// its flags, so DepthReached still answers).
func (r *Reassembler) Close(s *Session, h Handler) {
	for i := range s.h {
		d := &s.h[i]
		dir := flow.Direction(i)
		for d.head != 0 && d.flags&hDepth == 0 {
			r.skipHole(d, dir, h)
		}
		if d.flags&(hFin|hDepth|hStarted) == hFin|hStarted {
			if n := int32(d.fin - d.next); n > 0 && n <= maxWindow {
				r.gap(d, dir, uint32(n), h)
			}
		}
		r.freeAll(d)
	}
}

// Release frees s's buffered segments without delivering them.
func (r *Reassembler) Release(s *Session) {
	r.freeAll(&s.h[0])
	r.freeAll(&s.h[1])
}

// Each calls fn with every counter under its Suricata stats name (EVE
// stats.tcp.*). tcp.memuse and tcp.reassembly_memuse are gauges in bytes:
// all buffer and segment memory the Reassembler holds, and the part of it
// holding out-of-order data (what Memcap limits).
func (r *Reassembler) Each(fn func(name string, v uint64)) {
	c := &r.ctr
	fn("tcp.sessions", c.sessions)
	fn("tcp.syn", c.syn)
	fn("tcp.synack", c.synack)
	fn("tcp.rst", c.rst)
	fn("tcp.midstream_pickups", c.midstream)
	fn("tcp.segment_memcap_drop", c.memcapDrop)
	fn("tcp.reassembly_gap", c.gap)
	fn("tcp.overlap", c.overlap)
	fn("tcp.overlap_diff_data", c.overlapDiff)
	fn("tcp.stream_depth_reached", c.depth)
	fn("tcp.memuse", uint64(r.allocated)+uint64(cap(r.segs))*segSize)
	fn("tcp.reassembly_memuse", uint64(r.inUse))
}
