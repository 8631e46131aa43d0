// Package decode parses L2–L4 headers of a captured frame into a caller-owned
// Packet without allocating. It keeps offsets and small fixed fields, never
// layer objects.
package decode

import (
	"net/netip"
	"time"

	"github.com/polder-nsm/polder/sensor/capture"
)

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
const (
	IPProtoICMP   = 1
	IPProtoTCP    = 6
	IPProtoUDP    = 17
	IPProtoGRE    = 47
	IPProtoICMPv6 = 58
	IPProtoSCTP   = 132
)

// TCP flag bits as they appear in byte 13 of the TCP header.
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
	TCPUrg = 0x20
	TCPEce = 0x40
	TCPCwr = 0x80
)

// MaxVLAN is how many VLAN ids a Packet keeps (and the flow key uses), as in
// Suricata: outer QinQ tag, inner tag, and a third for QinQinQ.
const MaxVLAN = 3

// Packet is one decoded frame. The caller owns it and reuses it for the next
// frame; Decode overwrites every field. Data and Payload alias the frame
// buffer handed to Decode (or a defrag buffer) and are valid only as long as
// that buffer is.
//
// Addresses are stored as 16 bytes; IPv4 uses the IPv4-mapped form
// (::ffff:a.b.c.d) so that flow keys compare uniformly.
type Packet struct {
	Timestamp time.Time
	Data      []byte // the whole frame as captured
	WireLen   int    // frame length on the wire
	LinkType  capture.LinkType
	Iface     int

	VLAN      [MaxVLAN]uint16 // outermost first
	VLANCount uint8

	Tunnel uint16 // TunnelXXX bits for encapsulations crossed on the way to the inner IP header

	IPVersion uint8 // 4 or 6; 0 when the frame carries no IP
	Src, Dst  [16]byte
	IPProto   uint8  // L4 protocol after IPv6 extension headers
	TTL       uint8  // TTL or hop limit
	IPID      uint32 // IPv4 id, or IPv6 fragment identification
	L3Len     int    // IP total length: header plus payload, as the header states (clamped to captured)

	// Fragment fields. A fragment has no L4 fields until defrag reassembles it.
	Fragment   bool
	FragOffset uint16 // in bytes
	MoreFrags  bool
	L3Offset   int // offset of the (innermost) IP header in Data
	L4Offset   int // offset of the L4 header in Data

	SrcPort, DstPort uint16 // TCP/UDP/SCTP ports; for ICMP see ICMPType/ICMPCode/ICMPID

	TCPSeq, TCPAck uint32
	TCPFlags       uint8
	TCPWindow      uint16
	TCPWScale      int8 // -1 when absent
	TCPMSS         uint16
	TCPSACKOK      bool
	TCPHasTS       bool
	TCPTSVal       uint32
	TCPTSEcr       uint32

	SPI uint32 // ESP security parameters index (IPProto 50)

	ICMPType, ICMPCode uint8
	ICMPID             uint16 // echo identifier (echo request/reply only)

	// ICMPEmbedded is the IP/L4 header quoted in an ICMP error (ICMPv4
	// unreachable, source quench, redirect, time exceeded, parameter problem;
	// ICMPv6 types 1-4). Its IPVersion is 0 when absent or unreadable. The
	// flow stage uses it to attach the error to the flow it reports on, as
	// Suricata does for ICMPv4 unreachables.
	ICMPEmbedded Embedded

	// FragNextHeaderAt is, for an IPv6 fragment, the offset from L3Offset of
	// the Next Header byte whose value (44) names the fragment header; defrag
	// rewrites it when rebuilding the unfragmentable part. 0 otherwise.
	FragNextHeaderAt uint16

	// Payload is the L4 payload (TCP/UDP/SCTP data after the common header,
	// ICMP data after the 8-byte header). For a fragment it is the fragment
	// data after the IPv4 header or IPv6 fragment header (what defrag
	// stores). Ethernet padding is never included: it is trimmed to the IP
	// length.
	Payload []byte

	Events EventSet // non-fatal anomalies seen while decoding (e.g. bad IPv4 option)

	// Outer is the IP tuple of the outermost IP-level tunnel the packet
	// arrived in (GRE, IP-in-IP, VXLAN, Geneve, Teredo, GTP-U), captured
	// when decoding descended into it; IPVersion 0 when there was none.
	// The packet's own fields describe the innermost flow; Suricata tracks
	// the outer flow as well, and so does the pipeline.
	Outer Outer

	// InnerOffset is where the payload of the innermost IP-level tunnel
	// starts in Data; 0 when the packet was not tunnelled (MPLS and PPPoE
	// are not tunnels here, as in Suricata).
	InnerOffset int
}

