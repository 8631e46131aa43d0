package tls

import (
	"bufio"
	"encoding/json"
	"github.com/polder-nsm/polder/internal/pcaptest"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
	"github.com/polder-nsm/polder/sensor/flow"
)

// eveTLS is the part of a Suricata EVE tls event the parser must match.
type eveTLS struct {
	SrcIP    string `json:"src_ip"`
	SrcPort  uint16 `json:"src_port"`
	DestIP   string `json:"dest_ip"`
	DestPort uint16 `json:"dest_port"`
	Proto    string `json:"proto"`
	PktSrc   string `json:"pkt_src"`
	TLS      struct {
		Subject     string `json:"subject"`
		Issuer      string `json:"issuerdn"`
		Serial      string `json:"serial"`
		Fingerprint string `json:"fingerprint"`
		SNI         string `json:"sni"`
		Resumed     bool   `json:"session_resumed"`
		Version     string `json:"version"`
		NotBefore   string `json:"notbefore"`
		NotAfter    string `json:"notafter"`
		JA3         struct{ Hash, String string }
		JA3S        struct{ Hash, String string }
	} `json:"tls"`
}

// flowKey orients a TCP connection client → server.
type flowKey struct{ c, s pcaptest.Endpoint }

func readEVETLS(t *testing.T, path string) []eveTLS {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []eveTLS
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !strings.Contains(string(line), `"event_type":"tls"`) {
			continue
		}
		var e eveTLS
		if err := json.Unmarshal(line, &e); err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		out = append(out, e)
	}
	return out
}

// parseTCPFlows runs a Parser over every TCP connection of a pcap.
func parseTCPFlows(t testing.TB, path string) map[flowKey]*Parser {
	pkts, err := pcaptest.Read(path)
	if err != nil {
		t.Logf("%s: %v", path, err)
		return nil
	}
	out := map[flowKey]*Parser{}
	for _, ev := range pcaptest.TCPStreams(pkts) {
		k := flowKey{ev.Flow.Client, ev.Flow.Server}
		p := out[k]
		if p == nil {
			p = NewParser()
			out[k] = p
		}
		if ev.Gap > 0 {
			p.Gap(flow.Direction(ev.Dir), ev.Gap)
			continue
		}
		p.Parse(flow.Direction(ev.Dir), ev.Data, ev.TS)
	}
	return out
}

// TestCorpusAgainstSuricata compares every TLS-over-TCP event Suricata
// 7.0.4 logged for the corpus with what the parser extracts from the same
// connection: certificate fields, SNI, version, JA3 and JA3S.
func TestCorpusAgainstSuricata(t *testing.T) {
	root := corpus.Path(t, "reference", "suricata-7.0.4-etopen")
	var eves []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".eve.json") {
			eves = append(eves, p)
		}
		return nil
	})
	sort.Strings(eves)
	type tally struct{ ok, n int }
	fields := map[string]*tally{}
	count := func(field, want, got, where string) {
		if want == "" {
			return
		}
		tl := fields[field]
		if tl == nil {
			tl = &tally{}
			fields[field] = tl
		}
		tl.n++
		if want == got {
			tl.ok++
		} else {
			t.Logf("%s %s: got %q want %q", where, field, got, want)
		}
	}
	for _, ep := range eves {
		evs := readEVETLS(t, ep)
		if len(evs) == 0 {
			continue
		}
		rel, _ := filepath.Rel(root, ep)
		pcap := corpus.Path(t, "pcaps", strings.TrimSuffix(rel, ".eve.json"))
		flows := parseTCPFlows(t, pcap)
		seen := map[flowKey]bool{}
		for _, e := range evs {
			if e.Proto != "TCP" {
				continue
			}
			src, _ := netip.ParseAddr(e.SrcIP)
			dst, _ := netip.ParseAddr(e.DestIP)
			k := flowKey{pcaptest.Endpoint{Addr: src.Unmap(), Port: e.SrcPort}, pcaptest.Endpoint{Addr: dst.Unmap(), Port: e.DestPort}}
			if seen[k] {
				continue // later events for the same flow (e.g. a second handshake)
			}
			seen[k] = true
			p := flows[k]
			if p == nil {
				p = flows[flowKey{k.s, k.c}]
			}
			where := rel + " " + e.SrcIP + ":" + itoa(int(e.SrcPort))
			var s Session
			if p != nil {
				s = *p.Session()
			}
			count("flow", "found", map[bool]string{true: "found", false: "missing"}[p != nil], where)
			count("subject", e.TLS.Subject, string(s.Subject), where)
			count("issuerdn", e.TLS.Issuer, string(s.Issuer), where)
			count("serial", e.TLS.Serial, string(s.Serial), where)
			count("fingerprint", e.TLS.Fingerprint, string(s.Fingerprint), where)
			count("sni", e.TLS.SNI, string(s.SNI), where)
			if !(e.TLS.Version == "UNDETERMINED" && strings.Contains(e.PktSrc, "flow timeout")) {
				// Suricata passes only ACKed data to the app layer; at
				// flow timeout the unACKed server side was never parsed.
				count("version", e.TLS.Version, VersionString(s.Version), where)
			}
			if !s.NotBefore.IsZero() {
				count("notbefore", e.TLS.NotBefore, s.NotBefore.Format("2006-01-02T15:04:05"), where)
				count("notafter", e.TLS.NotAfter, s.NotAfter.Format("2006-01-02T15:04:05"), where)
			} else {
				count("notbefore", e.TLS.NotBefore, "", where)
			}
			count("session_resumed", strconv.FormatBool(e.TLS.Resumed), strconv.FormatBool(s.SessionResumed), where)
			count("ja3.string", e.TLS.JA3.String, string(s.JA3String), where)
			count("ja3.hash", e.TLS.JA3.Hash, s.JA3HashHex(), where)
			count("ja3s.string", e.TLS.JA3S.String, string(s.JA3SString), where)
			count("ja3s.hash", e.TLS.JA3S.Hash, s.JA3SHashHex(), where)
		}
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		tl := fields[k]
		pct := 100 * float64(tl.ok) / float64(tl.n)
		t.Logf("%-12s %4d/%4d  %.1f%%", k, tl.ok, tl.n, pct)
		if pct < 97 {
			t.Errorf("%s agrees with Suricata in %.1f%% of events (want ≥ 97%%)", k, pct)
		}
	}
}

func itoa(v int) string {
	var b []byte
	return string(appendInt(b, v))
}

func appendInt(b []byte, v int) []byte {
	if v >= 10 {
		b = appendInt(b, v/10)
	}
	return append(b, byte('0'+v%10))
}
