package sim_test

import (
	"reflect"
	"testing"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
)

// Run reuses the memory of a finished run for the next (the world, its slots and maps, the
// event queue, the trace ring). A run on reused memory must be the run on fresh memory, byte
// for byte: here runs of different protocols, cluster sizes and context lengths, with
// violations and without, follow one another through Run, and each is compared with the
// same run through Simulate, whose world is always made afresh.
func TestRunOnReusedMemoryIsAFreshRun(t *testing.T) {
	type run struct {
		protocol, bug, scenario string
		n, context              int
		seed                    uint64
	}
	runs := []run{
		{"paxos", "", "calm", 0, 0, 1},
		{"paxos", "", "default", 0, 0, 2},
		{"raft", "", "default", 0, 0, 3},                  // five nodes after three
		{"paxos", "no-persist", "crash-restart", 0, 0, 0}, // a violation: its context comes from the ring
		{"paxos", "", "default", 5, 0, 4},                 // the same protocol on five nodes
		{"paxos", "no-persist", "crash-restart", 0, 7, 0}, // a shorter ring
		{"pbft", "", "default", 0, 0, 5},                  // Byzantine: own copies of messages
		{"paxos", "", "calm", 0, 0, 1},                    // the first run again, after all the others
		{"etcdraft", "", "default", 0, 0, 6},
		{"paxos", "no-persist", "crash-restart", 0, 0, 0},
	}
	var seen []sim.Result
	for _, r := range runs {
		spec, err := scenarios.Resolve(r.protocol, r.bug, r.scenario, r.n, 0)
		if err != nil {
			t.Fatal(err)
		}
		spec.Context = r.context
		seed := r.seed
		if r.bug != "" {
			seed = firstFailing(t, spec)
		}
		cfg := spec.Config()
		got := sim.Run(cfg, sim.NewSeeded(seed))
		_, want := sim.Simulate(spec.Config(), sim.NewSeeded(seed))
		if !reflect.DeepEqual(comparable(got), comparable(want)) {
			t.Errorf("%s seed %d on reused memory:\n%+v\nfresh:\n%+v", spec.Name(), seed, comparable(got), comparable(want))
		}
		if r.bug != "" && got.Violation == nil {
			t.Errorf("%s seed %d: no violation on reused memory", spec.Name(), seed)
		}
		seen = append(seen, got)
	}
	if a, b := seen[0], seen[7]; a.TraceHash != b.TraceHash || a.Events != b.Events {
		t.Errorf("the same run twice: trace hashes %x and %x, %d and %d events", a.TraceHash, b.TraceHash, a.Events, b.Events)
	}
}

// firstFailing finds a seed on which spec fails, through Simulate (fresh memory).
func firstFailing(t *testing.T, spec *scenarios.Spec) uint64 {
	t.Helper()
	for seed := uint64(0); seed < 5000; seed++ {
		if _, r := sim.Simulate(spec.Config(), sim.NewSeeded(seed)); r.Violation != nil {
			return seed
		}
	}
	t.Fatalf("%s: no failing seed below 5000", spec.Name())
	return 0
}

// comparable is what a run's result says, without the monitors (which hold the run's
// checkers, compared through what they reported).
func comparable(r sim.Result) sim.Result {
	r.Monitors = nil
	return r
}
