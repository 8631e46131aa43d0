package dns

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeps enforces the one-way data flow (capture → decode → flow → stream
// → app-layer → detect → output): an app-layer parser may use the standard
// library and the value types of the stages upstream of it, nothing else.
// Importing detect, output or pipeline would make a parser call forward;
// importing a third-party module would put unreviewed code on the hot
// path. Test files are exempt (they read pcaps with gopacket).
func TestDeps(t *testing.T) {
	const mod = "github.com/polder-nsm/polder/"
	allowed := map[string]bool{
		mod + "sensor/flow":     true,
		mod + "sensor/decode":   true,
		mod + "sensor/capture":  true,
		mod + "sensor/applayer": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p := strings.Trim(imp.Path.Value, "`\"")
			std := !strings.Contains(strings.SplitN(p, "/", 2)[0], ".")
			if !std && !allowed[p] {
				t.Errorf("%s imports %s: app-layer parsers may import only the standard library and sensor/{capture,decode,flow,applayer}", f, p)
			}
		}
	}
}
