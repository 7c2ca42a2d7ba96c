package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// The gossip protocol of these tests: at start each node draws a token and sends it to
// everyone, then keeps sending it every few milliseconds; every message names its author
// (From) as the author's code sees itself, and receivers output what they got. A mutator
// bumps the token, never the author.
type token struct {
	From  node.ID
	Token int
	Round int
}

type gossip struct {
	self  node.ID
	token int
	round int
}

func (g *gossip) Start(env node.Env) {
	g.self = env.Self()
	g.token = 1 + env.Choose(1000)
	g.tick(env)
}

func (g *gossip) tick(env node.Env) {
	g.round++
	env.Broadcast(token{From: g.self, Token: g.token, Round: g.round})
	if g.round < 5 {
		env.SetTimer("tick", 5*time.Millisecond, 5*time.Millisecond)
	}
}

func (g *gossip) Receive(env node.Env, from node.ID, m node.Message) {
	env.Output(received{Peer: from, Msg: m.(token)})
}

func (g *gossip) Timer(env node.Env, name string) { g.tick(env) }

func (g *gossip) Request(env node.Env, req node.Request) {
	env.Reply(req, 42) // every node answers 42...
	if g.self == 1 {
		env.Reply(req, 13) // ...and node 1 also answers 13, as a lying node would
	}
}

type received struct {
	Peer node.ID // the sender the simulator stamped
	Msg  token
}

var gossipProtocol = &node.Protocol{
	Name: "gossip", New: func(node.Config, node.ID) node.Node { return &gossip{} },
	DefaultN: 4, MinN: 1, MaxFaulty: func(n int) int { return (n - 1) / 3 },
	Timing: node.Timing{Delay: time.Millisecond, Settle: 20 * time.Millisecond},
	Mutators: []node.Mutator{{Name: "bump", Mutate: func(m node.Message, choose func(int) int) (node.Message, bool) {
		t, ok := m.(token)
		t.Token += 1 + choose(3)
		return t, ok
	}}},
}

func gossipConfig(b sim.Byzantine, f int) sim.Config {
	return sim.Config{Protocol: gossipProtocol, Cluster: node.Config{N: 4, F: f},
		Profile: sim.Profile{Delay: sim.Delay{Min: time.Millisecond, Typical: 2 * time.Millisecond}, Byzantine: b},
		Faults:  100 * time.Millisecond, Trace: sim.TraceFull}
}

// strategyKinds are the counted kinds of the adversary's strategies.
var strategyKinds = []sim.Kind{sim.KindSilent, sim.KindEquivocate, sim.KindMutate, sim.KindReplay,
	sim.KindSelective, sim.KindTwins}

// TestEachStrategyFiresAlone runs each strategy on its own and checks that it, and no other
// strategy, is counted, with its trace entries at the Byzantine node.
func TestEachStrategyFiresAlone(t *testing.T) {
	tests := []struct {
		b    sim.Byzantine
		kind sim.Kind
	}{
		{sim.Byzantine{Silent: true}, sim.KindSilent},
		{sim.Byzantine{Equivocate: 1}, sim.KindEquivocate},
		{sim.Byzantine{Mutate: 0.5}, sim.KindMutate},
		{sim.Byzantine{Replay: 0.5}, sim.KindReplay},
		{sim.Byzantine{Selective: 0.5}, sim.KindSelective},
		{sim.Byzantine{Twins: true}, sim.KindTwins},
	}
	for _, tt := range tests {
		fired := false
		for seed := uint64(0); seed < 20 && !fired; seed++ {
			r := sim.Run(gossipConfig(tt.b, 1), sim.NewSeeded(seed))
			if r.Violation != nil {
				t.Fatalf("%v seed %d: %v", tt.kind, seed, r.Violation)
			}
			byz := r.Profile.Byzantine.Nodes
			if len(byz) != 1 {
				t.Fatalf("%v seed %d: Byzantine nodes %v, want one", tt.kind, seed, byz)
			}
			for _, k := range strategyKinds {
				if k != tt.kind && r.Faults[k] > 0 {
					t.Errorf("%v seed %d: %v fired %d times", tt.kind, seed, k, r.Faults[k])
				}
			}
			for _, e := range r.Trace {
				if e.What == sim.Mutation && e.Node != byz[0] {
					t.Errorf("%v seed %d: adversary entry at correct node n%d: %v", tt.kind, seed, e.Node, e)
				}
			}
			fired = r.Faults[tt.kind] > 0
		}
		if !fired {
			t.Errorf("%v never fired in 20 seeds", tt.kind)
		}
	}
}

// TestChannelsAreAuthenticated: whatever the adversary does, every delivery is stamped with
// its true sender, so a message always comes from the author its sender's code wrote.
func TestChannelsAreAuthenticated(t *testing.T) {
	for seed := uint64(0); seed < 100; seed++ {
		w, r := sim.Simulate(gossipConfig(sim.Byzantine{Swarm: true}, 1), sim.NewSeeded(seed))
		for _, o := range w.Outputs() {
			got := o.Value.(received)
			if got.Peer != got.Msg.From {
				t.Fatalf("seed %d (%s): n%d got %v from n%d", seed, r.Profile.Byzantine, o.Node, got.Msg, got.Peer)
			}
		}
	}
}

