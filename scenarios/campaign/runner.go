package campaign

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

// Report is a planned campaign's outcome: its summary, and what the plan added to it. It is
// what `replica run -json` prints, and what Merge rebuilds from results files.
type Report struct {
	Summary
	FirstSeed uint64         `json:"first_seed"`
	Commit    string         `json:"commit,omitempty"`
	Shard     string         `json:"shard,omitempty"`
	Corpus    []CorpusResult `json:"corpus,omitempty"`
	// RunsToFirstFailure is how many runs the campaign took to its first failing run,
	// counting from its first seed (the failing run included), as one machine running the
	// seeds in order would have: null when no run failed.
	RunsToFirstFailure *int `json:"runs_to_first_failure"`
	// Guided is what a guided campaign adds (see GuidedWindow).
	Guided *GuidedSummary `json:"guided,omitempty"`

	// Seeds are the seeds the summary covers, in order; Resumed how many of them an earlier
	// run had done.
	Seeds   []uint64 `json:"-"`
	Resumed int      `json:"-"`
}

// Failed reports whether the campaign fails: a seed or a corpus capsule failed, or coverage
// fell short.
func (r *Report) Failed() bool { return r.Summary.Failed() || r.CorpusFailures() > 0 }

// CorpusFailures counts the corpus capsules that failed.
func (r *Report) CorpusFailures() int {
	n := 0
	for _, c := range r.Corpus {
		if c.Violation != nil {
			n++
		}
	}
	return n
}

// Runner is a campaign prepared to run a plan (see Campaign.Prepare).
type Runner struct {
	c       *Campaign
	plan    Plan
	id      ID
	done    map[uint64]bool // seeds already in the resumed results file
	results []Result        // resumed and new results
	out     *resultsFile
	onDone  func(Result)
	seeds   []uint64 // the seeds of the shard, when the plan counts them

	guided        *guided // the guided search under way, for a guided campaign
	guidedWritten int
}

// Prepare checks the plan against the campaign and gets it ready: the output paths must be
// writable (checked now, not after an hour of seeds), the resumed results file must hold
// results of this campaign, the corpus must be a directory. Close the runner when done.
func (c *Campaign) Prepare(p Plan) (*Runner, error) {
	switch {
	case p.Count < 0:
		return nil, fmt.Errorf("-seeds %d: must be at least 1", p.Count)
	case p.Count == 0 && p.TimeBudget <= 0:
		return nil, errors.New("a campaign needs a number of seeds or a time budget")
	case p.TimeBudget < 0:
		return nil, fmt.Errorf("-time-budget %v: must be positive", p.TimeBudget)
	case p.Resume && p.Results == "":
		return nil, errors.New("resuming needs the results file to resume")
	}
	if c.OutDir != "" {
		if err := WritableDir(c.OutDir); err != nil {
			return nil, fmt.Errorf("-out %s: %v", c.OutDir, err)
		}
	}
	if p.JUnit != "" {
		if err := WritableFile(p.JUnit); err != nil {
			return nil, fmt.Errorf("-junit %s: %v", p.JUnit, err)
		}
	}
	if p.Corpus != "" {
		if st, err := os.Stat(p.Corpus); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("-corpus %s: not a directory", p.Corpus)
		}
	}
	switch {
	case c.Guided && p.Shard.N > 1:
		return nil, errors.New("-guided: a guided campaign is one sequence of runs, each made from those before it, " +
			"and cannot be sharded (give each machine its own -seed-start instead)")
	case p.GuidedCorpus != "" && !c.Guided:
		return nil, errors.New("-guided-corpus: only a guided campaign (-guided) keeps a corpus")
	case p.GuidedCorpus != "":
		if err := WritableDir(p.GuidedCorpus); err != nil {
			return nil, fmt.Errorf("-guided-corpus %s: %v", p.GuidedCorpus, err)
		}
	}
	r := &Runner{c: c, plan: p, id: c.ID(), done: map[uint64]bool{}, onDone: c.OnResult}
	if p.Resume {
		var err error
		if r.done, r.results, err = loadResumed(p.Results, r.id); err != nil {
			return nil, err
		}
	}
	if p.Results != "" {
		if err := WritableFile(p.Results); err != nil {
			return nil, fmt.Errorf("-results %s: %v", p.Results, err)
		}
		if !p.Resume {
			if err := checkAppend(p.Results, r.id); err != nil {
				return nil, err
			}
		}
		first := p.First
		out, err := openResults(p.Results, Line{Campaign: r.id, FirstSeed: &first, Commit: p.Commit})
		if err != nil {
			return nil, err
		}
		r.out = out
	}
	if p.Count > 0 {
		r.seeds = p.Seeds(0, p.Count)
	}
	return r, nil
}

// Todo is the number of seeds left to run, or -1 when a time budget decides.
func (r *Runner) Todo() int {
	if r.plan.Count == 0 {
		return -1
	}
	return len(r.todo(r.seeds))
}

// Resumed is the number of seeds the resumed results file held.
func (r *Runner) Resumed() int { return len(r.done) }

// Close closes the results file.
func (r *Runner) Close() error {
	if r.out == nil {
		return nil
	}
	err := r.out.close()
	r.out = nil
	return err
}

