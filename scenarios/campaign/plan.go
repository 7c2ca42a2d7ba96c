package campaign

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Plan says which seeds of a campaign to run and what becomes of their results: a shard of a
// campaign split over machines, a results file that keeps each seed's result the moment it
// finishes, a resumed run that skips the seeds already done, a wall-time budget, a regression
// corpus re-run first, a JUnit report at the end. Campaign.Prepare checks it and Runner.Run
// carries it out.
type Plan struct {
	// First is the first seed of the whole campaign (before sharding); Count the number of
	// seeds in it. Count 0 with a TimeBudget runs as many seeds as fit.
	First uint64
	Count int
	// Shard is the part of the campaign's seeds to run; the zero Shard is all of them.
	Shard Shard
	// TimeBudget, when positive, stops the campaign after this much wall time.
	TimeBudget time.Duration
	// Commit is the git commit First was derived from (see CommitSeed), for the report.
	Commit string
	// Results is a file each result is appended to as a JSON line (see Line). With Resume,
	// its seeds are not run again, and the summary covers them too.
	Results string
	Resume  bool
	// Corpus is a directory of capsules re-run against the campaign's variant before the
	// seeds (see RunCorpus).
	Corpus string
	// JUnit is a file the report is written to as JUnit XML when the campaign ends.
	JUnit string
	// GuidedCorpus is the directory of a guided campaign's corpus (see GuidedWindow): its
	// capsules of this protocol and scenario seed the corpus, and the new entries are written
	// to it at the end.
	GuidedCorpus string
}

// Shard is shard I of N: the seed numbers k (counted from the campaign's first seed) with
// k mod N = I. The split depends on I and N alone, so that the N shards together run every
// seed of the campaign exactly once.
type Shard struct{ I, N int }

// ParseShard reads "i/n".
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("-shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return Shard{I: i, N: n}, nil
}

// String is "i/n", or "" for the whole campaign.
func (s Shard) String() string {
	if s.N == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

func (s Shard) count() int { return max(s.N, 1) }

// Seeds returns the seeds of plan's shard among the campaign's seed numbers [from, to).
func (p *Plan) Seeds(from, to int) []uint64 {
	var out []uint64
	for k := from; k < to; k++ {
		if k%p.Shard.count() == p.Shard.I {
			out = append(out, p.First+uint64(k))
		}
	}
	return out
}

// CommitSeed derives a first seed from the git commit checked out in dir ("" for the working
// directory): its first 40 bits, so that every commit tests a fresh range of seeds and the
// seeds stay short enough to type.
func CommitSeed(dir string) (commit string, seed uint64, err error) {
	cmd := exec.Command("git", "rev-parse", "HEAD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", 0, fmt.Errorf("-seed-from-commit: git rev-parse HEAD failed (not in a git checkout?): %v", err)
	}
	commit = strings.TrimSpace(string(out))
	if len(commit) < 10 {
		return "", 0, fmt.Errorf("-seed-from-commit: unexpected commit %q", commit)
	}
	seed, err = strconv.ParseUint(commit[:10], 16, 64)
	if err != nil {
		return "", 0, fmt.Errorf("-seed-from-commit: unexpected commit %q", commit)
	}
	return commit, seed, nil
}

// WritableFile checks, without creating it, that a file can be written at path: its
// directory exists and takes new files. A campaign checks its output paths before it starts,
// not after an hour of seeds. The error does not repeat the path.
func WritableFile(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.New("a directory, not a file")
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no directory %s", dir)
	}
	if err != nil {
		return pathError(err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return probe(dir)
}

// WritableDir checks that dir exists and takes new files, or could be created: its nearest
// existing ancestor is a directory that takes new files. It creates nothing that stays, so
// that a campaign without failures leaves no empty output directory behind. The error does
// not repeat the path.
func WritableDir(dir string) error {
	d := filepath.Clean(dir)
	for {
		st, err := os.Stat(d)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("%s is not a directory", d)
			}
			return probe(d)
		}
		if !errors.Is(err, os.ErrNotExist) {
			return pathError(err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return pathError(err)
		}
		d = parent
	}
}

// pathError drops the operation and path from err, which the caller names.
func pathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
