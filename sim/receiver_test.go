package sim_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
)

// stamper is a protocol whose receivers change what they get, as etcd raft's leader numbers
// the entries of a proposal in place: a receiver overwrites the message's mark, and a
// client's operation, once it has read them. A message read off a real network is the
// receiver's own; in the simulator the world still holds it (in the trace, in the untimed
// state that the other successors of a step share, in a client that sends its request again).
type stamper struct{ Got []int }

type stamp struct{ Marks []int }

func (s *stamper) Start(env node.Env) {
	if env.Self() == 1 {
		env.Send(2, stamp{Marks: []int{7}})
	}
}

func (s *stamper) Receive(env node.Env, _ node.ID, m node.Message) {
	st := m.(stamp)
	s.Got = append(s.Got, st.Marks[0])
	st.Marks[0] = -1 // the receiver's own copy: no one else may see this
}

func (s *stamper) Request(env node.Env, req node.Request) {
	op := req.Op.([]int)
	s.Got = append(s.Got, op[0])
	op[0] = -1
}

func (s *stamper) Timer(node.Env, string) {}

var stamperProtocol = &node.Protocol{Name: "stamper", DefaultN: 2, MinN: 2,
	New: func(node.Config, node.ID) node.Node { return &stamper{} },
	Invariants: []node.Invariant{{Name: "got-as-sent", Check: func(w node.World) error {
		for _, id := range []node.ID{1, 2} {
			if n, ok := w.State(id).(*stamper); ok && slices.Contains(n.Got, -1) {
				return fmt.Errorf("n%d got %v: another receiver's change", id, n.Got)
			}
		}
		return nil
	}}},
	Workload: &node.Workload{Clients: 1, Ops: 1, Timeout: time.Second, Attempts: 2,
		Next:   func(node.ClientID, int, func(int) int) any { return []int{5} },
		Result: func(r any) (any, bool, node.ID) { return r, true, 0 }},
}

// TestReceiversGetTheirOwnCopies: in the untimed world, where a message in flight belongs to
// the state the step starts from, a receiver that changes what it got changes neither that
// state (delivering the message again, from there, gives the same successor) nor what a
// client sends again; in the timed world, the trace shows a message as it was sent.
func TestReceiversGetTheirOwnCopies(t *testing.T) {
	u := sim.NewUntimed(stamperProtocol, node.Config{N: 2},
		sim.UntimedOptions{Crashes: 1, Requests: 1, Timeouts: 1, Duplicate: true})
	// Every reachable state expanded twice, not the explorer's sample. Got grows with every
	// retry, so the space is bounded only by the explorer's view: stop after a few thousand.
	states, seen := 0, map[uint64]bool{}
	for queue := u.Init(); len(queue) > 0 && states < 3000; queue = queue[1:] {
		s := queue[0]
		if fp := u.Fingerprint(s); seen[fp] {
			continue
		} else {
			seen[fp] = true
		}
		states++
		var a, b []uint64
		u.Next(s, func(_ int, n *sim.UState) bool { a, queue = append(a, u.Fingerprint(n)), append(queue, n); return true })
		u.Next(s, func(_ int, n *sim.UState) bool { b = append(b, u.Fingerprint(n)); return true })
		if !slices.Equal(a, b) {
			t.Fatalf("state %v: two expansions give different successors", s)
		}
	}
	r, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1, MaxStates: 20000})
	if err != nil || r.Violation != nil {
		t.Fatalf("exploration (%d states expanded twice first): %v, violation %v", states, err, r.Violation)
	}

	// The timed world: each copy of a duplicated message, and each attempt of a client's
	// request, is the receiver's own; the trace shows them as sent.
	res := sim.Run(sim.Config{Protocol: stamperProtocol, Cluster: node.Config{N: 2}, Faults: 3 * time.Second,
		Profile: sim.Profile{Delay: sim.Delay{Min: time.Millisecond, Typical: time.Millisecond}, Duplicate: 1},
		Trace:   sim.TraceFull}, sim.NewSeeded(1))
	if res.Violation != nil {
		t.Fatal(res.Violation)
	}
	delivered, requests := 0, 0
	for _, e := range res.Trace {
		switch e.What {
		case sim.Deliver:
			delivered++
		case sim.Request:
			requests++
		}
		if (e.What == sim.Send || e.What == sim.Deliver || e.What == sim.Request) && strings.Contains(e.String(), "-1") {
			t.Errorf("the trace shows a receiver's change: %s", e)
		}
	}
	if delivered < 2 || requests < 2 {
		t.Errorf("%d deliveries and %d requests: the test needs a duplicate and a retry", delivered, requests)
	}
}
