package defrag_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/defrag"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// udpDatagram returns a UDP header plus n bytes of patterned payload: the
// unfragmented transport data the tests split up.
func udpDatagram(n int) []byte {
	b := make([]byte, 8+n)
	binary.BigEndian.PutUint16(b[0:], 1234)
	binary.BigEndian.PutUint16(b[2:], 53)
	binary.BigEndian.PutUint16(b[4:], uint16(8+n))
	for i := range n {
		b[8+i] = byte(i*7 + 1)
	}
	return b
}

// frag4 builds a raw IPv4 fragment: data at byte offset off.
func frag4(id uint16, off int, mf bool, data []byte) []byte {
	h := make([]byte, 20, 20+len(data))
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(data)))
	binary.BigEndian.PutUint16(h[4:], id)
	fo := uint16(off / 8)
	if mf {
		fo |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], fo)
	h[8], h[9] = 64, decode.IPProtoUDP
	copy(h[12:], []byte{192, 0, 2, 1, 192, 0, 2, 2})
	return append(h, data...)
}

// frag6 builds a raw IPv6 fragment with a destination options header before
// the fragment header, so the unfragmentable part is not just the base
// header.
func frag6(id uint32, off int, mf bool, data []byte) []byte {
	b := make([]byte, 40+8+8, 56+len(data))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(16+len(data)))
	b[6], b[7] = 0, 64 // hop-by-hop first
	b[8], b[23] = 0x20, 1
	b[24], b[39] = 0x20, 2
	b[40], b[41] = 44, 0 // hop-by-hop: next is fragment, 8 bytes
	b[42], b[43] = 5, 2  // router alert
	fo := uint16(off) &^ 7
	if mf {
		fo |= 1
	}
	b[48] = decode.IPProtoUDP
	binary.BigEndian.PutUint16(b[50:], fo)
	binary.BigEndian.PutUint32(b[52:], id)
	return append(b, data...)
}

type splitter func(id uint32, off int, mf bool, data []byte) []byte

var (
	split4 splitter = func(id uint32, off int, mf bool, d []byte) []byte { return frag4(uint16(id), off, mf, d) }
	split6 splitter = frag6
)

// pieces cuts dg at the given offsets (multiples of 8).
func pieces(mk splitter, id uint32, dg []byte, cuts ...int) [][]byte {
	var out [][]byte
	prev := 0
	for _, c := range append(cuts, len(dg)) {
		out = append(out, mk(id, prev, c < len(dg), dg[prev:c]))
		prev = c
	}
	return out
}

type harness struct {
	t   *testing.T
	d   decode.Decoder
	tab *defrag.Table
	p   decode.Packet
}

func newHarness(t *testing.T, o defrag.Options) *harness {
	return &harness{t: t, tab: defrag.NewTable(o)}
}

// add decodes a raw IP fragment and adds it; it returns the reassembled
// datagram re-decoded into h.p, or nil.
func (h *harness) add(raw []byte, now time.Time) []byte {
	h.t.Helper()
	f := capture.Frame{Data: raw, OrigLen: len(raw), LinkType: capture.LinkTypeRaw, Timestamp: now}
	if r := h.d.Decode(&h.p, &f); r != decode.ReasonNone {
		h.t.Fatalf("decode fragment: %v", r)
	}
	if !h.p.Fragment {
		h.t.Fatalf("not a fragment")
	}
	dg, done := h.tab.Add(&h.p, now)
	if !done {
		return nil
	}
	if r := h.d.DecodeDatagram(&h.p, dg); r != decode.ReasonNone {
		h.t.Fatalf("decode datagram: %v", r)
	}
	return dg
}

func TestReassembleOrders(t *testing.T) {
	dg := udpDatagram(3000)
	for _, v := range []struct {
		name string
		mk   splitter
	}{{"ipv4", split4}, {"ipv6", split6}} {
		for _, order := range []struct {
			name string
			idx  []int
		}{
			{"in order", []int{0, 1, 2, 3}},
			{"reverse", []int{3, 2, 1, 0}},
			{"shuffled", []int{2, 0, 3, 1}},
			{"last first", []int{3, 0, 1, 2}},
		} {
			t.Run(v.name+" "+order.name, func(t *testing.T) {
				h := newHarness(t, defrag.Options{})
				ps := pieces(v.mk, 7, dg, 1000, 1480, 2960)
				var got []byte
				for i, k := range order.idx {
					got = h.add(ps[k], t0)
					if (got != nil) != (i == len(order.idx)-1) {
						t.Fatalf("fragment %d: done=%v", i, got != nil)
					}
				}
				checkDatagram(t, &h.p, dg)
				if h.tab.Len() != 0 {
					t.Errorf("Len = %d after completion", h.tab.Len())
				}
				if h.tab.Counters.Overlaps != 0 {
					t.Errorf("overlaps = %d", h.tab.Counters.Overlaps)
				}
			})
		}
	}
}

