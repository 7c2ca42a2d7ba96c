package etcdraft_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/etcdraft"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/scenarios/campaign"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
	"github.com/replica-io/replica/sim/simtest"
)

func spec(t *testing.T, bug, scenario string) *scenarios.Spec {
	t.Helper()
	s, err := scenarios.Resolve("etcdraft", bug, scenario, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Same seed, same trace, byte for byte: twice in a row, and whatever the number of runs going
// on beside it. etcd raft draws its election jitter from crypto/rand, which nothing seeds; the
// adapter never lets it decide anything (a follower's clock never ticks, the driver draws its
// election timeout), and this is the proof.
func TestTracesAreIdenticalAcrossRunsAndWorkers(t *testing.T) {
	s := spec(t, "", "swarm")
	cfg := s.Config()
	cfg.Trace = sim.TraceFull
	lines := func(seed uint64) []string {
		r := sim.Run(cfg, sim.NewSeeded(seed))
		out := make([]string, len(r.Trace))
		for i, e := range r.Trace {
			out[i] = e.String()
		}
		return out
	}
	first := lines(3)
	// Two other runs at once while the same seed runs again: etcd raft's process-wide state
	// (its locked random source) is shared by them all.
	var wg sync.WaitGroup
	for seed := range uint64(2) {
		wg.Go(func() { lines(10 + seed) })
	}
	again := lines(3)
	wg.Wait()
	if i := firstDifference(first, again); i >= 0 {
		t.Fatalf("seed 3 ran twice with different traces, from entry %d: %q then %q", i, at(first, i), at(again, i))
	}

	seeds := make([]uint64, 16)
	for i := range seeds {
		seeds[i] = uint64(i)
	}
	one := (&campaign.Campaign{Spec: s, Seeds: seeds, Workers: 1}).Run(context.Background())
	two := (&campaign.Campaign{Spec: s, Seeds: seeds, Workers: 2, CheckDeterminism: true}).Run(context.Background())
	if one.CampaignHash != two.CampaignHash || one.Failures != 0 || two.Failures != 0 {
		t.Errorf("campaign hash %s with one worker, %s with two (failures %d, %d)",
			one.CampaignHash, two.CampaignHash, one.Failures, two.Failures)
	}
}

func firstDifference(a, b []string) int {
	for i := range max(len(a), len(b)) {
		if at(a, i) != at(b, i) {
			return i
		}
	}
	return -1
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(end)"
}

// The correct configuration holds in every scenario that applies to it (a few seeds each: the
// campaigns of the command line run thousands).
func TestCorrectConfigurationHolds(t *testing.T) {
	for _, sc := range []string{"swarm", "default", "crash-restart", "lossy-crash", "partial-connectivity",
		"etcd-paused-leader", "etcd-leader-churn", "etcd-leader-isolation", "etcd-crash-backend"} {
		t.Run(sc, func(t *testing.T) {
			t.Parallel()
			simtest.Run(t, spec(t, "", sc), simtest.Seeds(3))
		})
	}
}

// Every seeded bug is found by its own scenario, by the property that should catch it, at a
// seed known to fail (a full campaign finds it within its budget: docs/BUGS.md); the failing
// run replays exactly; and the same choices given to the correct configuration do not break
// that property: the bug, not the schedule, is at fault.
func TestSeededBugsAreFound(t *testing.T) {
	cases := map[string]struct {
		seed     uint64
		property string
	}{
		etcdraft.BugReadCtxReuse:     {451, checker.PropLinearizable},
		etcdraft.BugReadLeaderChange: {139, checker.PropLinearizable},
		etcdraft.BugPlain:            {3, checker.PropWatchdog},
		etcdraft.BugLeaseRead:        {333, checker.PropLinearizable},
		etcdraft.BugIndexNotAtomic:   {0, "state-machine-safety"},
	}
	for _, b := range etcdraft.Protocol.Bugs {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			c, ok := cases[b.Name]
			if !ok {
				t.Fatalf("no test case for bug %s", b.Name)
			}
			s := spec(t, b.Name, "")
			simtest.Run(t, s, simtest.FirstSeed(c.seed), simtest.Seeds(1), simtest.Expect(c.property))
			seed, r, found := simtest.Find(s, simtest.FirstSeed(c.seed), simtest.Seeds(1))
			if !found {
				return // reported by Run
			}
			again, rec := s.Replay(r.Choices)
			if again.TraceHash != r.TraceHash || rec.Diverged() || again.Violation == nil {
				t.Errorf("replaying seed %d: trace %x (want %x), diverged %v, violation %v",
					seed, again.TraceHash, r.TraceHash, rec.Diverged(), again.Violation)
			}
			fixed := spec(t, "", b.Scenario)
			if res, _ := fixed.Replay(r.Choices); res.Violation != nil && res.Violation.Property == c.property {
				t.Errorf("the correct configuration breaks %s too on seed %d's choices: %v", c.property, seed, res.Violation)
			}
		})
	}
}

// Exploration runs etcd raft's own code in the untimed world: the default bounds give a
// complete search, and with a client write the explorer finds index-not-atomic's shortest
// counterexample, ten steps, which replays to the same violation. (The correct protocol with
// a client write is no longer small: the explorer branches on every operation the workload
// can draw, some three hundred, and stops short of the whole space in a minute.)
func TestExplore(t *testing.T) {
	run := func(bug string, n, requests int) (*scenarios.ExploreSpec, *explore.Result) {
		e, err := scenarios.ResolveExplore("etcdraft", bug, n, sim.UntimedOptions{Crashes: -1, Requests: requests}, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := explore.Run(context.Background(), explore.Model[*sim.UState](e.Untimed()), explore.Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		return e, res
	}
	if _, res := run("", 2, 0); !res.Complete || res.Violation != nil {
		t.Errorf("correct, two nodes: complete %v (%s), violation %v", res.Complete, res.Stopped, res.Violation)
	}
	e, res := run(etcdraft.BugIndexNotAtomic, 2, 1)
	if res.Violation == nil || res.Violation.Property != "state-machine-safety" {
		t.Fatalf("index-not-atomic not found: %+v", res)
	}
	if n := len(res.Violation.Path.Actions); n != 10 {
		t.Errorf("counterexample of %d steps, want the shortest, 10", n)
	}
	r, err := e.Untimed().Replay(res.Violation.Path.Init, res.Violation.Path.Actions)
	if err != nil || r.Violation == nil || r.Violation.Property != "state-machine-safety" {
		t.Errorf("the counterexample replays to %v (%v)", r.Violation, err)
	}
	if !slices.ContainsFunc(r.Trace, func(e sim.Entry) bool { return e.What == sim.Crash }) {
		t.Errorf("the counterexample has no crash:\n%v", r.Trace)
	}
}
