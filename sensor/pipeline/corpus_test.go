package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/internal/eveschema"
	"github.com/polder-nsm/polder/internal/oracle"
	"github.com/polder-nsm/polder/sensor/detect"
)

// The corpus tests run the sensor once over every pcap of the shared corpus
// and then judge that output several ways: schema validity, agreement with
// tshark, flows against Suricata's reference output.

// corpusRun is one run of the sensor over the whole corpus.
type corpusRun struct {
	once    sync.Once
	dir     string
	rel     []string
	results map[string]corpusResult
	cfg     func() *Config
}

var (
	// corpusOut runs polder's defaults with ET Open loaded: the output the
	// accuracy and schema tests judge.
	corpusOut = &corpusRun{cfg: testConfig}
	// corpusSuricata runs the settings Suricata's reference run had where
	// polder's defaults differ on purpose (stream.midstream: false, DNS
	// over UDP detected on port 53 only, no GTP-U decoder), for the alert
	// comparison.
	corpusSuricata = &corpusRun{cfg: func() *Config {
		c := testConfig()
		c.Flow.Midstream = false
		c.DNSUDPPorts = []uint16{53}
		c.NoGTPU = true
		return c
	}}
	etOpen struct {
		once sync.Once
		res  *RuleLoad
	}
)

type corpusResult struct {
	eve   string // path of the file's eve.json
	err   error  // ReadFile's error (damaged input, unsupported link type)
	panic string // a panic's value and stack: always a bug
	sum   *Summary
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, r := range []*corpusRun{corpusOut, corpusSuricata} {
		if r.dir != "" {
			os.RemoveAll(r.dir)
		}
	}
	os.Exit(code)
}

// testConfig is the default config with tables sized for one small pcap, so
// hundreds of runs do not each allocate production-sized tables.
func testConfig() *Config {
	c := DefaultConfig()
	c.Flow.MaxFlows = 1 << 16
	c.EVE.StatsInterval = 0
	return c
}

// readSafely runs ReadFile and turns a panic into a result: a test must
// name the file that crashed the sensor rather than die on it.
func readSafely(path, outDir string, cfg *Config, eng *detect.Engine) (res corpusResult) {
	defer func() {
		if r := recover(); r != nil {
			res.panic = fmt.Sprintf("%v\n%s", r, debug.Stack())
		}
	}()
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return corpusResult{err: err}
	}
	res.eve = filepath.Join(outDir, "eve.json")
	res.sum, res.err = ReadFile(context.Background(), path, Options{Config: cfg, LogDir: outDir, Engine: eng})
	return res
}

// loadETOpen compiles the ET Open ruleset of the corpus once, with the
// default vars, for the corpus run: the sensor is judged as it runs, with
// rules loaded.
func loadETOpen(t *testing.T) *RuleLoad {
	t.Helper()
	etOpen.once.Do(func() { etOpen.res = compileETOpen(t) })
	if etOpen.res == nil {
		t.Fatal("ET Open failed to load earlier")
	}
	return etOpen.res
}

func compileETOpen(t *testing.T) *RuleLoad {
	t.Helper()
	files, err := filepath.Glob(corpus.Path(t, "rules", "et-open-suricata-5.0-20240421", "*.rules"))
	if err != nil || len(files) == 0 {
		t.Fatalf("ET Open rules: %v (%d files)", err, len(files))
	}
	res, err := LoadRules(RuleConfig{Files: files})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// runCorpus processes every corpus pcap (two at a time) once per test
// binary with polder's defaults.
func runCorpus(t *testing.T) (rel []string, results map[string]corpusResult) {
	return corpusOut.run(t)
}

func (c *corpusRun) run(t *testing.T) (rel []string, results map[string]corpusResult) {
	t.Helper()
	rels, abs := corpus.Pcaps(t)
	c.once.Do(func() {
		dir, err := os.MkdirTemp("", "polder-corpus-")
		if err != nil {
			t.Fatal(err)
		}
		eng := loadETOpen(t).Engine
		c.dir = dir
		c.rel = rels
		c.results = make(map[string]corpusResult, len(rels))
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2)
		for i := range rels {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				r := readSafely(abs[i], filepath.Join(dir, rels[i]), c.cfg(), eng)
				mu.Lock()
				c.results[rels[i]] = r
				mu.Unlock()
			}()
		}
		wg.Wait()
	})
	if c.results == nil {
		t.Fatal("corpus run failed earlier")
	}
	return c.rel, c.results
}

