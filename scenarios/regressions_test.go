package scenarios_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/capsule"
)

// TestRegressions re-runs the regression corpus, testdata/regressions/<protocol>/*.capsule.
// A capsule of a seeded-bug variant must still fail its recorded property (the testbed still
// finds the bug) and the same choices must pass the correct protocol; a capsule of the
// correct protocol recorded a real bug, which must stay fixed: it must pass.
func TestRegressions(t *testing.T) {
	paths, err := scenarios.Corpus(filepath.Join("..", "testdata", "regressions"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("the regression corpus is empty")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c, err := capsule.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			if dir := filepath.Base(filepath.Dir(path)); dir != c.Protocol {
				t.Errorf("a %s capsule under testdata/regressions/%s", c.Protocol, dir)
			}
			if c.Bug != "" {
				r, err := scenarios.ReplayAs(c, c.Bug)
				if err != nil {
					t.Fatal(err)
				}
				if r.Violation == nil || r.Violation.Property != c.Property {
					t.Errorf("%s/%s no longer fails %s on this schedule (got %v)", c.Protocol, c.Bug, c.Property, r.Violation)
				} else if r.TraceHash != c.TraceHash {
					t.Logf("fails %s as recorded, but on another trace (the simulator changed)", c.Property)
				}
			}
			r, err := scenarios.ReplayAs(c, "")
			if err != nil {
				t.Fatal(err)
			}
			if v := r.Violation; v != nil {
				t.Errorf("the correct %s fails this schedule: %s violated at event %d: %s", c.Protocol, v.Property, v.Event, v.Message)
			}
		})
	}
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
