package config

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "config must not import other polder packages: the pipeline converts the config into per-stage options")
}
