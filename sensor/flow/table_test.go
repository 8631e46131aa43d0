package flow

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"github.com/polder-nsm/polder/sensor/decode"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func addr(s string) [16]byte { return netip.MustParseAddr(s).As16() }

// tcp builds a TCP packet src:sp → dst:dp at t0+at.
func tcp(src string, sp uint16, dst string, dp uint16, flags uint8, at time.Duration) *decode.Packet {
	return &decode.Packet{
		Timestamp: t0.Add(at), Data: make([]byte, 60), IPVersion: 4, IPProto: decode.IPProtoTCP,
		Src: addr(src), Dst: addr(dst), SrcPort: sp, DstPort: dp, TCPFlags: flags,
		TCPSeq: seqFor(flags), TCPAck: ackFor(flags),
	}
}

// Both sides use ISN 0: a SYN is at 0, everything after it at 1, and every
// ACK acknowledges the peer's SYN.
func seqFor(flags uint8) uint32 {
	if flags&decode.TCPSyn != 0 {
		return 0
	}
	return 1
}

func ackFor(flags uint8) uint32 {
	if flags&decode.TCPAck != 0 {
		return 1
	}
	return 0
}

func udp(src string, sp uint16, dst string, dp uint16, at time.Duration) *decode.Packet {
	p := tcp(src, sp, dst, dp, 0, at)
	p.IPProto = decode.IPProtoUDP
	return p
}

func icmp(src, dst string, typ, code uint8, id uint16, at time.Duration) *decode.Packet {
	return &decode.Packet{
		Timestamp: t0.Add(at), Data: make([]byte, 74), IPVersion: 4, IPProto: decode.IPProtoICMP,
		Src: addr(src), Dst: addr(dst), ICMPType: typ, ICMPCode: code, ICMPID: id,
	}
}

type ended struct {
	f      Flow
	reason EndReason
}

func collect(out *[]ended) func(*Flow, EndReason) {
	return func(f *Flow, r EndReason) { *out = append(*out, ended{*f, r}) }
}

func stats(t *Table) map[string]uint64 {
	m := map[string]uint64{}
	t.Each(func(n string, v uint64) { m[n] = v })
	return m
}

const (
	syn    = decode.TCPSyn
	synack = decode.TCPSyn | decode.TCPAck
	ack    = decode.TCPAck
	fin    = decode.TCPFin | decode.TCPAck
	rst    = decode.TCPRst
)

func TestKeyOf(t *testing.T) {
	a := tcp("10.0.0.2", 40000, "10.0.0.1", 80, syn, 0)
	b := tcp("10.0.0.1", 80, "10.0.0.2", 40000, synack, 0)
	ka, ok1 := KeyOf(a)
	kb, ok2 := KeyOf(b)
	if !ok1 || !ok2 || ka != kb {
		t.Fatalf("directions differ: %+v %+v", ka, kb)
	}
	if ka.Src != addr("10.0.0.1") {
		t.Errorf("not normalized: Src %v", netip.AddrFrom16(ka.Src))
	}
	if ka.Hash(1) != kb.Hash(1) {
		t.Error("hash not symmetric")
	}
	// Same address, ports decide.
	c, _ := KeyOf(tcp("10.0.0.1", 9, "10.0.0.1", 8, syn, 0))
	d, _ := KeyOf(tcp("10.0.0.1", 8, "10.0.0.1", 9, syn, 0))
	if c != d {
		t.Error("same-address flow not normalized by port")
	}
	v := tcp("10.0.0.2", 40000, "10.0.0.1", 80, syn, 0)
	v.VLAN, v.VLANCount = [3]uint16{10, 99, 99}, 1
	kv, _ := KeyOf(v)
	if kv == ka || kv.VLAN != [3]uint16{10, 0, 0} {
		t.Errorf("VLAN key %v", kv.VLAN)
	}
	if _, ok := KeyOf(&decode.Packet{}); ok {
		t.Error("non-IP packet has a key")
	}
	if _, ok := KeyOf(&decode.Packet{IPVersion: 4, Fragment: true}); ok {
		t.Error("fragment has a key")
	}
	e1, _ := KeyOf(icmp("1.1.1.1", "2.2.2.2", 8, 0, 7, 0))
	e2, _ := KeyOf(icmp("2.2.2.2", "1.1.1.1", 0, 0, 7, 0))
	e3, _ := KeyOf(icmp("1.1.1.1", "2.2.2.2", 8, 0, 8, 0))
	u1, _ := KeyOf(icmp("1.1.1.1", "2.2.2.2", 3, 3, 0, 0))
	u2, _ := KeyOf(icmp("1.1.1.1", "2.2.2.2", 3, 1, 0, 0))
	// As Suricata: echo request and reply share a key whatever the echo id.
	if e1 != e2 || e1 != e3 || u1 == u2 || u1 == e1 {
		t.Errorf("icmp keys: echo %v %v %v unreach %v %v", e1, e2, e3, u1, u2)
	}
}

