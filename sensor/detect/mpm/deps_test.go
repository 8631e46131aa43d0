package mpm

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "mpm is a leaf library of detect: it matches bytes for any buffer and knows nothing of packets, flows, rules or outputs; detect feeds it patterns and buffers")
}
