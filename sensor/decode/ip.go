package decode

// IPv4 option types (IANA "IP Option Numbers") that the option walk knows.
const (
	ipv4OptEOL    = 0
	ipv4OptNOP    = 1
	ipv4OptRR     = 7
	ipv4OptQS     = 25
	ipv4OptTS     = 68
	ipv4OptSec    = 130
	ipv4OptLSRR   = 131
	ipv4OptCIPSO  = 134
	ipv4OptSID    = 136
	ipv4OptSSRR   = 137
	ipv4OptRtrAlt = 148
)

// IPv6 extension header numbers.
const (
	ipv6HopOpts  = 0
	ipv6Routing  = 43
	ipv6Fragment = 44
	ipv6ESP      = 50
	ipv6AH       = 51
	ipv6NoNext   = 59
	ipv6DstOpts  = 60
)

// ipv4 decodes an IPv4 header. Like Suricata, a header whose total length
// exceeds the captured bytes is invalid (ipv4.trunc_pkt): a snaplen-cut
// frame cannot be inspected reliably. Bytes after the total length
// (Ethernet padding, trailers) are cut off. Fragments stop after L3: L4 is
// decoded from the reassembled datagram.
func (d *Decoder) ipv4(p *Packet, b []byte, depth int) Reason {
	if len(b) < 20 {
		return d.invalid(p, ReasonIPv4PktTooSmall)
	}
	if b[0]>>4 != 4 {
		return d.invalid(p, ReasonIPv4WrongIPVersion)
	}
	hl := int(b[0]&0x0f) * 4
	if hl < 20 || hl > len(b) {
		return d.invalid(p, ReasonIPv4HlenTooSmall)
	}
	tl := int(be16(b[2:]))
	if tl < hl {
		return d.invalid(p, ReasonIPv4IPLenSmallerThanHlen)
	}
	if tl > len(b) {
		return d.invalid(p, ReasonIPv4TruncPkt)
	}
	d.Counters.IPv4++
	b = b[:tl]
	p.IPVersion = 4
	p.L3Offset = offset(p, b)
	p.L3Len = tl
	p.Src = [16]byte{10: 0xff, 11: 0xff, 12: b[12], 13: b[13], 14: b[14], 15: b[15]}
	p.Dst = [16]byte{10: 0xff, 11: 0xff, 12: b[16], 13: b[17], 14: b[18], 15: b[19]}
	p.TTL = b[8]
	p.IPID = uint32(be16(b[4:]))
	proto := b[9]
	p.IPProto = proto
	if hl > 20 {
		d.ipv4Options(p, b[20:hl])
	}
	fo := be16(b[6:])
	p.MoreFrags = fo&0x2000 != 0
	p.FragOffset = (fo & 0x1fff) * 8
	p.L4Offset = p.L3Offset + hl
	if p.MoreFrags || p.FragOffset != 0 {
		p.Fragment = true
		p.Payload = b[hl:]
		return ReasonNone
	}
	return d.l4(p, proto, b[hl:], depth, 4)
}