// TestESPKeyedBySPI: as Suricata, each IPsec security association (SPI) is
// its own flow, so the two directions of a tunnel are two flows.
func TestESPKeyedBySPI(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 16})
	esp := func(src, dst string, spi uint32) *decode.Packet {
		p := udp(src, 0, dst, 0, 0)
		p.IPProto, p.SPI = 50, spi
		return p
	}
	a, _ := tb.Lookup(esp("10.0.0.1", "10.0.0.2", 0x1001))
	a2, _ := tb.Lookup(esp("10.0.0.1", "10.0.0.2", 0x1001))
	b, _ := tb.Lookup(esp("10.0.0.2", "10.0.0.1", 0x2002))
	b2, _ := tb.Lookup(esp("10.0.0.2", "10.0.0.1", 0x2002)) // found again although its key sorts high
	if a != a2 || a == b || b != b2 || a.Key.SPI() != 0x1001 || b.Key.SPI() != 0x2002 || a.Pkts[ToServer] != 2 || b.Pkts[ToServer] != 2 {
		t.Fatalf("esp flows: %p %p %p spi %#x %#x pkts %v", a, a2, b, a.Key.SPI(), b.Key.SPI(), a.Pkts)
	}
}

// TestICMPErrorJoinsFlow: a destination unreachable quoting a tracked UDP
// packet is counted in that UDP flow, toward its client, as Suricata does.
func TestICMPErrorJoinsFlow(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 16})
	q := udp("10.0.0.1", 5000, "10.0.0.2", 53, 0)
	fu, _ := tb.Lookup(q)
	e := icmp("10.0.0.2", "10.0.0.1", 3, 3, 0, time.Millisecond)
	e.ICMPEmbedded = decode.Embedded{Src: q.Src, Dst: q.Dst, SrcPort: 5000, DstPort: 53, IPProto: decode.IPProtoUDP, IPVersion: 4}
	fe, de := tb.Lookup(e)
	if fe != fu || de != ToClient || fu.Pkts != [2]uint64{1, 1} || tb.Len() != 1 {
		t.Fatalf("icmp error: flow %p (udp %p) dir %v pkts %v len %d", fe, fu, de, fu.Pkts, tb.Len())
	}
	// Without a tracked flow it is an ICMP flow of its own.
	e.ICMPEmbedded.DstPort = 54
	if f, _ := tb.Lookup(e); f == fu || f.Key.Proto != decode.IPProtoICMP {
		t.Fatalf("unmatched icmp error joined %v", f.Key)
	}
}

