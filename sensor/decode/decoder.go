package decode

import (
	"encoding/binary"
	"math/bits"

	"github.com/polder-nsm/polder/sensor/capture"
)

// EtherType values (IEEE 802 numbers) the decoder dispatches on.
const (
	EtherTypeIPv4           = 0x0800
	EtherTypeARP            = 0x0806
	EtherTypeTEB            = 0x6558 // transparent Ethernet bridging (GRE)
	EtherTypeVLAN           = 0x8100 // 802.1Q
	EtherTypeIPv6           = 0x86dd
	EtherTypeMPLSUnicast    = 0x8847
	EtherTypeMPLSMulticast  = 0x8848
	EtherTypePPPoEDiscovery = 0x8863
	EtherTypePPPoESession   = 0x8864
	EtherTypeQinQ           = 0x88a8 // 802.1ad service tag
	EtherTypeERSPAN2        = 0x88be // ERSPAN type I and II (type I has no GRE sequence number)
	EtherTypeERSPAN3        = 0x22eb
	EtherTypePPP            = 0x880b // GRE version 1 (PPTP)
	EtherTypeQinQOld        = 0x9100 // pre-standard QinQ
)

// linkTypePPP is LINKTYPE_PPP (RFC 1661 framing, with or without the
// address/control bytes); capture has no constant for it yet.
const linkTypePPP = capture.LinkTypePPP

// Well-known UDP ports of the UDP tunnels the decoder follows.
const (
	PortVXLAN  = 4789
	PortTeredo = 3544
	PortGeneve = 6081
	PortGTPU   = 2152 // GTPv1-U (3GPP TS 29.281)
)

// MaxLayers bounds how many encapsulations (GRE, ERSPAN, MPLS pseudowire,
// IP-in-IP, VXLAN, Teredo, GTP-U, PPPoE) one frame may cross. Suricata's
// decoder.max-layers defaults to 16; eight is plenty for real traffic and
// keeps the recursion shallow. Deeper frames are invalid with
// ReasonTooManyLayers.
const MaxLayers = 8

// Decoder decodes frames into Packets. It holds only counters, so a worker
// owns one Decoder and uses it from one goroutine; the zero value is ready.
type Decoder struct {
	Counters Counters
	// NoGTPU leaves GTP-U (UDP 2152) payloads undecoded, as Suricata 7
	// and 8 do (they have no GTP decoder): the tunnel is then one UDP flow.
	NoGTPU bool
}

// Decode resets p and fills it from f, decoding through every supported
// encapsulation to the innermost IP header and its L4 header (that is what
// the flow stage keys on; Tunnel says what was crossed, VLAN keeps tags of
// every Ethernet layer in order).
//
// It returns ReasonNone when the packet is usable, which includes frames
// without IP (ARP, LLDP: IPVersion is 0) and IP fragments (Fragment is set
// and L4 fields are empty until defrag). A non-zero Reason means the frame is
// invalid and should be dropped, like Suricata's invalid packets; the reason
// is also in p.Events and counted. Non-fatal anomalies are only in p.Events.
// Frames of a link type the decoder does not know return ReasonNone with
// IPVersion 0, and so do frames of a known link type that carry nothing to
// follow: 802.11 management, control, body-less, protected (encrypted) and
// fragmented data frames, NFLOG messages without a payload. Link types:
// Ethernet, raw IP (101, 228, 229), BSD loopback (0, 108), Linux SLL and
// SLL2, PPP (9), IEEE 802.11 (105) with or without radiotap (127), NFLOG
// (239).
//
// p.Data, p.Payload alias f.Data. Decode never allocates and never panics.
func (d *Decoder) Decode(p *Packet, f *capture.Frame) Reason {
	*p = Packet{
		Timestamp: f.Timestamp,
		Data:      f.Data,
		WireLen:   f.OrigLen,
		LinkType:  f.LinkType,
		Iface:     f.Interface,
		TCPWScale: -1,
	}
	c := &d.Counters
	n := uint64(len(f.Data))
	c.Pkts++
	c.Bytes += n
	if n > c.MaxPktSize {
		c.MaxPktSize = n
	}
	var r Reason
	if f.LinkType == capture.LinkTypeEthernet {
		r = d.ethernet(p, f.Data, 0)
	} else {
		r = d.link(p, f.LinkType, f.Data)
	}
	if r != ReasonNone {
		c.Invalid++
	}
	return r
}

