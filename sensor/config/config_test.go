package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var cmpConfig = cmpopts.IgnoreUnexported(Config{})

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"HOME_NET", c.Vars.AddressGroups["HOME_NET"], "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"},
		{"EXTERNAL_NET", c.Vars.AddressGroups["EXTERNAL_NET"], "!$HOME_NET"},
		{"HTTP_PORTS", c.Vars.PortGroups["HTTP_PORTS"], "80"},
		{"eve filename", c.Outputs.EVE.Filename, "eve.json"},
		{"eve filetype", c.Outputs.EVE.Filetype, FiletypeRegular},
		{"stats interval", c.Outputs.EVE.Types.Stats.Interval, 8 * time.Second},
		{"stream depth", c.Stream.Reassembly.Depth, 1 * MB},
		{"midstream", c.Stream.Midstream, true},
		{"checksum", c.Capture.ChecksumValidation, false},
		{"tcp established", c.Flow.Timeouts.TCP.Established, 600 * time.Second},
		{"http body", c.AppLayer.HTTP.RequestBodyLimit, 100 * KB},
		{"IDS, not IPS", c.IPS.Simulate, false},
		{"drop events", c.Outputs.EVE.Types.Drop, EVEDrop{Enabled: true, Flows: DropFlowsStart}},
		{"no netflow", c.Outputs.EVE.Types.Netflow, false},
		{"fast.log off", c.Outputs.Fast.Enabled, false},
		{"fast.log name", c.Outputs.Fast.Filename, "fast.log"},
		{"fast.log appends", c.Outputs.Fast.Append, true},
		{"fileinfo", c.Outputs.EVE.Types.Files.Enabled, true},
		{"IDS inspection timing", c.Stream.Inline, false},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("default %s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestParseEmptyIsDefault(t *testing.T) {
	for _, doc := range []string{"", "\n", "# nothing\n", "---\n"} {
		c, err := Parse([]byte(doc), "empty.yaml")
		if err != nil {
			t.Fatalf("Parse(%q): %v", doc, err)
		}
		if d := cmp.Diff(Default(), c, cmpConfig); d != "" {
			t.Errorf("Parse(%q) differs from Default (-want +got):\n%s", doc, d)
		}
	}
}

