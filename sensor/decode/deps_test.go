package decode

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "decode may import only sensor/capture: data flows capture → decode → flow, and the hot path must not depend on downstream stages", "sensor/capture")
}
