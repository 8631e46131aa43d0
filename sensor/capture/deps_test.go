package capture

import (
	"go/build"
	"strings"
	"testing"
)

// TestDeps enforces the one-way data flow (ARCHITECTURE: capture → decode →
// flow → stream → app-layer → detect → output). capture is the first stage:
// it hands raw frames to the pipeline and must not import any other polder
// package, or a later stage's change could reach back into packet
// acquisition and the import graph would stop being a line. Tests may use
// internal/corpus to find test data and internal/netnstest to build test
// hosts, and nothing else of polder.
func TestDeps(t *testing.T) {
	const module = "github.com/polder-nsm/polder"
	for _, goos := range []string{"linux", "darwin", "windows"} {
		ctx := build.Default
		ctx.GOOS = goos
		pkg, err := ctx.ImportDir(".", 0)
		if err != nil {
			t.Fatalf("read package imports for %s: %v", goos, err)
		}
		for _, imp := range pkg.Imports {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				t.Errorf("capture imports %s (GOOS=%s): capture is the first pipeline stage and imports no other polder package; move the shared type into capture or the code into pipeline/", imp, goos)
			}
		}
		for _, imp := range append(pkg.TestImports, pkg.XTestImports...) {
			if imp == module+"/sensor/capture" || imp == module+"/internal/corpus" || imp == module+"/internal/netnstest" {
				continue // examples (package capture_test) import capture itself
			}
			if imp == module || strings.HasPrefix(imp, module+"/") {
				t.Errorf("capture tests import %s (GOOS=%s): tests may use internal/corpus and internal/netnstest only, so the package can be tested without the stages it feeds", imp, goos)
			}
		}
	}
}
