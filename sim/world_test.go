package sim_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
)

// One world: the timed simulator and the untimed explorer step nodes through one core, so a
// property, a panic, a step budget or a bad value means the same under both. Each case here
// runs a small protocol under both drivers and expects the same verdict.

// steps is a protocol made of plain functions, for cases that need a few lines of behaviour.
type steps struct {
	start   func(env node.Env)
	receive func(env node.Env, from node.ID, m node.Message)
	timer   func(env node.Env, name string)
	request func(env node.Env, req node.Request)
	// state is what the node holds, for cases about values that are not plain.
	state any
}

// stepNode runs the steps of behaviours[B]: node states must be plain values, so a node
// holds the number of its behaviour rather than the functions.
type stepNode struct {
	B     int
	State any
}

var behaviours []*steps

func (n *stepNode) p() *steps { return behaviours[n.B] }

func (n *stepNode) Start(env node.Env) {
	if n.p().start != nil {
		n.p().start(env)
	}
}
func (n *stepNode) Receive(env node.Env, from node.ID, m node.Message) {
	if n.p().receive != nil {
		n.p().receive(env, from, m)
	}
}
func (n *stepNode) Timer(env node.Env, name string) {
	if n.p().timer != nil {
		n.p().timer(env, name)
	}
}
func (n *stepNode) Request(env node.Env, req node.Request) {
	if n.p().request != nil {
		n.p().request(env, req)
	}
}

func stepProtocol(name string, n int, s *steps, invs ...node.Invariant) *node.Protocol {
	b := len(behaviours)
	behaviours = append(behaviours, s)
	return &node.Protocol{Name: name, DefaultN: n, MinN: 1, Invariants: invs,
		Timing: node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond},
		New: func(node.Config, node.ID) node.Node {
			st := &stepNode{B: b}
			if s.state != nil {
				st.State = s.state
			}
			return st
		}}
}

// bothDrivers runs p seeded (a few seeds) and explores it, and returns the first violation
// of each: property and message.
func bothDrivers(t *testing.T, p *node.Protocol, opts sim.UntimedOptions) (timed, untimed *sim.Violation) {
	t.Helper()
	cfg := sim.Config{Protocol: p, Cluster: node.Config{N: p.DefaultN}, Faults: time.Second}
	for seed := uint64(0); seed < 20 && timed == nil; seed++ {
		timed = sim.Run(cfg, sim.NewSeeded(seed)).Violation
	}
	u := sim.NewUntimed(p, node.Config{N: p.DefaultN}, opts)
	r, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1, MaxStates: 100_000})
	if err != nil {
		t.Fatalf("explore: %v", err)
	}
	if r.Violation != nil {
		rp, err := u.Replay(r.Violation.Path.Init, r.Violation.Path.Actions)
		if err != nil {
			t.Fatalf("replaying the explorer's path: %v", err)
		}
		untimed = rp.Violation
		if untimed == nil || untimed.Property != r.Violation.Property {
			t.Fatalf("the explorer found %s, its path replays to %v", r.Violation.Property, untimed)
		}
	}
	return timed, untimed
}

func sameVerdict(t *testing.T, timed, untimed *sim.Violation, property, message string) {
	t.Helper()
	for _, v := range []struct {
		driver string
		v      *sim.Violation
	}{{"timed", timed}, {"untimed", untimed}} {
		switch {
		case v.v == nil:
			t.Errorf("%s: no violation, want %s", v.driver, property)
		case v.v.Property != property || !strings.Contains(v.v.Message, message):
			t.Errorf("%s: %s: %s; want %s mentioning %q", v.driver, v.v.Property, v.v.Message, property, message)
		}
	}
}

// agreementOf is Paxos's own agreement invariant.
func agreementOf(t *testing.T) node.Invariant {
	for _, inv := range paxos.Protocol.Invariants {
		if inv.Name == "agreement" {
			return inv
		}
	}
	t.Fatal("paxos has no agreement invariant")
	return node.Invariant{}
}

