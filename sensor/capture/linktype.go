package capture

import "strconv"

// Link types the sensor decodes besides the ones in frame.go, which name
// the common ones.
const (
	LinkTypePPP               LinkType = 9   // PPP (RFC 1661), with or without HDLC-like address/control bytes
	LinkTypeIEEE80211         LinkType = 105 // IEEE 802.11 MAC frames, no radio header
	LinkTypeIEEE80211Radiotap LinkType = 127 // radiotap header, then an IEEE 802.11 frame
	LinkTypeNFLOG             LinkType = 239 // Linux netfilter NFLOG: 4-byte header, then TLVs
)

// Supported reports whether the decoder understands frames of this link
// type. Readers pass every link type through; the pipeline checks this once
// per interface so the user gets "unsupported link type 192 (PPI)"
// instead of a stream of decode errors.
func (l LinkType) Supported() bool {
	switch l {
	case LinkTypeNull, LinkTypeEthernet, LinkTypeRaw, LinkTypeLoop,
		LinkTypeLinuxSLL, LinkTypeIPv4, LinkTypeIPv6, LinkTypeLinuxSLL2,
		LinkTypePPP, LinkTypeIEEE80211, LinkTypeIEEE80211Radiotap, LinkTypeNFLOG:
		return true
	}
	return false
}

// linkTypeNames names the supported link types and the unsupported ones a
// user is likely to meet, so error messages say what the capture is.
var linkTypeNames = map[LinkType]string{
	LinkTypeNull:      "BSD loopback",
	LinkTypeEthernet:  "Ethernet",
	LinkTypeRaw:       "raw IP",
	LinkTypeLoop:      "OpenBSD loopback",
	LinkTypeLinuxSLL:  "Linux cooked v1",
	LinkTypeIPv4:      "raw IPv4",
	LinkTypeIPv6:      "raw IPv6",
	LinkTypeLinuxSLL2: "Linux cooked v2",
	6:                 "IEEE 802.5 Token Ring",
	9:                 "PPP",
	10:                "FDDI",
	50:                "PPP in HDLC framing",
	51:                "PPPoE",
	104:               "Cisco HDLC",
	105:               "IEEE 802.11",
	107:               "Frame Relay",
	127:               "IEEE 802.11 with radiotap",
	139:               "SS7 MTP2",
	147:               "user-defined (147)",
	187:               "Bluetooth HCI H4",
	189:               "Linux USB",
	192:               "PPI",
	195:               "IEEE 802.15.4",
	197:               "Endace ERF",
	201:               "Bluetooth HCI H4 with pseudo-header",
	220:               "Linux USB (mmapped)",
	239:               "Linux netfilter log (NFLOG)",
	249:               "Netanalyzer",
	252:               "Wireshark upper PDU",
	263:               "IPMB",
	274:               "Linux netlink",
}

// String returns the number and, when known, the name: "105 (IEEE 802.11)",
// or "999". It is shaped to follow "link type" in a message:
// fmt.Errorf("unsupported link type %v", l).
func (l LinkType) String() string {
	if n, ok := linkTypeNames[l]; ok {
		return strconv.Itoa(int(l)) + " (" + n + ")"
	}
	return strconv.Itoa(int(l))
}
