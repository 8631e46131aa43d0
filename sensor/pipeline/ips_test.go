package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/polder-nsm/polder/sensor/capture"
	"github.com/polder-nsm/polder/sensor/detect"
)

// ipsEvent is the part of an EVE line the IPS tests read.
type ipsEvent struct {
	EventType string `json:"event_type"`
	FlowID    uint64 `json:"flow_id"`
	DestPort  int    `json:"dest_port"`
	SrcPort   int    `json:"src_port"`
	PcapCnt   int    `json:"pcap_cnt"`
	Direction string `json:"direction"`
	Alert     *struct {
		SID    uint32 `json:"signature_id"`
		Action string `json:"action"`
	} `json:"alert"`
	Drop *struct {
		Reason string `json:"reason"`
		Syn    bool   `json:"syn"`
	} `json:"drop"`
	Flow *struct {
		Action string `json:"action"`
	} `json:"flow"`
	Stats *struct {
		IPS map[string]json.RawMessage `json:"ips"`
	} `json:"stats"`
}

// runIPS runs tr through ReadFile with testdata/rules/ips.rules, in IPS
// mode when ips is set, and returns the events and the stats event's ips
// counters (nil when absent).
func runIPS(t *testing.T, tr *traffic, ips bool, tweak func(*Config)) ([]ipsEvent, map[string]uint64) {
	t.Helper()
	res, err := LoadRules(RuleConfig{Files: []string{filepath.Join("testdata", "rules", "ips.rules")}, IPS: ips})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Errors {
		t.Fatalf("rule refused: %v", e)
	}
	dir := t.TempDir()
	pcap := tr.write(filepath.Join(dir, "in.pcap"))
	cfg := testConfig()
	cfg.Rules.IPS = ips
	cfg.EVE.StatsZeros = false
	if tweak != nil {
		tweak(cfg)
	}
	if _, err := ReadFile(t.Context(), pcap, Options{Config: cfg, LogDir: dir, Engine: res.Engine}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "eve.json"))
	if err != nil {
		t.Fatal(err)
	}
	var evs []ipsEvent
	var counters map[string]uint64
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e ipsEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%v\n%s", err, line)
		}
		evs = append(evs, e)
		if e.Stats != nil && e.Stats.IPS != nil {
			counters = map[string]uint64{}
			flattenCounters(t, "", e.Stats.IPS, counters)
		}
	}
	return evs, counters
}

func flattenCounters(t *testing.T, prefix string, m map[string]json.RawMessage, out map[string]uint64) {
	for k, v := range m {
		var n uint64
		if err := json.Unmarshal(v, &n); err == nil {
			out[prefix+k] = n
			continue
		}
		var sub map[string]json.RawMessage
		if err := json.Unmarshal(v, &sub); err != nil {
			t.Fatalf("stats ips.%s%s: %s", prefix, k, v)
		}
		flattenCounters(t, prefix+k+".", sub, out)
	}
}

