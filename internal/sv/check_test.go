package sv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// eveFixture is a small hand-made eve.json: two alerts, an http event with
// headers, a dns response, two flows (one with VLANs) and two stats events.
const eveFixture = `{"event_type":"alert","pcap_cnt":4,"src_ip":"10.0.0.1","alert":{"signature_id":1,"action":"allowed","metadata":{"x":["a","b"]}},"http":{"hostname":"www.google.com","status":404}}
{"event_type":"alert","pcap_cnt":5,"alert":{"signature_id":2,"action":"allowed"}}
{"event_type":"http","tx_id":0,"http":{"hostname":"www.google.com","url":"/blah/","status":404,"request_headers":[{"name":"Host","value":"www.google.com"},{"name":"Accept","value":"*/*"}]}}
{"event_type":"dns","dns":{"type":"response","flags":"81a0","answers":[{"rrname":"a.example","rrtype":"CNAME","ttl":60},{"rrname":"b.example","rrtype":"A","ttl":244}],"grouped":{"A":["192.0.2.1"]}}}
{"event_type":"flow","vlan":[1,10],"flow":{"alerted":true,"state":"closed"},"tcp":{"tcp_flags":"1e"}}
{"event_type":"flow","vlan":[6],"flow":{"alerted":false}}
{"event_type":"stats","stats":{"decoder":{"pkts":1}}}
{"event_type":"stats","stats":{"decoder":{"pkts":7,"tcp":7},"app_layer":{"flow":{"tls":5}}}}
`

// checksFrom parses the checks: list of a test.yaml snippet.
func checksFrom(t *testing.T, src string) *Test {
	t.Helper()
	tt := &Test{}
	if err := tt.parse([]byte(src)); err != nil {
		t.Fatalf("parse test.yaml: %v", err)
	}
	return tt
}

