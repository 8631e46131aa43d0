package ipset

import (
	"fmt"
	"github.com/polder-nsm/polder/internal/corpus"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/polder-nsm/polder/sensor/rules"
)

// etCompiled is the ET Open snapshot with every header compiled.
type etCompiled struct {
	rules          []*rules.Rule
	src, dst       []*Set
	srcPort, dport []*PortSet
	index          *Index
}

var (
	etOnce sync.Once
	et     etCompiled
	etErr  []string
)

func loadET(t testing.TB) *etCompiled {
	t.Helper()
	files := corpus.Glob(t, "rules/et-open-suricata-5.0-20240421/*.rules")
	etOnce.Do(func() {
		set, errs := rules.LoadFiles(files, rules.LoadOptions{Vars: rules.DefaultVars()})
		if len(errs) > 0 {
			etErr = append(etErr, "load: "+errs[0].Error())
		}
		v := rules.DefaultVars()
		var b IndexBuilder
		for i, r := range set.Rules {
			src, err1 := CompileAddress(r.Src, v)
			dst, err2 := CompileAddress(r.Dst, v)
			sp, err3 := CompilePort(r.SrcPort, v)
			dp, err4 := CompilePort(r.DstPort, v)
			for _, err := range []error{err1, err2, err3, err4} {
				if err != nil {
					etErr = append(etErr, fmt.Sprintf("%s: sid %d: %v", r.File, r.SID, err))
				}
			}
			et.rules = append(et.rules, r)
			et.src, et.dst = append(et.src, src), append(et.dst, dst)
			et.srcPort, et.dport = append(et.srcPort, sp), append(et.dport, dp)
			b.Add(src, uint32(i))
		}
		et.index = b.Build()
	})
	for i, e := range etErr {
		if i == 10 {
			t.Fatalf("... and %d more", len(etErr)-10)
		}
		t.Error(e)
	}
	if t.Failed() {
		t.FailNow()
	}
	return &et
}

// TestETCompile compiles every header of ET Open and checks the index of
// all source sets against brute force.
func TestETCompile(t *testing.T) {
	e := loadET(t)
	if len(e.rules) != 24827 { // every enabled rule of the snapshot, as in sensor/rules
		t.Fatalf("only %d ET rules loaded", len(e.rules))
	}
	var ids []uint32
	distinct := map[string]bool{}
	for i, s := range e.src {
		distinct[s.String()] = true
		ids = append(ids, uint32(i))
	}
	for _, s := range e.dst {
		distinct[s.String()] = true
	}
	ports := map[string]bool{}
	for i := range e.srcPort {
		ports[e.srcPort[i].String()], ports[e.dport[i].String()] = true, true
	}
	t.Logf("%d rules, %d address and %d port expressions compiled: %d distinct address sets, %d distinct port sets; index of all sources: %d intervals",
		len(e.rules), 2*len(e.rules), 2*len(e.rules), len(distinct), len(ports), e.index.Intervals())

	// Probes: every boundary of every narrow source set, and random
	// addresses of both families and of the private blocks.
	r := rand.New(rand.NewPCG(7, 8))
	var probes []netip.Addr
	for _, s := range e.src {
		if s.Coverage() < 1e-6 {
			probes = append(probes, boundaryProbes(s)...)
		}
	}
	r.Shuffle(len(probes), func(i, j int) { probes[i], probes[j] = probes[j], probes[i] })
	n := 3000
	if testing.Short() {
		n = 300
	}
	probes = probes[:min(n, len(probes))]
	for i := 0; i < n/3; i++ {
		probes = append(probes, from4(v4(r.Uint32())), from4(v4(0x0a000000|r.Uint32()&0xffffff)), from6(v6{r.Uint64(), r.Uint64()}))
	}
	probes = append(probes, netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("::"))
	var dst []uint32
	for _, a := range probes {
		dst = e.index.Lookup(a, dst[:0])
		if ref := bruteLookup(e.src, ids, a); !slices.Equal(dst, ref) {
			t.Fatalf("Lookup(%s): %d ids, brute force %d (first difference in %v vs %v)", a, len(dst), len(ref), head(dst), head(ref))
		}
	}
}

func head(s []uint32) []uint32 { return s[:min(len(s), 8)] }

// ipOnlyIndex indexes the ET rules whose source is an explicit IP list —
// what the engine's IP-only rules look like.
func ipOnlyIndex(e *etCompiled) (*Index, []netip.Addr, int) {
	var b IndexBuilder
	var members []netip.Addr
	n := 0
	for i, s := range e.src {
		if s.Coverage() < 1e-6 {
			b.Add(s, uint32(i))
			n++
			for _, x := range s.v4 {
				members = append(members, from4(x.lo))
			}
		}
	}
	return b.Build(), members, n
}

func TestETIPOnlyIndex(t *testing.T) {
	e := loadET(t)
	x, members, n := ipOnlyIndex(e)
	t.Logf("IP-only index: %d rules, %d intervals", n, x.Intervals())
	dst := make([]uint32, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		for _, a := range members[:100] {
			dst = x.Lookup(a, dst[:0])
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup allocates %v times per run", allocs)
	}
}

func BenchmarkETLookup(b *testing.B) {
	e := loadET(b)
	r := rand.New(rand.NewPCG(1, 1))
	var members []netip.Addr
	for _, s := range e.src {
		if s.Coverage() < 1e-6 && len(s.v4) > 0 {
			members = append(members, from4(s.v4[0].lo))
		}
	}
	mixed := make([]netip.Addr, 1024)
	for i := range mixed {
		switch i % 4 {
		case 0:
			mixed[i] = members[r.IntN(len(members))]
		case 1:
			mixed[i] = from4(v4(0x0a000000 | r.Uint32()&0xffffff))
		default:
			mixed[i] = from4(v4(r.Uint32()))
		}
	}
	ipOnly, _, _ := ipOnlyIndex(e)
	for _, c := range []struct {
		name string
		x    *Index
	}{{"AllSources", e.index}, {"IPOnly", ipOnly}} {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]uint32, 0, len(e.src))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				dst = c.x.Lookup(mixed[i&1023], dst[:0])
			}
		})
	}
}

func BenchmarkETCompile(b *testing.B) {
	e := loadET(b)
	v := rules.DefaultVars()
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range e.rules {
			if _, err := CompileAddress(r.Src, v); err != nil {
				b.Fatal(err)
			}
		}
	}
}
