package decode

import "encoding/binary"

// Suricata decodes NFLOG only from its live netlink source and has no event
// for a malformed LINKTYPE_NFLOG header; the EVE stats schema allows no new
// decoder.event layer. A header or attribute that does not fit is reported
// as the other Linux capture pseudo-header's event, sll.pkt_too_small.
const reasonNFLOGTooSmall = ReasonSLLPktTooSmall

// NFLOG header and attribute values (linux/netfilter/nfnetlink_log.h,
// tcpdump.org LINKTYPE_NFLOG).
const (
	nflogAttrPayload = 9      // NFULA_PAYLOAD: the packet from its network header on
	nflogAttrMask    = 0x3fff // netlink attribute type without NLA_F_NESTED and NLA_F_NET_BYTEORDER
	afInet           = 2
	afInet6          = 10
)

// nflog decodes LINKTYPE_NFLOG: a 4-byte header (address family, version,
// resource id) then netlink attributes, each a u16 length (including its
// 4-byte header) and a u16 type in the capturing host's byte order, padded
// to 4 bytes. The order is taken as little-endian unless the first
// attribute's type only makes sense big-endian (types are small numbers).
// The NFULA_PAYLOAD attribute is decoded as IPv4 (family AF_INET) or IPv6
// (AF_INET6); for other families the IP version nibble decides, and a
// non-IP payload is skipped. A payload attribute longer than the captured
// frame (snaplen) is passed on as it is, so the IP decoder reports the
// truncation. Frames without a payload attribute are skipped (ReasonNone,
// IPVersion 0); attributes that do not fit are invalid (reasonNFLOGTooSmall).
func (d *Decoder) nflog(p *Packet, b []byte) Reason {
	if len(b) < 4 {
		return d.invalid(p, reasonNFLOGTooSmall)
	}
	c := &d.Counters.link
	c.nflog++
	fam := b[0]
	bigEndian := len(b) >= 8 &&
		binary.LittleEndian.Uint16(b[6:])&nflogAttrMask > 0xff && be16(b[6:])&nflogAttrMask <= 0xff
	for off := 4; off < len(b); {
		if off+4 > len(b) {
			return d.invalid(p, reasonNFLOGTooSmall)
		}
		l, t := int(binary.LittleEndian.Uint16(b[off:])), binary.LittleEndian.Uint16(b[off+2:])
		if bigEndian {
			l, t = int(be16(b[off:])), be16(b[off+2:])
		}
		if l < 4 {
			return d.invalid(p, reasonNFLOGTooSmall)
		}
		if t&nflogAttrMask == nflogAttrPayload {
			return d.nflogPayload(p, fam, b[off+4:min(off+l, len(b))])
		}
		if off+l > len(b) {
			return d.invalid(p, reasonNFLOGTooSmall)
		}
		off += (l + 3) &^ 3
	}
	c.nflogNoPayload++
	return ReasonNone
}

func (d *Decoder) nflogPayload(p *Packet, fam byte, b []byte) Reason {
	switch fam {
	case afInet:
		return d.ipv4(p, b, 0)
	case afInet6:
		return d.ipv6(p, b, 0)
	}
	if len(b) > 0 {
		switch b[0] >> 4 {
		case 4:
			return d.ipv4(p, b, 0)
		case 6:
			return d.ipv6(p, b, 0)
		}
	}
	d.Counters.link.nflogNoPayload++
	return ReasonNone
}
