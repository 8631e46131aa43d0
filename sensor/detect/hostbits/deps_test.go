package hostbits

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "hostbits is a leaf library of detect: shared bit state keyed by address and bit id; detect maps rule keywords and packets onto it, so it needs nothing of packets, flows or outputs", "sensor/rules")
}
