package raft_test

import (
	"testing"
	"time"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/raft"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

func spec(t *testing.T, bug, scenario string) *scenarios.Spec {
	t.Helper()
	s, err := scenarios.Resolve("raft", bug, scenario, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The correct protocol holds in every scenario written for it, and in the shared ones.
func TestCorrectRaftHoldsInEveryScenario(t *testing.T) {
	for _, sc := range []string{"swarm", "default", "crash-restart-storm", "leader-isolation",
		"partial-connectivity", "membership-churn", "cluster-crash", "disk-corruption", "disk-full"} {
		t.Run(sc, func(t *testing.T) {
			t.Parallel()
			if seed, r, failed := simtest.Find(spec(t, "", sc), simtest.Seeds(60)); failed {
				t.Errorf("seed %d: %v", seed, r.Violation)
			}
		})
	}
}

// Every seeded bug is found by the scenario it names, by the property that should catch it;
// the failing run replays exactly; and the same schedule does not break the correct protocol
// that way: the bug, not the schedule, is at fault.
func TestSeededBugsAreFound(t *testing.T) {
	catches := map[string][]string{
		raft.BugFigure8:         {"leader-completeness", "state-machine-safety"},
		raft.BugNoPersistVote:   {"election-safety"},
		raft.BugDupVote:         {"election-safety", "log-matching", "leader-completeness", "state-machine-safety"},
		raft.BugStaleRead:       {checker.PropLinearizable},
		raft.BugMembershipNoFix: {"leader-completeness", "state-machine-safety"},
		raft.BugNoCompaction:    {checker.PropMemory},
		raft.BugPlain:           {checker.PropWatchdog},
		// A corrupted read believed: an entry's term or index, a vote, the log's bounds.
		raft.BugNoChecksum: {"election-safety", "log-matching", "leader-completeness", "state-machine-safety", checker.PropLinearizable},
		// Acknowledged writes that a full disk refused, lost in the next crash.
		raft.BugIgnoreSyncError: {"election-safety", "log-matching", "leader-completeness", "state-machine-safety", checker.PropLinearizable},
	}
	for _, b := range raft.Protocol.Bugs {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			s := spec(t, b.Name, "")
			seed, r, failed := simtest.Find(s, simtest.Seeds(3000))
			if !failed {
				t.Fatalf("not found in 3000 seeds of %s", b.Scenario)
			}
			want, ok := catches[b.Name]
			if !ok {
				t.Fatalf("no expectation for bug %s", b.Name)
			}
			if !contains(want, r.Violation.Property) {
				t.Fatalf("seed %d: %s violated (%s), want one of %v", seed, r.Violation.Property, r.Violation.Message, want)
			}
			again, rec := s.Replay(r.Choices)
			if again.TraceHash != r.TraceHash || rec.Diverged() || again.Violation == nil {
				t.Errorf("replaying seed %d: trace %x (want %x), diverged %v, violation %v",
					seed, again.TraceHash, r.TraceHash, rec.Diverged(), again.Violation)
			}
			fixed := spec(t, "", s.Scenario.Name)
			fixed.Faults = r.Violation.Time + time.Second // long-haul's hour is not needed to tell
			if res, _ := fixed.Replay(r.Choices); res.Violation != nil && res.Violation.Property == r.Violation.Property {
				t.Errorf("the correct protocol breaks %s too on seed %d's schedule: %v", res.Violation.Property, seed, res.Violation)
			}
			t.Logf("seed %d: %s", seed, r.Violation)
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
