package campaign

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/sim"
)

// Result is the outcome of one seed: one JSON line of a results file.
type Result struct {
	Seed      uint64         `json:"seed"`
	TraceHash string         `json:"trace_hash"`
	Events    int            `json:"events"`
	Virtual   float64        `json:"virtual_seconds"`
	Faults    map[string]int `json:"faults,omitempty"`
	Reached   []string       `json:"sometimes,omitempty"`
	Ops       int            `json:"ops"`
	Unknown   int            `json:"unknown_ops"`
	// Linearizability is the outcome of the history check: pass, fail, unknown, or empty
	// when the history was not checked.
	Linearizability string `json:"linearizability,omitempty"`
	// Convergence is the outcome of the convergence check (pass, fail, or empty when it was
	// not judged), for protocols with eventually consistent objects.
	Convergence string     `json:"convergence,omitempty"`
	Violation   *Violation `json:"violation,omitempty"`
	// Exhausted says that the run used up its event budget while virtual time still
	// advanced, and stopped early: checked up to there, not failed (see sim.Result).
	Exhausted bool `json:"budget_exhausted,omitempty"`
	// Guided says how a guided campaign made the run (see GuidedRun); nil in a random one.
	Guided *GuidedRun `json:"guided,omitempty"`
}

// Violation is a failed property, as reports and programs see it (see checker.Report).
type Violation = checker.Report

// LinCounts counts a campaign's linearizability checks by outcome. Checked is the runs whose
// history was judged (a run stopped earlier by another violation is not); Unknown the checks
// that ran out of time, which are neither passed nor failed.
type LinCounts struct {
	Checked int `json:"checked"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Unknown int `json:"unknown"`
}

// ConvCounts counts a campaign's convergence checks by outcome (see checker.Convergence):
// Checked is the runs whose convergence was judged.
type ConvCounts struct {
	Checked int `json:"checked"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
}

// Summary is the outcome of a campaign: what `replica run -json` prints, and what `replica
// merge` rebuilds from results files.
type Summary struct {
	Protocol     string         `json:"protocol"`
	Bug          string         `json:"bug"`
	Scenario     string         `json:"scenario"`
	N            int            `json:"n"`
	F            int            `json:"f"`
	SeedsRun     int            `json:"seeds_run"`
	Failures     int            `json:"failures"`
	FailingSeeds []uint64       `json:"failing_seeds"`
	Capsules     []string       `json:"capsules"`
	Violations   []Violation    `json:"violations"`
	Events       int            `json:"events"`
	Virtual      float64        `json:"virtual_seconds"`
	Wall         float64        `json:"wall_seconds"`
	Faults       map[string]int `json:"faults"`
	Sometimes    map[string]int `json:"sometimes"`
	Ops          int            `json:"ops"`
	Unknown      int            `json:"unknown_ops"`
	CampaignHash string         `json:"campaign_hash"`
	Interrupted  bool           `json:"interrupted,omitempty"`
	// Exhausted counts the runs that used up their event budget before their end (a long
	// -duration): not failures, but not checked whole either.
	Exhausted int `json:"budget_exhausted,omitempty"`
	// Hung counts the runs that did not finish within the seed timeout (violations of
	// PropHang): their counts (events, faults, sometimes-properties) are not included, and
	// a campaign with one does not judge its coverage (CoverageNotJudged). StoppedByHang
	// says that the campaign stopped taking seeds after one hung.
	Hung              int       `json:"hung_runs,omitempty"`
	StoppedByHang     *HangStop `json:"stopped_by_hang,omitempty"`
	CoverageNotJudged bool      `json:"coverage_not_judged,omitempty"`

	// Linearizability counts the history checks, for protocols whose workload names a model.
	Linearizability *LinCounts `json:"linearizability,omitempty"`
	// Convergence counts the convergence checks, for protocols with eventually consistent
	// objects (node.Protocol.Convergence).
	Convergence *ConvCounts `json:"convergence,omitempty"`
	// Coverage: the fault kinds the profile enables, those of them that never fired, the
	// required sometimes-properties, and the reasons coverage fails the campaign (a required
	// property never reached; with RequireFaults, an enabled kind that never fired).
	EnabledFaults []string `json:"enabled_faults"`
	// Unfireable are the enabled kinds that can never fire under the run's budgets, each
	// with the reason (see sim.Unfireable), known before the first run.
	Unfireable       []string `json:"unfireable_faults,omitempty"`
	NeverFired       []string `json:"never_fired"`
	RequireFaults    bool     `json:"require_faults,omitempty"`
	Required         []string `json:"required_sometimes,omitempty"`
	CoverageFailures []string `json:"coverage_failures"`

	// Findability is what the failure rate says about how long to run (see Findability).
	Findability *Findability `json:"findability"`
	// Guided says that a guided search made the runs (see Campaign.Guided).
	Guided bool `json:"guided,omitempty"`
}

