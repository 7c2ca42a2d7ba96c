package scenarios_test

import (
	"strings"
	"testing"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
)

// unsized hides its node's Size, as the state of a protocol whose author forgot node.Sizer.
type unsized struct{ node.Node }

// noSizer is raft, which bounds its state (MaxSize), with a state that has no Size method.
func noSizer(t *testing.T) *node.Protocol {
	t.Helper()
	p, err := scenarios.Protocol("raft")
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxSize == nil {
		t.Fatal("raft declares no MaxSize any more: pick another protocol for this test")
	}
	q := *p
	q.Name, q.Bugs = "raft-nosize", nil
	q.New = func(cfg node.Config, id node.ID) node.Node { return unsized{p.New(cfg, id)} }
	return &q
}

const unchecked = "protocol raft-nosize declares MaxSize but its node state scenarios_test.unsized has no Size method (node.Sizer): the memory bound could not be checked"

// A protocol that bounds its state, but whose state has no Size for the memory checker to
// read, would pass every run however its memory grew: it is refused, in one line naming the
// protocol and the type, by every way a tool turns a protocol into runs.
func TestAMaxSizeWithoutASizerIsAnError(t *testing.T) {
	p := noSizer(t)
	if _, err := scenarios.New(p, scenarios.Options{}); err == nil || err.Error() != unchecked {
		t.Errorf("New: error %v, want %q", err, unchecked)
	}
	cfg := sim.Config{Protocol: p, Cluster: node.Config{N: p.DefaultN}, Faults: p.Timing.Settle}
	if _, err := scenarios.Checked(cfg); err == nil || err.Error() != unchecked {
		t.Errorf("Checked: error %v, want %q", err, unchecked)
	}
	// The same protocol with its Size is a spec, and so is one without a bound.
	raft, _ := scenarios.Protocol("raft")
	if _, err := scenarios.New(raft, scenarios.Options{}); err != nil {
		t.Errorf("raft: %v", err)
	}
	p.MaxSize = nil
	if _, err := scenarios.New(p, scenarios.Options{}); err != nil {
		t.Errorf("raft without Size or MaxSize: %v", err)
	}
}

// A scenario's own bound on the state (Checks.MaxSize) is refused likewise for a protocol
// whose state has no Size.
func TestAScenarioMaxSizeWithoutASizerIsAnError(t *testing.T) {
	p := noSizer(t)
	p.MaxSize = nil
	s, err := scenarios.New(p, scenarios.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sc := *s.Scenario
	sc.Checks.MaxSize = func(node.Config) int { return 100 }
	s.Scenario = &sc
	want := "protocol raft-nosize runs under scenario " + sc.Name + ", which bounds its state (Checks.MaxSize), but its node state scenarios_test.unsized has no Size method"
	if err := s.Validate(); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}
