package campaign

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// Campaign is a scenario run over a list of seeds.
type Campaign struct {
	Spec  *scenarios.Spec
	Seeds []uint64
	// Workers is the number of seeds run at once (default: the number of CPUs).
	Workers int
	// CheckDeterminism runs every seed twice and fails a seed whose two traces differ.
	CheckDeterminism bool
	// OutDir receives a capsule per failing seed, up to Capsules of them; empty writes none.
	OutDir string
	// Capsules bounds the capsules written (0: DefaultCapsules; negative: no bound). A bug
	// that fails in most seeds would otherwise cost a second run and a file per seed; the
	// seeds beyond the bound are still listed, and `replica run -seed-start S -seeds 1`
	// writes any one's capsule. The first failing seeds to finish get one: with several
	// workers, which seeds those are near the bound depends on timing, not the summary.
	Capsules int
	written  *atomic.Int64 // capsules claimed so far, over every Run of this campaign
	// SeedTimeout is the wall time after which a seed that has not finished is reported as
	// hung (a step that loops without effects cannot be stopped from inside the run): a
	// violation of PropHang that names the event, the node and the protocol's frames where
	// it loops (see sim.Watched). The campaign then stops taking new seeds, since the stuck
	// goroutine cannot be stopped and keeps a core busy; the seeds under way finish.
	SeedTimeout time.Duration
	hung        *atomic.Pointer[uint64] // the first seed that hung, over every Run of this campaign
	// OnResult is called, in the order seeds finish, with each seed's result.
	OnResult func(Result)
	// RequireFaults fails the campaign if a fault kind its profile enables never fired.
	RequireFaults bool
	// Guided makes the campaign a guided search (see GuidedWindow): each run after the first
	// few mutates an earlier one that reached new coverage. Only a Runner runs it so.
	Guided bool
}

// PropHang and PropDeterminism name the failures the campaign itself reports.
const (
	PropHang        = sim.PropHang
	PropDeterminism = scenarios.PropDeterminism
)

// DefaultSeedTimeout is how long a seed may run before it counts as hung.
const DefaultSeedTimeout = time.Minute

// Head is the part of a summary that does not depend on the results.
func (c *Campaign) Head() Summary {
	s := Summary{Protocol: c.Spec.Protocol.Name, Bug: c.Spec.Variant(), Scenario: c.Spec.Scenario.Name,
		N: c.Spec.Cluster.N, F: c.Spec.Cluster.F, Sometimes: map[string]int{}}
	for _, p := range c.Spec.Sometimes() {
		s.Sometimes[p.Name] = 0
	}
	if wl := c.Spec.Protocol.Workload; wl != nil && wl.Spec != nil {
		s.Linearizability = &LinCounts{}
	}
	if len(c.Spec.Protocol.Convergence) > 0 {
		s.Convergence = &ConvCounts{}
	}
	s.EnabledFaults = []string{}
	for _, k := range c.Spec.EnabledFaults() {
		s.EnabledFaults = append(s.EnabledFaults, k.String())
	}
	s.RequireFaults = c.RequireFaults
	s.Guided = c.Guided
	s.Unfireable = sim.Unfireable(c.Spec.Config())
	s.Required = checker.Required(c.Spec.Sometimes())
	return s
}

// Run runs the campaign until every seed is done or ctx is cancelled; seeds under way when it
// is cancelled finish first, and the summary says it was interrupted.
func (c *Campaign) Run(ctx context.Context) Summary {
	start := time.Now()
	workers := c.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	timeout := c.SeedTimeout
	if timeout <= 0 {
		timeout = DefaultSeedTimeout
	}
	if c.written == nil {
		c.written = new(atomic.Int64)
	}
	if c.hung == nil {
		c.hung = new(atomic.Pointer[uint64])
	}
	var next atomic.Int64
	out := make(chan Result)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && c.hung.Load() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(c.Seeds) {
					return
				}
				r := c.runSeed(c.Seeds[i], timeout)
				if r.Violation != nil && r.Violation.Property == PropHang {
					seed := r.Seed
					c.hung.CompareAndSwap(nil, &seed)
				}
				if r.Violation != nil && c.OutDir != "" && r.Violation.Property != PropHang && c.claimCapsule() {
					// Here, not where results are collected: each worker records its own.
					r.Violation.Capsule, r.Violation.Artifacts = c.writeCapsule(r.Seed, r.Violation)
				}
				out <- r
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	var results []Result
	for r := range out {
		results = append(results, r)
		if c.OnResult != nil {
			c.OnResult(r)
		}
	}
	s := Summarize(c.Head(), results, time.Since(start))
	s.Interrupted = ctx.Err() != nil && len(results) < len(c.Seeds)
	if _, hung := c.Hung(); hung {
		s.StoppedByHang = &HangStop{Seed: firstHung(results), NotRun: len(c.Seeds) - len(results)}
	}
	return s
}

// firstHung is the least seed of results that hung.
func firstHung(results []Result) uint64 {
	least := ^uint64(0)
	for _, r := range results {
		if r.Violation != nil && r.Violation.Property == PropHang {
			least = min(least, r.Seed)
		}
	}
	return least
}

// Hung reports whether a seed of the campaign hung, which stops it, and which seed hung first.
func (c *Campaign) Hung() (seed uint64, hung bool) {
	if c.hung == nil || c.hung.Load() == nil {
		return 0, false
	}
	return *c.hung.Load(), true
}

// DetailLimit is how many of a summary's violations `replica run` details.
const DetailLimit = 10

