package applayer

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/flow"
)

// firstPayloads returns the first payload of each side of the first flow in
// a pcap that carries payload, for the given L4 protocol, with ports. The
// client is the sender of the first SYN (TCP) or of the first datagram
// (UDP).
type firstPayload struct {
	data             []byte
	srcPort, dstPort uint16
	fromClient       bool
}

func firstPayloads(t *testing.T, rel string, tcp bool) []firstPayload {
	t.Helper()
	f, err := os.Open(corpus.Path(t, "pcaps", rel))
	if err != nil {
		t.Fatalf("open pcap: %v", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var src gopacket.PacketDataSource
	var lt layers.LinkType
	if m, _ := br.Peek(4); len(m) == 4 && binary.LittleEndian.Uint32(m) == 0x0A0D0D0A {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		src, lt = r, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		src, lt = r, r.LinkType()
	}
	var clientPort uint16
	var out []firstPayload
	seen := map[bool]bool{}
	for len(out) < 2 {
		data, _, err := src.ReadPacketData()
		if err == io.EOF || err != nil {
			break
		}
		pkt := gopacket.NewPacket(data, lt, gopacket.Default)
		var sp, dp uint16
		var payload []byte
		if tcp {
			l, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if !ok {
				continue
			}
			sp, dp, payload = uint16(l.SrcPort), uint16(l.DstPort), l.Payload
			if l.SYN && !l.ACK && clientPort == 0 {
				clientPort = sp
			}
		} else {
			l, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
			if !ok {
				continue
			}
			sp, dp, payload = uint16(l.SrcPort), uint16(l.DstPort), l.Payload
			if clientPort == 0 {
				clientPort = sp
			}
		}
		if len(payload) == 0 || clientPort == 0 || (sp != clientPort && dp != clientPort) {
			continue
		}
		fc := sp == clientPort
		if seen[fc] {
			continue
		}
		seen[fc] = true
		out = append(out, firstPayload{append([]byte(nil), payload...), sp, dp, fc})
	}
	return out
}

// TestDetectCorpus runs Detect over the first payloads of real flows, with
// the direction deliberately wrong, as when a flow is picked up mid-stream:
// the content must still say who the client is.
func TestDetectCorpus(t *testing.T) {
	tests := []struct {
		pcap string
		tcp  bool
		want Proto
	}{
		{"zeek/http/get.pcap", true, ProtoHTTP},
		{"zeek/http/methods.pcap", true, ProtoHTTP},
		{"zeek/http/connect-with-header.pcap", true, ProtoHTTP},
		{"zeek/tls/chrome-34-google.pcap", true, ProtoTLS},
		{"zeek/tls/cert-no-cn.pcap", true, ProtoTLS},
		{"zeek/dns/tkey.pcap", true, ProtoDNS},
		{"arkime/dns-tcp.pcap", true, ProtoDNS},
		{"zeek/dns/mdns.pcap", false, ProtoDNS},
		{"zeek/dns-edns-ecs.pcap", false, ProtoDNS},
		{"ndpi/dns.pcap", false, ProtoDNS},
		{"zeek/ssh/ssh.pcap", true, ProtoSSH},
	}
	for _, tt := range tests {
		t.Run(tt.pcap, func(t *testing.T) {
			fps := firstPayloads(t, tt.pcap, tt.tcp)
			if len(fps) == 0 {
				t.Fatal("no payload found")
			}
			ipProto := uint8(ipProtoUDP)
			if tt.tcp {
				ipProto = ipProtoTCP
			}
			for _, fp := range fps {
				for _, dir := range []flow.Direction{flow.ToServer, flow.ToClient} {
					p, fromClient, final := Detect(ipProto, dir, fp.data, fp.srcPort, fp.dstPort)
					if p != tt.want || !final {
						t.Errorf("client=%v dir=%v: Detect = %v final=%v, want %v final", fp.fromClient, dir, p, final, tt.want)
						continue
					}
					if p == ProtoSSH && fp.dstPort != 22 && fp.srcPort != 22 {
						continue // only ports can orient SSH
					}
					if !tt.tcp {
						// The first datagram of a UDP capture may be a
						// response: take the truth from the server port.
						if isDNSPort(fp.srcPort) == isDNSPort(fp.dstPort) {
							continue
						}
						fp.fromClient = isDNSPort(fp.dstPort)
					}
					if fromClient != fp.fromClient {
						t.Errorf("client=%v dir=%v: fromClient = %v", fp.fromClient, dir, fromClient)
					}
				}
				// Every prefix either waits for more or already agrees.
				for n := 0; n < len(fp.data) && n < 64; n++ {
					p, _, final := Detect(ipProto, flow.ToServer, fp.data[:n], fp.srcPort, fp.dstPort)
					if final && p != tt.want && (tt.tcp || n == len(fp.data)) {
						t.Errorf("client=%v prefix %d: final %v, want more bytes or %v", fp.fromClient, n, p, tt.want)
						break
					}
				}
			}
		})
	}
}

func TestDetectTable(t *testing.T) {
	tcp, udp := uint8(ipProtoTCP), uint8(ipProtoUDP)
	tests := []struct {
		name       string
		ipProto    uint8
		data       string
		sp, dp     uint16
		want       Proto
		fromClient bool
		final      bool
	}{
		{"GET", tcp, "GET / HTTP/1.1\r\n", 40000, 80, ProtoHTTP, true, true},
		{"PROPFIND", tcp, "PROPFIND /dav/ HTTP/1.1\r\n", 40000, 8080, ProtoHTTP, true, true},
		{"CONNECT", tcp, "CONNECT a:443 HTTP/1.1\r\n", 40000, 3128, ProtoHTTP, true, true},
		{"unknown method full line", tcp, "FROB /x HTTP/1.1\r\n", 1, 2, ProtoHTTP, true, true},
		{"unknown method no version", tcp, "FROB /x\r\nHost: a\r\n\r\n", 1, 2, ProtoUnknown, false, true},
		{"response", tcp, "HTTP/1.1 200 OK\r\n", 80, 40000, ProtoHTTP, false, true},
		{"partial method", tcp, "PO", 1, 2, ProtoUnknown, true, false},
		{"partial HTTP/", tcp, "HTTP", 1, 2, ProtoUnknown, true, false},
		{"empty", tcp, "", 1, 2, ProtoUnknown, true, false},
		{"client hello", tcp, "\x16\x03\x01\x00\x50\x01\x00\x00\x4c\x03\x03", 1, 443, ProtoTLS, true, true},
		{"server hello", tcp, "\x16\x03\x03\x00\x50\x02\x00\x00\x4c\x03\x03", 443, 1, ProtoTLS, false, true},
		{"tls app data mid-stream", tcp, "\x17\x03\x03\x01\x00xxxx", 443, 1, ProtoTLS, true, true},
		{"tls bad length", tcp, "\x16\x03\x01\xff\xff\x01\x00\x00\x4c\x03\x03\x00\x00\x00\x00\x00", 1, 443, ProtoUnknown, true, true},
		{"sslv2 client hello", tcp, "\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10", 1, 443, ProtoTLS, true, true},
		{"ssh client by port", tcp, "SSH-2.0-OpenSSH_9.6\r\n", 40000, 22, ProtoSSH, true, true},
		{"ssh server by port", tcp, "SSH-2.0-OpenSSH_9.6\r\n", 22, 40000, ProtoSSH, false, true},
		{"dns tcp query", tcp, "\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01", 40000, 53, ProtoDNS, true, true},
		{"dns udp response off-port", udp, "\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01", 9999, 40000, ProtoDNS, false, true},
		{"udp junk", udp, "hello world, not dns at all", 1, 2, ProtoUnknown, true, true},
		{"binary junk", tcp, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11", 1, 2, ProtoUnknown, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fc, final := Detect(tt.ipProto, flow.ToServer, []byte(tt.data), tt.sp, tt.dp)
			if p != tt.want || final != tt.final || (p != ProtoUnknown && fc != tt.fromClient) {
				t.Errorf("Detect = (%v, %v, %v), want (%v, %v, %v)", p, fc, final, tt.want, tt.fromClient, tt.final)
			}
		})
	}
}

func TestDetectNoAlloc(t *testing.T) {
	data := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if n := testing.AllocsPerRun(100, func() {
		Detect(ipProtoTCP, flow.ToServer, data, 1, 80)
	}); n != 0 {
		t.Errorf("Detect allocates %v times", n)
	}
}

// FuzzDetect: Detect never panics, always decides within detectMaxProbe
// bytes, and a final verdict on a prefix is never contradicted by more
// bytes when the protocol is known.
func FuzzDetect(f *testing.F) {
	for _, s := range []string{"GET / HTTP/1.1\r\n", "HTTP/1.0 200 OK\r\n", "\x16\x03\x01\x00\x50\x01", "SSH-2.0-x\r\n",
		"\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01", "\x80\x2e\x01\x03\x01"} {
		f.Add([]byte(s), uint16(1), uint16(80), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, sp, dp uint16, tcp bool) {
		ipProto := uint8(ipProtoUDP)
		if tcp {
			ipProto = ipProtoTCP
		}
		p, _, final := Detect(ipProto, flow.ToServer, data, sp, dp)
		if !final && len(data) >= detectMaxProbe {
			t.Fatalf("not final after %d bytes", len(data))
		}
		if p != ProtoUnknown && !final {
			t.Fatalf("protocol %v without final", p)
		}
	})
}

func BenchmarkDetect(b *testing.B) {
	inputs := [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte("\x16\x03\x01\x00\x50\x01\x00\x00\x4c\x03\x03"),
		[]byte("\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"),
		[]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11"),
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, in := range inputs {
			Detect(ipProtoTCP, flow.ToServer, in, 40000, 80)
		}
	}
}
