package simtest_test

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/simtest"
)

// Propose carries a client's value to every node.
type Propose struct{ Value int }

// firstWins is a new protocol in a few lines, and a wrong one: each node decides the first
// value it hears of, its own client's or a peer's. With no quorum to agree on one value,
// two nodes that hear of different values first decide differently.
type firstWins struct{ decided int }

func (n *firstWins) Start(env node.Env)              {}
func (n *firstWins) Timer(env node.Env, name string) {}

func (n *firstWins) Request(env node.Env, req node.Request) {
	env.Broadcast(Propose{req.Op.(int)})
	n.decide(env, req.Op.(int))
	env.Reply(req, n.decided)
}

func (n *firstWins) Receive(env node.Env, from node.ID, m node.Message) {
	n.decide(env, m.(Propose).Value)
}

func (n *firstWins) decide(env node.Env, v int) {
	if n.decided == 0 {
		n.decided = v
		env.Output(v)
	}
}

// FirstWins describes the protocol to the testbed: how to make a node, what must always
// hold, and what its clients ask.
var FirstWins = &node.Protocol{
	Name: "first-wins", DefaultN: 3, MinN: 1,
	New: func(cfg node.Config, id node.ID) node.Node { return &firstWins{} },
	Invariants: []node.Invariant{{Name: "agreement", Check: func(w node.World) error {
		out := w.Outputs()
		for _, o := range w.NewOutputs() {
			if o.Value != out[0].Value {
				return fmt.Errorf("n%d decided %v, n%d decided %v", o.Node, o.Value, out[0].Node, out[0].Value)
			}
		}
		return nil
	}}},
	Workload: &node.Workload{Clients: 2, Ops: 1, Timeout: 100 * time.Millisecond,
		Next:   func(c node.ClientID, seq int, choose func(int) int) any { return 10 * int(c) },
		Result: func(reply any) (any, bool, node.ID) { return reply, true, 0 },
		// What clients see is consensus: every proposal answers with the first value chosen.
		Spec: node.Sequential[int, int, int]{Name: "consensus", Init: func() int { return 0 },
			Step: func(decided, v int) (int, int) {
				if decided == 0 {
					decided = v
				}
				return decided, decided
			}}.Spec()},
	Timing: node.Timing{Delay: 10 * time.Millisecond, Settle: 200 * time.Millisecond},
}

// A new protocol is tested in a few lines: a configuration (cluster, network, fault phase)
// and simtest. In a test, simtest.Run(t, s) fails the test with the violation, the events
// that led to it and a capsule; simtest.Check(t, s) lets rapid draw and shrink the runs.
func Example() {
	s := simtest.Of(sim.Config{
		Protocol: FirstWins,
		Cluster:  node.Config{N: 3},
		Profile:  sim.Profile{Delay: sim.Delay{Min: time.Millisecond, Typical: 10 * time.Millisecond}},
		Faults:   time.Second,
	})
	_, r, found := simtest.Find(s, simtest.Seeds(50))
	fmt.Println("violation found:", found, r.Violation.Property)
	// Output: violation found: true agreement
}

// A protocol of the catalog runs by name: here Paxos with its no-persist bug, in the
// scenario that finds it, and the correct Paxos in the same scenario.
func ExampleFind() {
	buggy, _ := scenarios.Resolve("paxos", "no-persist", "", 0, 0)
	_, r, found := simtest.Find(buggy, simtest.Seeds(2000))
	fmt.Println("no-persist:", found, r.Violation.Property)

	correct, _ := scenarios.Resolve("paxos", "", "crash-restart", 0, 0)
	_, _, found = simtest.Find(correct, simtest.Seeds(200))
	fmt.Println("correct:", found)
	// Output:
	// no-persist: true agreement
	// correct: false
}
