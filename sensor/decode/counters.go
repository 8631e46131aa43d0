package decode

// Counters are the decoder statistics of one Decoder, named after Suricata's
// decoder.* stats so EVE stats output matches Suricata dashboards. They are
// plain fields owned by the worker that owns the Decoder: read them from that
// goroutine, or copy the struct at a synchronisation point.
type Counters struct {
	Pkts       uint64 // frames handed to Decode
	Bytes      uint64 // captured bytes of those frames
	Invalid    uint64 // frames Decode returned a non-zero Reason for
	MaxPktSize uint64 // largest captured frame in bytes

	IPv4, IPv6                  uint64 // IP headers decoded (every layer, as Suricata counts)
	Ethernet, Raw, Null, SLL    uint64 // link layers (SLL counts SLL and SLL2)
	ARP, UnknownEthertype       uint64
	TCP, UDP, SCTP, ESP         uint64
	ICMPv4, ICMPv6              uint64
	PPP, PPPoE, GRE             uint64
	VLAN, VLANQinQ, VLANQinQinQ uint64 // frames with one, two, three VLAN tags
	VXLAN, Geneve, Teredo       uint64
	MPLS, ERSPAN                uint64
	IPv4InIPv6, IPv6InIPv6      uint64
	IPv4InIPv4, IPv6InIPv4      uint64 // not Suricata names; Suricata counts these only as ipv4/ipv6

	// Event counts every Reason seen, fatal or not, indexed by Reason.
	Event [numReasons]uint64

	// link counts what Suricata has no decoder stats name for (802.11,
	// radiotap, NFLOG, GTP-U). Each does not report it: the EVE stats schema
	// rejects unknown decoder.* keys, so these stay internal until polder
	// has a stats namespace of its own.
	link linkCounters
}

// linkCounters are the internal counts of the link layers and tunnels that
// have no Suricata counter. Frames they count as skipped end decoding with
// ReasonNone and IPVersion 0, like ARP.
type linkCounters struct {
	radiotap       uint64 // radiotap headers skipped
	wlanData       uint64 // 802.11 data frames (every subtype)
	wlanMgmt       uint64 // management frames: skipped
	wlanCtrl       uint64 // control frames: skipped
	wlanNoData     uint64 // data subtypes without a body (Null, QoS Null, CF-Ack/Poll only): skipped
	wlanProtected  uint64 // data frames with the Protected bit (WEP, TKIP, CCMP, GCMP): not decodable, skipped
	wlanFragment   uint64 // 802.11 fragments (More Fragments or fragment number > 0): skipped, no reassembly
	wlanAMSDU      uint64 // A-MSDU data frames: only the first subframe is decoded
	wlanNonSNAP    uint64 // bodies that are not LLC/SNAP with an EtherType: skipped
	wlanUnknown    uint64 // radiotap or 802.11 protocol version other than 0, reserved frame types: skipped
	nflog          uint64 // NFLOG frames
	nflogNoPayload uint64 // NFLOG frames without an NFULA_PAYLOAD attribute or with a non-IP family: skipped
	gtp            uint64 // GTPv1-U G-PDUs decoded through to the inner IP packet
}

// Each calls fn with every counter's dotted EVE stats name and value, in a
// fixed order that never changes between calls ("decoder.pkts", ...,
// "decoder.event.ipv4.pkt_too_small", ...). Event counters are reported
// even when zero so the set of keys is stable. Each does not allocate.
func (c *Counters) Each(fn func(name string, v uint64)) {
	var avg uint64
	if c.Pkts > 0 {
		avg = c.Bytes / c.Pkts
	}
	fn("decoder.pkts", c.Pkts)
	fn("decoder.bytes", c.Bytes)
	fn("decoder.invalid", c.Invalid)
	fn("decoder.ipv4", c.IPv4)
	fn("decoder.ipv6", c.IPv6)
	fn("decoder.ethernet", c.Ethernet)
	fn("decoder.arp", c.ARP)
	fn("decoder.unknown_ethertype", c.UnknownEthertype)
	fn("decoder.raw", c.Raw)
	fn("decoder.null", c.Null)
	fn("decoder.sll", c.SLL)
	fn("decoder.tcp", c.TCP)
	fn("decoder.udp", c.UDP)
	fn("decoder.sctp", c.SCTP)
	fn("decoder.esp", c.ESP)
	fn("decoder.icmpv4", c.ICMPv4)
	fn("decoder.icmpv6", c.ICMPv6)
	fn("decoder.ppp", c.PPP)
	fn("decoder.pppoe", c.PPPoE)
	fn("decoder.gre", c.GRE)
	fn("decoder.vlan", c.VLAN)
	fn("decoder.vlan_qinq", c.VLANQinQ)
	fn("decoder.vlan_qinqinq", c.VLANQinQinQ)
	fn("decoder.vxlan", c.VXLAN)
	fn("decoder.geneve", c.Geneve)
	fn("decoder.teredo", c.Teredo)
	fn("decoder.ipv4_in_ipv6", c.IPv4InIPv6)
	fn("decoder.ipv6_in_ipv6", c.IPv6InIPv6)
	fn("decoder.ipv4_in_ipv4", c.IPv4InIPv4)
	fn("decoder.ipv6_in_ipv4", c.IPv6InIPv4)
	fn("decoder.mpls", c.MPLS)
	fn("decoder.erspan", c.ERSPAN)
	fn("decoder.avg_pkt_size", avg)
	fn("decoder.max_pkt_size", c.MaxPktSize)
	for r := Reason(1); r < numReasons; r++ {
		fn(eventNames[r], c.Event[r])
	}
}
