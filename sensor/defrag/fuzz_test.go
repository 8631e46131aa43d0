package defrag_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/defrag"
)

// FuzzDefrag reads the input as a list of 4-byte fragment specs (flags with
// IP version, id and more-fragments bits; offset in 8-byte units; length)
// and feeds the fragments to a small Table. Nothing may panic, memory must
// stay within MaxBytes, and every completed datagram must be a consistent IP
// packet that decodes.
func FuzzDefrag(f *testing.F) {
	f.Add([]byte{0x01, 0, 10, 0, 0x00, 1, 10, 0})
	f.Add([]byte{0x03, 0, 10, 0, 0x02, 1, 10, 0, 0x03, 0, 10, 0})
	f.Add([]byte{0x81, 0, 16, 0, 0x80, 2, 8, 0, 0x81, 1, 16, 0})
	f.Add([]byte{0x01, 0, 255, 255, 0x00, 255, 255, 0})
	f.Fuzz(runSpec)
}

// runSpec is FuzzDefrag's body.
func runSpec(t *testing.T, spec []byte) {
	{
		const maxBytes = 20000
		tab := defrag.NewTable(defrag.Options{MaxTrackers: 4, MaxBytes: maxBytes, Timeout: time.Second})
		var d decode.Decoder
		var p decode.Packet
		now := time.Unix(0, 0)
		for i := 0; i+4 <= len(spec); i += 4 {
			fl, off, n := spec[i], int(spec[i+1])*8*int(1+spec[i+3]&7), int(spec[i+2])*4+1
			data := make([]byte, n)
			for j := range data {
				data[j] = byte(i + j)
			}
			var raw []byte
			if fl&0x80 != 0 {
				raw = frag6(uint32(fl>>1&3), off, fl&1 != 0, data)
			} else {
				if off > 0xfff8 {
					off = 0xfff8
				}
				raw = frag4(uint16(fl>>1&3), off, fl&1 != 0, data)
			}
			if spec[i+3]&0x80 != 0 {
				now = now.Add(600 * time.Millisecond)
			}
			fr := capture.Frame{Data: raw, OrigLen: len(raw), LinkType: capture.LinkTypeRaw}
			if d.Decode(&p, &fr) != decode.ReasonNone || !p.Fragment {
				continue
			}
			dg, done := tab.Add(&p, now)
			if tab.MemBytes() > maxBytes {
				t.Fatalf("MemBytes %d > %d", tab.MemBytes(), maxBytes)
			}
			if !done {
				continue
			}
			if len(dg) < 20 {
				t.Fatalf("short datagram")
			}
			if r := d.DecodeDatagram(&p, dg); r != decode.ReasonNone && r != decode.ReasonUDPLenInvalid &&
				r != decode.ReasonUDPPktTooSmall && r != decode.ReasonUDPHlenTooSmall {
				t.Fatalf("datagram does not decode: %v", r)
			}
			if dg[0]>>4 == 4 && int(binary.BigEndian.Uint16(dg[2:])) != len(dg) {
				t.Fatalf("ipv4 total length %d != %d", binary.BigEndian.Uint16(dg[2:]), len(dg))
			}
			if dg[0]>>4 == 6 && int(binary.BigEndian.Uint16(dg[4:]))+40 != len(dg) {
				t.Fatalf("ipv6 payload length wrong")
			}
		}
	}
}
