// Package evetest loads the reference Suricata EVE corpus for store and
// ingest tests and benchmarks.
package evetest

import (
	"bufio"
	"bytes"
	"github.com/polder-nsm/polder/internal/corpus"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the reference EVE directory of the shared corpus; a missing
// corpus fails tb (internal/corpus).
func Dir(tb testing.TB) string {
	tb.Helper()
	return corpus.Path(tb, "reference", "suricata-7.0.4-etopen")
}

// Lines returns every non-empty line of every *.eve.json file under Dir,
// in a stable order.
func Lines(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	err := filepath.WalkDir(Dir(tb), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".json" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) > 0 {
				out = append(out, bytes.Clone(sc.Bytes()))
			}
		}
		return sc.Err()
	})
	if err != nil {
		tb.Fatalf("read reference EVE: %v", err)
	}
	return out
}
