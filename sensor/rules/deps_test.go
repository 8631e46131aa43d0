package rules

import (
	"testing"

	"github.com/polder-nsm/polder/internal/depstest"
)

func TestDeps(t *testing.T) {
	depstest.Check(t, "rules is the rule language only and imports no polder package: detect compiles its AST, ruleset and the CLI load with it, and sensor/config's Vars are converted by the caller")
}
