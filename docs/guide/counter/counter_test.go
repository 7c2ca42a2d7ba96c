package counter_test

import (
	"testing"

	"example.com/guide/counter"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

// spec builds the counter's runs in a scenario, with every check it declares: the counter's
// own specification for the history, commit-once after every step, progress after healing.
func spec(t *testing.T, bug, scenario string) *scenarios.Spec {
	t.Helper()
	s, err := scenarios.New(counter.Protocol, scenarios.Options{Bug: bug, Scenario: scenario})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCounterSurvivesFaults(t *testing.T) {
	for _, scenario := range []string{"default", "crash-restart", "swarm"} {
		t.Run(scenario, func(t *testing.T) {
			simtest.Run(t, spec(t, "", scenario), simtest.Seeds(200))
		})
	}
}

// The seeded bug must be found: by a seeded campaign, and by rapid, which shrinks the
// failing schedule it draws.
func TestTheTestbedFindsUnsyncedVote(t *testing.T) {
	s := spec(t, counter.BugUnsyncedVote, "")
	seed, r, found := simtest.Find(s, simtest.Seeds(200))
	if !found {
		t.Fatal("no seed of 200 finds unsynced-vote")
	}
	if p := r.Violation.Property; p != "commit-once" && p != "linearizability" {
		t.Fatalf("seed %d: %s violated, want commit-once or linearizability: %s", seed, p, r.Violation.Message)
	}
	t.Logf("seed %d: %s", seed, r.Violation)
}

// Rapid draws every choice of a run itself (delays, crashes, the clients' operations), and
// would shrink a failing schedule to a small one and keep it in testdata/rapid.
func TestCounterUnderRapid(t *testing.T) {
	simtest.Check(t, spec(t, "", "crash-restart"))
}