// HangStop says that a campaign stopped after a seed hung: a stuck goroutine cannot be
// stopped and keeps a core busy, and every later hang would add one. The seeds under way
// then finished; NotRun were never started (-1: a time budget's, uncounted). Seed is the
// least seed that hung.
type HangStop struct {
	Seed   uint64 `json:"seed"`
	NotRun int    `json:"not_run"`
}

// Failed reports whether the campaign fails: a run violated a property, or its coverage
// falls short.
func (s Summary) Failed() bool { return s.Failures > 0 || len(s.CoverageFailures) > 0 }

// listLimit bounds the failing seeds, capsules and violations a summary lists.
const listLimit = 100

// newResult turns a run into its result line.
func newResult(seed uint64, r sim.Result, sometimes []string) Result {
	out := Result{
		Seed:      seed,
		TraceHash: fmt.Sprintf("%016x", r.TraceHash),
		Events:    r.Events,
		Virtual:   r.Virtual.Seconds(),
		Faults:    faultMap(r.Faults),
		Ops:       r.Ops,
		Unknown:   r.Unknown,
		Exhausted: r.Exhausted,
	}
	for i, hit := range r.Reached {
		if hit {
			out.Reached = append(out.Reached, sometimes[i])
		}
	}
	for _, m := range r.Monitors {
		if s, ok := m.(*checker.Sometimes); ok {
			out.Reached = append(out.Reached, s.Reached()...)
		}
		if j, ok := m.(checker.Judge); ok {
			if check, o := j.Verdict(); check == checker.PropLinearizable && o != checker.Unchecked {
				out.Linearizability = o.String()
			}
			if check, o := j.Verdict(); check == checker.PropConvergence && o != checker.Unchecked {
				out.Convergence = o.String()
			}
		}
	}
	if v := r.Violation; v != nil {
		// The headline only: the events, node states and details of every failing seed
		// would make a long campaign's memory and results grow with its traces (Detail
		// fills them in for the violations a person reads).
		out.Violation = checker.NewReport(seed, v)
		out.Violation.Details, out.Violation.Context, out.Violation.Nodes = nil, nil, nil
	}
	return out
}

func faultMap(c sim.Counts) map[string]int {
	m := map[string]int{}
	for k, n := range c {
		if n > 0 {
			m[sim.Kind(k).String()] = n
		}
	}
	return m
}

// Summarize folds results into a summary, in seed order whatever order they come in, so that
// a campaign, its shards merged, and its resumption all give the same summary.
func Summarize(head Summary, results []Result, wall time.Duration) Summary {
	rs := append([]Result(nil), results...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Seed < rs[j].Seed })
	s := head
	s.FailingSeeds, s.Capsules, s.Violations = []uint64{}, []string{}, []Violation{}
	if head.Linearizability != nil {
		s.Linearizability = &LinCounts{}
	}
	if head.Convergence != nil {
		s.Convergence = &ConvCounts{}
	}
	s.Faults, s.Sometimes = map[string]int{}, map[string]int{}
	for name := range head.Sometimes { // names reached by no run stay listed, at zero
		s.Sometimes[name] = 0
	}
	s.Wall = wall.Seconds()
	h := sim.NewHasher()
	var virtual time.Duration
	for _, r := range rs {
		s.SeedsRun++
		s.Events += r.Events
		virtual += time.Duration(r.Virtual * float64(time.Second))
		s.Ops += r.Ops
		s.Unknown += r.Unknown
		if r.Exhausted {
			s.Exhausted++
		}
		if v := r.Violation; v != nil && v.Property == PropHang {
			s.Hung++
		}
		for k, n := range r.Faults {
			s.Faults[k] += n
		}
		for _, name := range r.Reached {
			s.Sometimes[name]++
		}
		if l := s.Linearizability; l != nil && r.Linearizability != "" {
			l.Checked++
			switch r.Linearizability {
			case checker.Pass.String():
				l.Passed++
			case checker.Fail.String():
				l.Failed++
			default:
				l.Unknown++
			}
		}
		if c := s.Convergence; c != nil && r.Convergence != "" {
			c.Checked++
			if r.Convergence == checker.Pass.String() {
				c.Passed++
			} else {
				c.Failed++
			}
		}
		h.Uint64(r.Seed)
		h.String(r.TraceHash)
		if v := r.Violation; v != nil {
			s.Failures++
			if len(s.FailingSeeds) < listLimit {
				s.FailingSeeds = append(s.FailingSeeds, r.Seed)
				s.Violations = append(s.Violations, *v)
				if v.Capsule != "" {
					s.Capsules = append(s.Capsules, v.Capsule)
				}
			}
		}
	}
	s.Virtual = virtual.Seconds()
	s.CampaignHash = fmt.Sprintf("%016x", h.Sum())
	s.NeverFired = checker.NeverFired(kinds(s.EnabledFaults), s.Faults)
	if s.NeverFired == nil {
		s.NeverFired = []string{}
	}
	s.Findability = NewFindability(s.Failures, s.SeedsRun, head.Guided)
	s.CoverageFailures = checker.CoverageFailures(s.SeedsRun, checker.Unreached(s.Required, s.Sometimes),
		s.NeverFired, s.RequireFaults)
	if s.CoverageFailures == nil || s.SeedsRun == 0 {
		s.CoverageFailures = []string{}
	}
	if s.Hung > 0 {
		// The hung runs' counts are missing, and the campaign stopped after the first:
		// what never fired or was never reached may well have in the runs not counted.
		s.NeverFired, s.CoverageFailures, s.CoverageNotJudged = []string{}, []string{}, true
	}
	return s
}

