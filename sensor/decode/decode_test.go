package decode_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
)

// fixture is one hand-built frame (generated once with a short script from
// header fields; see the row names) and what decoding it must give. Rows
// with check set also assert the decoded fields; pl is the payload length.
type fixture struct {
	name   string
	lt     capture.LinkType
	hex    string
	want   decode.Reason
	check  bool
	ipv    uint8
	proto  uint8
	sp, dp uint16 // see flowPorts
	pl     int
	vlans  uint8
	tunnel uint16
	frag   bool
	event  decode.Reason // a non-fatal event that must be present
	count  string        // an internal link counter that must be 1 (see decode.LinkCounts)
	// truncNoIP says a cut may also be a complete frame without IP: NFLOG
	// attributes end on a boundary, and a message without NFULA_PAYLOAD is
	// valid.
	truncNoIP bool
	// tail is how many trailing bytes the decoded packet does not use
	// (attribute padding, later A-MSDU subframes): cuts inside them still
	// decode.
	tail int
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad fixture hex: %v", err)
	}
	return b
}

func TestDecodeFixtures(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			var d decode.Decoder
			var p decode.Packet
			f := capture.Frame{Data: unhex(t, fx.hex), LinkType: fx.lt}
			f.OrigLen = len(f.Data)
			got := d.Decode(&p, &f)
			if got != fx.want {
				t.Fatalf("Decode = %v, want %v (events %v)", got, fx.want, p.Events)
			}
			if fx.count != "" {
				if n, ok := decode.LinkCounts(&d.Counters)[fx.count]; !ok || n != 1 {
					t.Errorf("link counter %s = %d (known %v), want 1", fx.count, n, ok)
				}
			}
			if got != decode.ReasonNone {
				if !p.Events.Has(got) || d.Counters.Event[got] != 1 || d.Counters.Invalid != 1 {
					t.Errorf("fatal reason not recorded: events %v, counter %d, invalid %d", p.Events, d.Counters.Event[got], d.Counters.Invalid)
				}
				return
			}
			if !fx.check {
				return
			}
			if p.IPVersion != fx.ipv {
				t.Fatalf("IPVersion = %d, want %d", p.IPVersion, fx.ipv)
			}
			if fx.ipv == 0 {
				if fx.event != 0 && !p.Events.Has(fx.event) {
					t.Errorf("event %v missing", fx.event)
				}
				return
			}
			sp, dp := flowPorts(&p)
			if p.IPProto != fx.proto || sp != fx.sp || dp != fx.dp {
				t.Errorf("proto/ports = %d %d>%d, want %d %d>%d", p.IPProto, sp, dp, fx.proto, fx.sp, fx.dp)
			}
			if fx.pl >= 0 && len(p.Payload) != fx.pl {
				t.Errorf("payload len = %d, want %d", len(p.Payload), fx.pl)
			}
			if p.VLANCount != fx.vlans || p.Tunnel != fx.tunnel || p.Fragment != fx.frag {
				t.Errorf("vlans/tunnel/frag = %d %#x %v, want %d %#x %v", p.VLANCount, p.Tunnel, p.Fragment, fx.vlans, fx.tunnel, fx.frag)
			}
			if fx.event != 0 && !p.Events.Has(fx.event) {
				t.Errorf("event %v missing (have %v)", fx.event, p.Events)
			}
			if fx.event == 0 && !p.Events.Empty() {
				t.Errorf("unexpected events %v", p.Events)
			}
			if p.L3Offset < 0 || p.L4Offset < p.L3Offset || p.L4Offset > len(p.Data) {
				t.Errorf("offsets l3=%d l4=%d", p.L3Offset, p.L4Offset)
			}
			// Payload must alias the frame, after the L4 header.
			if off := cap(p.Data) - cap(p.Payload); off < p.L4Offset || off+len(p.Payload) > len(p.Data) {
				t.Errorf("payload at %d+%d outside frame of %d (l4 %d)", off, len(p.Payload), len(p.Data), p.L4Offset)
			}
		})
	}
}