// TestTwoDecisionsBreakAgreementInBothWorlds is the case of issue 10: n2 decides 2 and then n1
// decides 1. The old explorer kept outputs as a sorted set and called only the last step's
// new, so agreement compared n1's decision with itself and the space came out clean.
func TestTwoDecisionsBreakAgreementInBothWorlds(t *testing.T) {
	p := stepProtocol("two-decisions", 2, &steps{
		start: func(env node.Env) {
			if env.Self() == 2 {
				env.Output(paxos.Decision[paxos.Value]{Value: 2})
				env.Send(1, "decided")
			}
		},
		receive: func(env node.Env, from node.ID, m node.Message) { env.Output(paxos.Decision[paxos.Value]{Value: 1}) },
	}, agreementOf(t))
	timed, untimed := bothDrivers(t, p, sim.UntimedOptions{})
	sameVerdict(t, timed, untimed, "agreement", "n1 decided 1, but n2 decided 2")
}

// TestOutputsOfStartAreChecked: outputs made while booting are the initial states' new ones.
func TestOutputsOfStartAreChecked(t *testing.T) {
	p := stepProtocol("start-decides", 2, &steps{
		start: func(env node.Env) { env.Output(paxos.Decision[paxos.Value]{Value: paxos.Value(env.Self())}) },
	}, agreementOf(t))
	timed, untimed := bothDrivers(t, p, sim.UntimedOptions{})
	sameVerdict(t, timed, untimed, "agreement", "n2 decided 2, but n1 decided 1")
}

// TestPanicIsAViolationInBothWorlds: a protocol that panics fails its run, or its path, with
// no-panic naming where; the explorer is not taken down.
func TestPanicIsAViolationInBothWorlds(t *testing.T) {
	p := stepProtocol("panics", 2, &steps{
		start: func(env node.Env) { env.Send(env.Self()%2+1, 0) },
		receive: func(env node.Env, from node.ID, m node.Message) {
			var table []int
			_ = table[m.(int)] // index out of range
		},
	})
	timed, untimed := bothDrivers(t, p, sim.UntimedOptions{})
	sameVerdict(t, timed, untimed, sim.PropPanic, "world_test.go")
}

// TestStepBudgetInBothWorlds: a step that never ends is cut off by the step budget.
func TestStepBudgetInBothWorlds(t *testing.T) {
	p := stepProtocol("loops", 1, &steps{
		start: func(env node.Env) { env.SetTimer("t", time.Millisecond, time.Millisecond) },
		timer: func(env node.Env, name string) {
			for {
				env.Store("k", 1)
			}
		},
	})
	timed, untimed := bothDrivers(t, p, sim.UntimedOptions{})
	sameVerdict(t, timed, untimed, sim.PropStepBudget, "more than")
}

// cyclic is a node state that points back to itself.
type cyclic struct {
	Name string
	Next *cyclic
}

// TestCyclicStateInBothWorlds: a cycle in what a node stores is a violation that names the
// type and the field, not a stack overflow.
func TestCyclicStateInBothWorlds(t *testing.T) {
	p := stepProtocol("cyclic", 1, &steps{
		start: func(env node.Env) {
			c := &cyclic{Name: "a"}
			c.Next = &cyclic{Name: "b", Next: c}
			env.Store("ring", c)
		},
	})
	timed, untimed := bothDrivers(t, p, sim.UntimedOptions{})
	sameVerdict(t, timed, untimed, sim.PropValue, "*sim_test.cyclic: its field .Next.Next leads back")
}

// TestCyclicNodeStateExplored: the explorer copies and hashes whole node states; one with a
// cycle is a violation of its initial state.
func TestCyclicNodeStateExplored(t *testing.T) {
	c := &cyclic{Name: "a"}
	c.Next = c
	p := stepProtocol("cyclic-state", 1, &steps{state: c})
	_, untimed := bothDrivers(t, p, sim.UntimedOptions{})
	if untimed == nil || untimed.Property != sim.PropValue || !strings.Contains(untimed.Message, "its field .State.Next leads back") {
		t.Errorf("explored a cyclic node state: %v", untimed)
	}
}

