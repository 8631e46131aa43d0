// Package flow tracks bidirectional flows in a bounded table owned by one
// worker: keys, counters, TCP state, timeouts and eviction.
package flow

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
