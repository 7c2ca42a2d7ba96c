package scenarios

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// Corpus lists the capsules (*.capsule) under dir and its subdirectories, sorted: a
// regression corpus such as testdata/regressions, one subdirectory per protocol.
func Corpus(dir string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".capsule") {
			paths = append(paths, path)
		}
		return nil
	})
	sort.Strings(paths)
	return paths, err
}

// ReplayAs re-runs a capsule's choices against another variant of its protocol: bug names
// the seeded bug, "" the correct protocol. A regression capsule recorded against a bug
// variant must still fail it, and the correct protocol must pass the same schedule. A capsule
// that records a determinism failure (PropDeterminism) runs again (up to DeterminismRuns
// times in all), and fails determinism when a trace differs from the first run's.
func ReplayAs(c *capsule.Capsule, bug string) (sim.Result, error) {
	s, err := FromCapsule(c)
	if err != nil {
		return sim.Result{}, err
	}
	if bug != "" {
		if _, ok := s.Protocol.Bug(bug); !ok {
			return sim.Result{}, fmt.Errorf("unknown bug %q for protocol %s", bug, s.Protocol.Name)
		}
	}
	s.Bug, s.Cluster.Bug = bug, bug
	cfg := s.Config()
	if !judgesDeterminism(c) {
		return sim.Run(cfg, sim.NewRecorded(c.Choices)), nil
	}
	// The capsule records runs that differed: run its choices again, and compare.
	cfg.Trace = sim.TraceFull
	r := sim.Run(cfg, sim.NewRecorded(c.Choices))
	if r.Violation == nil {
		r.Violation, _, _ = againAndCompare(r, func() (sim.Result, *sim.Stuck) {
			return sim.Run(cfg, sim.NewRecorded(c.Choices)), nil
		})
	}
	return r, nil
}