// Run re-runs the corpus, then runs the seeds not yet done, until they run out, the time
// budget is spent or ctx is cancelled (the report then says it was interrupted). The summary
// covers resumed and new results alike, its first violations are detailed (see Detail), and
// the JUnit report, if the plan asks for one, is written.
func (r *Runner) Run(ctx context.Context) (Report, error) {
	start := time.Now()
	rep := Report{FirstSeed: r.plan.First, Commit: r.plan.Commit, Shard: r.plan.Shard.String(), Resumed: len(r.done)}
	if r.plan.Corpus != "" {
		res, err := RunCorpus(r.plan.Corpus, r.c.Spec)
		if err != nil {
			return Report{}, err
		}
		rep.Corpus = res
	}
	c := *r.c
	c.OnResult = r.record
	c.hung = new(atomic.Pointer[uint64])
	var interrupted bool
	if c.Guided {
		var err error
		if interrupted, err = r.runGuided(ctx, &c); err != nil {
			return Report{}, err
		}
	} else {
		interrupted = r.runBatches(ctx, &c)
	}
	_, hung := c.Hung()
	if r.out != nil && r.out.err != nil {
		return Report{}, fmt.Errorf("-results %s: %v", r.out.path, r.out.err)
	}
	rep.Summary = Summarize(r.c.Head(), r.results, time.Since(start))
	rep.Interrupted = interrupted
	if hung {
		notRun := -1
		if r.plan.Count > 0 {
			notRun = len(r.seeds) - len(r.results)
		}
		rep.StoppedByHang = &HangStop{Seed: firstHung(r.results), NotRun: notRun}
	}
	if r.guided != nil {
		r.guided.detail(&rep.Summary, DetailLimit)
		rep.Guided = r.guided.summary()
	} else {
		r.c.Detail(&rep.Summary, DetailLimit)
	}
	rep.RunsToFirstFailure = RunsToFirstFailure(r.plan.First, r.results)
	if r.plan.Count > 0 {
		rep.Seeds = r.seeds
	} else { // the seeds are those the budget allowed
		for _, res := range r.results {
			rep.Seeds = append(rep.Seeds, res.Seed)
		}
		slices.Sort(rep.Seeds)
	}
	if r.plan.JUnit != "" {
		if err := WriteJUnit(r.plan.JUnit, r.c.Spec.Name(), rep); err != nil {
			return rep, fmt.Errorf("-junit: %v", err)
		}
	}
	return rep, nil
}

// record keeps a seed's result and appends it to the results file at once.
func (r *Runner) record(res Result) {
	r.results = append(r.results, res)
	if r.out != nil {
		r.out.add(res)
	}
	if r.onDone != nil {
		r.onDone(res)
	}
}

// runBatches runs the seeds not yet done in batches, until they run out, the time budget (if
// any) is spent, or ctx is cancelled, which it reports. Batches keep the campaign's own
// memory small; under a budget they start small and grow, so that a short budget still runs
// on every worker.
func (r *Runner) runBatches(ctx context.Context, c *Campaign) (interrupted bool) {
	bctx := ctx
	size := 1 << 16
	if r.plan.TimeBudget > 0 {
		var cancel context.CancelFunc
		bctx, cancel = context.WithTimeout(ctx, r.plan.TimeBudget)
		defer cancel()
		size = 64 * max(c.Workers, runtime.NumCPU())
	}
	shards := r.plan.Shard.count()
	for next := 0; ; {
		if bctx.Err() != nil {
			return ctx.Err() != nil
		}
		to := next + size*shards
		if r.plan.Count > 0 {
			to = min(to, r.plan.Count)
		}
		if to <= next {
			return false // every seed ran
		}
		c.Seeds = r.todo(r.plan.Seeds(next, to))
		next = to
		if len(c.Seeds) > 0 {
			c.Run(bctx)
		}
		if _, hung := c.Hung(); hung {
			return false // a stuck goroutine keeps its core: no more seeds (see Campaign.SeedTimeout)
		}
		if r.plan.TimeBudget > 0 {
			size = min(2*size, 1<<16)
		}
	}
}

// todo drops the seeds already done.
func (r *Runner) todo(seeds []uint64) []uint64 {
	var out []uint64
	for _, s := range seeds {
		if !r.done[s] {
			out = append(out, s)
		}
	}
	return out
}

// SaveResults writes every result the runner holds (resumed and new) to a results file at
// path, replacing it: what an interrupted campaign without a results file keeps, so that it
// can be resumed.
func (r *Runner) SaveResults(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	first := r.plan.First
	out, err := openResults(path, Line{Campaign: r.id, FirstSeed: &first, Commit: r.plan.Commit})
	if err != nil {
		return err
	}
	for _, res := range r.results {
		out.add(res)
	}
	return out.close()
}

// RunsToFirstFailure is how many runs a campaign of first seed first took to its first
// failing run (see Report.RunsToFirstFailure); nil when none failed.
func RunsToFirstFailure(first uint64, results []Result) *int {
	var least *uint64
	for i := range results {
		r := &results[i]
		if r.Violation != nil && r.Seed >= first && (least == nil || r.Seed < *least) {
			least = &r.Seed
		}
	}
	if least == nil {
		return nil
	}
	n := int(*least-first) + 1
	return &n
}
