package threshold

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/polder-nsm/polder/sensor/rules"
)

var (
	t0 = time.Unix(1_700_000_000, 0).UTC()
	hA = netip.MustParseAddr("10.0.0.1")
	hB = netip.MustParseAddr("10.0.0.2")
	hC = netip.MustParseAddr("192.168.1.7")
)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// sigOf parses a rule and returns its Sig.
func sigOf(t testing.TB, rule string) *Sig {
	t.Helper()
	r, err := rules.Parse(rule)
	if err != nil {
		t.Fatalf("parse %q: %v", rule, err)
	}
	return &Sig{GID: r.GID, SID: r.SID, Threshold: r.Threshold, DetectionFilter: r.DetectionFilter}
}

// newTable loads threshold.config text.
func newTable(t testing.TB, config string, o Options) *Table {
	t.Helper()
	entries, errs := rules.ReadThresholds(strings.NewReader(config), "threshold.config")
	if len(errs) > 0 {
		t.Fatalf("threshold.config: %v", errs)
	}
	tb, err := New(entries, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tb
}

// verdictLetters runs events through one signature and returns one
// letter per match: A alert, S suppressed, I ignore; a rate_filter's new
// action follows in brackets.
func verdictLetters(tb *Table, sig *Sig, evs []Event) string {
	var b strings.Builder
	for _, ev := range evs {
		v, a := tb.Check(sig, ev)
		b.WriteByte("?ASI"[min(int(v), 3)])
		if a != 0 {
			b.WriteString("[" + a.String() + "]")
		}
	}
	return b.String()
}

// seq returns n events one second apart from A to B in flow 1.
func seq(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{Now: at(float64(i)), Src: hA, Dst: hB, FlowID: 1}
	}
	return evs
}