// ipv4Options walks IPv4 options (RFC 791 and later option RFCs) and flags
// malformed ones as non-fatal events, as the options do not change how the
// packet is tracked. It stops at the first option whose length is unusable.
func (d *Decoder) ipv4Options(p *Packet, o []byte) {
	var seen uint16
	for i := 0; i < len(o); {
		t := o[i]
		if t == ipv4OptEOL {
			return
		}
		if t == ipv4OptNOP {
			i++
			continue
		}
		if i+2 > len(o) {
			d.event(p, ReasonIPv4OptMalformed)
			return
		}
		l := int(o[i+1])
		if l < 2 {
			d.event(p, ReasonIPv4OptInvalidLen)
			return
		}
		if i+l > len(o) {
			d.event(p, ReasonIPv4OptMalformed)
			return
		}
		var bit uint16
		ok := true
		switch t {
		case ipv4OptRR, ipv4OptLSRR, ipv4OptSSRR:
			bit = 1 << 0
			if t == ipv4OptLSRR {
				bit = 1 << 1
			} else if t == ipv4OptSSRR {
				bit = 1 << 2
			}
			ok = l >= 3 && (l-3)%4 == 0 && o[i+2] >= 4
		case ipv4OptTS:
			bit = 1 << 3
			ok = l >= 4 && o[i+2] >= 5
		case ipv4OptQS:
			bit = 1 << 4
			ok = l == 8
		case ipv4OptSec:
			bit = 1 << 5
			ok = l >= 3
		case ipv4OptCIPSO:
			bit = 1 << 6
			ok = l >= 10
		case ipv4OptSID:
			bit = 1 << 7
			ok = l == 4
		case ipv4OptRtrAlt:
			bit = 1 << 8
			ok = l == 4
		default:
			d.event(p, ReasonIPv4OptUnknown)
		}
		if !ok {
			d.event(p, ReasonIPv4OptInvalidLen)
		}
		if bit != 0 {
			if seen&bit != 0 {
				d.event(p, ReasonIPv4OptDuplicate)
			}
			seen |= bit
		}
		i += l
	}
}

// ipv6 decodes an IPv6 header and walks its extension headers. The payload
// length must fit in the captured bytes (ipv6.trunc_pkt otherwise); bytes
// beyond it are cut off. Jumbograms (payload length 0 with a hop-by-hop
// jumbo option) are not supported and decode as an empty payload.
func (d *Decoder) ipv6(p *Packet, b []byte, depth int) Reason {
	if len(b) < 40 {
		return d.invalid(p, ReasonIPv6PktTooSmall)
	}
	if b[0]>>4 != 6 {
		return d.invalid(p, ReasonIPv6WrongIPVersion)
	}
	n := 40 + int(be16(b[4:]))
	if n > len(b) {
		return d.invalid(p, ReasonIPv6TruncPkt)
	}
	d.Counters.IPv6++
	b = b[:n]
	p.IPVersion = 6
	p.L3Offset = offset(p, b)
	p.L3Len = n
	copy(p.Src[:], b[8:24])
	copy(p.Dst[:], b[24:40])
	p.TTL = b[7]
	p.IPID = 0
	return d.ipv6Ext(p, b, depth)
}

