package dns

import (
	"bufio"
	"bytes"
	"github.com/polder-nsm/polder/internal/pcaptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/flow"
)

const tsharkPath = "/usr/bin/tshark"

// needTshark skips when tshark is missing, except in CI (CI=true), where
// a missing tshark must fail rather than pass silently.
func needTshark(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(tsharkPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tshark not found at %s (install the tshark package)", tsharkPath)
		}
		t.Skipf("tshark not found at %s", tsharkPath)
	}
}

// dnsPorts are the ports the comparison treats as DNS, as tshark's DNS,
// mDNS and LLMNR dissectors do.
var dnsPorts = map[uint16]bool{53: true, 5353: true, 5355: true}

// tsharkText renders a raw name the way tshark 4.0 prints dns.qry.name:
// control characters as a backslash and three octal digits, bytes that
// are not valid UTF-8 as U+FFFD, the rest as is.
func tsharkText(b []byte) string {
	var out []byte
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1:
			// One U+FFFD per maximal subpart of an ill-formed sequence
			// (Unicode §3.9), as Wireshark does (checked on the iodine capture).
			out = utf8.AppendRune(out, utf8.RuneError)
			n = maximalSubpart(b)
		case r < 0x20 || r == 0x7f:
			c := b[0]
			out = append(out, '\\', '0'+c>>6, '0'+(c>>3)&7, '0'+c&7)
		default:
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return string(out)
}

// maximalSubpart returns how many bytes of the ill-formed sequence at the
// start of b tshark replaces with one U+FFFD (at least 1).
func maximalSubpart(b []byte) int {
	// Wireshark counts continuation bytes after any lead byte, without
	// the narrower second-byte ranges of E0/ED/F0/F4, and still accepts
	// the obsolete 5- and 6-byte leads.
	c := b[0]
	var need int
	switch {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c >= 0xe0 && c <= 0xef:
		need = 2
	case c >= 0xf0 && c <= 0xf7:
		need = 3
	case c >= 0xf8 && c <= 0xfb:
		need = 4
	case c >= 0xfc && c <= 0xfd:
		need = 5
	default:
		return 1
	}
	n := 1
	for n <= need && n < len(b) && b[n] >= 0x80 && b[n] <= 0xbf {
		n++
	}
	return n
}

// normName is the comparison key: case-folded, trailing dot removed.
func normName(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") }

// ourNames returns the distinct question names the parser reads from a
// pcap: UDP datagrams and TCP streams on the DNS ports.
func ourNames(t testing.TB, path string) map[string]bool {
	pkts, err := pcaptest.Read(path)
	if err != nil {
		t.Logf("%s: %v", path, err)
		return nil
	}
	names := map[string]bool{}
	add := func(m *Message) {
		for _, q := range m.Questions {
			names[normName(tsharkText(q.Name))] = true
		}
	}
	var m Message
	for _, p := range pkts {
		if p.TCP {
			continue
		}
		if dnsPorts[p.SrcPort] || dnsPorts[p.DstPort] {
			if Parse(p.Payload, &m) == nil {
				add(&m)
			}
		} else if Probe(p.Payload, &m) {
			// Other ports: what a content-probing pipeline would hand to
			// the parser.
			add(&m)
		}
	}
	parsers := map[*pcaptest.TCPFlow]*StreamParser{}
	for _, ev := range pcaptest.TCPStreams(pkts) {
		if !dnsPorts[ev.Flow.Server.Port] && !dnsPorts[ev.Flow.Client.Port] {
			continue
		}
		sp := parsers[ev.Flow]
		if sp == nil {
			sp = &StreamParser{}
			parsers[ev.Flow] = sp
		}
		if ev.Gap > 0 {
			sp.Gap(flow.Direction(ev.Dir), ev.Gap)
			continue
		}
		sp.Parse(flow.Direction(ev.Dir), ev.Data, ev.TS, add)
	}
	return names
}

// tsharkNames parses "udp.port\ttcp.port\tresponse\tqry.name" lines.
func tsharkNames(out []byte) map[string]bool {
	names := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 4 || f[3] == "" {
			continue
		}
		for _, n := range strings.Split(f[3], ",") {
			if n == "<Root>" {
				n = ""
			}
			names[normName(n)] = true
		}
	}
	return names
}