func TestRuleKeywords(t *testing.T) {
	for _, tc := range []struct {
		name, opt string
		evs       []Event
		want      string
	}{
		{"limit 1", "threshold:type limit, track by_flow, count 1, seconds 60;", seq(4), "ASSS"},
		{"limit 2", "threshold:type limit, track by_src, count 2, seconds 60;", seq(4), "AASS"},
		{"threshold 3 every 3rd", "threshold:type threshold, track by_src, count 3, seconds 60;", seq(7), "IIAIIAI"},
		{"threshold 1", "threshold:type threshold, track by_src, count 1, seconds 60;", seq(3), "AAA"},
		{"both 3", "threshold:type both, track by_src, count 3, seconds 60;", seq(6), "IIASSS"},
		{"both 1", "threshold:type both, track by_rule, count 1, seconds 60;", seq(3), "ASS"},
		{"detection_filter 2", "detection_filter:track by_src, count 2, seconds 60;", seq(5), "IIAAA"},
		{"backoff 1x10", "threshold:type backoff, track by_flow, count 1, multiplier 10;", seq(12), "ASSSSSSSSASS"},
		{"backoff 1x2", "threshold:type backoff, track by_flow, count 1, multiplier 2;", seq(9), "AASASSSAS"},
		{"backoff 5x5: no action on the first match", "threshold:type backoff, track by_flow, count 5, multiplier 5;", seq(6), "ISSSAS"},
		// Windows are fixed from the first match: at 10 s the window of 10 s
		// has closed and a new one opens.
		{"limit window", "threshold:type limit, track by_src, count 1, seconds 10;",
			[]Event{{Now: at(0), Src: hA}, {Now: at(5), Src: hA}, {Now: at(9.999), Src: hA}, {Now: at(10), Src: hA}, {Now: at(15), Src: hA}, {Now: at(20), Src: hA}},
			"ASSASA"},
		{"threshold window restarts the count", "threshold:type threshold, track by_src, count 2, seconds 10;",
			[]Event{{Now: at(0), Src: hA}, {Now: at(11), Src: hA}, {Now: at(12), Src: hA}, {Now: at(13), Src: hA}},
			"IIAI"},
		{"detection_filter is not sliding", "detection_filter:track by_src, count 2, seconds 10;",
			[]Event{{Now: at(0), Src: hA}, {Now: at(8), Src: hA}, {Now: at(9), Src: hA}, {Now: at(11), Src: hA}, {Now: at(12), Src: hA}},
			"IIAII"},
		// Tracking.
		{"by_src keys on the source", "threshold:type limit, track by_src, count 1, seconds 60;",
			[]Event{{Now: at(0), Src: hA, Dst: hB}, {Now: at(1), Src: hB, Dst: hA}, {Now: at(2), Src: hA, Dst: hC}, {Now: at(3), Src: hC, Dst: hA}},
			"AASA"},
		{"by_dst keys on the destination", "threshold:type limit, track by_dst, count 1, seconds 60;",
			[]Event{{Now: at(0), Src: hA, Dst: hB}, {Now: at(1), Src: hB, Dst: hA}, {Now: at(2), Src: hC, Dst: hB}},
			"AAS"},
		{"by_both is the unordered pair", "threshold:type limit, track by_both, count 1, seconds 60;",
			[]Event{{Now: at(0), Src: hA, Dst: hB}, {Now: at(1), Src: hB, Dst: hA}, {Now: at(2), Src: hA, Dst: hC}},
			"ASA"},
		{"by_flow keys on the flow", "threshold:type limit, track by_flow, count 1, seconds 60;",
			[]Event{{Now: at(0), Src: hA, Dst: hB, FlowID: 1}, {Now: at(1), Src: hB, Dst: hA, FlowID: 1}, {Now: at(2), Src: hA, Dst: hB, FlowID: 2}},
			"ASA"},
		{"by_rule counts everything", "threshold:type limit, track by_rule, count 2, seconds 60;",
			[]Event{{Now: at(0), Src: hA, FlowID: 1}, {Now: at(1), Src: hB, FlowID: 2}, {Now: at(2), Src: hC, FlowID: 3}},
			"AAS"},
		{"no key, no thresholding", "threshold:type limit, track by_flow, count 1, seconds 60;",
			[]Event{{Now: at(0)}, {Now: at(1)}},
			"AA"},
		{"IPv4-mapped IPv6 is IPv4", "threshold:type limit, track by_src, count 1, seconds 60;",
			[]Event{{Now: at(0), Src: hA}, {Now: at(1), Src: netip.AddrFrom16(hA.As16())}},
			"AS"},
		// A rule with both keywords evaluates them in order and stops at
		// the first verdict that is not Alert.
		{"detection_filter then limit", "detection_filter:track by_src, count 1, seconds 60; threshold:type limit, track by_src, count 2, seconds 60;",
			seq(5), "IAASS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := sigOf(t, "alert ip any any -> any any ("+tc.opt+" sid:1;)")
			tb := newTable(t, "", Options{})
			if got := verdictLetters(tb, sig, tc.evs); got != tc.want {
				t.Errorf("verdicts %s, want %s", got, tc.want)
			}
		})
	}
}

// icmpRequests are the 8 ICMP echo requests (one flow) of the
// threshold-rule-flow pcap, icmp.pcap, at their capture times.
func icmpRequests() []Event {
	src, dst := netip.MustParseAddr("192.168.0.89"), netip.MustParseAddr("192.168.0.1")
	var evs []Event
	for _, us := range []int64{
		1309144887_024263, 1309144887_024291, 1309144888_024534, 1309144888_024850,
		1309144889_025473, 1309144889_025498, 1309144890_026576, 1309144890_026605,
	} {
		evs = append(evs, Event{Now: time.UnixMicro(us), Src: src, Dst: dst, FlowID: 7})
	}
	return evs
}

