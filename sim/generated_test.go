package sim_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
	"pgregory.net/rapid"
)

// The differential test on generated protocols: rapid draws a small protocol (a table of
// what a node does on start, on each message and on its timer: its next state, what it
// sends, outputs, stores and chooses), seeded runs of the timed world look for an
// agreement violation under drops, duplicates, reordering and crashes, and the explorer
// searches the untimed world with the semantics that cover those faults. Then:
//
//   - a violation seeded runs find, the explorer finds (when its search is complete);
//   - a counterexample the explorer finds replays in the timed world to the same violation,
//     step for step.
//
// A generated node is finite: it sends at most a few messages and outputs at most twice, so
// that every exploration ends.

// genRule is what a node does on one input, in one state.
type genRule struct {
	Next    int      // the state it goes to
	Alt     int      // with Choose, the state of choice 1
	Choose  bool     // the node chooses between Next and Alt
	Sends   []genMsg // messages it sends
	Output  int      // a value it outputs, or -1
	Store   bool     // it stores its state
	Sync    bool     // and syncs it
	Timer   bool     // it arms its timer
	Restart bool     // after a restart it recovers its stored state
}

type genMsg struct{ To, M int }

const (
	genStates   = 3
	genMessages = 2
	genMaxSends = 3 // messages a node sends in all
)

// genProtocol is a generated protocol's table.
type genProtocol struct {
	N       int
	Start   genRule
	Receive [genStates][genMessages]genRule
	Timer   [genStates]genRule
}

var generated []*genProtocol

// genNode runs generated[P].
type genNode struct {
	P, S, Sent, Outs int
}

func (n *genNode) p() *genProtocol { return generated[n.P] }

func (n *genNode) Start(env node.Env) {
	if v, ok := env.Load("s"); ok && n.p().Start.Restart {
		n.S = v.(int)
		return
	}
	n.apply(env, n.p().Start)
}
func (n *genNode) Receive(env node.Env, from node.ID, m node.Message) {
	n.apply(env, n.p().Receive[n.S][m.(int)])
}
func (n *genNode) Timer(env node.Env, name string) { n.apply(env, n.p().Timer[n.S]) }
func (n *genNode) Request(node.Env, node.Request)  {}

func (n *genNode) apply(env node.Env, r genRule) {
	n.S = r.Next
	if r.Choose && env.Choose(2) == 1 {
		n.S = r.Alt
	}
	for _, m := range r.Sends {
		if n.Sent < genMaxSends {
			n.Sent++
			env.Send(node.ID(1+m.To%n.p().N), m.M)
		}
	}
	if r.Output >= 0 && n.Outs < 2 {
		n.Outs++
		env.Output(r.Output)
	}
	if r.Store {
		env.Store("s", n.S)
		if r.Sync {
			env.Sync()
		}
	}
	if r.Timer {
		env.SetTimer("t", time.Millisecond, 3*time.Millisecond)
	}
}

// sameOutputs: every output of the run is the same value.
func sameOutputs(w node.World) error {
	outs := w.Outputs()
	for _, o := range w.NewOutputs() {
		if o.Value != outs[0].Value {
			return fmt.Errorf("n%d output %v, but n%d output %v", o.Node, o.Value, outs[0].Node, outs[0].Value)
		}
	}
	return nil
}

func drawRule(t *rapid.T, label string) genRule {
	r := genRule{
		Next:    rapid.IntRange(0, genStates-1).Draw(t, label+".next"),
		Alt:     rapid.IntRange(0, genStates-1).Draw(t, label+".alt"),
		Choose:  rapid.IntRange(0, 4).Draw(t, label+".choose") == 0,
		Output:  rapid.IntRange(-1, 1).Draw(t, label+".output"),
		Store:   rapid.Bool().Draw(t, label+".store"),
		Sync:    rapid.Bool().Draw(t, label+".sync"),
		Timer:   rapid.IntRange(0, 3).Draw(t, label+".timer") == 0,
		Restart: rapid.Bool().Draw(t, label+".restart"),
	}
	for i := rapid.IntRange(0, 2).Draw(t, label+".sends"); i > 0; i-- {
		r.Sends = append(r.Sends, genMsg{rapid.IntRange(0, 2).Draw(t, label+".to"), rapid.IntRange(0, genMessages-1).Draw(t, label+".m")})
	}
	return r
}

