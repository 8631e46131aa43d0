package sv

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/polder-nsm/polder/sensor/config"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadTest(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"other/input.pcap": "",
		"cat/t1/test.yaml": `
requires:
  min-version: 7
  features: [HAVE_JA3]
pcap: ../../other/input.pcap
args:
  - -k none --set stream.inline=true
  -  --set threshold-file=${TEST_DIR}/threshold.config
checks:
  - filter:
      count: 1
      match:
        event_type: alert
        alert.signature_id: 1
  - stats:
      decoder.pkts: 3
`,
		"cat/t1/b.rules": "",
		"cat/t1/a.rules": "",
	})
	tt, err := LoadTest(root, "cat/t1")
	if err != nil {
		t.Fatal(err)
	}
	if tt.Base != "t1" || tt.Name != "cat/t1" {
		t.Errorf("names %q %q", tt.Name, tt.Base)
	}
	if want := []string{"-k", "none", "--set", "stream.inline=true", "--set", "threshold-file=${TEST_DIR}/threshold.config"}; !slices.Equal(tt.Args, want) {
		t.Errorf("args %q, want %q", tt.Args, want)
	}
	if got := tt.SubstituteArgs("/out")[5]; got != "threshold-file="+tt.Dir+"/threshold.config" {
		t.Errorf("substituted %q", got)
	}
	pcap, err := tt.ResolvePcap()
	if err != nil || filepath.Base(pcap) != "input.pcap" || !strings.Contains(pcap, "other") {
		t.Errorf("pcap %q, %v", pcap, err)
	}
	if len(tt.RuleFiles) != 2 || filepath.Base(tt.RuleFiles[0]) != "a.rules" {
		t.Errorf("rules %q", tt.RuleFiles)
	}
	if len(tt.Checks) != 2 || tt.Checks[0].Filter.Match[1].Key != "alert.signature_id" || tt.Checks[1].Stats[0].Key != "decoder.pkts" {
		t.Errorf("checks %+v", tt.Checks)
	}
	if !pyEqual(tt.Requires.MinVersion, int64(7)) || !slices.Equal(tt.Requires.Features, []string{"HAVE_JA3"}) {
		t.Errorf("requires %+v", tt.Requires)
	}
	if _, err := selectRules(tt.RuleFiles, DefaultVersion); err == nil {
		t.Error("two rule files that are not firewall+td: no error")
	}
}

func TestTranslateDefaults(t *testing.T) {
	tr, err := Translate(&Test{Base: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := tr.Config
	if c.Stream.Midstream {
		t.Error("midstream on; Suricata's default is off")
	}
	ty := c.Outputs.EVE.Types
	if !c.Outputs.EVE.Enabled || !ty.Flow || !ty.HTTP || !ty.DNS.Enabled || !ty.TLS || !ty.Anomaly || !ty.Stats.Enabled {
		t.Errorf("default EVE types %+v", ty)
	}
	if len(tr.Untranslated) != 0 || tr.SimulateIPS {
		t.Errorf("untranslated %q, ips %v", tr.Untranslated, tr.SimulateIPS)
	}
}

func TestTranslate(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"base.yaml": "%YAML 1.1\n---\nstream:\n  reassembly:\n    depth: 2mb\n",
		"suricata.yaml": `%YAML 1.1
---
include: base.yaml
stats:
  enabled: yes
  interval: 4
logging:
  default-log-level: info
outputs:
  - fast:
      enabled: yes
  - eve-log:
      enabled: yes
      filetype: regular
      types:
        - flow
        - http:
            dump-all-headers: both
            extended: yes
        - dns:
            requests: no
        - netflow
        - stats:
            totals: yes
        - smtp:
            enabled: no
app-layer:
  protocols:
    tls:
      enabled: no
    smb:
      enabled: yes
`,
	})
	tt := &Test{Base: "my-ips-test", Dir: dir, SuricataYAML: filepath.Join(dir, "suricata.yaml")}
	args := []string{"-k", "none", "--set", "stream.midstream=true", "--set", "stream.reassembly.depth=1MB",
		"--set", "stream.inline=true", "--set", "threshold-file=/t/threshold.config", "--simulate-ips", "--weird"}
	tr, err := Translate(tt, args)
	if err != nil {
		t.Fatal(err)
	}
	c := tr.Config
	ty := c.Outputs.EVE.Types
	if !ty.Flow || !ty.HTTP || !ty.DNS.Enabled || !ty.Stats.Enabled || ty.TLS || ty.Anomaly || ty.Alert.Enabled {
		t.Errorf("EVE types %+v: want only flow, http, dns, stats", ty)
	}
	if c.AppLayer.TLS.Enabled {
		t.Error("tls parser still enabled")
	}
	if ty.Stats.Interval.Seconds() != 4 {
		t.Errorf("stats interval %v", ty.Stats.Interval)
	}
	if !c.Stream.Midstream || c.Stream.Reassembly.Depth != config.MB {
		t.Errorf("stream %+v: want midstream, depth 1mb (the --set wins over the included 2mb)", c.Stream)
	}
	if !tr.HTTP.DumpAllHeaders {
		t.Error("dump-all-headers: both not translated")
	}
	if tr.ThresholdFile != "/t/threshold.config" || !tr.SimulateIPS {
		t.Errorf("threshold %q, ips %v", tr.ThresholdFile, tr.SimulateIPS)
	}
	for _, want := range []string{
		"suricata.yaml: output fast",
		"suricata.yaml: eve-log type netflow (polder does not write it)",
		"--set stream.inline=true",
		"--simulate-ips (polder has no IPS mode)",
		`test name contains "ips": --simulate-ips`,
		"argument --weird",
	} {
		if !slices.Contains(tr.Untranslated, want) {
			t.Errorf("untranslated %q lacks %q", tr.Untranslated, want)
		}
	}
	if d := tr.Config.Outputs.EVE.Types.DNS; d.Requests || !d.Responses {
		t.Errorf("dns requests: no not translated: %+v", d)
	}
	for _, u := range tr.Untranslated {
		if strings.Contains(u, "smtp") || strings.Contains(u, "smb") || strings.Contains(u, "logging") {
			t.Errorf("untranslated %q: disabled or irrelevant settings are not differences", u)
		}
	}

	if _, err := Translate(&Test{Base: "x"}, []string{"--set", "stream.reassembly.depth=lots"}); err == nil {
		t.Error("bad size: no error")
	}
	tr, err = Translate(&Test{Base: "x"}, []string{"--engine-analysis"})
	if err != nil || tr.Blocker == "" {
		t.Errorf("--engine-analysis: blocker %q, %v", tr.Blocker, err)
	}
}
