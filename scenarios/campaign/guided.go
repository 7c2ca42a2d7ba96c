package campaign

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// A guided campaign (Campaign.Guided, `replica run -guided`) runs as many runs as a random one,
// but after its first few, each run is an earlier one mutated (sim.Mutate: a crash moved to
// right after a step, a fault added or dropped, two deliveries swapped, two runs spliced), and
// a run is kept in the campaign's corpus when it reaches coverage no earlier run reached (see
// sim.Coverage: the framework's signature of each step, or the protocol's abstract state).
// The search spends its runs near the runs that did something new, rather than anywhere.
//
// Run k of a guided campaign has the number First+k in reports (its "seed"); its choices, not
// that number, replay it, and its capsule holds them. The campaign is deterministic and does
// not depend on -workers: run k is made from the corpus as runs 0..k-sim.SearchWindow-1 left
// it, with a random source of its own (see sim.Search), so at most SearchWindow+1 runs are
// under way at once, and more workers than that stay idle. The runs made before the corpus has
// an entry, the first sim.SearchWarmup where the profile crashes nodes or cuts them off, and a
// share of the others that grows when mutations stop finding more than fresh seeds do
// (sim.PlainMin, one half, to sim.PlainMax), are plain runs: the random campaign's runs of the
// same seeds, but for the crashes and cuts the guided chooser aims at the moments they matter
// (see sim.Guided).
//
// A results file resumes a guided campaign: its lines say which runs entered the corpus, and
// the campaign makes its runs again from the first (generating a run costs nothing), re-running
// those that entered the corpus and taking what the others reached from their lines, to
// rebuild the state it had. A corpus directory (Plan.GuidedCorpus) keeps a corpus across campaigns, as
// capsules beside the regression capsules: its capsules of the same protocol, scenario and
// cluster seed the corpus before the first run, and the campaign's new entries are written
// there at its end.

// GuidedRun says how a guided run was made, in its result line.
type GuidedRun struct {
	// Parent is the run it was mutated from (its number First+k), or nil for a plain seeded
	// run; a run mutated from a capsule of the corpus directory names it in Corpus instead.
	Parent *uint64  `json:"parent,omitempty"`
	Corpus string   `json:"corpus,omitempty"`
	Edits  []string `json:"edits,omitempty"`
	// New is how many coverage features the run reached first; a run with some, and without
	// a violation, entered the corpus.
	New int `json:"new_coverage,omitempty"`
	// Salient are the salient features it reached (sim.Coverage.Salient), packed: what a
	// resumed campaign needs of a run that did not enter the corpus, without running it again.
	Salient []byte `json:"salient,omitempty"`
}

// GuidedSummary is what a guided campaign adds to its report.
type GuidedSummary struct {
	Window   int `json:"window"`
	Corpus   int `json:"corpus"`   // entries at the end, those of the corpus directory included
	Loaded   int `json:"loaded"`   // entries read from the corpus directory
	Features int `json:"features"` // coverage features the corpus reached
	Written  int `json:"written,omitempty"`
}

// guided is a guided campaign under way.
type guided struct {
	c       *Campaign
	r       *Runner
	s       *sim.Search
	files   map[*sim.CorpusEntry]string // the capsules that entries of the corpus directory came from
	loaded  int
	written int
	details map[uint64][]int32 // the choices of the first failing runs, for their reports
}

// outcome is what a guided run left.
type outcome struct {
	cand sim.Candidate
	res  Result
	run  sim.Result
	obs  sim.Observed
	hung bool
}

// execute makes run cand under the campaign's watchdog.
func (g *guided) execute(cand sim.Candidate, timeout time.Duration) outcome {
	cfg, ch, observed := g.s.Config(cand)
	out := outcome{cand: cand}
	r, stuck := sim.Watched(cfg, ch, timeout)
	if stuck != nil {
		out.hung = true
		out.res = HungResult(cand.Seed, stuck)
	} else {
		out.run, out.obs = r, observed(r)
		out.res = newResult(cand.Seed, r, g.c.sometimesNames())
	}
	out.res.Guided = &GuidedRun{Edits: cand.Edits}
	if p := cand.Parent; p != nil {
		if file, ok := g.files[p]; ok {
			out.res.Guided.Corpus = file
		} else {
			seed := p.Seed
			out.res.Guided.Parent = &seed
		}
	}
	return out
}

// fold adds a finished run to the search; it returns how many features it reached first.
func (g *guided) fold(o *outcome) int {
	if o.hung {
		return 0
	}
	return g.s.Fold(o.cand, o.run, o.obs)
}

