package scenarios_test

import (
	"context"
	"os"
	"runtime/debug"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
)

// The differential test holds the two worlds together: a violation that seeded runs of the
// timed world find, the explorer finds in the untimed world, and every counterexample the
// explorer finds replays in the timed world (sim.Untimed.ReplayTimed) to the same violation,
// step for step (sim.SameSteps). It covers every seeded bug of the catalog, the two-decisions
// case of issue 10, and small protocols that rapid generates (generated_test.go).
//
// go test runs the cases whose explorations take a few seconds. REPLICA_DIFFERENTIAL=long
// (as .ci/run sets it) runs the longer ones too, and explores each bug's bounds with the
// correct protocol as well, which must come out complete and clean.
var longDifferential = os.Getenv("REPLICA_DIFFERENTIAL") == "long"

// diffCase is how one seeded bug is held to both worlds.
type diffCase struct {
	seeds int // seeds of the bug's scenario searched for a first failure
	// long: the exploration is too large for go test (say how large in why).
	long bool
	// unreachable says why the explorer cannot reach the bug in small bounds; the case is then
	// reported, not run.
	unreachable string
	why         string
	// n and requests, when not zero, replace the bug's exploration bounds: the nodes and the
	// client requests that reach the bug in a space small enough for go test.
	n, requests int
}

// differentialCases has a case for every bug of the catalog: a bug without one fails the test.
var differentialCases = map[string]diffCase{
	"abd/no-writeback": {seeds: 500},
	"abd/no-gc":        {seeds: 50},
	"paxos/no-persist": {seeds: 2000, long: true, why: "about 1,000,000 states to its 12-step counterexample"},
	"paxos/no-retry": {unreachable: "a liveness failure after healing; the ballot bound that makes Paxos's " +
		"exploration finite (max-round) stops a correct proposer's retries as well, so no progress check in small bounds tells the two apart"},
	"bracha/weak-ready": {unreachable: "each node draws its broadcast value from 1000 in Start (10^12 initial states), " +
		"and the bug needs twins, which the untimed world does not model"},
	"pbft/no-digest-check":    {unreachable: "pbft declares no exploration bounds: views, sequence numbers and timers grow without end"},
	"pbft/view-change-quorum": {unreachable: "pbft declares no exploration bounds, and the bug needs twins and a view change"},
	"raft/figure8":            {unreachable: raftUnbounded},
	"raft/no-persist-vote":    {unreachable: raftUnbounded},
	"raft/dup-vote":           {unreachable: raftUnbounded},
	"raft/stale-read":         {unreachable: raftUnbounded},
	"raft/no-checksum":        {unreachable: "a storage fault (a read that comes back altered): the explorer's world has no storage faults, and raft declares no exploration bounds"},
	"raft/ignore-sync-error":  {unreachable: "a storage fault (a full disk that refuses a sync): the explorer's world has no storage faults, and raft declares no exploration bounds"},
	"raft/membership-no-fix":  {unreachable: raftUnbounded},
	"raft/no-compaction":      {unreachable: raftUnbounded + "; and the bug is a log that outgrows its bound over an hour of load"},
	"raft/plain":              {unreachable: raftUnbounded + "; and the bug is a liveness failure under partial connectivity"},
	"etcdraft/read-ctx-reuse": {unreachable: "the bug needs a paused, deposed leader and a retried read after a timeout: " +
		"more elections and ticks than etcdraft's exploration bounds (one election, no leader ticks) allow"},
	"etcdraft/read-leader-change": {unreachable: "the bug needs a second leader, and etcdraft's exploration bounds allow one election"},
	"etcdraft/plain":              {unreachable: "a liveness failure under partial connectivity, judged over virtual time after healing"},
	"etcdraft/lease-read": {unreachable: "lease reads trust elapsed ticks against an election timeout: time, which the untimed " +
		"world abstracts away, and a second election"},
	"etcdraft/index-not-atomic": {seeds: 100, n: 2, requests: 1}, // 10 steps, about 150,000 states
	"multipaxos/no-session": {unreachable: multipaxosUnbounded + "; and the bug needs a client that retries after " +
		"its timeout, while the first attempt is still committed: time, which the untimed world abstracts away"},
	"multipaxos/skip-gap":        {unreachable: multipaxosUnbounded},
	"multipaxos/shared-acceptor": {unreachable: multipaxosUnbounded},
	"multipaxos/no-dedup":        {unreachable: multipaxosUnbounded},
	"multipaxos/self-leader": {unreachable: multipaxosUnbounded + "; and the bug is an \"eventually always\" failure " +
		"(Omega's leadership), judged over a stable window of virtual time after healing"},
	"multipaxos/short-timeout": {unreachable: multipaxosUnbounded + "; and the bug is an \"eventually always\" failure " +
		"(the detector's accuracy) that only the timeout against the heartbeat period, in virtual time, produces"},
	"crdt/take-larger": {unreachable: crdtUnbounded + "; and convergence is judged by the timed world's monitor, " +
		"after healing and quiescence"},
	"crdt/drop-tombstones": {unreachable: crdtUnbounded + "; and convergence is judged by the timed world's monitor, " +
		"after healing and quiescence"},
	"crdt/push-once": {unreachable: crdtUnbounded + "; and the bug is a liveness failure (dissemination after healing)"},
}

