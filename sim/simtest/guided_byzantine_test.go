package simtest_test

// A guided campaign of a run with Byzantine nodes failed every seed with a
// false plain-value violation ("cannot hash a <nil>: it is a func"): coverage hashed the fields
// of the adversary's wrapper. The same seeds pass unguided, and must guided.

import (
	"testing"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

func TestGuidedByzantineRunsPass(t *testing.T) {
	for _, p := range []string{"bracha", "pbft"} {
		s, err := scenarios.Resolve(p, "", "byzantine-swarm", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		simtest.Run(t, s, simtest.Seeds(10), simtest.Guided())
	}
}
