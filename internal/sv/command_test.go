package sv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCommandArgs(t *testing.T) {
	vars := map[string]string{"SRCDIR": "", "TEST_DIR": "/t/x", "OUTPUT_DIR": "/o/x", "SPACE": "a b"}
	for _, tc := range []struct {
		name, cmd string
		want      []string
		err       string
	}{
		{"test-bad-offset-distance-rule-1",
			`${SRCDIR}/src/suricata --set classification-file="${SRCDIR}/classification.config" --set reference-config-file="${SRCDIR}/reference.config" -l ${OUTPUT_DIR} -c ${TEST_DIR}/suricata.yaml -r ${TEST_DIR}/ -S ${TEST_DIR}/test.rules` + "\n",
			[]string{"--set", "classification-file=/classification.config", "--set", "reference-config-file=/reference.config", "-l", "/o/x", "-c", "/t/x/suricata.yaml", "-r", "/t/x/", "-S", "/t/x/test.rules"}, ""},
		{"quotes and escapes", `suricata -k 'none' "$SPACE" $SPACE x\ y "q\"q" '$SPACE'`,
			[]string{"-k", "none", "a b", "a", "b", "x y", `q"q`, "$SPACE"}, ""},
		{"continuation", "suricata -r a.pcap \\\n  -S b.rules", []string{"-r", "a.pcap", "-S", "b.rules"}, ""},
		{"unset variable", "suricata -S ${NOPE}x ${NOPE} -v", []string{"-S", "x", "-v"}, ""},
		{"comment", "suricata -v # and a comment", []string{"-v"}, ""},
		{"script", "python3 ${TEST_DIR}/run.py", nil, "runs python3, not suricata"},
		{"pipe", "suricata -r a.pcap | tee out", nil, "shell operator '|'"},
		{"two commands", "suricata -r a.pcap; suricata -r b.pcap", nil, "shell operator ';'"},
		{"two lines", "suricata -r a.pcap\nsuricata -r b.pcap\n", nil, "several commands"},
		{"substitution", "suricata -r $(ls *.pcap)", nil, "command substitution"},
		{"redirection", "suricata -r a.pcap > out.txt", nil, "shell operator '>'"},
		{"unterminated", `suricata "-r`, nil, "unterminated"},
	} {
		got, err := CommandArgs(tc.cmd, vars)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %q, %v; want error %q", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, %v\nwant %q", tc.name, got, err, tc.want)
		}
	}
}

func TestTranslateLogging(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"json/suricata.yaml":  "logging:\n  default-log-level: info\n  outputs:\n  - console:\n      enabled: yes\n  - file:\n      enabled: yes\n      filename: eve.json\n      type: json\n",
		"level/suricata.yaml": "logging:\n  outputs:\n  - file:\n      filename: eve.json\n      type: json\n      level: Warning\n",
		"other/suricata.yaml": "logging:\n  outputs:\n  - file:\n      filename: engine.json\n      type: json\n  - file:\n      filename: suricata.log\n",
		"off/suricata.yaml":   "logging:\n  outputs:\n  - file:\n      enabled: no\n      filename: eve.json\n      type: json\n",
	})
	for _, tc := range []struct {
		name, level  string
		engine       bool
		untranslated string
	}{
		{"json", "info", true, ""},
		{"level", "warning", true, ""},
		{"other", "info", false, "suricata.yaml: logging file output engine.json of type json (polder writes engine events into eve.json only)"},
		{"off", "info", false, ""},
	} {
		tr, err := Translate(&Test{Base: tc.name, SuricataYAML: filepath.Join(dir, tc.name, "suricata.yaml")}, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		e := tr.Config.Outputs.EVE
		if e.Types.Engine.Enabled != tc.engine || e.Enabled != tc.engine || tc.engine && e.Types.Engine.Level != tc.level {
			t.Errorf("%s: eve enabled %v, engine %+v; want engine %v at %s", tc.name, e.Enabled, e.Types.Engine, tc.engine, tc.level)
		}
		if tc.untranslated != "" && !slices.Contains(tr.Untranslated, tc.untranslated) {
			t.Errorf("%s: untranslated %q lacks %q", tc.name, tr.Untranslated, tc.untranslated)
		}
		if e.Types.Flow || e.Types.Alert.Enabled {
			t.Errorf("%s: the test's yaml has no eve-log, but types are on: %+v", tc.name, e.Types)
		}
	}
	// -c on a command line replaces the test's suricata.yaml.
	tr, err := Translate(&Test{Base: "x"}, []string{"-c", filepath.Join(dir, "json", "suricata.yaml"), "-S", "a.rules", "-s", "b.rules", "-r", "in.pcap", "-l", "/o"})
	if err != nil || !tr.Config.Outputs.EVE.Types.Engine.Enabled || !slices.Equal(tr.RuleFiles, []string{"a.rules", "b.rules"}) || !tr.RulesGiven || tr.ReadPath != "in.pcap" || tr.LogDir != "/o" {
		t.Errorf("command line: %+v, %v", tr, err)
	}
}

// exitSensor is a Sensor whose rules-only runs fail under
// --init-errors-fatal, as a ruleset with a bad rule does.
type exitSensor struct {
	eve   string
	specs []RunSpec
}

func (s *exitSensor) Detects() bool { return true }

func (s *exitSensor) Run(_ context.Context, spec RunSpec) error {
	s.specs = append(s.specs, spec)
	if err := os.WriteFile(filepath.Join(spec.OutDir, "eve.json"), []byte(s.eve), 0o644); err != nil {
		return err
	}
	if spec.RulesOnly && spec.InitErrorsFatal {
		return errors.New("--init-errors-fatal: 1 rules refused")
	}
	return nil
}

