package bypass

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "bypass may import only flow (for flow.Key) and what flow imports: it is the contract between the pipeline and the capture layer's kernel table; the pipeline makes the decisions", "sensor/flow", "sensor/decode", "sensor/capture")
}
