package tls

import (
	"bufio"
	"bytes"
	"github.com/polder-nsm/polder/internal/pcaptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

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

// tsharkHellos returns, per ClientHello tshark dissects on TCP in pcap,
// "sni\tja3_full\tja3" and "ja3s_full\tja3s" per ServerHello.
func tsharkHellos(t *testing.T, pcap string) (client, server []string) {
	out, err := exec.CommandContext(t.Context(), tsharkPath, "-n", "-r", pcap,
		"-Y", "tcp && (tls.handshake.type == 1 || tls.handshake.type == 2)",
		"-T", "fields", "-E", "occurrence=f",
		"-e", "tls.handshake.type",
		"-e", "tls.handshake.extensions_server_name",
		"-e", "tls.handshake.ja3_full", "-e", "tls.handshake.ja3",
		"-e", "tls.handshake.ja3s_full", "-e", "tls.handshake.ja3s").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", pcap, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 6 {
			continue
		}
		switch f[0] {
		case "1":
			client = append(client, f[1]+"\t"+f[2]+"\t"+f[3])
		case "2":
			server = append(server, f[4]+"\t"+f[5])
		}
	}
	return client, server
}

// TestAgainstTshark compares SNI, JA3 and JA3S with tshark's dissection
// (Wireshark 4.0 has no JA4; see TestJA4Published) on the TLS pcaps of the
// corpus that tshark reads as TLS on TCP: the distinct values per pcap
// must match.
// The list is short to keep the test fast; the whole-corpus SNI figure
// comes from TestTsharkCorpusSNI.
func TestAgainstTshark(t *testing.T) {
	needTshark(t)
	pcaps := []string{
		"zeek/tls/tls1.2.pcap", "zeek/tls/ecdhe.pcap", "zeek/tls/tls13_psk_succesfull.pcap",
		"zeek/tls/chrome-34-google.pcap",
		"arkime/tls-split-client-hello.pcap", "arkime/badcurveball.pcap", "arkime/tls-alpn-h2.pcap",
		"zeek/tls/hrr.pcap",
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, rel := range pcaps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			path := corpus.Path(t, "pcaps", rel)
			wantC, wantS := tsharkHellos(t, path)
			var gotC, gotS []string
			for _, p := range parseTCPFlows(t, path) {
				s := p.Session()
				if s.HasClientHello && !s.SSLv2Hello {
					gotC = append(gotC, string(s.SNI)+"\t"+string(s.JA3String)+"\t"+s.JA3HashHex())
				}
				if s.HasServerHello && len(s.JA3SString) > 0 {
					gotS = append(gotS, string(s.JA3SString)+"\t"+s.JA3SHashHex())
				}
			}
			wantC, gotC, wantS, gotS = distinct(wantC), distinct(gotC), distinct(wantS), distinct(gotS)
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(wantC, "\n") != strings.Join(gotC, "\n") {
				t.Errorf("%s client hellos:\ntshark %q\nours   %q", rel, wantC, gotC)
			}
			if strings.Join(wantS, "\n") != strings.Join(gotS, "\n") {
				t.Errorf("%s server hellos:\ntshark %q\nours   %q", rel, wantS, gotS)
			}
		}()
	}
	wg.Wait()
}

