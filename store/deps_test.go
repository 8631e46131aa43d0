package store

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "the store holds EVE events and knows nothing of where they come from (ingest) or who reads them (web): those import store, not the other way round")
}