// ipsSummary renders the alerts and drops of the events, in order:
// "alert SID ACTION port", "drop REASON port DIRECTION [SID]", and flow
// records with an action: "flow ACTION port".
func ipsSummary(evs []ipsEvent) []string {
	var out []string
	for _, e := range evs {
		port := e.DestPort // the rules' ports are 8000-8999
		if e.SrcPort >= 8000 && e.SrcPort < 9000 {
			port = e.SrcPort
		}
		switch e.EventType {
		case "alert":
			out = append(out, "alert "+itoa(int(e.Alert.SID))+" "+e.Alert.Action+" "+itoa(port))
		case "drop":
			s := "drop " + e.Drop.Reason + " " + itoa(port) + " " + e.Direction
			if e.Alert != nil {
				s += " " + itoa(int(e.Alert.SID)) + "/" + e.Alert.Action
			}
			out = append(out, s)
		case "flow":
			if e.Flow.Action != "" {
				out = append(out, "flow "+e.Flow.Action+" "+itoa(port))
			}
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestIPS(t *testing.T) {
	tests := []struct {
		name     string
		traffic  func(tr *traffic)
		allFlows bool // drop flows: all
		want     []string
		counters map[string]uint64
	}{{
		// The handshake's empty client packets are dropped one by one;
		// the flow goes on, and its data is inspected.
		name: "packet scope",
		traffic: func(tr *traffic) {
			c := tr.connect(addrClient+":40000", addrServer+":8001")
			c.send(clientToServer, "DATA")
		},
		want: []string{
			"alert 8001 blocked 8001", "drop rules 8001 to_server 8001/blocked", // SYN
			"alert 8001 blocked 8001", "drop rules 8001 to_server 8001/blocked", // ACK
			"alert 8002 allowed 8001",
		},
		counters: map[string]uint64{"accepted": 3, "blocked": 2, "drop_reason.rules": 2},
	}, {
		// An IP-only drop takes the flow: later packets are dropped as
		// "flow drop", logged once per direction, and not inspected.
		name: "flow scope, flows start",
		traffic: func(tr *traffic) {
			tr.udp("198.51.100.66:5000", addrServer+":8003", "first")
			tr.udp("198.51.100.66:5000", addrServer+":8003", "later")
			tr.udp(addrServer+":8003", "198.51.100.66:5000", "later back")
			tr.udp(addrServer+":8003", "198.51.100.66:5000", "later back again")
		},
		want: []string{
			"alert 8003 blocked 8003", "drop rules 8003 to_server 8003/blocked",
			"drop flow drop 8003 to_client",
			"flow drop 8003",
		},
		counters: map[string]uint64{"blocked": 4, "drop_reason.rules": 1, "drop_reason.flow_drop": 3},
	}, {
		name:     "flow scope, flows all",
		allFlows: true,
		traffic: func(tr *traffic) {
			tr.udp("198.51.100.66:5000", addrServer+":8003", "first")
			tr.udp("198.51.100.66:5000", addrServer+":8003", "later")
			tr.udp(addrServer+":8003", "198.51.100.66:5000", "later back")
		},
		want: []string{
			"alert 8003 blocked 8003", "drop rules 8003 to_server 8003/blocked",
			"drop flow drop 8003 to_server", "drop flow drop 8003 to_client",
			"flow drop 8003",
		},
		counters: map[string]uint64{"blocked": 3, "drop_reason.rules": 1, "drop_reason.flow_drop": 2},
	}, {
		// A stream match drops the flow: the next segment is not
		// reassembled or inspected.
		name: "stream match drops the flow",
		traffic: func(tr *traffic) {
			c := tr.connect(addrClient+":40000", addrServer+":8005")
			c.send(clientToServer, "EXPLOIT")
			c.send(clientToServer, "MORE")
		},
		want: []string{
			"alert 8005 blocked 8005", "drop rules 8005 to_server 8005/blocked",
			"drop flow drop 8005 to_client", // the server's ACK
			"flow drop 8005",
		},
	}, {
		name: "noalert drops quietly",
		traffic: func(tr *traffic) {
			tr.udp(addrClient+":40000", addrServer+":8007", "q")
		},
		want:     []string{"drop rules 8007 to_server 8007/blocked"},
		counters: map[string]uint64{"blocked": 1, "drop_reason.rules": 1},
	}, {
		name: "reject",
		traffic: func(tr *traffic) {
			tr.udp(addrClient+":40000", addrServer+":8008", "r")
		},
		want:     []string{"alert 8008 blocked 8008", "drop rules 8008 to_server 8008/blocked"},
		counters: map[string]uint64{"rejected": 1, "drop_reason.rules": 1},
	}, {
		name: "threshold-suppressed matches still drop",
		traffic: func(tr *traffic) {
			for range 3 {
				tr.udp(addrClient+":40000", addrServer+":8009", "l")
			}
		},
		want: []string{
			"alert 8009 blocked 8009", "drop rules 8009 to_server 8009/blocked",
			"drop rules 8009 to_server 8009/blocked",
			"drop rules 8009 to_server 8009/blocked",
		},
		counters: map[string]uint64{"blocked": 3, "drop_reason.rules": 3},
	}, {
		name: "detection_filter ignores its first matches",
		traffic: func(tr *traffic) {
			for range 3 {
				tr.udp(addrClient+":40000", addrServer+":8010", "f")
			}
		},
		want:     []string{"alert 8010 blocked 8010", "drop rules 8010 to_server 8010/blocked"},
		counters: map[string]uint64{"accepted": 2, "blocked": 1, "drop_reason.rules": 1},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTraffic(t)
			tc.traffic(tr)
			evs, counters := runIPS(t, tr, true, func(c *Config) {
				c.EVE.Drop, c.EVE.DropAlerts, c.EVE.DropAllFlows = true, true, tc.allFlows
			})
			if d := cmp.Diff(tc.want, ipsSummary(evs)); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			if tc.counters != nil {
				if d := cmp.Diff(tc.counters, counters); d != "" {
					t.Errorf("stats.ips (-want +got):\n%s", d)
				}
			}
		})
	}
}

// TestIDSMode: without IPS mode drop rules only alert ("allowed"), reject
// rules alert "blocked", nothing is dropped and there are no ips counters.
func TestIDSMode(t *testing.T) {
	tr := newTraffic(t)
	tr.udp("198.51.100.66:5000", addrServer+":8003", "first")
	tr.udp("198.51.100.66:5000", addrServer+":8003", "later")
	tr.udp(addrClient+":40000", addrServer+":8008", "r")
	evs, counters := runIPS(t, tr, false, func(c *Config) { c.EVE.Drop = true })
	// The IP-only rule alerts once per flow direction.
	want := []string{"alert 8003 allowed 8003", "alert 8004 allowed 8003", "alert 8008 blocked 8008"}
	got := ipsSummary(evs)
	slices.Sort(want)
	slices.Sort(got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if counters != nil {
		t.Errorf("stats.ips in IDS mode: %v", counters)
	}
}

// TestIPSCountersWithZeros: every ips counter Suricata registers is
// written when null values are on.
func TestIPSCountersWithZeros(t *testing.T) {
	tr := newTraffic(t)
	tr.udp(addrClient+":40000", addrServer+":9999", "nothing")
	_, counters := runIPS(t, tr, true, func(c *Config) { c.EVE.StatsZeros = true })
	var names []string
	for n := range counters {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"accepted", "blocked", "rejected", "replaced"}
	for r := dropReason(1); r < numDropReasons; r++ {
		want = append(want, strings.TrimPrefix(dropReasonStats[r], "ips."))
	}
	slices.Sort(want)
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("ips counters (-want +got):\n%s", d)
	}
	if counters["accepted"] != 1 {
		t.Errorf("accepted = %d, want 1", counters["accepted"])
	}
}

// TestNoAllocsIPS: in IPS mode, packets dropped by a rule (alert, drop
// event with its alert) and packets of a dropped flow (drop event) cost no
// heap allocation once the flows exist.
func TestNoAllocsIPS(t *testing.T) {
	res, err := LoadRules(RuleConfig{Files: []string{filepath.Join("testdata", "rules", "ips.rules")}, IPS: true})
	if err != nil || len(res.Errors) > 0 {
		t.Fatal(err, res.Errors)
	}
	tr := newTraffic(t)
	tr.udp("198.51.100.66:5000", addrServer+":8003", "first")
	tr.udp("198.51.100.66:5000", addrServer+":8003", "later")
	c := tr.connect(addrClient+":40000", addrServer+":8001")
	c.send(clientToServer, "DATA")
	replay := []capture.Frame{tr.frames[1], tr.frames[4]} // a packet of the dropped flow, the client's empty ACK

	cfg := testConfig()
	cfg.EVE.Stats = false
	cfg.Rules.IPS = true
	cfg.EVE.Drop, cfg.EVE.DropAlerts, cfg.EVE.DropAllFlows = true, true, true
	cfg.EVE.Netflow = true
	out, err := newOutput(cfg, Options{LogDir: t.TempDir()}, "wire/pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer out.close()
	w := newWorker(cfg, out)
	sh, err := res.Engine.NewShared(nil)
	if err != nil {
		t.Fatal(err)
	}
	w.det = detect.NewThread(res.Engine, sh)
	for i := range tr.frames {
		w.handleFrame(&tr.frames[i])
	}
	before := w.ips.blocked
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		f := replay[i%len(replay)]
		w.handleFrame(&f)
		i++
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per dropped packet, want 0", allocs)
	}
	if w.ips.blocked-before < 1000 {
		t.Errorf("%d packets blocked while replaying 1000+ dropped packets", w.ips.blocked-before)
	}
}