// checkDatagram asserts the re-decoded datagram is the UDP datagram dg.
func checkDatagram(t *testing.T, p *decode.Packet, dg []byte) {
	t.Helper()
	if p.Fragment || p.IPProto != decode.IPProtoUDP || p.SrcPort != 1234 || p.DstPort != 53 {
		t.Fatalf("datagram: frag=%v proto=%d ports %d>%d", p.Fragment, p.IPProto, p.SrcPort, p.DstPort)
	}
	if !bytes.Equal(p.Payload, dg[8:]) {
		t.Fatalf("payload differs (len %d vs %d)", len(p.Payload), len(dg)-8)
	}
	if p.IPVersion == 4 {
		ip := p.Data
		if int(binary.BigEndian.Uint16(ip[2:])) != len(ip) || ip[6]&0x3f != 0 || ip[7] != 0 {
			t.Errorf("ipv4 header not fixed: % x", ip[:20])
		}
		var s uint32
		for i := 0; i < 20; i += 2 {
			s += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		for s>>16 != 0 {
			s = s&0xffff + s>>16
		}
		if s != 0xffff {
			t.Errorf("ipv4 checksum invalid")
		}
	}
}

// TestOverlapBSD checks the BSD policy: held bytes win over a fragment that
// starts at or after the fragment that supplied them; a fragment starting
// before it wins.
func TestOverlapBSD(t *testing.T) {
	a := udpDatagram(40)                // 48 bytes: the "original" data
	x := bytes.Repeat([]byte{0xee}, 48) // the overlapping rewrite
	tests := []struct {
		name  string
		frags func(mk splitter) [][]byte
		want  []byte // datagram bytes after reassembly
	}{
		{
			// original [0,32), then [16,48) starting later: original kept on [16,32)
			name:  "later start keeps original",
			frags: func(mk splitter) [][]byte { return [][]byte{mk(9, 0, true, a[:32]), mk(9, 16, false, x[16:48])} },
			want:  append(append([]byte(nil), a[:32]...), x[32:48]...),
		},
		{
			// original [16,48) last, then [0,32) starting earlier: new wins on [16,32)
			name:  "earlier start wins",
			frags: func(mk splitter) [][]byte { return [][]byte{mk(9, 16, false, x[16:48]), mk(9, 0, true, a[:32])} },
			want:  append(append([]byte(nil), a[:32]...), x[32:48]...),
		},
		{
			// original [8,24), then [8,40) at the same offset: original kept on [8,24)
			name: "same start keeps original",
			frags: func(mk splitter) [][]byte {
				return [][]byte{mk(9, 8, true, x[8:24]), mk(9, 8, true, a[8:40]), mk(9, 0, true, a[:8]), mk(9, 40, false, a[40:48])}
			},
			want: append(append(append([]byte(nil), a[:8]...), x[8:24]...), a[24:48]...),
		},
	}
	for _, v := range []struct {
		name string
		mk   splitter
		ev   decode.Reason
	}{{"ipv4", split4, decode.ReasonIPv4FragOverlap}, {"ipv6", split6, decode.ReasonIPv6FragOverlap}} {
		for _, tt := range tests {
			t.Run(v.name+" "+tt.name, func(t *testing.T) {
				h := newHarness(t, defrag.Options{})
				var got []byte
				overlapSeen := false
				for _, f := range tt.frags(v.mk) {
					got = h.add(f, t0)
					if got == nil && h.p.Events.Has(v.ev) {
						overlapSeen = true
					}
				}
				if got == nil {
					t.Fatal("not complete")
				}
				if !overlapSeen && !h.p.Events.Has(v.ev) {
					t.Errorf("overlap event missing")
				}
				if h.tab.Counters.Overlaps == 0 {
					t.Errorf("Overlaps not counted")
				}
				// h.p.Payload is the UDP payload: datagram bytes from 8.
				if !bytes.Equal(h.p.Payload, tt.want[8:]) {
					t.Errorf("BSD policy violated:\n got % x\nwant % x", h.p.Payload, tt.want[8:])
				}
			})
		}
	}
}

func TestDuplicateAndMissing(t *testing.T) {
	h := newHarness(t, defrag.Options{Timeout: 30 * time.Second})
	dg := udpDatagram(100)
	ps := pieces(split4, 1, dg, 48)
	h.add(ps[0], t0)
	h.add(ps[0], t0) // duplicate
	if h.tab.Counters.Overlaps != 1 {
		t.Errorf("duplicate not counted as overlap: %d", h.tab.Counters.Overlaps)
	}
	if h.add(ps[1], t0) == nil {
		t.Fatal("duplicate prevented completion")
	}
	checkDatagram(t, &h.p, dg)

	// Missing middle piece: never completes, then times out.
	ps = pieces(split4, 2, dg, 32, 64)
	h.add(ps[0], t0)
	h.add(ps[2], t0)
	if h.tab.Len() != 1 {
		t.Fatalf("Len = %d, want 1", h.tab.Len())
	}
	h.add(pieces(split4, 3, dg, 32)[0], t0.Add(31*time.Second)) // triggers expiry
	if h.tab.Counters.IPv4Timeouts != 1 || h.tab.Len() != 1 {
		t.Errorf("timeouts = %d, Len = %d", h.tab.Counters.IPv4Timeouts, h.tab.Len())
	}
	// The late middle piece of the expired datagram starts a new tracker.
	if h.add(ps[1], t0.Add(31*time.Second)) != nil {
		t.Error("expired datagram completed")
	}
}

func TestLimits(t *testing.T) {
	dg := udpDatagram(1500)
	t.Run("trackers", func(t *testing.T) {
		h := newHarness(t, defrag.Options{MaxTrackers: 2})
		for id := uint32(1); id <= 3; id++ {
			h.add(pieces(split4, id, dg, 800)[0], t0)
		}
		if h.tab.Len() != 2 || h.tab.Counters.MaxTrackersReached != 1 {
			t.Fatalf("Len %d, reached %d", h.tab.Len(), h.tab.Counters.MaxTrackersReached)
		}
		// The oldest (id 1) was evicted: its last piece does not complete it.
		if h.add(pieces(split4, 1, dg, 800)[1], t0) != nil {
			t.Error("evicted datagram completed")
		}
		if h.add(pieces(split4, 3, dg, 800)[1], t0) == nil {
			t.Error("newest datagram did not complete")
		}
	})
	t.Run("memory", func(t *testing.T) {
		h := newHarness(t, defrag.Options{MaxBytes: 8000})
		for id := uint32(1); id <= 20; id++ {
			h.add(pieces(split4, id, dg, 800)[0], t0)
			if h.tab.MemBytes() > 8000 {
				t.Fatalf("MemBytes %d over limit", h.tab.MemBytes())
			}
		}
		if h.tab.Counters.Memcap == 0 {
			t.Error("memcap never hit")
		}
		if h.add(pieces(split4, 20, dg, 800)[1], t0) == nil {
			t.Error("newest datagram did not complete under memory pressure")
		}
	})
	t.Run("too large", func(t *testing.T) {
		h := newHarness(t, defrag.Options{})
		h.add(frag4(1, 65528, false, make([]byte, 16)), t0)
		if h.tab.Counters.TooLarge != 1 || !h.p.Events.Has(decode.ReasonIPv4FragPktTooLarge) {
			t.Errorf("too large not flagged")
		}
	})
	t.Run("ipv6 invalid length", func(t *testing.T) {
		h := newHarness(t, defrag.Options{})
		h.add(frag6(1, 0, true, make([]byte, 13)), t0)
		if h.tab.Counters.InvalidLength != 1 || !h.p.Events.Has(decode.ReasonIPv6FragInvalidLength) {
			t.Errorf("invalid length not flagged")
		}
	})
	t.Run("too many holes", func(t *testing.T) {
		h := newHarness(t, defrag.Options{})
		for i := 0; i < defrag.MaxRanges+1; i++ {
			h.add(frag4(1, i*16, true, make([]byte, 8)), t0)
		}
		if h.tab.Counters.TooManyRanges != 1 {
			t.Errorf("TooManyRanges = %d", h.tab.Counters.TooManyRanges)
		}
	})
}

func TestAddAllocs(t *testing.T) {
	h := newHarness(t, defrag.Options{})
	dg := udpDatagram(1000)
	var ps [][]decode.Packet
	for id := uint32(0); id < 4; id++ {
		var row []decode.Packet
		for _, raw := range pieces(split4, id, dg, 496) {
			var p decode.Packet
			f := capture.Frame{Data: raw, OrigLen: len(raw), LinkType: capture.LinkTypeRaw}
			h.d.Decode(&p, &f)
			row = append(row, p)
		}
		ps = append(ps, row)
	}
	run := func() {
		for _, row := range ps {
			for i := range row {
				p := row[i]
				h.tab.Add(&p, t0)
			}
		}
	}
	run() // warm up buffers
	if n := testing.AllocsPerRun(50, run); n != 0 {
		t.Errorf("%v allocs per 4 datagrams in steady state, want 0", n)
	}
}

func TestCountersEach(t *testing.T) {
	var c defrag.Counters
	var names []string
	c.Each(func(n string, _ uint64) { names = append(names, n) })
	if len(names) == 0 || names[0] != "defrag.ipv4.fragments" {
		t.Errorf("names = %v", names)
	}
}

func BenchmarkAdd(b *testing.B) {
	tab := defrag.NewTable(defrag.Options{})
	var d decode.Decoder
	dg := udpDatagram(2900)
	var ps []decode.Packet
	for _, raw := range pieces(split4, 1, dg, 1480) {
		var p decode.Packet
		f := capture.Frame{Data: raw, OrigLen: len(raw), LinkType: capture.LinkTypeRaw}
		d.Decode(&p, &f)
		ps = append(ps, p)
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range ps {
			p := ps[i]
			tab.Add(&p, t0)
		}
	}
}
