package gossip_test

import (
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/gossip"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

// maxer is the harness above gossip: each node draws numbers now and then and publishes the
// largest it knows, merging what arrives by keeping the larger (the simplest state-based
// CRDT).
type maxer struct{ Max, Drawn int }

func (m *maxer) Start(env node.Env) { env.SetTimer("draw", 10*time.Millisecond, 50*time.Millisecond) }
func (m *maxer) Timer(env node.Env, name string) {
	if m.Drawn++; m.Drawn > 5 {
		return
	}
	m.Max = max(m.Max, env.Choose(1000))
	node.Ask(env, "gossip", gossip.Publish{State: m.Max})
	env.SetTimer("draw", 10*time.Millisecond, 50*time.Millisecond)
}
func (m *maxer) Indication(env node.Env, child string, ind any) {
	if r, ok := ind.(gossip.Received); ok && r.State.(int) > m.Max {
		m.Max = r.State.(int)
		node.Ask(env, "gossip", gossip.Publish{State: m.Max})
	}
}
func (m *maxer) Receive(node.Env, node.ID, node.Message) {}
func (m *maxer) Request(node.Env, node.Request)          {}

var harness = node.Compose(&node.Protocol{Name: "maxer", DefaultN: 3, MinN: 1, Quorum: func(int) int { return 1 },
	Timing: node.Timing{Delay: 10 * time.Millisecond, Settle: 300 * time.Millisecond}},
	node.Part{Module: &node.Module{Name: "maxer", New: func(node.Config, node.ID) node.Node { return &maxer{} }}},
	node.Part{Path: "gossip", Module: gossip.Module})

func spec(t *testing.T, bug, scenario string) *scenarios.Spec {
	t.Helper()
	if err := harness.Validate(); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Lookup(scenario)
	if err != nil {
		t.Fatal(err)
	}
	return &scenarios.Spec{Protocol: harness, Bug: bug, Scenario: sc, Cluster: node.Config{N: 3, Bug: bug}}
}

func TestGossipReachesEveryone(t *testing.T) {
	for _, sc := range []string{"default", "lossy-crash", "swarm"} {
		if seed, r, failed := simtest.Find(spec(t, "", sc), simtest.Seeds(25)); failed {
			t.Errorf("%s seed %d: %v", sc, seed, r.Violation)
		}
	}
}

func TestPushOnceIsFound(t *testing.T) {
	seed, r, found := simtest.Find(spec(t, gossip.BugPushOnce, "lossy-crash"), simtest.Seeds(50))
	if !found || r.Violation.Property != "gossip/progress" {
		t.Fatalf("push-once: found %v (seed %d): %v", found, seed, r.Violation)
	}
}
