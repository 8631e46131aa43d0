package eve

import (
	"encoding/binary"

	"github.com/polder-nsm/polder/sensor/decode"
)

// Drop reasons (EVE drop.reason), Suricata's PacketDropReasonToString
// names for the reasons polder produces.
const (
	DropReasonRules    = "rules"     // a drop or reject rule matched the packet
	DropReasonFlowDrop = "flow drop" // an earlier packet's rule dropped the whole flow
)

// Drop is the "drop" object of a drop event: the IP and transport header
// fields of the dropped packet, as Suricata's JSON drop logger
// (src/output-json-drop.c) writes them. Fill it with DropOf.
type Drop struct {
	// IPVersion selects the IP members: 4 writes len (total length), tos,
	// ttl, ipid; 6 writes len (payload length), tc, hoplimit, flowlbl; 0
	// writes none.
	IPVersion uint8
	Len       uint16
	TOS       uint8 // IPv4 type of service; IPv6 traffic class
	TTL       uint8 // IPv4 time to live; IPv6 hop limit
	IPID      uint16
	FlowLabel uint32

	// Proto is the transport protocol. TCP (6) writes tcpseq, tcpack,
	// tcpwin, the six flag booleans, tcpres and tcpurgp; UDP (17) udplen;
	// ICMP (1) icmp_id and icmp_seq. HasL4 says the header was present
	// (not for a fragment or a truncated packet).
	Proto uint8
	HasL4 bool

	TCPSeq, TCPAck uint32
	TCPWin         uint16
	TCPFlags       uint8  // header byte 13
	TCPRes         uint8  // the low 4 bits of header byte 12 (reserved bits and NS)
	TCPUrgPtr      uint16 // urgent pointer
	UDPLen         uint16 // the UDP header's length field
	ICMPID         uint16 // echo, timestamp, information and address mask messages; else 0
	ICMPSeq        uint16

	// Reason is DropReasonRules, DropReasonFlowDrop, ...; "" omits it.
	Reason string
}

// DropOf returns the Drop fields of p, read from its headers in p.Data. A
// header shorter than its fixed part leaves its members out.
func DropOf(p *decode.Packet) Drop {
	d := Drop{Proto: p.IPProto}
	if p.L3Offset < 0 || p.L3Offset > len(p.Data) {
		return d
	}
	ip := p.Data[p.L3Offset:]
	switch {
	case p.IPVersion == 4 && len(ip) >= 20:
		d.IPVersion = 4
		d.TOS = ip[1]
		d.Len = binary.BigEndian.Uint16(ip[2:])
		d.IPID = binary.BigEndian.Uint16(ip[4:])
		d.TTL = ip[8]
	case p.IPVersion == 6 && len(ip) >= 40:
		d.IPVersion = 6
		w := binary.BigEndian.Uint32(ip)
		d.TOS = uint8(w >> 20)
		d.FlowLabel = w & 0xfffff
		d.Len = binary.BigEndian.Uint16(ip[4:])
		d.TTL = ip[7]
	}
	if p.Fragment || p.L4Offset <= p.L3Offset || p.L4Offset > len(p.Data) {
		return d
	}
	l4 := p.Data[p.L4Offset:]
	switch p.IPProto {
	case decode.IPProtoTCP:
		if len(l4) >= 20 {
			d.HasL4 = true
			d.TCPSeq, d.TCPAck = binary.BigEndian.Uint32(l4[4:]), binary.BigEndian.Uint32(l4[8:])
			d.TCPRes = l4[12] & 0x0f
			d.TCPFlags = l4[13]
			d.TCPWin = binary.BigEndian.Uint16(l4[14:])
			d.TCPUrgPtr = binary.BigEndian.Uint16(l4[18:])
		}
	case decode.IPProtoUDP:
		if len(l4) >= 8 {
			d.HasL4 = true
			d.UDPLen = binary.BigEndian.Uint16(l4[4:])
		}
	case decode.IPProtoICMP:
		if len(l4) >= 8 {
			d.HasL4 = true
			switch l4[0] {
			case 0, 8, 13, 14, 15, 16, 17, 18: // echo, timestamp, information, address mask
				d.ICMPID = binary.BigEndian.Uint16(l4[4:])
				d.ICMPSeq = binary.BigEndian.Uint16(l4[6:])
			}
		}
	}
	return d
}

// AppendDrop appends one complete "drop" event line (with '\n') to dst and
// returns the extended buffer. It allocates only when dst must grow.
//
// h describes the dropped packet (LOG_DIR_PACKET: its own source and
// destination); h.AppProto and h.TxID are not written. direction is
// ToServer or ToClient for a packet with a flow, "" without one. a, when
// not nil, is the alert that caused the drop, written as the "alert"
// object (the drop output's "alerts: yes"); as Suricata does there, it
// carries no rule metadata.
//
// Members and their order follow Suricata 8.0's DropLogJSON: the header up
// to pkt_src, direction, "drop":{len, tos, ttl, ipid | len, tc, hoplimit,
// flowlbl; tcpseq, tcpack, tcpwin, syn, ack, psh, rst, urg, fin, tcpres,
// tcpurgp | udplen | icmp_id, icmp_seq; reason}, "alert". Not written:
// verdict.
func AppendDrop(dst []byte, h *Header, direction string, d *Drop, a *Alert) []byte {
	b := Builder{B: dst}
	b.headerTuple(h, "drop")
	if direction != "" {
		b.KeyString("direction", direction)
	}
	b.Key("drop")
	b.BeginObject()
	switch d.IPVersion {
	case 4:
		b.KeyUint("len", uint64(d.Len))
		b.KeyUint("tos", uint64(d.TOS))
		b.KeyUint("ttl", uint64(d.TTL))
		b.KeyUint("ipid", uint64(d.IPID))
	case 6:
		b.KeyUint("len", uint64(d.Len))
		b.KeyUint("tc", uint64(d.TOS))
		b.KeyUint("hoplimit", uint64(d.TTL))
		b.KeyUint("flowlbl", uint64(d.FlowLabel))
	}
	if d.HasL4 {
		switch d.Proto {
		case decode.IPProtoTCP:
			b.KeyUint("tcpseq", uint64(d.TCPSeq))
			b.KeyUint("tcpack", uint64(d.TCPAck))
			b.KeyUint("tcpwin", uint64(d.TCPWin))
			b.KeyBool("syn", d.TCPFlags&decode.TCPSyn != 0)
			b.KeyBool("ack", d.TCPFlags&decode.TCPAck != 0)
			b.KeyBool("psh", d.TCPFlags&decode.TCPPsh != 0)
			b.KeyBool("rst", d.TCPFlags&decode.TCPRst != 0)
			b.KeyBool("urg", d.TCPFlags&decode.TCPUrg != 0)
			b.KeyBool("fin", d.TCPFlags&decode.TCPFin != 0)
			b.KeyUint("tcpres", uint64(d.TCPRes))
			b.KeyUint("tcpurgp", uint64(d.TCPUrgPtr))
		case decode.IPProtoUDP:
			b.KeyUint("udplen", uint64(d.UDPLen))
		case decode.IPProtoICMP:
			b.KeyUint("icmp_id", uint64(d.ICMPID))
			b.KeyUint("icmp_seq", uint64(d.ICMPSeq))
		}
	}
	if d.Reason != "" {
		b.KeyString("reason", d.Reason)
	}
	b.EndObject()
	if a != nil {
		x := *a
		x.References, x.Metadata, x.Rule = nil, nil, ""
		b.alertObject(h, &x)
	}
	return b.end()
}
