package scenarios_test

import (
	"fmt"
	"testing"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
)

// TestProbeDifferential explores the partial-order reduction's cases (protocols of the
// catalog, correct and with their seeded bugs, in small bounds) with and without the random
// walks before the search. A violation the walks find must be real: its path breaks the
// property in the untimed world and, replayed in the timed one, at the same step (it may be
// another property than breadth-first search meets first). Where the walks find nothing,
// the search must reach the verdict and, complete, the counts it reaches without them; and
// walks that miss a bug must leave it to the search. Paxos no-persist and abd no-writeback
// in their default bounds are what the probe is for: the walks find them.
func TestProbeDifferential(t *testing.T) {
	cases := porCases()
	defaults := sim.UntimedOptions{Crashes: -1, Requests: -1}
	cases = append(cases, porCase{"paxos", "no-persist", defaults}, porCase{"abd", "no-writeback", defaults})
	hits := 0
	for _, c := range cases {
		name := fmt.Sprintf("%s/%s/%s", c.protocol, c.bug, c.opts)
		var params map[string]int
		if c.protocol == "paxos" && c.bug != "no-persist" && !longDifferential {
			params = noRetryParams(t, c.opts)
		}
		e, err := scenarios.ResolveExplore(c.protocol, c.bug, 0, c.opts, params)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		states := int64(porStates)
		if c.opts.Crashes < 0 {
			states = 0 // the walks find these after 20,000 to 30,000 states
		}
		probed := exploreRun(t, e, explore.Options{MaxStates: states, Probe: 200_000})
		if p := probed.Probe; p != nil && p.Hit >= 0 {
			hits++
			v := probed.Violation
			t.Logf("%s: walk %d broke %s in %d steps, shortened to %d", name, p.Hit, v.Property, p.Length, len(v.Path.Actions))
			if len(v.Path.Actions) > p.Length {
				t.Errorf("%s: the path (%d steps) is longer than the walk's (%d)", name, len(v.Path.Actions), p.Length)
			}
			u := e.Untimed()
			states, err := explore.Replay(explore.Model[*sim.UState](u), v.Path)
			if err != nil || u.Violated(states[len(states)-1]) != v.Property {
				t.Errorf("%s: the path does not replay to a violation of %s (%v)", name, v.Property, err)
			}
			replaysTimed(t, e, v)
			continue
		}
		if c.opts.Crashes < 0 {
			t.Errorf("%s: the walks did not find it (probe %+v)", name, probed.Probe)
		}
		plain := exploreRun(t, e, explore.Options{MaxStates: states})
		t.Logf("%s: the walks found nothing (%d steps, %d states); the search: violation %v, %d states", name, probed.Probe.Steps, probed.Probe.States, plain.Violation, plain.Unique)
		if err := sameVerdict(plain, probed); err != nil {
			t.Errorf("%s: %v", name, err)
		} else if plain.Complete && (plain.Unique != probed.Unique || plain.Transitions != probed.Transitions) {
			t.Errorf("%s: %d states %d transitions without walks, %d %d with", name, plain.Unique, plain.Transitions, probed.Unique, probed.Transitions)
		}
	}
	if hits < 3 {
		t.Errorf("the walks found %d violations; the test wants at least 3 to judge them", hits)
	}
	// Walks that miss hide nothing: with too few of them to meet abd's no-writeback (the
	// first walk to break it is number 7122), the search after them finds it.
	e, err := scenarios.ResolveExplore("abd", "no-writeback", 0, sim.UntimedOptions{Crashes: -1, Requests: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := exploreRun(t, e, explore.Options{Probe: 1})
	if r.Probe == nil || r.Probe.Hit != -1 || r.Violation == nil || r.Violation.Property != "linearizability" {
		t.Errorf("abd no-writeback after %+v: violation %+v", r.Probe, r.Violation)
	}
}
