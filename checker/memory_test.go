package checker

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/abd"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// longABD is a long virtual run of the ABD register (20s of a lossy, reordering network,
// 4 clients with 400 operations each) whose coordinators' state is bounded by bound.
func longABD(bug string, bound int) sim.Config {
	return sim.Config{Protocol: abd.Protocol, Cluster: node.Config{N: 3, Bug: bug},
		Profile: sim.Profile{Delay: sim.Delay{Min: 2 * time.Millisecond, Typical: 10 * time.Millisecond},
			Drop: 0.05, Reorder: true},
		Faults: 20 * time.Second, Ops: 400,
		Monitors: []func() sim.Monitor{NewMemory(Bounds{State: bound})}}
}

func TestMemoryBoundCatchesALeakAndShowsItsGrowth(t *testing.T) {
	// A bound of 200 operations, far above the handful the correct coordinators hold: the
	// leak still crosses it, only later in the run.
	r := sim.Run(longABD(abd.BugNoGC, 200), sim.NewSeeded(1))
	v := r.Violation
	if v == nil || v.Property != PropMemory {
		t.Fatalf("violation %v, want %s", v, PropMemory)
	}
	if want := "state size reached 201, over its bound of 200"; !strings.Contains(v.Message, want) {
		t.Errorf("message %q lacks %q", v.Message, want)
	}
	if v.Time < 5*time.Second {
		t.Errorf("the leak crossed 200 after %v: want a long run", v.Time)
	}
	// The growth curve: a header, then 20 points that climb to the excess.
	if len(v.Details) != 21 || !strings.HasPrefix(v.Details[0], "growth of n") {
		t.Fatalf("no growth curve of 20 points in the report: %q", v.Details)
	}
	prev := 0
	for _, line := range v.Details[1:] {
		f := strings.Fields(line)
		val, err := strconv.Atoi(f[1])
		if err != nil || val <= prev {
			t.Fatalf("growth curve point %q does not climb from %d:\n%s", line, prev, strings.Join(v.Details, "\n"))
		}
		prev = val
	}
	if prev != 201 {
		t.Errorf("the curve ends at %d, not at the excess", prev)
	}
}

func TestMemoryBoundHoldsForTheCorrectProtocol(t *testing.T) {
	w, r := sim.Simulate(longABD("", abd.DefaultMaxOps), sim.NewSeeded(1))
	if r.Violation != nil {
		t.Fatalf("%v", r.Violation)
	}
	if r.Ops < 1000 || w.Now() < 10*time.Second {
		t.Fatalf("the run was short: %d operations in %v", r.Ops, w.Now())
	}
	m := r.Monitors[0].(*Memory)
	high := 0
	for _, nm := range m.nodes {
		curve := nm.curves[stateSize]
		if len(curve) > 0 {
			high = max(high, curve[len(curve)-1].v)
		}
	}
	if high == 0 || high > abd.DefaultMaxOps/2 {
		t.Errorf("the correct coordinators kept up to %d operations; want some, and well under the bound %d", high, abd.DefaultMaxOps)
	}
}

func TestMemoryBoundsOnTimersAndMessagesInFlight(t *testing.T) {
	tests := []struct {
		leak   string
		bounds Bounds
		want   string
	}{
		{"timers", Bounds{Timers: 5}, "n1's armed timers reached 6, over its bound of 5"},
		{"storm", Bounds{InFlight: 100}, "messages in flight to it reached 101, over its bound of 100"},
	}
	for _, tt := range tests {
		r := sim.Run(toyConfig(toyProtocol(tt.leak), NewMemory(tt.bounds)), sim.NewSeeded(1))
		if r.Violation == nil || !strings.Contains(r.Violation.Message, tt.want) {
			t.Errorf("%s: violation %v, want %q", tt.leak, r.Violation, tt.want)
		}
		if r := sim.Run(toyConfig(toyProtocol(""), NewMemory(tt.bounds)), sim.NewSeeded(1)); r.Violation != nil {
			t.Errorf("%s: the toy without the leak failed: %v", tt.leak, r.Violation)
		}
	}
}
