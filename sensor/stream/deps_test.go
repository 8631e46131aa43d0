package stream

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports enforces the one-way data flow of the sensor.
func TestImports(t *testing.T) {
	const module = "github.com/polder-nsm/polder/"
	allowed := map[string]bool{"github.com/polder-nsm/polder/sensor/flow": true, "github.com/polder-nsm/polder/sensor/decode": true, "github.com/polder-nsm/polder/sensor/capture": true}
	const why = "stream sits after flow in capture → decode → flow → stream → app-layer → detect → output: it may use only the value types of capture, decode and flow and hands data to the app layer through its own Handler interface, never by importing it (only pipeline/ wires stages together)"
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, module) && !allowed[path] {
				t.Errorf("%s imports %s: %s", name, path, why)
			}
		}
	}
}