// TestCorpusProcesses: every corpus pcap is processed without a panic. Files
// the sensor refuses or finds damaged are listed with the reason; the only
// acceptable refusals are link types polder does not decode.
func TestCorpusProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus-wide test; run without -short")
	}
	rel, res := runCorpus(t)
	var pkts, flows, events uint64
	var refused []string
	for _, r := range rel {
		x := res[r]
		if x.panic != "" {
			t.Errorf("%s: panic: %s", r, x.panic)
			continue
		}
		if x.err != nil {
			refused = append(refused, fmt.Sprintf("%s: %v", r, x.err))
			if !strings.Contains(x.err.Error(), "unsupported link type") && !strings.Contains(x.err.Error(), "truncated") && !strings.Contains(x.err.Error(), "damage") {
				t.Errorf("%s: %v", r, x.err)
			}
		}
		if x.sum != nil {
			pkts += x.sum.Packets
			flows += x.sum.Flows
			events += x.sum.Events
		}
	}
	t.Logf("corpus: %d files, %d packets, %d flows, %d EVE events; %d files refused or damaged:", len(rel), pkts, flows, events, len(refused))
	for _, s := range refused {
		t.Logf("  %s", s)
	}
}

// TestCorpusSchema validates every EVE line the sensor wrote for the corpus
// against Suricata 8.0.6's EVE schema.
func TestCorpusSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus-wide test; run without -short")
	}
	v, err := eveschema.Load(corpus.Path(t, "schema", "schema-suricata-8.0.6.json"))
	if err != nil {
		t.Fatal(err)
	}
	rel, res := runCorpus(t)
	lines, bad := 0, 0
	byType := map[string]int{}
	for _, r := range rel {
		x := res[r]
		if x.eve == "" {
			continue
		}
		f, err := os.Open(x.eve)
		if err != nil {
			if os.IsNotExist(err) && x.err != nil {
				continue
			}
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for n := 1; sc.Scan(); n++ {
			lines++
			if err := v.Validate(sc.Bytes()); err != nil {
				bad++
				if bad <= 50 {
					t.Errorf("%s line %d: %v\n%s", r, n, err, truncate(sc.Text(), 400))
				}
			}
			byType[eventType(sc.Bytes())]++
		}
		f.Close()
	}
	t.Logf("validated %d EVE lines against schema 8.0.6: %d invalid; by type %v", lines, bad, byType)
}

// TestCorpusAgreementTshark compares, per pcap, the DNS query names, HTTP
// (host, URI) pairs and TLS SNIs the sensor logged with what tshark
// dissects, and prints the agreement and every disagreement.
func TestCorpusAgreementTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus-wide test; run without -short")
	}
	ts := &oracle.Tshark{CacheDir: oracle.DefaultCacheDir()}
	if _, err := ts.Version(t.Context()); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("tshark is the oracle of this test and is missing in CI (make deps installs it): %v", err)
		}
		t.Skipf("tshark not installed (make deps): %v", err)
	}
	rel, res := runCorpus(t)
	_, abs := corpus.Pcaps(t)
	var rep oracle.Report
	type item struct {
		i    int
		sets oracle.Sets
		err  error
	}
	ch := make(chan item)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i := range rel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			s, err := ts.Sets(t.Context(), abs[i])
			<-sem
			ch <- item{i, s, err}
		}()
	}
	go func() { wg.Wait(); close(ch) }()
	got := make([]item, len(rel))
	for it := range ch {
		got[it.i] = it
	}
	for i, r := range rel {
		x := res[r]
		if x.eve == "" {
			rep.AddError(r, fmt.Errorf("sensor produced no output: %v", x.err))
			continue
		}
		ours, err := oracle.EVESets(x.eve)
		if err != nil && !os.IsNotExist(err) {
			rep.AddError(r, err)
			continue
		}
		if ours.Values[oracle.DNS] == nil {
			ours = oracle.NewSets()
		}
		// tshark's error on a damaged file still leaves what it dissected.
		rep.Add(r, oracle.Compare(ours, got[i].sets))
	}
	var sb strings.Builder
	rep.Print(&sb)
	t.Log("\n" + sb.String())
	o := rep.Overall()
	t.Logf("agreement with tshark: overall %.2f%% (%d/%d)", 100*o.Ratio(), o.Both, o.Either)
	for _, k := range oracle.Kinds {
		c := rep.Kind(k)
		t.Logf("  %s: %.2f%% (%d/%d)", k, 100*c.Ratio(), c.Both, c.Either)
	}
	// Regression floor: the measured agreement may only go up. The issue's
	// target is 97% overall and per kind; see the README's accuracy section.
	for _, k := range oracle.Kinds {
		if f := agreementFloor[k]; rep.Kind(k).Ratio() < f {
			t.Errorf("%s agreement %.4f fell below the floor %.4f", k, rep.Kind(k).Ratio(), f)
		}
	}
}

