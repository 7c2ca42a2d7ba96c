package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/bracha"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// passUp is a component that passes its sub-component's indications up.
type passUp struct{ Passed int }

func (r *passUp) Start(node.Env)                          {}
func (r *passUp) Receive(node.Env, node.ID, node.Message) {}
func (r *passUp) Timer(node.Env, string)                  {}
func (r *passUp) Request(node.Env, node.Request)          {}
func (r *passUp) Indication(env node.Env, child string, ind any) {
	r.Passed++
	node.Indicate(env, ind)
}

var passUpModule = &node.Module{Name: "passUp", New: func(node.Config, node.ID) node.Node { return &passUp{} }}

// deepBracha runs Bracha's broadcast two levels down: root -> mid -> mid/bracha.
var deepBracha = node.Compose(&node.Protocol{Name: "deep-bracha", DefaultN: 4, MinN: 4,
	Quorum: func(n int) int { return n - (n-1)/3 }, MaxFaulty: func(n int) int { return (n - 1) / 3 },
	Timing: bracha.Protocol.Timing},
	node.Part{Module: passUpModule},
	node.Part{Path: "mid", Module: passUpModule},
	node.Part{Path: "mid/bracha", Module: bracha.Module})

func deepConfig(bug string, b sim.Byzantine) sim.Config {
	return sim.Config{Protocol: deepBracha, Cluster: node.Config{N: 4, F: 1, Bug: bug},
		Profile: sim.Profile{Delay: sim.Delay{Min: 2 * time.Millisecond, Typical: 10 * time.Millisecond}, Byzantine: b},
		Faults:  800 * time.Millisecond, Trace: sim.TraceFull}
}

func TestAdversaryReachesAComponentTwoLevelsDown(t *testing.T) {
	if err := deepBracha.Validate(); err != nil {
		t.Fatal(err)
	}
	var mutated, equivocated int
	lifted := map[string]bool{}
	for seed := uint64(1); seed <= 10; seed++ {
		r := sim.Run(deepConfig("", sim.Byzantine{Equivocate: 0.5, Mutate: 0.5}), sim.NewSeeded(seed))
		if r.Violation != nil {
			t.Fatalf("seed %d: the correct broadcast failed inside the stack: %v", seed, r.Violation)
		}
		mutated += r.Faults[sim.KindMutate]
		equivocated += r.Faults[sim.KindEquivocate]
		for _, e := range r.Trace {
			if s, ok := e.Data.(interface{ String() string }); ok && e.What == sim.Mutation {
				for _, name := range []string{"mid/bracha/value", "mid/bracha/sender"} {
					if strings.Contains(s.String(), "("+name+")") {
						lifted[name] = true
					}
				}
				if strings.Contains(s.String(), "equivocate: mid/bracha:") {
					lifted["equivocate"] = true
				}
			}
		}
	}
	t.Logf("over 10 seeds: %d mutations and %d equivocations of messages two levels down", mutated, equivocated)
	if mutated == 0 || equivocated == 0 {
		t.Fatalf("over 10 seeds: %d mutations and %d equivocations of messages two levels down", mutated, equivocated)
	}
	for _, want := range []string{"mid/bracha/value", "mid/bracha/sender", "equivocate"} {
		if !lifted[want] {
			t.Errorf("no trace entry shows %s acting on the component's messages (seen %v)", want, lifted)
		}
	}
}

func TestABugTwoLevelsDownIsFoundAsTheComponentsOwnProperty(t *testing.T) {
	twins := sim.Byzantine{Twins: true, TwinsEvery: 100 * time.Millisecond}
	for seed := uint64(1); seed <= 300; seed++ {
		r := sim.Run(deepConfig(bracha.BugWeakReady, twins), sim.NewSeeded(seed))
		if r.Violation == nil {
			continue
		}
		if r.Violation.Property != "mid/bracha/agreement" {
			t.Fatalf("seed %d: %v, want mid/bracha/agreement", seed, r.Violation)
		}
		return
	}
	t.Fatal("weak-ready was not found two levels down in 300 seeds of twins")
}

func TestAStrategyThatReachesNoMessageSaysSo(t *testing.T) {
	// Only a mutator that does not exist is allowed: mutate can bend nothing, and says so.
	w, r := sim.Simulate(deepConfig("", sim.Byzantine{Mutate: 1, Mutators: []string{"no-such-mutator"}}), sim.NewSeeded(1))
	if r.Faults[sim.KindMutate] != 0 {
		t.Fatalf("%d mutations with no mutator", r.Faults[sim.KindMutate])
	}
	un := w.Unreached()
	if len(un) == 0 || !strings.Contains(strings.Join(un, "\n"), "mid/bracha bracha.") {
		t.Fatalf("Unreached = %q: want the component's messages listed", un)
	}
	said := false
	for _, e := range r.Trace {
		if s, ok := e.Data.(string); ok && strings.HasPrefix(s, "no mutator of the protocol reaches mid/bracha bracha.") {
			said = true
		}
	}
	if !said {
		t.Error("the trace does not say that mutate reached nothing")
	}
}

func TestMessageKindLooksInside(t *testing.T) {
	m := node.Envelope{Path: "mid/bracha", Msg: bracha.Echo{Sender: 1, Value: 3}}
	if got, want := sim.MessageKind(m), "mid/bracha bracha.Echo"; got != want {
		t.Errorf("MessageKind = %q, want %q", got, want)
	}
}