// dsizeZero are the 19 dsize:0 TCP packets of http-all-headers/input.pcap
// (one flow): true for the client 145.254.160.237, false for the server
// 65.208.228.223, with capture times in microseconds.
var dsizeZero = []struct {
	us     int64
	client bool
}{
	{1084443427_311224, true}, {1084443428_222534, false}, {1084443428_222534, true},
	{1084443428_783340, false}, {1084443429_123830, true}, {1084443429_324118, true},
	{1084443429_864896, true}, {1084443430_125270, true}, {1084443430_325558, true},
	{1084443430_806249, true}, {1084443431_126710, true}, {1084443431_527286, true},
	{1084443431_667488, true}, {1084443431_807689, true}, {1084443432_328438, true},
	{1084443445_216971, false}, {1084443445_216971, true}, {1084443457_374452, true},
	{1084443457_704928, false},
}

func httpAllHeaders() []Event {
	c, s := netip.MustParseAddr("145.254.160.237"), netip.MustParseAddr("65.208.228.223")
	var evs []Event
	for _, p := range dsizeZero {
		ev := Event{Now: time.UnixMicro(p.us), Src: s, Dst: c, FlowID: 3}
		if p.client {
			ev.Src, ev.Dst = c, s
		}
		evs = append(evs, ev)
	}
	return evs
}

// TestSuricataVerify encodes the checks of the suricata-verify threshold
// tests: the same rules and threshold.config over the matches their pcaps
// produce. alerts counts Alert verdicts; acted counts matches whose action
// takes effect (Alert or Suppressed) with the resulting action drop, the
// EVE "drop" events of the IPS tests.
func TestSuricataVerify(t *testing.T) {
	type want struct {
		sid    uint32
		alerts int
		drops  int // -1: not checked
	}
	for _, tc := range []struct {
		name   string
		rules  []string
		config string
		evs    []Event
		want   []want
	}{
		{
			name: "threshold/threshold-rule-flow",
			rules: []string{
				`alert icmp any any -> any any (itype:8; sid:1;)`,
				`alert icmp any any -> any any (itype:8; threshold:type limit, track by_flow, count 1, seconds 3600; sid:2;)`,
				`alert icmp any any -> any any (itype:8; threshold:type limit, track by_flow, count 2, seconds 3600; sid:3;)`,
				`alert icmp any any -> any any (itype:8; threshold:type both, track by_flow, count 3, seconds 3600; sid:4;)`,
			},
			evs:  icmpRequests(),
			want: []want{{1, 8, -1}, {2, 1, -1}, {3, 2, -1}, {4, 1, -1}},
		},
		{
			name: "threshold/detection_filter-rule-flow",
			rules: []string{
				`alert icmp any any -> any any (itype:8; sid:1;)`,
				`alert icmp any any -> any any (itype:8; detection_filter:track by_flow, count 1, seconds 3600; sid:2;)`,
				`alert icmp any any -> any any (itype:8; detection_filter:track by_flow, count 2, seconds 3600; sid:3;)`,
				`alert icmp any any -> any any (itype:8; detection_filter:track by_flow, count 4, seconds 3600; sid:4;)`,
				`alert icmp any any -> any any (itype:8; detection_filter:track by_flow, count 7, seconds 3600; sid:5;)`,
				`alert icmp any any -> any any (itype:8; detection_filter:track by_flow, count 8, seconds 3600; sid:6;)`,
			},
			evs:  icmpRequests(),
			want: []want{{1, 8, -1}, {2, 7, -1}, {3, 6, -1}, {4, 4, -1}, {5, 1, -1}, {6, 0, -1}},
		},
		{
			name:   "threshold/threshold-config-threshold-limit-flow",
			rules:  []string{`alert tcp any any -> any any (dsize:0; sid: 1000001;)`},
			config: "threshold gen_id 1, sig_id 1000001, type limit, track by_flow, count 1, seconds 60\n",
			evs:    httpAllHeaders(),
			want:   []want{{1000001, 1, -1}},
		},
		{
			name:   "threshold/threshold-config-suppress-bysrc-ip",
			rules:  []string{`drop tcp any any -> any any (dsize:0; sid: 1000001;)`},
			config: "suppress gen_id 1, sig_id 1000001, track by_src, ip 145.254.160.237\n",
			evs:    httpAllHeaders(),
			want:   []want{{1000001, 4, 19}},
		},
		{
			name:   "threshold/threshold-config-suppress-bydst-ip",
			rules:  []string{`drop tcp any any -> any any (dsize:0; sid: 1000001;)`},
			config: "suppress gen_id 1, sig_id 1000001, track by_dst, ip 145.254.160.237\n",
			evs:    httpAllHeaders(),
			want:   []want{{1000001, 15, 19}},
		},
		{
			// The first match of each direction keeps the rule's drop; the
			// rest are alerts with the new action "alert".
			name:   "threshold/threshold-config-rate-filter-alert-hostsrc",
			rules:  []string{`drop tcp any any -> any any (dsize:0; sid: 1000001;)`},
			config: "rate_filter gen_id 1, sig_id 1000001, track by_src, count 1, seconds 60, new_action alert, timeout 1000\n",
			evs:    httpAllHeaders(),
			want:   []want{{1000001, 19, 2}},
		},
		{
			// The pcap's http rule matches more than 3 times; by_rule limit 3.
			name:   "threshold-config-byrule",
			rules:  []string{`alert http any any -> any any (msg:"toto"; sid: 1000001;)`},
			config: "threshold gen_id 1, sig_id 1000001, type limit, track by_rule, count 3, seconds 1000\n",
			evs:    seq(6),
			want:   []want{{1000001, 3, -1}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTable(t, tc.config, Options{})
			for _, w := range tc.want {
				var rule *rules.Rule
				for _, s := range tc.rules {
					r, err := rules.Parse(s)
					if err != nil {
						t.Fatal(err)
					}
					if r.SID == w.sid {
						rule = r
					}
				}
				sig := &Sig{GID: rule.GID, SID: rule.SID, Threshold: rule.Threshold, DetectionFilter: rule.DetectionFilter}
				alerts, drops := 0, 0
				for _, ev := range tc.evs {
					v, a := tb.Check(sig, ev)
					if v == Alert {
						alerts++
					}
					action := rule.Action
					if a != 0 {
						action = a
					}
					if v != Ignore && action == rules.ActionDrop {
						drops++
					}
				}
				if alerts != w.alerts {
					t.Errorf("sid %d: %d alerts, want %d", w.sid, alerts, w.alerts)
				}
				if w.drops >= 0 && drops != w.drops {
					t.Errorf("sid %d: %d drops, want %d", w.sid, drops, w.drops)
				}
			}
		})
	}
}

