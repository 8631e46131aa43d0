package decode_test

import (
	"fmt"
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
		{"arkime/vxlan.pcap", 1, func(p *decode.Packet) bool { return p.Tunnel&decode.TunnelVXLAN != 0 && p.IPVersion != 0 }},
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
