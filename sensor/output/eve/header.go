package eve

import (
	"net/netip"
	"strconv"
	"time"
)

// Header holds the fields every EVE event starts with, in the order
// Suricata writes them: timestamp, flow_id, in_iface, pcap_cnt, event_type,
// vlan, src_ip, src_port, dest_ip, dest_port, proto, icmp_type, icmp_code,
// response_icmp_type, response_icmp_code, pkt_src, tx_id, app_proto.
// Zero values mean "absent" and are left out, except where noted.
//
// Src/Dst are the flow's client and server for flow and transaction events
// (Suricata's default orientation), the packet's addresses for packet
// events. The event writers take the Header by pointer and never keep it.
type Header struct {
	Timestamp time.Time // always written; see AppendTime
	FlowID    uint64    // 0: no flow_id. Keep it below 2^53 (Suricata masks to 51 bits)
	InIface   string    // capture interface name; "" for pcap files
	PcapCnt   uint64    // packet number in the pcap file, from 1; 0: absent (live capture, flow timeout)
	EventType string    // used by BeginEvent only; the AppendXxx functions write their own

	VLAN      [3]uint16 // outermost first
	VLANCount uint8     // 0: no vlan array

	SrcIP, DstIP     netip.Addr // invalid Addr: no address fields (stats)
	SrcPort, DstPort uint16     // written for TCP, UDP and SCTP
	Proto            uint8      // IANA protocol number; written as Suricata's name or the decimal number

	// ICMP (Proto 1 or 58): type and code of the packet, or of the first
	// packet to the server for flow events, and of the first one back.
	ICMPType, ICMPCode         uint8
	RespICMPType, RespICMPCode uint8
	HasRespICMP                bool

	SPI    uint32 // ESP security parameters index, written as "spi" when HasSPI
	HasSPI bool

	PktSrc   string // "wire/pcap", "stream (flow timeout)", ...; "" leaves pkt_src out
	TxID     uint64
	HasTxID  bool
	AppProto string // "" leaves app_proto out
}

// protoNames are the names Suricata 7/8 print in "proto" (IANA keywords as in
// /etc/protocols); any other number is printed in decimal.
var protoNames = [256]string{
	0: "HOPOPT", 1: "ICMP", 2: "IGMP", 4: "IPv4", 6: "TCP", 17: "UDP",
	41: "IPv6", 43: "IPv6-Route", 44: "IPv6-Frag", 47: "GRE", 50: "ESP",
	51: "AH", 58: "IPv6-ICMP", 59: "IPv6-NoNxt", 60: "IPv6-Opts", 89: "OSPFIGP",
	103: "PIM", 112: "VRRP", 115: "L2TP", 132: "SCTP", 136: "UDPLite",
}

// ProtoName returns the name Suricata prints for IP protocol number p
// ("TCP", "IPv6-ICMP", ...), or "" when it prints the number instead.
func ProtoName(p uint8) string { return protoNames[p] }

func hasPorts(proto uint8) bool { return proto == 6 || proto == 17 || proto == 132 || proto == 136 }

func isICMP(proto uint8) bool { return proto == 1 || proto == 58 }

// AppendAddr appends a as Suricata prints it: dotted quad for IPv4, and for
// IPv6 all eight groups as four lower-case hex digits with no "::"
// compression ("2001:0db8:0000:0000:0000:0000:0000:0001"), which is what the
// reference output and existing dashboards expect.
func AppendAddr(dst []byte, a netip.Addr) []byte {
	if a.Is4() {
		return a.AppendTo(dst)
	}
	b := a.As16()
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			dst = append(dst, ':')
		}
		dst = append(dst, hexDigits[b[i]>>4], hexDigits[b[i]&0xf], hexDigits[b[i+1]>>4], hexDigits[b[i+1]&0xf])
	}
	return dst
}

func (b *Builder) keyAddr(k string, a netip.Addr) {
	b.Key(k)
	b.sep()
	b.B = append(b.B, '"')
	b.B = AppendAddr(b.B, a)
	b.B = append(b.B, '"')
}

// header opens the event object and writes h with event_type typ. When
// withAppProto is false h.AppProto is left for the caller to place.
func (b *Builder) header(h *Header, typ string, withAppProto bool) {
	b.headerTuple(h, typ)
	if h.HasTxID {
		b.KeyUint("tx_id", h.TxID)
	}
	if withAppProto && h.AppProto != "" {
		b.KeyString("app_proto", h.AppProto)
	}
}

// headerTuple opens the event object and writes the fields of h up to and
// including pkt_src: what Suricata's CreateEveHeader writes before the
// common options (metadata, ...) and the per-event fields. tx_id and
// app_proto are left to the caller.
func (b *Builder) headerTuple(h *Header, typ string) {
	b.BeginObject()
	b.KeyTime("timestamp", h.Timestamp)
	if h.FlowID != 0 {
		b.KeyUint("flow_id", h.FlowID)
	}
	if h.InIface != "" {
		b.KeyString("in_iface", h.InIface)
	}
	if h.PcapCnt != 0 {
		b.KeyUint("pcap_cnt", h.PcapCnt)
	}
	b.KeyString("event_type", typ)
	if n := int(h.VLANCount); n > 0 {
		n = min(n, len(h.VLAN))
		b.Key("vlan")
		b.BeginArray()
		for _, v := range h.VLAN[:n] {
			b.Uint(uint64(v))
		}
		b.EndArray()
	}
	if h.SrcIP.IsValid() {
		b.keyAddr("src_ip", h.SrcIP)
		if hasPorts(h.Proto) {
			b.KeyUint("src_port", uint64(h.SrcPort))
		}
	}
	if h.DstIP.IsValid() {
		b.keyAddr("dest_ip", h.DstIP)
		if hasPorts(h.Proto) {
			b.KeyUint("dest_port", uint64(h.DstPort))
		}
	}
	if h.SrcIP.IsValid() || h.DstIP.IsValid() {
		b.Key("proto")
		if name := protoNames[h.Proto]; name != "" {
			b.String(name)
		} else {
			b.sep()
			b.B = append(b.B, '"')
			b.B = strconv.AppendUint(b.B, uint64(h.Proto), 10)
			b.B = append(b.B, '"')
		}
		if h.HasSPI {
			b.KeyUint("spi", uint64(h.SPI))
		}
		if isICMP(h.Proto) {
			b.KeyUint("icmp_type", uint64(h.ICMPType))
			b.KeyUint("icmp_code", uint64(h.ICMPCode))
			if h.HasRespICMP {
				b.KeyUint("response_icmp_type", uint64(h.RespICMPType))
				b.KeyUint("response_icmp_code", uint64(h.RespICMPCode))
			}
		}
	}
	if h.PktSrc != "" {
		b.KeyString("pkt_src", h.PktSrc)
	}
}

// end closes the event object and terminates the line.
func (b *Builder) end() []byte {
	b.EndObject()
	return append(b.B, '\n')
}

// BeginEvent starts an event of type h.EventType: it opens the object and
// writes the header fields, h.AppProto included. It is the extension point
// for event types this package does not write yet (fileinfo, ...):
// add members with the Key* methods, then call EndEvent.
func (b *Builder) BeginEvent(h *Header) {
	b.header(h, h.EventType, true)
}

// EndEvent closes the event object, appends the '\n' that ends an EVE line
// and returns the buffer (also left in b.B).
func (b *Builder) EndEvent() []byte {
	b.B = b.end()
	return b.B
}
