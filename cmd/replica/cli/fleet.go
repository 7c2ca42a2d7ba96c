package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/scenarios/campaign"
)

// fleetFlags are the flags of `replica run` that split a campaign over machines, keep its
// results as it goes, and gate CI on it.
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

// fleet is a planned campaign: which seeds to run, where results go, what was already done.
type fleet struct {
	ff        *fleetFlags
	spec      *scenarios.Spec
	id        campaignID
	first     uint64 // the first seed of the whole campaign (before sharding)
	count     uint64 // seeds in the whole campaign; 0 = as many as the time budget allows
	shard     int
	shards    int
	done      map[uint64]bool   // seeds already in the resumed results file
	results   []campaign.Result // resumed and new results
	out       *os.File          // the results file, appended to
	writeErr  error
	seeds     []uint64 // the seeds of this shard the summary covers, in order
	corpus    []corpusResult
	commit    string
	prog      *progress
	status    *statusLine
	budgetEnd time.Time
	start     time.Time
	fails     int
}

// campaignID identifies the campaign a results line belongs to, so that `replica merge`
// and -resume refuse to mix campaigns, and merge can rebuild the campaign's summary head.
type campaignID struct {
	Protocol      string            `json:"protocol"`
	Bug           string            `json:"bug,omitempty"`
	Scenario      string            `json:"scenario"`
	N             int               `json:"n"`
	F             int               `json:"f"`
	Options       map[string]string `json:"options,omitempty"`
	RequireFaults bool              `json:"require_faults,omitempty"`
}

func idOf(c *campaign.Campaign) campaignID {
	s := c.Spec
	return campaignID{Protocol: s.Protocol.Name, Bug: s.Bug, Scenario: s.Scenario.Name, N: s.Cluster.N,
		F: s.Cluster.F, Options: s.Options(), RequireFaults: c.RequireFaults}
}

func (id campaignID) String() string {
	s := id.Protocol
	if id.Bug != "" {
		s += "/" + id.Bug
	}
	s += fmt.Sprintf("@%s n=%d f=%d", id.Scenario, id.N, id.F)
	if len(id.Options) > 0 {
		s += " " + optionsLine(id.Options)
	}
	if id.RequireFaults {
		s += " -require-faults"
	}
	return s
}

func (id campaignID) equal(o campaignID) bool { return id.String() == o.String() }

// campaign rebuilds the campaign (without its seeds) the results belong to.
func (id campaignID) campaign() (*campaign.Campaign, error) {
	s, err := id.spec()
	if err != nil {
		return nil, err
	}
	return &campaign.Campaign{Spec: s, RequireFaults: id.RequireFaults}, nil
}

// spec rebuilds the spec the campaign ran.
func (id campaignID) spec() (*scenarios.Spec, error) {
	s, err := scenarios.Resolve(id.Protocol, id.Bug, id.Scenario, id.N, id.F)
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(id.Options)) { // the first bad option, the same every time
		v := id.Options[k]
		var err error
		switch k {
		case "faults":
			s.Faults, err = time.ParseDuration(v)
		case "clients":
			s.Clients, err = strconv.Atoi(v)
		case "ops":
			s.Ops, err = strconv.Atoi(v)
		default:
			err = errors.New("unknown option")
		}
		if err != nil {
			return nil, fmt.Errorf("bad option %s=%s", k, v)
		}
	}
	return s, nil
}

// resultLine is one line of a results file: a seed's result and its campaign.
type resultLine struct {
	Campaign campaignID `json:"campaign"`
	campaign.Result
}

