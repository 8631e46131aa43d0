package depstest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder collects failures instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...) }

func TestCheckFindsForbiddenImport(t *testing.T) {
	dir := t.TempDir()
	src := "package stage\n\nimport (\n\t_ \"" + Module + "sensor/decode\"\n\t_ \"" + Module + "sensor/pipeline\"\n\t_ \"strings\"\n)\n"
	if err := os.WriteFile(filepath.Join(dir, "stage.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	checkDir(r, dir, "stages import upstream only", "sensor/decode")
	if len(r.errs) != 2 { // one per GOOS checked
		t.Fatalf("want the pipeline import reported for linux and darwin, got %q", r.errs)
	}
	for _, e := range r.errs {
		if !strings.Contains(e, "sensor/pipeline") || !strings.Contains(e, "stages import upstream only") {
			t.Errorf("error lacks the import or the reason: %s", e)
		}
	}
	r = &recorder{TB: t}
	checkDir(r, dir, "ok", "sensor/decode", "sensor/pipeline")
	if len(r.errs) != 0 {
		t.Errorf("allowed imports reported: %q", r.errs)
	}
}
