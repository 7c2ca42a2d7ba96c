package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

func resolve(t *testing.T, protocol, scenario string) *Spec {
	t.Helper()
	s, err := Resolve(protocol, "", scenario, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// kinds names the monitors a spec's runs get, in order.
func kinds(s *Spec) []string {
	var out []string
	for _, f := range s.Config().Monitors {
		out = append(out, fmt.Sprintf("%T", f()))
	}
	return out
}

func TestEveryRunGetsTheChecksItsSpecCallsFor(t *testing.T) {
	tests := []struct {
		protocol, scenario string
		want               []string
	}{
		{"paxos", "default", []string{"*checker.Linearizability", "*checker.Memory", "*checker.Liveness"}},
		{"abd", "default", []string{"*checker.Linearizability", "*checker.Memory", "*checker.Liveness"}},
	}
	for _, tt := range tests {
		if got := kinds(resolve(t, tt.protocol, tt.scenario)); !slices.Equal(got, tt.want) {
			t.Errorf("%s@%s: monitors %v, want %v", tt.protocol, tt.scenario, got, tt.want)
		}
	}
	s := resolve(t, "paxos", "default")
	sc := *s.Scenario
	sc.Liveness, sc.Checks.Watchdog = 0, 3
	s.Scenario = &sc
	if got, want := kinds(s), []string{"*checker.Linearizability", "*checker.Memory", "*checker.Watchdog"}; !slices.Equal(got, want) {
		t.Errorf("a scenario with a watchdog and no liveness phase: monitors %v, want %v", got, want)
	}
}

func TestBoundsComeFromTheProtocolAndTheScenario(t *testing.T) {
	s := resolve(t, "abd", "default")
	s.Cluster.Params = map[string]int{"max-ops": 7}
	if b := s.Bounds(); b != (checker.Bounds{State: 7, InFlight: 3 * DefaultMaxInFlightPerPeer, Timers: DefaultMaxTimers}) {
		t.Errorf("bounds %+v: want the protocol's MaxSize of the spec's parameters, and the defaults", b)
	}
	sc := *s.Scenario
	sc.Checks.MaxSize = func(cfg node.Config) int { return 2 * cfg.Param("max-ops", 0) }
	sc.Checks.MaxInFlight = func(cfg node.Config) int { return 10 * cfg.N }
	sc.Checks.MaxTimers = func(node.Config) int { return 3 }
	s.Scenario = &sc
	if b := s.Bounds(); b != (checker.Bounds{State: 14, InFlight: 30, Timers: 3}) {
		t.Errorf("bounds %+v: want the scenario's", b)
	}
	if b := resolve(t, "paxos", "default").Bounds(); b.State != 0 {
		t.Errorf("paxos states no MaxSize, yet its state bound is %d", b.State)
	}
}

func TestSwarmEnablesEveryFaultSomeSeedMayDraw(t *testing.T) {
	// Raft declares every storage fault it survives, so its swarm may draw every kind; for
	// paxos, which declares none, they are not enabled (they could never fire).
	got := resolve(t, "raft", "swarm").EnabledFaults()
	if px := resolve(t, "paxos", "swarm").EnabledFaults(); slices.Contains(px, sim.KindDiskCorrupt) || !slices.Contains(px, sim.KindClusterCrash) {
		t.Errorf("paxos's swarm enables %v: want no disk_corrupt (not declared), and cluster_crash (declared)", px)
	}
	for k := sim.Kind(0); k < sim.NumKinds; k++ {
		if k != sim.KindBlocked && !k.Byzantine() && !slices.Contains(got, k) {
			t.Errorf("swarm's enabled faults %v lack %s", got, k)
		}
	}
	if got := resolve(t, "paxos", "calm").EnabledFaults(); len(got) != 0 {
		t.Errorf("calm enables %v", got)
	}
}

// A protocol's memory bound that panics is a one-line error of explore too (the untimed world
// computes it before the first state), not a crash. The protocol is registered for the test
// alone: other tests go through every registered protocol.
func TestAMaxSizeThatPanicsIsAnErrorOfExplore(t *testing.T) {
	p, err := Protocol("paxos")
	if err != nil {
		t.Fatal(err)
	}
	bad := *p
	bad.Name, bad.Bugs = "paxos-bad-bound", nil
	bad.MaxSize = func(cfg node.Config) int { panic("no bound for you") }
	bad.New = func(cfg node.Config, id node.ID) node.Node { return sizer{p.New(cfg, id)} } // a state with a Size
	registerForTest(t, &bad)
	_, err = ResolveExplore(bad.Name, "", 0, sim.UntimedOptions{Crashes: -1, Requests: -1}, nil)
	if err == nil || !strings.Contains(err.Error(), "MaxSize") || !strings.Contains(err.Error(), "no bound for you") {
		t.Errorf("error %v, want one naming MaxSize and its panic", err)
	}
}

// registerForTest registers p, without the checks Register makes, for the test's length:
// a protocol meant to be refused later, where the refusal is what the test is about.
func registerForTest(t *testing.T, p *node.Protocol) {
	registry.Lock()
	registry.protocols = append(registry.protocols, p)
	registry.Unlock()
	t.Cleanup(func() {
		registry.Lock()
		registry.protocols = slices.DeleteFunc(registry.protocols, func(q *node.Protocol) bool { return q == p })
		registry.Unlock()
	})
}
