package stream

import (
	"encoding/binary"
	"testing"

	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/flow"
)

// op is one thing the model or the Reassembler produced: data byte or gap.
type ops struct {
	data []int16 // byte value, or -1 per gap byte
}

func (o *ops) Data(dir flow.Direction, b []byte) {
	for _, c := range b {
		o.data = append(o.data, int16(c))
	}
}
func (o *ops) Gap(dir flow.Direction, n uint32) {
	for range n {
		o.data = append(o.data, -1)
	}
}

// FuzzReassemble feeds random segments of one stream (after a SYN, from a
// random ISN so sequence numbers wrap) and compares the delivered stream
// with a model: each byte is the first copy that arrived (first-wins), bytes
// never covered up to the highest segment end are gaps. A second run with
// tight limits must not panic and may only deliver bytes some segment
// carried at that position.
//
// Input: 4 bytes ISN, then 4-byte records: offset (uint16), length (uint8),
// flags (bit 0: different data; bit 1: peer ACKs up to it first, limited run only).
func FuzzReassemble(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 10, 0, 0, 10, 10, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xf0, 0, 20, 10, 0, 0, 0, 30, 1, 0, 5, 5, 1})
	f.Add([]byte{0x80, 0, 0, 0, 0, 100, 50, 0, 0, 50, 60, 1, 0, 0, 40, 0, 0, 200, 10, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 4 {
			return
		}
		isn := binary.BigEndian.Uint32(in)
		in = in[4:]
		const maxLen = 2048
		base := func(i int) byte { return byte(i*7 + i>>8) }
		type seg struct {
			off, n  int
			variant byte
			ack     bool // limited run: peer ACKs up to this segment's start first
		}
		var segs []seg
		for len(in) >= 4 && len(segs) < 256 {
			s := seg{off: int(binary.BigEndian.Uint16(in)) % maxLen, n: int(in[2]), variant: in[3] & 1, ack: in[3]&2 != 0}
			in = in[4:]
			if s.n == 0 || s.off+s.n > maxLen {
				continue
			}
			segs = append(segs, s)
		}
		val := func(s seg, i int) byte { return base(i) ^ s.variant*0x5a }

		// Model.
		want := make([]int16, 0, maxLen)
		first := make([]int16, maxLen)
		for i := range first {
			first[i] = -1
		}
		end := 0
		for _, s := range segs {
			for i := s.off; i < s.off+s.n; i++ {
				if first[i] < 0 {
					first[i] = int16(val(s, i))
				}
			}
			end = max(end, s.off+s.n)
		}
		want = append(want, first[:end]...)

		feed := func(r *Reassembler, acks bool) []int16 {
			var sess Session
			var p decode.Packet
			o := new(ops)
			p = decode.Packet{IPVersion: 4, IPProto: decode.IPProtoTCP, TCPSeq: isn, TCPFlags: decode.TCPSyn}
			r.Process(&sess, flow.ToServer, &p, o)
			buf := make([]byte, 256)
			for _, s := range segs {
				if acks && s.ack {
					p = decode.Packet{IPVersion: 4, IPProto: decode.IPProtoTCP, TCPAck: isn + 1 + uint32(s.off), TCPFlags: decode.TCPAck}
					r.Process(&sess, flow.ToClient, &p, o)
				}
				for i := range s.n {
					buf[i] = val(s, s.off+i)
				}
				p = decode.Packet{IPVersion: 4, IPProto: decode.IPProtoTCP, TCPSeq: isn + 1 + uint32(s.off),
					TCPFlags: decode.TCPAck | decode.TCPPsh, Payload: buf[:s.n]}
				r.Process(&sess, flow.ToServer, &p, o)
			}
			r.Close(&sess, o)
			if m := counters(r)["tcp.reassembly_memuse"]; m != 0 {
				t.Fatalf("reassembly_memuse %d after Close", m)
			}
			return o.data
		}

		got := feed(NewReassembler(Options{MaxSegmentsPerDir: 65535}), false)
		if len(got) != len(want) {
			t.Fatalf("delivered %d positions, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("position %d: got %d, want %d", i, got[i], want[i])
			}
		}

		// Tight limits: no panic, positions consistent with what was sent.
		got = feed(NewReassembler(Options{Memcap: 1024, MaxSegmentsPerDir: 3, Depth: 1500}), true)
		if len(got) > 1500 {
			t.Fatalf("delivered %d positions past depth 1500", len(got))
		}
		for i, v := range got {
			if v < 0 {
				continue
			}
			ok := false
			for _, s := range segs {
				if i >= s.off && i < s.off+s.n && int16(val(s, i)) == v {
					ok = true
					break
				}
			}
			if !ok {
				t.Fatalf("limited: position %d holds %d, which no segment carried", i, v)
			}
		}
	})
}
