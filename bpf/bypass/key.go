package bypass

import (
	"bytes"
	"fmt"
	"time"

	"github.com/polder-nsm/polder/sensor/flow"
)

// IANA protocol numbers the kernel programs key on.
const (
	ipProtoTCP  = 6
	ipProtoUDP  = 17
	ipProtoSCTP = 132
)

// mapKey mirrors struct flow_key of bpf/headers/bypass.h byte for byte (44
// bytes, no padding): the layout cilium/ebpf marshals in native byte order.
type mapKey struct {
	Src, Dst         [16]byte // wire order, IPv4 mapped (::ffff:a.b.c.d)
	SrcPort, DstPort uint16   // host order
	VLAN             [3]uint16
	Proto            uint8
	IPVersion        uint8
}

// mapDir mirrors struct flow_dir.
type mapDir struct {
	Packets, Bytes, LastSeen uint64
}

// mapValue mirrors struct flow_value: Dir[0] counts packets sent by the
// key's Src, Dir[1] those sent by its Dst.
type mapValue struct {
	Dir [2]mapDir
}

// mapStats mirrors struct bypass_stats.
type mapStats struct {
	Packets, Bypassed, BypassedBytes, Miss, TCPControl, NotIP, Malformed, Fragment, Unsupported uint64
}

var v4Prefix = [12]byte{10: 0xff, 11: 0xff}

// Supported reports whether the kernel programs can match packets of the
// flow k: TCP, UDP or SCTP over IPv4 (in the IPv4-mapped form flow.Key
// uses) or IPv6. Other flows (ICMP, ESP, ...) can only be bypassed
// locally. Supported does not know whether the flow's packets arrive in a
// tunnel, MPLS or PPPoE: the programs key the outermost IP header only, so
// never insert such a flow (it would never match, or match its carrier).
func Supported(k flow.Key) bool {
	_, _, err := toMapKey(k)
	return err == nil
}

// toMapKey converts a flow key, in either orientation, to the normalized
// table key: the (address, port) pair that sorts lower is Src, comparing
// addresses as big-endian numbers, then ports, as flow.KeyOf and the
// programs do. rev says whether k's ends were exchanged.
func toMapKey(k flow.Key) (mk mapKey, rev bool, err error) {
	switch k.Proto {
	case ipProtoTCP, ipProtoUDP, ipProtoSCTP:
	default:
		return mk, false, fmt.Errorf("IP protocol %d is not keyed in the kernel: %w", k.Proto, ErrNotSupported)
	}
	switch k.IPVersion {
	case 4:
		if [12]byte(k.Src[:12]) != v4Prefix || [12]byte(k.Dst[:12]) != v4Prefix {
			return mk, false, fmt.Errorf("IPv4 flow key without IPv4-mapped addresses: %w", ErrNotSupported)
		}
	case 6:
	default:
		return mk, false, fmt.Errorf("IP version %d: %w", k.IPVersion, ErrNotSupported)
	}
	mk = mapKey{
		Src: k.Src, Dst: k.Dst, SrcPort: k.SrcPort, DstPort: k.DstPort,
		Proto: k.Proto, IPVersion: k.IPVersion,
	}
	for i, v := range k.VLAN {
		mk.VLAN[i] = v & 0x0fff
	}
	if swapped(&mk) {
		mk.Src, mk.Dst = mk.Dst, mk.Src
		mk.SrcPort, mk.DstPort = mk.DstPort, mk.SrcPort
		return mk, true, nil
	}
	return mk, false, nil
}

// swapped reports whether k is not normalized: its Src sorts higher.
func swapped(k *mapKey) bool {
	c := bytes.Compare(k.Src[:], k.Dst[:])
	return c > 0 || (c == 0 && k.SrcPort > k.DstPort)
}

// flowKey converts a table key back to a flow.Key (normalized).
func (mk *mapKey) flowKey() flow.Key {
	return flow.Key{
		Src: mk.Src, Dst: mk.Dst, SrcPort: mk.SrcPort, DstPort: mk.DstPort,
		Proto: mk.Proto, IPVersion: mk.IPVersion, VLAN: mk.VLAN,
	}
}

// counters converts a table value to Counters oriented to a key whose
// ends are the table key's (reversed: exchanged).
func (v *mapValue) counters(reversed bool) Counters {
	src, dst := v.Dir[0], v.Dir[1]
	if reversed {
		src, dst = dst, src
	}
	conv := func(d mapDir) DirCounters {
		return DirCounters{Packets: d.Packets, Bytes: d.Bytes, LastSeen: time.Duration(d.LastSeen)}
	}
	return Counters{FromSrc: conv(src), FromDst: conv(dst)}
}
