package pipeline

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/flow"
)

// TestCorpusDamagedCopies processes, for every corpus pcap, a copy cut at a
// random point and a copy with random bytes overwritten: no panic ever,
// everything before the damage processed, and a cut file reported with the
// offset of the damage.
func TestCorpusDamagedCopies(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus-wide test; run without -short")
	}
	rel, abs := corpus.Pcaps(t)
	tmp := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2)) // fixed: a failure must reproduce
	var cut, corrupt, reported, panics int
	for i, r := range rel {
		data, err := os.ReadFile(abs[i])
		if err != nil {
			t.Fatal(err)
		}
		if len(data) < 64 {
			continue
		}
		// Cut somewhere past the file header.
		at := 32 + rng.IntN(len(data)-32)
		p := filepath.Join(tmp, "cut.pcap")
		if err := os.WriteFile(p, data[:at], 0o644); err != nil {
			t.Fatal(err)
		}
		res := readSafely(p, filepath.Join(tmp, "cut"), testConfig(), nil)
		cut++
		if res.panic != "" {
			panics++
			t.Errorf("%s cut at %d: panic: %s", r, at, res.panic)
		}
		var de *capture.DamageError
		if errors.As(res.err, &de) {
			reported++
			if !strings.Contains(res.err.Error(), "offset") {
				t.Errorf("%s cut at %d: damage error without offset: %v", r, at, res.err)
			}
		}

		// Overwrite about 1% of the bytes after the file header.
		c := append([]byte(nil), data...)
		for j := 0; j < len(c)/100+1; j++ {
			c[32+rng.IntN(len(c)-32)] = byte(rng.Uint32())
		}
		if err := os.WriteFile(p, c, 0o644); err != nil {
			t.Fatal(err)
		}
		res = readSafely(p, filepath.Join(tmp, "corrupt"), testConfig(), nil)
		corrupt++
		if res.panic != "" {
			panics++
			t.Errorf("%s corrupted: panic: %s", r, res.panic)
		}
	}
	t.Logf("%d cut and %d corrupted copies processed, %d panics; %d cuts reported as damage with an offset (the others fell on a record boundary)", cut, corrupt, panics, reported)
	if reported < cut/2 {
		t.Errorf("only %d of %d cut files reported damage", reported, cut)
	}
}

// TestFlowStateSize holds the per-flow state budget: the flow table entry
// plus the pipeline's per-flow state (stream session, detection and parser
// pointers), excluding stream buffers and parsers, stays within 512 bytes.
func TestFlowStateSize(t *testing.T) {
	const budget = 512
	n := unsafe.Sizeof(flow.Flow{}) + unsafe.Sizeof(flowState{})
	t.Logf("per-flow state: flow.Flow %d B + pipeline flowState %d B = %d B (budget %d)", unsafe.Sizeof(flow.Flow{}), unsafe.Sizeof(flowState{}), n, budget)
	if n > budget {
		t.Errorf("per-flow state %d B exceeds %d B", n, budget)
	}
}

// TestFanoutGroupPerInstance: two sensors (log directories) on one interface
// get different fanout groups; one sensor's interfaces too; the same sensor
// gets the same group again after a restart.
func TestFanoutGroupPerInstance(t *testing.T) {
	a, b := fanoutGroup("/srv/polder/customer1/logs", "eth0"), fanoutGroup("/srv/polder/customer2/logs", "eth0")
	c := fanoutGroup("/srv/polder/customer1/logs", "eth1")
	if a == b || a == c {
		t.Errorf("fanout groups collide: %d %d %d", a, b, c)
	}
	if a != fanoutGroup("/srv/polder/customer1/logs", "eth0") || a < 1000 {
		t.Errorf("fanout group not stable or out of range: %d", a)
	}
}
