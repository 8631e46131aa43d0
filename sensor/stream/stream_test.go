package stream

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/flow"
)

// rec records what a Reassembler delivers, rendering gaps as "[gN]".
type rec struct {
	out [2]strings.Builder
}

func (r *rec) Data(dir flow.Direction, b []byte) { r.out[dir].Write(b) }
func (r *rec) Gap(dir flow.Direction, n uint32)  { fmt.Fprintf(&r.out[dir], "[g%d]", n) }

// nop discards everything without allocating.
type nop struct{ n int }

func (h *nop) Data(dir flow.Direction, b []byte) { h.n += len(b) }
func (h *nop) Gap(dir flow.Direction, n uint32)  { h.n += int(n) }

const (
	S  = decode.TCPSyn
	A  = decode.TCPAck
	F  = decode.TCPFin
	R  = decode.TCPRst
	SA = decode.TCPSyn | decode.TCPAck
	PA = decode.TCPPsh | decode.TCPAck
	FA = decode.TCPFin | decode.TCPAck
)

// step is one packet: direction, sequence and ack numbers, flags, payload.
type step struct {
	dir   flow.Direction
	seq   uint32
	ack   uint32
	flags uint8
	data  string
}

func pkt(p *decode.Packet, s step) {
	*p = decode.Packet{IPVersion: 4, IPProto: decode.IPProtoTCP, TCPSeq: s.seq, TCPAck: s.ack, TCPFlags: s.flags}
	if s.data != "" {
		p.Payload = []byte(s.data)
	}
}

func run(r *Reassembler, steps []step, close bool) (ts, tc string, s *Session) {
	s = new(Session)
	h := new(rec)
	var p decode.Packet
	for _, st := range steps {
		pkt(&p, st)
		r.Process(s, st.dir, &p, h)
	}
	if close {
		r.Close(s, h)
	}
	return h.out[0].String(), h.out[1].String(), s
}

func counters(r *Reassembler) map[string]uint64 {
	m := map[string]uint64{}
	r.Each(func(n string, v uint64) { m[n] = v })
	return m
}

const ts, tc = flow.ToServer, flow.ToClient

