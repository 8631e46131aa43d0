package applayer

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "the app layer may import only flow, decode and capture (upstream value types)", "sensor/flow", "sensor/decode", "sensor/capture")
}