func TestLookupBothDirections(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 16, Seed: 1})
	f1, d1 := tb.Lookup(tcp("10.0.0.2", 40000, "10.0.0.1", 80, syn, 0))
	f2, d2 := tb.Lookup(tcp("10.0.0.1", 80, "10.0.0.2", 40000, synack, time.Millisecond))
	f3, d3 := tb.Lookup(tcp("10.0.0.2", 40000, "10.0.0.1", 80, ack, 2*time.Millisecond))
	if f1 == nil || f1 != f2 || f2 != f3 {
		t.Fatal("directions did not share a flow")
	}
	if d1 != ToServer || d2 != ToClient || d3 != ToServer {
		t.Errorf("directions %v %v %v", d1, d2, d3)
	}
	f := f1
	if f.Key.Src != addr("10.0.0.2") || f.Key.SrcPort != 40000 || f.Key.DstPort != 80 {
		t.Errorf("key not oriented client→server: %+v", f.Key)
	}
	if f.Pkts != [2]uint64{2, 1} || f.Bytes != [2]uint64{120, 60} {
		t.Errorf("pkts %v bytes %v", f.Pkts, f.Bytes)
	}
	if f.TCPState != TCPEstablished || f.State != StateEstablished {
		t.Errorf("state %v / %v", f.TCPState, f.State)
	}
	if f.TCPFlags != [2]uint8{syn | ack, synack} {
		t.Errorf("flags %x", f.TCPFlags)
	}
	if f.Start != t0.UnixNano() || f.LastTime() != t0.Add(2*time.Millisecond) {
		t.Errorf("times %v %v", f.StartTime(), f.LastTime())
	}
	if f.ID == 0 || f.ID >= 1<<53 {
		t.Errorf("ID %d", f.ID)
	}
}

func TestSynAckFirstOrientation(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 16})
	f, dir := tb.Lookup(tcp("10.0.0.1", 80, "10.0.0.2", 40000, synack, 0))
	if dir != ToClient || f.Key.SrcPort != 40000 || f.Key.Src != addr("10.0.0.2") {
		t.Fatalf("dir %v key %+v", dir, f.Key)
	}
	if f.TCPState != TCPNone || f.Pkts != [2]uint64{0, 1} {
		t.Errorf("state %v pkts %v", f.TCPState, f.Pkts)
	}
	_, dir = tb.Lookup(tcp("10.0.0.2", 40000, "10.0.0.1", 80, ack, 1))
	if dir != ToServer || f.TCPState != TCPNone {
		t.Errorf("dir %v state %v", dir, f.TCPState)
	}
}

func TestVLANSeparatesFlows(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 16})
	a := udp("10.0.0.1", 53, "10.0.0.2", 5353, 0)
	b := udp("10.0.0.1", 53, "10.0.0.2", 5353, 0)
	b.VLAN, b.VLANCount = [3]uint16{100}, 1
	fa, _ := tb.Lookup(a)
	fb, _ := tb.Lookup(b)
	if fa == fb || tb.Len() != 2 {
		t.Fatalf("VLANs share a flow (len %d)", tb.Len())
	}
	if fa.ID == fb.ID {
		t.Error("IDs repeat")
	}
}

func TestICMPEcho(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 16})
	f1, d1 := tb.Lookup(icmp("192.168.1.2", "192.168.1.1", 8, 0, 42, 0))
	f2, d2 := tb.Lookup(icmp("192.168.1.1", "192.168.1.2", 0, 0, 42, 1))
	f3, _ := tb.Lookup(icmp("192.168.1.2", "192.168.1.1", 8, 0, 43, 2))
	if f1 != f2 || f1 != f3 || d1 != ToServer || d2 != ToClient {
		t.Fatalf("echo pairing: %p %p %p %v %v", f1, f2, f3, d1, d2)
	}
	if f1.ICMPType != [2]uint8{8, 0} || f1.State != StateEstablished {
		t.Errorf("icmp types %v state %v", f1.ICMPType, f1.State)
	}
	c := stats(tb)
	if c["flow.icmpv4"] != 1 || c["flow.total"] != 1 {
		t.Errorf("counters %v", c)
	}
}

