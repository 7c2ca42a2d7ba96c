package sim_test

import (
	"testing"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/sim"
)

type observations struct{ seen []sim.Observation }

func (o *observations) Observe(x sim.Observation) { o.seen = append(o.seen, x) }

// TestUntimedObserveFollowsReplay: observing a path sees the states of the events that the
// replay's trace numbers, and the choice of each step; deliveries name their sends.
func TestUntimedObserveFollowsReplay(t *testing.T) {
	u := paxosUntimed(paxos.BugNoPersist)
	path, missing := follow(u, noPersistRace)
	if missing != "" {
		t.Fatalf("after %d steps, %q is not enabled", len(path), missing)
	}
	r, err := u.Replay(0, path)
	if err != nil {
		t.Fatal(err)
	}
	obs := &observations{}
	if err := u.Observe(0, path, obs); err != nil {
		t.Fatal(err)
	}
	if len(obs.seen) != len(path)+1 {
		t.Fatalf("%d observations of a path of %d steps", len(obs.seen), len(path))
	}
	for i, o := range obs.seen {
		if o.Event != i {
			t.Fatalf("observation %d is of event %d", i, o.Event)
		}
		if i == 0 {
			continue
		}
		if o.Scheduled == nil || o.Scheduled.Action != path[i-1] || o.Scheduled.Label != noPersistRace[i-1] || o.Scheduled.Enabled <= o.Scheduled.Action {
			t.Errorf("step %d: scheduled %+v, want action %d %q", i, o.Scheduled, path[i-1], noPersistRace[i-1])
		}
	}
	last := r.Trace[len(r.Trace)-1]
	if last.Event != len(path) || r.Violation.Event != len(path) {
		t.Errorf("the trace ends at event %d and the violation cites %d, want %d", last.Event, r.Violation.Event, len(path))
	}
	// "crash n3" touches n3 only; after it n3 is down.
	crash := obs.seen[6]
	if len(crash.Touched) != 1 || crash.Touched[0] != 3 || crash.World.Up(3) {
		t.Errorf("after the crash: touched %v, n3 up %v", crash.Touched, crash.World.Up(3))
	}
	sends := map[int]sim.Entry{}
	for _, e := range r.Trace {
		switch e.What {
		case sim.Send:
			sends[e.Msg] = e
		case sim.Deliver:
			if s, ok := sends[e.Msg]; !ok || s.Node != e.Peer || s.Peer != e.Node || sim.HashOf(s.Data) != sim.HashOf(e.Data) {
				t.Errorf("%s (msg %d) matches no send", e, e.Msg)
			}
		}
	}
	if _, ok := obs.seen[len(path)].World.State(1).(node.Node); !ok {
		t.Error("the last observation has no state for n1")
	}
}
