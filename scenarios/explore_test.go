package scenarios_test

import (
	"bytes"
	"testing"

	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// TestExploreCapsuleReplays: a path of the untimed world written as a capsule replays to the
// same violation and trace through the same entry point as campaign capsules.
func TestExploreCapsuleReplays(t *testing.T) {
	e, err := scenarios.ResolveExplore("paxos", paxos.BugNoPersist, 0, sim.UntimedOptions{Crashes: -1, Requests: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := e.Untimed()
	// Walk the first enabled action until a violation or 40 steps: any path will do.
	var path []int
	s := u.Init()[0]
	for len(path) < 40 && u.Violated(s) == "" {
		var next *sim.UState
		u.Next(s, func(a int, n *sim.UState) bool {
			path, next = append(path, a), n
			return false
		})
		if next == nil {
			break
		}
		s = next
	}
	r, err := u.Replay(0, path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := e.Capsule(0, path, r).Encode(&b); err != nil {
		t.Fatal(err)
	}
	c, err := capsule.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := scenarios.ReplayCapsule(c)
	if err != nil {
		t.Fatal(err)
	}
	if !rp.Untimed || rp.Diverged || rp.Result.TraceHash != r.TraceHash || rp.Result.Events != len(path) {
		t.Errorf("replayed capsule: untimed=%v diverged=%v trace %x (want %x), %d steps (want %d)",
			rp.Untimed, rp.Diverged, rp.Result.TraceHash, r.TraceHash, rp.Result.Events, len(path))
	}
	if c.Options["param.max-round"] != "1" || c.Options["network"] != "unordered" {
		t.Errorf("capsule options %v", c.Options)
	}
}

func TestResolveExploreRefusesBadInput(t *testing.T) {
	opts := sim.UntimedOptions{Crashes: -1, Requests: -1}
	for _, tt := range []struct{ protocol, bug string }{{"nope", ""}, {"paxos", "nope"}} {
		if _, err := scenarios.ResolveExplore(tt.protocol, tt.bug, 0, opts, nil); err == nil {
			t.Errorf("ResolveExplore(%q, %q) accepted", tt.protocol, tt.bug)
		}
	}
	var o sim.UntimedOptions
	if err := scenarios.ParseNetwork("ordered,lossy", &o); err != nil || !o.Ordered || !o.Lossy || o.Duplicate {
		t.Errorf("ParseNetwork(ordered,lossy) = %+v, %v", o, err)
	}
	if err := scenarios.ParseNetwork("lossy", &o); err == nil {
		t.Error("ParseNetwork accepted a network without an order")
	}
}
