package decode

// Other IP protocol numbers the decoder follows.
const (
	ipProtoIPIP = 4  // IPv4 encapsulation
	ipProtoIPv6 = 41 // IPv6 encapsulation
	ipProtoESP  = 50
	ipProtoAH   = 51
)

// l4 decodes the upper-layer header of a non-fragmented IP packet. ver is
// the IP version of the carrying header.
func (d *Decoder) l4(p *Packet, proto uint8, b []byte, depth int, ver uint8) Reason {
	switch proto {
	case IPProtoTCP:
		return d.tcp(p, b)
	case IPProtoUDP:
		return d.udp(p, b, depth)
	case IPProtoICMP:
		if ver == 6 {
			return d.invalid(p, ReasonIPv6ICMPv4)
		}
		return d.icmpv4(p, b)
	case IPProtoICMPv6:
		if ver == 4 {
			return d.invalid(p, ReasonIPv4ICMPv6)
		}
		return d.icmpv6(p, b)
	case IPProtoSCTP:
		if len(b) < 12 {
			return d.invalid(p, ReasonSCTPPktTooSmall)
		}
		d.Counters.SCTP++
		p.SrcPort, p.DstPort = be16(b), be16(b[2:])
		p.Payload = b[12:]
		return ReasonNone
	case IPProtoGRE:
		return d.gre(p, b, depth)
	case ipProtoIPIP, ipProtoIPv6:
		return d.ipInIP(p, proto, b, depth, ver)
	case ipProtoAH:
		// RFC 4302 authentication header: skip it and decode what it
		// protects, as for IPv6, so the flow is the protected protocol's.
		if len(b) < 12 {
			break
		}
		hl := (int(b[1]) + 2) * 4
		if hl > len(b) || depth >= MaxLayers {
			break
		}
		p.IPProto = b[0]
		p.L4Offset = offset(p, b) + hl
		return d.l4(p, b[0], b[hl:], depth+1, ver)
	case ipProtoESP:
		d.Counters.ESP++
		if len(b) < 8 {
			return d.invalid(p, ReasonESPPktTooSmall)
		}
		p.SPI = be32(b)
	default:
		if ver == 6 {
			d.event(p, ReasonIPv6UnknownNextHeader)
		}
	}
	p.Payload = b
	return ReasonNone
}

// ipInIP follows IPv4 (4) or IPv6 (41) encapsulated directly in IP: RFC 2003
// IP-in-IP, RFC 4213 6in4 and RFC 2473 IPv6 tunnels. The inner header
// becomes the packet's IP header.
func (d *Decoder) ipInIP(p *Packet, proto uint8, b []byte, depth int, ver uint8) Reason {
	if depth >= MaxLayers {
		return d.invalid(p, ReasonTooManyLayers)
	}
	enterTunnel(p)
	p.Tunnel |= TunnelIPinIP
	c := &d.Counters
	if proto == ipProtoIPIP {
		if ver == 6 {
			c.IPv4InIPv6++
			if len(b) < 20 {
				return d.invalid(p, ReasonIPv6IPv4InIPv6TooSmall)
			}
			if b[0]>>4 != 4 {
				return d.invalid(p, ReasonIPv6IPv4InIPv6WrongVersion)
			}
		} else {
			c.IPv4InIPv4++
		}
		return d.ipv4(p, inner(p, b), depth+1)
	}
	if ver == 6 {
		c.IPv6InIPv6++
		if len(b) < 40 {
			return d.invalid(p, ReasonIPv6IPv6InIPv6TooSmall)
		}
		if b[0]>>4 != 6 {
			return d.invalid(p, ReasonIPv6IPv6InIPv6WrongVersion)
		}
	} else {
		c.IPv6InIPv4++
	}
	return d.ipv6(p, inner(p, b), depth+1)
}