// TestDecodeTruncated cuts every valid IP fixture at every length: each cut
// must be reported as invalid with a named reason (the IP length or an
// inner header no longer fits), and nothing may panic.
func TestDecodeTruncated(t *testing.T) {
	var d decode.Decoder
	var p decode.Packet
	for _, fx := range fixtures {
		full := unhex(t, fx.hex)
		for n := 0; n < len(full); n++ {
			f := capture.Frame{Data: full[:n], OrigLen: len(full), LinkType: fx.lt}
			r := d.Decode(&p, &f)
			if !fx.check || fx.ipv == 0 || fx.want != decode.ReasonNone || strings.Contains(fx.name, "padded") {
				continue
			}
			if r == decode.ReasonNone && (fx.truncNoIP && p.IPVersion == 0 || n >= len(full)-fx.tail) {
				continue
			}
			if r == decode.ReasonNone {
				t.Errorf("%s cut at %d: decoded without a reason", fx.name, n)
			} else if r.String() == "unknown" || r.Layer() == "" && r != decode.ReasonTooManyLayers {
				t.Errorf("%s cut at %d: unnamed reason %d", fx.name, n, r)
			}
		}
	}
}

// flowPorts condenses L4 identifiers for the fixture table: ports for
// TCP/UDP/SCTP, the echo id twice for ICMP echo, type and code for other
// ICMP, zeros for fragments.
func flowPorts(p *decode.Packet) (sp, dp uint16) {
	switch {
	case p.Fragment:
		return 0, 0
	case p.IPProto == decode.IPProtoICMP || p.IPProto == decode.IPProtoICMPv6:
		if decode.IsEcho(p.IPProto, p.ICMPType) {
			return p.ICMPID, p.ICMPID
		}
		return uint16(p.ICMPType), uint16(p.ICMPCode)
	}
	return p.SrcPort, p.DstPort
}

func TestICMPCounterpart(t *testing.T) {
	tests := []struct {
		proto, typ, want uint8
		ok               bool
	}{
		{decode.IPProtoICMP, 8, 0, true},
		{decode.IPProtoICMP, 0, 8, true},
		{decode.IPProtoICMP, 14, 13, true},
		{decode.IPProtoICMP, 3, 0, false},
		{decode.IPProtoICMPv6, 128, 129, true},
		{decode.IPProtoICMPv6, 136, 135, true},
		{decode.IPProtoICMPv6, 1, 0, false},
		{decode.IPProtoTCP, 8, 0, false},
	}
	for _, tt := range tests {
		got, ok := decode.ICMPCounterpart(tt.proto, tt.typ)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ICMPCounterpart(%d, %d) = %d, %v; want %d, %v", tt.proto, tt.typ, got, ok, tt.want, tt.ok)
		}
	}
}

func TestReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for r := decode.Reason(1); int(r) < decode.NumReasons; r++ {
		s := r.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Errorf("reason %d: bad or duplicate name %q", r, s)
		}
		seen[s] = true
		if r != decode.ReasonTooManyLayers && !strings.HasPrefix(s, r.Layer()+".") {
			t.Errorf("reason %s: layer %q", s, r.Layer())
		}
	}
	if got := decode.ReasonIPv4PktTooSmall.String(); got != "ipv4.pkt_too_small" {
		t.Errorf("String = %q", got)
	}
	if got := decode.ReasonTCPHlenTooSmall.Layer(); got != "tcp" {
		t.Errorf("Layer = %q", got)
	}
	var c decode.Counters
	var names []string
	c.Each(func(name string, v uint64) { names = append(names, name) })
	var again []string
	c.Each(func(name string, v uint64) { again = append(again, name) })
	if strings.Join(names, ",") != strings.Join(again, ",") {
		t.Error("Counters.Each order is not stable")
	}
	for _, want := range []string{"decoder.pkts", "decoder.vlan_qinqinq", "decoder.event.ipv4.trunc_pkt", "decoder.event.tcp.hlen_too_small"} {
		if !seen2(names, want) {
			t.Errorf("Counters.Each lacks %s", want)
		}
	}
}

func seen2(names []string, s string) bool {
	for _, n := range names {
		if n == s {
			return true
		}
	}
	return false
}