func drawProtocol(t *rapid.T) *node.Protocol {
	g := &genProtocol{N: rapid.IntRange(2, 3).Draw(t, "n"), Start: drawRule(t, "start")}
	for s := range genStates {
		g.Timer[s] = drawRule(t, fmt.Sprintf("timer%d", s))
		for m := range genMessages {
			g.Receive[s][m] = drawRule(t, fmt.Sprintf("recv%d.%d", s, m))
		}
	}
	generated = append(generated, g)
	i := len(generated) - 1
	return &node.Protocol{Name: fmt.Sprintf("generated-%d", i), DefaultN: g.N, MinN: 1,
		New:        func(node.Config, node.ID) node.Node { return &genNode{P: i} },
		Invariants: []node.Invariant{{Name: "same-outputs", Check: sameOutputs}},
		Timing:     node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond}}
}

// genProfile is the timed world's faults: no more crashes than the explorer's budget can
// follow is checked run by run.
var genProfile = sim.Profile{
	Delay: sim.Delay{Min: 100 * time.Microsecond, Typical: time.Millisecond}, Reorder: true,
	Drop: 0.1, Duplicate: 0.1, FaultEvery: 2 * time.Millisecond, Crash: 1, Down: 2 * time.Millisecond, MaxDown: 1,
}

const genCrashes = 1

// longDifferential (REPLICA_DIFFERENTIAL=long, as in CI) checks more generated protocols, and
// explores them further.
var longDifferential = os.Getenv("REPLICA_DIFFERENTIAL") == "long"

func TestDifferentialGenerated(t *testing.T) {
	checks, maxStates := "12", int64(4_000)
	if longDifferential {
		checks, maxStates = "200", 20_000
	}
	old := flag.Lookup("rapid.checks").Value.String()
	flag.Set("rapid.checks", checks)
	defer flag.Set("rapid.checks", old)
	var stats struct{ checks, seeded, found, complete, replayed int }
	defer func() {
		t.Logf("%d generated protocols: %d with a seeded violation, %d explored completely, %d with an explorer counterexample, %d replayed in the timed world to it",
			stats.checks, stats.seeded, stats.complete, stats.found, stats.replayed)
	}()
	rapid.Check(t, func(rt *rapid.T) {
		stats.checks++
		p := drawProtocol(rt)
		cfg := sim.Config{Protocol: p, Cluster: node.Config{N: p.DefaultN}, Profile: genProfile, Faults: 20 * time.Millisecond}
		var seeded *sim.Violation
		var seed uint64
		for s := uint64(0); s < 30 && seeded == nil; s++ {
			if r := sim.Run(cfg, sim.NewSeeded(s)); r.Violation != nil && r.Faults[sim.KindCrash] <= genCrashes {
				seeded, seed = r.Violation, s
			}
		}
		u := sim.NewUntimed(p, node.Config{N: p.DefaultN}, sim.UntimedOptions{Duplicate: true, Lossy: true, Crashes: genCrashes})
		r, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1, MaxStates: maxStates})
		if err != nil {
			rt.Fatal(err)
		}
		if seeded != nil {
			stats.seeded++
		}
		if r.Complete || r.Violation != nil {
			stats.complete++
		}
		if r.Violation != nil {
			stats.found++
		}
		switch {
		case seeded != nil && r.Violation == nil && r.Complete:
			rt.Fatalf("seed %d violates %s (%s), and the complete exploration (%d states) finds nothing", seed, seeded.Property, seeded.Message, r.Unique)
		case seeded != nil && r.Violation != nil && r.Violation.Property != seeded.Property:
			rt.Fatalf("seed %d violates %s, the explorer %s", seed, seeded.Property, r.Violation.Property)
		case r.Violation == nil:
			return
		}
		tr, err := u.ReplayTimed(r.Violation.Path.Init, r.Violation.Path.Actions, nil)
		if err != nil {
			rt.Fatalf("timed replay of the explorer's path: %v", err)
		}
		if tv := tr.Timed.Violation; tv == nil || tv.Property != r.Violation.Property || tv.Event != len(r.Violation.Path.Actions) {
			rt.Fatalf("the explorer's path violates %s after %d steps; replayed timed: %v", r.Violation.Property, len(r.Violation.Path.Actions), tv)
		}
		if err := sim.SameSteps(tr.Untimed.Trace, tr.Timed.Trace); err != nil {
			rt.Fatalf("the timed replay does not take the explorer's steps: %v", err)
		}
		stats.replayed++
	})
}
