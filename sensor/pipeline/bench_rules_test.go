package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/detect"
)

// ruleBenchPcaps is a realistic HTTP/DNS/TLS mix from the corpus: its
// largest HTTP captures, TLS handshakes of every shape it holds, DNS
// (plain, exfiltration, malformed) and a malware session. scripts/
// bench-rules.sh concatenates the same list.
var ruleBenchPcaps = []string{
	"zeek/http/no_crlf.pcap",
	"zeek/http/206_example_b.pcap",
	"zeek/http/1000-requests-one-dropped-response.pcap",
	"zeek/http/bro.org.pcap",
	"chrissanders-packets/http_espn.pcapng",
	"chrissanders-packets/ek_to_cryptowall4.pcapng",
	"chrissanders-packets/ratinfected.pcapng",
	"zeek/tls/tls-fragmented-handshake.pcap",
	"zeek/tls/ssl.v3.pcap",
	"zeek/tls/tls-1.2-stream-keylog.pcap",
	"ndpi/tls_long_cert.pcap",
	"ndpi/googledns_android10.pcap",
	"ndpi/bad-dns-traffic.pcap",
	"ndpi/dns_exfiltration.pcap",
	"chrissanders-packets/dns_isp_hijack.pcapng",
}

// loadMixOf reads the frames of the given corpus pcaps (paths relative to
// the corpus pcaps directory) into a mixSource, rebased as loadMix does.
func loadMixOf(tb testing.TB, rel []string) (*mixSource, int64) {
	tb.Helper()
	abs := make([]string, len(rel))
	for i, r := range rel {
		abs[i] = corpus.Path(tb, "pcaps", r)
	}
	return loadMixFiles(tb, abs, true)
}

var benchETOpen struct {
	once sync.Once
	eng  *detect.Engine
	err  error
}

