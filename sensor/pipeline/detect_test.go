package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/polder-nsm/polder/sensor/detect"
	"github.com/polder-nsm/polder/sensor/flow"
)

// The rule-engine tests run hand-written rules (testdata/rules/*.rules)
// over small generated captures through ReadFile, and pin the alert EVE
// lines: signature id, source and destination as the alert reports them,
// direction, which application object the alert carries, and that
// flow.alerted is set on exactly the flows that alerted.

// eveEvent is the part of an EVE line these tests read.
type eveEvent struct {
	EventType string `json:"event_type"`
	FlowID    uint64 `json:"flow_id"`
	SrcIP     string `json:"src_ip"`
	SrcPort   int    `json:"src_port"`
	DestIP    string `json:"dest_ip"`
	DestPort  int    `json:"dest_port"`
	Proto     string `json:"proto"`
	AppProto  string `json:"app_proto"`
	Direction string `json:"direction"`
	ICMPType  *int   `json:"icmp_type"`
	Alert     *struct {
		SID      uint32 `json:"signature_id"`
		Action   string `json:"action"`
		Category string `json:"category"`
	} `json:"alert"`
	HTTP json.RawMessage `json:"http"`
	DNS  json.RawMessage `json:"dns"`
	TLS  json.RawMessage `json:"tls"`
	Flow *struct {
		Alerted bool   `json:"alerted"`
		State   string `json:"state"`
		Bypass  string `json:"bypass"`
	} `json:"flow"`
}

// summary is an alert as the tables write it:
// "SID SRC:PORT -> DST:PORT DIRECTION APP", APP the application object the
// alert carries (http, dns, tls) or "-".
func (e *eveEvent) summary() string {
	app := "-"
	switch {
	case e.HTTP != nil:
		app = "http"
	case e.DNS != nil:
		app = "dns"
	case e.TLS != nil:
		app = "tls"
	}
	return fmt.Sprintf("%d %s:%d -> %s:%d %s %s", e.Alert.SID, e.SrcIP, e.SrcPort, e.DestIP, e.DestPort, e.Direction, app)
}

// readEvents parses every line of an eve.json.
func readEvents(t *testing.T, path string) []eveEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []eveEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e eveEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v\n%s", path, err, sc.Text())
		}
		evs = append(evs, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return evs
}

