package checker_test

import (
	"strings"
	"testing"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
)

// The memory monitor skips a node whose World.Changes count has not moved since it last
// sampled it. Under every fault the scenarios draw (crashes, restarts, pauses, partitions,
// duplication, storage faults, Byzantine nodes) that must record exactly the curves that
// sampling every node after every step records: a new high missed would be a bound not
// checked.
func TestMemorySkippingUnchangedNodesRecordsTheSameCurves(t *testing.T) {
	cases := []struct{ protocol, scenario string }{
		{"paxos", "swarm"}, {"raft", "swarm"}, {"abd", "swarm"}, {"etcdraft", "swarm"},
		{"pbft", "byzantine-swarm"}, {"raft", "crash-restart"}, {"multipaxos", "swarm"}, {"crdt", "swarm"}, {"bracha", "byzantine-swarm"},
	}
	seeds := uint64(12)
	if testing.Short() {
		seeds = 4
	}
	for _, c := range cases {
		spec, err := scenarios.Resolve(c.protocol, "", c.scenario, 0, 0)
		if err != nil {
			t.Fatalf("%s %s: %v", c.protocol, c.scenario, err)
		}
		grew := 0
		for seed := uint64(0); seed < seeds; seed++ {
			cfg := spec.Config()
			cfg.Monitors = append(cfg.Monitors, checker.NewMemoryProbe(false), checker.NewMemoryProbe(true))
			r := sim.Run(cfg, sim.NewSeeded(seed))
			ms := r.Monitors
			skipping, scanning := checker.CurvesOf(ms[len(ms)-2]), checker.CurvesOf(ms[len(ms)-1])
			if skipping != scanning {
				t.Fatalf("%s %s seed %d: the curves differ\nskipping: %s\nscanning: %s", c.protocol, c.scenario, seed, skipping, scanning)
			}
			grew += strings.Count(scanning, "{")
		}
		if grew == 0 {
			t.Errorf("%s %s: no curve recorded a high in %d runs: the test compares nothing", c.protocol, c.scenario, seeds)
		}
	}
}
