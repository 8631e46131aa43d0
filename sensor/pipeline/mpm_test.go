package pipeline

import (
	"testing"

	"github.com/polder-nsm/polder/sensor/config"
	"github.com/polder-nsm/polder/sensor/detect/mpm"
)

// TestMPMAlgo: suricata.yaml's mpm-algo values select the prefilter
// engine of the ruleset the sensor loads.
func TestMPMAlgo(t *testing.T) {
	for algo, want := range map[string]string{
		"": mpm.EngineAuto, "auto": mpm.EngineAuto, "hs": mpm.EngineHyperscan,
		"ac": mpm.EngineAC, "ac-ks": mpm.EngineAC, "ac-bs": mpm.EngineAC,
	} {
		c := config.Default()
		c.MPMAlgo = algo
		if got := ruleConfig(c).MPM; got != want {
			t.Errorf("mpm-algo %q: engine %q, want %q", algo, got, want)
		}
	}
}
