// Package flow tracks bidirectional flows in a bounded table owned by one
// worker: keys, counters, TCP state, timeouts and eviction.
package flow

import (
	"encoding/binary"

	"github.com/polder-nsm/polder/sensor/decode"
)

// Direction is the side of a flow a packet travels: from the client (the
// side that opened the flow) to the server, or back.
type Direction uint8

const (
	ToServer Direction = 0
	ToClient Direction = 1
)

// Reverse returns the other direction.
func (d Direction) Reverse() Direction { return d ^ 1 }

func (d Direction) String() string {
	if d == ToServer {
		return "toserver"
	}
	return "toclient"
}

// Key identifies a flow, oriented client → server. It is comparable and
// holds no pointers, so it can be hashed and stored without allocation.
// VLAN ids are part of the key, as in Suricata (vlan.use-for-tracking).
// Addresses are 16 bytes, IPv4 mapped as in decode.Packet.
type Key struct {
	Src, Dst         [16]byte
	SrcPort, DstPort uint16 // ICMP: see KeyOf for how type/id map here
	Proto            uint8
	IPVersion        uint8
	VLAN             [3]uint16
}

// ICMP message types the key treats specially (RFC 792, RFC 4443), and ESP.
const (
	ipProtoESP        = 50
	icmpDestUnreach   = 3
	icmpEchoReply     = 0
	icmpEchoRequest   = 8
	icmpv6EchoRequest = 128
	icmpv6EchoReply   = 129
)

// KeyOf builds the normalized lookup key of p: the (address, port) pair that
// sorts lower is Src, so both directions of a conversation produce the same
// Key. ok is false for frames that cannot belong to a flow (no IP header, or
// an IP fragment whose L4 header defrag has not yet reassembled).
//
// Ports: TCP, UDP and SCTP use their ports. ICMP echo request/reply
// (types 8/0 and 128/129) puts the echo identifier in both ports so a request
// and its reply share a flow; any other ICMP message puts the type in SrcPort
// and 0x100|code in DstPort (never equal to an echo key), as Suricata keys
// ICMP by type and code. ICMP keys are normalized on addresses only. Other
// protocols use ports 0. VLAN ids are copied from the packet.
func KeyOf(p *decode.Packet) (k Key, ok bool) {
	k, _, ok = keyOf(p)
	return k, ok
}

// keyOf returns the normalized key and whether p travels from the key's Dst
// to its Src (the "high" side sent it).
// embeddedKey returns the key of the flow whose packet an ICMPv4
// destination-unreachable quotes, as Suricata looks such errors up, and
// whether the error travels in the key's high direction: it goes back
// toward the quoted packet's sender.
func embeddedKey(p *decode.Packet) (k Key, high bool, ok bool) {
	e := &p.ICMPEmbedded
	if p.IPProto != decode.IPProtoICMP || p.ICMPType != icmpDestUnreach || e.IPVersion != 4 {
		return k, false, false
	}
	switch e.IPProto {
	case ipProtoESP:
		// As Suricata: one flow per security association, keyed by SPI
		// (each direction of an IPsec tunnel has its own).
		k.SrcPort, k.DstPort = uint16(p.SPI>>16), uint16(p.SPI)
	case decode.IPProtoTCP, decode.IPProtoUDP, decode.IPProtoSCTP:
	default:
		return k, false, false
	}
	k.Proto, k.IPVersion, k.VLAN = e.IPProto, 4, vlanKey(p)
	if c := cmp16(&e.Src, &e.Dst); c > 0 || (c == 0 && e.SrcPort > e.DstPort) {
		k.Src, k.Dst, k.SrcPort, k.DstPort = e.Dst, e.Src, e.DstPort, e.SrcPort
		return k, false, true // quoted packet went high; the error goes low
	}
	k.Src, k.Dst, k.SrcPort, k.DstPort = e.Src, e.Dst, e.SrcPort, e.DstPort
	return k, true, true
}

// vlanKey returns the packet's VLAN ids with unused slots zeroed, so stale
// ids in them never split flows.
func vlanKey(p *decode.Packet) [decode.MaxVLAN]uint16 {
	v := p.VLAN
	for i := int(p.VLANCount); i < decode.MaxVLAN; i++ {
		v[i] = 0
	}
	return v
}