// tcp decodes a TCP header (RFC 9293) and its options. A data offset below 5
// words or beyond the segment is invalid (tcp.hlen_too_small, as Suricata).
func (d *Decoder) tcp(p *Packet, b []byte) Reason {
	if len(b) < 20 {
		return d.invalid(p, ReasonTCPPktTooSmall)
	}
	hl := int(b[12]>>4) * 4
	if hl < 20 || hl > len(b) {
		return d.invalid(p, ReasonTCPHlenTooSmall)
	}
	d.Counters.TCP++
	p.SrcPort, p.DstPort = be16(b), be16(b[2:])
	p.TCPSeq, p.TCPAck = be32(b[4:]), be32(b[8:])
	p.TCPFlags = b[13]
	p.TCPWindow = be16(b[14:])
	if hl > 20 {
		d.tcpOptions(p, b[20:hl])
	}
	p.Payload = b[hl:]
	return ReasonNone
}

// tcpOptions fills MSS, window scale, SACK-permitted and timestamps. An
// option with a wrong length is ignored and flagged (tcp.opt_invalid_len); a
// length that runs past the header ends the walk. Repeated options are
// flagged (tcp.opt_duplicate) and the first one wins. A window scale above
// 14 is clamped to 14 (RFC 7323 section 2.3).
func (d *Decoder) tcpOptions(p *Packet, o []byte) {
	var seen uint8
	for i := 0; i < len(o); {
		k := o[i]
		if k == 0 {
			return
		}
		if k == 1 {
			i++
			continue
		}
		if i+2 > len(o) {
			d.event(p, ReasonTCPOptInvalidLen)
			return
		}
		l := int(o[i+1])
		if l < 2 || i+l > len(o) {
			d.event(p, ReasonTCPOptInvalidLen)
			return
		}
		v := o[i+2 : i+l]
		var bit uint8
		ok := true
		switch k {
		case 2: // MSS
			bit = 1
			if ok = l == 4; ok && seen&bit == 0 {
				p.TCPMSS = be16(v)
			}
		case 3: // window scale
			bit = 2
			if ok = l == 3; ok && seen&bit == 0 {
				p.TCPWScale = int8(min(v[0], 14))
			}
		case 4: // SACK permitted
			bit = 4
			if ok = l == 2; ok {
				p.TCPSACKOK = true
			}
		case 5: // SACK blocks
			bit = 8
			ok = l >= 10 && (l-2)%8 == 0
		case 8: // timestamps
			bit = 16
			if ok = l == 10; ok && seen&bit == 0 {
				p.TCPHasTS = true
				p.TCPTSVal, p.TCPTSEcr = be32(v), be32(v[4:])
			}
		}
		if !ok {
			d.event(p, ReasonTCPOptInvalidLen)
		}
		if bit != 0 {
			if seen&bit != 0 {
				d.event(p, ReasonTCPOptDuplicate)
			}
			seen |= bit
		}
		i += l
	}
}

// udp decodes a UDP header. The UDP length must be at least 8 and fit in the
// IP payload; bytes after it are not payload (Suricata uses the UDP length).
// UDP on the VXLAN, Geneve, Teredo and GTP-U ports is followed into the
// tunnel when the payload checks out, otherwise it stays plain UDP.
func (d *Decoder) udp(p *Packet, b []byte, depth int) Reason {
	if len(b) < 8 {
		return d.invalid(p, ReasonUDPHlenTooSmall)
	}
	n := int(be16(b[4:]))
	if n > len(b) {
		return d.invalid(p, ReasonUDPPktTooSmall)
	}
	if n < 8 {
		return d.invalid(p, ReasonUDPLenInvalid)
	}
	d.Counters.UDP++
	sp, dp := be16(b), be16(b[2:])
	p.SrcPort, p.DstPort = sp, dp
	pl := b[8:n]
	p.Payload = pl
	if depth >= MaxLayers {
		return ReasonNone
	}
	// VXLAN (RFC 7348): flags byte with the I bit, reserved bytes, VNI,
	// then an Ethernet frame.
	if (dp == PortVXLAN || sp == PortVXLAN) && len(pl) >= 8+14 && pl[0]&0x08 != 0 {
		d.Counters.VXLAN++
		enterTunnel(p)
		p.Tunnel |= TunnelVXLAN
		return d.ethernet(p, inner(p, pl[8:]), depth+1)
	}
	// Geneve (RFC 8926): version 0, option length in 4-byte words, then a
	// protocol type: Ethernet, IPv4 or IPv6.
	if (dp == PortGeneve || sp == PortGeneve) && len(pl) >= 8 && pl[0]>>6 == 0 {
		hl := 8 + int(pl[0]&0x3f)*4
		if hl <= len(pl) {
			switch be16(pl[2:]) {
			case EtherTypeTEB:
				d.Counters.Geneve++
				enterTunnel(p)
				p.Tunnel |= TunnelGeneve
				return d.ethernet(p, inner(p, pl[hl:]), depth+1)
			case EtherTypeIPv4:
				d.Counters.Geneve++
				enterTunnel(p)
				p.Tunnel |= TunnelGeneve
				return d.ipv4(p, inner(p, pl[hl:]), depth+1)
			case EtherTypeIPv6:
				d.Counters.Geneve++
				enterTunnel(p)
				p.Tunnel |= TunnelGeneve
				return d.ipv6(p, inner(p, pl[hl:]), depth+1)
			}
		}
	}
	if sp == PortTeredo || dp == PortTeredo {
		if in := teredo(pl); in != nil {
			d.Counters.Teredo++
			enterTunnel(p)
			p.Tunnel |= TunnelTeredo
			return d.ipv6(p, inner(p, in), depth+1)
		}
	}
	if (sp == PortGTPU || dp == PortGTPU) && !d.NoGTPU {
		return d.gtpU(p, pl, depth)
	}
	return ReasonNone
}

