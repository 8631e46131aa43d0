// Package capture reads frames from packet sources: pcap and pcapng files and
// live AF_PACKET rings. It hands out raw frames and never decodes them.
package capture

import "time"

// LinkType is a pcap LINKTYPE_ value (https://www.tcpdump.org/linktypes.html).
// It tells the decoder what the first header of a frame is.
type LinkType uint16

// Link types the sensor decodes. Values are the pcap LINKTYPE_ numbers, not
// the platform DLT_ numbers, except where the two agree.
const (
	LinkTypeNull      LinkType = 0   // BSD loopback: 4-byte host-order address family
	LinkTypeEthernet  LinkType = 1   // IEEE 802.3
	LinkTypeRaw       LinkType = 101 // raw IPv4 or IPv6, version in the first nibble
	LinkTypeLoop      LinkType = 108 // OpenBSD loopback: 4-byte network-order family
	LinkTypeLinuxSLL  LinkType = 113 // Linux cooked capture v1
	LinkTypeIPv4      LinkType = 228 // raw IPv4
	LinkTypeIPv6      LinkType = 229 // raw IPv6
	LinkTypeLinuxSLL2 LinkType = 276 // Linux cooked capture v2
)

// Frame is one captured frame. Data is owned by the Source and stays valid
// only until the next call to ReadFrame on that Source; copy it to keep it.
type Frame struct {
	Data      []byte    // captured bytes (may be shorter than OrigLen)
	OrigLen   int       // length on the wire in bytes
	Timestamp time.Time // capture time: packet time drives every timeout offline
	LinkType  LinkType
	Interface int // index of the capture interface (pcapng IDB index, or live interface index in the config)
}

// Source yields frames one at a time. A Source is used by one goroutine.
type Source interface {
	// ReadFrame fills f with the next frame. It returns io.EOF at the end of
	// a file; any other error describes damage (for files, with the offset).
	ReadFrame(f *Frame) error
	Close() error
}