func writeEVE(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "eve.json"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestEvaluateChecks(t *testing.T) {
	dir := writeEVE(t, eveFixture)
	tt := checksFrom(t, `
requires:
  min-version: 7
checks:
  - filter:                       # 1 pass: count
      count: 2
      match:
        event_type: alert
  - filter:                       # 2 fail: count differs
      count: 1
      match:
        event_type: alert
  - filter:                       # 3 pass: nested and array paths
      count: 1
      match:
        event_type: dns
        dns.answers[1].rrname: b.example
        dns.answers[1].ttl: 244
        dns.grouped.A[0]: 192.0.2.1
        dns.flags: 81a0
  - filter:                       # 4 pass: a whole list
      count: 1
      match:
        event_type: flow
        vlan: [1, 10]
  - filter:                       # 5 pass: a whole dict must be equal
      count: 1
      match:
        event_type: alert
        http:
          hostname: www.google.com
          status: 404
  - filter:                       # 6 pass: a subset dict is not equal
      count: 0
      match:
        event_type: http
        http:
          hostname: www.google.com
  - filter:                       # 7 pass: has-key / not-has-key
      count: 1
      match:
        event_type: alert
        has-key: alert.metadata.x
        not-has-key: alert.engine
  - filter:                       # 8 pass: array index under a nested key
      count: 1
      match:
        alert.metadata.x[1]: b
  - filter:                       # 9 pass: __len, bool, hex-looking string
      count: 1
      match:
        http.request_headers.__len: 2
        http.request_headers[0].value: www.google.com
  - filter:                       # 10 pass: yes is a YAML 1.1 boolean
      count: 1
      match:
        flow.alerted: yes
        tcp.tcp_flags: 1e
  - filter:                       # 11 gated: check min-version above 8
      min-version: 9
      count: 99
      match:
        event_type: alert
  - filter:                       # 12 gated: lt-version 8
      lt-version: 8
      count: 99
      match:
        event_type: alert
  - filter:                       # 13 pass: lt-version 9 runs
      lt-version: 9
      count: 2
      match:
        event_type: alert
  - filter:                       # 14 gated: feature polder lacks
      requires:
        features: [HAVE_LUA]
      count: 99
      match:
        event_type: alert
  - filter:                       # 15 pass: feature polder has
      requires:
        features: [HAVE_JA3]
      count: 2
      match:
        event_type: flow
  - filter:                       # 16 fail: repeats the test's min-version (run.py lint)
      min-version: 7
      count: 2
      match:
        event_type: alert
  - stats:                        # 17 pass: the last stats event
      decoder.pkts: 7
      app_layer.flow.tls: 5
  - stats:                        # 18 fail
      decoder.tcp: 8
  - shell:                        # 19 fail: there is no fast.log, so 0 lines
      args: cat fast.log 2>/dev/null | wc -l | xargs
      expect: 1
  - filter:                       # 20 pass: string operators
      count: 1
      match:
        event_type: http
        http.url.__startswith: /bl
        http.hostname.__find: google
  - filter:                       # 21 fail: missing count compares as None
      match:
        event_type: http
  - filter:                       # 22 unsupported: EVE type polder lacks
      count: 1
      match:
        event_type: smb
`)
	want := []Outcome{Pass, Fail, Pass, Pass, Pass, Pass, Pass, Pass, Pass, Pass, Gated, Gated, Pass, Gated, Pass, Fail, Pass, Fail, Fail, Pass, Fail, Unsupported}
	res := Evaluate(dir, tt.Checks, EvalOptions{Env: Env{Version: DefaultVersion, Features: DefaultFeatures}, TestMinVersion: tt.Requires.MinVersion})
	if len(res) != len(want) {
		t.Fatalf("got %d results, want %d", len(res), len(want))
	}
	for i, r := range res {
		if r.Outcome != want[i] {
			t.Errorf("check %d: %v (%s), want %v", r.Num, r.Outcome, r.Msg, want[i])
		}
	}
	if msg := res[1].Msg; !strings.Contains(msg, "expected 1 matches; got 2") {
		t.Errorf("check 2 message %q does not say what was found", msg)
	}
	if msg := res[17].Msg; msg != "stats.decoder.tcp: expected 8; got 7" {
		t.Errorf("check 18 message %q", msg)
	}
}

func TestEvaluateRulesIgnored(t *testing.T) {
	dir := writeEVE(t, eveFixture)
	tt := checksFrom(t, `
checks:
  - filter:
      count: 1
      match:
        event_type: alert
        alert.signature_id: 1
  - filter:
      count: 1
      match:
        event_type: flow
        flow.alerted: true
  - filter:
      count: 1
      match:
        event_type: http
`)
	base := EvalOptions{Env: Env{Version: DefaultVersion}}
	for _, tc := range []struct {
		name string
		opts func(EvalOptions) EvalOptions
		want []Outcome
	}{
		{"no rules", func(o EvalOptions) EvalOptions { return o }, []Outcome{Pass, Pass, Pass}},
		{"rules, no detection", func(o EvalOptions) EvalOptions { o.HasRules = true; return o }, []Outcome{NeedsRules, NeedsRules, Pass}},
		{"rules change output", func(o EvalOptions) EvalOptions {
			o.HasRules, o.RulesChangeOutput = true, "config:"
			return o
		}, []Outcome{NeedsRules, NeedsRules, NeedsRules}},
		{"detection", func(o EvalOptions) EvalOptions { o.HasRules, o.Detection = true, true; return o }, []Outcome{Pass, Pass, Pass}},
	} {
		res := Evaluate(dir, tt.Checks, tc.opts(base))
		for i, r := range res {
			if r.Outcome != tc.want[i] {
				t.Errorf("%s: check %d: %v (%s), want %v", tc.name, r.Num, r.Outcome, r.Msg, tc.want[i])
			}
		}
	}
}

func TestEvaluateBadEVE(t *testing.T) {
	tt := checksFrom(t, "checks:\n  - filter:\n      count: 0\n      match:\n        event_type: alert\n")
	for name, content := range map[string]string{
		"truncated line": `{"event_type":"flow"}` + "\n" + `{"event_type":`,
		"empty line":     `{"event_type":"flow"}` + "\n\n",
	} {
		res := Evaluate(writeEVE(t, content), tt.Checks, EvalOptions{Env: Env{Version: DefaultVersion}})
		if res[0].Outcome != Fail {
			t.Errorf("%s: %v, want fail", name, res[0].Outcome)
		}
	}
	res := Evaluate(t.TempDir(), tt.Checks, EvalOptions{Env: Env{Version: DefaultVersion}})
	if res[0].Outcome != Fail || !strings.Contains(res[0].Msg, "does not exist") {
		t.Errorf("missing eve.json: %v %q", res[0].Outcome, res[0].Msg)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     []Outcome
		want   Status
		reason string
	}{
		{"no checks", nil, Passed, ""},
		{"all pass", []Outcome{Pass, Pass}, Passed, ""},
		{"pass and gated", []Outcome{Pass, Gated}, Passed, ""},
		{"all gated", []Outcome{Gated}, Skipped, "every check gated"},
		{"fail wins", []Outcome{NeedsRules, Fail, Unsupported}, Failed, "#2"},
		{"needs rules", []Outcome{Pass, NeedsRules}, Skipped, "needs rule engine"},
		{"unsupported", []Outcome{Pass, Unsupported}, Skipped, "needs"},
	} {
		var checks []CheckResult
		for i, o := range tc.in {
			checks = append(checks, CheckResult{Num: i + 1, Kind: KindFilter, Outcome: o})
		}
		s, reason := classify(checks)
		if s != tc.want || !strings.Contains(reason, tc.reason) {
			t.Errorf("%s: %v %q, want %v containing %q", tc.name, s, reason, tc.want, tc.reason)
		}
	}
}

func TestRulesChangeOutput(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ rules, want string }{
		"config":    {`config http any any -> any any (http.host; content:"test"; config:logging disable, type tx, scope tx; sid:1;)`, "config:"},
		"bypass":    {`alert tcp any any -> any any (bypass; content:"GET "; sid:1;)`, "bypass;"},
		"plain":     {`alert http any any -> any any (msg:"config: bypass; in a message"; content:"x"; sid:1;)` + "\n# alert tcp any any -> any any (bypass; sid:2;)", ""},
		"filestore": {`alert http any any -> any any (filestore; sid:1;)`, "filestore"},
	} {
		f := filepath.Join(dir, name+".rules")
		if err := os.WriteFile(f, []byte(tc.rules), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := RulesChangeOutput([]string{f})
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}

func TestDependsOnDetection(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"event_type: alert", true},
		{"event_type: drop", true},
		{"alert.signature_id: 1", true},
		{"alert: {signature_id: 1}", true},
		{"flow.alerted: true", true},
		{"has-key: alert.engine", true},
		{"event_type: flow", false},
		{"event_type: http\n        http.url: /alert", false},
		{"has-key: stats.decoder.pkts", false},
	} {
		tt := checksFrom(t, "checks:\n  - filter:\n      count: 0\n      match:\n        "+tc.src+"\n")
		if got := DependsOnDetection(tt.Checks[0]); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.src, got, tc.want)
		}
	}
	tt := checksFrom(t, "checks:\n  - stats:\n      detect.alert: 1\n  - stats:\n      decoder.pkts: 1\n")
	if !DependsOnDetection(tt.Checks[0]) || DependsOnDetection(tt.Checks[1]) {
		t.Error("stats: detect.* depends on detection, decoder.* does not")
	}
}