func TestConfig(t *testing.T) {
	limitRule := "threshold:type limit, track by_src, count 1, seconds 60;"
	dfRule := "detection_filter:track by_src, count 1, seconds 60;"
	for _, tc := range []struct {
		name, config, opts string
		gid                uint32
		evs                []Event
		want               string
	}{
		{"plain suppress", "suppress gen_id 1, sig_id 1\n", "", 1, seq(2), "SS"},
		{"suppress another sid", "suppress gen_id 1, sig_id 2\n", "", 1, seq(2), "AA"},
		{"suppress all", "suppress gen_id 0, sig_id 0, track by_src, ip 10.0.0.0/8\n", "", 1, seq(2), "SS"},
		{"suppress gid wildcard, other gid", "suppress gen_id 3, sig_id 0\n", "", 1, seq(2), "AA"},
		{"suppress gid wildcard", "suppress gen_id 3, sig_id 0\n", "", 3, seq(2), "SS"},
		{"suppress before the rule's threshold, not counted", "suppress gen_id 1, sig_id 1, track by_src, ip 10.0.0.1\n", limitRule, 1,
			[]Event{{Now: at(0), Src: hA}, {Now: at(1), Src: hA}, {Now: at(2), Src: hB}, {Now: at(3), Src: hB}}, "SSAS"},
		{"suppress by_either", "suppress gen_id 1, sig_id 1, track by_either, ip 192.168.0.0/16\n", "", 1,
			[]Event{{Now: at(0), Src: hA, Dst: hB}, {Now: at(1), Src: hA, Dst: hC}, {Now: at(2), Src: hC, Dst: hA}}, "ASS"},
		{"suppress range", "suppress gen_id 1, sig_id 1, track by_dst, ip 10.0.0.2-10.0.0.9\n", "", 1,
			[]Event{{Now: at(0), Src: hB, Dst: hA}, {Now: at(1), Src: hA, Dst: hB}}, "AS"},
		{"suppress variable", "suppress gen_id 1, sig_id 1, track by_src, ip $EXTERNAL_NET\n", "", 1,
			[]Event{{Now: at(0), Src: hA}, {Now: at(1), Src: hC}, {Now: at(2), Src: netip.MustParseAddr("8.8.8.8")}}, "AAS"},
		{"suppress IPv6", "suppress gen_id 1, sig_id 1, track by_src, ip 2001:db8::/32\n", "", 1,
			[]Event{{Now: at(0), Src: netip.MustParseAddr("2001:db8::1")}, {Now: at(1), Src: hA}}, "SA"},
		{"threshold entry replaces the rule's threshold", "threshold gen_id 1, sig_id 1, type limit, track by_src, count 3, seconds 60\n", limitRule, 1, seq(4), "AAAS"},
		{"threshold entry replaces the rule's detection_filter", "event_filter gen_id 1, sig_id 1, type limit, track by_src, count 1, seconds 60\n", dfRule, 1, seq(3), "ASS"},
		{"threshold entry replaces the later keyword", "threshold gen_id 1, sig_id 1, type limit, track by_src, count 1, seconds 60\n", dfRule + " " + limitRule, 1, seq(3), "IAS"},
		{"the last threshold entry wins", "threshold gen_id 1, sig_id 1, type limit, track by_src, count 1, seconds 60\nthreshold gen_id 1, sig_id 1, type both, track by_src, count 2, seconds 60\n", "", 1, seq(3), "IAS"},
		{"wildcard threshold", "threshold gen_id 0, sig_id 0, type limit, track by_src, count 1, seconds 60\n", "", 1, seq(2), "AS"},
		{"wildcard does not override the rule", "threshold gen_id 0, sig_id 0, type limit, track by_src, count 3, seconds 60\n", limitRule, 1, seq(2), "AS"},
		{"specific beats wildcard", "threshold gen_id 1, sig_id 0, type limit, track by_src, count 1, seconds 60\nthreshold gen_id 1, sig_id 1, type limit, track by_src, count 2, seconds 60\n", "", 1, seq(3), "AAS"},
		{"first wildcard wins", "threshold gen_id 1, sig_id 0, type limit, track by_src, count 1, seconds 60\nthreshold gen_id 0, sig_id 0, type limit, track by_src, count 2, seconds 60\n", "", 1, seq(3), "ASS"},
		{"rate_filter ignored when the rule thresholds", "rate_filter gen_id 1, sig_id 1, track by_rule, count 1, seconds 60, new_action drop, timeout 10\n", limitRule, 1, seq(3), "ASS"},
		{"rate_filter", "rate_filter gen_id 1, sig_id 1, track by_rule, count 2, seconds 60, new_action drop, timeout 10\n", "", 1,
			[]Event{{Now: at(0)}, {Now: at(1)}, {Now: at(2)}, {Now: at(3)}, {Now: at(12)}, {Now: at(13)}},
			"AAA[drop]A[drop]A[drop]A[drop]"},
		// Activated at 2 s for 10 s; at 13 s the timeout has passed, the
		// window (60 s) still holds count+1 matches: the next match
		// re-activates. After the window, counting starts over.
		{"rate_filter timeout", "rate_filter gen_id 1, sig_id 1, track by_src, count 1, seconds 20, new_action reject, timeout 10\n", "", 1,
			[]Event{{Now: at(0), Src: hA}, {Now: at(2), Src: hA}, {Now: at(12), Src: hA}, {Now: at(13), Src: hA}, {Now: at(30), Src: hA}, {Now: at(40), Src: hA}, {Now: at(41), Src: hA}},
			"AA[reject]A[reject]A[reject]AA[reject]A[reject]"},
		{"rate_filter log does nothing", "rate_filter gen_id 1, sig_id 1, track by_rule, count 1, seconds 60, new_action log, timeout 10\n", "", 1, seq(3), "AAA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTable(t, tc.config, Options{Vars: rules.DefaultVars()})
			sig := sigOf(t, fmt.Sprintf("alert ip any any -> any any (%s gid:%d; sid:1;)", tc.opts, tc.gid))
			if got := verdictLetters(tb, sig, tc.evs); got != tc.want {
				t.Errorf("verdicts %s, want %s", got, tc.want)
			}
		})
	}
}