// TestFuncInAMessageInBothWorlds: a func is not a value to send.
func TestFuncInAMessageInBothWorlds(t *testing.T) {
	type withFunc struct {
		ID   int
		Done func()
	}
	p := stepProtocol("func-message", 2, &steps{
		start: func(env node.Env) {
			if env.Self() == 1 {
				env.Send(2, withFunc{ID: 1, Done: func() {}})
			}
		},
	})
	timed, untimed := bothDrivers(t, p, sim.UntimedOptions{})
	sameVerdict(t, timed, untimed, sim.PropValue, "its field .Done is a func")
}

// TestStartChoicesBranch: every choice a node makes in Start gives initial states of its own.
func TestStartChoicesBranch(t *testing.T) {
	p := stepProtocol("start-choice", 2, &steps{
		start: func(env node.Env) { env.Output(env.Choose(3)) },
	})
	u := sim.NewUntimed(p, node.Config{N: 2}, sim.UntimedOptions{})
	if got := len(u.Init()); got != 9 {
		t.Errorf("two nodes choosing among 3 in Start: %d initial states, want 9", got)
	}
}

// TestClientsNumberTheirOperations: in exploration each client numbers its own operations,
// the workload's choices are explored, and the history records the answers.
func TestClientsNumberTheirOperations(t *testing.T) {
	p := stepProtocol("echo", 1, &steps{
		request: func(env node.Env, req node.Request) { env.Reply(req, req.Op) },
	})
	p.Workload = &node.Workload{Clients: 2, Ops: 2, Timeout: time.Second,
		Next: func(c node.ClientID, seq int, choose func(int) int) any {
			return fmt.Sprintf("c%d#%d:%d", c, seq, choose(2))
		},
		Result: func(reply any) (any, bool, node.ID) { return reply, true, 0 },
	}
	var seen []string
	p.Sometimes = []node.Sometimes{{Name: "history", Reached: func(w node.World) bool {
		if h := w.History(); len(h) == 3 {
			var parts []string
			for _, op := range h {
				parts = append(parts, fmt.Sprintf("%v=%v/%v", op.Input, op.Output, op.Done))
			}
			seen = append(seen, strings.Join(parts, " "))
		}
		return false
	}}}
	u := sim.NewUntimed(p, node.Config{N: 1}, sim.UntimedOptions{Requests: 3})
	if _, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"c1#1:0=c1#1:0/true c1#2:1=c1#2:1/true c2#1:1=c2#1:1/true": true, // client 1 twice, then client 2
		"c1#1:1=c1#1:1/true c2#1:0=c2#1:0/true c1#2:0=c1#2:0/true": true,
	}
	for _, h := range seen {
		delete(want, h)
	}
	if len(want) > 0 {
		t.Errorf("histories not explored: %v (of %d seen)", want, len(seen))
	}
}

// TestMemoryBoundExplored: a node that outgrows the protocol's MaxSize is a memory-bound
// violation in exploration too: the fourth tick takes it over its bound of three.
func TestMemoryBoundExplored(t *testing.T) {
	p := &node.Protocol{Name: "grows", DefaultN: 1, MinN: 1, Timing: node.Timing{Delay: time.Millisecond, Settle: time.Millisecond},
		New:     func(node.Config, node.ID) node.Node { return &growing{} },
		MaxSize: func(node.Config) int { return 3 }}
	u := sim.NewUntimed(p, node.Config{N: 1}, sim.UntimedOptions{})
	r, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Violation == nil || r.Violation.Property != sim.PropMemory || len(r.Violation.Path.Actions) != 4 {
		t.Errorf("explored a node that grows past its bound: %+v", r.Violation)
	}
}

// growing appends to its log at every tick of its timer.
type growing struct{ Log []int }

func (g *growing) Start(env node.Env) { env.SetTimer("tick", time.Millisecond, time.Millisecond) }
func (g *growing) Timer(env node.Env, name string) {
	g.Log = append(g.Log, len(g.Log))
	env.SetTimer("tick", time.Millisecond, time.Millisecond)
}
func (g *growing) Receive(node.Env, node.ID, node.Message) {}
func (g *growing) Request(node.Env, node.Request)          {}
func (g *growing) Size() int                               { return len(g.Log) }
