package paxos_test

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

var update = flag.Bool("update", false, "rewrite the golden traces")

func spec(t *testing.T, bug, scenario string) *scenarios.Spec {
	t.Helper()
	s, err := scenarios.Resolve("paxos", bug, scenario, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCorrectPaxosHoldsInEveryScenario(t *testing.T) {
	for _, sc := range []string{"default", "crash-restart", "swarm", "calm"} {
		s := spec(t, "", sc)
		if seed, r, failed := simtest.Find(s, simtest.Seeds(300)); failed {
			t.Errorf("scenario %s, seed %d: %v", sc, seed, r.Violation)
		}
	}
}

func TestNoPersistBreaksAgreement(t *testing.T) {
	s := spec(t, paxos.BugNoPersist, "")
	seed, r, failed := simtest.Find(s, simtest.Seeds(2000))
	if !failed {
		t.Fatal("no-persist was not found in 2000 seeds")
	}
	if r.Violation.Property != "agreement" {
		t.Fatalf("seed %d: violation %v, want agreement", seed, r.Violation)
	}
	again, rec := s.Replay(r.Choices)
	if again.TraceHash != r.TraceHash || rec.Diverged() || again.Violation == nil {
		t.Errorf("replaying seed %d's choices: trace %x (want %x), diverged %v, violation %v",
			seed, again.TraceHash, r.TraceHash, rec.Diverged(), again.Violation)
	}
	// The same choices against the correct protocol: the bug, not the schedule, is at fault.
	fixed := spec(t, "", s.Scenario.Name)
	if res, _ := fixed.Replay(r.Choices); res.Violation != nil && res.Violation.Property == "agreement" {
		t.Errorf("the correct protocol also breaks agreement on seed %d's schedule: %v", seed, res.Violation)
	}
}

func TestNoRetryStallsProgress(t *testing.T) {
	s := spec(t, paxos.BugNoRetry, "")
	seed, r, failed := simtest.Find(s, simtest.Seeds(100))
	if !failed {
		t.Fatal("no-retry was not found in 100 seeds")
	}
	if r.Violation.Property != checker.PropProgress || !strings.Contains(r.Violation.Message, "no progress within") {
		t.Errorf("seed %d: violation %v, want a no-progress report", seed, r.Violation)
	}
	if len(r.Violation.Pending) == 0 {
		t.Errorf("seed %d: the report lists nothing pending", seed)
	}
}

// TestGoldenTrace pins the timeline of one calm run: a change in the protocol or the
// simulator that changes runs shows up here as a readable diff (go test -update to accept).
func TestGoldenTrace(t *testing.T) {
	s := spec(t, "", "calm")
	r, _ := s.Replay(s.Run(1).Choices)
	var b strings.Builder
	for _, e := range r.Trace {
		b.WriteString(e.String())
		b.WriteString("\n")
	}
	path := filepath.Join("testdata", "calm-seed1.trace")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(path, []byte(b.String()), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("the calm run's trace changed; diff against %s (go test -update to accept):\n%s", path, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) && i < len(g); i++ {
		if w[i] != g[i] {
			return "line " + strconv.Itoa(i+1) + ":\n- " + w[i] + "\n+ " + g[i]
		}
	}
	return "lengths differ: " + strconv.Itoa(len(w)) + " vs " + strconv.Itoa(len(g)) + " lines"
}