func TestRunCommandAndExitCode(t *testing.T) {
	engine := `{"event_type":"engine","engine":{"message":"m","module":"detect"}}` + "\n"
	root := writeFiles(t, map[string]string{
		"cmd/test.yaml": `command: |
  ${SRCDIR}/src/suricata --set classification-file="${SRCDIR}/classification.config" -l ${OUTPUT_DIR} -c ${TEST_DIR}/suricata.yaml -r ${TEST_DIR}/ -S ${TEST_DIR}/test.rules
checks:
  - filter:
      count: 1
      match:
        event_type: engine
        engine.module: detect
`,
		"cmd/suricata.yaml":       "logging:\n  outputs:\n  - file:\n      filename: eve.json\n      type: json\n",
		"cmd/test.rules":          "alert tcp any any -> any any (sid:1;)\n",
		"cmdpcap/test.yaml":       "command: suricata -r ${TEST_DIR}/in.pcap -l ${OUTPUT_DIR}\nchecks: []\n",
		"cmdpcap/in.pcap":         "",
		"analysis/test.yaml":      "requires:\n  pcap: false\nargs:\n  - --engine-analysis\nexit-code: 1\nchecks: []\n",
		"analysis/test.rules":     "alert tcp any any -> any any (sid:1;)\n",
		"wantfail/test.yaml":      "args:\n  - -k none\nexit-code: 1\nchecks: []\n",
		"wantfail/a.pcap":         "",
		"script/test.yaml":        "command: python3 ${TEST_DIR}/x.py\n",
		"nocapture/test.yaml":     "command: suricata --list-keywords\n",
		"twocaptures/test.yaml":   "command: suricata -r ${TEST_DIR}\n",
		"twocaptures/a.pcap":      "",
		"twocaptures/b.pcapng":    "",
		"unknownlogdir/test.yaml": "command: suricata -l /elsewhere -r ${TEST_DIR}/a.pcap\nchecks: []\n",
		"unknownlogdir/a.pcap":    "",
	})
	want := map[string]struct {
		status Status
		reason string
	}{
		"cmd":           {Passed, ""},
		"cmdpcap":       {Passed, ""},
		"analysis":      {Passed, ""},
		"wantfail":      {Failed, "polder exited with status 0, want 1"},
		"script":        {Skipped, "needs its own command line (runs python3, not suricata)"},
		"nocapture":     {Skipped, "its command reads no capture (-r)"},
		"twocaptures":   {Skipped, "reads 2 captures from a directory"},
		"unknownlogdir": {Passed, ""},
	}
	for name, w := range want {
		sensor := &exitSensor{eve: engine}
		r, err := RunTest(t.Context(), Options{Root: root, Out: t.TempDir(), Sensor: sensor, Env: Env{Version: DefaultVersion}}, Entry{Name: name})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Status != w.status || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("%s: %v (%s), want %v (%s)", name, r.Status, r.Reason, w.status, w.reason)
		}
		switch name {
		case "cmd":
			s := sensor.specs[0]
			if !s.RulesOnly || s.InitErrorsFatal || s.Pcap != "" || len(s.RuleFiles) != 1 || filepath.Base(s.RuleFiles[0]) != "test.rules" ||
				!s.Config.EVE.Engine {
				t.Errorf("cmd: spec %+v", s)
			}
		case "cmdpcap":
			s := sensor.specs[0]
			if s.RulesOnly || filepath.Base(s.Pcap) != "in.pcap" || len(s.RuleFiles) != 0 || s.InitErrorsFatal {
				t.Errorf("cmdpcap: spec %+v", s)
			}
		case "analysis":
			s := sensor.specs[0]
			if !s.RulesOnly || !s.InitErrorsFatal || len(s.RuleFiles) != 1 {
				t.Errorf("analysis: spec %+v", s)
			}
		case "unknownlogdir":
			if !slices.Contains(r.Untranslated, "-l /elsewhere (polder writes to the test's output directory)") {
				t.Errorf("unknownlogdir: untranslated %q", r.Untranslated)
			}
		}
	}
}

// TestPipelineSensorRulesOnly runs the real sensor in --engine-analysis
// mode: warnings land in suricata.log, and --init-errors-fatal turns them
// into a failure (exit status 1), as Suricata's refusal of the rule does.
func TestPipelineSensorRulesOnly(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"a/test.yaml": `requires:
  pcap: false
args:
  - --engine-analysis
exit-code: 1
checks:
  - shell:
      args: 'grep -c "signature can.t match as required content length 10 exceeds bsize value: 4" suricata.log'
      expect: 1
`,
		"a/test.rules": `alert http any any -> any any (msg:"never"; http.uri; content:"/index.php"; bsize:4; sid:1;)
alert http any any -> any any (msg:"fits"; http.uri; content:"/index.php"; bsize:10; sid:2;)
`,
	})
	out := t.TempDir()
	r, err := RunTest(t.Context(), Options{Root: root, Out: out, Sensor: PipelineSensor{}, Env: Env{Version: DefaultVersion}}, Entry{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(filepath.Join(out, "a", "suricata.log"))
	if r.Status != Passed {
		t.Errorf("%v (%s)\nsuricata.log:\n%s", r.Status, r.Reason, log)
	}
	if !strings.Contains(string(log), "1 rule files processed. 2 rules successfully loaded, 0 rules failed, 0 inactive, 1 can't match") {
		t.Errorf("suricata.log lacks the totals:\n%s", log)
	}
}
