package bypass

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "bpf/bypass is the kernel side of bypass: it knows the flow key (a value type) and nothing else of the sensor; pipeline/ wires it to capture and flow",
		"sensor/flow")
}