// runGuided carries out the plan as a guided campaign, results going to record; it reports
// whether ctx stopped it.
func (r *Runner) runGuided(ctx context.Context, c *Campaign) (bool, error) {
	g := &guided{c: c, r: r, s: sim.NewSearch(c.Spec.Config(), r.plan.First), files: map[*sim.CorpusEntry]string{},
		details: map[uint64][]int32{}}
	r.guided = g
	if dir := r.plan.GuidedCorpus; dir != "" {
		if err := g.load(dir); err != nil {
			return false, err
		}
	}
	timeout := c.SeedTimeout
	if timeout <= 0 {
		timeout = DefaultSeedTimeout
	}
	start, queue, err := g.resume(timeout)
	if err != nil {
		return false, err
	}
	bctx := ctx
	if r.plan.TimeBudget > 0 {
		var cancel context.CancelFunc
		bctx, cancel = context.WithTimeout(ctx, r.plan.TimeBudget)
		defer cancel()
	}
	total := r.plan.Count
	if total <= 0 {
		total = int(^uint(0) >> 1)
	}
	workers := c.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = min(workers, sim.SearchWindow+1)
	work := make(chan sim.Candidate)
	results := make(chan outcome)
	for range workers {
		go func() {
			for cand := range work {
				results <- g.execute(cand, timeout)
			}
		}()
	}
	// Generate run k once runs up to k-SearchWindow-1 are folded, fold in order: the runs
	// depend on the order of the runs, never on which finished first.
	// Candidate k is made the moment run k-SearchWindow-1 is folded, whether or not a
	// worker is free: the corpus it is made from is then always the same.
	pending := map[int]outcome{}
	next, folded, inFlight := start+len(queue), start, 0
	generate := func() {
		for bctx.Err() == nil && c.hung.Load() == nil && next < total && next <= folded+sim.SearchWindow {
			queue = append(queue, g.s.Next(next))
			next++
		}
	}
	generate()
	for {
		if bctx.Err() != nil || c.hung.Load() != nil {
			queue = nil // a hung run stops the campaign too (see Campaign.SeedTimeout)
		}
		for len(queue) > 0 && inFlight < workers {
			work <- queue[0]
			queue = queue[1:]
			inFlight++
		}
		if inFlight == 0 {
			break
		}
		o := <-results
		inFlight--
		if o.hung {
			seed := o.cand.Seed
			c.hung.CompareAndSwap(nil, &seed)
		}
		pending[o.cand.K] = o
		for {
			o, ok := pending[folded]
			if !ok {
				break
			}
			delete(pending, folded)
			folded++
			o.res.Guided.New = g.fold(&o)
			if o.res.Guided.New == 0 && !o.hung {
				o.res.Guided.Salient = pack(o.obs.Salient())
			}
			if o.res.Violation != nil && !o.hung {
				g.failed(&o)
			}
			r.record(o.res)
			generate()
		}
	}
	close(work)
	// Runs that finished while one before them was still under way when the campaign
	// stopped are dropped: a resumed campaign makes them again, in order.
	if dir := r.plan.GuidedCorpus; dir != "" {
		n, err := g.write(dir)
		if err != nil {
			return false, err
		}
		g.written = n
	}
	return ctx.Err() != nil, nil
}

// failed writes a failing run's capsule, and keeps the choices of the first ones for their
// reports.
func (g *guided) failed(o *outcome) {
	if len(g.details) < DetailLimit {
		g.details[o.cand.Seed] = o.run.Choices
	}
	if g.c.OutDir == "" {
		return
	}
	path := filepath.Join(g.c.OutDir, CapsuleName(g.c.Spec, o.cand.Seed))
	if err := capsule.Write(path, g.c.Spec.Capsule(o.cand.Seed, o.run, "guided")); err != nil {
		o.res.Violation.Capsule = "error: " + err.Error()
		return
	}
	o.res.Violation.Capsule = path
	for _, m := range o.run.Monitors {
		if e, ok := m.(checker.Explainer); ok {
			paths, err := e.Explain(path)
			if err != nil {
				paths = append(paths, "error: "+err.Error())
			}
			o.res.Violation.Artifacts = append(o.res.Violation.Artifacts, paths...)
		}
	}
}

