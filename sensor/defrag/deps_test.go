package defrag_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports enforces the stage rule: defrag sits between decode and flow,
// so it may import only sensor/decode (Packet, Reasons) and sensor/capture,
// plus the standard library. Anything downstream (flow, stream, pipeline…)
// would reverse the data flow.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if !strings.Contains(imp, ".") {
			continue
		}
		switch imp {
		case "github.com/polder-nsm/polder/sensor/decode", "github.com/polder-nsm/polder/sensor/capture":
		default:
			t.Errorf("defrag imports %s: defrag may import only sensor/decode and sensor/capture (data flows decode → defrag → flow; it must not depend on downstream stages)", imp)
		}
	}
}