// ipv6Ext walks the extension header chain of the IPv6 packet b (RFC 8200
// section 4) to the upper-layer header. Duplicates and odd option contents
// are events; a header that does not fit is invalid (ipv6.trunc_exthdr). A
// fragment header with offset 0 and M=0 (atomic fragment, RFC 6946) is
// skipped and the packet decodes normally. ESP ends the walk.
func (d *Decoder) ipv6Ext(p *Packet, b []byte, depth int) Reason {
	const (
		seenHH = 1 << iota
		seenRH
		seenFH
		seenDH
		seenAH
		seenEH
	)
	var seen uint8
	nh := b[6]
	nhAt := 6
	off := 40
	for {
		switch nh {
		case ipv6HopOpts, ipv6DstOpts, ipv6Routing:
			if off+2 > len(b) {
				return d.invalid(p, ReasonIPv6TruncExthdr)
			}
			hl := (int(b[off+1]) + 1) * 8
			if off+hl > len(b) {
				return d.invalid(p, ReasonIPv6TruncExthdr)
			}
			switch nh {
			case ipv6HopOpts:
				if seen&seenHH != 0 {
					d.event(p, ReasonIPv6ExthdrDuplHH)
				}
				seen |= seenHH
				d.ipv6Options(p, b[off+2:off+hl], true)
			case ipv6DstOpts:
				if seen&seenDH != 0 {
					d.event(p, ReasonIPv6ExthdrDuplDH)
				}
				seen |= seenDH
				d.ipv6Options(p, b[off+2:off+hl], false)
			default:
				if seen&seenRH != 0 {
					d.event(p, ReasonIPv6ExthdrDuplRH)
				}
				seen |= seenRH
				if b[off+2] == 0 {
					d.event(p, ReasonIPv6RHType0)
				}
			}
			nh, nhAt = b[off], off
			off += hl
		case ipv6AH:
			if off+2 > len(b) {
				return d.invalid(p, ReasonIPv6TruncExthdr)
			}
			hl := (int(b[off+1]) + 2) * 4
			if off+hl > len(b) || hl < 12 {
				return d.invalid(p, ReasonIPv6TruncExthdr)
			}
			if seen&seenAH != 0 {
				d.event(p, ReasonIPv6ExthdrDuplAH)
			}
			seen |= seenAH
			if be16(b[off+2:]) != 0 {
				d.event(p, ReasonIPv6ExthdrAHResNotNull)
			}
			nh, nhAt = b[off], off
			off += hl
		case ipv6Fragment:
			if off+8 > len(b) {
				return d.invalid(p, ReasonIPv6TruncExthdr)
			}
			if seen&seenFH != 0 {
				d.event(p, ReasonIPv6ExthdrDuplFH)
			}
			seen |= seenFH
			fo := be16(b[off+2:])
			if b[off+1] != 0 || fo&0x6 != 0 {
				d.event(p, ReasonIPv6FHNonZeroReservedField)
			}
			if fo&0xfff8 == 0 && fo&1 == 0 {
				d.event(p, ReasonIPv6ExthdrUselessFH)
				nh, nhAt = b[off], off
				off += 8
				continue
			}
			p.Fragment = true
			p.FragOffset = fo & 0xfff8
			p.MoreFrags = fo&1 != 0
			p.IPID = be32(b[off+4:])
			p.IPProto = b[off]
			p.FragNextHeaderAt = uint16(nhAt)
			p.L4Offset = p.L3Offset + off + 8
			p.Payload = b[off+8:]
			return ReasonNone
		case ipv6ESP:
			if seen&seenEH != 0 {
				d.event(p, ReasonIPv6ExthdrDuplEH)
			}
			seen |= seenEH
			d.Counters.ESP++
			p.IPProto = nh
			p.L4Offset = p.L3Offset + off
			if len(b)-off < 8 {
				return d.invalid(p, ReasonESPPktTooSmall)
			}
			p.SPI = be32(b[off:])
			p.Payload = b[off:]
			return ReasonNone
		case ipv6NoNext:
			if off < len(b) {
				d.event(p, ReasonIPv6DataAfterNoneHeader)
			}
			p.IPProto = nh
			p.L4Offset = p.L3Offset + off
			return ReasonNone
		default:
			p.IPProto = nh
			p.L4Offset = p.L3Offset + off
			return d.l4(p, nh, b[off:], depth, 6)
		}
	}
}

// ipv6Options checks the TLV options of a hop-by-hop or destination options
// header (RFC 8200 section 4.2). Everything found is an event only.
func (d *Decoder) ipv6Options(p *Packet, o []byte, hop bool) {
	padOnly := true
	for i := 0; i < len(o); {
		t := o[i]
		if t == 0 { // Pad1
			i++
			continue
		}
		if i+2 > len(o) || i+2+int(o[i+1]) > len(o) {
			d.event(p, ReasonIPv6ExthdrInvalidOptlen)
			return
		}
		l := int(o[i+1])
		switch t {
		case 1: // PadN
			if l == 0 {
				d.event(p, ReasonIPv6ZeroLenPadN)
			}
		case 0x05, 0xc2, 0xc9, 0x26, 0x63, 0x6d, 0x8b, 0x8c, 0x1e, 0x3e, 0x5e, 0x7e, 0x9e, 0xbe, 0xde, 0xfe:
			// Router alert, jumbo, home address, quick-start, RPL, MPL,
			// ILNP nonce, line id, RFC 3692 experiments.
			padOnly = false
		default:
			padOnly = false
			if hop {
				d.event(p, ReasonIPv6HopoptsUnknownOpt)
			} else {
				d.event(p, ReasonIPv6DstoptsUnknownOpt)
			}
		}
		i += 2 + l
	}
	if padOnly {
		if hop {
			d.event(p, ReasonIPv6HopoptsOnlyPadding)
		} else {
			d.event(p, ReasonIPv6DstoptsOnlyPadding)
		}
	}
}