func keyOf(p *decode.Packet) (k Key, high bool, ok bool) {
	if p.IPVersion == 0 || p.Fragment {
		return k, false, false
	}
	k.Proto = p.IPProto
	k.IPVersion = p.IPVersion
	k.VLAN = vlanKey(p)
	c := cmp16(&p.Src, &p.Dst)
	switch p.IPProto {
	case decode.IPProtoICMP, decode.IPProtoICMPv6:
		// As Suricata: a message and its counterpart (echo request and
		// reply, timestamp request and reply, ...) share a flow, keyed by
		// the type pair; the echo id is not part of the key. Other types
		// key on type and code.
		if cp, ok := decode.ICMPCounterpart(p.IPProto, p.ICMPType); ok {
			a, b := p.ICMPType, cp
			if a > b {
				a, b = b, a
			}
			k.SrcPort, k.DstPort = uint16(a), uint16(b)
			if c == 0 && (p.ICMPType == icmpEchoReply || p.ICMPType == icmpv6EchoReply) {
				c = 1 // ping to self: the reply travels "back"
			}
		} else {
			k.SrcPort, k.DstPort = uint16(p.ICMPType), 0x100|uint16(p.ICMPCode)
		}
		if c > 0 {
			k.Src, k.Dst = p.Dst, p.Src
			return k, true, true
		}
		k.Src, k.Dst = p.Src, p.Dst
		return k, false, true
	case ipProtoESP:
		// As Suricata: one flow per security association, keyed by SPI
		// (each direction of an IPsec tunnel has its own).
		k.SrcPort, k.DstPort = uint16(p.SPI>>16), uint16(p.SPI)
	case decode.IPProtoTCP, decode.IPProtoUDP, decode.IPProtoSCTP:
		if c > 0 || (c == 0 && p.SrcPort > p.DstPort) {
			k.Src, k.Dst = p.Dst, p.Src
			k.SrcPort, k.DstPort = p.DstPort, p.SrcPort
			return k, true, true
		}
		k.Src, k.Dst = p.Src, p.Dst
		k.SrcPort, k.DstPort = p.SrcPort, p.DstPort
		return k, false, true
	}
	if c > 0 {
		k.Src, k.Dst = p.Dst, p.Src
		return k, true, true
	}
	k.Src, k.Dst = p.Src, p.Dst
	return k, false, true
}

func isEcho(proto, typ uint8) bool {
	if proto == decode.IPProtoICMP {
		return typ == icmpEchoRequest || typ == icmpEchoReply
	}
	return typ == icmpv6EchoRequest || typ == icmpv6EchoReply
}

// cmp16 compares two addresses as big-endian numbers.
func cmp16(a, b *[16]byte) int {
	x, y := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if x == y {
		x, y = binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// reversed returns k with its ends exchanged.
func (k Key) reversed() Key {
	k.Src, k.Dst = k.Dst, k.Src
	if k.Proto != ipProtoESP { // ESP "ports" hold the SPI, which has no direction
		k.SrcPort, k.DstPort = k.DstPort, k.SrcPort
	}
	return k
}

// Hash returns a 64-bit hash of k mixed with seed. Applied to a normalized
// key (KeyOf) it is symmetric: both directions of a flow hash alike, which is
// what sharding packets to workers needs. It does not allocate.
func (k *Key) Hash(seed uint64) uint64 {
	le := binary.LittleEndian
	h := seed ^ 0x9e3779b97f4a7c15
	h = mix(h ^ le.Uint64(k.Src[:8]))
	h = mix(h ^ le.Uint64(k.Src[8:]))
	h = mix(h ^ le.Uint64(k.Dst[:8]))
	h = mix(h ^ le.Uint64(k.Dst[8:]))
	h = mix(h ^ (uint64(k.SrcPort) | uint64(k.DstPort)<<16 | uint64(k.Proto)<<32 | uint64(k.IPVersion)<<40))
	h = mix(h ^ (uint64(k.VLAN[0]) | uint64(k.VLAN[1])<<16 | uint64(k.VLAN[2])<<32))
	return h
}

// mix is the 64-bit finalizer of MurmurHash3: cheap, and every input bit
// affects every output bit.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// SPI returns the ESP security parameters index of an ESP flow's key.
func (k *Key) SPI() uint32 { return uint32(k.SrcPort)<<16 | uint32(k.DstPort) }