// correctStates bounds the exploration of a correct protocol in a bug's bounds (long mode).
const correctStates = 1_000_000

const raftUnbounded = "raft declares no exploration bounds: terms, logs and election timers grow without end"

// The component stacks declare no exploration bounds: their timers re-arm for ever. Searched
// with -max-states 200,000, multipaxos reaches no decision (a slot needs heartbeats, a leader,
// two Paxos phases and the links' acknowledgements); crdt's search took 674 MiB of peak memory
// by 5,000 states.
const (
	multipaxosUnbounded = "multipaxos declares no exploration bounds: the detector's heartbeats, the links' " +
		"retransmissions and the log's status timers re-arm without end, and ballots and slots grow; 200,000 states " +
		"reach no decision"
	crdtUnbounded = "crdt declares no exploration bounds: gossip rounds re-arm without end and every replica's " +
		"state grows with each update it merges"
)

func TestDifferentialCatalog(t *testing.T) {
	debug.SetGCPercent(400) // the explorer's states are many small objects
	defer debug.SetGCPercent(100)
	for _, p := range scenarios.Protocols() {
		for _, b := range p.Bugs {
			name := p.Name + "/" + b.Name
			c, ok := differentialCases[name]
			if !ok {
				t.Errorf("%s: no differential case: add one, or say why the explorer cannot reach it", name)
				continue
			}
			t.Run(name, func(t *testing.T) {
				switch {
				case c.unreachable != "":
					t.Logf("not reached in small exploration bounds: %s", c.unreachable)
					return
				case c.long && !longDifferential:
					t.Logf("explored only with REPLICA_DIFFERENTIAL=long: %s", c.why)
					return
				}
				differential(t, p.Name, b.Name, c)
			})
		}
	}
}