func TestTCPStates(t *testing.T) {
	c, s := "10.0.0.2", "10.0.0.1"
	type pk struct {
		toServer bool
		flags    uint8
		seq, ack uint32
	}
	tests := []struct {
		name  string
		pkts  []pk
		want  TCPState
		state State
	}{
		{"syn", []pk{{true, syn, 1, 0}}, TCPSynSent, StateNew},
		{"refused", []pk{{true, syn, 1, 0}, {false, rst | ack, 0, 2}}, TCPClosed, StateClosed},
		{"rst not acking the syn", []pk{{true, syn, 1, 0}, {false, rst | ack, 0, 7}}, TCPSynSent, StateNew},
		{"rst out of sequence ignored", []pk{{true, syn, 1, 0}, {false, synack, 100, 2}, {true, ack, 2, 101},
			{false, rst, 150, 0}}, TCPEstablished, StateEstablished},
		{"handshake ack must ack the syn/ack", []pk{{true, syn, 1, 0}, {false, synack, 100, 2}, {true, ack, 2, 77}},
			TCPSynRecv, StateNew},
		{"syn+fin starts no session", []pk{{true, syn | fin, 1, 0}}, TCPNone, StateNew},
		{"syn_recv", []pk{{true, syn, 1, 0}, {false, synack, 100, 2}}, TCPSynRecv, StateNew},
		{"no syn", []pk{{true, ack, 1, 1}, {false, ack, 1, 1}}, TCPNone, StateNew},
		{"client closes", []pk{{true, syn, 1, 0}, {false, synack, 100, 2}, {true, ack, 2, 101},
			{true, fin, 2, 101}}, TCPCloseWait, StateEstablished},
		{"client closes fully", []pk{{true, syn, 1, 0}, {false, synack, 100, 2}, {true, ack, 2, 101},
			{true, fin, 2, 101}, {false, fin, 101, 3}, {true, ack, 3, 102}}, TCPClosed, StateClosed},
		{"last_ack", []pk{{true, syn, 1, 0}, {false, synack, 100, 2}, {true, ack, 2, 101},
			{true, fin, 2, 101}, {false, fin, 101, 3}}, TCPLastAck, StateClosed},
		{"server closes: fin_wait2", []pk{{true, syn, 1, 0}, {false, synack, 100, 2}, {true, ack, 2, 101},
			{false, fin, 101, 2}, {true, ack, 2, 102}}, TCPFinWait2, StateEstablished},
		{"server closes: time_wait", []pk{{true, syn, 1, 0}, {false, synack, 100, 2}, {true, ack, 2, 101},
			{false, fin, 101, 2}, {true, ack, 2, 102}, {true, fin, 2, 102}}, TCPTimeWait, StateClosed},
		{"server closes fully", []pk{{true, syn, 1, 0}, {false, synack, 100, 2}, {true, ack, 2, 101},
			{false, fin, 101, 2}, {true, ack, 2, 102}, {true, fin, 2, 102}, {false, ack, 102, 3}}, TCPClosed, StateClosed},
		{"simultaneous close", []pk{{true, syn, 1, 0}, {false, synack, 100, 2}, {true, ack, 2, 101},
			{false, fin, 101, 2}, {true, fin, 2, 101}}, TCPClosing, StateEstablished},
		{"reset", []pk{{true, syn, 1, 0}, {false, synack, 100, 2}, {true, ack, 2, 101}, {false, rst, 101, 0}}, TCPClosed, StateClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := NewTable(TableOptions{MaxFlows: 4})
			var f *Flow
			for i, x := range tt.pkts {
				p := tcp(s, 80, c, 40000, x.flags, time.Duration(i))
				if x.toServer {
					p = tcp(c, 40000, s, 80, x.flags, time.Duration(i))
				}
				p.TCPSeq, p.TCPAck = x.seq, x.ack
				f, _ = tb.Lookup(p)
			}
			if f.TCPState != tt.want || f.State != tt.state {
				t.Errorf("got %v/%v, want %v/%v", f.TCPState, f.State, tt.want, tt.state)
			}
		})
	}
	// Suricata's default: no session without SYN, so no flags recorded.
	tb := NewTable(TableOptions{MaxFlows: 4})
	f, _ := tb.Lookup(tcp(c, 1, s, 2, ack, 0))
	if f.TCPFlags != [2]uint8{} {
		t.Errorf("flags recorded without session: %x", f.TCPFlags)
	}
	tb = NewTable(TableOptions{MaxFlows: 4, Midstream: true})
	f, _ = tb.Lookup(tcp(c, 1, s, 2, ack, 0))
	if f.TCPState != TCPEstablished || !f.HasFlag(FlagMidstream) || f.TCPFlags[0] != ack|decode.TCPAck {
		t.Errorf("midstream: %v flags %v", f.TCPState, f.Flags)
	}
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name  string
		pkts  []*decode.Packet
		alive time.Duration // since the last packet: must still be tracked
		dead  time.Duration // must have timed out
	}{
		{"tcp new", []*decode.Packet{tcp("1.1.1.1", 1, "2.2.2.2", 2, syn, 0)}, 59 * time.Second, 60 * time.Second},
		{"tcp established", []*decode.Packet{
			tcp("1.1.1.1", 1, "2.2.2.2", 2, syn, 0), tcp("2.2.2.2", 2, "1.1.1.1", 1, synack, 0),
			tcp("1.1.1.1", 1, "2.2.2.2", 2, ack, 0)}, 599 * time.Second, 600 * time.Second},
		{"tcp closed", []*decode.Packet{
			tcp("1.1.1.1", 1, "2.2.2.2", 2, syn, 0), tcp("2.2.2.2", 2, "1.1.1.1", 1, synack, 0),
			tcp("1.1.1.1", 1, "2.2.2.2", 2, rst, 0)}, 59 * time.Second, 60 * time.Second},
		{"udp new", []*decode.Packet{udp("1.1.1.1", 1, "2.2.2.2", 2, 0)}, 29 * time.Second, 30 * time.Second},
		{"udp established", []*decode.Packet{udp("1.1.1.1", 1, "2.2.2.2", 2, 0), udp("2.2.2.2", 2, "1.1.1.1", 1, 0)},
			299 * time.Second, 300 * time.Second},
		{"icmp new", []*decode.Packet{icmp("1.1.1.1", "2.2.2.2", 8, 0, 1, 0)}, 29 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := NewTable(TableOptions{MaxFlows: 4})
			for _, p := range tt.pkts {
				tb.Lookup(p)
			}
			var out []ended
			tb.Expire(t0.Add(tt.alive), collect(&out))
			if len(out) != 0 {
				t.Fatalf("expired after %v", tt.alive)
			}
			tb.Expire(t0.Add(tt.dead), collect(&out))
			if len(out) != 1 || out[0].reason != ReasonTimeout || tb.Len() != 0 {
				t.Fatalf("after %v: %d ended, len %d", tt.dead, len(out), tb.Len())
			}
		})
	}
	// Custom timeouts replace a class.
	tb := NewTable(TableOptions{MaxFlows: 4, Timeouts: Timeouts{UDP: ProtoTimeouts{New: time.Second}}})
	tb.Lookup(udp("1.1.1.1", 1, "2.2.2.2", 2, 0))
	var out []ended
	tb.Expire(t0.Add(time.Second), collect(&out))
	if len(out) != 1 {
		t.Fatal("custom udp timeout not applied")
	}
}

