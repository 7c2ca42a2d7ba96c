package simtest

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
	"pgregory.net/rapid"
)

// A Scenario is what a test runs: anything that yields a simulator configuration, such as a
// *scenarios.Spec (scenarios.New or scenarios.Resolve), or a hand-built sim.Config wrapped by
// Of. A scenario with a Validate method is validated before it runs, and a test fails with
// its error rather than running something that checks nothing.
type Scenario interface {
	Config() sim.Config
}

type validator interface{ Validate() error }

// Of wraps a hand-built configuration as a Scenario with every check its protocol declares
// added (scenarios.Checked): linearizability against the workload's Spec, memory bounds and,
// with a liveness phase, liveness. A configuration that would check nothing (an invalid
// protocol, a fault phase of no length) fails the test that runs it.
func Of(cfg sim.Config) Scenario {
	checked, err := scenarios.Checked(cfg)
	return plain{checked, err}
}

type plain struct {
	cfg sim.Config
	err error
}

func (p plain) Config() sim.Config { return p.cfg }
func (p plain) Validate() error    { return p.err }

// validate returns why s cannot run, or nil.
func validate(s Scenario) error {
	if v, ok := s.(validator); ok {
		return v.Validate()
	}
	return nil
}

// capsuler is a Scenario that can record one of its runs as a replay capsule, as
// scenarios.Spec does.
type capsuler interface {
	Capsule(seed uint64, r sim.Result, source string) *capsule.Capsule
}

// TB is the part of testing.TB that Run needs; *testing.T and *testing.B have it.
type TB interface {
	Helper()
	Name() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
}

// An Option tunes Run.
type Option func(*options)

type options struct {
	seeds   int
	first   uint64
	expect  string
	twice   int
	guided  bool
	timeout time.Duration
}

// DefaultSeedTimeout is how long a run may take before it counts as hung, as in campaigns
// (campaign.DefaultSeedTimeout).
const DefaultSeedTimeout = time.Minute

// SeedTimeout sets the wall time after which a run that has not finished fails its test as
// a violation of sim.PropHang (default DefaultSeedTimeout): a step that loops without end is
// reported with the event, the node and the protocol's frames where it loops (see
// sim.Watched), and the test function returns. The stuck goroutine cannot be stopped, and
// keeps a core busy until the test binary exits; no other run is started after it. A run of
// a rapid property (Check, Property, Runs) that hangs fails every later run of the same
// property at once with the same report, so that rapid's shrinking does not hang again at
// every step: its shrunk case and fail file are then not the hang's.
func SeedTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// Seeds sets how many seeds Run runs (default 100).
func Seeds(n int) Option { return func(o *options) { o.seeds = n } }

// FirstSeed sets the first seed Run runs (default 0).
func FirstSeed(seed uint64) Option { return func(o *options) { o.first = seed } }

// Twice sets how many of the first seeds Run runs twice, failing on traces that differ: the
// determinism check (default 3; 0 turns it off).
func Twice(n int) Option { return func(o *options) { o.twice = n } }

// Guided makes Run and Find a guided search (as `replica run -guided` is; see sim.Search):
// after the first few runs, each run mutates an earlier one that reached new coverage. Seeds
// sets how many runs it makes, FirstSeed the number of its first; a failing run is reported
// under its number, and its capsule holds its choices.
func Guided() Option { return func(o *options) { o.guided = true } }

// Expect turns Run around for a seeded bug: some run must violate property (the testbed
// finds the bug), and no run may violate anything else.
func Expect(property string) Option { return func(o *options) { o.expect = property } }