// gtpU follows a GTPv1-U G-PDU (3GPP TS 29.281 section 5) to the user IP
// packet it carries: the 8-byte header, the 4 optional bytes (sequence
// number, N-PDU number, next extension header type) present when any of the
// E, S or PN flags is set, and, when E is set, the chain of extension
// headers (a length in 4-byte units, contents, next type; 0 ends it). The
// GTP length bounds the inner packet. Anything else on port 2152 (echo,
// error indication, end marker, version 0 or GTP', a header that does not
// fit, a non-IP T-PDU) stays a plain UDP packet, as with the other UDP
// tunnels. The inner IP header becomes the packet's, and Tunnel gets
// TunnelGTP. Suricata has no GTP decoder and no decoder.gtp counter; the
// count is internal.
func (d *Decoder) gtpU(p *Packet, b []byte, depth int) Reason {
	// Version 1 and protocol type GTP (not GTP'), message type G-PDU.
	if len(b) < 8 || b[0]&0xf0 != 0x30 || b[1] != 0xff {
		return ReasonNone
	}
	n := 8 + int(be16(b[2:]))
	if n > len(b) {
		return ReasonNone
	}
	b = b[:n]
	hl := 8
	if b[0]&0x07 != 0 {
		hl = 12
		if hl > n {
			return ReasonNone
		}
		if b[0]&0x04 != 0 {
			for next := b[11]; next != 0; {
				if hl >= n {
					return ReasonNone
				}
				l := int(b[hl]) * 4
				if l == 0 || hl+l > n {
					return ReasonNone
				}
				next = b[hl+l-1]
				hl += l
			}
		}
	}
	if hl >= n {
		return ReasonNone
	}
	in := b[hl:]
	v := in[0] >> 4
	if v != 4 && v != 6 {
		return ReasonNone
	}
	d.Counters.link.gtp++
	enterTunnel(p)
	p.Tunnel |= TunnelGTP
	p.SrcPort, p.DstPort = 0, 0 // the outer ports must not stay on an inner ICMP packet
	if v == 4 {
		return d.ipv4(p, inner(p, in), depth+1)
	}
	return d.ipv6(p, inner(p, in), depth+1)
}

// teredo returns the IPv6 packet inside a Teredo UDP payload (RFC 4380),
// skipping the optional authentication and origin indications, or nil when
// the payload is not exactly one well-formed IPv6 packet (the same
// heuristic Suricata uses, as port 3544 is only a hint).
func teredo(b []byte) []byte {
	if len(b) >= 4 && b[0] == 0 && b[1] == 1 {
		n := 4 + int(b[2]) + int(b[3]) + 9
		if n > len(b) {
			return nil
		}
		b = b[n:]
	}
	if len(b) >= 8 && b[0] == 0 && b[1] == 0 {
		b = b[8:]
	}
	if len(b) < 40 || b[0]>>4 != 6 || 40+int(be16(b[4:])) != len(b) {
		return nil
	}
	return b
}

