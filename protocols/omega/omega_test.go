package omega_test

import (
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/fd"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/omega"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

// elector is Omega over the failure detector, as a protocol of its own.
var elector = node.Compose(&node.Protocol{Name: "omega", DefaultN: 3, MinN: 2, Quorum: func(n int) int { return n/2 + 1 },
	Timing: node.Timing{Delay: 10 * time.Millisecond, Settle: 300 * time.Millisecond}},
	node.Part{Module: omega.Module},
	node.Part{Path: "fd", Module: fd.Module})

func spec(t *testing.T, bug, scenario string) *scenarios.Spec {
	t.Helper()
	if err := elector.Validate(); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Lookup(scenario)
	if err != nil {
		t.Fatal(err)
	}
	return &scenarios.Spec{Protocol: elector, Bug: bug, Scenario: sc, Cluster: node.Config{N: 3, Bug: bug}}
}

func TestALeaderStaysElected(t *testing.T) {
	for _, sc := range []string{"default", "crash-restart", "swarm"} {
		if seed, r, failed := simtest.Find(spec(t, "", sc), simtest.Seeds(25)); failed {
			t.Errorf("%s seed %d: %v", sc, seed, r.Violation)
		}
	}
}

func TestSelfLeaderIsFound(t *testing.T) {
	seed, r, found := simtest.Find(spec(t, omega.BugSelfLeader, "crash-heavy"), simtest.Seeds(100))
	if !found || r.Violation.Property != "eventual-leadership" {
		t.Fatalf("self-leader: found %v (seed %d): %v", found, seed, r.Violation)
	}
}
