package flow

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "flow may import only sensor/decode and sensor/capture: data flows decode → flow → stream; per-flow state of later stages hangs off Flow.Ext", "sensor/decode", "sensor/capture")
}
