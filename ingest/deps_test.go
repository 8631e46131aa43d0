package ingest

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "ingest moves EVE lines from files into the store; it reads the sensor's output files, never the sensor's packages, and the web UI reads the store, not ingest", "store")
}