// differential runs one bug through both worlds.
func differential(t *testing.T, protocol, bug string, c diffCase) {
	// The timed world, seeded.
	spec, err := scenarios.Resolve(protocol, bug, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var seeded *sim.Violation
	seed := uint64(0)
	for ; seed < uint64(c.seeds) && seeded == nil; seed++ {
		seeded = spec.Run(seed).Violation
	}
	if seeded == nil {
		t.Fatalf("no seed of %s below %d fails: the seeded side of the case does not hold", spec.Name(), c.seeds)
	}
	t.Logf("seeded: %s seed %d violates %s", spec.Name(), seed-1, seeded.Property)

	// The untimed world, explored in the bug's bounds.
	requests := -1 // the bug's
	if c.requests > 0 {
		requests = c.requests
	}
	e, err := scenarios.ResolveExplore(protocol, bug, c.n, sim.UntimedOptions{Crashes: -1, Requests: requests}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := exploreSpec(t, e)
	if r.Violation == nil {
		t.Fatalf("the explorer finds no violation of %s (%d states, complete %v)", e.Name(), r.Unique, r.Complete)
	}
	if r.Violation.Property != seeded.Property {
		t.Errorf("seeded runs violate %s, the explorer %s", seeded.Property, r.Violation.Property)
	}
	t.Logf("explored: %s violates %s after %d steps (%d states)", e.Name(), r.Violation.Property, len(r.Violation.Path.Actions), r.Unique)
	replaysTimed(t, e, r.Violation)

	if longDifferential { // the correct protocol, in the same bounds
		ok, err := scenarios.ResolveExplore(protocol, "", 0, e.Options, e.Cluster.Params)
		if err != nil {
			t.Fatal(err)
		}
		r, err := explore.Run(context.Background(), explore.Model[*sim.UState](ok.Untimed()), explore.Options{MaxStates: correctStates, Timeout: 10 * time.Minute})
		switch {
		case err != nil:
			t.Fatal(err)
		case r.Violation != nil:
			t.Errorf("the correct %s in the bug's bounds violates %s", protocol, r.Violation.Property)
		case !r.Complete:
			t.Logf("the correct %s in the bug's bounds: no violation in %d states, where the search stopped (%s): not complete", protocol, r.Unique, r.Stopped)
		default:
			t.Logf("the correct %s in the bug's bounds: complete and clean, %d states", protocol, r.Unique)
		}
	}
}

func exploreSpec(t *testing.T, e *scenarios.ExploreSpec) *explore.Result {
	t.Helper()
	r, err := explore.Run(context.Background(), explore.Model[*sim.UState](e.Untimed()), explore.Options{Timeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// replaysTimed replays an explorer counterexample in the timed world, and wants the same
// violation after the same steps.
func replaysTimed(t *testing.T, e *scenarios.ExploreSpec, v *explore.Violation) {
	t.Helper()
	tr, err := e.ReplayTimed(v.Path.Init, v.Path.Actions)
	if err != nil {
		t.Fatalf("the timed replay of the explorer's path: %v", err)
	}
	if tv := tr.Timed.Violation; tv == nil || tv.Property != v.Property || tv.Event != len(v.Path.Actions) {
		t.Errorf("the explorer's path violates %s at step %d; replayed in the timed world: %v", v.Property, len(v.Path.Actions), tv)
	}
	if err := sim.SameSteps(tr.Untimed.Trace, tr.Timed.Trace); err != nil {
		t.Errorf("the timed replay does not take the explorer's steps: %v", err)
	}
}

// TestDifferentialTwoDecisions is issue 10's case: n2 decides 2, then n1 decides 1, which
// breaks Paxos's own agreement invariant in a seeded run and must in exploration too.
func TestDifferentialTwoDecisions(t *testing.T) {
	var agreement node.Invariant
	for _, inv := range paxos.Protocol.Invariants {
		if inv.Name == "agreement" {
			agreement = inv
		}
	}
	p := &node.Protocol{Name: "two-decisions", DefaultN: 2, MinN: 2, Invariants: []node.Invariant{agreement},
		Timing: node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond},
		New:    func(node.Config, node.ID) node.Node { return &decider{} }}
	timed := sim.Run(sim.Config{Protocol: p, Cluster: node.Config{N: 2}, Faults: time.Second}, sim.NewSeeded(1)).Violation
	if timed == nil || timed.Property != "agreement" {
		t.Fatalf("seeded: %v, want agreement", timed)
	}
	e := &scenarios.ExploreSpec{Protocol: p, Cluster: node.Config{N: 2}}
	r := exploreSpec(t, e)
	if r.Violation == nil || r.Violation.Property != "agreement" {
		t.Fatalf("explored: %+v, want agreement", r.Violation)
	}
	replaysTimed(t, e, r.Violation)
}

// decider: n2 decides 2 and tells n1, which decides 1.
type decider struct{}

func (d *decider) Start(env node.Env) {
	if env.Self() == 2 {
		env.Output(paxos.Decision[paxos.Value]{Value: 2})
		env.Send(1, "decided")
	}
}
func (d *decider) Receive(env node.Env, from node.ID, m node.Message) {
	env.Output(paxos.Decision[paxos.Value]{Value: 1})
}
func (d *decider) Timer(node.Env, string)         {}
func (d *decider) Request(node.Env, node.Request) {}

// TestDifferentialCasesAreNamed: every case of the table is a bug of the catalog.
func TestDifferentialCasesAreNamed(t *testing.T) {
	known := map[string]bool{}
	for _, p := range scenarios.Protocols() {
		for _, b := range p.Bugs {
			known[p.Name+"/"+b.Name] = true
		}
	}
	for name := range differentialCases {
		if !known[name] {
			t.Errorf("differential case %s names no bug of the catalog", name)
		}
	}
}