// link decodes the link types other than Ethernet, which Decode handles
// first so that the common case costs one comparison.
func (d *Decoder) link(p *Packet, lt capture.LinkType, b []byte) Reason {
	c := &d.Counters
	var r Reason
	switch lt {
	case capture.LinkTypeRaw:
		c.Raw++
		r = d.raw(p, b)
	case capture.LinkTypeIPv4:
		c.Raw++
		r = d.ipv4(p, b, 0)
	case capture.LinkTypeIPv6:
		c.Raw++
		r = d.ipv6(p, b, 0)
	case capture.LinkTypeNull, capture.LinkTypeLoop:
		r = d.null(p, b, lt == capture.LinkTypeLoop)
	case capture.LinkTypeLinuxSLL:
		if len(b) < 16 {
			r = d.invalid(p, ReasonSLLPktTooSmall)
			break
		}
		c.SLL++
		r = d.etherType(p, be16(b[14:]), b[16:], 0)
	case linkTypePPP:
		r = d.ppp(p, b, 0)
	case capture.LinkTypeLinuxSLL2:
		if len(b) < 20 {
			r = d.invalid(p, ReasonSLLPktTooSmall)
			break
		}
		c.SLL++
		r = d.etherType(p, be16(b), b[20:], 0)
	case capture.LinkTypeIEEE80211:
		r = d.wlan(p, b, false)
	case capture.LinkTypeIEEE80211Radiotap:
		r = d.radiotap(p, b)
	case capture.LinkTypeNFLOG:
		r = d.nflog(p, b)
	}
	return r
}

// DecodeDatagram decodes a reassembled IP datagram (from defrag) into p,
// keeping p's capture and L2 fields (Timestamp, WireLen, LinkType, Iface,
// VLAN, Tunnel) and its Events, and replacing everything from L3 on. After
// it, p.Data is ip and L3Offset is 0, so offsets refer to the datagram, and
// p.Payload aliases ip: both stay valid only as long as the defrag buffer
// does (until the next defrag Add). The Reason has Decode's meaning;
// Counters.Pkts is not incremented (the fragments were counted).
func (d *Decoder) DecodeDatagram(p *Packet, ip []byte) Reason {
	*p = Packet{
		Timestamp: p.Timestamp,
		Data:      ip,
		WireLen:   p.WireLen,
		LinkType:  p.LinkType,
		Iface:     p.Iface,
		VLAN:      p.VLAN,
		VLANCount: p.VLANCount,
		Tunnel:    p.Tunnel,
		Outer:     p.Outer,
		TCPWScale: -1,
		Events:    p.Events,
		// InnerOffset stays 0: it pointed into the frame, and the
		// datagram is a buffer of its own.
	}
	r := d.raw(p, ip)
	if r != ReasonNone {
		d.Counters.Invalid++
	}
	return r
}

// invalid records a fatal reason and returns it.
func (d *Decoder) invalid(p *Packet, r Reason) Reason {
	p.Events.Add(r)
	d.Counters.Event[r]++
	return r
}

// event records a non-fatal anomaly once per packet.
func (d *Decoder) event(p *Packet, r Reason) {
	if !p.Events.Has(r) {
		p.Events.Add(r)
		d.Counters.Event[r]++
	}
}

// offset returns where b starts in p.Data. Every slice the decoder works on
// is a two-index reslice of p.Data, which moves the start and shrinks the
// capacity by the same amount, so the capacity difference is the offset.
func offset(p *Packet, b []byte) int { return cap(p.Data) - cap(b) }

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

