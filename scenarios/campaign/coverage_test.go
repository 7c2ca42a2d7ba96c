package campaign

import (
	"context"
	"maps"
	"os"
	"slices"
	"testing"

	"github.com/replica-io/replica/scenarios"
)

// coverageSeeds is the modest campaign each scenario gets; long scenarios get fewer.
// The swarm gets more: it draws Raft's membership changes only in runs whose profile crashes
// no node, and since it draws storage faults too those are rare (one of seeds 0..499).
var coverageSeeds = map[string]int{"long-haul": 1, "swarm": 500}

// TestEveryScenarioReachesItsSometimesProperties: every shipped scenario, run by every
// protocol it applies to over a modest campaign, reaches each of the protocol's
// sometimes-properties, or declares in Unreached why it does not mean to; and a property it
// declares unreached is indeed not reached (a stale reason would hide a change). It takes a
// few minutes, so go test ./... skips it and .ci/run runs it (REPLICA_COVERAGE=1).
func TestEveryScenarioReachesItsSometimesProperties(t *testing.T) {
	if os.Getenv("REPLICA_COVERAGE") == "" {
		t.Skip("the coverage of every shipped scenario takes minutes: REPLICA_COVERAGE=1 runs it (.ci/run does)")
	}
	for _, sc := range scenarios.Scenarios() {
		for _, p := range scenarios.Protocols() {
			if !sc.Applies(p) || sc.ExceedF { // beyond-threshold means to fail
				continue
			}
			spec, err := scenarios.Resolve(p.Name, "", sc.Name, 0, 0)
			if err != nil {
				continue // a scenario that the protocol cannot run (a Byzantine one for crash faults)
			}
			n := coverageSeeds[sc.Name]
			if n == 0 {
				n = 200
			}
			s := (&Campaign{Spec: spec, Seeds: seeds(n)}).Run(context.Background())
			var never []string
			for _, name := range slices.Sorted(maps.Keys(s.Sometimes)) {
				why, declared := sc.Unreachable(p.Name, name)
				switch reached := s.Sometimes[name]; {
				case reached == 0 && !declared:
					never = append(never, name)
				case reached > 0 && declared:
					t.Errorf("%s: %s reached in %d of %d seeds, though the scenario says %q", spec.Name(), name, reached, n, why)
				}
			}
			if len(never) > 0 {
				t.Errorf("%s: %v reached in none of %d seeds, and the scenario does not say why", spec.Name(), never, n)
			}
			t.Logf("%s: %d seeds, %d failures, sometimes %v", spec.Name(), s.SeedsRun, s.Failures, s.Sometimes)
		}
	}
}
