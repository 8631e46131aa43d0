package pipeline

import (
	"io"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/capture"
)

// TestNoAllocsExistingFlow: once a flow exists, its packets run decode →
// flow → stream → app layer without a heap allocation. The flow here is a
// real HTTP session; the measured packets are its pure ACKs and its
// retransmitted data (both directions), replayed against the live state.
func TestNoAllocsExistingFlow(t *testing.T) {
	src, err := capture.OpenFile(corpus.Path(t, "pcaps", "chrissanders-packets", "http_google.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var frames []capture.Frame
	for {
		var f capture.Frame
		if err := src.ReadFrame(&f); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		f.Data = append([]byte(nil), f.Data...)
		frames = append(frames, f)
	}
	cfg := testConfig()
	cfg.EVE.Stats = false
	out, err := newOutput(cfg, Options{LogDir: t.TempDir()}, "wire/pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer out.close()
	w := newWorker(cfg, out)
	for i := range frames {
		w.handleFrame(&frames[i])
	}
	if w.flows.Len() != 1 {
		t.Fatalf("want 1 live flow, have %d", w.flows.Len())
	}
	replay := frames[2:] // skip the handshake: a second SYN would start a new flow
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		f := replay[i%len(replay)]
		w.handleFrame(&f)
		i++
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per packet of an existing flow, want 0", allocs)
	}
}