// Outer is the outer flow of a tunnelled packet: addresses (IPv4 mapped),
// L4 protocol (UDP for VXLAN/Geneve/Teredo/GTP-U, 47 for GRE, 4 or 41 for
// IP-in-IP), ports for UDP, and the VLAN tags seen before the tunnel.
type Outer struct {
	Src, Dst         [16]byte
	SrcPort, DstPort uint16
	IPProto          uint8
	IPVersion        uint8
	VLAN             [MaxVLAN]uint16
	VLANCount        uint8
}

// SrcAddr returns the source address, unmapped for IPv4.
func (p *Packet) SrcAddr() netip.Addr { return addr(p.Src, p.IPVersion) }

// DstAddr returns the destination address, unmapped for IPv4.
func (p *Packet) DstAddr() netip.Addr { return addr(p.Dst, p.IPVersion) }

func addr(a [16]byte, v uint8) netip.Addr {
	x := netip.AddrFrom16(a)
	if v == 4 {
		return x.Unmap()
	}
	return x
}

// Embedded is the quoted header inside an ICMP error: the packet that
// caused it, so Src is the address of the host that sent the original.
type Embedded struct {
	Src, Dst         [16]byte // IPv4 mapped as in Packet
	SrcPort, DstPort uint16   // TCP/UDP/SCTP only, 0 when not quoted
	IPProto          uint8
	IPVersion        uint8 // 4 or 6; 0 when there is no embedded header
}

// ICMP and flow keys. Decode fills, for ICMP and ICMPv6, ICMPType and
// ICMPCode always, ICMPID for echo request/reply only, and ICMPEmbedded for
// errors; SrcPort and DstPort stay 0. The flow stage chooses the key. For
// reference, Suricata 8 (flow-hash.c) keys non-error ICMP flows on the
// address pair, protocol and the pair (type, counterpart type) compared in
// both directions (ICMPCounterpart), so a request and its reply share a
// flow whatever their echo id; ICMPv4 destination unreachables are looked
// up by their embedded tuple instead. Keying echo on ICMPID as well is a
// refinement that separates concurrent pings between the same hosts.

// IsEcho reports whether an ICMP (proto 1) or ICMPv6 (proto 58) type is an
// echo request or reply.
func IsEcho(proto, typ uint8) bool {
	if proto == IPProtoICMP {
		return typ == 0 || typ == 8
	}
	return proto == IPProtoICMPv6 && (typ == 128 || typ == 129)
}

// ICMPCounterpart returns the type that answers (or is answered by) ICMP
// type typ of protocol proto (IPProtoICMP or IPProtoICMPv6): echo request
// and reply, timestamp, information, router and address-mask messages for
// ICMPv4; echo, neighbour and router discovery, MLD, node information, home
// agent, mobile prefix, certification path, multicast router and duplicate
// address messages for ICMPv6. These are Suricata's ICMPv4GetCounterpart and
// ICMPv6GetCounterpart pairs. ok is false for types without one.
func ICMPCounterpart(proto, typ uint8) (counterpart uint8, ok bool) {
	var pairs [][2]uint8
	if proto == IPProtoICMP {
		pairs = icmpv4Pairs[:]
	} else if proto == IPProtoICMPv6 {
		pairs = icmpv6Pairs[:]
	}
	for _, pr := range pairs {
		if pr[0] == typ {
			return pr[1], true
		}
		if pr[1] == typ {
			return pr[0], true
		}
	}
	return 0, false
}

var (
	icmpv4Pairs = [...][2]uint8{{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18}}
	icmpv6Pairs = [...][2]uint8{{128, 129}, {135, 136}, {133, 134}, {130, 131}, {139, 140},
		{144, 145}, {146, 147}, {148, 149}, {151, 152}, {157, 158}}
)

// Tunnel bits for Packet.Tunnel.
const (
	TunnelGRE uint16 = 1 << iota
	TunnelERSPAN
	TunnelMPLS
	TunnelPPPoE
	TunnelIPinIP
	TunnelVXLAN
	TunnelTeredo
	TunnelGeneve
	TunnelGTP // GTPv1-U G-PDU (3GPP TS 29.281) on UDP port 2152
)
