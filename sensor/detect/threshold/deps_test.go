package threshold

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "threshold is a leaf library of detect: it decides alert/suppress/ignore for a match from the rule's keywords and threshold.config; detect calls it with the packet's addresses and time, so it needs nothing of packets, flows or outputs", "sensor/rules")
}