// TestActivityDefersTimeout checks that a packet moves a flow back in the
// expiry order.
func TestActivityDefersTimeout(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 4})
	tb.Lookup(udp("1.1.1.1", 1, "2.2.2.2", 2, 0))
	tb.Lookup(udp("1.1.1.1", 3, "2.2.2.2", 4, time.Second))
	tb.Lookup(udp("1.1.1.1", 1, "2.2.2.2", 2, 20*time.Second))
	var out []ended
	tb.Expire(t0.Add(31*time.Second), collect(&out))
	if len(out) != 1 || out[0].f.Key.SrcPort != 3 {
		t.Fatalf("ended %v", out)
	}
}

func TestEvictionAndEmergency(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 10, Reserve: 2})
	for i := range 10 {
		if f, _ := tb.Lookup(udp("1.1.1.1", uint16(1000+i), "2.2.2.2", 53, time.Duration(i)*time.Second)); f == nil {
			t.Fatal("table full early")
		}
	}
	f, _ := tb.Lookup(udp("1.1.1.1", 2000, "2.2.2.2", 53, 10*time.Second))
	if f == nil || !tb.Emergency() {
		t.Fatalf("no eviction / emergency (f %v)", f)
	}
	tb.Lookup(udp("1.1.1.1", 2001, "2.2.2.2", 53, 10*time.Second))
	if f, _ := tb.Lookup(udp("1.1.1.1", 2002, "2.2.2.2", 53, 10*time.Second)); f != nil {
		t.Fatal("Lookup succeeded with the reserve exhausted")
	}
	var out []ended
	tb.Expire(t0.Add(10*time.Second), collect(&out))
	if len(out) != 2 || out[0].reason != ReasonForced || out[0].f.Key.SrcPort != 1000 || out[1].f.Key.SrcPort != 1001 {
		t.Fatalf("forced: %+v", out)
	}
	// Emergency timeout for udp new is 10 s: the flows from t0+2s.. expire
	// at t0+12s.., until 30% is free.
	out = out[:0]
	tb.Expire(t0.Add(14*time.Second), collect(&out))
	if len(out) != 3 || tb.Emergency() {
		t.Fatalf("emergency expiry: %d ended, emergency %v, len %d", len(out), tb.Emergency(), tb.Len())
	}
	c := stats(tb)
	for k, v := range map[string]uint64{"flow.get_used": 2, "flow.get_used_failed": 1, "flow.emerg_mode_entered": 1,
		"flow.emerg_mode_over": 1, "flow.mgr.flows_timeout": 3, "flow.active": 7, "flow.udp": 12, "flow.end.state.new": 5} {
		if c[k] != v {
			t.Errorf("%s = %d, want %d", k, c[k], v)
		}
	}
}