func TestProcess(t *testing.T) {
	hs := []step{{ts, 100, 0, S, ""}, {tc, 500, 101, SA, ""}, {ts, 101, 501, A, ""}}
	with := func(s ...step) []step { return append(append([]step{}, hs...), s...) }
	tests := []struct {
		name     string
		opts     Options
		steps    []step
		noClose  bool
		wantTS   string
		wantTC   string
		counters map[string]uint64
	}{
		{name: "in order", steps: with(
			step{ts, 101, 501, PA, "GET / "}, step{ts, 107, 501, PA, "HTTP/1.1"},
			step{tc, 501, 115, PA, "HTTP/1.1 200"}),
			wantTS: "GET / HTTP/1.1", wantTC: "HTTP/1.1 200",
			counters: map[string]uint64{"tcp.sessions": 1, "tcp.syn": 1, "tcp.synack": 1, "tcp.reassembly_gap": 0}},
		{name: "reverse order", steps: with(
			step{ts, 109, 0, A, "ij"}, step{ts, 105, 0, A, "efgh"}, step{ts, 103, 0, A, "cd"}, step{ts, 101, 0, A, "ab"}),
			noClose: true, wantTS: "abcdefghij", counters: map[string]uint64{"tcp.reassembly_memuse": 0}},
		{name: "duplicate", steps: with(
			step{ts, 101, 0, A, "abc"}, step{ts, 101, 0, A, "abc"}, step{ts, 104, 0, A, "def"}),
			wantTS: "abcdef", counters: map[string]uint64{"tcp.overlap": 1}},
		{name: "partial overlap same data", steps: with(
			step{ts, 101, 0, A, "abcd"}, step{ts, 103, 0, A, "cdef"}),
			wantTS: "abcdef", counters: map[string]uint64{"tcp.overlap": 1, "tcp.overlap_diff_data": 0}},
		{name: "overlap buffered different data first wins", steps: with(
			step{ts, 104, 0, A, "DEF"}, step{ts, 103, 0, A, "cdefg"}, step{ts, 101, 0, A, "ab"}),
			noClose: true, wantTS: "abcDEFg", counters: map[string]uint64{"tcp.overlap": 1, "tcp.overlap_diff_data": 1}},
		{name: "in-order packet over buffered data: buffered wins", steps: with(
			step{ts, 103, 0, A, "XY"}, step{ts, 101, 0, A, "abcdef"}),
			noClose: true, wantTS: "abXYef", counters: map[string]uint64{"tcp.overlap_diff_data": 1}},
		{name: "hole then fill", steps: with(
			step{ts, 101, 0, A, "ab"}, step{ts, 105, 0, A, "ef"}, step{ts, 103, 0, A, "cd"}),
			noClose: true, wantTS: "abcdef", counters: map[string]uint64{"tcp.reassembly_gap": 0}},
		{name: "hole never filled: gap at close", steps: with(
			step{ts, 101, 0, A, "ab"}, step{ts, 105, 0, A, "ef"}),
			wantTS: "ab[g2]ef", counters: map[string]uint64{"tcp.reassembly_gap": 1}},
		{name: "hole acked past: gap at once", steps: with(
			step{ts, 101, 501, A, "ab"}, step{ts, 105, 501, A, "ef"}, step{tc, 501, 107, A, ""}),
			noClose: true, wantTS: "ab[g2]ef"},
		{name: "data after acked hole: gap, no buffering", steps: with(
			step{ts, 101, 501, A, "ab"}, step{tc, 501, 110, A, ""}, step{ts, 105, 501, A, "ef"}),
			noClose: true, wantTS: "ab[g2]ef", counters: map[string]uint64{"tcp.reassembly_memuse": 0}},
		{name: "wraparound", steps: []step{
			{ts, 0xfffffffd, 0, S, ""}, {ts, 0xfffffffe, 0, A, "ab"}, {ts, 2, 0, A, "ef"}, {ts, 0, 0, A, "cd"}},
			noClose: true, wantTS: "abcdef"},
		{name: "mid-stream, no SYN, one direction", steps: []step{
			{ts, 7000, 9, PA, "middle "}, {ts, 7007, 9, PA, "of it"}},
			wantTS: "middle of it", counters: map[string]uint64{"tcp.midstream_pickups": 1, "tcp.syn": 0}},
		{name: "mid-stream both directions", steps: []step{
			{tc, 9, 7000, PA, "reply"}, {ts, 7000, 14, PA, "req"}},
			wantTS: "req", wantTC: "reply", counters: map[string]uint64{"tcp.midstream_pickups": 2}},
		{name: "syn with data (TFO)", steps: []step{{ts, 100, 0, S, "hi"}, {ts, 103, 0, A, "!"}},
			wantTS: "hi!"},
		{name: "rst data ignored", steps: with(step{ts, 101, 0, PA, "ab"}, step{ts, 103, 0, R, "xx"}),
			wantTS: "ab", counters: map[string]uint64{"tcp.rst": 1}},
		{name: "fin with hole: trailing gap at close", steps: with(
			step{ts, 101, 0, PA, "ab"}, step{ts, 106, 0, FA, "f"}),
			wantTS: "ab[g3]f"},
		{name: "depth exactly at boundary", opts: Options{Depth: 4}, steps: with(
			step{ts, 101, 0, A, "ab"}, step{ts, 103, 0, A, "cd"}, step{ts, 105, 0, A, "ef"}),
			wantTS: "abcd", counters: map[string]uint64{"tcp.stream_depth_reached": 1}},
		{name: "depth inside a segment", opts: Options{Depth: 3}, steps: with(
			step{ts, 101, 0, A, "abcdef"}, step{tc, 501, 0, A, "xyz"}),
			wantTS: "abc", wantTC: "xyz", counters: map[string]uint64{"tcp.stream_depth_reached": 2}},
		{name: "depth frees buffered", opts: Options{Depth: 4}, steps: with(
			step{ts, 107, 0, A, "gh"}, step{ts, 101, 0, A, "abcdef"}),
			noClose: true, wantTS: "abcd", counters: map[string]uint64{"tcp.reassembly_memuse": 0}},
		{name: "segment limit gives up the hole", opts: Options{MaxSegmentsPerDir: 2}, steps: with(
			step{ts, 103, 0, A, "c"}, step{ts, 105, 0, A, "e"}, step{ts, 107, 0, A, "g"}),
			noClose: true, wantTS: "[g2]c", // e and g stay buffered behind the next hole
			counters: map[string]uint64{"tcp.segment_memcap_drop": 1}},
		{name: "memcap exhaustion: gap, not panic", opts: Options{Memcap: 300}, steps: with(
			step{ts, 103, 0, A, "c"}, step{ts, 105, 0, A, "e"}, step{ts, 107, 0, A, "g"}),
			noClose: true, wantTS: "[g2]c[g1]e",
			counters: map[string]uint64{"tcp.segment_memcap_drop": 2, "tcp.reassembly_memuse": 256}},
		{name: "far beyond window dropped", steps: with(step{ts, 101 + 1<<31 - 10, 0, A, "zz"}, step{ts, 101, 0, A, "a"}),
			wantTS: "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReassembler(tt.opts)
			gotTS, gotTC, _ := run(r, tt.steps, !tt.noClose)
			if gotTS != tt.wantTS || gotTC != tt.wantTC {
				t.Errorf("toserver %q, toclient %q; want %q, %q", gotTS, gotTC, tt.wantTS, tt.wantTC)
			}
			c := counters(r)
			for k, v := range tt.counters {
				if c[k] != v {
					t.Errorf("%s = %d, want %d", k, c[k], v)
				}
			}
		})
	}
}

