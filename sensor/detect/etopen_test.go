package detect

import (
	"cmp"
	"maps"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/rules"
)

// etOpenRules is the number of enabled rules in the corpus's ET Open
// snapshot (et-open-suricata-5.0-20240421): what loaded plus what was
// refused, by the parser or the engine, must add up to it.
const etOpenRules = 24827

// etOpenFloor is the share of etOpenRules that must load (inactive rules
// included: they load and report why they cannot match).
const etOpenFloor = 0.985

func etOpenFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(corpus.Path(tb, "rules", "et-open-suricata-5.0-20240421", "*.rules"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no ET Open rules in the corpus: %v", err)
	}
	return files
}

// loadOptions are the loader options the sensor uses: default vars, and
// every pcre compiled at load time (a pattern that does not compile
// refuses its rule there, as in pipeline.LoadRules).
func loadOptions() rules.LoadOptions {
	return rules.LoadOptions{Vars: rules.DefaultVars(), CompilePCRE: CompilePCRE}
}

// TestETOpenCompile loads and compiles the whole ET Open snapshot and
// prints what loaded, every refused rule with its keyword, and why the
// inactive rules cannot match.
func TestETOpenCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the whole ET Open ruleset")
	}
	set, parseErrs := rules.LoadFiles(etOpenFiles(t), loadOptions())
	eng, errs := Compile(set, Options{Vars: rules.DefaultVars(), ParseRefused: len(parseErrs)})
	st := eng.Stats()

	refused := append(slices.Clone(parseErrs), errs...)
	byKeyword := map[string]int{}
	for _, e := range refused {
		if e.SID == 0 {
			t.Errorf("error not about one rule: %v", e)
			continue
		}
		if e.File == "" || e.Line == 0 || e.Keyword == "" {
			t.Errorf("refusal without file:line or keyword: %v", e)
		}
		byKeyword[e.Keyword]++
	}
	inactive := map[string]int{}
	for _, s := range eng.Inactive() {
		if s.Inactive() == "" {
			t.Errorf("sid %d is listed inactive without a reason", s.SID())
		}
		inactive[s.Inactive()]++
	}
	if len(eng.Inactive()) != st.Inactive {
		t.Errorf("Stats.Inactive = %d, Engine.Inactive() has %d", st.Inactive, len(eng.Inactive()))
	}

	total := st.Loaded + len(refused)
	t.Logf("ET Open: %d rules: %d loaded (%d active, %d inactive), %d refused (%d by the parser, %d by the engine); compile %v",
		total, st.Loaded, st.Loaded-st.Inactive, st.Inactive, len(refused), len(parseErrs), len(errs), st.Compile.Round(1e6))
	t.Logf("by kind %v; %d prefilters, %d fast patterns, %d signatures without one", st.ByKind, st.Matchers, st.Patterns, st.Always)
	t.Logf("refused, by keyword:")
	for _, k := range sortedByCount(byKeyword) {
		t.Logf("  %6d  %s", byKeyword[k], k)
	}
	t.Logf("refused rules:")
	for _, e := range refused {
		t.Logf("  sid %d: %s: %s (%s:%d)", e.SID, e.Keyword, e.Msg, filepath.Base(e.File), e.Line)
	}
	t.Logf("inactive, by reason:")
	for _, k := range sortedByCount(inactive) {
		t.Logf("  %6d  %s", inactive[k], k)
	}

	if total != etOpenRules {
		t.Errorf("loaded + refused = %d, want the snapshot's %d enabled rules", total, etOpenRules)
	}
	if floor := int(math.Ceil(etOpenFloor * etOpenRules)); st.Loaded < floor {
		t.Errorf("%d rules loaded (inactive included), below the floor %d (%.1f%% of %d)", st.Loaded, floor, 100*etOpenFloor, etOpenRules)
	}
	if st.Refused != len(refused) {
		t.Errorf("Stats.Refused = %d, want %d (parser and engine refusals)", st.Refused, len(refused))
	}
	if st.Loaded != len(eng.Sigs())+st.Inactive {
		t.Errorf("Stats.Loaded = %d, want active %d + inactive %d", st.Loaded, len(eng.Sigs()), st.Inactive)
	}
}

// sortedByCount returns the keys of m, most frequent first.
func sortedByCount(m map[string]int) []string {
	return slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

// BenchmarkLoadCompileETOpen: one op parses every ET Open file (pcres
// compiled at load, as the sensor does) and compiles the engine. Run with
// -benchmem; -cpu 1 gives the one-core figure. MB/op is allocated, MB-live
// what the last engine (with its rule set) keeps on the heap.
func BenchmarkLoadCompileETOpen(b *testing.B) {
	files := etOpenFiles(b)
	opts := loadOptions()
	b.ReportAllocs()
	var ms0, ms1, live runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	var eng *Engine
	for b.Loop() {
		eng = nil
		set, _ := rules.LoadFiles(files, opts)
		eng, _ = Compile(set, Options{Vars: rules.DefaultVars()})
		if eng.Stats().Loaded == 0 {
			b.Fatal("nothing loaded")
		}
	}
	runtime.ReadMemStats(&ms1)
	runtime.GC()
	runtime.ReadMemStats(&live)
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/1e6/float64(b.N), "MB/op")
	b.ReportMetric(float64(live.HeapAlloc-ms0.HeapAlloc)/1e6, "MB-live")
	runtime.KeepAlive(eng)
}