func TestTCPReuse(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 4})
	f1, _ := tb.Lookup(tcp("1.1.1.1", 1, "2.2.2.2", 2, syn, 0))
	tb.Lookup(tcp("2.2.2.2", 2, "1.1.1.1", 1, synack, 0))
	tb.Lookup(tcp("1.1.1.1", 1, "2.2.2.2", 2, ack, 0))
	tb.Lookup(tcp("1.1.1.1", 1, "2.2.2.2", 2, rst, 0))
	if f1.State != StateClosed {
		t.Fatalf("state %v", f1.State)
	}
	id := f1.ID
	f2, _ := tb.Lookup(tcp("1.1.1.1", 1, "2.2.2.2", 2, syn, time.Second))
	if f2 == f1 || f2.TCPState != TCPSynSent {
		t.Fatal("port reuse did not start a new flow")
	}
	var out []ended
	tb.Expire(t0.Add(time.Second), collect(&out))
	if len(out) != 1 || out[0].f.ID != id || stats(tb)["flow.tcp_reuse"] != 1 {
		t.Fatalf("reuse: %+v", out)
	}
}

func TestSwap(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 4})
	f, _ := tb.Lookup(udp("10.0.0.1", 53, "10.0.0.2", 40000, 0)) // response seen first
	tb.Lookup(udp("10.0.0.1", 53, "10.0.0.2", 40000, 1))
	tb.Lookup(udp("10.0.0.2", 40000, "10.0.0.1", 53, 2))
	f.Swap()
	if f.Key.SrcPort != 40000 || f.Pkts != [2]uint64{1, 2} {
		t.Fatalf("after swap key %+v pkts %v", f.Key, f.Pkts)
	}
	_, dir := tb.Lookup(udp("10.0.0.2", 40000, "10.0.0.1", 53, 3))
	if dir != ToServer || f.Pkts != [2]uint64{2, 2} {
		t.Fatalf("dir after swap %v pkts %v", dir, f.Pkts)
	}
	f.Swap()
	f.Swap()
	if _, d := tb.Lookup(udp("10.0.0.1", 53, "10.0.0.2", 40000, 4)); d != ToClient {
		t.Fatal("double swap changed direction")
	}
}

