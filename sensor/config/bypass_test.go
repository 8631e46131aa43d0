package config

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBypassKeys: the bypass settings parse, keep Suricata's spellings, and
// bad values are reported at their line with what is accepted.
func TestBypassKeys(t *testing.T) {
	c := Default()
	if c.Capture.Bypass != (Bypass{Mode: BypassAuto, TableSize: 131072}) || c.Stream.Bypass ||
		c.AppLayer.TLS.EncryptionHandling != EncryptionTrackOnly || c.AppLayer.SSH.EncryptionHandling != EncryptionTrackOnly ||
		!c.AppLayer.SSH.Enabled || !c.Outputs.EVE.Types.SSH {
		t.Errorf("defaults: %+v stream.bypass=%v tls=%+v ssh=%+v", c.Capture.Bypass, c.Stream.Bypass, c.AppLayer.TLS, c.AppLayer.SSH)
	}

	good := []struct {
		name string
		doc  string
		want func(c *Config)
	}{
		{"modes and sizes", "capture:\n  bypass:\n    mode: xdp\n    table-size: 1024\nstream:\n  bypass: yes\n", func(c *Config) {
			c.Capture.Bypass = Bypass{Mode: BypassXDP, TableSize: 1024}
			c.Stream.Bypass = true
		}},
		{"encryption handling", "app-layer:\n  tls:\n    encryption-handling: bypass\n  ssh:\n    encryption-handling: full\n    enabled: no\n", func(c *Config) {
			c.AppLayer.TLS.EncryptionHandling = EncryptionBypass
			c.AppLayer.SSH = EncryptedParser{EncryptionHandling: EncryptionFull}
		}},
		{"deprecated default spelling", "app-layer:\n  ssh:\n    encryption-handling: default\n", func(c *Config) {
			c.AppLayer.SSH.EncryptionHandling = EncryptionDefault
		}},
		{"ssh event type and shorthand", "outputs:\n  eve:\n    types:\n      ssh: no\napp-layer:\n  ssh: no\n", func(c *Config) {
			c.Outputs.EVE.Types.SSH = false
			c.AppLayer.SSH.Enabled = false
		}},
		{"off and local", "capture:\n  bypass:\n    mode: off\n", func(c *Config) { c.Capture.Bypass.Mode = BypassOff }},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.doc), "sensor.yaml")
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			tt.want(want)
			if d := cmp.Diff(want, got, cmpConfig); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}

	bad := []struct {
		name string
		doc  string
		want []string
	}{
		{"mode", "capture:\n  bypass:\n    mode: ebpf\n",
			[]string{`sensor.yaml:3: capture.bypass.mode: "ebpf" is not a bypass mode (want auto, off, local, socket-filter or xdp)`}},
		{"table size", "capture:\n  bypass:\n    table-size: 0\n",
			[]string{`sensor.yaml:3: capture.bypass.table-size: 0 flows is out of range (1–16777216)`}},
		{"encryption handling", "app-layer:\n  tls:\n    encryption-handling: drop\n  ssh:\n    encryption-handling: \"\"\n",
			[]string{
				`sensor.yaml:3: app-layer.tls.encryption-handling: "drop" is not an encryption handling (want track-only, full or bypass)`,
				`sensor.yaml:5: app-layer.ssh.encryption-handling: "" is not an encryption handling (want track-only, full or bypass)`,
			}},
		{"stream.bypass boolean", "stream:\n  bypass: sometimes\n",
			[]string{`sensor.yaml:2: stream.bypass: "sometimes" is not a boolean (want yes or no)`}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "sensor.yaml")
			var l ErrorList
			if !errors.As(err, &l) {
				t.Fatalf("Parse = %v, want an ErrorList", err)
			}
			var got []string
			for _, e := range l {
				got = append(got, e.Error())
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