// Detail completes the reports of the first limit violations of a summary of this campaign:
// it re-runs their seeds, and adds the checkers' details (a growth curve, why a history is
// not linearizable), the events leading to each violation and the state of the nodes.
// Results keep only each violation's headline, so that a long campaign's memory and results
// files do not grow with its traces; determinism makes the re-run exact.
func (c *Campaign) Detail(s *Summary, limit int) {
	for i := range s.Violations[:min(limit, len(s.Violations))] {
		v := &s.Violations[i]
		if v.Property == PropHang || v.Property == PropDeterminism {
			continue
		}
		r, ok := c.rerun(v)
		if !ok || r.Violation == nil || r.Violation.Property != v.Property {
			continue
		}
		full := checker.NewReport(v.Seed, r.Violation)
		v.Details, v.Context, v.Nodes = full.Details, full.Context, full.Nodes
	}
}

// rerun runs a violation's run again: its seed, or for a guided campaign the choices its
// capsule holds.
func (c *Campaign) rerun(v *Violation) (sim.Result, bool) {
	if !c.Guided {
		return c.Spec.Run(v.Seed), true
	}
	cp, err := capsule.Read(v.Capsule)
	if err != nil {
		return sim.Result{}, false
	}
	return sim.Run(c.Spec.Config(), sim.NewRecorded(cp.Choices)), true
}

// runSeed runs one seed under a wall-clock watchdog, twice with CheckDeterminism.
func (c *Campaign) runSeed(seed uint64, timeout time.Duration) Result {
	r, stuck := c.runWatched(seed, timeout)
	if stuck != nil {
		return HungResult(seed, stuck)
	}
	res := newResult(seed, r, c.sometimesNames())
	if c.CheckDeterminism && res.Violation == nil {
		again, stuck := c.runWatched(seed, timeout)
		switch {
		case stuck != nil:
			res = HungResult(seed, stuck)
			res.Violation.Message += " (in the determinism check's second run: the first one finished)"
		case again.TraceHash != r.TraceHash:
			res.Violation = &Violation{Property: PropDeterminism, Seed: seed,
				Message: fmt.Sprintf("two runs of seed %d gave different traces (%016x, then %016x): "+
					"something outside the chooser (map order, wall clock, a goroutine, global state) reaches the run",
					seed, r.TraceHash, again.TraceHash)}
		}
	}
	return res
}

// HungResult is the result of a run that did not finish within its seed timeout: a violation
// of PropHang at the event it was stuck in, the stuck goroutine's frames as its details
// (nothing can run it again to detail it). A hung run counts nothing else: its trace hash
// is "hung".
func HungResult(seed uint64, stuck *sim.Stuck) Result {
	return Result{Seed: seed, TraceHash: "hung", Violation: checker.NewReport(seed, stuck.Violation())}
}

// runWatched runs a seed under the watchdog of sim.Watched, so that a run stuck in an endless
// step cannot stall the campaign; such a run is abandoned and described. It keeps no record of
// the run's choices: a failing seed is run again to write its capsule (writeCapsule), so that
// an hour-long run does not hold millions of choices it will never need.
func (c *Campaign) runWatched(seed uint64, timeout time.Duration) (sim.Result, *sim.Stuck) {
	cfg := c.Spec.Config()
	cfg.NoChoices = true
	return sim.Watched(cfg, sim.NewSeeded(seed), timeout)
}

func (c *Campaign) sometimesNames() []string {
	var names []string
	for _, p := range c.Spec.Protocol.Sometimes {
		names = append(names, p.Name)
	}
	return names
}

// DefaultCapsules is how many failing seeds of a campaign get a capsule unless it says.
const DefaultCapsules = 100

// claimCapsule reports whether one more capsule is within the campaign's bound.
func (c *Campaign) claimCapsule() bool {
	limit := c.Capsules
	if limit == 0 {
		limit = DefaultCapsules
	}
	return limit < 0 || c.written.Add(1) <= int64(limit)
}

// writeCapsule re-runs a failing seed to record it, and writes its capsule (with v's property
// when it is the campaign's own determinism verdict), and beside it the
// files in which the run's checkers explain the violation (porcupine's visualization of a
// history that is not linearizable). Re-running keeps campaigns from holding every run's
// choices in memory; determinism makes it exact.
func (c *Campaign) writeCapsule(seed uint64, v *Violation) (path string, artifacts []string) {
	r := c.Spec.Run(seed)
	path = filepath.Join(c.OutDir, CapsuleName(c.Spec, seed))
	cp := c.Spec.Capsule(seed, r, "run")
	if v != nil && v.Property == PropDeterminism {
		// The re-run is one run: the failure is the campaign's verdict on two of them, which
		// a replay of the capsule gives again (scenarios.ReplayCapsule runs it twice).
		cp.Property, cp.Message, cp.Event = v.Property, v.Message, 0
	}
	if err := capsule.Write(path, cp); err != nil {
		return "error: " + err.Error(), nil
	}
	for _, m := range r.Monitors {
		if e, ok := m.(checker.Explainer); ok {
			paths, err := e.Explain(path)
			if err != nil {
				paths = append(paths, "error: "+err.Error())
			}
			artifacts = append(artifacts, paths...)
		}
	}
	return path, artifacts
}

// CapsuleError says why a failing seed has no capsule when writing it failed: its Capsule
// field then holds "error: " and the error instead of a path (an artifact's too).
func CapsuleError(capsule string) (why string, failed bool) {
	return strings.CutPrefix(capsule, "error: ")
}

// CapsuleName is where a failing seed's capsule goes under the output directory.
func CapsuleName(s *scenarios.Spec, seed uint64) string {
	dir := s.Protocol.Name
	if s.Bug != "" {
		dir += "-" + s.Bug
	}
	return filepath.Join(dir, fmt.Sprintf("%s-seed%d.capsule", s.Scenario.Name, seed))
}
