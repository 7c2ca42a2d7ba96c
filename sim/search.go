package sim

import (
	"math/rand/v2"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Search is a guided search over runs of one configuration, as Go's fuzzer and AFL search
// over inputs: a corpus of runs that reached coverage no run before them reached (see
// Coverage), each new run mutated from one of them (see Mutate): nine times in ten one of the
// favoured entries, the shortest run to reach each feature, and the likelier a parent the
// rarer the salient features it reached and the less often it was picked already.
//
// A search is deterministic: run k is made from the corpus as runs 0..k-SearchWindow-1 left it
// (Fold them in order), with a random source of its own, so that runs may go on in parallel,
// up to SearchWindow+1 at once, without their number or speed changing any result. Every run
// made while the corpus is empty, and a share of the others that follows how often plain runs
// and mutated ones found new coverage lately (see plainShare), is a plain seeded run: exactly
// the run NewSeeded(seed) makes.
type Search struct {
	cfg     Config
	first   uint64
	corpus  []*CorpusEntry
	covered map[uint64]bool // the corpus's features, with their hit buckets
	reached map[uint64]int  // how many entries of the corpus reached each feature
	seen    map[uint64]int  // how many runs reached each salient feature
	// top is, for each feature of the corpus, the shortest entry that reached it: the
	// favoured entries (see pick) are those that are top for some feature.
	top map[uint64]*CorpusEntry
	// arms are the plain runs' and the mutated runs' recent yield of new coverage.
	arms [2]arm
}

// arm is a moving count of one kind of run and of those that found new coverage, in units of
// 1/1024 of a run. Integers, not floats: the share they give decides runs, and Go may fuse
// floating-point operations differently on other machines.
type arm struct{ runs, found int64 }

// SearchWindow is how far run generation may run ahead of folding (see Search); where runs
// may aim faults (a profile that crashes nodes), the first SearchWarmup runs are plain, as a
// fuzzer runs its seed inputs first: a corpus of a run or two
// is a poor parent, and a plain guided run, with its aimed faults (see Guided), is as likely
// to fail as any mutant early on (paxos no-persist: the median of five campaigns' runs to
// first failure went from 18 to 4). PlainMin and PlainMax bound the share of plain seeded runs
// later (see Search.plainShare). PlainMin is one half: a mutant replays its parent's choices,
// a run that did not fail, and nothing is aimed where its plan answers, and in guided
// campaigns of seeds 1,000,000 on (1,000 to 3,000 runs each, with PlainMin 1/16) plain runs
// failed far more often than mutants for eight of nine bugs (raft no-persist-vote 2.3% against
// 0.24%, membership-no-fix 0.68% against 0.13%, paxos no-persist 1.1% against 0.26%, etcdraft
// read-leader-change 0.40% against 0.15%, pbft view-change-quorum 6.5% against 0.48%, bracha
// weak-ready 24% against 1.2%, multipaxos self-leader 14% against 4.5%, abd no-writeback 6.4%
// against 4.4%); only raft figure8's mutants did better (1.7% against 0.68%), whose rate a
// floor of one half costs about a fifth.
const (
	SearchWindow = 2
	SearchWarmup = 16
	PlainMin     = 1.0 / 2
	PlainMax     = 3.0 / 4
)

// CorpusEntry is a run of a search's corpus.
type CorpusEntry struct {
	Seed     uint64 // the run's seed (its number in the search)
	Run      int    // its index in the search, -1 for one added from elsewhere (AddRun)
	Trail    *Trail
	Plan     *Plan // the plan that replays it
	Profile  Profile
	salient  []uint64
	features []uint64
	picked   int
}

// Candidate is a run a search is about to make.
type Candidate struct {
	K      int
	Seed   uint64
	Plan   *Plan        // nil: a plain seeded run
	Parent *CorpusEntry // nil for a plain run
	Edits  []string
}

// Observed is what a search run left besides its Result.
type Observed struct {
	Trail    *Trail
	features []uint64
	reached  []uint64
	salient  []uint64
}

// Salient is the salient features the run reached (see Coverage.Salient).
func (o Observed) Salient() []uint64 { return o.salient }

// Count folds, in its place, run c of an earlier search that did not enter the corpus, from
// the salient features it reached: all that such a run changed in the search.
func (s *Search) Count(c Candidate, salient []uint64) {
	for _, f := range salient {
		s.seen[f]++
	}
	s.yield(c, false)
}

// yield counts, for the kind of run c is (plain or mutated), whether it found new coverage,
// in a moving average over about the last hundred runs of that kind.
func (s *Search) yield(c Candidate, found bool) {
	if c.K < 0 {
		return // a run added from elsewhere (AddRun): neither kind
	}
	a := &s.arms[0]
	if c.Plan != nil {
		a = &s.arms[1]
	}
	const one = 1024
	a.runs += one - a.runs/100 // a hundredth of the past fades at each run
	a.found -= a.found / 100
	if found {
		a.found += one
	}
}

// plainShare is the share of plain runs the search makes next: PlainMin while mutated runs
// find new coverage lately at least as often as plain runs do (a corpus that leads somewhere),
// and more, up to PlainMax, the more often plain runs find it than mutants do (mutants stuck
// near parents that lead nowhere), so that a guided campaign is not much worse than a random
// one where its mutations do not help.
//
// It is a fraction of 1<<16. Each kind's rate counts one run found and one not beforehand.
func (s *Search) plainShare() int64 {
	const one, unit = 1024, 1 << 16
	pf, pr := s.arms[0].found+one, s.arms[0].runs+2*one
	mf, mr := s.arms[1].found+one, s.arms[1].runs+2*one
	lo, hi := int64(PlainMin*unit), int64(PlainMax*unit)
	if mf*pr >= pf*mr { // m >= p
		return lo
	}
	// lo + (hi-lo)(p-m)/p, with (p-m)/p = 1 - (mf*pr)/(mr*pf)
	return lo + (hi-lo)*(mr*pf-mf*pr)/(mr*pf)
}

// NewSearch returns an empty search over runs of cfg, whose run k has seed first+k.
func NewSearch(cfg Config, first uint64) *Search {
	return &Search{cfg: cfg, first: first, covered: map[uint64]bool{}, reached: map[uint64]int{}, seen: map[uint64]int{},
		top: map[uint64]*CorpusEntry{}}
}

// Next makes candidate k from the corpus as it is now.
func (s *Search) Next(k int) Candidate {
	c := Candidate{K: k, Seed: s.first + uint64(k)}
	if len(s.corpus) == 0 || k < SearchWarmup && s.aims() {
		return c
	}
	rng := rand.New(rand.NewPCG(s.first^0x67756964656421, uint64(k)))
	if rng.Float64()*(1<<16) < float64(s.plainShare()) { // exact: a power of two, a small integer
		return c
	}
	parent := s.pick(rng)
	var other *Trail
	if len(s.corpus) > 1 {
		other = s.corpus[rng.IntN(len(s.corpus))].Trail
	}
	parent.picked++
	t := s.cfg.Protocol.Timing
	c.Parent = parent
	c.Plan, c.Edits = Mutate(rng, parent.Trail, other, MutateOptions{Profile: parent.Profile,
		Reached: func(f uint64) int { return s.seen[f] + s.reached[f] }, Before: 5 * t.Delay, After: 30 * t.Delay})
	return c
}

// aims reports whether the search's runs may aim faults (see Guided): whether its profile
// crashes nodes or cuts one off, or a swarm may draw one that does. Only then are plain runs
// worth a warm-up; elsewhere they are the random campaign's
// runs, and mutants start from the fourth run.
func (s *Search) aims() bool {
	p := s.cfg.Profile
	return s.cfg.Swarm || p.StepCrash > 0 || p.FaultEvery > 0 && (p.Crash > 0 || p.Isolate > 0 || p.OneWay > 0)
}

// pick draws a parent: nine times in ten among the favoured entries, and the likelier the
// rarer the salient features it reached among all the search's runs and the less often it was
// picked already (AFL's culled queue and its energy schedule, simply).
func (s *Search) pick(rng *rand.Rand) *CorpusEntry {
	// Every entry entered with a feature new to the corpus, so some entry is top for it.
	favoured := rng.IntN(10) != 0
	energy := make([]int, len(s.corpus))
	total := 0
	for i, e := range s.corpus {
		if favoured && !s.favoured(e) {
			continue
		}
		rare := 0
		for _, f := range e.salient {
			rare += 1024 / max(s.seen[f], 1)
		}
		energy[i] = 1 + rare/(1+e.picked)
		total += energy[i]
	}
	v := rng.IntN(total)
	for i, e := range energy {
		if v < e {
			return s.corpus[i]
		}
		v -= e
	}
	return s.corpus[len(s.corpus)-1]
}

// favoured reports whether e is the shortest entry to reach some feature of the corpus:
// the favoured entries cover all the corpus reached, and a search picks its parents among
// them nine times in ten (AFL's culled queue), so that a large corpus of runs that each
// added little does not dilute the runs that matter.
func (s *Search) favoured(e *CorpusEntry) bool {
	for _, f := range e.features {
		if s.top[f] == e {
			return true
		}
	}
	return false
}

// Config is the configuration of candidate c's run: the search's, watched by a fresh
// coverage observer (after cfg's own observer, if it has one). The chooser is c's.
func (s *Search) Config(c Candidate) (Config, Chooser, func(r Result) Observed) {
	cfg := s.cfg
	cov := NewCoverage(cfg.Protocol)
	if cfg.Observer != nil {
		cfg.Observer = Observers(cfg.Observer, cov)
	} else {
		cfg.Observer = cov
	}
	g := NewGuided(c.Seed, c.Plan)
	return cfg, g, func(Result) Observed {
		return Observed{Trail: g.Trail(), features: cov.Features(), reached: cov.Reached(), salient: cov.Salient()}
	}
}

// Run makes candidate c's run.
func (s *Search) Run(c Candidate) (Result, Observed) {
	cfg, ch, done := s.Config(c)
	r := Run(cfg, ch)
	return r, done(r)
}

// Fold adds a finished run to the search: it counts the salient features it reached, and
// keeps a run without a violation that reached a feature no entry of the corpus reached in
// the corpus. It returns how many such features the run reached (0: not kept). Runs must be
// folded in order (see Search).
func (s *Search) Fold(c Candidate, r Result, o Observed) int {
	for _, f := range o.salient {
		s.seen[f]++
	}
	fresh := 0
	for _, f := range o.features {
		if !s.covered[f] {
			fresh++
		}
	}
	if r.Violation != nil {
		fresh = 0
	}
	s.yield(c, fresh > 0)
	if fresh == 0 {
		return 0
	}
	for _, f := range o.features {
		s.covered[f] = true
	}
	for _, f := range o.reached {
		s.reached[f]++
	}
	plan := c.Plan
	if plan == nil {
		plan = PlanOf(o.Trail) // a plain run, replayed by its choices
	}
	e := &CorpusEntry{Seed: c.Seed, Run: c.K, Trail: o.Trail, Plan: plan, Profile: r.Profile, salient: o.salient, features: o.features}
	s.corpus = append(s.corpus, e)
	for _, f := range o.features {
		if t := s.top[f]; t == nil || len(e.Trail.Events) < len(t.Trail.Events) {
			s.top[f] = e
		}
	}
	return fresh
}

// AddRun adds a recorded run (a capsule's choices) to the corpus if it reached new coverage,
// before the search's own runs; it reports whether it did. A run with a violation is not
// added: a failure is for the regression corpus, not a parent.
func (s *Search) AddRun(seed uint64, choices []int32) (*CorpusEntry, bool) {
	cfg := s.cfg
	cov := NewCoverage(cfg.Protocol)
	cfg.Observer = cov
	g := NewGuidedFrom(NewRecorded(choices))
	r := Run(cfg, g)
	o := Observed{Trail: g.Trail(), features: cov.Features(), reached: cov.Reached(), salient: cov.Salient()}
	if s.Fold(Candidate{K: -1, Seed: seed, Plan: PlanOf(o.Trail)}, r, o) == 0 {
		return nil, false
	}
	return s.corpus[len(s.corpus)-1], true
}

// Corpus is the search's corpus, in the order its entries came.
func (s *Search) Corpus() []*CorpusEntry { return s.corpus }

// Features is how many coverage features (with their hit buckets) the corpus reached.
func (s *Search) Features() int { return len(s.covered) }

// Sequential runs candidates 0..count-1 of the search one after another, as a campaign with
// workers would run them, and calls done with each in order; it stops early when done returns
// false.
func (s *Search) Sequential(count int, done func(c Candidate, r Result, new int) bool) {
	s.SequentialWatched(count, 0, done)
}

// SequentialWatched is Sequential with each run under the watchdog of Watched (no limit:
// limit <= 0). A run that does not finish within limit is handed to done as a Result that
// holds only its violation, of PropHang (see Stuck.Violation), and ends the search.
func (s *Search) SequentialWatched(count int, limit time.Duration, done func(c Candidate, r Result, new int) bool) {
	var queue []Candidate
	next := 0
	for folded := 0; folded < count; folded++ {
		for next < count && next <= folded+SearchWindow {
			queue = append(queue, s.Next(next))
			next++
		}
		c := queue[0]
		queue = queue[1:]
		cfg, ch, observed := s.Config(c)
		r, stuck := Watched(cfg, ch, limit)
		if stuck != nil {
			done(c, Result{Events: stuck.Event, Virtual: stuck.Time, Violation: stuck.Violation()}, 0)
			return
		}
		if !done(c, r, s.Fold(c, r, observed(r))) {
			return
		}
	}
}

// The node.Protocol a search was made for.
func (s *Search) Protocol() *node.Protocol { return s.cfg.Protocol }