// plan checks the fleet flags and works out the seeds to run.
func (ff *fleetFlags) plan(fs *flag.FlagSet, c *campaign.Campaign, seeds int, seedStart uint64) (*fleet, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fl := &fleet{ff: ff, spec: c.Spec, id: idOf(c), first: seedStart, count: uint64(seeds), shards: 1,
		done: map[uint64]bool{}}
	if ff.timeBudget < 0 {
		return nil, fmt.Errorf("-time-budget %v: must be positive", ff.timeBudget)
	}
	if ff.timeBudget > 0 && !set["seeds"] {
		fl.count = 0 // as many as fit
	}
	if ff.seedFromCommit {
		if set["seed-start"] {
			return nil, errors.New("-seed-from-commit and -seed-start both choose the first seed: give one")
		}
		commit, seed, err := commitSeed()
		if err != nil {
			return nil, err
		}
		fl.commit, fl.first = commit, seed
	}
	if ff.shard != "" {
		i, n, err := parseShard(ff.shard)
		if err != nil {
			return nil, err
		}
		fl.shard, fl.shards = i, n
	}
	if ff.resume != "" {
		if ff.results != "" && ff.results != ff.resume {
			return nil, fmt.Errorf("-results %s and -resume %s: a resumed campaign appends to the file it resumes", ff.results, ff.resume)
		}
		ff.results = ff.resume
		if err := fl.load(ff.resume); err != nil {
			return nil, err
		}
	}
	if ff.results != "" {
		f, err := os.OpenFile(ff.results, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		fl.out = f
	}
	if ff.corpus != "" {
		if st, err := os.Stat(ff.corpus); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("-corpus %s: not a directory", ff.corpus)
		}
	}
	if fl.count > 0 {
		fl.seeds = fl.batch(0, int(fl.count))
	}
	return fl, nil
}

// parseShard reads "i/n".
func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("-shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return i, n, nil
}

// commitSeed derives a first seed from the current git commit: its first 40 bits, so that
// every commit tests a fresh range of seeds and the seeds stay short enough to type.
func commitSeed() (string, uint64, error) {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "", 0, fmt.Errorf("-seed-from-commit: git rev-parse HEAD failed (not in a git checkout?): %v", err)
	}
	commit := strings.TrimSpace(string(out))
	if len(commit) < 10 {
		return "", 0, fmt.Errorf("-seed-from-commit: unexpected commit %q", commit)
	}
	seed, err := strconv.ParseUint(commit[:10], 16, 64)
	if err != nil {
		return "", 0, fmt.Errorf("-seed-from-commit: unexpected commit %q", commit)
	}
	return commit, seed, nil
}

// load reads a results file to resume. A last line cut short by a kill is dropped (and cut
// from the file, so that appending starts on a fresh line).
func (fl *fleet) load(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // nothing done yet
	}
	if err != nil {
		return err
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		data = data[:i+1]
		if err := os.Truncate(path, int64(len(data))); err != nil {
			return err
		}
	}
	lines, err := readResults(path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	for _, l := range lines {
		if !l.Campaign.equal(fl.id) {
			return fmt.Errorf("-resume %s: the file holds results of %s, not of %s", path, l.Campaign, fl.id)
		}
		if !fl.done[l.Seed] {
			fl.done[l.Seed] = true
			fl.results = append(fl.results, l.Result)
		}
	}
	return nil
}

