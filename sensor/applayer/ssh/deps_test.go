package ssh

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "app-layer parsers may import only sensor/{capture,decode,flow,applayer}: they return what they parsed and never call detect or output", "sensor/flow", "sensor/decode", "sensor/capture", "sensor/applayer")
}
