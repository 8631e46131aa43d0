package ingest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/polder-nsm/polder/ingest"
	"github.com/polder-nsm/polder/internal/evetest"
	"github.com/polder-nsm/polder/store"
)

// BenchmarkParse measures the line parser on the reference corpus.
func BenchmarkParse(b *testing.B) {
	lines := evetest.Lines(b)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, l := range lines {
			if _, bad := ingest.Parse(l); bad != ingest.BadNone {
				b.Fatal(bad)
			}
		}
		n += len(lines)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIngest measures the whole path, file → parse → store, on
// 200,000 events cycled from the reference corpus (default batches).
func BenchmarkIngest(b *testing.B) {
	lines := evetest.Lines(b)
	const n = 200000
	var buf bytes.Buffer
	for i := range n {
		buf.Write(lines[i%len(lines)])
		buf.WriteByte('\n')
	}
	total := 0
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "eve.json"), buf.Bytes(), 0o600); err != nil {
			b.Fatal(err)
		}
		s, err := store.Open(filepath.Join(dir, "events.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		in := run(b, s, ingest.Options{Globs: []string{filepath.Join(dir, "eve.json")}}, n)
		b.StopTimer()
		if got := in.Stats().Events; got != n {
			b.Fatalf("ingested %d of %d", got, n)
		}
		s.Close()
		total += n
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(buf.Len()*total/n)/b.Elapsed().Seconds()/1e6, "MB/s")
}
