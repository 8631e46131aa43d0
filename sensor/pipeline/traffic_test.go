package pipeline

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/polder-nsm/polder/sensor/capture"
)

// traffic builds a small synthetic capture for the rule-engine tests:
// Ethernet/IPv4 frames with valid checksums, one millisecond apart, and TCP
// connections with a real handshake, acknowledged data and a FIN close.
// It is serialised with gopacket, independently of the sensor's decoder.
type traffic struct {
	tb     testing.TB
	now    time.Time
	frames []capture.Frame
	ipID   uint16
}

func newTraffic(tb testing.TB) *traffic {
	return &traffic{tb: tb, now: time.Date(2024, 4, 21, 12, 0, 0, 0, time.UTC)}
}

// endpoint parses "ip:port".
func endpoint(tb testing.TB, s string) netip.AddrPort {
	tb.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		tb.Fatalf("endpoint %q: %v", s, err)
	}
	return ap
}

// wait advances the capture clock.
func (tr *traffic) wait(d time.Duration) { tr.now = tr.now.Add(d) }

// ip returns the IPv4 header of a packet from src to dst.
func (tr *traffic) ip(src, dst netip.Addr, proto layers.IPProtocol) *layers.IPv4 {
	tr.ipID++
	return &layers.IPv4{
		Version: 4, IHL: 5, TTL: 64, Id: tr.ipID, Protocol: proto,
		SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice()),
	}
}

// add serialises one frame (link layer added here) at the capture clock,
// then advances it by a millisecond.
func (tr *traffic) add(ip *layers.IPv4, l4 gopacket.SerializableLayer, payload []byte) {
	tr.tb.Helper()
	eth := &layers.Ethernet{
		SrcMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 1},
		DstMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4,
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, l4, gopacket.Payload(payload)); err != nil {
		tr.tb.Fatalf("serialise frame: %v", err)
	}
	data := append([]byte(nil), buf.Bytes()...)
	tr.frames = append(tr.frames, capture.Frame{
		Timestamp: tr.now, Data: data, OrigLen: len(data), LinkType: capture.LinkTypeEthernet,
	})
	tr.wait(time.Millisecond)
}

// udp adds one datagram from "ip:port" to "ip:port".
func (tr *traffic) udp(from, to string, payload string) {
	s, d := endpoint(tr.tb, from), endpoint(tr.tb, to)
	ip := tr.ip(s.Addr(), d.Addr(), layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: layers.UDPPort(s.Port()), DstPort: layers.UDPPort(d.Port())}
	u.SetNetworkLayerForChecksum(ip)
	tr.add(ip, u, []byte(payload))
}

// icmp adds an ICMPv4 echo request (typ 8) or reply (typ 0) or any other
// type/code with an id/sequence header word.
func (tr *traffic) icmp(from, to string, typ, code uint8, payload string) {
	s, d := netip.MustParseAddr(from), netip.MustParseAddr(to)
	ip := tr.ip(s, d, layers.IPProtocolICMPv4)
	ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code), Id: 0x1234, Seq: 1}
	tr.add(ip, ic, []byte(payload))
}

// tcpConn is one TCP connection of a traffic. Direction 0 is client to
// server, 1 server to client.
type tcpConn struct {
	tr       *traffic
	cli, srv netip.AddrPort
	next     [2]uint32 // next sequence number per direction
}

const (
	clientToServer = 0
	serverToClient = 1
)

// connect opens a TCP connection with a three-way handshake.
func (tr *traffic) connect(client, server string) *tcpConn {
	c := &tcpConn{tr: tr, cli: endpoint(tr.tb, client), srv: endpoint(tr.tb, server), next: [2]uint32{1000, 50000}}
	c.segment(clientToServer, "S", nil)
	c.segment(serverToClient, "SA", nil)
	c.segment(clientToServer, "A", nil)
	return c
}

// segment adds one segment with flags from "SAFPR" in direction dir; it
// acknowledges everything the peer sent so far.
func (c *tcpConn) segment(dir int, flags string, payload []byte) {
	s, d := c.cli, c.srv
	if dir == serverToClient {
		s, d = d, s
	}
	ip := c.tr.ip(s.Addr(), d.Addr(), layers.IPProtocolTCP)
	t := &layers.TCP{
		SrcPort: layers.TCPPort(s.Port()), DstPort: layers.TCPPort(d.Port()),
		Seq: c.next[dir], Window: 65535,
		SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "A"),
		FIN: strings.Contains(flags, "F"), PSH: strings.Contains(flags, "P"),
		RST: strings.Contains(flags, "R"),
	}
	if t.ACK {
		t.Ack = c.next[1-dir]
	}
	t.SetNetworkLayerForChecksum(ip)
	c.tr.add(ip, t, payload)
	c.next[dir] += uint32(len(payload))
	if t.SYN || t.FIN {
		c.next[dir]++
	}
}

