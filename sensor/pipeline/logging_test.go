package pipeline

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// runRuleText runs tr through ReadFile with the given rules and config
// changes and returns the EVE events, decoded generically, and the log
// directory.
func runRuleText(t *testing.T, ruleText string, tr *traffic, edit func(*Config)) ([]map[string]any, string) {
	t.Helper()
	dir := t.TempDir()
	rf := filepath.Join(dir, "test.rules")
	if err := os.WriteFile(rf, []byte(ruleText), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := LoadRules(RuleConfig{Files: []string{rf}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Errors {
		t.Fatalf("rule refused: %v", e)
	}
	cfg := testConfig()
	cfg.EVE.Stats = false
	if edit != nil {
		edit(cfg)
	}
	pcap := tr.write(filepath.Join(dir, "in.pcap"))
	if _, err := ReadFile(t.Context(), pcap, Options{Config: cfg, LogDir: dir, Engine: res.Engine}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "eve.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%v\n%s", err, sc.Text())
		}
		evs = append(evs, e)
	}
	return evs, dir
}

// field follows a dotted path through a decoded event.
func field(e map[string]any, path string) any {
	var v any = e
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// alertsAt lists the alerts as "SID@PCAP_CNT", sorted.
func alertsAt(evs []map[string]any) []string {
	var out []string
	for _, e := range evs {
		if e["event_type"] == "alert" {
			out = append(out, jsonNum(field(e, "alert.signature_id"))+"@"+jsonNum(e["pcap_cnt"]))
		}
	}
	slices.Sort(out)
	return out
}

func jsonNum(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return "-"
}

func countType(evs []map[string]any, typ string) int {
	n := 0
	for _, e := range evs {
		if e["event_type"] == typ {
			n++
		}
	}
	return n
}

// TestInspectionTiming: in IDS mode (the default) the request side of an
// HTTP transaction is inspected on the client's first packet after the
// server acknowledged the request, as Suricata does (suricata-verify
// bug-78-http-uri); inline, on the packet that completed it. pkt_data in
// an app-layer rule is that packet's payload.
func TestInspectionTiming(t *testing.T) {
	const rules = `alert http any any -> any any (msg:"uri"; http.uri; content:"/admin"; sid:1;)
alert http any any -> any any (msg:"uri and pkt_data"; http.uri; content:"/admin"; pkt_data; content:"User-Agent|3a| EvilBot"; sid:2;)
alert http any any -> any any (msg:"status"; flow:to_client; http.stat_code; content:"200"; sid:3;)
`
	traffic := func(t *testing.T) *traffic {
		tr := newTraffic(t)
		c := tr.connect(addrClient+":40000", addrServer+":80")                                  // packets 1-3
		c.send(clientToServer, "GET /admin HTTP/1.1\r\nHost: h\r\nUser-Agent: EvilBot\r\n\r\n") // 4, server's ACK 5
		c.send(serverToClient, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc", "def")        // 6, 7 (client), 8, 9
		c.close()                                                                               // 10-12
		return tr
	}
	for _, tc := range []struct {
		name   string
		inline bool
		ips    bool
		want   []string
	}{
		{"IDS: on the client's packet after the server's ACK", false, false, []string{"1@7", "3@8"}},
		{"inline: on the request's packet", true, false, []string{"1@4", "2@4", "3@8"}},
		{"IPS mode is inline", false, true, []string{"1@4", "2@4", "3@8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, _ := runRuleText(t, rules, traffic(t), func(c *Config) {
				c.Inline = tc.inline
				c.Rules.IPS = tc.ips
			})
			if got := alertsAt(evs); !slices.Equal(got, tc.want) {
				t.Errorf("alerts %q, want %q", got, tc.want)
			}
		})
	}

	// Never acknowledged (a one-sided capture): inspected when the
	// transaction is logged, at the end of the flow.
	tr := newTraffic(t)
	c := tr.connect(addrClient+":40000", addrServer+":80")
	c.segment(clientToServer, "PA", []byte("GET /admin HTTP/1.1\r\nHost: h\r\n\r\n")) // 4
	c.segment(clientToServer, "A", nil)                                               // 5
	evs, _ := runRuleText(t, rules, tr, nil)
	if got := alertsAt(evs); len(got) != 1 || !strings.HasPrefix(got[0], "1@") {
		t.Errorf("unacknowledged request: alerts %q, want sid 1 once", got)
	}
}

// TestConditionalLogging: a config rule with "logging disable, type tx,
// scope tx" keeps the transactions it matches out of EVE (http and
// fileinfo, dns) without alerting; other transactions of the same flow
// are logged and flow.tx_cnt still counts them all (suricata-verify
// cond-log-http-testmyids).
func TestConditionalLogging(t *testing.T) {
	const rules = `config http any any -> any any (http.host; content:"skip.example"; config:logging disable, type tx, scope tx; sid:1;)
config dns any any -> any any (dns.query; content:"skip"; config:logging disable, type tx, scope tx; sid:2;)
alert http any any -> any any (msg:"any uri"; http.uri; content:"/x"; sid:3;)
`
	tr := newTraffic(t)
	c := tr.connect(addrClient+":40000", addrServer+":80")
	c.send(clientToServer, "GET /x HTTP/1.1\r\nHost: skip.example\r\n\r\n")
	c.send(serverToClient, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
	c.send(clientToServer, "GET /x HTTP/1.1\r\nHost: keep.example\r\n\r\n")
	c.send(serverToClient, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nho")
	c.close()
	tr.udp(addrClient+":40001", "10.0.0.53:53", dnsQuery(1, "skip.example", false))
	tr.udp(addrClient+":40002", "10.0.0.53:53", dnsQuery(2, "keep.example", false))
	evs, _ := runRuleText(t, rules, tr, nil)

	var hosts, files, queries []string
	for _, e := range evs {
		switch e["event_type"] {
		case "http":
			hosts = append(hosts, field(e, "http.hostname").(string))
		case "fileinfo":
			files = append(files, field(e, "http.hostname").(string))
		case "dns":
			for _, q := range field(e, "dns.queries").([]any) {
				queries = append(queries, q.(map[string]any)["rrname"].(string))
			}
		case "flow":
			if e["proto"] == "TCP" && jsonNum(field(e, "flow.tx_cnt")) != "2" {
				t.Errorf("flow.tx_cnt = %v, want 2", field(e, "flow.tx_cnt"))
			}
		}
	}
	if !slices.Equal(hosts, []string{"keep.example"}) || !slices.Equal(files, []string{"keep.example"}) {
		t.Errorf("http events for %q, fileinfo for %q; want keep.example only", hosts, files)
	}
	if !slices.Equal(queries, []string{"keep.example"}) {
		t.Errorf("dns events for %q, want keep.example only", queries)
	}
	if got := alertsAt(evs); len(got) != 2 || !strings.HasPrefix(got[0], "3@") || !strings.HasPrefix(got[1], "3@") {
		t.Errorf("alerts %q: want sid 3 on both transactions, nothing from config rules", got)
	}
}

// TestFileInfo: fileinfo events for HTTP bodies, in the direction they
// travelled, with the configured checksums, before the http event.
func TestFileInfo(t *testing.T) {
	tr := newTraffic(t)
	c := tr.connect(addrClient+":40000", addrServer+":80")
	c.send(clientToServer, "POST /upload.php?id=1 HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
	c.send(serverToClient, "HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Length: 8\r\n\r\n%PDF-1.4")
	c.close()
	evs, _ := runRuleText(t, "", tr, func(c *Config) {
		c.HTTP.FileHashes = 1 // http.HashMD5
	})
	var got []string
	for _, e := range evs {
		switch e["event_type"] {
		case "http":
			got = append(got, "http")
		case "fileinfo":
			got = append(got, strings.Join([]string{
				field(e, "src_ip").(string), field(e, "fileinfo.filename").(string), field(e, "fileinfo.state").(string),
				jsonNum(field(e, "fileinfo.size")), field(e, "fileinfo.md5").(string), jsonNum(field(e, "fileinfo.tx_id")),
			}, " "))
		}
	}
	sum := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	want := []string{
		addrClient + " /upload.php CLOSED 5 " + sum("hello") + " 0",
		addrServer + " report.pdf CLOSED 8 " + sum("%PDF-1.4") + " 0",
		"http",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}

	evs, _ = runRuleText(t, "", tr, func(c *Config) { c.EVE.Files, c.HTTP.Files = false, false })
	if n := countType(evs, "fileinfo"); n != 0 {
		t.Errorf("%d fileinfo events with files off", n)
	}
}

// TestFastLog: fast.log gets one line per alert, appended to across runs
// or truncated at start when append is off; EVE alerts being off does not
// turn it off.
func TestFastLog(t *testing.T) {
	dir := t.TempDir()
	rf := filepath.Join(dir, "test.rules")
	if err := os.WriteFile(rf, []byte(`alert http any any -> any any (msg:"admin uri"; http.uri; content:"/admin"; classtype:bad-unknown; sid:7; rev:2;)
alert udp any any -> any any (msg:"knock"; content:"knock"; sid:8;)
`), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := LoadRules(RuleConfig{Files: []string{rf}})
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("load rules: %v %v", err, res.Errors)
	}
	tr := newTraffic(t)
	c := tr.connect(addrClient+":40000", addrServer+":80")
	c.send(clientToServer, "GET /admin HTTP/1.1\r\nHost: h\r\n\r\n")
	c.send(serverToClient, "HTTP/1.1 204 No Content\r\n\r\n")
	c.close()
	tr.udp(addrClient+":40001", addrServer+":9", "knock knock")
	pcap := tr.write(filepath.Join(dir, "in.pcap"))
	run := func(appendLog bool) []string {
		t.Helper()
		cfg := testConfig()
		cfg.EVE.Stats, cfg.EVE.Alert = false, false
		cfg.Fast = FastConfig{Enabled: true, Filename: "alerts.log", Append: appendLog}
		if _, err := ReadFile(t.Context(), pcap, Options{Config: cfg, LogDir: dir, Engine: res.Engine}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "alerts.log"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	lines := run(true)
	want := []string{
		"  [**] [1:7:2] admin uri [**] [Classification: (null)] [Priority: 3] {TCP} 10.0.0.1:40000 -> 203.0.113.10:80",
		"  [**] [1:8:0] knock [**] [Classification: (null)] [Priority: 3] {UDP} 10.0.0.1:40001 -> 203.0.113.10:9",
	}
	if len(lines) != len(want) {
		t.Fatalf("fast.log has %d lines, want %d:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "04/21/2024-12:00:00.") || !strings.HasSuffix(l, want[i]) {
			t.Errorf("line %d: %q, want a 04/21/2024 time and %q", i+1, l, want[i])
		}
	}
	if n := len(run(true)); n != 4 {
		t.Errorf("append: %d lines after a second run, want 4", n)
	}
	if n := len(run(false)); n != 2 {
		t.Errorf("append: no: %d lines after a third run, want 2", n)
	}
}
