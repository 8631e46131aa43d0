package flow

import (
	"testing"
	"time"

	"github.com/polder-nsm/polder/sensor/decode"
)

// check verifies the table's internal invariants: every slot is exactly in
// one place (free list, a timeout list or the retired list), hashed flows
// are the ones on timeout lists, list links are symmetric.
func (t *Table) check(tb testing.TB) {
	tb.Helper()
	where := make([]int, len(t.flows))
	n := 0
	for i := t.free; i >= 0; i = t.flows[i].hnext {
		where[i]++
		n++
		if n > len(t.flows) {
			tb.Fatal("free list loops")
		}
	}
	for i := int(t.fresh); i < len(t.flows); i++ {
		where[i]++ // the never-used tail counts as free
	}
	if n+len(t.flows)-int(t.fresh) != t.nfree {
		tb.Fatalf("free list %d + never used %d, nfree %d", n, len(t.flows)-int(t.fresh), t.nfree)
	}
	onLists := 0
	for l := range t.lists {
		prev := int32(-1)
		for i := t.lists[l].head; i >= 0; i = t.flows[i].next {
			where[i]++
			if t.flows[i].prev != prev || t.flows[i].list != uint8(l) {
				tb.Fatalf("list %d broken at %d", l, i)
			}
			if l < numLists {
				onLists++
			}
			prev = i
		}
		if t.lists[l].tail != prev {
			tb.Fatalf("list %d tail %d, want %d", l, t.lists[l].tail, prev)
		}
	}
	for i, w := range where {
		if w != 1 {
			tb.Fatalf("slot %d is in %d places", i, w)
		}
	}
	hashed := 0
	for b := range t.buckets {
		for i := t.buckets[b]; i >= 0; i = t.flows[i].hnext {
			hashed++
			if t.flows[i].list >= numLists {
				tb.Fatalf("hashed flow %d not on a timeout list", i)
			}
		}
	}
	if hashed != t.active || onLists != t.active {
		tb.Fatalf("hashed %d, on lists %d, active %d", hashed, onLists, t.active)
	}
}

// FuzzTable drives a small table with packets built from the input and
// checks its invariants after every operation. Each 6-byte record is: flags
// byte (bit 0-1 protocol, bit 2 direction, bit 3 Expire, bit 4 Flush), TCP
// flags, port index, time step in seconds (2 bytes), seq delta.
func FuzzTable(f *testing.F) {
	f.Add([]byte{0, decode.TCPSyn, 1, 0, 1, 0, 4, decode.TCPSyn | decode.TCPAck, 1, 0, 1, 1, 0, decode.TCPAck, 1, 0, 1, 1})
	f.Add([]byte{1, 0, 1, 0, 0, 0, 1, 0, 2, 0, 0, 0, 1, 0, 3, 0, 0, 0, 9, 0, 4, 0, 90, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		tb := NewTable(TableOptions{MaxFlows: 4, Reserve: 2, HashSize: 2})
		now := time.Unix(1e9, 0)
		emitted := 0
		emit := func(f *Flow, r EndReason) {
			emitted++
			if f.Pkts[0]+f.Pkts[1] == 0 {
				t.Fatal("emitted a flow without packets")
			}
		}
		created := uint64(0)
		for len(in) >= 6 {
			op, fl, port := in[0], in[1], in[2]
			now = now.Add(time.Duration(uint16(in[3])<<8|uint16(in[4])) * time.Second / 16)
			p := &decode.Packet{Timestamp: now, Data: make([]byte, 60), IPVersion: 4,
				Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), SrcPort: 1000 + uint16(port%8), DstPort: 80,
				TCPFlags: fl, TCPSeq: uint32(in[5]), TCPAck: uint32(in[5]) + 1}
			switch op & 3 {
			case 0:
				p.IPProto = decode.IPProtoTCP
			case 1:
				p.IPProto = decode.IPProtoUDP
			case 2:
				p.IPProto, p.ICMPType, p.ICMPID = decode.IPProtoICMP, 8*(fl&1), uint16(port%3)
			case 3:
				p.IPProto = decode.IPProtoGRE
			}
			if op&4 != 0 {
				p.Src, p.Dst, p.SrcPort, p.DstPort = p.Dst, p.Src, p.DstPort, p.SrcPort
			}
			in = in[6:]
			if f, _ := tb.Lookup(p); f != nil && f.Pkts[0]+f.Pkts[1] == 1 {
				created++
			}
			tb.check(t)
			if op&8 != 0 {
				tb.Expire(now, emit)
				tb.check(t)
			}
			if op&16 != 0 {
				tb.Flush(emit)
				tb.check(t)
			}
		}
		tb.Flush(emit)
		tb.check(t)
		if tb.Len() != 0 || uint64(emitted) != stats(tb)["flow.total"] || uint64(emitted) != created {
			t.Fatalf("emitted %d, created %d, total %d, len %d", emitted, created, stats(tb)["flow.total"], tb.Len())
		}
	})
}
