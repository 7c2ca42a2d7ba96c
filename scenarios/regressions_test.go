package scenarios_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/capsule"
	"github.com/replica-io/replica/sim/simtest"
)

// TestRegressions re-runs the regression corpus, testdata/regressions/<protocol>/*.capsule
// (simtest.Regressions says what each capsule must do).
func TestRegressions(t *testing.T) {
	simtest.Regressions(t, filepath.Join("..", "testdata", "regressions"))
}

// TestReplayAsUnknownBug: a variant the protocol does not have is an error, not a run.
func TestReplayAsUnknownBug(t *testing.T) {
	paths, _ := scenarios.Corpus(filepath.Join("..", "testdata", "regressions", "paxos"))
	if len(paths) == 0 {
		t.Fatal("no paxos regression capsules")
	}
	c, err := capsule.Read(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scenarios.ReplayAs(c, "no-such-bug"); err == nil || !strings.Contains(err.Error(), "unknown bug") {
		t.Fatalf("ReplayAs with an unknown bug: %v", err)
	}
}
