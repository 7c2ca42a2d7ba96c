package scenarios_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
)

// commit is a two-phase commit as a new user writes it: node 1 coordinates, every node must
// vote yes before it commits, so its Quorum is n; it survives any one node crashing by waiting
// for it (its votes and the decision are synced).
type commit struct {
	votes    map[node.ID]bool
	decided  bool
	prepared bool
}

type (
	prepare  struct{}
	yes      struct{}
	decision struct{}
)

func (c *commit) Start(env node.Env) {
	c.votes = map[node.ID]bool{}
	c.decided, _ = node.Load[bool](env, "decided")
	c.prepared, _ = node.Load[bool](env, "prepared")
	if env.Self() == 1 {
		c.ask(env)
	}
}

// ask sends what the coordinator is waiting for, and asks again later.
func (c *commit) ask(env node.Env) {
	if c.decided {
		env.Broadcast(decision{})
	} else {
		node.SendAll(env, prepare{})
	}
	env.SetTimer("retry", 50*time.Millisecond, 100*time.Millisecond)
}

func (c *commit) Receive(env node.Env, from node.ID, m node.Message) {
	switch m.(type) {
	case prepare:
		if !c.prepared {
			c.prepared = true
			env.Store("prepared", true)
			env.Sync()
		}
		env.Send(from, yes{})
	case yes:
		c.votes[from] = true
		if len(c.votes) == len(env.Nodes()) && !c.decided {
			c.decide(env)
			env.Broadcast(decision{})
		}
	case decision:
		if !c.decided {
			c.decide(env)
		}
	}
}

func (c *commit) decide(env node.Env) {
	c.decided = true
	env.Store("decided", true)
	env.Sync()
	env.Output("commit")
}

func (c *commit) Timer(env node.Env, name string) { c.ask(env) }

func (c *commit) Request(env node.Env, req node.Request) {}

var twoPhase = &node.Protocol{
	Name: "two-phase-commit", Summary: "a coordinator and participants that must all vote yes",
	New:      func(node.Config, node.ID) node.Node { return &commit{} },
	DefaultN: 3, MinN: 2,
	Quorum:    func(n int) int { return n },
	Essential: func(node.Config) []node.ID { return []node.ID{1} },
	Progress: func(w node.World) []string {
		var out []string
		for id := node.ID(1); int(id) <= w.Config().N; id++ {
			if c, ok := node.StateOf[*commit](w, id); !ok || !c.decided {
				out = append(out, fmt.Sprintf("n%d has not decided", id))
			}
		}
		return out
	},
	Timing: node.Timing{Delay: 10 * time.Millisecond, Settle: time.Second},
}

// cleanFaults runs seeds 0 to 19 of spec, failing the test at a violation, and counts the
// faults of kind that fired.
func cleanFaults(t *testing.T, spec *scenarios.Spec, kind sim.Kind) int {
	t.Helper()
	fired := 0
	for seed := uint64(0); seed < 20; seed++ {
		r := spec.Run(seed)
		if r.Violation != nil {
			t.Fatalf("seed %d: %v", seed, r.Violation)
		}
		fired += r.Faults[kind]
	}
	return fired
}