var fixtures = []fixture{
	{name: "eth ipv4 tcp opts", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500004112344000400600000a0000010a00000204d20050000003e8000007d0a018200000000000020405b40402080a00000001000000020103030768656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 6, sp: 1234, dp: 80, pl: 5, check: true},
	{name: "eth ipv4 tcp padded", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500002d12344000400600000a0000010a00000204d20050000003e8000007d0501820000000000068656c6c6f0000000000000000000000", want: decode.ReasonNone, ipv: 4, proto: 6, sp: 1234, dp: 80, pl: 5, check: true},
	{name: "eth vlan ipv4 udp", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb8100006408004500002112344000401100000a0000010a00000214e90035000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 5353, dp: 53, pl: 5, vlans: 1, check: true},
	{name: "eth qinq ipv6 tcp", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb88a8000a8100001486dd600000000019064020010db800000000000000000000000120010db800000000000000000000000204d201bb000003e8000007d0501820000000000068656c6c6f", want: decode.ReasonNone, ipv: 6, proto: 6, sp: 1234, dp: 443, pl: 5, vlans: 2, check: true},
	{name: "eth 3 tags 9100", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb91000001810000028100000308004500002112344000401100000a0000010a00000200010002000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1, dp: 2, pl: 5, vlans: 3, check: true},
	{name: "eth 4 tags", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb8100000181000002810000038100000408004500002112344000401100000a0000010a00000200010002000d000068656c6c6f", want: decode.ReasonVLANTooManyLayers},
	{name: "eth ipv6 hbh udp", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd600000000015004020010db800000000000000000000000120010db8000000000000000000000002110005020000000003e80035000d000068656c6c6f", want: decode.ReasonNone, ipv: 6, proto: 17, sp: 1000, dp: 53, pl: 5, check: true},
	{name: "eth ipv4 icmp echo", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500002112344000400100000a0000010a00000208000000abcd000168656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 1, sp: 43981, dp: 43981, pl: 5, check: true},
	{name: "eth ipv4 icmp unreach", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500003812344000400100000a0000010a00000203030000000000004500002112344000401100000a0000020a00000914e90035000d0000", want: decode.ReasonNone, ipv: 4, proto: 1, sp: 3, dp: 3, pl: 28, check: true},
	{name: "eth ipv6 icmpv6 echo", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd60000000000d3a4020010db800000000000000000000000120010db800000000000000000000000280000000beef000168656c6c6f", want: decode.ReasonNone, ipv: 6, proto: 58, sp: 48879, dp: 48879, pl: 5, check: true},
	{name: "eth arp", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb080600000000000000000000000000000000000000000000000000000000", want: decode.ReasonNone, ipv: 0, check: true},
	{name: "eth lldp", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb88cc0000000000000000000000000000000000000000", want: decode.ReasonNone, ipv: 0, event: decode.ReasonEthernetUnknownEthertype, check: true},
	{name: "sll ipv4 udp", lt: capture.LinkTypeLinuxSLL, hex: "000000010006001122334455000008004500002112344000401100000a0000010a00000200010002000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1, dp: 2, pl: 5, check: true},
	{name: "sll2 ipv6 tcp", lt: capture.LinkTypeLinuxSLL2, hex: "86dd000000000000000000000000000000000000600000000019064020010db800000000000000000000000120010db800000000000000000000000200010002000003e8000007d0501820000000000068656c6c6f", want: decode.ReasonNone, ipv: 6, proto: 6, sp: 1, dp: 2, pl: 5, check: true},
	{name: "null le inet6 30", lt: capture.LinkTypeNull, hex: "1e00000060000000000d114020010db800000000000000000000000120010db800000000000000000000000200010002000d000068656c6c6f", want: decode.ReasonNone, ipv: 6, proto: 17, sp: 1, dp: 2, pl: 5, check: true},
	{name: "null be inet", lt: capture.LinkTypeNull, hex: "000000024500002112344000401100000a0000010a00000200010002000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1, dp: 2, pl: 5, check: true},
	{name: "loop inet6 24", lt: capture.LinkTypeLoop, hex: "0000001860000000000d114020010db800000000000000000000000120010db800000000000000000000000200010002000d000068656c6c6f", want: decode.ReasonNone, ipv: 6, proto: 17, sp: 1, dp: 2, pl: 5, check: true},
	{name: "raw ipv4", lt: capture.LinkTypeRaw, hex: "4500002112344000401100000a0000010a00000200010002000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1, dp: 2, pl: 5, check: true},
	{name: "raw ipv6", lt: capture.LinkTypeRaw, hex: "60000000000d114020010db800000000000000000000000120010db800000000000000000000000200010002000d000068656c6c6f", want: decode.ReasonNone, ipv: 6, proto: 17, sp: 1, dp: 2, pl: 5, check: true},
	{name: "raw bad version", lt: capture.LinkTypeRaw, hex: "50000000000000000000000000000000000000000000000000000000000000", want: decode.ReasonIPRawInvalidIPVersion},
	{name: "linktype ipv4", lt: capture.LinkTypeIPv4, hex: "4500002d12344000400600000a0000010a00000200010002000003e8000007d0501820000000000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 6, sp: 1, dp: 2, pl: 5, check: true},
	{name: "linktype ipv6", lt: capture.LinkTypeIPv6, hex: "600000000019064020010db800000000000000000000000120010db800000000000000000000000200010002000003e8000007d0501820000000000068656c6c6f", want: decode.ReasonNone, ipv: 6, proto: 6, sp: 1, dp: 2, pl: 5, check: true},
	{name: "gre v0 key seq csum ipv4", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500004512344000402f00000a0000010a000002b0000800000000000000000000000000450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, tunnel: decode.TunnelGRE, check: true},
	{name: "gre teb", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500004712344000402f00000a0000010a0000020000655800112233445566778899aabb0800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, tunnel: decode.TunnelGRE, check: true},
	{name: "gre erspan2", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500005312344000402f00000a0000010a000002100088be00000000100500000000000000112233445566778899aabb0800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, vlans: 1, tunnel: decode.TunnelGRE | decode.TunnelERSPAN, check: true},
	{name: "gre erspan3", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500005712344000402f00000a0000010a000002100022eb0000000020000000000000000000000000112233445566778899aabb0800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, tunnel: decode.TunnelGRE | decode.TunnelERSPAN, check: true},
	{name: "gre v1 pptp ppp", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500004912344000402f00000a0000010a0000023081880b002500010000000000000000ff030021450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, tunnel: decode.TunnelGRE, check: true},
	{name: "gre bad version", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500003912344000402f00000a0000010a00000200020800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonGREWrongVersion},
	{name: "gre v0 recursion", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500003912344000402f00000a0000010a00000201000800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonGREVersion0Recur},
	{name: "gre truncated", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500001612344000402f00000a0000010a0000022000", want: decode.ReasonGREPktTooSmall},
	{name: "gre key truncated", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500001912344000402f00000a0000010a0000022000080000", want: decode.ReasonGREVersion0HdrTooBig},
	{name: "mpls 2 labels ipv4", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb88470001004000020140450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, tunnel: decode.TunnelMPLS, check: true},
	{name: "mpls pw ethernet", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb8847000111400000000000112233445566778899aabb0800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, tunnel: decode.TunnelMPLS, check: true},
	{name: "mpls router alert", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb884700001140450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonMPLSBadLabelRouterAlert},
	{name: "mpls truncated", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb8847000100", want: decode.ReasonMPLSHeaderTooSmall},
	{name: "pppoe session ipv4", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb88641100000100230021450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, tunnel: decode.TunnelPPPoE, check: true},
	{name: "pppoe length too big", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb886411000001002d0021450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonPPPoEPktTooSmall},
	{name: "vxlan", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500005312344000401100000a0000010a000002c35012b5003f00000800000000007b0000112233445566778899aabb0800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, tunnel: decode.TunnelVXLAN, check: true},
	{name: "6in4", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500004912344000402900000a0000010a00000260000000000d114020010db800000000000000000000000120010db800000000000000000000000200010002000d000068656c6c6f", want: decode.ReasonNone, ipv: 6, proto: 17, sp: 1, dp: 2, pl: 5, tunnel: decode.TunnelIPinIP, check: true},
	{name: "4in6", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd600000000021044020010db800000000000000000000000120010db8000000000000000000000002450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, tunnel: decode.TunnelIPinIP, check: true},
	{name: "4in6 too small", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd60000000000a044020010db800000000000000000000000120010db800000000000000000000000245000021123440004011", want: decode.ReasonIPv6IPv4InIPv6TooSmall},
	{name: "ipv4 first fragment", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500002c12342000401100000a0000010a000002000100020018000000000000000000000000000000000000", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 0, dp: 0, pl: 24, frag: true, check: true},
	{name: "ipv4 later fragment", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500002412340003401100000a0000010a00000200000000000000000000000000000000", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 0, dp: 0, pl: 16, frag: true, check: true},
	{name: "ipv6 fragment", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd6000000000182c4020010db800000000000000000000000120010db8000000000000000000000002110000010000004200000000000000000000000000000000", want: decode.ReasonNone, ipv: 6, proto: 17, sp: 0, dp: 0, pl: 16, frag: true, check: true},
	{name: "ipv6 atomic fragment", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd6000000000152c4020010db800000000000000000000000120010db8000000000000000000000002110000000000004200010002000d000068656c6c6f", want: decode.ReasonNone, ipv: 6, proto: 17, sp: 1, dp: 2, pl: 5, event: decode.ReasonIPv6ExthdrUselessFH, check: true},
	{name: "ipv4 options rr nop", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004700002912344000401100000a0000010a000002010707040000000000010002000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1, dp: 2, pl: 5, check: true},
	{name: "ipv4 option bad len", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004600002512344000401100000a0000010a0000024401000000010002000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1, dp: 2, pl: 5, event: decode.ReasonIPv4OptInvalidLen, check: true},
	{name: "ipv4 option overrun", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004600002512344000401100000a0000010a0000020710000000010002000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1, dp: 2, pl: 5, event: decode.ReasonIPv4OptMalformed, check: true},
	{name: "ipv4 bad ihl", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004400002112344000401100000a0000010a00000200010002000d000068656c6c6f", want: decode.ReasonIPv4HlenTooSmall},
	{name: "ipv4 ihl beyond frame", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004f00001412344000401100000a0000010a000002", want: decode.ReasonIPv4HlenTooSmall},
	{name: "ipv4 wrong version", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08005500002112344000401100000a0000010a00000200010002000d000068656c6c6f", want: decode.ReasonIPv4WrongIPVersion},
	{name: "ipv4 total length beyond capture", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb0800450000c812344000401100000a0000010a00000200010002000d000068656c6c6f", want: decode.ReasonIPv4TruncPkt},
	{name: "ipv4 total length below header", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500000a12344000401100000a0000010a00000200010002000d000068656c6c6f", want: decode.ReasonIPv4IPLenSmallerThanHlen},
	{name: "ipv4 short", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500", want: decode.ReasonIPv4PktTooSmall},
	{name: "ipv4 carrying icmpv6", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500001c12344000403a00000a0000010a0000020000000000000000", want: decode.ReasonIPv4ICMPv6},
	{name: "tcp hlen below 5", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500002d12344000400600000a0000010a00000200010002000003e8000007d0401820000000000068656c6c6f", want: decode.ReasonTCPHlenTooSmall},
	{name: "tcp hlen beyond segment", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500002812344000400600000a0000010a00000200010002000003e8000007d0f018200000000000", want: decode.ReasonTCPHlenTooSmall},
	{name: "tcp short", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500002012344000400600000a0000010a000002000000000000000000000000", want: decode.ReasonTCPPktTooSmall},
	{name: "tcp bad mss len", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500003512344000400600000a0000010a00000200010002000003e8000007d07018200000000000020305000101010168656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 6, sp: 1, dp: 2, pl: 5, event: decode.ReasonTCPOptInvalidLen, check: true},
	{name: "tcp option overrun", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500003112344000400600000a0000010a00000200010002000003e8000007d0601820000000000008ff000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 6, sp: 1, dp: 2, pl: 5, event: decode.ReasonTCPOptInvalidLen, check: true},
	{name: "tcp duplicate ws", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500003512344000400600000a0000010a00000200010002000003e8000007d07018200000000000030305030306000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 6, sp: 1, dp: 2, pl: 5, event: decode.ReasonTCPOptDuplicate, check: true},
	{name: "udp zero length", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500002112344000401100000a0000010a000002000100020000000068656c6c6f", want: decode.ReasonUDPLenInvalid},
	{name: "udp length beyond", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500002112344000401100000a0000010a000002000100020064000068656c6c6f", want: decode.ReasonUDPPktTooSmall},
	{name: "udp short", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500001812344000401100000a0000010a00000200000000", want: decode.ReasonUDPHlenTooSmall},
	{name: "udp length shorter than ip", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500002112344000401100000a0000010a00000200010002000a000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1, dp: 2, pl: 2, check: true},
	{name: "icmp short", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500001812344000400100000a0000010a00000200000000", want: decode.ReasonICMPv4PktTooSmall},
	{name: "icmpv6 short", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd6000000000043a4020010db800000000000000000000000120010db800000000000000000000000200000000", want: decode.ReasonICMPv6PktTooSmall},
	{name: "ipv6 short", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd000000000000000000000000000000000000000000000000000000000000", want: decode.ReasonIPv6PktTooSmall},
	{name: "ipv6 payload length beyond", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd60000000012c114020010db800000000000000000000000120010db800000000000000000000000200010002000d000068656c6c6f", want: decode.ReasonIPv6TruncPkt},
	{name: "ipv6 truncated exthdr", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd600000000008004020010db800000000000000000000000120010db80000000000000000000000021104000000000000", want: decode.ReasonIPv6TruncExthdr},
	{name: "ipv6 wrong version", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd40000000000d114020010db800000000000000000000000120010db800000000000000000000000200010002000d000068656c6c6f", want: decode.ReasonIPv6WrongIPVersion},
	{name: "ipv6 carrying icmpv4", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd600000000008014020010db800000000000000000000000120010db80000000000000000000000020000000000000000", want: decode.ReasonIPv6ICMPv4},
	{name: "ethernet short", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08", want: decode.ReasonEthernetPktTooSmall},
	{name: "vlan short", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb81000001", want: decode.ReasonVLANHeaderTooSmall},
	{name: "sll short", lt: capture.LinkTypeLinuxSLL, hex: "00000000000000000000", want: decode.ReasonSLLPktTooSmall},
	{name: "null short", lt: capture.LinkTypeNull, hex: "000000", want: decode.ReasonLTNullPktTooSmall},
	{name: "sctp", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500002512344000408400000a0000010a00000213880050000000010000000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 132, sp: 5000, dp: 80, pl: 5, check: true},
	{name: "sctp short", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500001c12344000408400000a0000010a0000020000000000000000", want: decode.ReasonSCTPPktTooSmall},

	// IEEE 802.11 (with and without radiotap), NFLOG and GTP-U. Malformed
	// 802.11 and radiotap headers report ethernet.pkt_too_small and NFLOG
	// headers sll.pkt_too_small: Suricata has no events for these layers.
	{name: "radiotap qos data fcs", lt: capture.LinkTypeIEEE80211Radiotap, hex: "00001200070000000102030405060708100c88013a0100112233445566778899aabbccddeeff001110000000aaaa0300000008004500002d12344000400600000a0000010a00000204d20050000003e8000007d0501820000000000068656c6c6fdeadbeef", want: decode.ReasonNone, ipv: 4, proto: 6, sp: 1234, dp: 80, pl: 5, check: true},
	{name: "radiotap datapad qos", lt: capture.LinkTypeIEEE80211Radiotap, hex: "00000a0006000000200c88013a0100112233445566778899aabbccddeeff0011100000000000aaaa030000000800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, check: true},
	{name: "radiotap ext present", lt: capture.LinkTypeIEEE80211Radiotap, hex: "00001a000700008000000000000000000102030405060708000c08013a0100112233445566778899aabbccddeeff00111000aaaa030000000800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, check: true},
	{name: "radiotap len beyond", lt: capture.LinkTypeIEEE80211Radiotap, hex: "000020000f00000000000000", want: decode.ReasonEthernetPktTooSmall},
	{name: "radiotap short", lt: capture.LinkTypeIEEE80211Radiotap, hex: "000008", want: decode.ReasonEthernetPktTooSmall},
	{name: "80211 data ipv6", lt: capture.LinkTypeIEEE80211, hex: "08023a0100112233445566778899aabbccddeeff00111000aaaa0300000086dd60000000000d114020010db800000000000000000000000120010db800000000000000000000000203e80035000d000068656c6c6f", want: decode.ReasonNone, ipv: 6, proto: 17, sp: 1000, dp: 53, pl: 5, check: true},
	{name: "80211 4addr qos htc", lt: capture.LinkTypeIEEE80211, hex: "88833a0100112233445566778899aabbccddeeff00111000223344556677050000000000aaaa030000000800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, check: true},
	{name: "80211 amsdu", lt: capture.LinkTypeIEEE80211, hex: "88013a0100112233445566778899aabbccddeeff00111000800000112233445566778899aabb0029aaaa030000000800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f00000000112233445566778899aabb0029aaaa030000000800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, count: "wlanAMSDU", tail: 58, check: true},
	{name: "80211 bridge tunnel snap", lt: capture.LinkTypeIEEE80211, hex: "08013a0100112233445566778899aabbccddeeff00111000aaaa030000f80800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, check: true},
	{name: "80211 protected", lt: capture.LinkTypeIEEE80211, hex: "88413a0100112233445566778899aabbccddeeff001110000000010000200000000055555555555555555555555555555555555555555555555555555555555555555555555555555555", want: decode.ReasonNone, ipv: 0, count: "wlanProtected", check: true},
	{name: "80211 beacon", lt: capture.LinkTypeIEEE80211, hex: "80000000ffffffffffff66778899aabb66778899aabb10000000000000000000640011040000", want: decode.ReasonNone, ipv: 0, count: "wlanMgmt", check: true},
	{name: "80211 ack", lt: capture.LinkTypeIEEE80211, hex: "d4000000001122334455", want: decode.ReasonNone, ipv: 0, count: "wlanCtrl", check: true},
	{name: "80211 qos null", lt: capture.LinkTypeIEEE80211, hex: "c8013a0100112233445566778899aabbccddeeff001110000000", want: decode.ReasonNone, ipv: 0, count: "wlanNoData", check: true},
	{name: "80211 fragment", lt: capture.LinkTypeIEEE80211, hex: "08053a0100112233445566778899aabbccddeeff00111000aaaa030000000800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 0, count: "wlanFragment", check: true},
	{name: "80211 stp llc", lt: capture.LinkTypeIEEE80211, hex: "08013a0100112233445566778899aabbccddeeff001110004242030000000000000000000000000000000000000000000000000000000000000000000000", want: decode.ReasonNone, ipv: 0, count: "wlanNonSNAP", check: true},
	{name: "80211 eapol", lt: capture.LinkTypeIEEE80211, hex: "88023a0100112233445566778899aabbccddeeff001110000000aaaa03000000888e0203005f", want: decode.ReasonNone, ipv: 0, event: decode.ReasonEthernetUnknownEthertype, check: true},
	{name: "80211 data header cut", lt: capture.LinkTypeIEEE80211, hex: "08013a0100112233445566778899aabbccddeeff", want: decode.ReasonEthernetPktTooSmall},
	{name: "80211 snap cut", lt: capture.LinkTypeIEEE80211, hex: "08013a0100112233445566778899aabbccddeeff00111000aaaa0300", want: decode.ReasonEthernetPktTooSmall},
	{name: "80211 empty body", lt: capture.LinkTypeIEEE80211, hex: "08013a0100112233445566778899aabbccddeeff00111000", want: decode.ReasonEthernetPktTooSmall},
	{name: "80211 amsdu length beyond", lt: capture.LinkTypeIEEE80211, hex: "88013a0100112233445566778899aabbccddeeff00111000800000112233445566778899aabb0400aaaa030000000800", want: decode.ReasonEthernetPktTooSmall},
	{name: "nflog ipv4 tcp", lt: capture.LinkTypeNFLOG, hex: "02000001080001000800030009000a0065746830000000000800050000000002310009004500002d12344000400600000a0000010a00000204d20050000003e8000007d0501820000000000068656c6c6f000000", want: decode.ReasonNone, ipv: 4, proto: 6, sp: 1234, dp: 80, pl: 5, truncNoIP: true, count: "nflog", tail: 3, check: true},
	{name: "nflog ipv6 udp", lt: capture.LinkTypeNFLOG, hex: "0a0000010800010086dd03003900090060000000000d114020010db800000000000000000000000120010db800000000000000000000000203e80035000d000068656c6c6f000000", want: decode.ReasonNone, ipv: 6, proto: 17, sp: 1000, dp: 53, pl: 5, truncNoIP: true, tail: 3, check: true},
	{name: "nflog big endian", lt: capture.LinkTypeNFLOG, hex: "02000001000800010800030000250009450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f000000", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, truncNoIP: true, tail: 3, check: true},
	{name: "nflog unspec family ipv4", lt: capture.LinkTypeNFLOG, hex: "0000000125000900450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f000000", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, truncNoIP: true, tail: 3, check: true},
	{name: "nflog no payload", lt: capture.LinkTypeNFLOG, hex: "02000001080001000800030009000a0065746830000000000800050000000002", want: decode.ReasonNone, ipv: 0, count: "nflogNoPayload", check: true},
	{name: "nflog tlv len below 4", lt: capture.LinkTypeNFLOG, hex: "0200000102000100", want: decode.ReasonSLLPktTooSmall},
	{name: "nflog attr beyond", lt: capture.LinkTypeNFLOG, hex: "0200000140000a0065746830", want: decode.ReasonSLLPktTooSmall},
	{name: "nflog short", lt: capture.LinkTypeNFLOG, hex: "0200", want: decode.ReasonSLLPktTooSmall},
	{name: "nflog payload cut", lt: capture.LinkTypeNFLOG, hex: "02000001080001000800030009000a0065746830000000000800050000000002310009004500002d12344000400600000a0000010a00000204d20050000003e8000007d0501820000000", want: decode.ReasonIPv4TruncPkt},
	{name: "nflog family v4 payload v6", lt: capture.LinkTypeNFLOG, hex: "020000013900090060000000000d114020010db800000000000000000000000120010db800000000000000000000000203e80035000d000068656c6c6f000000", want: decode.ReasonIPv4WrongIPVersion},
	{name: "gtp ipv4 tcp", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500005112344000401100000a0000010a00000208680868003d000030ff002d000000014500002d12344000400600000a0000010a00000204d20050000003e8000007d0501820000000000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 6, sp: 1234, dp: 80, pl: 5, tunnel: decode.TunnelGTP, count: "gtp", check: true},
	{name: "gtp seq ipv6 udp", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500005d12344000401100000a0000010a000002086808680049000032ff0039000000010007000060000000000d114020010db800000000000000000000000120010db800000000000000000000000203e80035000d000068656c6c6f", want: decode.ReasonNone, ipv: 6, proto: 17, sp: 1000, dp: 53, pl: 5, tunnel: decode.TunnelGTP, check: true},
	{name: "gtp ext chain", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb86dd600000000041114020010db800000000000000000000000120010db80000000000000000000000029c4008680041000034ff0031000000010000008501aabb850200000000000000450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, tunnel: decode.TunnelGTP, check: true},
	{name: "gtp npdu flag", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500004912344000401100000a0000010a000002086808680035000031ff00250000000100000700450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 1111, dp: 2222, pl: 5, tunnel: decode.TunnelGTP, check: true},
	{name: "gtp echo request", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500002812344000401100000a0000010a0000020868086800140000320100040000000100010000", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 2152, dp: 2152, pl: 12, check: true},
	{name: "gtp bad ext length", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500004d12344000401100000a0000010a000002086808680039000034ff0029000000010000008500100000450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 2152, dp: 2152, pl: 49, check: true},
	{name: "gtp non-ip tpdu", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500005312344000401100000a0000010a00000208680868003f000030ff002f0000000100112233445566778899aabb0800450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 2152, dp: 2152, pl: 55, check: true},
	{name: "gtp length beyond", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500004512344000401100000a0000010a000002086808680031000030ff010000000001450000211234400040110000c0a80001c0a80002045708ae000d000068656c6c6f", want: decode.ReasonNone, ipv: 4, proto: 17, sp: 2152, dp: 2152, pl: 41, check: true},
	{name: "gtp inner truncated", lt: capture.LinkTypeEthernet, hex: "00112233445566778899aabb08004500004212344000401100000a0000010a00000208680868002e000030ff001e000000014500002d12344000400600000a0000010a00000204d20050000003e80000", want: decode.ReasonIPv4TruncPkt},
}
