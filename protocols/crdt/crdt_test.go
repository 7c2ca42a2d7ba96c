package crdt_test

import (
	"slices"
	"testing"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/crdt"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/simtest"
)

func spec(t testing.TB, bug, scenario string) *scenarios.Spec {
	t.Helper()
	if err := scenarios.Validate(crdt.Protocol); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Lookup(scenario)
	if err != nil {
		t.Fatal(err)
	}
	return &scenarios.Spec{Protocol: crdt.Protocol, Bug: bug, Scenario: sc, Cluster: node.Config{N: 3, Bug: bug}}
}

func TestReplicasConvergeInEveryScenario(t *testing.T) {
	for _, sc := range []string{"default", "crash-restart", "lossy-crash", "swarm"} {
		s := spec(t, "", sc)
		for seed := uint64(0); seed < 15; seed++ {
			r := sim.Run(s.Config(), sim.NewSeeded(seed))
			if r.Violation != nil {
				t.Fatalf("%s seed %d: %v", sc, seed, r.Violation)
			}
			if v := verdict(r); v != checker.Pass {
				t.Fatalf("%s seed %d: convergence %v, want pass", sc, seed, v)
			}
		}
	}
}

func verdict(r sim.Result) checker.Outcome {
	for _, m := range r.Monitors {
		if j, ok := m.(checker.Judge); ok {
			if name, o := j.Verdict(); name == checker.PropConvergence {
				return o
			}
		}
	}
	return checker.Unchecked
}

func TestEveryBugIsFound(t *testing.T) {
	want := map[string]string{
		crdt.BugTakeLarger:     checker.PropConvergence,
		crdt.BugDropTombstones: checker.PropConvergence,
		"push-once":            "counter/gossip/progress",
	}
	for _, b := range crdt.Protocol.Bugs {
		seed, r, found := simtest.Find(spec(t, b.Name, b.Scenario), simtest.Seeds(30))
		if !found || r.Violation.Property != want[b.Name] {
			t.Errorf("%s: found %v (seed %d): %v, want %s", b.Name, found, seed, r.Violation, want[b.Name])
		}
	}
}

// The merges are what make the replicas converge: commutative, associative, idempotent.
func TestMergesCommuteAndForgetNothing(t *testing.T) {
	a := crdt.SetState{Adds: []crdt.Tagged{{Dot: crdt.Dot{Node: 1, Seq: 1}, Elem: "a"}}, U: []int{1, 0}}
	b := crdt.SetState{Adds: []crdt.Tagged{{Dot: crdt.Dot{Node: 1, Seq: 1}, Elem: "a"}, {Dot: crdt.Dot{Node: 2, Seq: 1}, Elem: "a"}},
		Removed: []crdt.Dot{{Node: 1, Seq: 1}}, U: []int{1, 2}}
	ab, ba := crdt.MergeSets(a, b), crdt.MergeSets(b, a)
	if !slices.Equal(ab.Elems(), ba.Elems()) || !slices.Equal(ab.Elems(), []string{"a"}) {
		t.Errorf("a+b %v, b+a %v: want {a}, the concurrent addition surviving the removal", ab.Elems(), ba.Elems())
	}
	if again := crdt.MergeSets(ab, b); !slices.Equal(again.Removed, ab.Removed) || !slices.Equal(again.U, ab.U) {
		t.Errorf("merging twice changed the state: %v then %v", ab, again)
	}
	x := crdt.CounterState{P: []int{3, 0}, N: []int{0, 1}, U: []int{2, 1}}
	y := crdt.CounterState{P: []int{1, 5}, N: []int{0, 0}, U: []int{1, 1}}
	if xy, yx := crdt.MergeCounters(x, y), crdt.MergeCounters(y, x); xy.Value() != 7 || yx.Value() != 7 {
		t.Errorf("x+y = %d, y+x = %d, want 7 (3+5-1)", xy.Value(), yx.Value())
	}
}