// Run runs the scenario's seeds with the seeded chooser of campaigns and fails t at the first
// run that violates a property, reporting the violation, the events that led to it and, for
// a scenario that records capsules, the capsule to replay, show and shrink it with.
//
// Run also runs the first few seeds twice (see Twice) and fails when their traces differ,
// saying at which event they part: a protocol that lets Go map order or a shared random
// source reach its run cannot be replayed, and every failure it shows would be a ghost.
func Run(t TB, s Scenario, opts ...Option) {
	t.Helper()
	if err := validate(s); err != nil {
		t.Errorf("simtest: %v", err)
		return
	}
	o := newOptions(opts)
	if msg := determinism(s, o); msg != "" {
		t.Errorf("%s", msg)
		return
	}
	seed, r, found := find(s, o)
	switch {
	case !found && o.expect != "":
		t.Errorf("no run of seeds %d..%d violated %s: the testbed does not find the bug", o.first, o.first+uint64(o.seeds)-1, o.expect)
	case !found:
	case r.Violation.Property == o.expect:
		t.Logf("seed %d: %s violated, as expected: %s", seed, r.Violation.Property, r.Violation.Message)
	case r.Violation.Property == sim.PropHang && o.guided:
		t.Errorf("run %d of the guided search: %s", seed, hangReportOf(s, noSeed, r.Violation))
	default:
		t.Errorf("%s", Report(t, s, seed, r))
	}
}

// Find runs the scenario's seeds as Run does and returns the first run that violates a
// property, and its seed; found is false when every run passed. A run that hung (see
// SeedTimeout) is returned as a Result that holds only its violation, of sim.PropHang. It
// panics on a scenario that cannot run (see Scenario): a test that finds nothing must not be
// mistaken for one that checked nothing.
func Find(s Scenario, opts ...Option) (seed uint64, r sim.Result, found bool) {
	if err := validate(s); err != nil {
		panic("simtest.Find: " + err.Error())
	}
	return find(s, newOptions(opts))
}

// determinism runs the first seeds twice and describes the first difference between the two
// traces of a seed, or a run that hung, or returns "".
func determinism(sc Scenario, o options) string {
	cfg := sc.Config()
	cfg.Trace = sim.TraceFull
	for i := 0; i < min(o.twice, o.seeds); i++ {
		seed := o.first + uint64(i)
		a, stuck := sim.Watched(cfg, sim.NewSeeded(seed), o.timeout)
		if stuck != nil {
			return hangReport(sc, seed, stuck)
		}
		b, stuck := sim.Watched(cfg, sim.NewSeeded(seed), o.timeout)
		if stuck != nil {
			return hangReport(sc, seed, stuck) + "\n(in the determinism check's second run of the seed: the first one finished)"
		}
		if a.TraceHash == b.TraceHash {
			continue
		}
		return fmt.Sprintf("seed %d ran twice with different traces: the run is not deterministic "+
			"(Go map order, a shared random source or the wall clock reached it); %s", seed, parting(a.Trace, b.Trace))
	}
	return ""
}

// hangReport describes a run of seed that did not finish: the violation, the stuck
// goroutine's frames, and, for a resolved scenario, the command that runs the seed again.
func hangReport(sc Scenario, seed uint64, stuck *sim.Stuck) string {
	return hangReportOf(sc, seed, stuck.Violation())
}

// hangReportOf is hangReport of the violation a Stuck made; the seed is noSeed for a run that
// no seed makes again (a guided search's mutant, rapid's).
func hangReportOf(sc Scenario, seed uint64, v *sim.Violation) string {
	var b strings.Builder
	if seed != noSeed {
		fmt.Fprintf(&b, "seed %d: ", seed)
	}
	fmt.Fprintf(&b, "%s violated at %.3fms (event %d): %s\n", v.Property, float64(v.Time)/1e6, v.Event, v.Message)
	for _, d := range v.Details {
		fmt.Fprintf(&b, "  %s\n", d)
	}
	if spec, ok := sc.(*scenarios.Spec); ok && seed != noSeed {
		cmd := "replica replay " + strings.Join(spec.SeedArgs(seed), " ")
		if !registered(spec.Protocol.Name) {
			cmd += " (protocol " + spec.Protocol.Name + " is not registered here: with a program of your own that registers it, see cmd/replica/cli)"
		}
		fmt.Fprintf(&b, "run it again: %s\n", cmd)
	}
	return b.String()
}

// noSeed is the seed of a run that has none (rapid's).
const noSeed = ^uint64(0)

