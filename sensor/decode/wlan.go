package decode

import "encoding/binary"

// Suricata has no 802.11 or radiotap decoder, so it has no event for a
// malformed one, and the EVE stats schema allows no decoder.event layer we
// could add. An 802.11 header that does not fit is reported with the event
// of the L2 header it stands in for: ethernet.pkt_too_small.
const reasonWLANTooSmall = ReasonEthernetPktTooSmall

// IEEE 802.11 frame control (IEEE 802.11-2020 9.2.4.1): byte 0 holds the
// protocol version (bits 0-1), type (bits 2-3) and subtype (bits 4-7);
// byte 1 holds the flags.
const (
	wlanTypeMgmt = 0
	wlanTypeCtrl = 1
	wlanTypeData = 2

	wlanToDS      = 0x01
	wlanFromDS    = 0x02
	wlanMoreFrag  = 0x04
	wlanProtected = 0x40
	wlanOrder     = 0x80 // +HTC in QoS data frames: a 4-byte HT control field follows QoS control

	wlanSubNoData = 0x4 // data subtypes with this bit (Null, CF-Ack/Poll only, QoS Null) carry no body
	wlanSubQoS    = 0x8 // QoS data subtypes: 2-byte QoS control after the addresses

	wlanQoSAMSDU = 0x80 // QoS control bit 7: the body is an A-MSDU
)

// Radiotap flags field (radiotap.org, field 1) bits the decoder uses.
const (
	radiotapFlagFCS     = 0x10 // the frame ends with a 4-byte FCS
	radiotapFlagDataPad = 0x20 // padding between the 802.11 header and body to a 4-byte boundary
)

// radiotap skips a radiotap header (LINKTYPE_IEEE802_11_RADIOTAP) by its
// little-endian length field and decodes the 802.11 frame after it. Only
// the Flags field is read: it is the first field after the present bitmaps
// (and TSFT, which is aligned to 8 bytes from the header start), and says
// whether a 4-byte FCS ends the frame (trimmed) and whether the 802.11
// header is padded to 4 bytes. A header whose length field or present
// bitmaps do not fit is invalid (reasonWLANTooSmall); a version other than
// 0 is skipped. Frames flagged with a bad FCS are decoded anyway, as
// Wireshark does by default.
func (d *Decoder) radiotap(p *Packet, b []byte) Reason {
	if len(b) < 8 {
		return d.invalid(p, reasonWLANTooSmall)
	}
	c := &d.Counters.link
	c.radiotap++
	if b[0] != 0 {
		c.wlanUnknown++
		return ReasonNone
	}
	n := int(binary.LittleEndian.Uint16(b[2:]))
	if n < 8 || n > len(b) {
		return d.invalid(p, reasonWLANTooSmall)
	}
	present := binary.LittleEndian.Uint32(b[4:])
	off := 8
	for w := present; w&(1<<31) != 0; off += 4 { // extended present bitmaps
		if off+4 > n {
			return d.invalid(p, reasonWLANTooSmall)
		}
		w = binary.LittleEndian.Uint32(b[off:])
	}
	if present&1 != 0 { // TSFT, u64
		off = (off+7)&^7 + 8
	}
	var flags byte
	if present&2 != 0 {
		if off >= n {
			return d.invalid(p, reasonWLANTooSmall)
		}
		flags = b[off]
	}
	b = b[n:]
	if flags&radiotapFlagFCS != 0 {
		if len(b) < 4 {
			return d.invalid(p, reasonWLANTooSmall)
		}
		b = b[:len(b)-4]
	}
	return d.wlan(p, b, flags&radiotapFlagDataPad != 0)
}

