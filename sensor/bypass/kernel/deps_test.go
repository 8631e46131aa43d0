package kernel

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "kernel only adapts bpf/bypass to sensor/bypass.Table; the pipeline must not import it (the CLI passes the table in pipeline.Options.Bypass)",
		"bpf/bypass", "sensor/bypass", "sensor/config", "sensor/flow", "sensor/decode", "sensor/capture")
}
