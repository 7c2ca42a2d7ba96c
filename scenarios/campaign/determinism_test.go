package campaign

import (
	"testing"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/sim/capsule"
)

// mapOrder outputs the keys of a map in Go's map order, which differs from run to run.
type mapOrder struct{ leaky }

func (m *mapOrder) Start(env node.Env) {
	for k := range map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true} {
		env.Output(k)
	}
}

// The capsule of a seed that fails -check-determinism records the failure: without its
// property, a replay of it would find "no violation" and a regression corpus count it passed.
func TestADeterminismCapsuleRecordsItsProperty(t *testing.T) {
	p := *paxos.Protocol
	p.Invariants, p.Progress, p.Sometimes, p.Workload = nil, nil, nil, nil
	p.New = func(cfg node.Config, id node.ID) node.Node { return &mapOrder{} }
	spec := paxosSpec(t, "")
	spec.Protocol = &p
	s := run(t, &Campaign{Spec: spec, Seeds: seeds(3), Workers: 1, CheckDeterminism: true, OutDir: t.TempDir()})
	if s.Failures == 0 || s.Violations[0].Property != PropDeterminism {
		t.Fatalf("map order passed -check-determinism: %+v", s)
	}
	v := s.Violations[0]
	c, err := capsule.Read(v.Capsule)
	if err != nil {
		t.Fatal(err)
	}
	if c.Property != PropDeterminism || c.Message != v.Message {
		t.Errorf("capsule records %q: %q, want %q: %q", c.Property, c.Message, PropDeterminism, v.Message)
	}
}
