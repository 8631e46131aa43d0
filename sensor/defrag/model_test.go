package defrag_test

import (
	"bytes"
	"math/rand"
	"testing"

	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/defrag"
)

// TestBSDModel compares the Table with a byte-by-byte model of the BSD
// policy on random overlapping fragment sets of one datagram: each byte
// keeps the data of the fragment that supplied it unless a later fragment
// starts at a lower offset. The Table must complete exactly when the model
// covers every byte, with the model's bytes.
func TestBSDModel(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	var d decode.Decoder
	var p decode.Packet
	completed := 0
	for iter := 0; iter < 2000; iter++ {
		v6 := iter%2 == 1
		total := 8 * (2 + r.Intn(60)) // datagram payload incl. UDP header
		tab := defrag.NewTable(defrag.Options{})
		data := make([]byte, total)
		owner := make([]int, total)
		for i := range owner {
			owner[i] = -1
		}
		first, last := false, false
		for n := 0; n < 40; n++ {
			s := 8 * r.Intn(total/8)
			e := s + 8*(1+r.Intn(6))
			if r.Intn(4) == 0 || e > total {
				e = total
			}
			if s == 0 && e == total {
				continue // offset 0 without MF is a whole packet, not a fragment
			}
			frag := make([]byte, e-s)
			for i := range frag {
				frag[i] = byte(n*31 + i)
			}
			if s == 0 && len(frag) >= 8 {
				// keep a valid UDP header in every fragment at offset 0
				copy(frag, udpDatagram(total - 8)[:8])
			}
			mf := e < total
			var raw []byte
			if v6 {
				raw = frag6(5, s, mf, frag)
			} else {
				raw = frag4(5, s, mf, frag)
			}
			for i := s; i < e; i++ {
				if owner[i] == -1 || s < owner[i] {
					owner[i], data[i] = s, frag[i-s]
				}
			}
			first = first || s == 0
			last = last || !mf
			complete := first && last
			for _, o := range owner {
				complete = complete && o >= 0
			}
			f := capture.Frame{Data: raw, OrigLen: len(raw), LinkType: capture.LinkTypeRaw}
			if rr := d.Decode(&p, &f); rr != decode.ReasonNone {
				t.Fatalf("decode: %v", rr)
			}
			dg, done := tab.Add(&p, t0)
			if done != complete {
				t.Fatalf("iter %d frag %d [%d,%d) of %d: done=%v, model complete=%v", iter, n, s, e, total, done, complete)
			}
			if !done {
				continue
			}
			hl := 20
			if v6 {
				hl = 48
			}
			if !bytes.Equal(dg[hl:], data) {
				t.Fatalf("iter %d: payload differs from the BSD model\n got % x\nwant % x", iter, dg[hl:], data)
			}
			completed++
			break
		}
	}
	if completed < 1000 {
		t.Errorf("only %d of 2000 datagrams completed: the generator is too weak", completed)
	}
}
