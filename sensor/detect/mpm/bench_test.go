package mpm

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Benchmarks on real material: the ET Open fast patterns (one per rule,
// ~33k) and the corpus payloads. Besides wall-clock MB/s they report
// cpu-MB/s (process CPU time), which is the fairer number on a shared
// machine.

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func BenchmarkBuild(b *testing.B) {
	pats := etPatterns(b, false)
	for _, eng := range engines() {
		b.Run(fmt.Sprintf("%s/%dpatterns", eng, len(pats)), func(b *testing.B) {
			b.ReportAllocs()
			var m Matcher
			before := heapInUse()
			cpu0, n := cpuTime(), 0
			for b.Loop() {
				n++
				var err error
				if m, err = New(pats, Options{Engine: eng}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(n), "cpu-ms/op")
			b.ReportMetric(float64(m.MemBytes())/(1<<20), "mem-MB")
			b.ReportMetric(float64(heapInUse()-min(before, heapInUse()))/(1<<20), "heap-MB")
			runtime.KeepAlive(m)
		})
	}
}

func BenchmarkScan(b *testing.B) {
	pats := etPatterns(b, false)
	benchScan(b, pats, payloads(b))
}

// BenchmarkScanLong leaves out the 1- and 2-byte patterns, to show what
// they cost each engine.
func BenchmarkScanLong(b *testing.B) {
	var long []Pattern
	for _, p := range etPatterns(b, false) {
		if len(p.Bytes) > 2 {
			long = append(long, p)
		}
	}
	benchScan(b, long, payloads(b))
}

func benchScan(b *testing.B, pats []Pattern, pl [][]byte) {
	for _, eng := range engines() {
		m, err := New(pats, Options{Engine: eng})
		if err != nil {
			b.Fatal(err)
		}
		for _, size := range []int{1500, 64 << 10} {
			bufs := chunks(pl, size, 16<<20)
			b.Run(fmt.Sprintf("%s/%dB", eng, size), func(b *testing.B) {
				s := m.NewScratch()
				hits := make([]uint32, 0, len(pats))
				b.SetBytes(int64(size))
				b.ReportAllocs()
				n, nhits := 0, 0
				cpu0 := cpuTime()
				for b.Loop() {
					hits = m.Scan(s, bufs[n%len(bufs)], hits[:0])
					nhits += len(hits)
					n++
				}
				cpu := cpuTime() - cpu0
				b.ReportMetric(float64(n)*float64(size)/cpu.Seconds()/1e6, "cpu-MB/s")
				b.ReportMetric(float64(nhits)/float64(n), "hits/op")
			})
		}
	}
}

// BenchmarkScanDenseBytes tunes Options.DenseBytes: more dense rows mean
// fewer failure-link walks but a larger working set.
func BenchmarkScanDenseBytes(b *testing.B) {
	pats := etPatterns(b, false)
	bufs := chunks(payloads(b), 1500, 16<<20)
	for _, budget := range []int64{64 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20} {
		m, err := New(pats, Options{Engine: EngineAC, DenseBytes: budget})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("%dKiB", budget>>10), func(b *testing.B) {
			s := m.NewScratch()
			hits := make([]uint32, 0, len(pats))
			b.SetBytes(1500)
			n := 0
			cpu0 := cpuTime()
			for b.Loop() {
				hits = m.Scan(s, bufs[n%len(bufs)], hits[:0])
				n++
			}
			b.ReportMetric(float64(n)*1500/(cpuTime()-cpu0).Seconds()/1e6, "cpu-MB/s")
			b.ReportMetric(float64(m.MemBytes())/(1<<20), "mem-MB")
		})
	}
}