// icmpv4 decodes an ICMP header (RFC 792). Unknown types and codes are
// events. Errors carry the offending packet's IP header, which is decoded
// into ICMPEmbedded; a bad embedded header is an event, not fatal, because
// the ICMP message itself is intact.
func (d *Decoder) icmpv4(p *Packet, b []byte) Reason {
	if len(b) < 8 {
		return d.invalid(p, ReasonICMPv4PktTooSmall)
	}
	d.Counters.ICMPv4++
	t, c := b[0], b[1]
	p.ICMPType, p.ICMPCode = t, c
	p.Payload = b[8:]
	var maxCode uint8
	switch t {
	case 0, 8:
		p.ICMPID = be16(b[4:])
	case 3:
		maxCode = 15
		d.embeddedIPv4(p, b[8:])
	case 4:
		d.embeddedIPv4(p, b[8:])
	case 5:
		maxCode = 3
		d.embeddedIPv4(p, b[8:])
	case 11:
		maxCode = 1
		d.embeddedIPv4(p, b[8:])
	case 12:
		maxCode = 2
		d.embeddedIPv4(p, b[8:])
	case 9:
		if c == 16 {
			c = 0
		}
	case 10, 13, 14, 15, 16, 17, 18:
	default:
		d.event(p, ReasonICMPv4UnknownType)
		return ReasonNone
	}
	if c > maxCode {
		d.event(p, ReasonICMPv4UnknownCode)
	}
	return ReasonNone
}

func (d *Decoder) embeddedIPv4(p *Packet, b []byte) {
	if len(b) < 20 {
		d.event(p, ReasonICMPv4IPv4TruncPkt)
		return
	}
	if b[0]>>4 != 4 {
		d.event(p, ReasonICMPv4IPv4UnknownVer)
		return
	}
	hl := int(b[0]&0x0f) * 4
	if hl < 20 || hl > len(b) {
		d.event(p, ReasonICMPv4IPv4TruncPkt)
		return
	}
	e := &p.ICMPEmbedded
	e.IPVersion = 4
	e.IPProto = b[9]
	e.Src = [16]byte{10: 0xff, 11: 0xff, 12: b[12], 13: b[13], 14: b[14], 15: b[15]}
	e.Dst = [16]byte{10: 0xff, 11: 0xff, 12: b[16], 13: b[17], 14: b[18], 15: b[19]}
	if be16(b[6:])&0x1fff == 0 {
		embeddedPorts(e, b[hl:])
	}
}

func embeddedPorts(e *Embedded, b []byte) {
	switch e.IPProto {
	case IPProtoTCP, IPProtoUDP, IPProtoSCTP:
		if len(b) >= 4 {
			e.SrcPort, e.DstPort = be16(b), be16(b[2:])
		}
	}
}

// icmpv6 decodes an ICMPv6 header (RFC 4443). Type classes follow IANA's
// registry as Suricata does: unassigned and experimental types are events.
// MLD messages must have hop limit 1 (RFC 2710/3810).
func (d *Decoder) icmpv6(p *Packet, b []byte) Reason {
	if len(b) < 8 {
		return d.invalid(p, ReasonICMPv6PktTooSmall)
	}
	d.Counters.ICMPv6++
	t, c := b[0], b[1]
	p.ICMPType, p.ICMPCode = t, c
	p.Payload = b[8:]
	maxCode := uint8(0)
	switch {
	case t == 1:
		maxCode = 7
		d.embeddedIPv6(p, b[8:])
	case t == 2:
		d.embeddedIPv6(p, b[8:])
	case t == 3:
		maxCode = 1
		d.embeddedIPv6(p, b[8:])
	case t == 4:
		maxCode = 3
		d.embeddedIPv6(p, b[8:])
	case t == 128 || t == 129:
		p.ICMPID = be16(b[4:])
	case t == 130 || t == 131 || t == 132 || t == 143:
		if p.TTL != 1 {
			d.event(p, ReasonICMPv6MLDMessageWithInvalidHL)
		}
	case t >= 133 && t <= 153:
		maxCode = 255 // ND, router renumbering, node information etc.: codes vary
	case t == 100 || t == 101 || t == 200 || t == 201:
		d.event(p, ReasonICMPv6ExperimentationType)
		return ReasonNone
	case t == 0 || t == 127 || t == 255:
		d.event(p, ReasonICMPv6UnknownType)
		return ReasonNone
	default:
		d.event(p, ReasonICMPv6UnassignedType)
		return ReasonNone
	}
	if c > maxCode {
		d.event(p, ReasonICMPv6UnknownCode)
	}
	return ReasonNone
}