func TestFlush(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 64})
	for i := range 50 {
		f, _ := tb.Lookup(udp("1.1.1.1", uint16(i), "2.2.2.2", 53, 0))
		f.Ext = uint32(i + 1)
	}
	var out []ended
	tb.Flush(collect(&out))
	seen := map[uint32]bool{}
	for _, e := range out {
		if e.reason != ReasonShutdown {
			t.Fatal(e.reason)
		}
		seen[e.f.Ext] = true
	}
	if len(out) != 50 || len(seen) != 50 || tb.Len() != 0 {
		t.Fatalf("flushed %d (%d distinct), len %d", len(out), len(seen), tb.Len())
	}
	// Slots are reused and Ext cleared.
	f, _ := tb.Lookup(udp("1.1.1.1", 1, "2.2.2.2", 53, 0))
	if f.Ext != 0 {
		t.Fatal("Ext survived reuse")
	}
}

func TestIDsDeterministicAndUnique(t *testing.T) {
	ids := map[uint64]bool{}
	a := NewTable(TableOptions{MaxFlows: 1000, Seed: 7})
	b := NewTable(TableOptions{MaxFlows: 1000, Seed: 7})
	for i := range 1000 {
		p := udp("1.1.1.1", uint16(i), "2.2.2.2", 53, 0)
		fa, _ := a.Lookup(p)
		fb, _ := b.Lookup(p)
		if fa.ID != fb.ID || ids[fa.ID] || fa.ID >= 1<<53 {
			t.Fatalf("id %d", fa.ID)
		}
		ids[fa.ID] = true
	}
}

func TestSizeofFlow(t *testing.T) {
	n := unsafe.Sizeof(Flow{})
	t.Logf("unsafe.Sizeof(Flow{}) = %d bytes", n)
	if n > 192 {
		t.Fatalf("Flow is %d bytes; the budget is well under 256", n)
	}
}

func TestAllocs(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 1 << 12})
	pkts := make([]*decode.Packet, 1<<13)
	for i := range pkts {
		pkts[i] = udp("10.0.0.1", uint16(i), "10.0.0.2", 53, time.Duration(i)*time.Millisecond)
	}
	emit := func(*Flow, EndReason) {}
	existing := pkts[0]
	tb.Lookup(existing)
	if a := testing.AllocsPerRun(1000, func() { tb.Lookup(existing) }); a != 0 {
		t.Errorf("Lookup existing: %v allocs", a)
	}
	i := 1
	if a := testing.AllocsPerRun(1000, func() { tb.Lookup(pkts[i]); i++ }); a != 0 {
		t.Errorf("Lookup new: %v allocs", a)
	}
	// Full table: every new flow forces an eviction, Expire emits it.
	now := t0
	if a := testing.AllocsPerRun(1000, func() {
		tb.Lookup(pkts[i%len(pkts)])
		i++
		now = now.Add(time.Millisecond)
		tb.Expire(now, emit)
	}); a != 0 {
		t.Errorf("Lookup+Expire: %v allocs", a)
	}
	if a := testing.AllocsPerRun(10, func() { tb.Flush(emit) }); a != 0 {
		t.Errorf("Flush: %v allocs", a)
	}
}

