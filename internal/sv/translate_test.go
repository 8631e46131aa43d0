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
	if len(tr.Untranslated) != 0 || tr.SimulateIPS || c.IPS.Simulate {
		t.Errorf("untranslated %q, ips %v", tr.Untranslated, tr.SimulateIPS)
	}
	if ty.Drop.Enabled || ty.Netflow {
		t.Errorf("drop %+v, netflow %v: Suricata's suricata.yaml has both commented out", ty.Drop, ty.Netflow)
	}
	if f := c.Outputs.Fast; !f.Enabled || f.Filename != "fast.log" || !f.Append || !ty.Files.Enabled || c.Stream.Inline {
		t.Errorf("Suricata's defaults: fast %+v, files %+v, inline %v; want fast.log appended, fileinfo, IDS timing", f, ty.Files, c.Stream.Inline)
	}
	tr, err = Translate(&Test{Base: "x"}, []string{"--set", "stream.inline=auto"})
	if err != nil || tr.Config.Stream.Inline || len(tr.Untranslated) != 0 {
		t.Errorf("stream.inline=auto: inline %v, untranslated %q, %v", tr.Config.Stream.Inline, tr.Untranslated, err)
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
      filename: alerts.log
      append: no
  - file-store:
      version: 2
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
        - drop:
            alerts: yes
            flows: all
        - files:
            force-magic: no
            force-hash: [sha256, MD5, crc]
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
	if tr.ThresholdFile != "/t/threshold.config" || !tr.SimulateIPS || !c.IPS.Simulate {
		t.Errorf("threshold %q, ips %v, config ips.simulate %v", tr.ThresholdFile, tr.SimulateIPS, c.IPS.Simulate)
	}
	if want := (config.EVEDrop{Enabled: true, Alerts: true, Flows: config.DropFlowsAll}); ty.Drop != want || !ty.Netflow {
		t.Errorf("drop %+v (want %+v), netflow %v: not translated", ty.Drop, want, ty.Netflow)
	}
	for _, want := range []string{
		"suricata.yaml: output file-store (polder does not extract files)",
		"suricata.yaml: eve-log files.force-hash crc",
		`test name contains "ips": --simulate-ips`,
		"argument --weird",
	} {
		if !slices.Contains(tr.Untranslated, want) {
			t.Errorf("untranslated %q lacks %q", tr.Untranslated, want)
		}
	}
	if f := c.Outputs.Fast; !f.Enabled || f.Filename != "alerts.log" || f.Append {
		t.Errorf("fast output not translated: %+v", f)
	}
	if f := ty.Files; !f.Enabled || !slices.Equal(f.ForceHash, []string{"md5", "sha256"}) {
		t.Errorf("files type not translated: %+v", f)
	}
	if !c.Stream.Inline {
		t.Error("--set stream.inline=true not translated")
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
	tr, err = Translate(&Test{Base: "x"}, []string{"--engine-analysis", "--init-errors-fatal"})
	if err != nil || !tr.EngineAnalysis || !tr.InitErrorsFatal {
		t.Errorf("--engine-analysis --init-errors-fatal: %+v, %v", tr, err)
	}
}
