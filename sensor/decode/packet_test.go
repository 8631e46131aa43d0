package decode_test

import (
	"net/netip"
	"testing"

	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
)

func decodeFixture(t *testing.T, d *decode.Decoder, p *decode.Packet, name string) {
	t.Helper()
	f := fixtureFrame(t, name)
	if r := d.Decode(p, &f); r != decode.ReasonNone {
		t.Fatalf("%s: %v", name, r)
	}
}

func TestICMPEmbedded(t *testing.T) {
	var d decode.Decoder
	var p decode.Packet
	decodeFixture(t, &d, &p, "eth ipv4 icmp unreach")
	e := p.ICMPEmbedded
	src := netip.AddrFrom16(e.Src).Unmap()
	dst := netip.AddrFrom16(e.Dst).Unmap()
	if e.IPVersion != 4 || e.IPProto != decode.IPProtoUDP || src.String() != "10.0.0.2" || dst.String() != "10.0.0.9" ||
		e.SrcPort != 5353 || e.DstPort != 53 {
		t.Errorf("embedded = %+v (%v > %v)", e, src, dst)
	}
	decodeFixture(t, &d, &p, "eth ipv4 icmp echo")
	if p.ICMPEmbedded.IPVersion != 0 || p.ICMPID != 0xabcd || !decode.IsEcho(p.IPProto, p.ICMPType) {
		t.Errorf("echo: embedded %+v id %#x", p.ICMPEmbedded, p.ICMPID)
	}
}

func TestDecodeDatagramKeepsL2(t *testing.T) {
	var d decode.Decoder
	var p decode.Packet
	decodeFixture(t, &d, &p, "eth qinq ipv6 tcp")
	ip := append([]byte(nil), p.Data[p.L3Offset:]...)
	p.Tunnel = decode.TunnelGRE // as if the fragment had come through a tunnel
	if r := d.DecodeDatagram(&p, ip); r != decode.ReasonNone {
		t.Fatal(r)
	}
	if p.VLANCount != 2 || p.VLAN[0] != 10 || p.VLAN[1] != 20 || p.Tunnel != decode.TunnelGRE {
		t.Errorf("L2 not kept: vlan %v/%d tunnel %#x", p.VLAN, p.VLANCount, p.Tunnel)
	}
	if p.L3Offset != 0 || &p.Data[0] != &ip[0] || p.DstPort != 443 || len(p.Payload) != 5 {
		t.Errorf("datagram fields: l3 %d dport %d payload %d", p.L3Offset, p.DstPort, len(p.Payload))
	}
	if r := d.DecodeDatagram(&p, ip[:30]); r != decode.ReasonIPv6PktTooSmall {
		t.Errorf("short datagram: %v", r)
	}
}

func TestCounters(t *testing.T) {
	var d decode.Decoder
	var p decode.Packet
	for _, name := range []string{"eth qinq ipv6 tcp", "eth vlan ipv4 udp", "eth 3 tags 9100", "eth arp", "eth lldp", "tcp hlen below 5"} {
		f := fixtureFrame(t, name)
		d.Decode(&p, &f)
	}
	c := d.Counters
	want := map[string]uint64{
		"decoder.pkts": 6, "decoder.invalid": 1, "decoder.ethernet": 6, "decoder.vlan": 3, "decoder.vlan_qinq": 2,
		"decoder.vlan_qinqinq": 1, "decoder.arp": 1, "decoder.unknown_ethertype": 1, "decoder.tcp": 1, "decoder.udp": 2,
		"decoder.ipv4": 3, "decoder.ipv6": 1, "decoder.event.tcp.hlen_too_small": 1, "decoder.event.ethernet.unknown_ethertype": 1,
	}
	c.Each(func(name string, v uint64) {
		if w, ok := want[name]; ok && v != w {
			t.Errorf("%s = %d, want %d", name, v, w)
		}
		delete(want, name)
	})
	for name := range want {
		t.Errorf("Each did not report %s", name)
	}
	var f capture.Frame
	f.LinkType = 12345
	if r := d.Decode(&p, &f); r != decode.ReasonNone || p.IPVersion != 0 {
		t.Errorf("unknown link type: %v v%d", r, p.IPVersion)
	}
}
