package sim_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
)

// relay: node 1 broadcasts a value, every other node outputs the value it receives. The
// correct nodes must agree; node 1 is Byzantine in these tests.
type relay struct{ Got int }

func (r *relay) Start(env node.Env) {
	if env.Self() == 1 {
		env.Broadcast(7)
	}
}
func (r *relay) Receive(env node.Env, from node.ID, m node.Message) {
	if r.Got == 0 {
		r.Got = m.(int)
		env.Output(r.Got)
	}
}
func (r *relay) Timer(node.Env, string)         {}
func (r *relay) Request(node.Env, node.Request) {}

var relayProtocol = &node.Protocol{Name: "relay", DefaultN: 3, MinN: 3,
	New: func(node.Config, node.ID) node.Node { return &relay{} },
	Invariants: []node.Invariant{{Name: "agreement", Check: func(w node.World) error {
		var first *node.Output
		for _, o := range w.Outputs() {
			if !w.Correct(o.Node) {
				continue
			}
			if first == nil {
				first = &o
			} else if o.Value != first.Value {
				return fmt.Errorf("n%d got %v, n%d got %v", o.Node, o.Value, first.Node, first.Value)
			}
		}
		return nil
	}}},
	Mutators: []node.Mutator{{Name: "bump", Mutate: func(m node.Message, choose func(int) int) (node.Message, bool) {
		v, ok := m.(int)
		return v + 1 + choose(2), ok
	}}},
	MaxFaulty: func(int) int { return 1 },
	Timing:    node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond},
}

// TestByzantineDeviationsExplored: with a budget of one deviation, the explorer makes the
// Byzantine sender equivocate (mutating its message to one peer), and the path replays in the
// timed world to the same violation; without a budget the sender is harmless.
func TestByzantineDeviationsExplored(t *testing.T) {
	cfg := node.Config{N: 3, F: 1}
	for _, budget := range []int{0, 1} {
		u := sim.NewUntimed(relayProtocol, cfg, sim.UntimedOptions{Faulty: []node.ID{1}, Byzantine: budget})
		r, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if budget == 0 {
			if r.Violation != nil || !r.Complete {
				t.Errorf("no deviations: %+v, complete %v", r.Violation, r.Complete)
			}
			continue
		}
		if r.Violation == nil {
			t.Fatalf("budget %d: no violation in %d states", budget, r.Unique)
		}
		labels, _ := explore.Labels(u, r.Violation.Path)
		if !strings.Contains(strings.Join(labels, "; "), "byzantine n1 mutates n1 -> n") {
			t.Errorf("the path does not mutate: %v", labels)
		}
		tr, err := u.ReplayTimed(r.Violation.Path.Init, r.Violation.Path.Actions, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v := tr.Timed.Violation; v == nil || v.Property != "agreement" {
			t.Errorf("replayed in the timed world: %v", v)
		}
		if err := sim.SameSteps(tr.Untimed.Trace, tr.Timed.Trace); err != nil {
			t.Error(err)
		}
	}
}

// TestByzantineActions: a Byzantine node's messages may be mutated, withheld or replayed, each
// against the budget.
func TestByzantineActions(t *testing.T) {
	u := sim.NewUntimed(relayProtocol, node.Config{N: 3, F: 1}, sim.UntimedOptions{Faulty: []node.ID{1}, Byzantine: 2})
	s := u.Init()[0]
	kinds := map[string]bool{}
	u.Next(s, func(a int, _ *sim.UState) bool {
		l := u.Label(s, a)
		for _, k := range []string{"mutates", "withholds"} {
			if strings.Contains(l, k) {
				kinds[k] = true
			}
		}
		return true
	})
	// After one delivery, the sender has sent something it may replay.
	var next *sim.UState
	u.Next(s, func(a int, n *sim.UState) bool { next = n; return false })
	u.Next(next, func(a int, _ *sim.UState) bool {
		if strings.Contains(u.Label(next, a), "replays") {
			kinds["replays"] = true
		}
		return true
	})
	if len(kinds) != 3 {
		t.Errorf("Byzantine actions offered: %v", kinds)
	}
}

// ordered: every node tells the others hello; a node that hears from a lower ID first
// outputs "lower". Node IDs order something, so it is not symmetric.
type ordered struct{ Heard bool }

func (o *ordered) Start(env node.Env) { env.Broadcast("hello") }
func (o *ordered) Receive(env node.Env, from node.ID, m node.Message) {
	if !o.Heard {
		o.Heard = true
		env.Output(from < env.Self())
	}
}
func (o *ordered) Timer(node.Env, string)         {}
func (o *ordered) Request(node.Env, node.Request) {}

// TestSymmetryIsChecked: a protocol that declares symmetric nodes but orders them by ID is
// refused on the states the explorer samples, and a symmetric one is reduced to fewer states
// with the same verdict.
func TestSymmetryIsChecked(t *testing.T) {
	p := &node.Protocol{Name: "ordered", DefaultN: 3, MinN: 3, Explore: node.Explore{Symmetric: true},
		New:    func(node.Config, node.ID) node.Node { return &ordered{} },
		Timing: node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond}}
	u := sim.NewUntimed(p, node.Config{N: 3}, sim.UntimedOptions{Symmetry: true})
	_, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1, Symmetry: true})
	if err == nil || !strings.Contains(err.Error(), "declares symmetric nodes, but renaming") {
		t.Errorf("an asymmetric protocol explored with symmetry: %v", err)
	}

	s := &node.Protocol{Name: "roster", DefaultN: 3, MinN: 3, Explore: node.Explore{Symmetric: true},
		New:    func(node.Config, node.ID) node.Node { return &roster{} },
		Timing: node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond}}
	var counts []int64
	for _, sym := range []bool{false, true} {
		u := sim.NewUntimed(s, node.Config{N: 3}, sim.UntimedOptions{Symmetry: sym})
		r, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1, Symmetry: sym})
		if err != nil || !r.Complete || r.Violation != nil {
			t.Fatalf("symmetry %v: %v, complete %v, violation %v", sym, err, r.Complete, r.Violation)
		}
		counts = append(counts, r.Unique)
	}
	if counts[1] >= counts[0] {
		t.Errorf("symmetry: %d states, without %d", counts[1], counts[0])
	}
}