// resume rebuilds the search of a resumed campaign from the results file's runs 0..K-1 (the
// longest prefix of runs it holds): it makes every run again, as the campaign made it, runs
// again those that entered the corpus, and counts what the others reached from their lines;
// it returns K. Results past the prefix are forgotten, to be made again.
func (g *guided) resume(timeout time.Duration) (int, []sim.Candidate, error) {
	r := g.r
	if len(r.results) == 0 {
		return 0, nil, nil
	}
	first := r.plan.First
	bySeed := map[uint64]Result{}
	for _, res := range r.results {
		bySeed[res.Seed] = res
	}
	k := 0
	for ; ; k++ {
		if _, ok := bySeed[first+uint64(k)]; !ok {
			break
		}
	}
	kept := r.results[:0]
	for _, res := range r.results {
		if res.Seed >= first && res.Seed < first+uint64(k) {
			kept = append(kept, res)
		} else {
			delete(r.done, res.Seed)
		}
	}
	r.results = kept
	var queue []sim.Candidate
	next := 0
	total := r.plan.Count
	if total <= 0 {
		total = int(^uint(0) >> 1)
	}
	generate := func(folded int) {
		for next < total && next <= folded+sim.SearchWindow {
			queue = append(queue, g.s.Next(next))
			next++
		}
	}
	generate(0)
	for folded := 0; folded < k; {
		cand := queue[0]
		queue = queue[1:]
		res := bySeed[cand.Seed]
		if res.Guided == nil {
			return 0, nil, fmt.Errorf("-resume: run %d's result is not a guided run's", cand.Seed)
		}
		switch {
		case res.TraceHash == "hung":
		case res.Guided.New == 0:
			g.s.Count(cand, unpack(res.Guided.Salient))
			if res.Violation != nil && len(g.details) < DetailLimit {
				// A failure of the earlier part, for its report: its capsule may not have
				// been written (no -out), and making the run again costs one run.
				if o := g.execute(cand, timeout); !o.hung && o.run.Violation != nil {
					g.details[cand.Seed] = o.run.Choices
				}
			}
		default:
			o := g.execute(cand, timeout)
			if o.res.TraceHash != res.TraceHash || g.fold(&o) != res.Guided.New {
				return 0, nil, fmt.Errorf("-resume: run %d does not run as it did (trace %s, then %s): the code changed since the results were written",
					cand.Seed, res.TraceHash, o.res.TraceHash)
			}
		}
		folded++
		generate(folded)
	}
	return k, queue, nil
}

// load seeds the corpus with the capsules of dir recorded for this campaign's protocol,
// scenario and cluster size, whatever their variant: schedules that reached new coverage
// before.
func (g *guided) load(dir string) error {
	paths, err := scenarios.Corpus(dir)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("-guided-corpus %s: %v", dir, err)
	}
	spec := g.c.Spec
	for _, path := range paths {
		cp, err := capsule.Read(path)
		if err != nil {
			return err
		}
		if cp.Protocol != spec.Protocol.Name || cp.Scenario != spec.Scenario.Name || cp.N != spec.Cluster.N ||
			cp.F != spec.Cluster.F || len(cp.Options) > 0 {
			continue
		}
		if e, ok := g.s.AddRun(cp.Seed, cp.Choices); ok {
			g.files[e] = path
			g.loaded++
		}
	}
	return nil
}

// write stores the corpus entries this campaign found in dir, as capsules under
// dir/<protocol>/<scenario>/; it returns how many it wrote.
func (g *guided) write(dir string) (int, error) {
	spec := g.c.Spec
	n := 0
	for _, e := range g.s.Corpus() {
		if _, ok := g.files[e]; ok {
			continue
		}
		r := sim.Run(spec.Config(), sim.NewGuided(e.Seed, e.Plan))
		path := filepath.Join(dir, spec.Protocol.Name, spec.Scenario.Name, fmt.Sprintf("%016x.capsule", r.TraceHash))
		if _, err := os.Stat(path); err == nil {
			continue
		}
		if err := capsule.Write(path, spec.Capsule(e.Seed, r, "guided")); err != nil {
			return n, fmt.Errorf("-guided-corpus %s: %v", dir, err)
		}
		n++
	}
	return n, nil
}

// summary is what the guided campaign adds to its report.
func (g *guided) summary() *GuidedSummary {
	return &GuidedSummary{Window: sim.SearchWindow, Corpus: len(g.s.Corpus()), Loaded: g.loaded,
		Features: g.s.Features(), Written: g.written}
}

// detail completes the reports of the first failing runs from their choices (see Detail),
// or from their capsules for runs of an earlier, resumed, run of the campaign.
func (g *guided) detail(s *Summary, limit int) {
	cfg := g.c.Spec.Config()
	for i := range s.Violations[:min(limit, len(s.Violations))] {
		v := &s.Violations[i]
		choices, ok := g.details[v.Seed]
		if !ok {
			cp, err := capsule.Read(v.Capsule)
			if err != nil {
				continue
			}
			choices = cp.Choices
		}
		r := sim.Run(cfg, sim.NewRecorded(choices))
		if r.Violation == nil || r.Violation.Property != v.Property {
			continue
		}
		full := checker.NewReport(v.Seed, r.Violation)
		v.Details, v.Context, v.Nodes = full.Details, full.Context, full.Nodes
	}
}

// pack and unpack turn features into bytes and back, eight bytes each.
func pack(fs []uint64) []byte {
	out := make([]byte, 0, 8*len(fs))
	for _, f := range fs {
		out = binary.LittleEndian.AppendUint64(out, f)
	}
	return out
}

func unpack(b []byte) []uint64 {
	out := make([]uint64, 0, len(b)/8)
	for ; len(b) >= 8; b = b[8:] {
		out = append(out, binary.LittleEndian.Uint64(b))
	}
	return out
}