func TestShellCheck(t *testing.T) {
	dir := writeEVE(t, eveFixture)
	if err := os.WriteFile(filepath.Join(dir, "fast.log"), []byte("line 1\nline 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, check string
		env         map[string]string
		want        Outcome
		msg         string
	}{
		{"count lines", "args: cat fast.log | wc -l | xargs\n      expect: 2", nil, Pass, ""},
		{"output is stripped", "args: printf '  2\\n\\n'\n      expect: 2", nil, Pass, ""},
		{"string expect", "args: head -1 fast.log\n      expect: line 1", nil, Pass, ""},
		{"python str of a bool", "args: echo True\n      expect: true", nil, Pass, ""},
		{"mismatch", "args: cat fast.log | wc -l | xargs\n      expect: 3", nil, Fail, `expected "3"; got "2"`},
		{"no expect: exit status only", "args: test -f fast.log", nil, Pass, ""},
		{"non-zero exit", "args: test -f suricata.log", nil, Fail, "failed: exit status 1"},
		{"runs in the output directory", `args: test "$(pwd)" = "$OUTPUT_DIR" && echo same` + "\n      expect: same", nil, Pass, ""},
		{"test environment", "args: echo $TEST_DIR $TZ\n      expect: /t UTC", map[string]string{"TEST_DIR": "/t"}, Pass, ""},
		{"gated by version", "args: exit 1\n      min-version: 99", nil, Gated, ""},
	} {
		tt := checksFrom(t, "checks:\n  - shell:\n      "+tc.check+"\n")
		env := map[string]string{"OUTPUT_DIR": dir}
		for k, v := range tc.env {
			env[k] = v
		}
		res := Evaluate(dir, tt.Checks, EvalOptions{Env: Env{Version: DefaultVersion}, ShellEnv: env})
		if res[0].Outcome != tc.want || !strings.Contains(res[0].Msg, tc.msg) {
			t.Errorf("%s: %v (%s), want %v with %q", tc.name, res[0].Outcome, res[0].Msg, tc.want, tc.msg)
		}
	}
	tt := checksFrom(t, "checks:\n  - shell:\n      args: sleep 5\n")
	res := Evaluate(dir, tt.Checks, EvalOptions{Env: Env{Version: DefaultVersion}, ShellTimeout: 50 * time.Millisecond})
	if res[0].Outcome != Fail || !strings.Contains(res[0].Msg, "killed after") {
		t.Errorf("timeout: %v (%s), want a failure", res[0].Outcome, res[0].Msg)
	}
	tt = checksFrom(t, "checks:\n  - shell:\n      args: cat fast.log | wc -l\n      expect: 1\n")
	res = Evaluate(dir, tt.Checks, EvalOptions{Env: Env{Version: DefaultVersion}, HasRules: true})
	if res[0].Outcome != NeedsRules {
		t.Errorf("fast.log without detection: %v (%s), want needs-rules", res[0].Outcome, res[0].Msg)
	}
}

// TestStringOperatorOnMissingField: run.py calls str methods on the value,
// so a missing field raises there and fails the test; it must not count as
// a plain non-match.
func TestStringOperatorOnMissingField(t *testing.T) {
	dir := writeEVE(t, eveFixture)
	tt := checksFrom(t, "checks:\n  - filter:\n      count: 0\n      match:\n        http.user_agent.__find: curl\n")
	res := Evaluate(dir, tt.Checks, EvalOptions{Env: Env{Version: DefaultVersion}})
	if res[0].Outcome != Fail {
		t.Errorf("%v (%s), want fail", res[0].Outcome, res[0].Msg)
	}
}
