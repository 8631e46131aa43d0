package decode_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports enforces the stage rule: decode sits right after capture in
// capture → decode → flow → …, so it may import only sensor/capture (for
// Frame and LinkType) and the standard library. Importing any later stage
// would make the decoder depend on its consumers and create cycles.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if !strings.Contains(imp, ".") {
			continue // standard library
		}
		if imp != "github.com/polder-nsm/polder/sensor/capture" {
			t.Errorf("decode imports %s: decode may import only sensor/capture (data flows capture → decode → flow; decode must not depend on downstream stages or third-party code on the hot path)", imp)
		}
	}
}
