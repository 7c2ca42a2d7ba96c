package simtest

import (
	"path/filepath"
	"testing"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/capsule"
)

// Regressions re-runs a regression corpus: every capsule under dir (testdata/regressions,
// one subdirectory per protocol, as `replica run -corpus` reads it), each as a subtest. A
// capsule of a seeded-bug variant must still fail its recorded property (the testbed still
// finds the bug) and the same choices must pass the correct protocol; a capsule of the
// correct protocol recorded a real bug, which must stay fixed: it must pass. The protocols
// must be registered first (scenarios.Register, in TestMain or before the call). An empty
// corpus fails the test: a gate that checks nothing is no gate.
func Regressions(t *testing.T, dir string) {
	t.Helper()
	paths, err := scenarios.Corpus(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("the regression corpus %s holds no capsule", dir)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) { regression(t, path) })
	}
}

func regression(t *testing.T, path string) {
	c, err := capsule.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if dir := filepath.Base(filepath.Dir(path)); dir != c.Protocol {
		t.Errorf("a %s capsule under %s", c.Protocol, filepath.Dir(path))
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
}
