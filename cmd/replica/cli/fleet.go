package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/replica-io/replica/scenarios/campaign"
)

// fleetFlags are the flags of `replica run` that split a campaign over machines, keep its
// results as it goes, and gate CI on it (see campaign.Plan, which does the work).
type fleetFlags struct {
	shard          string
	results        string
	resume         string
	timeBudget     time.Duration
	seedFromCommit bool
	junit          string
	corpus         string
}

func addFleetFlags(fs *flag.FlagSet) *fleetFlags {
	ff := &fleetFlags{}
	fs.StringVar(&ff.shard, "shard", "", "run only shard `i/n` of the seeds (seed number k goes to shard k mod n)")
	fs.StringVar(&ff.results, "results", "", "append each seed's result to `FILE` as a JSON line as soon as it finishes")
	fs.StringVar(&ff.resume, "resume", "", "run only the seeds missing from results `FILE`, appending to it; the summary covers them all")
	fs.DurationVar(&ff.timeBudget, "time-budget", 0, "run as many seeds as fit in this wall time (-seeds, if given, is the most)")
	fs.BoolVar(&ff.seedFromCommit, "seed-from-commit", false, "derive the first seed from the current git commit (each commit tests new seeds)")
	fs.StringVar(&ff.junit, "junit", "", "write a JUnit XML report to `FILE` (for CI)")
	fs.StringVar(&ff.corpus, "corpus", "", "first re-run every capsule of this protocol under `DIR` (a regression corpus) against this campaign's variant")
	return ff
}

// plan turns the flags into a campaign plan.
func (ff *fleetFlags) plan(fs *flag.FlagSet, seeds int, seedStart uint64) (campaign.Plan, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	p := campaign.Plan{First: seedStart, Count: seeds, TimeBudget: ff.timeBudget, Results: ff.results,
		Corpus: ff.corpus, JUnit: ff.junit}
	if ff.timeBudget < 0 {
		return p, fmt.Errorf("-time-budget %v: must be positive", ff.timeBudget)
	}
	if ff.timeBudget > 0 && !set["seeds"] {
		p.Count = 0 // as many as fit
	}
	if ff.seedFromCommit {
		if set["seed-start"] {
			return p, errors.New("-seed-from-commit and -seed-start both choose the first seed: give one")
		}
		commit, seed, err := campaign.CommitSeed("")
		if err != nil {
			return p, err
		}
		p.Commit, p.First = commit, seed
	}
	if ff.shard != "" {
		s, err := campaign.ParseShard(ff.shard)
		if err != nil {
			return p, err
		}
		p.Shard = s
	}
	if ff.resume != "" {
		if ff.results != "" && ff.results != ff.resume {
			return p, fmt.Errorf("-results %s and -resume %s: a resumed campaign appends to the file it resumes", ff.results, ff.resume)
		}
		p.Results, p.Resume = ff.resume, true
	}
	return p, nil
}

// printHead prints what the plan changed about the campaign, for the text summary.
func printHead(w io.Writer, p campaign.Plan, r campaign.Report) {
	if r.Commit != "" {
		fmt.Fprintf(w, "first seed %d from commit %s (rerun with -seed-start %d)\n", r.FirstSeed, r.Commit[:min(12, len(r.Commit))], r.FirstSeed)
	}
	if p.Shard.N > 1 {
		fmt.Fprintf(w, "shard %d/%d: seed numbers k with k mod %d = %d\n", p.Shard.I, p.Shard.N, p.Shard.N, p.Shard.I)
	}
	if r.Resumed > 0 {
		fmt.Fprintf(w, "resumed %s: %d seeds were already done\n", p.Results, r.Resumed)
	}
	printCorpus(w, r.Corpus)
}
