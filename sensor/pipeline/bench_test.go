package pipeline

import (
	"context"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/detect"
)

// mixSource replays every frame of the corpus from memory as one long
// capture: each file's timestamps are rebased to start just after the
// previous file's end, and each round starts an hour after the previous
// one, so flows of one round have timed out before the next reuses their
// addresses. It measures the sensor, not file I/O.
type mixSource struct {
	frames []capture.Frame
	span   time.Duration
	i      int
	round  int
	rounds int
}

func (m *mixSource) ReadFrame(f *capture.Frame) error {
	if m.i == len(m.frames) {
		m.i = 0
		m.round++
	}
	if m.round >= m.rounds {
		return io.EOF
	}
	*f = m.frames[m.i]
	f.Timestamp = f.Timestamp.Add(time.Duration(m.round) * m.span)
	m.i++
	return nil
}

func (m *mixSource) Close() error { return nil }

// loadMix reads every decodable corpus frame into memory.
func loadMix(tb testing.TB) (*mixSource, int64) {
	_, abs := corpus.Pcaps(tb)
	return loadMixFiles(tb, abs, false)
}

// loadMixFiles reads the decodable frames of paths into memory, each file
// rebased onto one clock after the previous. A file that does not open is
// fatal when strict, else skipped (the corpus holds a few damaged files).
func loadMixFiles(tb testing.TB, paths []string, strict bool) (*mixSource, int64) {
	tb.Helper()
	m := &mixSource{}
	var bytes int64
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := base
	for _, p := range paths {
		src, err := capture.OpenFile(p)
		if err != nil {
			if strict {
				tb.Fatalf("open %s: %v", p, err)
			}
			continue
		}
		var f capture.Frame
		var first, last time.Time
		for src.ReadFrame(&f) == nil {
			if !f.LinkType.Supported() {
				continue
			}
			if first.IsZero() {
				first = f.Timestamp
			}
			g := f
			g.Data = append([]byte(nil), f.Data...)
			g.Timestamp = clock.Add(f.Timestamp.Sub(first))
			if g.Timestamp.Before(last) {
				g.Timestamp = last // keep the replay clock monotonic
			}
			last = g.Timestamp
			m.frames = append(m.frames, g)
			bytes += int64(len(g.Data))
		}
		src.Close()
		if !last.IsZero() {
			clock = last.Add(time.Millisecond)
		}
	}
	m.span = clock.Sub(base) + time.Hour
	return m, bytes
}

// BenchmarkThroughputCorpusMix runs the whole corpus mix through one worker
// (one core: run with -cpu 1) with every EVE type written to a file, and
// reports packets/s, Mbit/s and heap allocations per packet. One op is one
// pass over the mix.
func BenchmarkThroughputCorpusMix(b *testing.B) {
	m, bytes := loadMix(b)
	benchRead(b, m, bytes, nil)
}

// benchRead runs b.N passes over m through one worker with every EVE type
// written to a file and eng's rules (nil: none), and reports packets/s,
// Mbit/s, heap allocations per packet and events per pass.
func benchRead(b *testing.B, m *mixSource, bytes int64, eng *detect.Engine) {
	m.i, m.round, m.rounds = 0, 0, b.N
	cfg := DefaultConfig()
	dir := b.TempDir()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	start := time.Now()
	sum, err := readSource(context.Background(), m, "mix", Options{Config: cfg, LogDir: dir, Engine: eng})
	el := time.Since(start)
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	if err != nil {
		b.Fatal(err)
	}
	pkts := float64(sum.Packets)
	b.ReportMetric(pkts/el.Seconds(), "pkts/s")
	b.ReportMetric(float64(bytes)*float64(b.N)*8/el.Seconds()/1e6, "Mbit/s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/pkts, "allocs/pkt")
	b.ReportMetric(float64(len(m.frames)), "pkts/op")
	b.ReportMetric(float64(sum.Events)/float64(b.N), "events/op")
}
