package inspect

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "inspect is the payload matcher of detect: it compiles a rules.Buffer and matches bytes with the pcre engine; it knows nothing of packets, flows, app-layer parsers or outputs (the engine hands it buffers)",
		"sensor/rules", "sensor/detect/pcre")
}