// TestSplitEveryOffset feeds one stream split in two at every offset, in
// order and reversed: the delivered bytes must not change.
func TestSplitEveryOffset(t *testing.T) {
	msg := "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"
	for _, isn := range []uint32{1000, 0xffffffff - 20} {
		for k := 1; k < len(msg); k++ {
			for _, rev := range []bool{false, true} {
				a := step{ts, isn + 1, 0, A, msg[:k]}
				b := step{ts, isn + 1 + uint32(k), 0, A, msg[k:]}
				steps := []step{{ts, isn, 0, S, ""}, a, b}
				if rev {
					steps[1], steps[2] = b, a
				}
				got, _, _ := run(NewReassembler(Options{}), steps, true)
				if got != msg {
					t.Fatalf("isn %d split %d rev %v: got %q", isn, k, rev, got)
				}
			}
		}
	}
}

func TestDoneAndDepth(t *testing.T) {
	r := NewReassembler(Options{Depth: 2})
	_, _, s := run(r, []step{{ts, 1, 0, A, "abc"}}, false)
	if !s.DepthReached(ts) || s.DepthReached(tc) {
		t.Fatalf("DepthReached = %v, %v", s.DepthReached(ts), s.DepthReached(tc))
	}
	if s.Done() {
		t.Fatal("Done with one direction unseen")
	}
	var p decode.Packet
	pkt(&p, step{tc, 9, 0, FA, "x"})
	r.Process(s, tc, &p, new(rec))
	if !s.Done() {
		t.Fatal("not Done after depth + FIN")
	}
	s.Swap()
	if !s.DepthReached(tc) {
		t.Fatal("Swap did not move depth")
	}
}

func TestCloseReleasesMemory(t *testing.T) {
	r := NewReassembler(Options{})
	_, _, s := run(r, []step{{ts, 1, 0, A, "a"}, {ts, 5, 0, A, "e"}, {tc, 1, 0, A, "a"}, {tc, 9, 0, A, "e"}}, false)
	if s.Buffered(ts) != 1 || s.Buffered(tc) != 1 {
		t.Fatalf("buffered %d %d", s.Buffered(ts), s.Buffered(tc))
	}
	r.Release(s)
	if got := counters(r)["tcp.reassembly_memuse"]; got != 0 {
		t.Fatalf("reassembly_memuse after Release = %d", got)
	}
}

func TestAllocsInOrder(t *testing.T) {
	r := NewReassembler(DefaultOptions())
	s := new(Session)
	h := new(nop)
	var p decode.Packet
	payload := make([]byte, 1460)
	seq := uint32(1)
	allocs := testing.AllocsPerRun(1000, func() {
		p = decode.Packet{IPVersion: 4, IPProto: decode.IPProtoTCP, TCPSeq: seq, TCPFlags: PA, Payload: payload}
		r.Process(s, ts, &p, h)
		seq += 1460
		if s.DepthReached(ts) {
			*s = Session{}
		}
	})
	if allocs != 0 {
		t.Fatalf("in-order Process: %v allocs/op", allocs)
	}
}

func TestAllocsOutOfOrderWarm(t *testing.T) {
	r := NewReassembler(Options{})
	s := new(Session)
	h := new(nop)
	var p decode.Packet
	payload := make([]byte, 1460)
	seq := uint32(1)
	step := func() {
		// Two segments swapped: one buffered, then the hole filled.
		p = decode.Packet{IPVersion: 4, IPProto: decode.IPProtoTCP, TCPSeq: seq + 1460, TCPFlags: PA, Payload: payload}
		r.Process(s, ts, &p, h)
		p.TCPSeq = seq
		r.Process(s, ts, &p, h)
		seq += 2920
	}
	for range 10 {
		step()
	}
	if allocs := testing.AllocsPerRun(1000, step); allocs != 0 {
		t.Fatalf("out-of-order Process (warm pools): %v allocs/op", allocs)
	}
}

