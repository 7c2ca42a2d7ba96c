package simtest_test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
	"github.com/replica-io/replica/sim/simtest"
)

func spec(t *testing.T, bug, scenario string) *scenarios.Spec {
	t.Helper()
	s, err := scenarios.Resolve("paxos", bug, scenario, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// firstNoPersist is the first seed of no-persist Paxos that fails, found once.
var firstNoPersist = sync.OnceValues(func() (uint64, bool) {
	s, err := scenarios.Resolve("paxos", "no-persist", "", 0, 0)
	if err != nil {
		return 0, false
	}
	seed, _, found := simtest.Find(s, simtest.Seeds(5000))
	return seed, found
})

// noPersistSeeds returns options for a range of 100 seeds that holds the first failing one.
func noPersistSeeds(t *testing.T) []simtest.Option {
	t.Helper()
	seed, ok := firstNoPersist()
	if !ok {
		t.Fatal("no seed of 5000 breaks no-persist Paxos")
	}
	first := seed - min(seed, 50)
	return []simtest.Option{simtest.FirstSeed(first), simtest.Seeds(100)}
}

// fakeT records what Run reports.
type fakeT struct {
	dir    string
	errors []string
	logs   []string
}

func (f *fakeT) Helper()      {}
func (f *fakeT) Name() string { return "fake" }
func (f *fakeT) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *fakeT) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeT) ArtifactDir() string { return f.dir }

func TestRun(t *testing.T) {
	// The correct protocol passes; the seeded bug is found, and Expect says so.
	simtest.Run(t, spec(t, "", "crash-restart"), simtest.Seeds(200))
	simtest.Run(t, spec(t, "no-persist", ""), append(noPersistSeeds(t), simtest.Expect("agreement"))...)
	simtest.Run(t, spec(t, "no-retry", ""), simtest.Seeds(200), simtest.Expect("progress-after-healing"))
}

func TestRunReportsAFailureWithItsCapsule(t *testing.T) {
	f := &fakeT{dir: t.TempDir()}
	s := spec(t, "no-persist", "")
	simtest.Run(f, s, noPersistSeeds(t)...)
	if len(f.errors) != 1 {
		t.Fatalf("want one error, got %q", f.errors)
	}
	report := f.errors[0]
	if !strings.Contains(report, "agreement violated") || !strings.Contains(report, "replica shrink") {
		t.Fatalf("report lacks the violation or the capsule:\n%s", report)
	}
	// The capsule replays the failing seed.
	seed, _ := firstNoPersist()
	c, err := capsule.Read(fmt.Sprintf("%s/seed%d.capsule", f.dir, seed))
	if err != nil {
		t.Fatal(err)
	}
	r, rec := s.Replay(c.Choices)
	if r.Violation == nil || r.Violation.Property != "agreement" || r.TraceHash != c.TraceHash || rec.Diverged() {
		t.Fatalf("the capsule does not replay the failure: %+v", r.Violation)
	}
}

func TestRunExpectFailsWhenTheBugIsNotFound(t *testing.T) {
	f := &fakeT{dir: t.TempDir()}
	simtest.Run(f, spec(t, "", "crash-restart"), simtest.Seeds(20), simtest.Expect("agreement"))
	if len(f.errors) != 1 || !strings.Contains(f.errors[0], "does not find the bug") {
		t.Fatalf("want a not-found error, got %q", f.errors)
	}
	f = &fakeT{dir: t.TempDir()}
	// A violation of another property than the expected one is a failure.
	simtest.Run(f, spec(t, "no-persist", ""), append(noPersistSeeds(t), simtest.Expect("validity"))...)
	if len(f.errors) != 1 || !strings.Contains(f.errors[0], "agreement violated") {
		t.Fatalf("want the agreement violation reported, got %q", f.errors)
	}
}

func TestPrefixed(t *testing.T) {
	cfg := spec(t, "", "crash-restart").Config()
	// No prefix: the seed's run, choice for choice.
	a := sim.Run(cfg, sim.NewSeeded(7))
	b := sim.Run(cfg, simtest.Prefixed(nil, sim.NewSeeded(7)))
	if a.TraceHash != b.TraceHash {
		t.Fatal("an empty prefix changed the run")
	}
	// A prefix answers the first choices: here the recorded ones, so the run is the same.
	var prefix []byte
	for _, v := range a.Choices[:20] {
		prefix = binary.AppendUvarint(prefix, uint64(v))
	}
	c := sim.Run(cfg, simtest.Prefixed(prefix, sim.NewSeeded(7)))
	if c.TraceHash != a.TraceHash {
		t.Fatal("a prefix of the run's own choices changed the run")
	}
	for i := range 20 {
		if c.Choices[i] != a.Choices[i] {
			t.Fatalf("choice %d: %d, want %d", i, c.Choices[i], a.Choices[i])
		}
	}
	// Another prefix makes another run.
	d := sim.Run(cfg, simtest.Prefixed([]byte{9, 9, 9, 9, 9, 9, 9, 9}, sim.NewSeeded(7)))
	if d.TraceHash == a.TraceHash {
		t.Fatal("a different prefix left the run unchanged")
	}
}

// FuzzPaxos fuzzes the correct Paxos under frequent crashes: the fuzzer picks a seed and
// the first choices of a run. `go test` runs the seed corpus; `go test -fuzz FuzzPaxos`
// searches.
func FuzzPaxos(f *testing.F) {
	s, err := scenarios.Resolve("paxos", "", "crash-restart", 0, 0)
	if err != nil {
		f.Fatal(err)
	}
	simtest.Fuzz(f, s)
}

// TestFuzzTargetFindsNoPersist: the fuzz target's run, on the seed that breaks no-persist
// Paxos, fails.
func TestFuzzTargetFindsNoPersist(t *testing.T) {
	s := spec(t, "no-persist", "")
	seed, found := firstNoPersist()
	if !found {
		t.Fatal("no failing seed")
	}
	r := sim.Run(s.Config(), simtest.Prefixed(nil, sim.NewSeeded(seed)))
	if r.Violation == nil || r.Violation.Property != "agreement" {
		t.Fatalf("seed %d through the fuzz chooser: %+v", seed, r.Violation)
	}
}

// TestGuidedRunFindsABugAndReplaysIt: with Guided, Run searches as `replica run -guided`
// does; the failing run's capsule holds its choices and replays it.
func TestGuidedRunFindsABugAndReplaysIt(t *testing.T) {
	simtest.Run(t, spec(t, "", "crash-restart"), simtest.Guided(), simtest.Seeds(60))
	s := spec(t, "no-retry", "")
	seed, r, found := simtest.Find(s, simtest.Guided(), simtest.Seeds(60))
	if !found || r.Violation.Property != "progress-after-healing" {
		t.Fatalf("a guided search of no-retry Paxos found %v", r.Violation)
	}
	f := &fakeT{dir: t.TempDir()}
	simtest.Run(f, s, simtest.Guided(), simtest.Seeds(60))
	c, err := capsule.Read(fmt.Sprintf("%s/seed%d.capsule", f.dir, seed))
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Replay(c.Choices); again.TraceHash != r.TraceHash {
		t.Fatal("the capsule of a guided run does not replay it")
	}
}