// readResults parses the lines of a results file.
func readResults(name string, r io.Reader) ([]resultLine, error) {
	var out []resultLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l resultLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Campaign.Protocol == "" || l.TraceHash == "" {
			return nil, fmt.Errorf("%s line %d: not a result line of replica run -results", name, n)
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// batch returns the seeds of this shard among campaign seed numbers [from, to).
func (fl *fleet) batch(from, to int) []uint64 {
	var out []uint64
	for k := from; k < to; k++ {
		if k%fl.shards != fl.shard {
			continue
		}
		out = append(out, fl.first+uint64(k))
	}
	return out
}

// record keeps a seed's result and appends it to the results file at once, so that an
// interrupted campaign loses nothing.
func (fl *fleet) record(r campaign.Result) {
	fl.results = append(fl.results, r)
	if r.Violation != nil {
		fl.fails++
	}
	if fl.prog != nil {
		fl.prog.add(r.Violation != nil)
	}
	if fl.status != nil {
		n := len(fl.results)
		fl.status.show("%d seeds, %d failures, %.0f seeds/s, %v of the time budget left", n, fl.fails,
			float64(n)/max(time.Since(fl.start).Seconds(), 1e-9), time.Until(fl.budgetEnd).Round(time.Second))
	}
	if fl.out == nil || fl.writeErr != nil {
		return
	}
	b, err := json.Marshal(resultLine{Campaign: fl.id, Result: r})
	if err == nil {
		_, err = fl.out.Write(append(b, '\n'))
	}
	fl.writeErr = err
}

func (fl *fleet) clearProgress() {
	if fl.prog != nil {
		fl.prog.clear()
	}
	if fl.status != nil {
		fl.status.clear()
	}
}

// run re-runs the corpus, then the seeds not yet done (see runBatches). The summary covers
// resumed and new results alike.
func (fl *fleet) run(ctx context.Context, c *campaign.Campaign, stderr io.Writer) (campaign.Summary, error) {
	fl.start = time.Now()
	if fl.ff.corpus != "" {
		res, err := runCorpus(fl.ff.corpus, fl.spec)
		if err != nil {
			return campaign.Summary{}, err
		}
		fl.corpus = res
	}
	interrupted := fl.runBatches(ctx, c, stderr)
	fl.clearProgress()
	if fl.writeErr != nil {
		return campaign.Summary{}, fmt.Errorf("-results %s: %v", fl.ff.results, fl.writeErr)
	}
	sum := campaign.Summarize(c.Head(), fl.results, time.Since(fl.start))
	sum.Interrupted = interrupted
	if fl.count == 0 { // the seeds are those the budget allowed
		fl.seeds = fl.seeds[:0]
		for _, r := range fl.results {
			fl.seeds = append(fl.seeds, r.Seed)
		}
		sortSeeds(fl.seeds)
	}
	return sum, nil
}

func sortSeeds(s []uint64) { slices.Sort(s) }

// runBatches runs the seeds not yet done in batches, until they run out, the time budget
// (if any) is spent, or ctx is cancelled, which it reports. Batches keep the campaign's own
// memory small; under a budget they start small and grow, so that a short budget still runs
// on every worker.
func (fl *fleet) runBatches(ctx context.Context, c *campaign.Campaign, stderr io.Writer) (interrupted bool) {
	bctx := ctx
	size := 1 << 16
	if fl.ff.timeBudget > 0 {
		fl.budgetEnd = fl.start.Add(fl.ff.timeBudget)
		fl.status = newStatusLine(stderr)
		var cancel context.CancelFunc
		bctx, cancel = context.WithDeadline(ctx, fl.budgetEnd)
		defer cancel()
		size = 64 * max(c.Workers, runtime.NumCPU())
	} else {
		fl.prog = newProgress(stderr, len(fl.todo(fl.seeds)))
	}
	for next := 0; ; {
		if bctx.Err() != nil {
			return ctx.Err() != nil
		}
		to := next + size*fl.shards
		if fl.count > 0 {
			to = min(to, int(fl.count))
		}
		if to <= next {
			return false // every seed ran
		}
		c.Seeds = fl.todo(fl.batch(next, to))
		next = to
		if len(c.Seeds) > 0 {
			c.Run(bctx)
		}
		if fl.ff.timeBudget > 0 {
			size = min(2*size, 1<<16)
		}
	}
}

// todo drops the seeds already done.
func (fl *fleet) todo(seeds []uint64) []uint64 {
	var out []uint64
	for _, s := range seeds {
		if !fl.done[s] {
			out = append(out, s)
		}
	}
	return out
}

func (fl *fleet) close() {
	if fl.out != nil {
		fl.out.Close()
	}
}

// runReport is what `replica run -json` prints: the campaign's summary (the same that
// `replica merge` rebuilds) and what the corpus and the commit seed added.
type runReport struct {
	campaign.Summary
	FirstSeed uint64         `json:"first_seed"`
	Commit    string         `json:"commit,omitempty"`
	Shard     string         `json:"shard,omitempty"`
	Corpus    []corpusResult `json:"corpus,omitempty"`
}

func (fl *fleet) report(s campaign.Summary) runReport {
	return runReport{Summary: s, FirstSeed: fl.first, Commit: fl.commit, Shard: fl.ff.shard, Corpus: fl.corpus}
}

// corpusFailures counts the corpus capsules that failed.
func (fl *fleet) corpusFailures() int {
	n := 0
	for _, r := range fl.corpus {
		if r.Violation != nil {
			n++
		}
	}
	return n
}

// printHead prints what the fleet flags changed about the campaign, for the text summary.
func (fl *fleet) printHead(w io.Writer) {
	if fl.commit != "" {
		fmt.Fprintf(w, "first seed %d from commit %s (rerun with -seed-start %d)\n", fl.first, fl.commit[:12], fl.first)
	}
	if fl.shards > 1 {
		fmt.Fprintf(w, "shard %d/%d: seed numbers k with k mod %d = %d\n", fl.shard, fl.shards, fl.shards, fl.shard)
	}
	if n := len(fl.done); n > 0 {
		fmt.Fprintf(w, "resumed %s: %d seeds were already done\n", fl.ff.resume, n)
	}
	printCorpus(w, fl.corpus)
}