// TestSuppressList reads suppress lines whose ip is a list, commas and
// spaces included, as threshold.config writes them.
func TestSuppressList(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want string // for sources hA, hB, hC, 8.8.8.8
	}{
		{"[10.0.0.0/8, !10.0.0.2]", "SAAA"},
		{"[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]", "SSSA"},
		{"![10.0.0.1, 192.168.1.0/24]", "ASAS"},
		{"[!10.0.0.1]", "ASSS"},
		{"[$HOME_NET, !10.0.0.0/30]", "AASA"},
		{"[10.0.0.0/8, ![10.0.0.2, 10.0.0.1]]", "AAAA"},
		{"[[10.0.0.1, 10.0.0.2], !10.0.0.2]", "SAAA"},
	} {
		tb := newTable(t, "suppress gen_id 1, sig_id 1, track by_src, ip "+tc.ip+"\n", Options{Vars: rules.DefaultVars()})
		var evs []Event
		for i, a := range []netip.Addr{hA, hB, hC, netip.MustParseAddr("8.8.8.8")} {
			evs = append(evs, Event{Now: at(float64(i)), Src: a})
		}
		if got := verdictLetters(tb, &Sig{GID: 1, SID: 1}, evs); got != tc.want {
			t.Errorf("ip %s: verdicts %s, want %s", tc.ip, got, tc.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	entries := []rules.ThresholdEntry{
		{Kind: rules.ThresholdSuppress, Line: 1, GID: 0, SID: 5},
		{Kind: rules.ThresholdSuppress, Line: 2, GID: 1, SID: 5, Track: "by_src", IP: "$NOPE"},
		{Kind: rules.ThresholdThreshold, Line: 3, GID: 1, SID: 5, Type: "backoff", Track: "by_flow", Count: 1, Multiplier: 1},
		{Kind: rules.ThresholdSuppress, Line: 4, GID: 1, SID: 5, Track: "by_src", IP: "10.0.0.1"},
	}
	tb, err := New(entries, Options{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"line 1:", "line 2:", "undefined address variable $NOPE", "line 3:", "multiplier"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "line 4") {
		t.Errorf("good line reported: %v", err)
	}
	// The good entry is kept.
	sig := &Sig{GID: 1, SID: 5}
	if v, _ := tb.Check(sig, Event{Now: t0, Src: hA}); v != Suppressed {
		t.Errorf("good entry not applied: %v", v)
	}
}

func TestBoundsAndExpiry(t *testing.T) {
	sig := sigOf(t, "alert ip any any -> any any (threshold:type limit, track by_src, count 1, seconds 10; sid:1;)")
	tb := newTable(t, "", Options{MaxEntries: 3})
	host := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}) }
	for i := range 5 {
		tb.Check(sig, Event{Now: at(0), Src: host(i)})
	}
	st := tb.Stats()
	if st.Entries != 3 || st.Evicted != 2 || st.Expired != 0 {
		t.Fatalf("after 5 hosts in 3 entries: %+v", st)
	}
	// host 0 was evicted: it counts from scratch (evicting host 2).
	if v, _ := tb.Check(sig, Event{Now: at(1), Src: host(0)}); v != Alert {
		t.Errorf("evicted host: %v, want alert", v)
	}
	// host 4 is live: suppressed.
	if v, _ := tb.Check(sig, Event{Now: at(1), Src: host(4)}); v != Suppressed {
		t.Errorf("live host: %v, want suppressed", v)
	}
	tb.Sweep(at(20))
	if st := tb.Stats(); st.Entries != 0 || st.Evicted != 3 || st.Expired != 3 {
		t.Errorf("after sweep: %+v", st)
	}
	// Check drops expired entries as it goes.
	for i := range 3 {
		tb.Check(sig, Event{Now: at(30), Src: host(i)})
	}
	tb.Check(sig, Event{Now: at(50), Src: host(9)})
	if st := tb.Stats(); st.Entries != 2 || st.Evicted != 3 || st.Expired != 5 {
		t.Errorf("expired entries evicted instead of expired: %+v", st)
	}
}

