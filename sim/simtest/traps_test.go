package simtest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/simtest"
)

// The traps of a hand-built run that issue 10 lists, each of which once let a run pass that
// should have failed or should not have run at all.

// local is a register that each node keeps for itself: a write at one node is never seen by
// a read at another, which only the linearizability check of the history can tell.
type local struct{ reg kv.Cell }

func (l *local) Start(node.Env)                          {}
func (l *local) Receive(node.Env, node.ID, node.Message) {}
func (l *local) Timer(node.Env, string)                  {}
func (l *local) Request(env node.Env, req node.Request) {
	op, _ := node.OpOf[kv.Op](req)
	store := map[string]int{}
	if l.reg.Set {
		store[""] = l.reg.Value
	}
	r := kv.Apply(store, op)
	l.reg.Value, l.reg.Set = store[""]
	env.Reply(req, r)
}

var localRegister = &node.Protocol{
	Name: "local-register", DefaultN: 3, MinN: 1,
	New: func(node.Config, node.ID) node.Node { return &local{} },
	Workload: &node.Workload{Clients: 3, Ops: 4, Timeout: 50 * time.Millisecond, Attempts: 1,
		Next: func(c node.ClientID, seq int, choose func(int) int) any {
			if choose(2) == 0 {
				return kv.Op{Kind: kv.Get}
			}
			return kv.Op{Kind: kv.Put, Value: 100*int(c) + seq}
		},
		Result: func(reply any) (any, bool, node.ID) { return reply, true, 0 },
		Spec:   kv.Register},
	Timing: node.Timing{Delay: 5 * time.Millisecond, Settle: 100 * time.Millisecond},
}

func localConfig(p *node.Protocol) sim.Config {
	return sim.Config{Protocol: p, Cluster: node.Config{N: 3},
		Profile: sim.Profile{Delay: sim.Delay{Min: time.Millisecond, Typical: 5 * time.Millisecond}},
		Faults:  time.Second}
}

func TestOfChecksTheWorkloadsSpecification(t *testing.T) {
	_, r, found := simtest.Find(simtest.Of(localConfig(localRegister)), simtest.Seeds(50))
	if !found || r.Violation.Property != "linearizability" {
		t.Fatalf("a register kept apart at every node passed 50 hand-built runs: %+v", r.Violation)
	}
}

func TestAZeroTimingIsRefused(t *testing.T) {
	p := *localRegister
	p.Timing = node.Timing{}
	f := &fakeT{}
	simtest.Run(f, simtest.Of(localConfig(&p)), simtest.Seeds(5))
	if len(f.errors) != 1 || !strings.Contains(f.errors[0], "Timing.Delay is 0s") {
		t.Fatalf("a protocol without Timing: %q, want one error naming Timing", f.errors)
	}
	f = &fakeT{}
	cfg := localConfig(localRegister)
	cfg.Faults = 0
	simtest.Run(f, simtest.Of(cfg), simtest.Seeds(5))
	if len(f.errors) != 1 || !strings.Contains(f.errors[0], "Faults is zero") {
		t.Fatalf("a run of no length: %q, want one error naming Faults", f.errors)
	}
}

func TestABugNamedOnlyOnTheSpecRunsTheBug(t *testing.T) {
	s, err := scenarios.Resolve("paxos", "", "crash-restart", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Bug = paxos.BugNoPersist // the cluster's Bug left empty, as a hand edit would
	if got := s.Config().Cluster.Bug; got != paxos.BugNoPersist {
		t.Fatalf("the spec names %s, its runs run %q", s.Bug, got)
	}
	s.Cluster.Bug = paxos.BugNoRetry
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "names bug") {
		t.Fatalf("a spec naming one bug and running another validated: %v", err)
	}
}

func TestScenarioParamsApplyToAHandBuiltSpec(t *testing.T) {
	sc, err := scenarios.Lookup("membership-churn")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := scenarios.Protocol("raft")
	s := &scenarios.Spec{Protocol: p, Scenario: sc, Cluster: node.Config{N: 5, Params: map[string]int{"churn": 7}}}
	got := s.Config().Cluster.Params
	if got["voters"] != sc.Params["voters"] || got["churn"] != 7 {
		t.Fatalf("params %v: want the scenario's voters=%d under the spec's churn=7", got, sc.Params["voters"])
	}
	s.Scenario, _ = scenarios.Lookup("twins") // Byzantine scenarios are for BFT protocols only
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "does not apply") {
		t.Fatalf("a scenario that does not apply validated: %v", err)
	}
}

// mapOrder sends to its peers in Go map order: each run of one seed may differ.
type mapOrder struct{ peers map[node.ID]bool }

func (m *mapOrder) Start(env node.Env) {
	m.peers = map[node.ID]bool{}
	for _, id := range env.Nodes() {
		m.peers[id] = true
	}
	env.SetTimer("tick", 10*time.Millisecond, 10*time.Millisecond)
}
func (m *mapOrder) Receive(node.Env, node.ID, node.Message) {}
func (m *mapOrder) Request(node.Env, node.Request)          {}
func (m *mapOrder) Timer(env node.Env, _ string) {
	for id := range m.peers {
		env.Send(id, "hello")
	}
	env.SetTimer("tick", 10*time.Millisecond, 10*time.Millisecond)
}

func TestRunCatchesMapOrder(t *testing.T) {
	p := &node.Protocol{Name: "map-order", DefaultN: 5, MinN: 1,
		New:    func(node.Config, node.ID) node.Node { return &mapOrder{} },
		Timing: node.Timing{Delay: 5 * time.Millisecond, Settle: 100 * time.Millisecond}}
	cfg := localConfig(p)
	cfg.Cluster.N = 5
	f := &fakeT{}
	simtest.Run(f, simtest.Of(cfg), simtest.Seeds(10))
	if len(f.errors) != 1 || !strings.Contains(f.errors[0], "not deterministic") || !strings.Contains(f.errors[0], "part at event") {
		t.Fatalf("map-order sends passed simtest.Run: %q", f.errors)
	}
}
