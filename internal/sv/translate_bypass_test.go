package sv

import (
	"strings"
	"testing"

	"github.com/polder-nsm/polder/sensor/config"
)

// TestTranslateBypass: the bypass settings of the suricata-verify bypass
// tests reach polder's config, in --set and in a test's suricata.yaml.
func TestTranslateBypass(t *testing.T) {
	tr, err := Translate(&Test{Base: "bypass-tls-enabled"}, []string{
		"-k", "none",
		"--set", "app-layer.protocols.tls.encryption-handling=bypass",
		"--set", "app-layer.protocols.ssh.encryption-handling=full",
		"--set", "stream.reassembly.depth=1MB",
		"--set", "stream.bypass=true",
		"--set", "app-layer.protocols.ssh.enabled=yes",
	})
	if err != nil {
		t.Fatal(err)
	}
	c := tr.Config
	if c.AppLayer.TLS.EncryptionHandling != config.EncryptionBypass || c.AppLayer.SSH.EncryptionHandling != config.EncryptionFull ||
		!c.Stream.Bypass || !c.AppLayer.SSH.Enabled || c.Stream.Reassembly.Depth != config.MB {
		t.Errorf("config: tls %+v ssh %+v stream %+v", c.AppLayer.TLS, c.AppLayer.SSH, c.Stream)
	}
	if len(tr.Untranslated) != 0 {
		t.Errorf("untranslated: %q", tr.Untranslated)
	}
	// Suricata 8's defaults: track-only, stream.bypass off.
	def := SuricataDefaults()
	if def.AppLayer.TLS.EncryptionHandling != config.EncryptionTrackOnly || def.Stream.Bypass || !def.Outputs.EVE.Types.SSH {
		t.Errorf("defaults: tls %+v stream.bypass %v", def.AppLayer.TLS, def.Stream.Bypass)
	}

	if _, err := Translate(&Test{Base: "x"}, []string{"--set", "app-layer.protocols.ssh.encryption-handling=drop"}); err == nil ||
		!strings.Contains(err.Error(), "not an encryption handling") {
		t.Errorf("bad value: %v", err)
	}
	tr, err = Translate(&Test{Base: "x"}, []string{"--set", "app-layer.protocols.ssh.hassh=yes"})
	if err != nil || len(tr.Untranslated) != 1 || !strings.Contains(tr.Untranslated[0], "hassh") {
		t.Errorf("hassh: %v %q", err, tr.Untranslated)
	}

	dir := writeFiles(t, map[string]string{"suricata.yaml": `%YAML 1.1
---
stream:
  bypass: yes
app-layer:
  protocols:
    ssh:
      encryption-handling: bypass
outputs:
  - eve-log:
      enabled: yes
      types:
        - ssh
        - stats
`})
	tr, err = Translate(&Test{Base: "y", SuricataYAML: dir + "/suricata.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c = tr.Config
	if !c.Stream.Bypass || c.AppLayer.SSH.EncryptionHandling != config.EncryptionBypass || !c.Outputs.EVE.Types.SSH || c.Outputs.EVE.Types.TLS {
		t.Errorf("suricata.yaml: stream %+v ssh %+v types %+v", c.Stream, c.AppLayer.SSH, c.Outputs.EVE.Types)
	}
	if len(tr.Untranslated) != 0 {
		t.Errorf("untranslated: %q", tr.Untranslated)
	}
}