func TestNoFiltersDoesNotLock(t *testing.T) {
	tb := newTable(t, "", Options{})
	sig := &Sig{GID: 1, SID: 9}
	tb.mu.Lock() // Check must not need the lock
	v, a := tb.Check(sig, Event{Now: t0, Src: hA})
	tb.mu.Unlock()
	if v != Alert || a != 0 {
		t.Errorf("got %v %v", v, a)
	}
}

func TestCheckAllocs(t *testing.T) {
	tb := newTable(t, "suppress gen_id 1, sig_id 1, track by_src, ip 192.168.0.0/16\n", Options{})
	sig := sigOf(t, "alert ip any any -> any any (threshold:type limit, track by_src, count 1, seconds 10; sid:1;)")
	ev := Event{Now: t0, Src: hA, Dst: hB}
	tb.Check(sig, ev)
	allocs := testing.AllocsPerRun(1000, func() {
		ev.Now = ev.Now.Add(time.Millisecond)
		tb.Check(sig, ev)
	})
	if allocs != 0 {
		t.Errorf("Check allocates %v times per call", allocs)
	}
}

func TestConcurrent(t *testing.T) {
	tb := newTable(t, "threshold gen_id 1, sig_id 2, type limit, track by_rule, count 100, seconds 3600\n", Options{MaxEntries: 64})
	sigs := []*Sig{
		sigOf(t, "alert ip any any -> any any (threshold:type both, track by_src, count 5, seconds 1; sid:1;)"),
		{GID: 1, SID: 2},
	}
	var wg sync.WaitGroup
	alerts := make([]int, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				ev := Event{Now: at(float64(i) / 100), Src: netip.AddrFrom4([4]byte{10, 0, byte(w), byte(i % 200)}), FlowID: uint64(i)}
				if v, _ := tb.Check(sigs[i%2], ev); v == Alert && i%2 == 1 {
					alerts[w]++
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for _, a := range alerts {
		total += a
	}
	if total != 100 {
		t.Errorf("by_rule limit 100 shared by 4 workers: %d alerts", total)
	}
	if st := tb.Stats(); st.Entries > 64 {
		t.Errorf("%d entries, limit 64", st.Entries)
	}
}

func BenchmarkCheck(b *testing.B) {
	tb := newTable(b, "suppress gen_id 1, sig_id 1, track by_src, ip 192.168.0.0/16\nsuppress gen_id 1, sig_id 1, track by_dst, ip 172.16.0.0/12\n", Options{})
	sig := sigOf(b, "alert ip any any -> any any (threshold:type limit, track by_src, count 1, seconds 60; sid:1;)")
	ev := Event{Now: t0, Src: hA, Dst: hB}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.Now = t0.Add(time.Duration(i) * time.Microsecond)
		ev.Src = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8 & 3), byte(i)})
		tb.Check(sig, ev)
	}
}

func BenchmarkCheckNoFilter(b *testing.B) {
	tb := newTable(b, "", Options{})
	sig := &Sig{GID: 1, SID: 1}
	ev := Event{Now: t0, Src: hA, Dst: hB}
	b.ReportAllocs()
	for b.Loop() {
		tb.Check(sig, ev)
	}
}
