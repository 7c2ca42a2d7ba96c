package scenarios_test

import (
	"fmt"
	"testing"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
)

// The untimed world stores of a history only its operations and its linearization frontier
// (sim/histsum.go). Against searches that keep each history whole (ExactHistory), in small
// bounds (abd correct and with two bugs, one of them a linearizability violation; paxos with
// no-retry, whose bug is a liveness one), it must give the same verdicts (the violation, its
// shortest length, the sometimes-properties reached) in no more states, and fewer in some.
// The other protocols with clients have no bounds small enough for a unit test.
func TestHistoryFrontierKeepsVerdicts(t *testing.T) {
	cases := []porCase{
		{"abd", "no-gc", sim.UntimedOptions{Crashes: -1, Requests: -1}},
		{"abd", "no-writeback", sim.UntimedOptions{Crashes: -1, Requests: -1}}, // not linearizable
		{"abd", "", sim.UntimedOptions{Requests: 2}},
		{"abd", "", sim.UntimedOptions{Requests: 2, Crashes: 1, Ordered: true}},
		{"paxos", "no-retry", sim.UntimedOptions{Requests: 2, Ordered: true}},
	}
	fewer, violations := 0, 0
	for _, c := range cases {
		name := fmt.Sprintf("%s/%s/%s", c.protocol, c.bug, c.opts)
		var params map[string]int
		if c.protocol == "paxos" {
			params = noRetryParams(t, c.opts)
		}
		merged, err := scenarios.ResolveExplore(c.protocol, c.bug, 0, c.opts, params)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		exact := *merged
		exact.Options.ExactHistory = true
		a, z := porRun(t, merged, false, 4*porStates), porRun(t, &exact, false, 4*porStates)
		t.Logf("%s: %d states merged, %d exact; violation %v", name, a.Unique, z.Unique, z.Violation != nil)
		if !z.Complete && z.Stopped != "violation" {
			t.Errorf("%s: the exact search stopped (%s) after %d states: choose smaller bounds", name, z.Stopped, z.Unique)
			continue
		}
		if z.Violation != nil {
			violations++
		}
		switch {
		case (a.Violation == nil) != (z.Violation == nil) || a.Complete != z.Complete:
			t.Errorf("%s: merged %+v, exact %+v", name, a, z)
			continue
		case a.Violation != nil && (a.Violation.Property != z.Violation.Property || len(a.Violation.Path.Actions) != len(z.Violation.Path.Actions)):
			t.Errorf("%s: violations %s in %d steps merged, %s in %d exact", name, a.Violation.Property, len(a.Violation.Path.Actions), z.Violation.Property, len(z.Violation.Path.Actions))
		case a.Violation == nil && a.Unique > z.Unique:
			t.Errorf("%s: %d states merged, more than %d exact", name, a.Unique, z.Unique)
		case a.Violation == nil && a.Unique < z.Unique:
			fewer++
		}
		for i := range z.Witnesses {
			if (a.Witnesses[i].Path == nil) != (z.Witnesses[i].Path == nil) {
				t.Errorf("%s: sometimes %s reached merged: %v, exact: %v", name, z.Witnesses[i].Property, a.Witnesses[i].Path != nil, z.Witnesses[i].Path != nil)
			}
		}
	}
	if fewer == 0 || violations == 0 {
		t.Errorf("%d searches with fewer states, %d violations: the test compares nothing", fewer, violations)
	}
}
