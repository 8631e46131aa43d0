// Package defrag reassembles IPv4 and IPv6 fragments into whole datagrams
// for one worker. A Table is not safe for concurrent use: the pipeline
// shards by address pair so that every fragment of a datagram reaches the
// same worker, which owns its Table (no locks).
//
// Overlap policy: BSD, Suricata's default (defrag.default-policy: bsd),
// from Novak's "Target-Based Fragmentation Reassembly". Where a fragment
// overlaps bytes already held, the held bytes win, unless the new fragment
// starts at a lower offset than the fragment that supplied them, in which
// case the new bytes win. Every overlap (including exact duplicates) is
// counted and flagged on the packet (ipv4.frag_overlap, ipv6.frag_overlap)
// so rules can alert on evasion attempts whatever the policy.
package defrag

import (
	"encoding/binary"
	"time"

	"github.com/polder-nsm/polder/sensor/decode"
)

// Defaults for zero Options fields, Suricata's defrag defaults.
const (
	DefaultMaxTrackers = 65535
	DefaultMaxBytes    = 32 << 20 // 32 MiB, Suricata defrag.memcap
	DefaultTimeout     = 60 * time.Second
)

// MaxRanges bounds how many disjoint byte ranges one datagram may be in
// while it is being reassembled; a datagram cut into more holes than this is
// dropped (counted in Counters.TooManyRanges). It caps per-tracker work
// against floods of tiny fragments.
const MaxRanges = 128

// maxDatagram is the largest IP datagram (total length is 16 bits; for IPv6
// the payload length excludes the 40-byte header, jumbograms not supported).
const maxDatagram = 65535