// kinds turns fault kind names back into kinds.
func kinds(names []string) []sim.Kind {
	var ks []sim.Kind
	for _, n := range names {
		if k, ok := sim.KindByName(n); ok {
			ks = append(ks, k)
		}
	}
	return ks
}

// Findability is what a campaign's failure rate tells a user who will run a fixed version:
// with the rate seen, how many runs in a row must pass for 99% confidence that a bug failing
// that often is gone; and, from the number of runs, the smallest rate of failure that these
// runs would have shown with 99% probability.
type Findability struct {
	Runs     int     `json:"runs"`
	Failures int     `json:"failures"`
	Rate     float64 `json:"failure_rate"`
	// RunsFor99 is the number of runs without a failure that give 99% confidence that a bug
	// failing at Rate is absent: the least n with (1-Rate)^n <= 1%. Zero when no run failed.
	RunsFor99 int `json:"runs_for_99_percent,omitempty"`
	// Bound99 is the failure rate at or above which a bug would have failed at least one of
	// Runs runs with 99% probability (1 - 0.01^(1/Runs)): with no failure, what is left
	// undetected fails less often than this.
	Bound99 float64 `json:"rate_bound_99_percent"`
	// Guided says that the rate is that of a guided search's runs, which are not drawn
	// independently: it tells which bugs the search reaches, not how often a random run does.
	Guided bool `json:"guided,omitempty"`
}

// NewFindability is the findability of failures among runs; nil for no runs.
func NewFindability(failures, runs int, guided bool) *Findability {
	if runs <= 0 {
		return nil
	}
	f := &Findability{Runs: runs, Failures: failures, Rate: float64(failures) / float64(runs), Guided: guided}
	f.Bound99 = 1 - math.Pow(0.01, 1/float64(runs))
	if failures > 0 {
		f.RunsFor99 = RunsFor(f.Rate, 0.99)
	}
	return f
}

// RunsFor is how many independent runs find a bug that fails at rate with probability conf:
// the least n with 1-(1-rate)^n >= conf.
func RunsFor(rate, conf float64) int {
	if rate >= 1 {
		return 1
	}
	if rate <= 0 {
		return 0
	}
	return int(math.Ceil(math.Log(1-conf) / math.Log1p(-rate)))
}

// Sentence says it in words, for summaries.
func (f *Findability) Sentence() string {
	if f.Failures == 0 {
		return fmt.Sprintf("no failure in %d runs: with 99%% confidence, any bug these runs can reach fails fewer than %s of runs",
			f.Runs, percent(f.Bound99))
	}
	s := fmt.Sprintf("failure rate %s (%d of %d runs): a fixed version needs %d runs in a row without a failure for 99%% confidence "+
		"that a bug failing this often is gone", percent(f.Rate), f.Failures, f.Runs, f.RunsFor99)
	if f.Guided {
		s += " (a guided search's rate, higher than a random campaign's: measure the fixed version without -guided)"
	}
	return s
}

func percent(x float64) string {
	switch {
	case x >= 0.1:
		return fmt.Sprintf("%.0f%%", 100*x)
	case x >= 0.01:
		return fmt.Sprintf("%.1f%%", 100*x)
	}
	return fmt.Sprintf("%.2g%%", 100*x)
}