func benchLookup(b *testing.B, n int) {
	tb := NewTable(TableOptions{MaxFlows: n})
	pkts := make([]decode.Packet, n)
	for i := range pkts {
		pkts[i] = *udp(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), uint16(i), "192.168.0.1", 53, 0)
		tb.Lookup(&pkts[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		// Stride through the table so lookups miss the CPU cache as on a
		// real link.
		i += 7919
		if i >= n {
			i -= n
		}
		tb.Lookup(&pkts[i])
	}
}

func BenchmarkLookup100k(b *testing.B) { benchLookup(b, 100_000) }
func BenchmarkLookup1M(b *testing.B)   { benchLookup(b, 1_000_000) }

// BenchmarkCreate measures creating flows in a full table: eviction plus the
// Expire that emits the evicted flow.
func BenchmarkCreate(b *testing.B) {
	tb := NewTable(TableOptions{MaxFlows: 1 << 16})
	var p decode.Packet
	p = *udp("10.0.0.1", 0, "10.0.0.2", 53, 0)
	emit := func(*Flow, EndReason) {}
	b.ReportAllocs()
	n := uint32(0)
	for b.Loop() {
		n++
		p.SrcPort = uint16(n)
		p.Src[12] = byte(n >> 16)
		p.Src[13] = byte(n >> 24)
		tb.Lookup(&p)
		tb.Expire(t0, emit)
	}
}

// TestLookupTimedOut checks that a packet arriving after the timeout, before
// Expire ran, starts a new flow and the old one ends with "timeout".
func TestLookupTimedOut(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 4})
	f1, _ := tb.Lookup(udp("1.1.1.1", 1, "2.2.2.2", 2, 0))
	id := f1.ID
	f2, dir := tb.Lookup(udp("2.2.2.2", 2, "1.1.1.1", 1, 31*time.Second))
	if f2.ID == id || dir != ToServer || f2.Pkts != [2]uint64{1, 0} {
		t.Fatalf("same flow after timeout: id %d→%d dir %v", id, f2.ID, dir)
	}
	if tb.Pending() != 1 {
		t.Fatalf("Pending = %d", tb.Pending())
	}
	var out []ended
	tb.Expire(t0.Add(31*time.Second), collect(&out))
	if len(out) != 1 || out[0].f.ID != id || out[0].reason != ReasonTimeout || tb.Pending() != 0 {
		t.Fatalf("ended %+v", out)
	}
}

// TestEvictPrefersShortTimeouts checks the forced-eviction order: the flow
// nearest its emergency timeout goes first, so a closed TCP flow is evicted
// before an older established one.
func TestEvictPrefersShortTimeouts(t *testing.T) {
	tb := NewTable(TableOptions{MaxFlows: 2})
	for _, p := range []*decode.Packet{
		tcp("1.1.1.1", 1, "2.2.2.2", 2, syn, 0), tcp("2.2.2.2", 2, "1.1.1.1", 1, synack, 0),
		tcp("1.1.1.1", 1, "2.2.2.2", 2, ack, 0),
		tcp("1.1.1.1", 3, "2.2.2.2", 2, syn, time.Second), tcp("2.2.2.2", 2, "1.1.1.1", 3, synack, time.Second),
		tcp("1.1.1.1", 3, "2.2.2.2", 2, ack, time.Second), tcp("1.1.1.1", 3, "2.2.2.2", 2, rst, time.Second),
		udp("1.1.1.1", 5, "2.2.2.2", 6, 2*time.Second),
	} {
		tb.Lookup(p)
	}
	var out []ended
	tb.Expire(t0.Add(2*time.Second), collect(&out))
	if len(out) != 1 || out[0].reason != ReasonForced || out[0].f.Key.SrcPort != 3 || out[0].f.TCPState != TCPClosed {
		t.Fatalf("evicted %+v", out)
	}
}

// BenchmarkLookupHot looks up one flow again and again (a burst): the cost
// of hashing, comparing and accounting without cache misses.
func BenchmarkLookupHot(b *testing.B) {
	tb := NewTable(TableOptions{MaxFlows: 1 << 10})
	p := tcp("10.0.0.1", 1234, "10.0.0.2", 80, ack, 0)
	b.ReportAllocs()
	for b.Loop() {
		tb.Lookup(p)
	}
}
