package decode_test

import (
	"testing"

	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
)

// fuzzLinkTypes are the link types FuzzDecode picks from with its first
// input byte (modulo the length), so one target covers every entry point.
// Append only: when the list grows, rewrite the first byte of the inputs in
// testdata/fuzz/FuzzDecode to their index so they keep their link type.
var fuzzLinkTypes = []capture.LinkType{
	capture.LinkTypeEthernet, capture.LinkTypeRaw, capture.LinkTypeIPv4, capture.LinkTypeIPv6,
	capture.LinkTypeNull, capture.LinkTypeLoop, capture.LinkTypeLinuxSLL, capture.LinkTypeLinuxSLL2, 9,
	capture.LinkTypeIEEE80211, capture.LinkTypeIEEE80211Radiotap, capture.LinkTypeNFLOG,
}

// FuzzDecode checks that no input panics, that a fatal reason is named and
// recorded, and that offsets and Payload stay inside the frame. It also runs
// DecodeDatagram on the bytes after the link header.
func FuzzDecode(f *testing.F) {
	for _, fx := range fixtures {
		lt := byte(0)
		for i, l := range fuzzLinkTypes {
			if l == fx.lt {
				lt = byte(i)
			}
		}
		f.Add(lt, unhex(f, fx.hex))
	}
	var d decode.Decoder
	var p decode.Packet
	f.Fuzz(func(t *testing.T, lt byte, data []byte) {
		fr := capture.Frame{Data: data, OrigLen: len(data), LinkType: fuzzLinkTypes[int(lt)%len(fuzzLinkTypes)]}
		r := d.Decode(&p, &fr)
		checkPacket(t, &p, r)
		r = d.DecodeDatagram(&p, data)
		checkPacket(t, &p, r)
	})
}

func checkPacket(t *testing.T, p *decode.Packet, r decode.Reason) {
	t.Helper()
	if r != decode.ReasonNone {
		if r.String() == "unknown" || !p.Events.Has(r) {
			t.Fatalf("reason %d unnamed or not recorded", r)
		}
		return
	}
	if p.IPVersion == 0 {
		return
	}
	if p.L3Offset < 0 || p.L4Offset < p.L3Offset || p.L4Offset > len(p.Data) || p.L3Offset+p.L3Len > len(p.Data) {
		t.Fatalf("offsets l3=%d+%d l4=%d len=%d", p.L3Offset, p.L3Len, p.L4Offset, len(p.Data))
	}
	if p.Payload != nil {
		if off := cap(p.Data) - cap(p.Payload); off < 0 || off+len(p.Payload) > len(p.Data) {
			t.Fatalf("payload outside frame")
		}
	}
}
