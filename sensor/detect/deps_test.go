package detect

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "detect evaluates rules on what the stages upstream produced (packets, flows, stream data, app-layer transactions) and returns alerts; it never writes output or calls the pipeline",
		"sensor/applayer", "sensor/applayer/dns", "sensor/applayer/http", "sensor/applayer/tls",
		"sensor/decode", "sensor/flow", "sensor/rules",
		"sensor/detect/hostbits", "sensor/detect/inspect", "sensor/detect/ipset",
		"sensor/detect/mpm", "sensor/detect/pcre", "sensor/detect/threshold")
}