// loadTestRules compiles one rules file of testdata/rules.
func loadTestRules(t *testing.T, name string) *RuleLoad {
	t.Helper()
	res, err := LoadRules(RuleConfig{Files: []string{filepath.Join("testdata", "rules", name)}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// runRules writes tr as a pcap, runs it through ReadFile with the rules of
// testdata/rules/name (which must all load) and returns the EVE events.
func runRules(t *testing.T, name string, tr *traffic) []eveEvent {
	t.Helper()
	res := loadTestRules(t, name)
	for _, e := range res.Errors {
		t.Errorf("rule refused: %v", e)
	}
	dir := t.TempDir()
	pcap := tr.write(filepath.Join(dir, "in.pcap"))
	cfg := testConfig()
	cfg.EVE.Stats = false
	if _, err := ReadFile(t.Context(), pcap, Options{Config: cfg, LogDir: dir, Engine: res.Engine}); err != nil {
		t.Fatal(err)
	}
	return readEvents(t, filepath.Join(dir, "eve.json"))
}

// alertSummaries returns the alerts' summaries, sorted, and checks that
// flow.alerted is set on exactly the flow records of flows that alerted.
func alertSummaries(t *testing.T, evs []eveEvent) []string {
	t.Helper()
	var got []string
	alerted := map[uint64]bool{}
	for i := range evs {
		if e := &evs[i]; e.EventType == "alert" {
			got = append(got, e.summary())
			alerted[e.FlowID] = true
		}
	}
	flows := 0
	for i := range evs {
		e := &evs[i]
		if e.EventType != "flow" {
			continue
		}
		flows++
		if e.Flow.Alerted != alerted[e.FlowID] {
			t.Errorf("flow %s:%d -> %s:%d %s: flow.alerted = %v, but the flow has %s",
				e.SrcIP, e.SrcPort, e.DestIP, e.DestPort, e.Proto, e.Flow.Alerted, map[bool]string{true: "alerts", false: "no alerts"}[alerted[e.FlowID]])
		}
		delete(alerted, e.FlowID)
	}
	for id := range alerted {
		if id != 0 {
			t.Errorf("alerts name flow_id %d, which has no flow record", id)
		}
	}
	if flows == 0 {
		t.Errorf("no flow records")
	}
	slices.Sort(got)
	return got
}

const (
	addrClient  = "10.0.0.1"
	addrClient2 = "10.0.0.9"
	addrServer  = "203.0.113.10"
)

func TestDetectRules(t *testing.T) {
	_, _, ja3Hash := clientHello("login.evil.test", []uint16{0x1301, 0x1302, 0xc02b}, []uint16{29, 23})
	if b, _ := os.ReadFile(filepath.Join("testdata", "rules", "tls.rules")); !strings.Contains(string(b), ja3Hash) {
		t.Fatalf("testdata/rules/tls.rules does not carry the JA3 hash %s of the ClientHello built here", ja3Hash)
	}

	tests := []struct {
		name    string
		rules   string
		traffic func(tr *traffic)
		want    []string
	}{{
		name:  "udp content",
		rules: "packet.rules",
		traffic: func(tr *traffic) {
			tr.udp(addrClient+":40000", addrServer+":5000", "say hello")
			tr.udp(addrServer+":5000", addrClient+":40000", "hello back") // dst port 40000: no match
			tr.udp(addrClient+":40001", addrServer+":5001", "hello")      // other port
		},
		want: []string{"1001 10.0.0.1:40000 -> 203.0.113.10:5000 to_server -"},
	}, {
		name:  "icmp itype",
		rules: "packet.rules",
		traffic: func(tr *traffic) {
			tr.icmp(addrClient, addrServer, 8, 0, "ping")
			tr.icmp(addrServer, addrClient, 0, 0, "ping")
		},
		want: []string{"1002 10.0.0.1:0 -> 203.0.113.10:0 to_server -"},
	}, {
		name:  "dsize both directions",
		rules: "packet.rules",
		traffic: func(tr *traffic) {
			tr.udp(addrClient+":40000", addrServer+":6000", strings.Repeat("a", 50))
			tr.udp(addrServer+":6000", addrClient+":40000", strings.Repeat("b", 200))
			tr.udp(addrClient+":40000", addrServer+":6000", strings.Repeat("c", 101))
			tr.udp(addrClient+":40000", addrServer+":6000", strings.Repeat("d", 100)) // not > 100
		},
		want: []string{
			"1003 10.0.0.1:40000 -> 203.0.113.10:6000 to_server -",
			"1004 203.0.113.10:6000 -> 10.0.0.1:40000 to_client -",
		},
	}, {
		name:  "tcp flags",
		rules: "packet.rules",
		traffic: func(tr *traffic) {
			c := tr.connect(addrClient+":40000", addrServer+":8080") // SYN matches, SYN/ACK does not (exact flags)
			c.send(clientToServer, "x")
			c.close()
		},
		want: []string{"1005 10.0.0.1:40000 -> 203.0.113.10:8080 to_server -"},
	}, {
		name:  "ip-only reputation list",
		rules: "iponly.rules",
		traffic: func(tr *traffic) {
			for range 3 { // once per flow direction, not per packet
				tr.udp("198.51.100.7:53000", "10.0.0.2:9999", "data")
			}
			tr.udp("10.0.0.2:9999", "198.51.100.7:53000", "reply") // reverse: source not listed
			c := tr.connect("192.0.2.44:41000", "10.0.0.2:22")
			c.send(clientToServer, "SSH-2.0-x\r\n")
			c.close()
			tr.udp("198.51.100.8:53000", "10.0.0.2:9999", "not listed")
			tr.udp("198.51.100.7:53000", "203.0.113.1:9999", "not to HOME_NET")
		},
		want: []string{
			"1101 192.0.2.44:41000 -> 10.0.0.2:22 to_server -",
			"1101 198.51.100.7:53000 -> 10.0.0.2:9999 to_server -",
		},
	}, {
		name:  "stream content in one segment",
		rules: "stream.rules",
		traffic: func(tr *traffic) {
			c := tr.connect(addrClient+":40000", addrServer+":8080")
			c.send(clientToServer, "hi RUNME now")
			c.close()
		},
		want: []string{"1202 10.0.0.1:40000 -> 203.0.113.10:8080 to_server -"},
	}, {
		// Suricata inspects the reassembled stream: a content split over
		// two segments matches.
		name:  "stream content across segments",
		rules: "stream.rules",
		traffic: func(tr *traffic) {
			c := tr.connect(addrClient+":40000", addrServer+":8080")
			c.send(clientToServer, "xx EVILCO", "MMAND yy")
			c.close()
		},
		want: []string{"1201 10.0.0.1:40000 -> 203.0.113.10:8080 to_server -"},
	}, {
		name:  "stream content split after a long segment",
		rules: "stream.rules",
		traffic: func(tr *traffic) {
			c := tr.connect(addrClient+":40000", addrServer+":8080")
			c.send(clientToServer, strings.Repeat("x", 1400)+"EVILCO", "MMAND yy")
			c.close()
		},
		want: []string{"1201 10.0.0.1:40000 -> 203.0.113.10:8080 to_server -"},
	}, {
		// A match in data inspected before is not reported again when the
		// next chunk is inspected together with it.
		name:  "stream match reported once",
		rules: "stream.rules",
		traffic: func(tr *traffic) {
			c := tr.connect(addrClient+":40000", addrServer+":8080")
			c.send(clientToServer, "hi RUNME", " more", " and more")
			c.close()
		},
		want: []string{"1202 10.0.0.1:40000 -> 203.0.113.10:8080 to_server -"},
	}, {
		// Each chunk carrying the content alerts, as in Suricata, where
		// every inspection of new stream data that matches raises one.
		name:  "stream content repeated in a later segment",
		rules: "stream.rules",
		traffic: func(tr *traffic) {
			c := tr.connect(addrClient+":40000", addrServer+":8080")
			c.send(clientToServer, "RUNME one", "RUNME two")
			c.close()
		},
		want: []string{
			"1202 10.0.0.1:40000 -> 203.0.113.10:8080 to_server -",
			"1202 10.0.0.1:40000 -> 203.0.113.10:8080 to_server -",
		},
	}, {
		name:  "flow to_client established",
		rules: "stream.rules",
		traffic: func(tr *traffic) {
			c := tr.connect(addrClient+":40000", addrServer+":8080")
			c.send(serverToClient, "WELCOME to the server")
			c.close()
		},
		want: []string{"1203 203.0.113.10:8080 -> 10.0.0.1:40000 to_client -"},
	}, {
		name:  "http sticky buffers",
		rules: "http.rules",
		traffic: func(tr *traffic) {
			c := tr.connect(addrClient+":40000", addrServer+":80")
			c.send(clientToServer, "GET /admin/login.php?user=x HTTP/1.1\r\nHost: evil.example\r\nUser-Agent: EvilBot/1.0\r\n\r\n")
			c.send(serverToClient, "HTTP/1.1 404 Not Found\r\nContent-Length: 20\r\nContent-Type: text/plain\r\n\r\nyour secret-token!!\n")
			c.close()
			d := tr.connect(addrClient+":40001", addrServer+":80") // nothing matches: other host, agent, status, body
			d.send(clientToServer, "GET /admin/login.php HTTP/1.1\r\nHost: www.evil.example\r\nUser-Agent: curl/8\r\n\r\n")
			d.send(serverToClient, "HTTP/1.1 302 Found\r\nContent-Length: 2\r\n\r\nok")
			d.close()
		},
		want: []string{
			"2001 10.0.0.1:40000 -> 203.0.113.10:80 to_server http",
			"2001 10.0.0.1:40001 -> 203.0.113.10:80 to_server http",
			"2002 10.0.0.1:40000 -> 203.0.113.10:80 to_server http",
			"2003 10.0.0.1:40000 -> 203.0.113.10:80 to_server http",
			"2004 203.0.113.10:80 -> 10.0.0.1:40000 to_client http",
			"2005 203.0.113.10:80 -> 10.0.0.1:40000 to_client http",
			// Not 2008: in IDS mode the request is inspected on a later
			// packet, whose payload (pkt_data) is not the request's; see
			// TestInspectionTiming.
		},
	}, {
		name:  "dns.query dotprefix",
		rules: "dns.rules",
		traffic: func(tr *traffic) {
			tr.udp(addrClient+":40000", "10.0.0.53:53", dnsQuery(1, "www.evil-domain.test", false))
			tr.udp("10.0.0.53:53", addrClient+":40000", dnsQuery(1, "www.evil-domain.test", true))
			tr.udp(addrClient+":40001", "10.0.0.53:53", dnsQuery(2, "EVIL-DOMAIN.test", false))
			tr.udp(addrClient+":40002", "10.0.0.53:53", dnsQuery(3, "notevil-domain.test", false))
		},
		want: []string{
			"3001 10.0.0.1:40000 -> 10.0.0.53:53 to_server dns",
			"3001 10.0.0.1:40001 -> 10.0.0.53:53 to_server dns",
		},
	}, {
		name:  "tls.sni and ja3.hash",
		rules: "tls.rules",
		traffic: func(tr *traffic) {
			hello, _, _ := clientHello("login.evil.test", []uint16{0x1301, 0x1302, 0xc02b}, []uint16{29, 23})
			c := tr.connect(addrClient+":40000", addrServer+":443")
			c.send(clientToServer, hello)
			c.send(serverToClient, serverHello(0xc02b))
			c.close()
		},
		want: []string{
			"4001 10.0.0.1:40000 -> 203.0.113.10:443 to_server tls",
			"4002 10.0.0.1:40000 -> 203.0.113.10:443 to_server tls",
		},
	}, {
		name:  "flowbits set and isset across packets",
		rules: "flowbits.rules",
		traffic: func(tr *traffic) {
			c := tr.connect(addrClient+":40000", addrServer+":8080")
			c.send(clientToServer, "LOGIN bob")
			c.send(serverToClient, "OK")
			c.close()
			d := tr.connect(addrClient+":40001", addrServer+":8080")
			d.send(clientToServer, "HELLO")
			d.send(serverToClient, "OK")
			d.close()
		},
		want: []string{
			"5002 203.0.113.10:8080 -> 10.0.0.1:40000 to_client -",
			"5003 203.0.113.10:8080 -> 10.0.0.1:40001 to_client -",
		},
	}, {
		name:  "threshold limit by_src",
		rules: "threshold.rules",
		traffic: func(tr *traffic) {
			for range 5 {
				tr.udp(addrClient+":40000", addrServer+":7000", "ping")
			}
			tr.udp(addrClient2+":40000", addrServer+":7000", "ping")
		},
		want: []string{
			"6001 10.0.0.1:40000 -> 203.0.113.10:7000 to_server -",
			"6001 10.0.0.1:40000 -> 203.0.113.10:7000 to_server -",
			"6001 10.0.0.9:40000 -> 203.0.113.10:7000 to_server -",
		},
	}, {
		name:  "pass stops later alerts on the flow",
		rules: "pass.rules",
		traffic: func(tr *traffic) {
			c := tr.connect(addrClient+":40000", addrServer+":8080")
			c.send(clientToServer, "TRUSTED EVIL", "EVIL again")
			c.close()
			d := tr.connect(addrClient+":40001", addrServer+":8080")
			d.send(clientToServer, "EVIL")
			d.close()
		},
		want: []string{"7002 10.0.0.1:40001 -> 203.0.113.10:8080 to_server -"},
	}, {
		name:  "bidirectional rule",
		rules: "address.rules",
		traffic: func(tr *traffic) {
			tr.udp(addrClient+":40000", addrServer+":7777", "sync")
			tr.udp(addrServer+":7777", addrClient+":40000", "sync")
			tr.udp(addrClient+":40001", "203.0.113.11:7777", "sync") // other host
		},
		want: []string{
			"9001 10.0.0.1:40000 -> 203.0.113.10:7777 to_server -",
			"9001 203.0.113.10:7777 -> 10.0.0.1:40000 to_client -",
		},
	}, {
		name:  "negated addresses",
		rules: "address.rules",
		traffic: func(tr *traffic) {
			tr.udp(addrServer+":40000", addrClient+":9000", "knock")
			tr.udp("10.0.0.5:40000", addrClient+":9000", "knock") // $EXTERNAL_NET excludes HOME_NET
			tr.udp("10.0.0.5:40000", addrServer+":9100", "knock") // !10.0.0.5
			tr.udp("10.0.0.6:40000", addrServer+":9100", "knock")
		},
		want: []string{
			"9002 203.0.113.10:40000 -> 10.0.0.1:9000 to_server -",
			"9003 10.0.0.6:40000 -> 203.0.113.10:9100 to_server -",
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTraffic(t)
			tc.traffic(tr)
			got := alertSummaries(t, runRules(t, tc.rules, tr))
			want := slices.Sorted(slices.Values(tc.want))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDetectBypass: a bypass rule alerts, marks the flow bypassed, and
// nothing after it on that flow is inspected (Suricata's local bypass).
// It runs the worker directly to see the flow's flags when the flow ends.
func TestDetectBypass(t *testing.T) {
	res := loadTestRules(t, "bypass.rules")
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	tr := newTraffic(t)
	c := tr.connect(addrClient+":40000", addrServer+":8080")
	c.send(clientToServer, "BULK one", "BULK two")
	c.close()
	d := tr.connect(addrClient+":40001", addrServer+":8080")
	d.send(clientToServer, "small")
	d.close()

	dir := t.TempDir()
	cfg := testConfig()
	cfg.EVE.Stats = false
	out, err := newOutput(cfg, Options{LogDir: dir}, "wire/pcap")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(cfg, out)
	sh, err := res.Engine.NewShared(nil)
	if err != nil {
		t.Fatal(err)
	}
	w.det = detect.NewThread(res.Engine, sh)
	bypassed := map[uint16]bool{}
	w.endFlow = func(fl *flow.Flow, why flow.EndReason) {
		bypassed[fl.Key.SrcPort] = fl.HasFlag(flow.FlagBypassed)
		w.flowEnd(fl, why)
	}
	for i := range tr.frames {
		w.handleFrame(&tr.frames[i])
	}
	w.finish()
	if err := out.close(); err != nil {
		t.Fatal(err)
	}
	if want := map[uint16]bool{40000: true, 40001: false}; !cmp.Equal(bypassed, want) {
		t.Errorf("bypass flag by client port = %v, want %v", bypassed, want)
	}
	if w.det.Counters.Bypass != 1 {
		t.Errorf("bypass counter = %d, want 1", w.det.Counters.Bypass)
	}
	evs := readEvents(t, filepath.Join(dir, "eve.json"))
	got := alertSummaries(t, evs)
	want := []string{"8001 10.0.0.1:40000 -> 203.0.113.10:8080 to_server -"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
	// Suricata logs a flow its rules bypassed with state "bypassed" and
	// bypass "local".
	for _, e := range evs {
		if e.EventType != "flow" {
			continue
		}
		state, bypass := "bypassed", "local"
		if e.SrcPort != 40000 {
			state, bypass = e.Flow.State, ""
		}
		if e.Flow.State != state || e.Flow.Bypass != bypass {
			t.Errorf("flow from port %d: state %q, bypass %q; want %q, %q", e.SrcPort, e.Flow.State, e.Flow.Bypass, state, bypass)
		}
	}
}

// TestDetectRefusals: rules the parser or the engine cannot take are
// refused with file:line, sid and keyword; the others load and run.
func TestDetectRefusals(t *testing.T) {
	res := loadTestRules(t, "refused.rules")
	file := filepath.Join("testdata", "rules", "refused.rules")
	type refusal struct {
		File    string
		Line    int
		SID     uint32
		Keyword string
	}
	var got []refusal
	for _, e := range res.Errors {
		got = append(got, refusal{e.File, e.Line, e.SID, e.Keyword})
		if s := e.Error(); !strings.HasPrefix(s, fmt.Sprintf("%s:%d:", file, e.Line)) ||
			!strings.Contains(s, fmt.Sprintf("sid %d: %s: ", e.SID, e.Keyword)) {
			t.Errorf("error text %q does not read \"file:line:col: sid N: keyword: msg\"", s)
		}
	}
	slices.SortFunc(got, func(a, b refusal) int { return a.Line - b.Line })
	want := []refusal{
		{file, 2, 9202, "frobnicate"},
		{file, 3, 9203, "flow.age"},
		{file, 4, 9204, "http.uri"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refusals (-want +got):\n%s", diff)
	}
	if st := res.Engine.Stats(); st.Loaded != 2 || st.Inactive != 0 {
		t.Errorf("loaded %d (inactive %d), want 2 (0)", st.Loaded, st.Inactive)
	}

	tr := newTraffic(t)
	tr.udp(addrClient+":40000", addrServer+":5000", "hello world")
	dir := t.TempDir()
	cfg := testConfig()
	cfg.EVE.Stats = false
	if _, err := ReadFile(context.Background(), tr.write(filepath.Join(dir, "in.pcap")), Options{Config: cfg, LogDir: dir, Engine: res.Engine}); err != nil {
		t.Fatal(err)
	}
	gotAlerts := alertSummaries(t, readEvents(t, filepath.Join(dir, "eve.json")))
	wantAlerts := []string{
		"9201 10.0.0.1:40000 -> 203.0.113.10:5000 to_server -",
		"9205 10.0.0.1:40000 -> 203.0.113.10:5000 to_server -",
	}
	if diff := cmp.Diff(wantAlerts, gotAlerts); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}