// Options bound a Table. The zero value of each field selects its default.
type Options struct {
	// MaxTrackers is how many datagrams may be in reassembly at once; when
	// full, the oldest is evicted. 0 means DefaultMaxTrackers (65535).
	MaxTrackers int
	// MaxBytes caps the bytes of reassembly buffers held by all trackers;
	// oldest trackers are evicted to make room. 0 means DefaultMaxBytes
	// (32 MiB).
	MaxBytes int64
	// Timeout is how long, in packet time since its first fragment, a
	// datagram may stay incomplete before it is dropped. 0 means
	// DefaultTimeout (60 s).
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxTrackers <= 0 {
		o.MaxTrackers = DefaultMaxTrackers
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// Counters are the defrag statistics, named after Suricata's defrag.* stats.
type Counters struct {
	IPv4Fragments, IPv4Reassembled, IPv4Timeouts uint64
	IPv6Fragments, IPv6Reassembled, IPv6Timeouts uint64
	Overlaps                                     uint64 // fragments that overlapped data already held
	TooLarge                                     uint64 // fragments that would make a datagram larger than 65535 bytes
	InvalidLength                                uint64 // IPv6 non-last fragments whose length is not a multiple of 8
	MaxTrackersReached                           uint64 // trackers evicted because MaxTrackers was reached
	Memcap                                       uint64 // trackers evicted or fragments dropped because of MaxBytes
	TooManyRanges                                uint64 // datagrams dropped for exceeding MaxRanges holes
}

// Each calls fn with each counter's dotted EVE stats name and value in a
// fixed order. It does not allocate. Only Suricata 8's defrag.* names are
// used (the EVE schema allows no others): overlaps, oversized and
// bad-length fragments are decoder events in Suricata
// (decoder.event.ipv4.frag_overlap, ...), which the pipeline counts from
// the packet's events; drops for memory or hole limits fold into
// max_frags_reached.
func (c *Counters) Each(fn func(name string, v uint64)) {
	fn("defrag.ipv4.fragments", c.IPv4Fragments)
	fn("defrag.ipv4.reassembled", c.IPv4Reassembled)
	fn("defrag.ipv4.timeouts", c.IPv4Timeouts)
	fn("defrag.ipv6.fragments", c.IPv6Fragments)
	fn("defrag.ipv6.reassembled", c.IPv6Reassembled)
	fn("defrag.ipv6.timeouts", c.IPv6Timeouts)
	fn("defrag.max_trackers_reached", c.MaxTrackersReached)
	fn("defrag.max_frags_reached", c.Memcap+c.TooManyRanges)
}

// key identifies one datagram being reassembled: RFC 791 (src, dst, proto,
// id) for IPv4, RFC 8200 (src, dst, id) for IPv6, plus the VLAN ids as
// Suricata does, so identical ids on different VLANs never mix.
type key struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	ver      uint8
	vlan     [decode.MaxVLAN]uint16
}

// span is a byte range [start, end) of a datagram held in a tracker; owner
// is the offset of the fragment that supplied those bytes (for the overlap
// policy).
type span struct{ start, end, owner int32 }

// tracker holds one datagram in reassembly. Trackers live in Table.trackers
// and are linked oldest-first by index.
type tracker struct {
	k          key
	first      time.Time // packet time of the first fragment seen
	buf        []byte    // fragment data at its offset; len is the highest end seen
	hdr        []byte    // IPv4 header or IPv6 unfragmentable part, from the offset-0 fragment
	ranges     []span    // received byte ranges, sorted and disjoint
	total      int       // datagram payload length, once the last fragment is seen
	nhAt       int       // IPv6: offset in hdr of the Next Header byte to patch
	nh         uint8     // IPv6: next header after the fragment header, from offset 0
	haveFirst  bool
	haveLast   bool
	prev, next int32
	live       bool
}

// Table reassembles fragments. Create it with NewTable; it is owned by one
// goroutine.
type Table struct {
	Counters Counters

	opt      Options
	index    map[key]int32
	trackers []tracker
	free     []int32
	head     int32 // oldest live tracker, -1 when none
	tail     int32
	live     int
	mem      int64
	out      []byte
	scratch  []span // spare ranges slice swapped with a tracker's on insert
}

// NewTable returns an empty Table bounded by o (zero fields take defaults).
func NewTable(o Options) *Table {
	o = o.withDefaults()
	return &Table{
		opt:   o,
		index: make(map[key]int32, min(o.MaxTrackers, 1024)),
		head:  -1,
		tail:  -1,
	}
}

// Len returns the number of datagrams in reassembly.
func (t *Table) Len() int { return t.live }

// MemBytes returns the bytes of reassembly buffers currently accounted
// against MaxBytes.
func (t *Table) MemBytes() int64 { return t.mem }

// Add stores the fragment p (p.Fragment must be set, as decode.Decoder
// leaves it; other packets return nil, false) received at now (packet
// time). When the fragment completes its datagram, Add returns the whole IP
// datagram: the first fragment's header (IPv4: total length, flags and
// offset fixed, checksum recomputed; IPv6: unfragmentable part with the
// fragment header removed and the payload length fixed) followed by the
// payload. The slice is owned by the Table and valid until the next Add.
//
// Overlaps set decode.ReasonIPv4FragOverlap/ReasonIPv6FragOverlap in
// p.Events; oversize datagrams set ...FragPktTooLarge, and IPv6 non-final
// fragments with a length not a multiple of 8 set IPv6FragInvalidLength and
// are dropped. Incomplete datagrams expire Timeout after their first
// fragment, checked against now on every Add.
func (t *Table) Add(p *decode.Packet, now time.Time) (datagram []byte, done bool) {
	if !p.Fragment || (p.IPVersion != 4 && p.IPVersion != 6) {
		return nil, false
	}
	t.expire(now)
	v6 := p.IPVersion == 6
	if v6 {
		t.Counters.IPv6Fragments++
	} else {
		t.Counters.IPv4Fragments++
	}
	data := p.Payload
	off := int(p.FragOffset)
	end := off + len(data)
	hlen := p.L4Offset - p.L3Offset // IPv4 header; IPv6 unfragmentable part + 8
	if v6 {
		hlen -= 8
	}
	if hlen < 0 || p.L3Offset < 0 || p.L4Offset > len(p.Data) {
		return nil, false
	}
	if v6 && p.MoreFrags && len(data)%8 != 0 {
		t.Counters.InvalidLength++
		p.Events.Add(decode.ReasonIPv6FragInvalidLength)
		return nil, false
	}
	if hlen+end > maxDatagram {
		t.Counters.TooLarge++
		if v6 {
			p.Events.Add(decode.ReasonIPv6FragPktTooLarge)
		} else {
			p.Events.Add(decode.ReasonIPv4FragPktTooLarge)
		}
		return nil, false
	}

	k := key{src: p.Src, dst: p.Dst, id: p.IPID, ver: p.IPVersion, vlan: p.VLAN}
	if !v6 {
		k.proto = p.IPProto
	}
	i, ok := t.index[k]
	if !ok {
		i = t.create(k, now)
	}
	tr := &t.trackers[i]

	if tr.haveLast && end > tr.total {
		// Data beyond the end the last fragment announced: keep the datagram
		// as first announced and ignore the excess.
		t.overlap(p, v6)
		if off >= tr.total {
			return nil, false
		}
		data = data[:tr.total-off]
		end = tr.total
	}
	if !p.MoreFrags {
		if tr.haveLast {
			if end != tr.total {
				t.overlap(p, v6)
			}
		} else if end < len(tr.buf) {
			// Data already held beyond this "last" fragment: trust the first
			// arrivals, keep waiting, but flag it.
			t.overlap(p, v6)
		} else {
			tr.haveLast = true
			tr.total = end
		}
	}

	if end > cap(tr.buf) {
		if !t.grow(i, end) {
			return nil, false
		}
		tr = &t.trackers[i]
	}
	if end > len(tr.buf) {
		tr.buf = tr.buf[:end]
	}
	overlapped, ok := t.insert(tr, int32(off), int32(end), data)
	if !ok {
		t.Counters.TooManyRanges++
		t.remove(i)
		return nil, false
	}
	if overlapped {
		t.overlap(p, v6)
	}
	if off == 0 && !tr.haveFirst {
		tr.haveFirst = true
		tr.hdr = append(tr.hdr[:0], p.Data[p.L3Offset:p.L3Offset+hlen]...)
		tr.nh = p.IPProto
		tr.nhAt = int(p.FragNextHeaderAt)
	}
	if !tr.complete() {
		return nil, false
	}
	out, ok := t.build(tr, v6)
	t.remove(i)
	if !ok {
		return nil, false
	}
	if v6 {
		t.Counters.IPv6Reassembled++
	} else {
		t.Counters.IPv4Reassembled++
	}
	return out, true
}

func (t *Table) overlap(p *decode.Packet, v6 bool) {
	t.Counters.Overlaps++
	if v6 {
		p.Events.Add(decode.ReasonIPv6FragOverlap)
	} else {
		p.Events.Add(decode.ReasonIPv4FragOverlap)
	}
}

// insert places data, the fragment covering [s, e) of the datagram, under
// the BSD policy and updates tr.ranges. Each range remembers the offset of
// the fragment that supplied its bytes (owner). Where the new fragment meets
// bytes already held, it replaces them only if it starts before the fragment
// that supplied them (s < owner); otherwise the held bytes stay. It reports
// whether any byte was already held, and ok false when the ranges would
// exceed MaxRanges.
func (t *Table) insert(tr *tracker, s, e int32, data []byte) (overlapped, ok bool) {
	if s >= e {
		return false, true
	}
	out := t.scratch[:0]
	put := func(a, b int32) { // new bytes [a, b) into the buffer, owned by s
		copy(tr.buf[a:b], data[a-s:b-s])
		out = appendSpan(out, span{a, b, s})
	}
	pos := s
	for _, g := range tr.ranges {
		switch {
		case g.end <= s:
			out = appendSpan(out, g)
			continue
		case g.start >= e:
			if pos < e {
				put(pos, e)
				pos = e
			}
			out = appendSpan(out, g)
			continue
		}
		if pos < g.start {
			put(pos, g.start)
		}
		if g.start < s {
			out = appendSpan(out, span{g.start, s, g.owner})
		}
		a, b := max(g.start, s), min(g.end, e)
		overlapped = true
		if s < g.owner {
			put(a, b)
		} else {
			out = appendSpan(out, span{a, b, g.owner})
		}
		pos = max(pos, b)
		if g.end > e {
			out = appendSpan(out, span{e, g.end, g.owner})
		}
	}
	if pos < e {
		put(pos, e)
	}
	if len(out) > MaxRanges {
		t.scratch = out[:0]
		return overlapped, false
	}
	tr.ranges, t.scratch = out, tr.ranges[:0]
	return overlapped, true
}

// appendSpan appends g, merging it into the last span when they touch and
// share an owner, so a datagram received without overlaps is one span.
func appendSpan(out []span, g span) []span {
	if n := len(out); n > 0 && out[n-1].end == g.start && out[n-1].owner == g.owner {
		out[n-1].end = g.end
		return out
	}
	return append(out, g)
}

// complete reports whether tr holds every byte of a datagram whose first
// and last fragments have arrived.
func (tr *tracker) complete() bool {
	if !tr.haveFirst || !tr.haveLast || len(tr.ranges) == 0 || tr.ranges[0].start != 0 {
		return false
	}
	for i := 1; i < len(tr.ranges); i++ {
		if tr.ranges[i].start != tr.ranges[i-1].end {
			return false
		}
	}
	return int(tr.ranges[len(tr.ranges)-1].end) == tr.total
}

// build writes the reassembled datagram into t.out.
func (t *Table) build(tr *tracker, v6 bool) ([]byte, bool) {
	n := len(tr.hdr) + tr.total
	if n > maxDatagram+40 || (!v6 && n > maxDatagram) || len(tr.hdr) < 20 {
		return nil, false
	}
	if cap(t.out) < n {
		t.out = make([]byte, n, max(n, 2048))
	}
	out := t.out[:n]
	copy(out, tr.hdr)
	copy(out[len(tr.hdr):], tr.buf[:tr.total])
	if v6 {
		if len(tr.hdr) < 40 || tr.nhAt >= len(tr.hdr) || n-40 > maxDatagram {
			return nil, false
		}
		binary.BigEndian.PutUint16(out[4:], uint16(n-40))
		out[tr.nhAt] = tr.nh
		return out, true
	}
	binary.BigEndian.PutUint16(out[2:], uint16(n))
	out[6] &= 0x40 // keep DF, clear MF and the offset
	out[7] = 0
	out[10], out[11] = 0, 0
	hl := int(out[0]&0x0f) * 4
	if hl < 20 || hl > len(tr.hdr) {
		return nil, false
	}
	binary.BigEndian.PutUint16(out[10:], checksum(out[:hl]))
	return out, true
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// create starts a tracker for k, evicting the oldest when MaxTrackers are in
// use.
func (t *Table) create(k key, now time.Time) int32 {
	if t.live >= t.opt.MaxTrackers && t.head >= 0 {
		t.Counters.MaxTrackersReached++
		t.remove(t.head)
	}
	var i int32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.trackers = append(t.trackers, tracker{})
		i = int32(len(t.trackers) - 1)
	}
	tr := &t.trackers[i]
	if t.mem+int64(cap(tr.buf)) > t.opt.MaxBytes {
		tr.buf = nil // a reused buffer must fit the budget too
	}
	*tr = tracker{k: k, first: now, buf: tr.buf[:0], hdr: tr.hdr[:0], ranges: tr.ranges[:0],
		prev: t.tail, next: -1, live: true}
	t.mem += int64(cap(tr.buf))
	if t.tail >= 0 {
		t.trackers[t.tail].next = i
	} else {
		t.head = i
	}
	t.tail = i
	t.index[k] = i
	t.live++
	return i
}

// grow makes tracker i's buffer hold n bytes, evicting the oldest other
// trackers while the Table is over MaxBytes. It returns false, dropping
// tracker i, when even that does not make room.
func (t *Table) grow(i int32, n int) bool {
	tr := &t.trackers[i]
	c := max(2*cap(tr.buf), 1500)
	c = min(max(c, n), maxDatagram)
	delta := int64(c - cap(tr.buf))
	for j := t.head; j >= 0 && t.mem+delta > t.opt.MaxBytes; {
		next := t.trackers[j].next
		if j != i {
			t.Counters.Memcap++
			t.remove(j)
		}
		j = next
	}
	if t.mem+delta > t.opt.MaxBytes {
		t.Counters.Memcap++
		t.remove(i)
		return false
	}
	tr = &t.trackers[i]
	nb := make([]byte, len(tr.buf), c)
	copy(nb, tr.buf)
	tr.buf = nb
	t.mem += delta
	return true
}

// remove unlinks and frees tracker i. Its buffers are kept for reuse but
// released from the memory account only if they are small, so MaxBytes also
// bounds what idle trackers hold.
func (t *Table) remove(i int32) {
	tr := &t.trackers[i]
	if !tr.live {
		return
	}
	if tr.prev >= 0 {
		t.trackers[tr.prev].next = tr.next
	} else {
		t.head = tr.next
	}
	if tr.next >= 0 {
		t.trackers[tr.next].prev = tr.prev
	} else {
		t.tail = tr.prev
	}
	delete(t.index, tr.k)
	t.mem -= int64(cap(tr.buf))
	if cap(tr.buf) > 4096 {
		tr.buf = nil // large buffers go back to the GC
	}
	tr.live = false
	t.live--
	t.free = append(t.free, i)
}

// expire drops trackers whose first fragment is older than Timeout.
// Trackers are linked in creation order, so only the head needs checking.
func (t *Table) expire(now time.Time) {
	for t.head >= 0 {
		tr := &t.trackers[t.head]
		if now.Sub(tr.first) < t.opt.Timeout {
			return
		}
		if tr.k.ver == 6 {
			t.Counters.IPv6Timeouts++
		} else {
			t.Counters.IPv4Timeouts++
		}
		t.remove(t.head)
	}
}