func (d *Decoder) raw(p *Packet, b []byte) Reason {
	if len(b) == 0 {
		return d.invalid(p, ReasonIPRawInvalidIPVersion)
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(p, b, 0)
	case 6:
		return d.ipv6(p, b, 0)
	}
	return d.invalid(p, ReasonIPRawInvalidIPVersion)
}

// null decodes BSD loopback: a 4-byte address family in host byte order
// (DLT_NULL, written by the capturing host, so either order is possible) or
// network order (DLT_LOOP). AF_INET is 2 everywhere; AF_INET6 is 24
// (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (macOS).
func (d *Decoder) null(p *Packet, b []byte, network bool) Reason {
	if len(b) < 4 {
		return d.invalid(p, ReasonLTNullPktTooSmall)
	}
	d.Counters.Null++
	fam := be32(b)
	if !network {
		if le := binary.LittleEndian.Uint32(b); le <= 0xffff {
			fam = le
		}
	}
	switch fam {
	case 2:
		return d.ipv4(p, b[4:], 0)
	case 24, 28, 30:
		return d.ipv6(p, b[4:], 0)
	}
	d.event(p, ReasonLTNullUnsupportedType)
	return ReasonNone
}

func (d *Decoder) ethernet(p *Packet, b []byte, depth int) Reason {
	if len(b) < 14 {
		return d.invalid(p, ReasonEthernetPktTooSmall)
	}
	d.Counters.Ethernet++
	return d.etherType(p, be16(b[12:]), b[14:], depth)
}

// etherType dispatches on an EtherType (also the SLL protocol field).
// Non-IP protocols are counted and end decoding without error: Suricata
// counts them (decoder.arp, decoder.unknown_ethertype) and moves on.
func (d *Decoder) etherType(p *Packet, et uint16, b []byte, depth int) Reason {
	switch et {
	case EtherTypeIPv4:
		return d.ipv4(p, b, depth)
	case EtherTypeIPv6:
		return d.ipv6(p, b, depth)
	case EtherTypeVLAN, EtherTypeQinQ, EtherTypeQinQOld:
		return d.vlan(p, b, depth)
	case EtherTypeMPLSUnicast, EtherTypeMPLSMulticast:
		return d.mpls(p, b, depth)
	case EtherTypePPPoESession:
		return d.pppoe(p, b, depth)
	case EtherTypePPPoEDiscovery:
		d.Counters.PPPoE++
		return ReasonNone
	case EtherTypeARP:
		d.Counters.ARP++
		return ReasonNone
	}
	d.Counters.UnknownEthertype++
	d.event(p, ReasonEthernetUnknownEthertype)
	return ReasonNone
}

// vlan decodes one 802.1Q/802.1ad tag. Up to MaxVLAN ids are kept, outermost
// first, because Suricata keys flows on them; a fourth tag is invalid
// (vlan.too_many_layers), as in Suricata.
func (d *Decoder) vlan(p *Packet, b []byte, depth int) Reason {
	if len(b) < 4 {
		return d.invalid(p, ReasonVLANHeaderTooSmall)
	}
	switch p.VLANCount {
	case 0:
		d.Counters.VLAN++
	case 1:
		d.Counters.VLANQinQ++
	case 2:
		d.Counters.VLANQinQinQ++
	default:
		return d.invalid(p, ReasonVLANTooManyLayers)
	}
	p.VLAN[p.VLANCount] = be16(b) & 0x0fff
	p.VLANCount++
	return d.etherType(p, be16(b[2:]), b[4:], depth)
}