func runTshark(t *testing.T, path string) []byte {
	out, err := exec.CommandContext(t.Context(), tsharkPath, "-n", "-r", path, "-Y", "(dns || mdns || llmnr) && !icmp && !icmpv6",
		"-T", "fields", "-e", "udp.port", "-e", "tcp.port", "-e", "dns.flags.response", "-e", "dns.qry.name").Output()
	if err != nil {
		t.Logf("tshark %s: %v", path, err)
	}
	return out
}

// compareNames tallies agreement of two name sets.
func compareNames(t *testing.T, rel string, want, got map[string]bool) (both, onlyThem, onlyUs int) {
	for n := range want {
		if got[n] {
			both++
		} else {
			onlyThem++
			t.Logf("%s: tshark only %q", rel, n)
		}
	}
	for n := range got {
		if !want[n] {
			onlyUs++
			t.Logf("%s: ours only %q", rel, n)
		}
	}
	return
}

// TestAgainstTshark compares the distinct question names with tshark's on
// a few DNS pcaps: mDNS, DNS over TCP, binary (tunnel) labels, odd
// records. The whole-corpus figure comes from TestTsharkCorpusDNS.
func TestAgainstTshark(t *testing.T) {
	needTshark(t)
	for _, rel := range []string{"zeek/dns/mdns.pcap", "zeek/dns/dns-binds.pcap", "ndpi/dns-tunnel-iodine.pcap", "zeek/dns-txt-multiple.pcap", "zeek/dns/tkey.pcap"} {
		path := corpus.Path(t, "pcaps", rel)
		want, got := tsharkNames(runTshark(t, path)), ourNames(t, path)
		both, them, us := compareNames(t, rel, want, got)
		if them+us > 0 {
			t.Errorf("%s: %d names agree, %d tshark only, %d ours only", rel, both, them, us)
		}
	}
}

// TestTsharkCorpusDNS computes, over every corpus pcap, the agreement of
// distinct question names with tshark. It runs tshark 775 times, so only
// with POLDER_FULL_CORPUS=1; POLDER_TSHARK_CACHE names a directory of
// pre-computed outputs of the runTshark command, "<path with / as __>.dns"
// (filter "dns") plus, if present, ".mdns" (filter "mdns || llmnr").
func TestTsharkCorpusDNS(t *testing.T) {
	if os.Getenv("POLDER_FULL_CORPUS") != "1" {
		t.Skip("set POLDER_FULL_CORPUS=1 to run over the whole corpus")
	}
	cache := os.Getenv("POLDER_TSHARK_CACHE")
	if cache == "" {
		needTshark(t)
	}
	rels, abs := corpus.Pcaps(t)
	var both, them, us int
	var worst []string
	for i, rel := range rels {
		var out []byte
		if cache != "" {
			var err error
			base := filepath.Join(cache, strings.ReplaceAll(rel, "/", "__"))
			if out, err = os.ReadFile(base + ".dns"); err != nil {
				t.Logf("%s: %v", rel, err)
				continue
			}
			if m, err := os.ReadFile(base + ".mdns"); err == nil {
				out = append(out, m...)
			}
		} else {
			out = runTshark(t, abs[i])
		}
		b, th, u := compareNames(t, rel, tsharkNames(out), ourNames(t, abs[i]))
		both, them, us = both+b, them+th, us+u
		if th+u > 0 {
			worst = append(worst, rel)
		}
	}
	sort.Strings(worst)
	total := both + them + us
	t.Logf("DNS names: %d agree, %d tshark only, %d ours only: %.2f%% (pcaps with differences: %v)", both, them, us, 100*float64(both)/float64(max(total, 1)), worst)
	if float64(both) < 0.97*float64(total) {
		t.Errorf("DNS name agreement below 97%%")
	}
}