// TestExample checks that the annotated example states the defaults (plus
// its one example interface) and that a Config round-trips through YAML.
func TestExample(t *testing.T) {
	c, err := Load("testdata/sensor.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Capture.Interfaces = []Interface{{Name: "eth0", Workers: 1}}
	if d := cmp.Diff(want, c, cmpConfig); d != "" {
		t.Errorf("example differs from defaults (-want +got):\n%s", d)
	}
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse(out, "marshalled.yaml")
	if err != nil {
		t.Fatalf("parse marshalled example: %v\n%s", err, out)
	}
	if d := cmp.Diff(c, c2, cmpConfig); d != "" {
		t.Errorf("round trip differs (-first +second):\n%s", d)
	}
	// And every key the example's Config marshals to appears in the example.
	ex, _ := os.ReadFile("testdata/sensor.example.yaml")
	for _, line := range strings.Split(string(out), "\n") {
		k, _, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- ")), ":")
		if ok && k != "" && !strings.Contains(string(ex), k+":") {
			t.Errorf("key %q is not documented in the example", k)
		}
	}
}

func TestParseGood(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want func(c *Config)
	}{
		{"engine shorthand", "outputs:\n  eve:\n    types:\n      engine: yes\n", func(c *Config) {
			c.Outputs.EVE.Types.Engine.Enabled = true
		}},
		{"suricata booleans", "stream:\n  midstream: no\ncapture:\n  checksum-validation: yes\n", func(c *Config) {
			c.Stream.Midstream = false
			c.Capture.ChecksumValidation = true
		}},
		{"sizes", "flow:\n  memcap: 1gb\nstream:\n  reassembly:\n    depth: 4096\n    memcap: 1.5GB\n", func(c *Config) {
			c.Flow.Memcap = GB
			c.Stream.Reassembly.Depth = 4096
			c.Stream.Reassembly.Memcap = GB + GB/2
		}},
		{"timeouts in seconds and durations", "flow:\n  timeouts:\n    tcp:\n      established: 10m\n      new: 5\n    udp:\n      new: 0.5\n", func(c *Config) {
			c.Flow.Timeouts.TCP.Established = 10 * time.Minute
			c.Flow.Timeouts.TCP.New = 5 * time.Second
			c.Flow.Timeouts.UDP.New = 500 * time.Millisecond
		}},
		{"interfaces get defaults", "capture:\n  interfaces:\n    - name: eth0\n    - name: eth1\n      workers: 4\n      fanout-group: 99\n      ring-size: 64mb\n", func(c *Config) {
			c.Capture.Interfaces = []Interface{{Name: "eth0", Workers: 1}, {Name: "eth1", Workers: 4, FanoutGroup: 99, RingSize: 64 * MB}}
		}},
		{"vars merge over defaults", "vars:\n  address-groups:\n    HOME_NET: \"[10.1.0.0/16, 2001:db8::/32]\"\n  port-groups:\n    HTTP_PORTS: \"[80,8080:8090]\"\n", func(c *Config) {
			c.Vars.AddressGroups["HOME_NET"] = "[10.1.0.0/16, 2001:db8::/32]"
			c.Vars.PortGroups["HTTP_PORTS"] = "[80,8080:8090]"
		}},
		{"eve types off", "outputs:\n  eve:\n    filetype: unix_stream\n    filename: /run/eve.sock\n    types:\n      flow: no\n      stats:\n        enabled: no\n        interval: 0\n", func(c *Config) {
			c.Outputs.EVE.Filetype = FiletypeUnixStream
			c.Outputs.EVE.Filename = "/run/eve.sock"
			c.Outputs.EVE.Types.Flow = false
			c.Outputs.EVE.Types.Stats = EVEStats{NullValues: true}
		}},
		{"section shorthand", "outputs:\n  eve:\n    types:\n      dns: no\n      stats: no\n", func(c *Config) {
			c.Outputs.EVE.Types.DNS.Enabled = false
			c.Outputs.EVE.Types.Stats.Enabled = false
		}},
		{"empty values keep defaults", "flow:\nstream:\n  memcap:\n", func(c *Config) {}},
		{"simulated IPS", "ips:\n  simulate: yes\n", func(c *Config) { c.IPS.Simulate = true }},
		{"drop events", "outputs:\n  eve:\n    types:\n      drop:\n        alerts: yes\n        flows: all\n      netflow: yes\n", func(c *Config) {
			c.Outputs.EVE.Types.Drop = EVEDrop{Enabled: true, Alerts: true, Flows: DropFlowsAll}
			c.Outputs.EVE.Types.Netflow = true
		}},
		{"drop off", "outputs:\n  eve:\n    types:\n      drop: no\n", func(c *Config) {
			c.Outputs.EVE.Types.Drop.Enabled = false
		}},
		{"fast.log", "outputs:\n  fast:\n    enabled: yes\n    filename: /var/log/polder/alerts.log\n    append: no\n", func(c *Config) {
			c.Outputs.Fast = Fast{Enabled: true, Filename: "/var/log/polder/alerts.log"}
		}},
		{"fileinfo with hashes", "outputs:\n  eve:\n    types:\n      files:\n        force-hash: [md5, sha256]\n", func(c *Config) {
			c.Outputs.EVE.Types.Files.ForceHash = []string{"md5", "sha256"}
		}},
		{"fileinfo off", "outputs:\n  eve:\n    types:\n      files: no\n", func(c *Config) {
			c.Outputs.EVE.Types.Files.Enabled = false
		}},
		{"inline", "stream:\n  inline: yes\n", func(c *Config) { c.Stream.Inline = true }},
		{"anchors", "x: &t\n  new: 1\n", nil}, // unknown key x: see bad tests
		{"app-layer", "app-layer:\n  http:\n    request-body-limit: 0\n  tls:\n    enabled: false\nworkers: 3\nlog-dir: /var/log/polder\n", func(c *Config) {
			c.AppLayer.HTTP.RequestBodyLimit = 0
			c.AppLayer.TLS.Enabled = false
			c.Workers = 3
			c.LogDir = "/var/log/polder"
		}},
	}
	for _, tt := range tests {
		if tt.want == nil {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.doc), "sensor.yaml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := Default()
			tt.want(want)
			if d := cmp.Diff(want, got, cmpConfig); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		// want lists expected messages (whole Error() strings), in order.
		want []string
	}{
		{"unknown key with suggestion",
			"outputs:\n  eve:\n    filenmae: x.json\n",
			[]string{`sensor.yaml:3: unknown key "outputs.eve.filenmae" (did you mean "outputs.eve.filename"?)`}},
		{"unknown top-level key",
			"flows:\n  memcap: 1mb\n",
			[]string{`sensor.yaml:1: unknown key "flows" (did you mean "flow"?)`}},
		{"engine log level",
			"outputs:\n  eve:\n    types:\n      engine:\n        level: loud\n",
			[]string{`sensor.yaml:5: outputs.eve.types.engine.level: "loud" is not a log level (want error, warning, notice, info or debug)`}},
		{"unknown key without suggestion",
			"stream:\n  zzzzzzzzzz: 1\n",
			[]string{`sensor.yaml:2: unknown key "stream.zzzzzzzzzz"`}},
		{"bad duration",
			"flow:\n  timeouts:\n    tcp:\n      new: 1\n\n\n      established: ten\n",
			[]string{`sensor.yaml:7: flow.timeouts.tcp.established: "ten" is not a duration (want seconds or e.g. "10s", "5m")`}},
		{"negative duration",
			"defrag:\n  timeout: -5s\n",
			[]string{`sensor.yaml:2: defrag.timeout: "-5s" is not a duration (want seconds or e.g. "10s", "5m")`}},
		{"bad size",
			"flow:\n  memcap: lots\n",
			[]string{`sensor.yaml:2: flow.memcap: "lots" is not a size (want bytes or a number with kb, mb, gb)`}},
		{"bad boolean",
			"stream:\n  midstream: maybe\n",
			[]string{`sensor.yaml:2: stream.midstream: "maybe" is not a boolean (want yes or no)`}},
		{"bad integer",
			"workers: many\n",
			[]string{`sensor.yaml:1: workers: "many" is not an integer`}},
		{"mapping where scalar",
			"log-dir:\n  a: b\n",
			[]string{`sensor.yaml:2: log-dir: want a string, have a mapping`}},
		{"scalar where mapping",
			"flow: 5\n",
			[]string{`sensor.yaml:1: flow: want a mapping, have "5"`}},
		{"duplicate key",
			"workers: 1\nworkers: 2\n",
			[]string{`sensor.yaml:2: duplicate key "workers"`}},
		{"several errors at once, in line order",
			"flow:\n  memcap: x\n  hash-sise: 5\nstream:\n  midstream: perhaps\n",
			[]string{
				`sensor.yaml:2: flow.memcap: "x" is not a size (want bytes or a number with kb, mb, gb)`,
				`sensor.yaml:3: unknown key "flow.hash-sise" (did you mean "flow.hash-size"?)`,
				`sensor.yaml:5: stream.midstream: "perhaps" is not a boolean (want yes or no)`,
			}},
		{"yaml syntax",
			"flow:\n  memcap: [1\nstream: {}\n",
			nil}, // checked below: line and "yaml:" prefix
		{"bad filetype",
			"outputs:\n  eve:\n    filetype: syslog\n",
			[]string{`sensor.yaml:3: outputs.eve.filetype: "syslog" is not a filetype (want regular, unix_stream or unix_dgram)`}},
		{"bad CIDR names the var",
			"vars:\n  address-groups:\n    HOME_NET: \"[192.168.0.0/33]\"\n",
			[]string{`sensor.yaml:3: vars.address-groups.HOME_NET: "[192.168.0.0/33]": bad address "192.168.0.0/33" (want an IP, CIDR, range a-b, $VAR, any, ! or [list])`}},
		{"undefined var",
			"vars:\n  address-groups:\n    HOME_NET: \"$NOPE\"\n",
			[]string{`sensor.yaml:3: vars.address-groups.HOME_NET: "$NOPE": undefined variable $NOPE`}},
		{"cyclic var",
			"vars:\n  address-groups:\n    HOME_NET: \"$EXTERNAL_NET\"\n",
			[]string{
				// Both members of the cycle are reported; EXTERNAL_NET kept
				// its default, so the nearest line is its section's.
				`sensor.yaml:2: vars.address-groups.EXTERNAL_NET: "!$HOME_NET": $EXTERNAL_NET refers to itself`,
				`sensor.yaml:3: vars.address-groups.HOME_NET: "$EXTERNAL_NET": $HOME_NET refers to itself`,
			}},
		{"bad port",
			"vars:\n  port-groups:\n    HTTP_PORTS: \"[80,70000]\"\n",
			[]string{`sensor.yaml:3: vars.port-groups.HTTP_PORTS: "[80,70000]": bad port "70000" (want 0–65535, a range a:b, $VAR, any, ! or [list])`}},
		{"unbalanced list",
			"vars:\n  port-groups:\n    SSH_PORTS: \"[22\"\n",
			[]string{`sensor.yaml:3: vars.port-groups.SSH_PORTS: "[22": unbalanced '['`}},
		{"depth over reassembly memcap",
			"stream:\n  reassembly:\n    depth: 2gb\n    memcap: 1gb\n",
			[]string{`sensor.yaml:3: stream.reassembly.depth: 2gb exceeds stream.reassembly.memcap 1gb: no session could reach it`}},
		{"interfaces",
			"capture:\n  interfaces:\n    - workers: 2\n    - name: eth0\n      workers: 0\n    - name: eth0\n      fanout-group: 70000\n      snaplen: 10\n",
			[]string{
				`sensor.yaml:3: capture.interfaces[0].name: missing (every interface needs a name)`,
				`sensor.yaml:5: capture.interfaces[1].workers: 0: want at least 1`,
				`sensor.yaml:6: capture.interfaces[2].name: "eth0" is already listed as capture.interfaces[1]`,
				`sensor.yaml:7: capture.interfaces[2].fanout-group: 70000 is not a fanout group id (0 to derive, or 1–65535)`,
				`sensor.yaml:8: capture.interfaces[2].snaplen: 10 bytes is out of range (0 for the MTU, or 64–262144)`,
			}},
		{"emergency recovery",
			"flow:\n  emergency-recovery: 150\n",
			[]string{`sensor.yaml:2: flow.emergency-recovery: 150 is not a percentage from 1 to 100`}},
		{"stats interval zero",
			"outputs:\n  eve:\n    types:\n      stats:\n        interval: 0s\n",
			[]string{`sensor.yaml:5: outputs.eve.types.stats.interval: must be positive when stats events are enabled`}},
		{"unknown hash",
			"outputs:\n  eve:\n    types:\n      files:\n        force-hash: [md5, crc32, md5]\n",
			[]string{
				`sensor.yaml:5: outputs.eve.types.files.force-hash[1]: "crc32" is not a hash (want md5, sha1 or sha256)`,
				`sensor.yaml:5: outputs.eve.types.files.force-hash[2]: "md5" is listed twice`,
			}},
		{"fast.log over eve.json",
			"outputs:\n  fast:\n    enabled: yes\n    filename: eve.json\n",
			[]string{`sensor.yaml:4: outputs.fast.filename: "eve.json" is also outputs.eve.filename: the two logs would interleave in one file`}},
		{"fast.log without a name",
			"outputs:\n  fast:\n    enabled: yes\n    filename: \"\"\n",
			[]string{`sensor.yaml:4: outputs.fast.filename: empty, but outputs.fast.enabled is yes`}},
		{"drop flows",
			"outputs:\n  eve:\n    types:\n      drop:\n        flows: some\n",
			[]string{`sensor.yaml:5: outputs.eve.types.drop.flows: "some" is not a drop flows mode (want start or all)`}},
		{"defrag max-frags",
			"defrag:\n  max-frags: 10\n",
			[]string{`sensor.yaml:2: defrag.max-frags: 10 is below defrag.trackers 65535: each tracker needs at least one fragment`}},
		{"list where mapping",
			"- a\n",
			[]string{`sensor.yaml:1: top level: want a mapping, have a list`}},
		{"unknown key in list element",
			"capture:\n  interfaces:\n    - name: eth0\n      worker: 2\n",
			[]string{`sensor.yaml:4: unknown key "capture.interfaces[0].worker" (did you mean "capture.interfaces[0].workers"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc), "sensor.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded, want errors; got %+v", c)
			}
			if c != nil {
				t.Errorf("Parse returned a Config with an error")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not an ErrorList: %v", err, err)
			}
			if tt.want == nil {
				if len(list) != 1 || list[0].Line != 3 || !strings.HasPrefix(list[0].Msg, "yaml: ") {
					t.Errorf("syntax error = %q, want one yaml error on line 3 (where the parser notices)", err)
				}
				return
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
				if e.File != "sensor.yaml" || e.Line == 0 || !strings.Contains(e.Msg, e.Key) || e.Key == "" && !strings.HasPrefix(e.Msg, "top level") {
					t.Errorf("error %+v lacks file, line or key", *e)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
		})
	}
}

// TestVarsCycleSearchIsLinear guards against exponential expansion of
// variables that refer to others several times each.
func TestVarsCycleSearchIsLinear(t *testing.T) {
	c := Default()
	for i := range 40 {
		c.Vars.AddressGroups[fmt.Sprintf("V%d", i)] = fmt.Sprintf("[$V%d,$V%d,!$V%d]", i+1, i+1, i+1)
	}
	c.Vars.AddressGroups["V40"] = "10.0.0.0/8"
	start := time.Now()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Validate took %v", d)
	}
	c.Vars.AddressGroups["V40"] = "$V0"
	var list ErrorList
	if !errors.As(c.Validate(), &list) || len(list) != 41 {
		t.Errorf("Validate with a 41-variable cycle = %v, want 41 errors", c.Validate())
	}
}

func TestValidateWithoutFile(t *testing.T) {
	c := Default()
	c.Flow.HashSize = 0
	c.LogDir = ""
	err := c.Validate()
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("Validate = %v, want 2 errors", err)
	}
	if got, want := list[0].Error(), "flow.hash-size: must be positive"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		ok   bool
	}{
		{"0", 0, true},
		{"4096", 4096, true},
		{"32mb", 32 << 20, true},
		{"32MB", 32 << 20, true},
		{"1gb", 1 << 30, true},
		{"100kb", 100 << 10, true},
		{"64k", 64 << 10, true},
		{"2 GiB", 2 << 30, true},
		{"1.5gb", 3 << 29, true},
		{"1tb", 1 << 40, true},
		{"10b", 10, true},
		{"", 0, false},
		{"mb", 0, false},
		{"-1", 0, false},
		{"-1mb", 0, false},
		{"ten", 0, false},
		{"1xb", 0, false},
		{"0x10", 0, false},
		{"+5", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false},
		{"20000000tb", 0, false},
		{"1e30", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	for _, s := range []Size{0, 1, 1023, KB, 1500 * KB, 32 * MB, 3 * GB, 2 * TB, 1<<64 - 1} {
		back, err := ParseSize(s.String())
		if err != nil || back != s {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s.String(), back, err, s)
		}
	}
}

func FuzzParse(f *testing.F) {
	ex, err := os.ReadFile("testdata/sensor.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	// Seed with the example one top-level section at a time: the whole
	// 4 kB file as one seed stalls the fuzzing engine (a few execs a
	// minute), while TestExample already covers it whole.
	for _, sec := range strings.Split(string(ex), "\n\n") {
		f.Add([]byte(sec))
	}
	f.Add([]byte("flow:\n  memcap: 1gb\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("capture:\n  interfaces:\n    - name: eth0\n"))
	f.Add([]byte("vars:\n  address-groups:\n    HOME_NET: \"[![1.2.3.4,$X]]\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %v is not a non-empty ErrorList", err, err)
			}
			return
		}
		// A config that parses must validate and round-trip.
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed config fails Validate: %v", err)
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		c2, err := Parse(out, "again.yaml")
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if d := cmp.Diff(c, c2, cmpConfig); d != "" {
			t.Fatalf("round trip differs:\n%s", d)
		}
	})
}

func TestMPMAlgo(t *testing.T) {
	for _, tc := range []struct {
		algo string
		ok   bool
	}{{"auto", true}, {"hs", true}, {"ac", true}, {"ac-ks", true}, {"ac-bs", true}, {"", true}, {"hyperscan", false}, {"AC", false}} {
		c := Default()
		c.MPMAlgo = tc.algo
		err := c.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("mpm-algo %q: Validate() = %v, want ok=%v", tc.algo, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "mpm-algo") {
			t.Errorf("mpm-algo %q: error does not name the key: %v", tc.algo, err)
		}
	}
}