func BenchmarkInOrder(b *testing.B) {
	r := NewReassembler(Options{})
	s := new(Session)
	h := new(nop)
	var p decode.Packet
	payload := make([]byte, 1460)
	seq := uint32(1)
	b.SetBytes(1460)
	b.ReportAllocs()
	for b.Loop() {
		p = decode.Packet{IPVersion: 4, IPProto: decode.IPProtoTCP, TCPSeq: seq, TCPFlags: PA, Payload: payload}
		r.Process(s, ts, &p, h)
		seq += 1460
	}
}

// BenchmarkOutOfOrder sends segments in pairs swapped: every other segment
// is copied, buffered and drained.
func BenchmarkOutOfOrder(b *testing.B) {
	r := NewReassembler(Options{})
	s := new(Session)
	h := new(nop)
	var p decode.Packet
	payload := make([]byte, 1460)
	seq := uint32(1)
	b.SetBytes(2 * 1460)
	b.ReportAllocs()
	for b.Loop() {
		p = decode.Packet{IPVersion: 4, IPProto: decode.IPProtoTCP, TCPSeq: seq + 1460, TCPFlags: PA, Payload: payload}
		r.Process(s, ts, &p, h)
		p.TCPSeq = seq
		r.Process(s, ts, &p, h)
		seq += 2920
	}
}

// BenchmarkReverse8 delivers 8 segments in reverse order per iteration.
func BenchmarkReverse8(b *testing.B) {
	r := NewReassembler(Options{})
	s := new(Session)
	h := new(nop)
	var p decode.Packet
	payload := make([]byte, 1460)
	seq := uint32(1)
	b.SetBytes(8 * 1460)
	b.ReportAllocs()
	for b.Loop() {
		for i := 7; i >= 0; i-- {
			p = decode.Packet{IPVersion: 4, IPProto: decode.IPProtoTCP, TCPSeq: seq + uint32(i)*1460, TCPFlags: PA, Payload: payload}
			r.Process(s, ts, &p, h)
		}
		seq += 8 * 1460
	}
}

func TestSizeofSession(t *testing.T) {
	t.Logf("unsafe.Sizeof(Session{}) = %d bytes", unsafe.Sizeof(Session{}))
	if n := unsafe.Sizeof(Session{}); n > 96 {
		t.Fatalf("Session is %d bytes; keep it small, it is embedded per flow", n)
	}
}

// TestAcked follows Delivered and Acked through a request, its ACK, a
// response acknowledged in part and the depth.
func TestAcked(t *testing.T) {
	type want struct {
		delivered uint64
		acked     uint64
		ok        bool
	}
	hs := []step{{ts, 100, 0, S, ""}, {tc, 500, 101, SA, ""}, {ts, 101, 501, A, ""}}
	for _, tc := range []struct {
		name  string
		opts  Options
		steps []step
		dir   flow.Direction
		want  want
	}{
		{"request not yet acknowledged", DefaultOptions(), []step{{ts, 101, 501, PA, "GET / HTTP/1.0\r\n\r\n"}}, ts, want{18, 0, true}},
		{"request acknowledged", DefaultOptions(), []step{{ts, 101, 501, PA, "GET / HTTP/1.0\r\n\r\n"}, {tc, 501, 119, A, ""}}, ts, want{18, 18, true}},
		{"response acknowledged in part", DefaultOptions(), []step{{tc, 501, 101, PA, "HTTP/1.0 200 OK\r\n"}, {ts, 101, 506, A, ""}}, flow.ToClient, want{17, 5, true}},
		{"no ACK from the receiver yet", DefaultOptions(), []step{{tc, 501, 101, PA, "HTTP/1.0 200 OK\r\n"}}, flow.ToClient, want{17, 0, true}},
		{"depth reached", Options{Depth: 4}, []step{{ts, 101, 501, PA, "GET / HTTP/1.0\r\n\r\n"}, {tc, 501, 119, A, ""}}, ts, want{4, 0, false}},
	} {
		r := NewReassembler(tc.opts)
		_, _, s := run(r, append(append([]step{}, hs...), tc.steps...), false)
		acked, ok := s.Acked(tc.dir)
		if got := (want{s.Delivered(tc.dir), acked, ok}); got != tc.want {
			t.Errorf("%s: delivered %d acked %d %v, want %+v", tc.name, got.delivered, got.acked, got.ok, tc.want)
		}
	}
	var s Session
	if _, ok := s.Acked(ts); ok {
		t.Error("a session that saw nothing reports an ACK")
	}
}