// TestCorpusFlowsReference compares flow records with Suricata 7.0.4's
// reference output for the same pcaps: flow counts and per-flow packet and
// byte totals.
func TestCorpusFlowsReference(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus-wide test; run without -short")
	}
	rel, res := runCorpus(t)
	refDir := corpus.Path(t, "reference", "suricata-7.0.4-etopen")
	var total oracle.FlowResult
	var files, exactFiles int
	var lines []string
	for _, r := range rel {
		x := res[r]
		ref := filepath.Join(refDir, r+".eve.json")
		refRecs, err := oracle.FlowRecords(ref)
		if err != nil {
			continue // Suricata skipped the file (unsupported link type, empty)
		}
		var ours []oracle.FlowRec
		if x.eve != "" {
			ours, _ = oracle.FlowRecords(x.eve)
		}
		fr := oracle.CompareFlows(ours, refRecs)
		files++
		if len(fr.OnlyOurs) == 0 && len(fr.OnlyRef) == 0 && len(fr.Mismatches) == 0 {
			exactFiles++
		} else {
			var b strings.Builder
			fr.Print(&b)
			lines = append(lines, r+": "+b.String())
		}
		total.Add(fr)
	}
	sort.Strings(lines)
	var b strings.Builder
	total.Print(&b)
	summary, _, _ := strings.Cut(b.String(), "\n")
	t.Logf("flows vs Suricata 7.0.4 reference over %d files (%d identical): %s", files, exactFiles, summary)
	for _, l := range lines {
		t.Log(l)
	}
	r := float64(total.Matched) / float64(max(total.Ours, total.Ref, 1))
	exact := float64(total.Matched-len(total.Mismatches)) / float64(max(total.Ref, 1))
	t.Logf("matched flows / max(ours, ref) = %.4f; reference flows matched with identical totals = %.4f", r, exact)
	if r < flowMatchFloor {
		t.Errorf("matched flow ratio %.4f below floor %.4f", r, flowMatchFloor)
	}
}

func eventType(line []byte) string {
	const k = `"event_type":"`
	i := strings.Index(string(line), k)
	if i < 0 {
		return "?"
	}
	rest := string(line[i+len(k):])
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return "?"
	}
	return rest[:j]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// TestCorpusAlertsReference compares the alerts raised with ET Open over
// every corpus pcap with Suricata 7.0.4's reference output: the set of
// (rule, flow) pairs, as recall and precision, with every difference
// listed.
func TestCorpusAlertsReference(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus-wide test; run without -short")
	}
	rel, res := corpusSuricata.run(t)
	st := loadETOpen(t).Engine.Stats()
	t.Logf("ET Open: %d loaded (%d inactive), %d refused; compile %v; %v; %d prefilters, %d patterns, %d without fast pattern",
		st.Loaded, st.Inactive, st.Refused, st.Compile.Round(1e6), st.ByKind, st.Matchers, st.Patterns, st.Always)
	refDir := corpus.Path(t, "reference", "suricata-7.0.4-etopen")
	var total oracle.AlertResult
	for _, r := range rel {
		refFile := filepath.Join(refDir, r+".eve.json")
		if flows, err := oracle.FlowRecords(refFile); err != nil || len(flows) == 0 {
			continue // Suricata skipped the file (link type it does not decode) or saw no traffic
		}
		ref, err := oracle.Alerts(refFile)
		if err != nil {
			t.Errorf("%s: %v", r, err)
			continue
		}
		var ours map[oracle.AlertKey]string
		if x := res[r]; x.eve != "" {
			if ours, err = oracle.Alerts(x.eve); err != nil {
				t.Errorf("%s: %v", r, err)
			}
		}
		total.CompareAlerts(r, ours, ref)
	}
	t.Log(total.Report())
	if total.Recall() < alertRecallFloor || total.Precision() < alertPrecisionFloor {
		t.Errorf("alerts vs reference: recall %.4f (floor %.4f), precision %.4f (floor %.4f)",
			total.Recall(), alertRecallFloor, total.Precision(), alertPrecisionFloor)
	}
}
