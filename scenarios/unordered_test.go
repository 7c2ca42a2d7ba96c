package scenarios_test

import (
	"testing"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
)

// Paxos declares node.Explore.UnorderedOutputs: with the claim its space is smaller, and the
// verdicts (the violation and its shortest length, the sometimes-properties reached) are
// those of the search without it, correct and with no-retry, in no-retry's bounds (no-persist
// needs bounds that take minutes; sim's TestUnorderedOutputsIsTestedNotTrusted has a claim
// that hides a violation).
func TestUnorderedOutputsKeepsPaxosVerdicts(t *testing.T) {
	b, err := scenarios.ResolveExplore("paxos", "no-retry", 0, sim.UntimedOptions{Requests: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Protocol.Explore.UnorderedOutputs {
		t.Fatal("paxos no longer declares UnorderedOutputs: this test compares nothing")
	}
	for _, c := range []struct {
		bug  string
		opts sim.UntimedOptions
	}{
		{"", sim.UntimedOptions{Requests: 1, Ordered: true}},
		{"no-retry", sim.UntimedOptions{Requests: 1}},
	} {
		with, err := scenarios.ResolveExplore("paxos", c.bug, 0, c.opts, b.Cluster.Params)
		if err != nil {
			t.Fatal(err)
		}
		p := *with.Protocol
		p.Explore.UnorderedOutputs = false
		without := *with
		without.Protocol = &p
		a, z := porRun(t, with, false, 0), porRun(t, &without, false, 0)
		t.Logf("%s/%s: %d states with the claim, %d without; violation %v", c.bug, c.opts, a.Unique, z.Unique, a.Violation != nil)
		if (a.Violation == nil) != (z.Violation == nil) || a.Complete != z.Complete {
			t.Fatalf("%s/%s: with the claim %+v, without %+v", c.bug, c.opts, a, z)
		}
		if a.Violation != nil && (a.Violation.Property != z.Violation.Property || len(a.Violation.Path.Actions) != len(z.Violation.Path.Actions)) {
			t.Errorf("%s: violations %+v and %+v", c.bug, a.Violation, z.Violation)
		}
		for i := range a.Witnesses {
			if (a.Witnesses[i].Path == nil) != (z.Witnesses[i].Path == nil) {
				t.Errorf("%s: sometimes %s reached with the claim: %v, without: %v", c.bug, a.Witnesses[i].Property, a.Witnesses[i].Path != nil, z.Witnesses[i].Path != nil)
			}
		}
		if a.Violation == nil && a.Unique >= z.Unique {
			t.Errorf("%s: the claim did not reduce the space: %d states with it, %d without", c.bug, a.Unique, z.Unique)
		}
	}
}
