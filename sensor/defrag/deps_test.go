package defrag

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "defrag may import only sensor/decode and sensor/capture: data flows decode → defrag → flow", "sensor/decode", "sensor/capture")
}