// parting says where two traces of one seed part.
func parting(a, b []sim.Entry) string {
	for i := range min(len(a), len(b)) {
		if x, y := a[i].String(), b[i].String(); x != y {
			return fmt.Sprintf("they part at event %d:\n  first run:  %s\n  second run: %s", a[i].Event, x, y)
		}
	}
	return fmt.Sprintf("one trace is a prefix of the other (%d and %d entries)", len(a), len(b))
}

func newOptions(opts []Option) options {
	o := options{seeds: 100, twice: 3, timeout: DefaultSeedTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

func find(s Scenario, o options) (uint64, sim.Result, bool) {
	cfg := s.Config()
	if o.guided {
		var seed uint64
		var failed sim.Result
		found := false
		sim.NewSearch(cfg, o.first).SequentialWatched(o.seeds, o.timeout, func(c sim.Candidate, r sim.Result, _ int) bool {
			if r.Violation != nil {
				seed, failed, found = c.Seed, r, true
			}
			return !found
		})
		return seed, failed, found
	}
	for i := 0; i < o.seeds; i++ {
		seed := o.first + uint64(i)
		r, stuck := sim.Watched(cfg, sim.NewSeeded(seed), o.timeout)
		if stuck != nil {
			return seed, hungResult(stuck), true
		}
		if r.Violation != nil {
			return seed, r, true
		}
	}
	return 0, sim.Result{}, false
}

// hungResult is a run that did not finish, as Find returns it: only its violation, of
// sim.PropHang, the stuck goroutine's frames as its details.
func hungResult(stuck *sim.Stuck) sim.Result {
	return sim.Result{Events: stuck.Event, Virtual: stuck.Time, Violation: stuck.Violation()}
}

// Report describes a failed run: the violation, the events that led to it, and, when the
// scenario records capsules and t has an artifact directory, the capsule it saved there.
func Report(t TB, s Scenario, seed uint64, r sim.Result) string {
	v := r.Violation
	if v.Property == sim.PropHang {
		return hangReportOf(s, seed, v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %s violated at %.3fms (event %d): %s\n", seed, v.Property,
		float64(v.Time)/1e6, v.Event, v.Message)
	fmt.Fprintf(&b, "the last %d events (faults marked !):\n", len(v.Context))
	for _, e := range v.Context {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	if path := saveCapsule(t, s, seed, r); path != "" {
		fmt.Fprintf(&b, "capsule %s (kept by go test -artifacts): replica show %s; replica shrink %s\n", path, path, path)
		if name := s.Config().Protocol.Name; !registered(name) {
			fmt.Fprintf(&b, "  (protocol %s is not registered here: run those commands with a program of your own that registers it, see cmd/replica/cli)\n", name)
		}
	}
	return b.String()
}

// registered reports whether the command line of this binary would know protocol name.
func registered(name string) bool {
	_, err := scenarios.Protocol(name)
	return err == nil
}

// saveCapsule writes run r as a capsule in t's artifact directory, if it can.
func saveCapsule(t any, s Scenario, seed uint64, r sim.Result) string {
	return writeCapsule(t, s, fmt.Sprintf("seed%d.capsule", seed), seed, r)
}

// writeCapsule writes run r as the capsule name in t's artifact directory, if it can.
func writeCapsule(t any, s Scenario, name string, seed uint64, r sim.Result) string {
	c, ok := s.(capsuler)
	a, ok2 := t.(interface{ ArtifactDir() string })
	if !ok || !ok2 {
		return ""
	}
	path := filepath.Join(a.ArtifactDir(), name)
	if err := capsule.Write(path, c.Capsule(seed, r, "simtest")); err != nil {
		return ""
	}
	return path
}

// Check is a rapid property test of the scenario: rapid draws every choice of each run, and
// no run may violate a property. A failing schedule is shrunk by rapid and kept in its fail
// file, which the next `go test` replays first; for a scenario that records capsules, the
// shrunk failure is also saved as a capsule under the test's artifact directory, as Run
// saves its failing seed, for `replica show` and `replica shrink`. Of the options, only
// SeedTimeout applies.
func Check(t *testing.T, s Scenario, opts ...Option) {
	t.Helper()
	if err := validate(s); err != nil {
		t.Fatalf("simtest: %v", err)
	}
	check(t, s, newOptions(opts))
}

// checkTB is what check needs of a test: rapid's, and an artifact directory if it has one.
type checkTB interface {
	rapid.TB
}

func check(t checkTB, s Scenario, o options) {
	t.Helper()
	var last *sim.Result // the last failing run: after rapid shrinks, the shrunk failure
	h := new(hang)
	defer func() {
		if st := h.stuck.Load(); st != nil && t.Failed() {
			t.Errorf("a run hung, and rapid's shrinking did not run it again (a stuck goroutine cannot be stopped): "+
				"the case rapid reports is not the hang's, which was:\n%s", hangReportOf(s, noSeed, st.Violation()))
			return
		}
		if last == nil || !t.Failed() {
			return
		}
		if path := writeCapsule(t, s, "rapid.capsule", 0, *last); path != "" {
			t.Logf("capsule %s of the shrunk failure (kept by go test -artifacts): replica show %s; replica shrink %s", path, path, path)
		}
	}()
	rapid.Check(t, property(s, o, h, func(r sim.Result) { last = &r }))
}

// Property is the rapid property Check runs, for rapid.Check, rapid.MakeCheck and
// rapid.MakeFuzz: draw a run, fail on its violation. Of the options, only SeedTimeout
// applies.
func Property(s Scenario, opts ...Option) func(*rapid.T) {
	return property(s, newOptions(opts), new(hang), nil)
}

// hang is the first run of a rapid property that hung: every later run of the property fails
// at once with its report (see SeedTimeout).
type hang struct{ stuck atomic.Pointer[sim.Stuck] }

// property is Property, telling failed of every failing run.
func property(s Scenario, o options, h *hang, failed func(sim.Result)) func(*rapid.T) {
	cfg := s.Config()
	runs := runs(cfg, o, h)
	return func(t *rapid.T) {
		run := runs.Draw(t, "run")
		if v := run.Violation; v != nil {
			if failed != nil {
				failed(run.Result)
			}
			t.Fatalf("%s violated at %.3fms (event %d): %s\n%s", v.Property, float64(v.Time)/1e6, v.Event,
				v.Message, lastEvents(v))
		}
	}
}

func lastEvents(v *sim.Violation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the last %d events (faults marked !):\n", len(v.Context))
	for _, e := range v.Context {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	return b.String()
}

// Drawn is a run drawn by rapid. Its choices replay it (sim.NewRecorded).
type Drawn struct{ sim.Result }

// GoString summarizes the run in rapid's logs, instead of every field.
func (r *Drawn) GoString() string {
	s := fmt.Sprintf("run of %d events, %d faults, %d choices", r.Events, r.Faults.Total(), len(r.Choices))
	if v := r.Violation; v != nil {
		s += fmt.Sprintf(": %s violated at event %d", v.Property, v.Event)
	}
	return s
}

// Runs is the rapid generator of runs of cfg: rapid draws every choice (see Chooser). Of the
// options, only SeedTimeout applies.
func Runs(cfg sim.Config, opts ...Option) *rapid.Generator[*Drawn] {
	return runs(cfg, newOptions(opts), new(hang))
}

func runs(cfg sim.Config, o options, h *hang) *rapid.Generator[*Drawn] {
	return rapid.Custom(func(t *rapid.T) *Drawn {
		if st := h.stuck.Load(); st != nil {
			t.Fatalf("%s", hangFailure(st))
		}
		c := &rapidChooser{t: t}
		r, stuck := sim.Watched(cfg, c, o.timeout)
		if stuck != nil {
			h.stuck.CompareAndSwap(nil, stuck)
			t.Fatalf("%s", hangFailure(h.stuck.Load()))
		}
		if c.stop != nil {
			// Rapid stopped the run from inside a draw (its buffer ran out while replaying
			// or shrinking); the simulator took that for a protocol panic. Hand it back.
			panic(c.stop)
		}
		return &Drawn{r}
	})
}

// hangFailure is how a rapid run fails on a hang, its own or an earlier one's: the same
// message every time, which rapid takes for the same failure.
func hangFailure(st *sim.Stuck) string {
	v := st.Violation()
	return fmt.Sprintf("%s violated at %.3fms (event %d): %s\n  %s", v.Property, float64(v.Time)/1e6, v.Event, v.Message,
		strings.Join(v.Details, "\n  "))
}

// Chooser returns a sim.Chooser whose every answer rapid draws: Choose draws an integer in
// range, Flip tosses k coins and says yes when all come up heads, with k chosen so that
// 2^-k is about the probability asked for. Rapid shrinks toward zero and tails, that is
// toward the benign answer of every choice.
func Chooser(t *rapid.T) sim.Chooser { return &rapidChooser{t: t} }

type rapidChooser struct {
	t    *rapid.T
	stop any // a panic of rapid's own inside a draw
}

func (c *rapidChooser) Choose(p sim.Purpose, n int) int {
	if n <= 1 {
		return 0
	}
	defer c.catch()
	return rapid.IntRange(0, n-1).Draw(c.t, p.String())
}

func (c *rapidChooser) Flip(p sim.Purpose, prob float64) bool {
	defer c.catch()
	for range coins(prob) {
		if !rapid.Bool().Draw(c.t, p.String()) {
			return false
		}
	}
	return true
}

// catch keeps a panic raised by rapid inside a draw, to raise it again once the simulator
// has unwound, and stops the run.
func (c *rapidChooser) catch() {
	if r := recover(); r != nil {
		if c.stop == nil {
			c.stop = r
		}
		panic(r)
	}
}

// coins is the k for which 2^-k is nearest to prob, between 1 and 16.
func coins(prob float64) int {
	k := 1
	for k < 16 && float64(uint64(1)<<k) < 1/prob/1.41 {
		k++
	}
	return k
}

// Fuzz is a Go fuzz test of the scenario: each input is a seed and a prefix of choices (a
// sequence of uvarints, each folded into its choice's range) that overrides the first
// choices of the seed's run. No run may violate a property. seeds are the seed corpus
// (default 0..7), beside the fuzzer's own testdata/fuzz files.
func Fuzz(f *testing.F, s Scenario, seeds ...uint64) {
	if len(seeds) == 0 {
		seeds = []uint64{0, 1, 2, 3, 4, 5, 6, 7}
	}
	if err := validate(s); err != nil {
		f.Fatalf("simtest: %v", err)
	}
	for _, seed := range seeds {
		f.Add(seed, []byte(nil))
	}
	cfg := s.Config()
	f.Fuzz(func(t *testing.T, seed uint64, prefix []byte) {
		r, stuck := sim.Watched(cfg, Prefixed(prefix, sim.NewSeeded(seed)), DefaultSeedTimeout)
		if stuck != nil {
			t.Fatalf("%s", hangReportOf(s, noSeed, stuck.Violation()))
		}
		if r.Violation != nil {
			t.Fatalf("%s", Report(t, s, seed, r))
		}
	})
}

// Prefixed returns a chooser that answers the first choices from prefix, a sequence of
// uvarints, and the others from rest: the fuzzer mutates the first choices of a seed's run.
func Prefixed(prefix []byte, rest sim.Chooser) sim.Chooser {
	var vals []int32
	for len(prefix) > 0 {
		v, n := binary.Uvarint(prefix)
		if n <= 0 {
			break
		}
		vals = append(vals, int32(v&0x7fffffff))
		prefix = prefix[n:]
	}
	return &prefixed{head: sim.NewRecorded(vals), n: len(vals), rest: rest}
}

type prefixed struct {
	head *sim.Recorded
	n    int
	rest sim.Chooser
}

// The rest chooser answers every choice, the prefix overriding the first ones, so that the
// seed's later choices stay what they were: a prefix edits the seed's run rather than
// starting another.
func (c *prefixed) Choose(p sim.Purpose, n int) int {
	v := c.rest.Choose(p, n)
	if c.head.Used() < c.n {
		return c.head.Choose(p, n)
	}
	return v
}

func (c *prefixed) Flip(p sim.Purpose, prob float64) bool {
	v := c.rest.Flip(p, prob)
	if c.head.Used() < c.n {
		return c.head.Flip(p, prob)
	}
	return v
}