// TestCorrectReportsByzantineNodes: exactly the drawn nodes are Byzantine, and a run without
// f has none.
func TestCorrectReportsByzantineNodes(t *testing.T) {
	for f := 0; f <= 2; f++ {
		for seed := uint64(0); seed < 10; seed++ {
			w, r := sim.Simulate(gossipConfig(sim.Byzantine{Mutate: 0.1}, f), sim.NewSeeded(seed))
			byz := map[node.ID]bool{}
			for _, id := range r.Profile.Byzantine.Nodes {
				byz[id] = true
			}
			if len(byz) != f {
				t.Fatalf("f=%d seed %d: Byzantine nodes %v", f, seed, r.Profile.Byzantine.Nodes)
			}
			for id := node.ID(1); id <= 4; id++ {
				if w.Correct(id) == byz[id] {
					t.Errorf("f=%d seed %d: Correct(n%d) = %v, Byzantine %v", f, seed, id, w.Correct(id), byz[id])
				}
			}
		}
	}
}

// TestPinnedNodes: a profile may name the Byzantine nodes.
func TestPinnedNodes(t *testing.T) {
	r := sim.Run(gossipConfig(sim.Byzantine{Nodes: []node.ID{3}, Mutate: 0.5}, 1), sim.NewSeeded(1))
	if got := r.Profile.Byzantine.Nodes; len(got) != 1 || got[0] != 3 {
		t.Fatalf("Byzantine nodes %v, want [3]", got)
	}
}

// TestAdversaryReplays: a Byzantine run replays exactly from its choices, and choosing zero
// everywhere makes the adversary behave correctly, so that shrinking removes its faults.
func TestAdversaryReplays(t *testing.T) {
	cfg := gossipConfig(sim.Byzantine{Swarm: true}, 1)
	for seed := uint64(0); seed < 30; seed++ {
		r := sim.Run(cfg, sim.NewSeeded(seed))
		rec := sim.NewRecorded(r.Choices)
		again := sim.Run(cfg, rec)
		if again.TraceHash != r.TraceHash || rec.Diverged() {
			t.Fatalf("seed %d: replay gave trace %x, recorded %x (diverged %v)", seed, again.TraceHash, r.TraceHash, rec.Diverged())
		}
	}
	zero := sim.Run(cfg, sim.NewRecorded(nil))
	for _, k := range strategyKinds {
		if zero.Faults[k] > 0 {
			t.Errorf("all-zero choices: %v fired %d times", k, zero.Faults[k])
		}
	}
}

// TestTwinsSplitTheNetwork: the two twins draw their own tokens, and each peer hears only
// the twin on its side of the split.
func TestTwinsSplitTheNetwork(t *testing.T) {
	split := false
	for seed := uint64(0); seed < 20; seed++ {
		w, r := sim.Simulate(gossipConfig(sim.Byzantine{Twins: true}, 1), sim.NewSeeded(seed))
		twin := r.Profile.Byzantine.Nodes[0]
		heard := map[node.ID]map[int]bool{} // tokens each peer got from the twinned identity
		for _, o := range w.Outputs() {
			got := o.Value.(received)
			if got.Peer != twin || o.Node == twin {
				continue
			}
			if heard[o.Node] == nil {
				heard[o.Node] = map[int]bool{}
			}
			heard[o.Node][got.Msg.Token] = true
		}
		all := map[int]bool{}
		for peer, tokens := range heard {
			if len(tokens) != 1 {
				t.Fatalf("seed %d: n%d heard tokens %v from the twins of n%d: one twin per peer", seed, peer, tokens, twin)
			}
			for tok := range tokens {
				all[tok] = true
			}
		}
		split = split || len(all) == 2
	}
	if !split {
		t.Error("no seed showed two twins with different tokens, each heard by its own side")
	}
}

// TestMatchingReplies: with Matching, a client takes a result only once that many nodes sent
// it, so node 1's lie never becomes an answer; without, it sometimes does.
func TestMatchingReplies(t *testing.T) {
	answers := func(matching func(node.Config) int) map[any]int {
		p := *gossipProtocol
		p.Workload = &node.Workload{Clients: 3, Ops: 3, Timeout: 20 * time.Millisecond,
			Next:     func(c node.ClientID, seq int, choose func(int) int) any { return seq },
			Result:   func(reply any) (any, bool, node.ID) { return reply, true, 0 },
			Matching: matching}
		got := map[any]int{}
		for seed := uint64(0); seed < 30; seed++ {
			cfg := gossipConfig(sim.Byzantine{}, 0)
			cfg.Protocol = &p
			w, _ := sim.Simulate(cfg, sim.NewSeeded(seed))
			for _, op := range w.History() {
				if op.Done {
					got[op.Output]++
				}
			}
		}
		return got
	}
	if got := answers(func(node.Config) int { return 2 }); got[13] > 0 || got[42] == 0 {
		t.Errorf("with 2 matching replies: answers %v, want only 42", got)
	}
	if got := answers(nil); got[13] == 0 {
		t.Errorf("with one reply: answers %v, want some 13 (the test would prove nothing)", got)
	}
}

func (r received) String() string { return fmt.Sprintf("%v from n%d", r.Msg, r.Peer) }
