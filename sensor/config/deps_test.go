package config

import (
	"go/build"
	"strings"
	"testing"
)

// TestDeps keeps config a leaf: the pipeline converts a Config into each
// stage's options, so no stage depends on the file format and config
// depends on no stage (which would also create import cycles once stages
// take their options from here).
func TestDeps(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range append(pkg.Imports, pkg.TestImports...) {
		if strings.HasPrefix(imp, "github.com/polder-nsm/polder/") {
			t.Errorf("config imports %s: config must not import other polder packages (the pipeline converts config into per-stage options)", imp)
		}
	}
}