// mpls walks the label stack to the bottom-of-stack entry, then picks the
// payload as Suricata does: explicit-null labels 0 and 2 say IPv4 and IPv6,
// other reserved labels (< 16) are invalid, and otherwise the first nibble
// decides: 4 or 6 for IP, 0 for a pseudowire control word followed by
// Ethernet (RFC 4385/4448).
func (d *Decoder) mpls(p *Packet, b []byte, depth int) Reason {
	if depth >= MaxLayers {
		return d.invalid(p, ReasonTooManyLayers)
	}
	d.Counters.MPLS++
	p.Tunnel |= TunnelMPLS
	var label uint32
	for {
		if len(b) < 4 {
			return d.invalid(p, ReasonMPLSHeaderTooSmall)
		}
		e := be32(b)
		label = e >> 12
		b = b[4:]
		if e&0x100 != 0 {
			break
		}
	}
	switch label {
	case 0:
		return d.ipv4(p, b, depth+1)
	case 1:
		return d.invalid(p, ReasonMPLSBadLabelRouterAlert)
	case 2:
		return d.ipv6(p, b, depth+1)
	case 3:
		return d.invalid(p, ReasonMPLSBadLabelImplicitNull)
	}
	if label < 16 {
		return d.invalid(p, ReasonMPLSBadLabelReserved)
	}
	if len(b) == 0 {
		return d.invalid(p, ReasonMPLSPktTooSmall)
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(p, b, depth+1)
	case 6:
		return d.ipv6(p, b, depth+1)
	case 0:
		if len(b) < 4+14 {
			return d.invalid(p, ReasonMPLSPktTooSmall)
		}
		return d.ethernet(p, b[4:], depth+1)
	}
	d.event(p, ReasonMPLSUnknownPayloadType)
	return ReasonNone
}

// pppoe decodes a PPPoE session-stage header (RFC 2516) and its PPP payload,
// trimmed to the PPPoE length.
func (d *Decoder) pppoe(p *Packet, b []byte, depth int) Reason {
	if len(b) < 6 {
		return d.invalid(p, ReasonPPPoEPktTooSmall)
	}
	d.Counters.PPPoE++
	if b[1] != 0 {
		return d.invalid(p, ReasonPPPoEWrongCode)
	}
	n := 6 + int(be16(b[4:]))
	if n > len(b) {
		return d.invalid(p, ReasonPPPoEPktTooSmall)
	}
	if depth >= MaxLayers {
		return d.invalid(p, ReasonTooManyLayers)
	}
	p.Tunnel |= TunnelPPPoE
	return d.ppp(p, b[6:n], depth+1)
}

// ppp decodes a PPP header: optional address/control bytes (ff 03, present
// in PPTP), then a one- or two-byte protocol (RFC 1661 protocol field
// compression: odd first byte means one byte).
func (d *Decoder) ppp(p *Packet, b []byte, depth int) Reason {
	d.Counters.PPP++
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	if len(b) == 0 {
		return d.invalid(p, ReasonPPPPktTooSmall)
	}
	var proto uint16
	if b[0]&1 != 0 {
		proto, b = uint16(b[0]), b[1:]
	} else {
		if len(b) < 2 {
			return d.invalid(p, ReasonPPPPktTooSmall)
		}
		proto, b = be16(b), b[2:]
	}
	switch proto {
	case 0x0021:
		if len(b) < 20 {
			return d.invalid(p, ReasonPPPIPv4PktTooSmall)
		}
		return d.ipv4(p, b, depth)
	case 0x0057:
		if len(b) < 40 {
			return d.invalid(p, ReasonPPPIPv6PktTooSmall)
		}
		return d.ipv6(p, b, depth)
	case 0xc021, 0xc023, 0xc025, 0xc223, 0x8021, 0x8057, 0x80fd, 0x80fb, 0x8281, 0x8207:
		// LCP, PAP, LQR, CHAP, IPCP, IPv6CP, CCP, ECP-ish control protocols: nothing to decode.
		return ReasonNone
	}
	d.event(p, ReasonPPPUnsupProto)
	return ReasonNone
}

// CountAdded counts the events in after that are not in before. Later
// stages (defrag) add events to a Packet the decoder already counted; the
// pipeline calls this so those land in the same decoder.event.* counters.
func (d *Decoder) CountAdded(before, after EventSet) {
	for i := range after {
		for b := after[i] &^ before[i]; b != 0; b &= b - 1 {
			d.Counters.Event[i*64+bits.TrailingZeros64(b)]++
		}
	}
}
