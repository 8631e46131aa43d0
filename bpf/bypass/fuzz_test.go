//go:build linux

package bypass

import (
	"errors"
	"testing"

	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/decode"
	"github.com/polder-nsm/polder/sensor/flow"
)

// FuzzProgramsAgreeWithDecoder checks the programs against the sensor's
// decoder on arbitrary frames: the flow the decoder keys a frame to is put
// in the table, and a program may drop the frame only if the decoder found
// it valid, not a fragment, not tunnelled, and of that very flow. (The
// other way round, a valid frame the programs pass, is allowed: they pass
// what they do not parse.) The verifier already guarantees that no frame
// makes a program read out of bounds. Root only.
func FuzzProgramsAgreeWithDecoder(f *testing.F) {
	for _, c := range progCases() {
		f.Add(c.f.bytes())
	}
	b := openTest(f, Config{Mode: ModeSocket, TableSize: 16})
	progs := testPrograms(f, b)
	var (
		d decode.Decoder
		p decode.Packet
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 14 || len(data) > 1500 {
			return // BPF_PROG_TEST_RUN needs an Ethernet header
		}
		r := d.Decode(&p, &capture.Frame{Data: data, OrigLen: len(data), LinkType: capture.LinkTypeEthernet})
		k, keyed := flow.KeyOf(&p)
		valid := r == decode.ReasonNone && keyed && p.Tunnel == 0 && p.Outer.IPVersion == 0
		inserted := false
		if keyed && Supported(k) {
			if err := b.Insert(k); err != nil {
				t.Fatal(err)
			}
			inserted = true
		}
		for _, pr := range progs {
			passed, err := pr.tryRun(t, data)
			if errors.Is(err, errHarness) {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			if !passed && (!inserted || !valid) {
				t.Errorf("%s dropped a frame the decoder keys as %+v (reason %v, keyed %v, tunnel %#x, inserted %v)",
					pr.name, k, r, keyed, p.Tunnel, inserted)
			}
		}
		if inserted {
			if _, _, err := b.Remove(k); err != nil {
				t.Fatal(err)
			}
		}
	})
}
