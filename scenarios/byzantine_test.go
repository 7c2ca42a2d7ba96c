package scenarios_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

func TestResolveByzantineNodes(t *testing.T) {
	tests := []struct {
		protocol, scenario string
		n, f               int
		wantN, wantF       int
		err                string
	}{
		{"pbft", "default", 4, 2, 0, 0, "tolerates at most 1 Byzantine"},
		{"pbft", "default", 4, 1, 4, 1, ""},
		{"pbft", "byzantine-swarm", 0, 0, 4, 1, ""},
		{"pbft", "byzantine-swarm", 7, 0, 7, 2, ""},
		{"bracha", "twins", 0, 0, 4, 1, ""},
		{"pbft", "beyond-threshold", 4, 0, 4, 2, ""},
		{"pbft", "beyond-threshold", 4, 3, 4, 3, ""},
		{"pbft", "beyond-threshold", 4, 4, 0, 0, "at least one correct node"},
		{"paxos", "default", 3, 1, 0, 0, "crash faults only"},
		{"bracha", "byzantine-primary", 0, 0, 0, 0, "does not apply"},
		{"paxos", "twins", 0, 0, 0, 0, "does not apply"},
	}
	for _, tt := range tests {
		s, err := scenarios.Resolve(tt.protocol, "", tt.scenario, tt.n, tt.f)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s %s n=%d f=%d: error %v, want one saying %q", tt.protocol, tt.scenario, tt.n, tt.f, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s n=%d f=%d: %v", tt.protocol, tt.scenario, tt.n, tt.f, err)
			continue
		}
		if s.Cluster.N != tt.wantN || s.Cluster.F != tt.wantF {
			t.Errorf("%s %s n=%d f=%d: cluster n=%d f=%d, want n=%d f=%d", tt.protocol, tt.scenario, tt.n, tt.f,
				s.Cluster.N, s.Cluster.F, tt.wantN, tt.wantF)
		}
	}
}

