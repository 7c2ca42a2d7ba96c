package scenarios_test

import (
	"context"
	"fmt"
	"runtime/debug"
	"testing"
	"time"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
)

// porStates bounds each exploration of the partial-order reduction's differential test; a
// case whose unreduced search stops there instead of completing fails the test (the cases
// below are chosen to complete).
const porStates = 20_000

// porCases are the protocols and bugs the differential test explores, in bounds where both
// searches complete in well under a second: abd correct and with each bug in one request's
// bounds, no-gc also in its own (where the explorer finds it), and Paxos in the bounds of its
// no-retry bug with and without that bug. Etcd raft's bounds take tens of seconds and
// Paxos's default ones minutes, unreduced: REPLICA_DIFFERENTIAL=long adds Paxos in one
// request's bounds. Protocols without exploration bounds (raft, pbft, bracha) have no
// complete search to compare.
func porCases() []porCase {
	var cs []porCase
	cs = append(cs, porCase{"abd", "no-gc", sim.UntimedOptions{Crashes: -1, Requests: -1}}) // found at 93 states
	for _, bug := range []string{"", "no-writeback", "no-gc"} {
		for _, o := range []sim.UntimedOptions{{Requests: 1}, {Requests: 1, Crashes: 1}, {Requests: 1, Ordered: true}} {
			cs = append(cs, porCase{"abd", bug, o})
		}
	}
	ordered := sim.UntimedOptions{Requests: 1, Ordered: true}
	cs = append(cs, porCase{"paxos", "no-retry", sim.UntimedOptions{Requests: 1}}, porCase{"paxos", "no-retry", ordered},
		porCase{"paxos", "", ordered}) // unordered, the correct Paxos is past porStates even here
	if longDifferential {
		cs = append(cs, porCase{"paxos", "", sim.UntimedOptions{Requests: 1}}, porCase{"paxos", "no-persist", sim.UntimedOptions{Requests: 1, Crashes: 1}})
	}
	return cs
}

type porCase struct {
	protocol, bug string
	opts          sim.UntimedOptions
}

// TestPartialOrderReductionDifferential explores protocols of the catalog, correct and with
// their seeded bugs, in small bounds, with and without sleep sets, and wants the same verdict:
// the same violation (or none), the same sometimes-properties reached, and for a complete
// clean search the same number of states (sleep sets skip transitions, never states), with no
// more transitions.
func TestPartialOrderReductionDifferential(t *testing.T) {
	debug.SetGCPercent(400)
	defer debug.SetGCPercent(100)
	violations := 0
	for _, c := range porCases() {
		name := fmt.Sprintf("%s/%s/%s", c.protocol, c.bug, c.opts)
		var params map[string]int
		if c.protocol == "paxos" && !longDifferential {
			params = noRetryParams(t, c.opts)
		}
		e, err := scenarios.ResolveExplore(c.protocol, c.bug, 0, c.opts, params)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		states := int64(porStates)
		if longDifferential {
			states = 0
		}
		full, red := porRun(t, e, false, states), porRun(t, e, true, states)
		t.Logf("%s: %d/%d states, %d/%d transitions unreduced/reduced, violation %v", name, full.Unique, red.Unique, full.Transitions, red.Transitions, full.Violation != nil)
		switch {
		case red.Reduction != "sleep sets":
			t.Errorf("%s: reduction %q, want sleep sets", name, red.Reduction)
		case !full.Complete && full.Stopped != "violation":
			t.Errorf("%s: the unreduced search stopped (%s) after %d states: choose smaller bounds", name, full.Stopped, full.Unique)
		}
		if full.Violation != nil {
			violations++
		}
		if err := sameVerdict(full, red); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if violations == 0 {
		t.Error("no case finds a violation: the test compares clean searches only")
	}
}

func porRun(t *testing.T, e *scenarios.ExploreSpec, reduce bool, states int64) *explore.Result {
	t.Helper()
	return exploreRun(t, e, explore.Options{MaxStates: states, Reduce: reduce})
}

// exploreRun explores e's untimed world with opts, within ten minutes.
func exploreRun(t *testing.T, e *scenarios.ExploreSpec, opts explore.Options) *explore.Result {
	t.Helper()
	opts.Timeout = 10 * time.Minute
	r, err := explore.Run(context.Background(), explore.Model[*sim.UState](e.Untimed()), opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sameVerdict compares an unreduced search with a reduced one.
func sameVerdict(full, red *explore.Result) error {
	prop := func(r *explore.Result) string {
		if r.Violation == nil {
			return "none"
		}
		return r.Violation.Property
	}
	switch {
	case prop(full) != prop(red):
		return fmt.Errorf("violation %s unreduced, %s with %s", prop(full), prop(red), red.Reduction)
	case full.Violation != nil:
		return nil // both stopped at a violation of the same property
	case full.Complete != red.Complete:
		return fmt.Errorf("complete %v unreduced, %v with %s (stopped %q)", full.Complete, red.Complete, red.Reduction, red.Stopped)
	case full.Unique != red.Unique:
		return fmt.Errorf("%d states unreduced, %d with %s", full.Unique, red.Unique, red.Reduction)
	case red.Reduction == "sleep sets" && red.Transitions > full.Transitions:
		return fmt.Errorf("%d transitions unreduced, %d with sleep sets", full.Transitions, red.Transitions)
	}
	for i := range full.Witnesses {
		if (full.Witnesses[i].Path == nil) != (red.Witnesses[i].Path == nil) {
			return fmt.Errorf("sometimes %s: reached %v unreduced, %v with %s", full.Witnesses[i].Property,
				full.Witnesses[i].Path != nil, red.Witnesses[i].Path != nil, red.Reduction)
		}
	}
	return nil
}

// noRetryParams are the parameters of Paxos's no-retry bounds (fewer ballots than the
// default's), for the differential tests' small searches.
func noRetryParams(t *testing.T, opts sim.UntimedOptions) map[string]int {
	t.Helper()
	b, err := scenarios.ResolveExplore("paxos", "no-retry", 0, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.Cluster.Params
}
