package simtest_test

// A guided campaign of a run with Byzantine nodes failed every seed with a
// false plain-value violation ("cannot hash a <nil>: it is a func"): coverage hashed the fields
// of the adversary's wrapper. The same seeds pass unguided, and must guided.

import (
	"strings"
	"testing"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/simtest"
)

func TestGuidedByzantineRunsPass(t *testing.T) {
	for _, c := range []struct {
		protocol, scenario string
		n, f               int
	}{
		{"bracha", "byzantine-swarm", 0, 0},
		{"pbft", "byzantine-swarm", 0, 0},
		// Step crashes on, so that guided runs aim them (and must not look at a Byzantine
		// node's state to do so); n=7 leaves room for one crash beside one Byzantine node.
		{"pbft", "crash-restart", 7, 1},
	} {
		s, err := scenarios.Resolve(c.protocol, "", c.scenario, c.n, c.f)
		if err != nil {
			t.Fatal(err)
		}
		simtest.Run(t, s, simtest.Seeds(10), simtest.Guided())
	}
}

// An Abstract whose value cannot be hashed fails the guided run as plain-value, saying that
// the value came from Abstract (not pointing at node states and messages, which are fine).
func TestAnAbstractThatIsNotPlainIsNamed(t *testing.T) {
	s, err := scenarios.Resolve("paxos", "", "default", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := *s.Protocol
	p.Name = "paxos-abstract-func"
	p.Abstract = func(w node.World) any { return struct{ F func() }{func() {}} }
	s, err = scenarios.New(&p, scenarios.Options{Scenario: "default"})
	if err != nil {
		t.Fatal(err)
	}
	_, r, found := simtest.Find(s, simtest.Seeds(2), simtest.Guided())
	if !found || r.Violation.Property != sim.PropValue ||
		!strings.Contains(r.Violation.Message, "cannot hash the value Protocol.Abstract returned") ||
		!strings.Contains(r.Violation.Message, "its field .F is a func") {
		t.Fatalf("found %v, violation %v", found, r.Violation)
	}
}
