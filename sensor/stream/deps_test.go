package stream

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "stream may import only flow, decode and capture: data flows flow → stream → app-layer; deliver bytes through stream.Handler instead of calling forward", "sensor/flow", "sensor/decode", "sensor/capture")
}
