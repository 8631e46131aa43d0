package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/polder-nsm/polder/internal/netnstest"
)

const (
	sidA = 1000001 // content "polder-A": the ruleset at start
	sidB = 1000002 // content "polder-B": the ruleset after the reload
)

// TestLiveReloadOverControl runs a live sensor (two fanout workers) on a
// veth pair, with rule A, and sends UDP packets carrying polder-A or
// polder-B on four flows. It switches to rule B through reload-rules on
// the control socket, sends more, then makes the rule file unreadable and
// reloads again, which must fail and keep rule B running. Every packet is
// tagged with its phase, flow and number, so the test checks the exact set
// of packets each rule alerted on: A's alerts are exactly the A packets
// before the reload, B's exactly the B packets after it (none lost, none
// inspected twice), and every packet sent is counted once in its flow.
func TestLiveReloadOverControl(t *testing.T) {
	netnstest.NeedRoot(t)
	v := netnstest.NewVethPair(t, "rl", 0)
	// A sink in the namespace, so that no ICMP port unreachable comes back.
	var sink net.PacketConn
	v.InNS(t, func() (err error) {
		sink, err = net.ListenPacket("udp4", netip.AddrPortFrom(v.InnerAddr, 9999).String())
		return err
	})
	t.Cleanup(func() { sink.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := sink.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	v.Up(t)

	dir := t.TempDir()
	ruleFile := filepath.Join(dir, "reload.rules")
	writeRules(t, ruleFile, fmt.Sprintf(`alert udp any any -> any any (msg:"rule A"; content:"polder-A"; sid:%d; rev:1;)`, sidA))
	cfg := testConfig()
	cfg.SetInterfaces([]string{v.Outer}, 2)
	cfg.Rules.Files = []string{ruleFile}
	cfg.EVE.StatsInterval = 200 * time.Millisecond // writes that flush eve.json while the test polls it
	cfg.EVE.AlertOptions.Payload = true
	cfg.EVE.AlertOptions.PayloadPrintable = true
	sock := filepath.Join(dir, "polder.socket")
	srv, err := ListenControl(ControlOptions{Path: sock, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	live, err := OpenLive(Options{Config: cfg, LogDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	runDone, serveDone := make(chan error, 1), make(chan error, 1)
	go func() { runDone <- live.Run(ctx) }()
	go func() { serveDone <- srv.Serve(ctx, live) }()
	time.Sleep(300 * time.Millisecond) // let the link come up

	const flows = 4
	var conns []net.Conn
	for range flows {
		c, err := net.Dial("udp4", netip.AddrPortFrom(v.InnerAddr, 9999).String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	sentPerFlow := map[string]int{} // "src_port" → packets sent
	want := map[int][]string{}      // sid → payloads that must alert
	// send sends one packet per letter of pattern on every flow, each with
	// a payload naming the rule it carries, the phase, the flow and the
	// packet; matching says which letter the running rule matches.
	send := func(phase, pattern, matching string) {
		t.Helper()
		for f, c := range conns {
			port := fmt.Sprint(c.LocalAddr().(*net.UDPAddr).Port)
			for i, r := range pattern {
				payload := fmt.Sprintf("polder-%c phase%s flow%d pkt%d", r, phase, f, i)
				if _, err := c.Write([]byte(payload)); err != nil {
					t.Fatal(err)
				}
				sentPerFlow[port]++
				if string(r) == matching {
					sid := sidA
					if r == 'B' {
						sid = sidB
					}
					want[sid] = append(want[sid], payload)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	eve := filepath.Join(dir, "eve.json")
	control := func(command string) *ControlReply {
		t.Helper()
		rep, err := Control(t.Context(), sock, command)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	// Phase 1: rule A. Each flow's last packet matches, and a worker
	// handles a flow's packets in order, so once every A alert is written,
	// every packet of the phase has been inspected.
	send("1", "BABA", "A")
	waitAlerts(t, eve, sidA, len(want[sidA]))

	// Reload to rule B, plus a rule the parser refuses.
	writeRules(t, ruleFile, fmt.Sprintf(`alert udp any any -> any any (msg:"rule B"; content:"polder-B"; sid:%d; rev:1;)
alert udp any any -> any any (msg:"broken"; content:"polder-C"; no_such_keyword; sid:1000003; rev:1;)`, sidB))
	rep := control("reload-rules")
	var rl ControlReload
	if !rep.OK() || json.Unmarshal(rep.Message, &rl) != nil {
		t.Fatalf("reload-rules: %s %s", rep.Return, rep.Text())
	}
	if rl.Loaded != 1 || rl.ErrorCount != 1 || len(rl.Errors) != 1 || !strings.Contains(rl.Errors[0], "reload.rules:2") || !strings.Contains(rl.Errors[0], "sid 1000003") {
		t.Errorf("reload-rules reply: %+v", rl)
	}
	if rep := control("ruleset-stats"); !rep.OK() || !strings.Contains(string(rep.Message), `"loaded":1`) {
		t.Errorf("ruleset-stats: %s %s", rep.Return, rep.Message)
	}
	if rep := control("ruleset-failed-rules"); !rep.OK() || !strings.Contains(rep.Text(), "sid 1000003") {
		t.Errorf("ruleset-failed-rules: %s %s", rep.Return, rep.Text())
	}

	// Phase 2: rule B, published before the reply: the very next packet
	// of every flow is inspected by it.
	send("2", "ABAB", "B")
	waitAlerts(t, eve, sidB, len(want[sidB]))

	// Phase 3: a reload that cannot read its rule file fails and keeps B.
	if err := os.Remove(ruleFile); err != nil {
		t.Fatal(err)
	}
	rep = control("reload-rules")
	if rep.OK() || !strings.Contains(rep.Text(), "keeping the running ruleset") || !strings.Contains(rep.Text(), "reload.rules") {
		t.Errorf("reload-rules with a missing rule file: %s %s", rep.Return, rep.Text())
	}
	send("3", "BAB", "B")
	waitAlerts(t, eve, sidB, len(want[sidB]))

	for _, c := range []string{"uptime", "version", "reopen-log-files"} {
		if rep := control(c); !rep.OK() {
			t.Errorf("%s: %s", c, rep.Text())
		}
	}

	time.Sleep(300 * time.Millisecond) // let anything unexpected arrive
	cancel()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	if err := <-serveDone; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("control socket left behind: %v", err)
	}

	got := map[int][]string{}
	pktsPerFlow := map[string]int{}
	var stats map[string]any
	for _, e := range readEVE(t, eve) {
		switch e["event_type"] {
		case "alert":
			a := e["alert"].(map[string]any)
			sid := int(a["signature_id"].(float64))
			got[sid] = append(got[sid], e["payload_printable"].(string))
		case "flow":
			if e["proto"] == "UDP" && e["dest_port"] == float64(9999) {
				f := e["flow"].(map[string]any)
				pktsPerFlow[fmt.Sprint(e["src_port"])] += int(f["pkts_toserver"].(float64) + f["pkts_toclient"].(float64))
			}
		case "stats":
			stats = e["stats"].(map[string]any)
		}
	}
	for _, sid := range []int{sidA, sidB} {
		slices.Sort(got[sid])
		slices.Sort(want[sid])
		if diff := cmp.Diff(want[sid], got[sid]); diff != "" {
			t.Errorf("alerts of sid %d (-want +got):\n%s", sid, diff)
		}
	}
	if extra := slices.DeleteFunc(slices.Collect(maps.Keys(got)), func(s int) bool { return s == sidA || s == sidB }); len(extra) > 0 {
		t.Errorf("alerts of unexpected sids %v", extra)
	}
	if diff := cmp.Diff(sentPerFlow, pktsPerFlow); diff != "" {
		t.Errorf("packets per flow (-sent +counted):\n%s", diff)
	}
	c, _ := stats["capture"].(map[string]any)
	d, _ := stats["decoder"].(map[string]any)
	if c == nil || d == nil {
		t.Fatalf("last stats event lacks capture or decoder counters: %v", stats)
	}
	if c["kernel_drops"] != nil && c["kernel_drops"] != float64(0) {
		t.Errorf("kernel dropped %v packets", c["kernel_drops"])
	}
	if c["kernel_packets"] != d["pkts"] {
		t.Errorf("kernel captured %v packets, decoder saw %v", c["kernel_packets"], d["pkts"])
	}
}

func writeRules(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitAlerts waits until eve.json holds n alerts of sid (the writer
// flushes about once a second while stats events keep it writing).
func waitAlerts(t *testing.T, path string, sid, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	got := 0
	for time.Now().Before(deadline) {
		got = countAlerts(path, sid)
		if got >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%d alerts of sid %d after 10 s, want %d", got, sid, n)
}

// countAlerts counts the alerts of sid in the complete lines of path.
func countAlerts(path string, sid int) int {
	b, _ := os.ReadFile(path)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	} else {
		return 0
	}
	n := 0
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		var e struct {
			EventType string `json:"event_type"`
			Alert     struct {
				SID int `json:"signature_id"`
			} `json:"alert"`
		}
		if json.Unmarshal(line, &e) == nil && e.EventType == "alert" && e.Alert.SID == sid {
			n++
		}
	}
	return n
}