// etOpenEngine compiles ET Open once per test binary, as the sensor does.
func etOpenEngine(tb testing.TB) *detect.Engine {
	tb.Helper()
	files, err := filepath.Glob(corpus.Path(tb, "rules", "et-open-suricata-5.0-20240421", "*.rules"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("ET Open rules: %v (%d files)", err, len(files))
	}
	benchETOpen.once.Do(func() {
		res, err := LoadRules(RuleConfig{Files: files})
		if err != nil {
			benchETOpen.err = err
			return
		}
		benchETOpen.eng = res.Engine
	})
	if benchETOpen.err != nil {
		tb.Fatal(benchETOpen.err)
	}
	return benchETOpen.eng
}

// BenchmarkReadETOpen runs the HTTP/DNS/TLS mix through one worker with
// every EVE type written to a file, without rules and with ET Open
// loaded, and reports packets/s, Mbit/s, heap allocations per packet and
// alerts per pass. One op is one pass over the mix. Run with -cpu 1 for
// the one-core figure.
func BenchmarkReadETOpen(b *testing.B) {
	m, bytes := loadMixOf(b, ruleBenchPcaps)
	benchRules(b, m, bytes)
}

// BenchmarkCorpusMixETOpen is BenchmarkThroughputCorpusMix (the whole
// corpus, 429-byte frames on average: the mix Suricata's figures in the
// README were measured on) without rules and with ET Open loaded.
func BenchmarkCorpusMixETOpen(b *testing.B) {
	m, bytes := loadMix(b)
	benchRules(b, m, bytes)
}

func benchRules(b *testing.B, m *mixSource, bytes int64) {
	eng := etOpenEngine(b)
	for _, bc := range []struct {
		name string
		eng  *detect.Engine
	}{{"rules=none", nil}, {"rules=etopen", eng}} {
		b.Run(bc.name, func(b *testing.B) { benchRead(b, m, bytes, bc.eng) })
	}
}

// TestNoAllocsETOpenNoMatch: with ET Open loaded, packets of an
// established flow whose payload matches no rule go through decode, flow,
// stream, the app layer and the rule engine (packet and stream
// inspection, the prefilters) without a heap allocation.
//
// The flow is a TCP session to a port no ET Open rule names, carrying
// lower-case filler; the measured packets are new in-order data segments
// in both directions and their ACKs, so every one is reassembled and
// inspected.
func TestNoAllocsETOpenNoMatch(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the whole ET Open ruleset")
	}
	eng := etOpenEngine(t)

	const rounds = 600
	tr := newTraffic(t)
	c := tr.connect("10.1.2.3:43211", "10.9.8.7:47999")
	pre := len(tr.frames)
	filler := []string{
		"zzzz qqqq vvvv xxxx jjjj kkkk wwww yyyy zzzz qqqq vvvv xxxx jjjj kkkk\n",
		"wwww yyyy zzzz qqqq vvvv xxxx jjjj kkkk wwww yyyy zzzz qqqq vvvv\n",
	}
	for i := range rounds {
		c.send(i%2, filler[i%2])
	}
	frames := tr.frames

	cfg := testConfig()
	cfg.EVE.Stats = false
	out, err := newOutput(cfg, Options{LogDir: t.TempDir()}, "wire/pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer out.close()
	w := newWorker(cfg, out)
	sh, err := eng.NewShared(nil)
	if err != nil {
		t.Fatal(err)
	}
	w.det = detect.NewThread(eng, sh)

	// Handshake plus the first few segments: the flow exists, protocol
	// detection has given up on it, the scratch space has grown.
	warm := pre + 40
	for i := range warm {
		w.handleFrame(&frames[i])
	}
	if w.flows.Len() != 1 {
		t.Fatalf("want 1 live flow, have %d", w.flows.Len())
	}
	before := w.det.Counters
	i := warm
	allocs := testing.AllocsPerRun(len(frames)-warm-1, func() { // AllocsPerRun warms up with one call
		w.handleFrame(&frames[i])
		i++
	})
	after := w.det.Counters
	t.Logf("%d packets measured: %d inspections, %d candidates evaluated after the prefilter",
		len(frames)-warm, after.Inspections-before.Inspections, after.Candidates-before.Candidates)
	if after.Inspections == before.Inspections {
		t.Fatalf("the measured packets were not inspected")
	}
	if a := w.det.Counters.Alerts; a != 0 {
		t.Fatalf("%d alerts: the filler matches a rule", a)
	}
	if allocs != 0 {
		t.Errorf("%.2f allocations per packet of an established flow with ET Open loaded, want 0 (go test -run %s -memprofile mem.out -memprofilerate 1)", allocs, t.Name())
	}
}

// BenchmarkMiceETOpen measures what a short flow costs with ET Open
// loaded: one new UDP flow (a 100-byte request to port 5300 and
// its reply, the mice of scripts/bench-bypass.sh) through one worker,
// including its flow record once it times out.
func BenchmarkMiceETOpen(b *testing.B) {
	eng := etOpenEngine(b)
	tr := newTraffic(b)
	const flows = 4096
	payload := strings.Repeat("m", 100)
	for i := range flows {
		client := fmt.Sprintf("10.%d.%d.2:%d", i>>8&255, i&255, 40000+i%20000)
		tr.udp(client, "203.0.113.10:5300", payload)
		tr.udp("203.0.113.10:5300", client, payload)
		tr.wait(300 * time.Microsecond)
	}
	m := &mixSource{frames: tr.frames, span: time.Hour}
	b.ResetTimer()
	m.i, m.round, m.rounds = 0, 0, max(b.N/flows, 1)
	sum, err := readSource(context.Background(), m, "mice", Options{Config: DefaultConfig(), LogDir: b.TempDir(), Engine: eng})
	if err != nil {
		b.Fatal(err)
	}
	// Whole rounds of the flows run, so b.N is rounded: report per flow
	// and per packet from what actually ran.
	el := float64(b.Elapsed().Nanoseconds())
	b.ReportMetric(el/float64(sum.Packets), "ns/pkt")
	b.ReportMetric(el/float64(sum.Packets/2), "ns/flow")
}