// roster: every node tells the others who it is; each remembers whom it heard from.
type roster struct{ Heard map[node.ID]bool }

func (g *roster) Start(env node.Env) { g.Heard = map[node.ID]bool{}; env.Broadcast(env.Self()) }
func (g *roster) Receive(env node.Env, from node.ID, m node.Message) {
	g.Heard[m.(node.ID)] = true
	if len(g.Heard) == len(env.Nodes())-1 {
		env.Output("heard everyone")
	}
}
func (g *roster) Timer(node.Env, string)         {}
func (g *roster) Request(node.Env, node.Request) {}

// A path names a message that reaches a node that is down for what it is: lost, as the step
// records it, not delivered.
func TestALabelSaysAMessageToADownNodeIsLost(t *testing.T) {
	u := sim.NewUntimed(relayProtocol, node.Config{N: 3}, sim.UntimedOptions{Crashes: 1})
	lost, delivered := 0, 0
	frontier := u.Init()
	for depth := 0; depth < 4; depth++ {
		var next []*sim.UState
		for _, s := range frontier {
			u.Next(s, func(action int, succ *sim.UState) bool {
				label := u.Label(s, action)
				if strings.HasPrefix(label, "deliver") {
					if strings.Contains(label, "(lost: n") {
						lost++
					} else {
						delivered++
					}
				}
				next = append(next, succ)
				return true
			})
		}
		frontier = next
	}
	if lost == 0 || delivered == 0 {
		t.Fatalf("%d deliveries labelled lost, %d delivered: want both, after a crash", lost, delivered)
	}
}