// send adds each chunk as one PSH/ACK segment in direction dir, each
// acknowledged by the peer.
func (c *tcpConn) send(dir int, chunks ...string) {
	for _, ch := range chunks {
		c.segment(dir, "PA", []byte(ch))
		c.segment(1-dir, "A", nil)
	}
}

// close ends the connection with a FIN from each side and a last ACK.
func (c *tcpConn) close() {
	c.segment(clientToServer, "FA", nil)
	c.segment(serverToClient, "FA", nil)
	c.segment(clientToServer, "A", nil)
}

// write saves the capture as a pcap file and returns its path.
func (tr *traffic) write(path string) string {
	tr.tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tr.tb.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		tr.tb.Fatal(err)
	}
	for _, fr := range tr.frames {
		ci := gopacket.CaptureInfo{Timestamp: fr.Timestamp, CaptureLength: len(fr.Data), Length: len(fr.Data)}
		if err := w.WritePacket(ci, fr.Data); err != nil {
			tr.tb.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		tr.tb.Fatal(err)
	}
	return path
}

// dnsQuery returns a DNS message with one question (type A, class IN):
// a query, or with response set a response carrying one A record.
func dnsQuery(id uint16, name string, response bool) string {
	var b []byte
	flags := uint16(0x0100) // RD
	an := uint16(0)
	if response {
		flags, an = 0x8180, 1
	}
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, 1) // QDCOUNT
	b = binary.BigEndian.AppendUint16(b, an)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, 0)
	for _, l := range strings.Split(name, ".") {
		b = append(append(b, byte(len(l))), l...)
	}
	b = append(b, 0, 0, 1, 0, 1) // root, type A, class IN
	if response {
		b = append(b, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1)
	}
	return string(b)
}

// clientHello is a TLS 1.2 ClientHello record offering ciphers with the
// server_name, supported_groups and ec_point_formats extensions, and the
// JA3 fingerprint (string and MD5 hex) that follows from those fields.
func clientHello(sni string, ciphers, groups []uint16) (record string, ja3, ja3Hash string) {
	u16 := func(b []byte, v int) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }
	var exts []byte
	// server_name: list length, host_name type 0, name length, name.
	exts = u16(exts, 0x0000)
	exts = u16(exts, len(sni)+5)
	exts = u16(exts, len(sni)+3)
	exts = append(exts, 0)
	exts = u16(exts, len(sni))
	exts = append(exts, sni...)
	// supported_groups
	exts = u16(exts, 0x000a)
	exts = u16(exts, 2+2*len(groups))
	exts = u16(exts, 2*len(groups))
	for _, g := range groups {
		exts = u16(exts, int(g))
	}
	// ec_point_formats: uncompressed
	exts = u16(exts, 0x000b)
	exts = u16(exts, 2)
	exts = append(exts, 1, 0)

	var body []byte
	body = u16(body, 0x0303)
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // session id
	body = u16(body, 2*len(ciphers))
	for _, c := range ciphers {
		body = u16(body, int(c))
	}
	body = append(body, 1, 0) // compression: null
	body = u16(body, len(exts))
	body = append(body, exts...)

	hs := append([]byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	rec := append([]byte{0x16, 3, 1}, byte(len(hs)>>8), byte(len(hs)))
	rec = append(rec, hs...)

	join := func(vs []uint16) string {
		s := make([]string, len(vs))
		for i, v := range vs {
			s[i] = fmt.Sprint(v)
		}
		return strings.Join(s, "-")
	}
	ja3 = fmt.Sprintf("771,%s,0-10-11,%s,0", join(ciphers), join(groups))
	sum := md5.Sum([]byte(ja3))
	return string(rec), ja3, hex.EncodeToString(sum[:])
}

// serverHello is a TLS 1.2 ServerHello record choosing cipher.
func serverHello(cipher uint16) string {
	var body []byte
	body = binary.BigEndian.AppendUint16(body, 0x0303)
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)
	body = binary.BigEndian.AppendUint16(body, cipher)
	body = append(body, 0)                        // compression
	body = binary.BigEndian.AppendUint16(body, 0) // no extensions
	hs := append([]byte{2, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	// ServerHelloDone ends the server's flight.
	hs = append(hs, 14, 0, 0, 0)
	rec := append([]byte{0x16, 3, 3}, byte(len(hs)>>8), byte(len(hs)))
	return string(append(rec, hs...))
}
