//go:build linux

package bypass

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/sensor/flow"
)

// BenchmarkInsertRemove: one Insert and one Remove (with its final
// counters) per op, the cost of starting and ending a kernel bypass.
func BenchmarkInsertRemove(b *testing.B) {
	bp := openTest(b, Config{Mode: ModeSocket, TableSize: 1024})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := testKey(i & 0xffff)
		if err := bp.Insert(k); err != nil {
			b.Fatal(err)
		}
		if _, ok, err := bp.Remove(k); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkRead reads a table of 200 000 flows per op, in batches and
// entry by entry; ns/flow is the sweeper's cost per bypassed flow.
func BenchmarkRead(b *testing.B) {
	const n = 200_000
	bp := openTest(b, Config{Mode: ModeSocket, TableSize: n})
	for i := range n {
		if err := bp.Insert(testKey(i)); err != nil {
			b.Fatal(err)
		}
	}
	if m := memlock(b, bp); m > 0 {
		b.Logf("table of %d flows: %d bytes of kernel memory, %d per flow", n, m, m/n)
	}
	for _, batch := range []bool{true, false} {
		b.Run(map[bool]string{true: "batch", false: "iterate"}[batch], func(b *testing.B) {
			bp.noBatch.Store(!batch)
			b.ReportAllocs()
			for b.Loop() {
				got := 0
				if err := bp.Read(func(flow.Key, Counters) bool { got++; return true }); err != nil {
					b.Fatal(err)
				}
				if got != n {
					b.Fatalf("read %d flows, want %d", got, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/flow")
		})
	}
	bp.noBatch.Store(false)
}

// BenchmarkDelete deletes 100 000 flows in batches per op.
func BenchmarkDelete(b *testing.B) {
	const n = 100_000
	bp := openTest(b, Config{Mode: ModeSocket, TableSize: n})
	keys := make([]flow.Key, n)
	for i := range keys {
		keys[i] = testKey(i)
	}
	for b.Loop() {
		b.StopTimer()
		for _, k := range keys {
			if err := bp.Insert(k); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if got, err := bp.Delete(keys); got != n || err != nil {
			b.Fatal(got, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/flow")
}

// BenchmarkPrograms runs each program on one frame repeatedly in the
// kernel (BPF_PROG_TEST_RUN with repeat): the per-packet cost of a
// bypassed flow (hit, counted and dropped), a flow not in the table
// (miss) and the longest parse (QinQ IPv6 with three extension headers).
// The test run's own overhead (skb setup for socket filters) is included.
func BenchmarkPrograms(b *testing.B) {
	bp := openTest(b, Config{Mode: ModeSocket, TableSize: 1024})
	progs := testPrograms(b, bp)
	long := with(udp6, func(f *frame) {
		f.tags = []uint32{tpidAD | 1, tpidQ | 2}
		f.ext = []ext{{typ: 0}, {typ: 43}, {typ: 60}}
	})
	for _, c := range []struct {
		name   string
		f      frame
		insert bool
	}{{"hit-ipv4", tcp4, true}, {"miss-ipv4", udp4, false}, {"hit-qinq-ipv6-ext", long, true}} {
		data := c.f.bytes()
		if c.insert {
			k, _ := keyOf(b, data)
			if err := bp.Insert(k); err != nil {
				b.Fatal(err)
			}
		}
		for _, pr := range progs {
			b.Run(c.name+"/"+pr.name, func(b *testing.B) {
				_, per, err := pr.prog.Benchmark(data, b.N, b.ResetTimer)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(per.Nanoseconds()), "ns/pkt")
			})
		}
	}
}

// memlock returns the kernel memory charged for the flow table, from
// /proc/self/fdinfo; 0 when unknown.
func memlock(b testing.TB, bp *Bypass) int {
	info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", bp.objs.Flows.FD()))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "memlock:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}
