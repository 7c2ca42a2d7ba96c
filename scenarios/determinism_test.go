package scenarios

import (
	"testing"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
)

// mapOrder outputs the keys of a map in Go's map order, which differs from run to run.
type mapOrder struct{}

func (m *mapOrder) Start(env node.Env) {
	for k := range map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true} {
		env.Output(k)
	}
}
func (m *mapOrder) Receive(node.Env, node.ID, node.Message) {}
func (m *mapOrder) Timer(node.Env, string)                  {}
func (m *mapOrder) Request(env node.Env, req node.Request)  { env.Reply(req, paxos.Value(1)) }

// A capsule that records a determinism failure (as `replica run -check-determinism` writes
// one) replays as a violation of determinism when its runs still differ, by replay and by a
// regression corpus alike, and as no violation when they do not; other capsules run once,
// as before. The map-order protocol is registered for the test alone.
func TestADeterminismCapsuleReplaysAsOne(t *testing.T) {
	p := *paxos.Protocol
	p.Name, p.Bugs = "paxos-map-order", nil
	p.Invariants, p.Progress, p.Sometimes, p.Workload, p.Liveness = nil, nil, nil, nil, nil
	p.New = func(node.Config, node.ID) node.Node { return &mapOrder{} }
	registerForTest(t, &p)
	leaky, err := New(&p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := leaky.Capsule(0, leaky.Run(0), "run")
	c.Property = PropDeterminism

	rp, err := ReplayCapsule(c)
	if err != nil {
		t.Fatal(err)
	}
	if v := rp.Result.Violation; v == nil || v.Property != PropDeterminism || len(v.Details) == 0 {
		t.Errorf("replay of a map-order capsule: %v, want a violation of determinism where the traces part", v)
	}
	r, err := ReplayAs(c, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Violation == nil || r.Violation.Property != PropDeterminism {
		t.Errorf("corpus replay of a map-order capsule: %v, want a violation of determinism", r.Violation)
	}
	c.Property = ""
	if rp, err := ReplayCapsule(c); err != nil || rp.Result.Violation != nil {
		t.Errorf("a capsule that records no failure: %v %v, want no violation (it runs once)", err, rp.Result.Violation)
	}

	// A deterministic protocol's capsule, marked so, replays without a violation.
	s, err := Resolve("paxos", "", "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	c = s.Capsule(0, s.Run(0), "run")
	c.Property = PropDeterminism
	if rp, err := ReplayCapsule(c); err != nil || rp.Result.Violation != nil {
		t.Errorf("replay of deterministic paxos: %v %v, want no violation", err, rp.Result.Violation)
	}
	if r, err := ReplayAs(c, ""); err != nil || r.Violation != nil {
		t.Errorf("corpus replay of deterministic paxos: %v %v, want no violation", err, r.Violation)
	}
}
