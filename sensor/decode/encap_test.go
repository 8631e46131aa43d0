package decode_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
)

// TestCorpusEncapsulations checks, per corpus trace with an encapsulation,
// that no frame is invalid and that the expected encapsulation is decoded
// through to an inner L4 header in at least minHits frames.
func TestCorpusEncapsulations(t *testing.T) {
	tests := []struct {
		file    string
		minHits int
		hit     func(p *decode.Packet) bool
	}{
		{"zeek/http-vlan-0.pcap", 1, func(p *decode.Packet) bool { return p.VLANCount == 1 && p.IPProto == decode.IPProtoTCP }},
		{"zeek/http-qinq-0.pcap", 1, func(p *decode.Packet) bool { return p.VLANCount == 2 && p.IPProto == decode.IPProtoTCP }},
		{"zeek/q-in-q.pcap", 1, func(p *decode.Packet) bool { return p.VLANCount == 2 }},
		{"zeek/vlan-qinqinq.pcap", 1, func(p *decode.Packet) bool { return p.VLANCount == 3 && p.IPVersion != 0 }},
		{"zeek/mixed-vlan-mpls.pcap", 1, func(p *decode.Packet) bool { return p.Tunnel&decode.TunnelMPLS != 0 && p.IPVersion != 0 }},
		{"zeek/erspan.pcap", 1, func(p *decode.Packet) bool { return p.Tunnel&decode.TunnelGRE != 0 && p.IPProto == decode.IPProtoICMP }}, // despite its name: GRE 0x6558
		{"zeek/pppoe.pcap", 20, func(p *decode.Packet) bool { return p.Tunnel&decode.TunnelPPPoE != 0 && p.IPVersion == 6 }},
		{"arkime/pppoe.pcap", 1, func(p *decode.Packet) bool { return p.Tunnel&decode.TunnelPPPoE != 0 && p.IPVersion != 0 }},
		{"arkime/gre-sample.pcap", 1, func(p *decode.Packet) bool { return p.Tunnel&decode.TunnelGRE != 0 && p.IPVersion != 0 }},
		{"arkime/gre-erspan.pcap", 1, func(p *decode.Packet) bool { return p.Tunnel&decode.TunnelERSPAN != 0 && p.IPVersion != 0 }},
		{"arkime/gre-erspan-vxlan.pcap", 1, func(p *decode.Packet) bool { return p.Tunnel&decode.TunnelVXLAN != 0 && p.IPVersion != 0 }},
		{"arkime/vxlan.pcap", 1, func(p *decode.Packet) bool {
			// The outer flow is the VXLAN UDP flow; the packet's own fields the inner one.
			return p.Tunnel&decode.TunnelVXLAN != 0 && p.IPVersion != 0 &&
				p.Outer.IPProto == decode.IPProtoUDP && (p.Outer.DstPort == decode.PortVXLAN || p.Outer.SrcPort == decode.PortVXLAN)
		}},
		{"arkime/gre-sample.pcap", 1, func(p *decode.Packet) bool {
			return p.Tunnel&decode.TunnelGRE != 0 && p.Outer.IPProto == decode.IPProtoGRE && p.Outer.IPVersion == 4 && p.Outer.Src != p.Src
		}},
		{"zeek/http-vlan-0.pcap", 1, func(p *decode.Packet) bool { return p.Outer.IPVersion == 0 }}, // no tunnel, no outer flow
		{"arkime/tcpdump-geneve.pcap", 1, func(p *decode.Packet) bool { return p.Tunnel&decode.TunnelGeneve != 0 && p.IPVersion != 0 }},
		{"arkime/mpls-basic.pcap", 1, func(p *decode.Packet) bool { return p.Tunnel&decode.TunnelMPLS != 0 && p.IPVersion != 0 }},
		{"arkime/ipv6-in-ipv4.pcap", 1, func(p *decode.Packet) bool { return p.Tunnel&decode.TunnelIPinIP != 0 && p.IPVersion == 6 }},
		{"arkime/6-4-gre-ppp-udp-4-dns.pcap", 1, func(p *decode.Packet) bool {
			return p.Tunnel&decode.TunnelGRE != 0 && p.IPVersion == 4 && p.IPProto == decode.IPProtoUDP
		}},
		{"arkime/dot1ad.pcap", 1, func(p *decode.Packet) bool { return p.VLANCount >= 1 && p.IPVersion != 0 }},
		{"arkime/twovlan.pcap", 1, func(p *decode.Packet) bool { return p.VLANCount == 2 && p.IPVersion != 0 }},
		{"zeek/ipv6-http-atomic-frag.pcap", 1, func(p *decode.Packet) bool {
			return !p.Fragment && p.IPProto == decode.IPProtoTCP && p.Events.Has(decode.ReasonIPv6ExthdrUselessFH)
		}},
		// Link types 127 (radiotap + 802.11 QoS data, FCS flag) and 239,
		// and GTP-U: every frame decodes to the inner flow tshark shows.
		{"arkime/80211http.pcap", 26, func(p *decode.Packet) bool {
			return p.IPProto == decode.IPProtoTCP && isPair(p, "172.5.5.113", 49417, "14.17.32.211", 80)
		}},
		{"arkime/nflog.pcap", 10, func(p *decode.Packet) bool {
			return p.IPProto == decode.IPProtoTCP && isPair(p, "10.10.10.10", 54064, "52.43.228.156", 80)
		}},
		{"ndpi/http_origin_different_than_host.pcap", 4, func(p *decode.Packet) bool {
			return p.Tunnel&decode.TunnelGTP != 0 && p.VLANCount == 2 && p.IPProto == decode.IPProtoTCP &&
				isPair(p, "10.140.206.74", 34536, "18.135.206.102", 80)
		}},
		{"arkime/gtp-u.pcap", 102, func(p *decode.Packet) bool {
			return p.Tunnel&decode.TunnelGTP != 0 && p.IPProto == decode.IPProtoICMP && p.SrcPort == 0 && p.DstPort == 0 &&
				isPair(p, "192.168.40.178", 0, "202.11.40.158", 0)
		}},
		{"arkime/ipv6-gtp6.pcap", 1, func(p *decode.Packet) bool {
			return p.Tunnel&decode.TunnelGTP != 0 && p.IPProto == decode.IPProtoUDP &&
				isPair(p, "1111:2222:3333:4444:5555:7777::", 53, "1111:2222:3333:4444:5555:8888:a8ac:7bc0", 57030)
		}},
		{"arkime/gtp-iphone.pcap", 106, func(p *decode.Packet) bool { return p.Tunnel&decode.TunnelGTP != 0 && p.IPVersion != 0 }},
		{"arkime/gtp-iphone.pcap", 58, func(p *decode.Packet) bool { // SIP over TCP
			return p.IPProto == decode.IPProtoTCP && isPair(p, "fd00:183:1:1:1886:9040:8605:32b8", 5060, "fd01::183", 5060)
		}},
		// 802.11 without IP: management, control, EAPOL and protected data
		// frames are skipped, never invalid.
		{"chrissanders-packets/80211beacon.pcapng", 1, func(p *decode.Packet) bool { return p.IPVersion == 0 }},
		{"chrissanders-packets/3e80211_wepauth.pcapng", 8, func(p *decode.Packet) bool { return p.IPVersion == 0 }},
		{"chrissanders-packets/3e80211_wpaauth.pcapng", 12, func(p *decode.Packet) bool { return p.IPVersion == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var d decode.Decoder
			var p decode.Packet
			hits, n := 0, 0
			err := readPcap(t, corpus.Path(t, "pcaps", tt.file), func(f *capture.Frame) {
				n++
				if r := d.Decode(&p, f); r != decode.ReasonNone {
					t.Errorf("frame %d: %v", n, r)
					return
				}
				if tt.hit(&p) {
					hits++
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if hits < tt.minHits {
				t.Errorf("%d of %d frames decoded through the encapsulation, want >= %d", hits, n, tt.minHits)
			}
			t.Log(fmt.Sprintf("%d/%d frames", hits, n))
		})
	}
}

// isPair reports whether p goes between a:ap and b:bp in either direction.
// ICMP has no ports: only the addresses are compared.
func isPair(p *decode.Packet, a string, ap uint16, b string, bp uint16) bool {
	x, y := netip.MustParseAddr(a), netip.MustParseAddr(b)
	if p.IPProto == decode.IPProtoICMP || p.IPProto == decode.IPProtoICMPv6 {
		return p.SrcAddr() == x && p.DstAddr() == y || p.SrcAddr() == y && p.DstAddr() == x
	}
	return p.SrcAddr() == x && p.DstAddr() == y && p.SrcPort == ap && p.DstPort == bp ||
		p.SrcAddr() == y && p.DstAddr() == x && p.SrcPort == bp && p.DstPort == ap
}