// wlan decodes an IEEE 802.11 frame (LINKTYPE_IEEE802_11, no FCS assumed,
// as Wireshark's default). Data frames of every subtype with a body are
// followed: three or four addresses (ToDS and FromDS both set), QoS control
// for QoS subtypes, HT control when a QoS frame has the Order bit, then
// LLC/SNAP and the EtherType payload, decoded as after an Ethernet header.
// An A-MSDU contributes its first subframe only (a Packet holds one IP
// packet). Management, control and body-less data frames, protected
// (encrypted) frames and 802.11 fragments are counted and skipped:
// ReasonNone with IPVersion 0. A data header or LLC/SNAP header cut short
// is invalid (reasonWLANTooSmall). pad says the radiotap data-pad flag was
// set.
func (d *Decoder) wlan(p *Packet, b []byte, pad bool) Reason {
	if len(b) < 2 {
		return d.invalid(p, reasonWLANTooSmall)
	}
	c := &d.Counters.link
	fc0, fc1 := b[0], b[1]
	if fc0&3 != 0 {
		c.wlanUnknown++
		return ReasonNone
	}
	switch (fc0 >> 2) & 3 {
	case wlanTypeMgmt:
		c.wlanMgmt++
		return ReasonNone
	case wlanTypeCtrl:
		c.wlanCtrl++
		return ReasonNone
	case wlanTypeData:
	default:
		c.wlanUnknown++
		return ReasonNone
	}
	c.wlanData++
	sub := fc0 >> 4
	if sub&wlanSubNoData != 0 {
		c.wlanNoData++
		return ReasonNone
	}
	hl := 24
	if fc1&(wlanToDS|wlanFromDS) == wlanToDS|wlanFromDS {
		hl = 30
	}
	amsdu := false
	if sub&wlanSubQoS != 0 {
		if hl+2 > len(b) {
			return d.invalid(p, reasonWLANTooSmall)
		}
		amsdu = b[hl]&wlanQoSAMSDU != 0
		hl += 2
		if fc1&wlanOrder != 0 {
			hl += 4
		}
	}
	if hl > len(b) {
		return d.invalid(p, reasonWLANTooSmall)
	}
	if fc1&wlanProtected != 0 {
		c.wlanProtected++
		return ReasonNone
	}
	if fc1&wlanMoreFrag != 0 || b[22]&0x0f != 0 { // fragment number: low 4 bits of sequence control
		c.wlanFragment++
		return ReasonNone
	}
	if pad {
		hl = (hl + 3) &^ 3
		if hl > len(b) {
			return d.invalid(p, reasonWLANTooSmall)
		}
	}
	b = b[hl:]
	if amsdu {
		// First A-MSDU subframe (9.3.2.2.2): DA, SA, big-endian length, MSDU.
		if len(b) < 14 {
			return d.invalid(p, reasonWLANTooSmall)
		}
		n := 14 + int(be16(b[12:]))
		if n > len(b) {
			return d.invalid(p, reasonWLANTooSmall)
		}
		c.wlanAMSDU++
		b = b[14:n]
	}
	return d.llcSNAP(p, b)
}

// llcSNAP decodes an 802.2 LLC header. SNAP with OUI 00-00-00 (RFC 1042)
// or 00-00-f8 (802.1H bridge tunnel) carries an EtherType and continues as
// an Ethernet payload; other LLC payloads (STP, NetBIOS, non-IP SNAP) are
// counted and skipped. A body too short for an LLC header, or for the SNAP
// header it announces, is invalid.
func (d *Decoder) llcSNAP(p *Packet, b []byte) Reason {
	if len(b) < 3 {
		return d.invalid(p, reasonWLANTooSmall)
	}
	if b[0] == 0xaa && b[1] == 0xaa && b[2] == 0x03 {
		if len(b) < 8 {
			return d.invalid(p, reasonWLANTooSmall)
		}
		if b[3] == 0 && b[4] == 0 && (b[5] == 0 || b[5] == 0xf8) {
			return d.etherType(p, be16(b[6:]), b[8:], 0)
		}
	}
	d.Counters.link.wlanNonSNAP++
	return ReasonNone
}
