package pcre

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "the pcre engine is a leaf used by detect: it takes patterns and byte slices, and imports no polder package")
}
