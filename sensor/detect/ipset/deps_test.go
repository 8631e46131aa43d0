package ipset

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "ipset is a leaf library of detect: it compiles rule header addresses and ports (the rules AST) into sets and knows nothing of packets, flows or outputs; detect feeds it rules and looks up addresses", "sensor/rules")
}
