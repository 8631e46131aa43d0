package bypass

import (
	"encoding/binary"
	"net/netip"
)

// frame describes a test frame: Ethernet, VLAN tags, IPv4 or IPv6 with
// options or extension headers, and an L4 header. bytes builds it by hand
// (no checksums: nothing here verifies them) so that malformed variants are
// one field away.
type frame struct {
	tags      []uint32 // TPID<<16 | TCI, outermost first
	etype     uint16   // EtherType after the tags; 0 means from the IP version
	src, dst  netip.Addr
	proto     uint8
	sport     uint16
	dport     uint16
	tcpFlags  uint8
	tcpDoff   uint8  // TCP data offset in words; 0 means 5
	ipOpts    []byte // IPv4 options, padded by the caller to 4 bytes
	ihl       uint8  // IPv4 IHL override; 0 means from ipOpts
	fragOff   uint16 // IPv4: flags and offset field as on the wire
	ext       []ext  // IPv6 extension headers, in order
	payload   int    // L4 payload bytes
	udpLen    int    // UDP length override; 0 means correct
	totAdjust int    // added to the IP total/payload length field
	pad       int    // Ethernet padding after the IP datagram
	cut       int    // bytes cut off the end of the built frame
}

// ext is one IPv6 extension header: its type (0, 43, 44, 51, 60, ...) and
// for a fragment header the offset/flags field.
type ext struct {
	typ  uint8
	size int    // bytes; 0 means 8 (AH: 12)
	frag uint16 // fragment header: offset<<3 | M
}

func v4(s string) netip.Addr { return netip.MustParseAddr(s) }

func (f frame) bytes() []byte {
	b := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1}
	for _, t := range f.tags {
		b = binary.BigEndian.AppendUint16(b, uint16(t>>16))
		b = binary.BigEndian.AppendUint16(b, uint16(t))
	}
	et := f.etype
	if et == 0 {
		et = 0x0800
		if f.src.Is6() {
			et = 0x86dd
		}
	}
	b = binary.BigEndian.AppendUint16(b, et)

	l4 := f.l4()
	if f.src.Is4() {
		hl := 20 + len(f.ipOpts)
		ihl := f.ihl
		if ihl == 0 {
			ihl = uint8(hl / 4)
		}
		tot := hl + len(l4) + f.totAdjust
		b = append(b, 0x40|ihl, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(tot))
		b = append(b, 0x12, 0x34)
		b = binary.BigEndian.AppendUint16(b, f.fragOff)
		b = append(b, 64, f.proto, 0, 0)
		s, d := f.src.As4(), f.dst.As4()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
		b = append(b, f.ipOpts...)
	} else {
		var exts []byte
		next := f.proto
		for i := len(f.ext) - 1; i >= 0; i-- {
			e := f.ext[i]
			size := e.size
			if size == 0 {
				size = 8
				if e.typ == 51 {
					size = 12
				}
			}
			h := make([]byte, size)
			h[0] = next
			switch e.typ {
			case 51: // AH: length in 4-byte words minus 2
				h[1] = byte(size/4 - 2)
			case 44: // fragment: fixed 8 bytes
				binary.BigEndian.PutUint16(h[2:], e.frag)
				binary.BigEndian.PutUint32(h[4:], 0xabcd)
			default: // length in 8-byte units minus 1; PadN fills it
				h[1] = byte(size/8 - 1)
				h[2], h[3] = 1, byte(size-4)
			}
			exts = append(h, exts...)
			next = e.typ
		}
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(len(exts)+len(l4)+f.totAdjust))
		b = append(b, next, 64)
		s, d := f.src.As16(), f.dst.As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
		b = append(b, exts...)
	}
	b = append(b, l4...)
	b = append(b, make([]byte, f.pad)...)
	return b[:len(b)-f.cut]
}

// l4 builds the L4 header and payload.
func (f frame) l4() []byte {
	var h []byte
	switch f.proto {
	case 6:
		doff := f.tcpDoff
		if doff == 0 {
			doff = 5
		}
		h = binary.BigEndian.AppendUint16(h, f.sport)
		h = binary.BigEndian.AppendUint16(h, f.dport)
		h = binary.BigEndian.AppendUint32(h, 1000)
		h = binary.BigEndian.AppendUint32(h, 2000)
		h = append(h, doff<<4, f.tcpFlags, 0xff, 0xff, 0, 0, 0, 0)
		if doff > 5 {
			opts := make([]byte, int(doff-5)*4)
			for i := range opts {
				opts[i] = 1 // NOP
			}
			h = append(h, opts...)
		}
	case 17:
		n := 8 + f.payload
		if f.udpLen != 0 {
			n = f.udpLen
		}
		h = binary.BigEndian.AppendUint16(h, f.sport)
		h = binary.BigEndian.AppendUint16(h, f.dport)
		h = binary.BigEndian.AppendUint16(h, uint16(n))
		h = append(h, 0, 0)
	case 132:
		h = binary.BigEndian.AppendUint16(h, f.sport)
		h = binary.BigEndian.AppendUint16(h, f.dport)
		h = append(h, 0, 0, 0, 1, 0, 0, 0, 0)
	case 1, 58: // ICMP echo request
		typ := byte(8)
		if f.proto == 58 {
			typ = 128
		}
		h = append(h, typ, 0, 0, 0, 0x12, 0x34, 0, 1)
	default:
		h = make([]byte, 8)
	}
	p := make([]byte, f.payload)
	for i := range p {
		p[i] = byte(i)
	}
	return append(h, p...)
}
