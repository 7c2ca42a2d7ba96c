package checker

import (
	"slices"
	"strings"
	"testing"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

func TestCoverage(t *testing.T) {
	enabled := []sim.Kind{sim.KindDrop, sim.KindCrash, sim.KindRestart}
	fired := map[string]int{"drop": 4, "restart": 0, "partition_split": 9}
	if got := NeverFired(enabled, fired); !slices.Equal(got, []string{"crash", "restart"}) {
		t.Errorf("never fired %v", got)
	}
	props := []node.Sometimes{{Name: "decided", Required: true}, {Name: "elected"}, {Name: "committed", Required: true}}
	required := Required(props)
	if !slices.Equal(required, []string{"decided", "committed"}) {
		t.Errorf("required %v", required)
	}
	unreached := Unreached(required, map[string]int{"decided": 3, "elected": 0, "committed": 0})
	if !slices.Equal(unreached, []string{"committed"}) {
		t.Errorf("unreached %v", unreached)
	}
	lax := CoverageFailures(10, unreached, []string{"crash"}, false)
	strict := CoverageFailures(10, unreached, []string{"crash"}, true)
	if len(lax) != 1 || !strings.Contains(lax[0], `"committed" was reached in none of 10 runs`) {
		t.Errorf("without -require-faults: %q", lax)
	}
	if len(strict) != 2 || !strings.Contains(strict[1], "fault kind crash is enabled by the profile but fired in none of 10 runs") {
		t.Errorf("with -require-faults: %q", strict)
	}
	if got := CoverageFailures(10, nil, nil, true); got != nil {
		t.Errorf("full coverage fails: %q", got)
	}
}
