// Package depstest enforces the sensor's import rule from each stage's
// deps_test.go: data flows capture → decode → flow → stream → app-layer →
// detect → output, and a stage imports only stages upstream of it, for
// their value types. Only pipeline/ wires stages together.
package depstest

import (
	"go/build"
	"strings"
	"testing"
)

// Module is the polder module path.
const Module = "github.com/polder-nsm/polder/"

// Check fails t for every polder package that the package in the current
// directory imports (in non-test files, for linux and darwin builds) other
// than those in allowed, given relative to the module root
// ("sensor/decode"). why is the reason printed with each failure: say which
// way the data flows and where the code belongs instead. Third-party
// imports are the package's own business and not checked here.
func Check(t testing.TB, why string, allowed ...string) {
	t.Helper()
	checkDir(t, ".", why, allowed...)
}

func checkDir(t testing.TB, dir, why string, allowed ...string) {
	t.Helper()
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[Module+a] = true
	}
	for _, goos := range []string{"linux", "darwin"} {
		ctx := build.Default
		ctx.GOOS = goos
		pkg, err := ctx.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("read package imports (GOOS=%s): %v", goos, err)
		}
		for _, imp := range pkg.Imports {
			if strings.HasPrefix(imp, Module) && !ok[imp] {
				t.Errorf("%s imports %s (GOOS=%s): %s", pkg.Name, imp, goos, why)
			}
		}
	}
}