// distinct sorts and deduplicates: tshark lists every hello (the second
// ClientHello after a HelloRetryRequest is identical in JA3 terms), the
// parser keeps the first per connection.
func distinct(l []string) []string {
	sort.Strings(l)
	out := l[:0]
	for i, v := range l {
		if i == 0 || v != l[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// TestTsharkCorpusSNI computes, over every corpus pcap, the agreement of
// the distinct (case-folded) SNIs of TLS-over-TCP ClientHellos with
// tshark's. It runs tshark 775 times, so it only runs with
// POLDER_FULL_CORPUS=1; POLDER_TSHARK_CACHE names a directory of
// pre-computed "<path with / as __>.tls" outputs
// (tshark -Y 'tcp && tls.handshake.type==1' -T fields -e tcp.stream -e
// tls.handshake.extensions_server_name ...) to skip the tshark runs.
func TestTsharkCorpusSNI(t *testing.T) {
	if os.Getenv("POLDER_FULL_CORPUS") != "1" {
		t.Skip("set POLDER_FULL_CORPUS=1 to run over the whole corpus")
	}
	cache := os.Getenv("POLDER_TSHARK_CACHE")
	if cache == "" {
		needTshark(t)
	}
	rels, abs := corpus.Pcaps(t)
	var both, onlyUs, onlyThem, ja3OK, ja3N int
	for i, rel := range rels {
		var out []byte
		var err error
		if cache != "" {
			out, err = os.ReadFile(filepath.Join(cache, strings.ReplaceAll(rel, "/", "__")+".tls"))
		} else {
			out, err = exec.CommandContext(t.Context(), tsharkPath, "-n", "-r", abs[i], "-Y", "tcp && tls.handshake.type==1",
				"-T", "fields", "-e", "tcp.stream", "-e", "tls.handshake.extensions_server_name",
				"-e", "tls.handshake.ja3_full", "-e", "tls.handshake.ja3").Output()
		}
		if err != nil {
			t.Logf("%s: %v", rel, err)
			continue
		}
		want, wantJA3 := map[string]bool{}, map[string]bool{}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Split(line, "\t")
			if len(f) >= 2 && f[1] != "" {
				for _, n := range strings.Split(f[1], ",") {
					want[strings.ToLower(n)] = true
				}
			}
			if len(f) >= 4 && f[3] != "" {
				wantJA3[strings.Split(f[3], ",")[0]] = true
			}
		}
		got, gotJA3 := map[string]bool{}, map[string]bool{}
		for _, p := range parseUpgradedFlows(t, abs[i]) {
			if sni := p.Session().SNI; len(sni) > 0 {
				got[strings.ToLower(string(sni))] = true
			}
			if h := p.Session().JA3HashHex(); h != "" && !p.Session().SSLv2Hello {
				gotJA3[h] = true
			}
		}
		for h := range wantJA3 {
			ja3N++
			if gotJA3[h] {
				ja3OK++
			} else {
				t.Logf("%s: tshark JA3 %s not ours", rel, h)
			}
		}
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
	}
	total := both + onlyUs + onlyThem
	t.Logf("SNI: %d agree, %d tshark only, %d ours only: %.2f%%", both, onlyThem, onlyUs, 100*float64(both)/float64(max(total, 1)))
	if float64(both) < 0.97*float64(total) {
		t.Errorf("SNI agreement below 97%%")
	}
	{
		t.Logf("JA3 (cache or tshark -e tls.handshake.ja3): %d of %d distinct tshark hashes found", ja3OK, ja3N)
	}
}

// parseUpgradedFlows emulates app-layer detection with protocol upgrades
// (STARTTLS, HTTP CONNECT, SOCKS): a direction is handed to the parser
// from its first segment that starts with a TLS handshake or alert record
// (0x16/0x15, 0x03), so TLS carried inside another protocol's framing
// (OpenVPN) is not parsed, as neither tshark nor Suricata parse it.
func parseUpgradedFlows(t testing.TB, path string) map[flowKey]*Parser {
	pkts, err := pcaptest.Read(path)
	if err != nil {
		t.Logf("%s: %v", path, err)
		return nil
	}
	out := map[flowKey]*Parser{}
	started := map[flowKey]*[2]bool{}
	for _, ev := range pcaptest.TCPStreams(pkts) {
		k := flowKey{ev.Flow.Client, ev.Flow.Server}
		p, st := out[k], started[k]
		if p == nil {
			p, st = NewParser(), &[2]bool{}
			out[k], started[k] = p, st
		}
		if !st[ev.Dir] {
			if len(ev.Data) < 2 || ev.Data[0] != ContentHandshake && ev.Data[0] != ContentAlert || ev.Data[1] != 3 {
				continue
			}
			st[ev.Dir] = true
		}
		if ev.Gap > 0 {
			p.Gap(flow.Direction(ev.Dir), ev.Gap)
			continue
		}
		p.Parse(flow.Direction(ev.Dir), ev.Data, ev.TS)
	}
	return out
}