func (d *Decoder) embeddedIPv6(p *Packet, b []byte) {
	if len(b) < 40 {
		d.event(p, ReasonICMPv6IPv6TruncPkt)
		return
	}
	if b[0]>>4 != 6 {
		d.event(p, ReasonICMPv6IPv6UnknownVersion)
		return
	}
	e := &p.ICMPEmbedded
	e.IPVersion = 6
	e.IPProto = b[6]
	copy(e.Src[:], b[8:24])
	copy(e.Dst[:], b[24:40])
	embeddedPorts(e, b[40:])
}

// gre decodes GRE version 0 (RFC 2784/2890, with the RFC 1701 routing
// fields) and version 1 (enhanced GRE for PPTP, RFC 2637), with Suricata's
// checks and events, then follows the payload: IPv4, IPv6, Ethernet (0x6558),
// ERSPAN I/II (0x88be) and III (0x22eb), PPP (version 1) and MPLS. Any other
// payload leaves the packet as outer IP with IPProto 47 and Payload after
// the GRE header.
func (d *Decoder) gre(p *Packet, b []byte, depth int) Reason {
	if len(b) < 4 {
		return d.invalid(p, ReasonGREPktTooSmall)
	}
	d.Counters.GRE++
	f0, f1 := b[0], b[1]
	proto := be16(b[2:])
	hl := 4
	switch f1 & 0x07 {
	case 0:
		if f0&0x07 != 0 {
			return d.invalid(p, ReasonGREVersion0Recur)
		}
		if f1&0xf8 != 0 {
			return d.invalid(p, ReasonGREVersion0Flags)
		}
		if f0&0xc0 != 0 { // checksum or routing present: checksum + offset
			hl += 4
		}
		if f0&0x20 != 0 {
			hl += 4
		}
		if f0&0x10 != 0 {
			hl += 4
		}
		if hl > len(b) {
			return d.invalid(p, ReasonGREVersion0HdrTooBig)
		}
		if f0&0x40 != 0 { // RFC 1701 source route entries, ended by a null SRE
			for {
				if hl+4 > len(b) {
					return d.invalid(p, ReasonGREVersion0MalformedSREHdr)
				}
				af, sl := be16(b[hl:]), int(b[hl+3])
				hl += 4 + sl
				if hl > len(b) {
					return d.invalid(p, ReasonGREVersion0MalformedSREHdr)
				}
				if af == 0 && sl == 0 {
					break
				}
			}
		}
	case 1:
		switch {
		case f0&0x80 != 0:
			return d.invalid(p, ReasonGREVersion1Chksum)
		case f0&0x40 != 0:
			return d.invalid(p, ReasonGREVersion1Route)
		case f0&0x08 != 0:
			return d.invalid(p, ReasonGREVersion1SSR)
		case f0&0x07 != 0:
			return d.invalid(p, ReasonGREVersion1Recur)
		case f1&0x78 != 0:
			return d.invalid(p, ReasonGREVersion1Flags)
		case f0&0x20 == 0:
			return d.invalid(p, ReasonGREVersion1NoKey)
		case proto != EtherTypePPP:
			return d.invalid(p, ReasonGREVersion1WrongProtocol)
		}
		hl = 8
		if f0&0x10 != 0 {
			hl += 4
		}
		if f1&0x80 != 0 {
			hl += 4
		}
		if hl > len(b) {
			return d.invalid(p, ReasonGREVersion1HdrTooBig)
		}
	default:
		return d.invalid(p, ReasonGREWrongVersion)
	}
	seq := f0&0x10 != 0
	b = b[hl:]
	p.Payload = b
	if depth >= MaxLayers {
		return d.invalid(p, ReasonTooManyLayers)
	}
	switch proto {
	case EtherTypeIPv4, EtherTypeIPv6, EtherTypeTEB, EtherTypeERSPAN2, EtherTypeERSPAN3,
		EtherTypePPP, EtherTypeMPLSUnicast, EtherTypeMPLSMulticast:
		enterTunnel(p)
	}
	switch proto {
	case EtherTypeIPv4:
		p.Tunnel |= TunnelGRE
		return d.ipv4(p, inner(p, b), depth+1)
	case EtherTypeIPv6:
		p.Tunnel |= TunnelGRE
		return d.ipv6(p, inner(p, b), depth+1)
	case EtherTypeTEB:
		p.Tunnel |= TunnelGRE
		return d.ethernet(p, inner(p, b), depth+1)
	case EtherTypeERSPAN2:
		p.Tunnel |= TunnelGRE | TunnelERSPAN
		d.Counters.ERSPAN++
		if !seq { // ERSPAN type I: no ERSPAN header at all
			return d.ethernet(p, inner(p, b), depth+1)
		}
		return d.erspan(p, b, 8, 1, depth)
	case EtherTypeERSPAN3:
		p.Tunnel |= TunnelGRE | TunnelERSPAN
		d.Counters.ERSPAN++
		return d.erspan(p, b, 12, 2, depth)
	case EtherTypePPP:
		p.Tunnel |= TunnelGRE
		return d.ppp(p, inner(p, b), depth+1)
	case EtherTypeMPLSUnicast, EtherTypeMPLSMulticast:
		p.Tunnel |= TunnelGRE
		return d.mpls(p, inner(p, b), depth+1)
	}
	return ReasonNone
}

