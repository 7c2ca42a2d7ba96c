package scenarios_test

import (
	"testing"
	"time"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
)

// The linearizability check of a long run judges its history in windows; on the catalog's own
// histories, cut into windows of at least four operations per key, it gives the verdict the
// whole history's check gives: every protocol with clients, on its default scenario and on each
// seeded bug's scenario, and the first histories that the bugs linearizability finds make not
// linearizable (where both must fail).
func TestWindowedVerdictOnTheCatalogsHistories(t *testing.T) {
	failing := map[string][]uint64{ // the first failing seeds of `replica run -bug B`
		"abd/no-writeback@lossy-crash": {8, 12}, "raft/stale-read@leader-isolation": {165},
		"etcdraft/read-leader-change@etcd-leader-churn": {139},
	}
	failed := 0
	for _, p := range scenarios.Protocols() {
		if p.Workload == nil || p.Workload.Spec == nil {
			continue
		}
		spec := p.Workload.Spec
		cases := []struct{ bug, scenario string }{{"", "default"}}
		for _, b := range p.Bugs {
			cases = append(cases, struct{ bug, scenario string }{b.Name, b.Scenario})
		}
		for _, c := range cases {
			s, err := scenarios.Resolve(p.Name, c.bug, c.scenario, 0, 0)
			if err != nil {
				continue // a scenario for other protocols
			}
			cfg := s.Config()
			cfg.Trace = sim.TraceFull // keeps the whole history, in a streamed protocol's run too
			for _, seed := range append([]uint64{0, 1}, failing[s.Name()]...) {
				w, _ := sim.Simulate(cfg, sim.NewSeeded(seed))
				h := w.History()
				whole, _, _ := checker.JudgeHistory(spec, h, 10*time.Second)
				got, msg, _, _ := checker.JudgeWindowed(spec, h, 10*time.Second, 4)
				if got != whole {
					t.Errorf("%s seed %d: %d operations judged in windows: %v (%s); whole: %v", s.Name(), seed, len(h), got, msg, whole)
				}
				if whole == checker.Fail {
					failed++
				}
			}
		}
	}
	if failed < 4 {
		t.Errorf("only %d of the catalog's histories were not linearizable: the windowed check was hardly held to a failure", failed)
	}
}

// An hour-long run keeps what a short one keeps: in a streamed run (Raft's) the world holds
// only the operations not judged yet and the latest step's outputs, a campaign's run keeps no
// choices, and the history, judged in windows, is linearizable.
func TestLongRunKeepsLittle(t *testing.T) {
	s, err := scenarios.Resolve("raft", "", "long-haul", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Faults = 90 * time.Second
	cfg := s.Config()
	cfg.NoChoices = true
	kept := &keptProbe{}
	cfg.Monitors = append(cfg.Monitors, func() sim.Monitor { return kept })
	w, r := sim.Simulate(cfg, sim.NewSeeded(0))
	if r.Violation != nil || !w.Streaming() || r.Choices != nil {
		t.Fatalf("violation %v, streaming %v, %d choices kept", r.Violation, w.Streaming(), len(r.Choices))
	}
	if r.Ops < 3000 || kept.history > 200 || kept.outputs > 64 {
		t.Fatalf("%d operations: at most %d of them kept at once, and %d outputs", r.Ops, kept.history, kept.outputs)
	}
	for _, m := range r.Monitors {
		if l, ok := m.(*checker.Linearizability); ok {
			if _, o := l.Verdict(); o != checker.Pass {
				t.Fatalf("linearizability: %v", o)
			}
			return
		}
	}
	t.Fatal("no linearizability monitor")
}

// keptProbe records the most operations and outputs the world held at once.
type keptProbe struct{ history, outputs int }

func (k *keptProbe) Step(w *sim.World) *sim.Violation {
	k.history = max(k.history, len(w.History()))
	k.outputs = max(k.outputs, len(w.NewOutputs()))
	return nil
}
func (k *keptProbe) End(w *sim.World) *sim.Violation { return nil }