// A protocol that needs every node for progress (Quorum n) still meets crashes in the default
// scenario, one node at a time: what it survives (node.Tolerance.Down, one), not what it needs.
func TestQuorumOfAllGetsCrashesInTheDefaultScenario(t *testing.T) {
	spec, err := scenarios.New(twoPhase, scenarios.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := sim.DownBudget(spec.Config()); d != 1 {
		t.Fatalf("down budget %d, want 1", d)
	}
	crashes := cleanFaults(t, spec, sim.KindCrash)
	if crashes == 0 {
		t.Fatal("20 seeds of the default scenario crashed no node of a Quorum-n protocol")
	}
	t.Logf("%d crashes in 20 seeds", crashes)
}

// The scenarios meant for a kind of protocol (storage faults, whole-cluster crashes, stacks of
// components, Byzantine nodes) let in any protocol, of any module, by what it declares, and
// say what a protocol lacks when they do not apply.
func TestScenariosFitByWhatAProtocolDeclares(t *testing.T) {
	clusterCrash, err := scenarios.Lookup("cluster-crash")
	if err != nil {
		t.Fatal(err)
	}
	corruption, err := scenarios.Lookup("disk-corruption")
	if err != nil {
		t.Fatal(err)
	}
	outside := *twoPhase // another module's protocol, named nothing the catalog knows
	outside.Tolerates = node.Tolerance{ClusterCrash: true, Disk: node.DiskFaults{Corrupt: true}}
	for _, s := range []*scenarios.Scenario{clusterCrash, corruption} {
		if err := s.Fits(&outside); err != nil {
			t.Errorf("%s does not fit a protocol that declares it survives it: %v", s.Name, err)
		}
	}
	outside.Tolerates = node.Tolerance{}
	for s, want := range map[*scenarios.Scenario]string{clusterCrash: "ClusterCrash", corruption: "Disk.Corrupt"} {
		if err := s.Fits(&outside); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s fits a protocol that declares nothing (or does not say why not): %v", s.Name, err)
		}
	}
	outside.Tolerates.ClusterCrash = true
	spec, err := scenarios.New(&outside, scenarios.Options{Scenario: "cluster-crash"})
	if err != nil {
		t.Fatal(err)
	}
	if cleanFaults(t, spec, sim.KindClusterCrash) == 0 {
		t.Error("20 seeds of cluster-crash crashed no whole cluster of a protocol that declares it survives that")
	}
	outside.Tolerates.ClusterCrash = false
	if _, err := scenarios.New(&outside, scenarios.Options{Scenario: "cluster-crash"}); err == nil ||
		!strings.Contains(err.Error(), "ClusterCrash") {
		t.Errorf("cluster-crash for a protocol that does not survive it: %v", err)
	}
	raft, _ := scenarios.Protocol("raft")
	paxos, _ := scenarios.Protocol("paxos")
	if !clusterCrash.Applies(raft) || !clusterCrash.Applies(paxos) || !corruption.Applies(raft) || corruption.Applies(paxos) {
		t.Error("the reference protocols no longer get the storage scenarios they declare")
	}
	// The stacks' scenarios, likewise, take any stack of components, not only the library's.
	churn, err := scenarios.Lookup("leader-churn")
	if err != nil {
		t.Fatal(err)
	}
	mp, _ := scenarios.Protocol("multipaxos")
	stack := *mp
	stack.Name = "someone-elses-log"
	if err := churn.Fits(&stack); err != nil {
		t.Errorf("leader-churn does not fit another module's stack: %v", err)
	}
	if err := churn.Fits(raft); err == nil || !strings.Contains(err.Error(), "stacks") {
		t.Errorf("leader-churn for raft, which is no stack: %v", err)
	}
	// And the Byzantine ones any protocol that says how many Byzantine nodes it tolerates.
	pbft, _ := scenarios.Protocol("pbft")
	bft := *pbft
	bft.Name = "someone-elses-bft"
	for _, name := range []string{"byzantine-swarm", "twins", "beyond-threshold", "byzantine-primary"} {
		s, err := scenarios.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Fits(&bft); err != nil {
			t.Errorf("%s does not fit another module's BFT protocol: %v", name, err)
		}
		if err := s.Fits(raft); err == nil || !strings.Contains(err.Error(), "MaxFaulty") {
			t.Errorf("%s for raft, which tolerates no Byzantine node: %v", name, err)
		}
	}
	bft.Mutators = nil
	if primary, _ := scenarios.Lookup("byzantine-primary"); primary.Fits(&bft) == nil {
		t.Error(`byzantine-primary fits a protocol without the "seq" mutator it uses`)
	}
}