// TestByzantineSwarmEnablesEveryStrategy: the strategies count as enabled where a seed may
// draw them, so that a campaign can tell one that never fired.
func TestByzantineSwarmEnablesEveryStrategy(t *testing.T) {
	spec, err := scenarios.Resolve("pbft", "", "byzantine-swarm", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := spec.EnabledFaults()
	for k := sim.Kind(0); k < sim.NumKinds; k++ {
		if k.Byzantine() && !slices.Contains(got, k) {
			t.Errorf("byzantine-swarm's enabled faults %v lack %s", got, k)
		}
	}
	twins, err := scenarios.Resolve("bracha", "", "twins", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := twins.EnabledFaults(); !slices.Contains(got, sim.KindTwins) || slices.Contains(got, sim.KindMutate) {
		t.Errorf("twins enables %v, want twins and no other strategy", got)
	}
}

// firstFailure runs spec's seeds from 0 until one fails, up to limit.
func firstFailure(t *testing.T, spec *scenarios.Spec, limit int) (uint64, sim.Result) {
	t.Helper()
	for seed := uint64(0); seed < uint64(limit); seed++ {
		if r := spec.Run(seed); r.Violation != nil {
			return seed, r
		}
	}
	t.Fatalf("%s: no violation in %d seeds", spec.Name(), limit)
	return 0, sim.Result{}
}

// TestByzantineBugsFound: the scenario each seeded bug names finds it as a violation of
// agreement, and its capsule replays the same run.
func TestByzantineBugsFound(t *testing.T) {
	for _, pb := range []struct{ protocol, bug string }{
		{"bracha", "weak-ready"}, {"pbft", "no-digest-check"}, {"pbft", "view-change-quorum"},
	} {
		spec, err := scenarios.Resolve(pb.protocol, pb.bug, "", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		seed, r := firstFailure(t, spec, 300)
		if r.Violation.Property != "agreement" {
			t.Errorf("%s seed %d: %v, want agreement violated", spec.Name(), seed, r.Violation)
		}
		var buf bytes.Buffer
		if err := spec.Capsule(seed, r, "test").Encode(&buf); err != nil {
			t.Fatal(err)
		}
		c, err := capsule.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		again, err := scenarios.FromCapsule(c)
		if err != nil {
			t.Fatal(err)
		}
		rr, rec := again.Replay(c.Choices)
		if rr.TraceHash != r.TraceHash || rec.Diverged() || rr.Violation == nil || rr.Violation.Property != r.Violation.Property {
			t.Errorf("%s seed %d: replay gave %v (trace %x, want %x; diverged %v)", spec.Name(), seed, rr.Violation,
				rr.TraceHash, r.TraceHash, rec.Diverged())
		}
	}
}

// TestTwinsFindSafetyBugs: twins alone, with four nodes, break the seeded bugs' safety.
func TestTwinsFindSafetyBugs(t *testing.T) {
	for _, pb := range []struct{ protocol, bug string }{{"bracha", "weak-ready"}, {"pbft", "view-change-quorum"}} {
		spec, err := scenarios.Resolve(pb.protocol, pb.bug, "twins", 4, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, r := firstFailure(t, spec, 300); r.Violation.Property != "agreement" {
			t.Errorf("%s: %v, want agreement violated", spec.Name(), r.Violation)
		}
		if n := spec.Config().Profile.Byzantine.String(); !strings.HasPrefix(n, "twins") {
			t.Errorf("%s: adversary %q, want twins alone", spec.Name(), n)
		}
	}
}

// TestByzantineScenariosClean: the correct protocols hold under every Byzantine scenario, and
// the swarm uses every strategy.
func TestByzantineScenariosClean(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 15
	}
	for _, p := range []string{"bracha", "pbft"} {
		for _, s := range []string{"byzantine-swarm", "twins", "byzantine-primary"} {
			spec, err := scenarios.Resolve(p, "", s, 0, 0)
			if err != nil {
				continue // byzantine-primary is PBFT's
			}
			var faults sim.Counts
			for seed := uint64(0); seed < uint64(seeds); seed++ {
				r := spec.Run(seed)
				if r.Violation != nil {
					t.Fatalf("%s seed %d: %v", spec.Name(), seed, r.Violation)
				}
				faults.Add(r.Faults)
			}
			if s != "byzantine-swarm" {
				continue
			}
			for _, k := range []sim.Kind{sim.KindSilent, sim.KindEquivocate, sim.KindMutate, sim.KindReplay,
				sim.KindSelective, sim.KindTwins} {
				if faults[k] == 0 {
					t.Errorf("%s: strategy %v never used in %d seeds", spec.Name(), k, seeds)
				}
			}
		}
	}
}

// gossip is a Byzantine fault-tolerant protocol of a program's own, registered nowhere: each
// node sends its value to the others, which record what each peer said.
type gossip struct{ Heard map[node.ID]int }

type said struct{ V int }

func (g *gossip) Start(env node.Env) { env.Broadcast(said{int(env.Self())}) }
func (g *gossip) Receive(env node.Env, from node.ID, m node.Message) {
	if s, ok := m.(said); ok {
		g.Heard[from] = s.V
	}
}
func (g *gossip) Timer(node.Env, string)         {}
func (g *gossip) Size() int                      { return len(g.Heard) }
func (g *gossip) Request(node.Env, node.Request) {}

var ownBFT = &node.Protocol{Name: "own-bft", Summary: "a user's Byzantine fault-tolerant gossip", DefaultN: 4, MinN: 4,
	New:       func(node.Config, node.ID) node.Node { return &gossip{Heard: map[node.ID]int{}} },
	MaxFaulty: func(n int) int { return (n - 1) / 3 },
	Mutators: []node.Mutator{node.MutatorOf("bump", func(m said, choose func(int) int) (node.Message, bool) {
		return said{m.V + 1 + choose(2)}, true
	})},
	Invariants: []node.Invariant{{Name: "true", Check: func(node.World) error { return nil }}},
	Timing:     node.Timing{Delay: time.Millisecond, Settle: 20 * time.Millisecond}}

// The Byzantine scenarios serve every protocol that tolerates Byzantine nodes, not only the
// reference ones by name: a program's own BFT protocol runs byzantine-swarm, twins and
// beyond-threshold, and its Byzantine node uses the strategies.
func TestByzantineScenariosServeAProtocolOfOnesOwn(t *testing.T) {
	for _, name := range []string{"byzantine-swarm", "twins", "beyond-threshold"} {
		s, err := scenarios.New(ownBFT, scenarios.Options{Scenario: name})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var used int
		for seed := range uint64(20) {
			r := s.Run(seed)
			for k := sim.KindSilent; k <= sim.KindTwins; k++ {
				used += r.Faults[k]
			}
		}
		if s.Cluster.F == 0 || used == 0 {
			t.Errorf("%s: f=%d, %d strategies used in 20 seeds", name, s.Cluster.F, used)
		}
	}
	crash := *ownBFT
	crash.Name, crash.MaxFaulty, crash.Mutators = "own-cft", nil, nil
	if _, err := scenarios.New(&crash, scenarios.Options{Scenario: "twins"}); err == nil || !strings.Contains(err.Error(), "does not apply") {
		t.Errorf("twins for a crash-fault protocol: %v", err)
	}
}

// A bound function that panics is a one-line error of the spec, not a crash of the campaign
// that computes the bounds before its first run.
func TestAMaxSizeThatPanicsIsAnError(t *testing.T) {
	p := *ownBFT
	p.Name = "own-bad-bound"
	p.MaxSize = func(cfg node.Config) int { panic("no bound for you") }
	_, err := scenarios.New(&p, scenarios.Options{})
	if err == nil || !strings.Contains(err.Error(), "MaxSize") || !strings.Contains(err.Error(), "no bound for you") {
		t.Errorf("error %v, want one naming MaxSize and its panic", err)
	}
}

// A bound function that gives zero (a parameter it reads is missing, say) would drop the
// memory check without a word: it is an error of the spec, as a nil MaxSize is no bound.
func TestAMaxSizeOfZeroIsAnError(t *testing.T) {
	p := *ownBFT
	p.Name = "own-zero-bound"
	p.MaxSize = func(cfg node.Config) int { return cfg.Param("max-log", 0) }
	_, err := scenarios.New(&p, scenarios.Options{})
	if err == nil || !strings.Contains(err.Error(), "MaxSize) for n=4 is 0; a bound must be positive") {
		t.Errorf("error %v, want one saying the bound is 0", err)
	}
}