// erspan decodes an ERSPAN type II (hl 8, version 1) or type III (hl 12,
// version 2, optional 8-byte platform sub-header) header and the mirrored
// Ethernet frame. A non-zero ERSPAN VLAN is appended to Packet.VLAN as
// Suricata does (erspan.too_many_vlan_layers when full).
func (d *Decoder) erspan(p *Packet, b []byte, hl int, ver uint8, depth int) Reason {
	if len(b) < hl {
		return d.invalid(p, ReasonERSPANHeaderTooSmall)
	}
	if b[0]>>4 != ver {
		return d.invalid(p, ReasonERSPANUnsupportedVersion)
	}
	if ver == 2 && b[11]&1 != 0 {
		hl += 8
		if len(b) < hl {
			return d.invalid(p, ReasonERSPANHeaderTooSmall)
		}
	}
	if v := be16(b) & 0x0fff; v != 0 {
		if p.VLANCount >= MaxVLAN {
			return d.invalid(p, ReasonERSPANTooManyVLANLayers)
		}
		p.VLAN[p.VLANCount] = v
		p.VLANCount++
	}
	return d.ethernet(p, inner(p, b[hl:]), depth+1)
}

// enterTunnel records the current IP tuple as the packet's outer flow when
// decoding descends into its first IP-level tunnel.
func enterTunnel(p *Packet) {
	if p.Outer.IPVersion != 0 || p.IPVersion == 0 {
		return
	}
	p.Outer = Outer{
		Src: p.Src, Dst: p.Dst,
		IPProto: p.IPProto, IPVersion: p.IPVersion,
		VLAN: p.VLAN, VLANCount: p.VLANCount,
	}
	if p.IPProto == IPProtoUDP {
		p.Outer.SrcPort, p.Outer.DstPort = p.SrcPort, p.DstPort
	}
}

// inner records where the innermost tunnel's payload starts in p.Data (an
// Ethernet frame for VXLAN/Geneve/GRE-TEB/ERSPAN, an IP packet for
// IP-in-IP/GRE/Teredo/GTP-U) and returns b. Suricata decodes that payload
// as a packet of its own, and the inner flow counts its bytes from there.
func inner(p *Packet, b []byte) []byte {
	p.InnerOffset = offset(p, b)
	return b
}
