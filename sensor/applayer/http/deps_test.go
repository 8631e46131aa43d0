package http

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports enforces the one-way data flow (STYLE.md): the HTTP parser
// receives ordered bytes and gap notices from the pipeline and returns
// Transactions through a callback. It may use upstream value types (flow,
// decode, capture) and the shared app-layer package (method list, Proto);
// importing stream, detect, output or pipeline would make it call forward
// or depend on the reassembler's internals.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"github.com/polder-nsm/polder/sensor/flow":     true,
		"github.com/polder-nsm/polder/sensor/decode":   true,
		"github.com/polder-nsm/polder/sensor/capture":  true,
		"github.com/polder-nsm/polder/sensor/applayer": true,
	}
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatalf("read package: %v", err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/polder-nsm/polder/") && !allowed[imp] {
			t.Errorf("%s imports %s: applayer/http may import only flow, decode, capture and applayer", pkg.ImportPath, imp)
		}
	}
}
