package applayer

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports enforces the one-way data flow (STYLE.md): the app layer sits
// after capture → decode → flow → stream and may use the value types of the
// stages before it. It must not import stream (the pipeline hands it
// ordered bytes and gap notices, so it never needs the reassembler), nor
// anything downstream (detect, output, pipeline), which would make it call
// forward. Sibling parsers (applayer/http, dns, tls) import applayer, never
// the other way round.
func TestImports(t *testing.T) {
	checkImports(t, ".", map[string]bool{
		"github.com/polder-nsm/polder/sensor/flow":    true,
		"github.com/polder-nsm/polder/sensor/decode":  true,
		"github.com/polder-nsm/polder/sensor/capture": true,
	})
}

func checkImports(t *testing.T, dir string, allowed map[string]bool) {
	t.Helper()
	pkg, err := build.ImportDir(dir, 0)
	if err != nil {
		t.Fatalf("read package: %v", err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/polder-nsm/polder/") && !allowed[imp] {
			t.Errorf("%s imports %s: the app layer may import only flow, decode and capture (upstream value types)", pkg.ImportPath, imp)
		}
	}
}
