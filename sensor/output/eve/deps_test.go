package eve

import (
	"go/build"
	"strings"
	"testing"
)

const module = "github.com/polder-nsm/polder/"

// upstream are the stages before output in capture → decode → flow →
// stream → app-layer → detect → output (STYLE.md). EVE serializes their
// value types, so it may import them; it must never import what runs it
// (pipeline), configures it (sensor/config) or drives it (internal/cli,
// cmd): output returns lines, it never calls forward or reads config.
var upstream = []string{
	"sensor/capture", "sensor/decode", "sensor/defrag", "sensor/flow",
	"sensor/stream", "sensor/applayer", "sensor/rules", "sensor/detect",
}

func allowedImport(imp string) bool {
	rel, ok := strings.CutPrefix(imp, module)
	if !ok {
		return true // standard library and third-party
	}
	for _, u := range upstream {
		if rel == u || strings.HasPrefix(rel, u+"/") {
			return true
		}
	}
	return false
}

// TestImports checks the package's imports and, transitively, those of
// every polder package it pulls in.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatalf("read package: %v", err)
	}
	seen := map[string]bool{}
	var walk func(from string, imps []string)
	walk = func(from string, imps []string) {
		for _, imp := range imps {
			if !strings.HasPrefix(imp, module) || seen[imp] {
				continue
			}
			seen[imp] = true
			if !allowedImport(imp) {
				t.Errorf("%s imports %s: output/eve may import only upstream stages (%s), never pipeline, config or cli", from, imp, strings.Join(upstream, ", "))
				continue
			}
			p, err := build.Import(imp, ".", 0)
			if err != nil {
				t.Errorf("read %s: %v", imp, err)
				continue
			}
			walk(imp, p.Imports)
		}
	}
	walk(pkg.ImportPath, pkg.Imports)

	// Tests may also use the shared test helpers.
	for _, imp := range append(pkg.TestImports, pkg.XTestImports...) {
		switch imp {
		case module + "internal/corpus", module + "internal/eveschema":
		default:
			if !allowedImport(imp) {
				t.Errorf("tests of %s import %s", pkg.ImportPath, imp)
			}
		}
	}
}

func TestAllowedImport(t *testing.T) {
	for imp, want := range map[string]bool{
		"net/netip":                    true,
		module + "sensor/applayer/dns": true,
		module + "sensor/flow":         true,
		module + "sensor/pipeline":     false,
		module + "sensor/config":       false,
		module + "internal/cli":        false,
		module + "sensor/output/eve/x": false,
		module + "sensor/applayerx":    false,
	} {
		if got := allowedImport(imp); got != want {
			t.Errorf("allowedImport(%s) = %v, want %v", imp, got, want)
		}
	}
}
