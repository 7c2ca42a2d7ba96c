package shrink

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// Size measures a failing run: what a reader of its timeline has to wade through.
type Size struct {
	Events   int `json:"events"`   // steps up to the violation
	Faults   int `json:"faults"`   // injected faults (sim.Counts.Total)
	Requests int `json:"requests"` // client operations invoked
	Nodes    int `json:"nodes"`
	Clients  int `json:"clients"`
}

func (s Size) String() string {
	return fmt.Sprintf("%d events, %d faults, %d requests, %d nodes", s.Events, s.Faults, s.Requests, s.Nodes)
}

// Options tune a shrink.
type Options struct {
	// Deadline ends the search early; the smallest failure found so far is the result.
	// Zero means no deadline.
	Deadline time.Time
	// Progress, when set, is called after every run the shrinker tries.
	Progress func(Status)
	// RunTimeout is the wall time after which a candidate run counts as hung (an edit led a
	// step into a loop without end): the search stops there, with the smallest failure found
	// so far, since the hung run cannot be stopped and keeps its core. Zero means ten seconds
	// plus twenty times the wall time of the recorded run.
	RunTimeout time.Duration
}

// Status is the state of a shrink under way, for progress lines.
type Status struct {
	Runs    int
	Best    Size
	Stage   string
	Started time.Time
}

// Result is a shrunk failure.
type Result struct {
	Property      string
	Before, After Size
	// Spec is the configuration of the shrunk run (fewer nodes or clients, a shorter fault
	// phase) and Run the run itself; Run.Choices replays it.
	Spec *scenarios.Spec
	Run  sim.Result
	// Runs is how many runs the search tried; Complete is false when the deadline, a
	// cancellation or a hung run ended it before it could shrink further.
	Runs     int
	Complete bool
	// Hung says that a candidate run did not finish within the run timeout (see
	// Options.RunTimeout), which ended the search.
	Hung bool
}

// Capsule records the shrunk run as a capsule; seed is the original run's seed, kept for
// reference (the choices, not the seed, drive a replay).
func (r *Result) Capsule(seed uint64) *capsule.Capsule {
	return r.Spec.Capsule(seed, r.Run, "shrink")
}

// ErrNoViolation is returned for a capsule that records no violation: there is nothing to
// shrink.
var ErrNoViolation = errors.New("the capsule records no violation: there is nothing to shrink")

// Capsule shrinks the failure a capsule recorded.
func Capsule(ctx context.Context, c *capsule.Capsule, opt Options) (*Result, error) {
	if c.Property == "" {
		return nil, ErrNoViolation
	}
	if c.Source == "explore" {
		// The explorer's counterexamples are untimed paths, found breadth-first: already
		// the shortest, and not a timed run's choices.
		return nil, errors.New("a capsule of explore is a path of the untimed world, and shrink takes capsules of timed runs (run, simtest): explore shortens its walks' paths itself, and with -probe 0 its paths are shortest")
	}
	spec, err := scenarios.FromCapsule(c)
	if err != nil {
		return nil, err
	}
	return Run(ctx, spec, c.Choices, c.Property, opt)
}

// Run shrinks the run of spec that choices drive, which must violate property.
func Run(ctx context.Context, spec *scenarios.Spec, choices []int32, property string, opt Options) (*Result, error) {
	s := &shrinker{ctx: ctx, base: spec, property: property, opt: opt, started: time.Now()}
	plain := *spec
	plain.Clients, plain.Ops, plain.Faults = 0, 0, 0
	s.defaults = s.candidate(&plain)
	first := s.candidate(spec)
	t0 := time.Now()
	r := sim.Run(spec.Config(), sim.NewRecorded(choices))
	s.runTimeout = opt.RunTimeout
	if s.runTimeout <= 0 {
		s.runTimeout = 10*time.Second + 20*time.Since(t0)
	}
	s.runs++
	if r.Violation == nil {
		return nil, fmt.Errorf("the run does not fail any more (it recorded %s): the code changed since it was recorded", property)
	}
	if r.Violation.Property != property {
		return nil, fmt.Errorf("the run now fails %s, not the recorded %s: the code changed since it was recorded",
			r.Violation.Property, property)
	}
	// Run it again through a keyed chooser that answers the same, to learn which event
	// each choice belongs to.
	k := newKeyed(nil, nil)
	k.inner = sim.NewRecorded(choices)
	s.accept(first, sim.Run(spec.Config(), k), k)
	before := s.size()
	complete := s.search()
	s.stopWorker()
	out := &Result{Property: property, Before: before, After: s.size(), Spec: s.specOf(s.best),
		Run: s.bestRun, Runs: s.runs, Complete: complete && !s.hung, Hung: s.hung}
	// The shrunk run must replay from its interleaved choices alone, like any capsule.
	again := sim.Run(out.Spec.Config(), sim.NewRecorded(out.Run.Choices))
	if again.TraceHash != out.Run.TraceHash {
		return nil, fmt.Errorf("internal error: the shrunk run does not replay (trace %016x, then %016x)",
			out.Run.TraceHash, again.TraceHash)
	}
	return out, nil
}

// candidate is one point of the search: a configuration and a choice stream per purpose.
type candidate struct {
	n, clients, ops int
	faults          time.Duration
	streams         map[sim.Purpose][]slot
	// flat answers a purpose's choices with one value instead of its stream, and its flips
	// with no (see flatten); it lasts until the candidate's run is accepted.
	flat map[sim.Purpose]int32
}

// with returns c with stream p replaced.
func (c candidate) with(p sim.Purpose, seq []slot) candidate {
	m := make(map[sim.Purpose][]slot, len(c.streams))
	for k, v := range c.streams {
		m[k] = v
	}
	m[p] = seq
	c.streams = m
	return c
}

type shrinker struct {
	ctx      context.Context
	base     *scenarios.Spec
	property string
	opt      Options
	started  time.Time
	stage    string
	runs     int
	// runTimeout bounds a candidate's run; hung says one did not finish within it.
	runTimeout time.Duration
	hung       bool
	// jobs and results are the worker goroutine's, which runs candidates.
	jobs    chan func() sim.Result
	results chan sim.Result

	defaults candidate // the scenario's own configuration
	best     candidate
	bestRun  sim.Result
	bestCost cost
}

// candidate reads the configuration of spec; the streams come from its first run.
func (s *shrinker) candidate(spec *scenarios.Spec) candidate {
	cfg := spec.Config()
	c := candidate{n: spec.Cluster.N, clients: spec.Clients, ops: spec.Ops, faults: cfg.Faults}
	if wl := spec.Protocol.Workload; wl != nil {
		c.clients, c.ops = wl.Clients, wl.Ops
		if spec.Clients > 0 {
			c.clients = spec.Clients
		}
		if spec.Ops > 0 {
			c.ops = spec.Ops
		}
	}
	return c
}

// specOf builds the spec of candidate c, recording as overrides only what differs from the
// scenario's defaults, so that a capsule lists only what the shrinker changed.
func (s *shrinker) specOf(c candidate) *scenarios.Spec {
	sp := *s.base
	sp.Cluster.N = c.n
	sp.Clients, sp.Ops, sp.Faults = 0, 0, 0
	if c.clients != s.defaults.clients {
		sp.Clients = c.clients
	}
	if c.ops != s.defaults.ops {
		sp.Ops = c.ops
	}
	if c.faults != s.defaults.faults {
		sp.Faults = c.faults
	}
	return &sp
}

// valid reports whether the protocol admits candidate c's cluster.
func (s *shrinker) valid(c candidate) bool {
	p := s.base.Protocol
	if c.n < max(p.MinN, 1) || c.clients < 0 || c.ops < 0 || c.faults <= 0 {
		return false
	}
	if f := s.base.Cluster.F; f > 0 && (p.MaxFaulty == nil || f > p.MaxFaulty(c.n)) {
		return false
	}
	return true
}

func (s *shrinker) stopped() bool {
	return s.hung || s.ctx.Err() != nil || (!s.opt.Deadline.IsZero() && time.Now().After(s.opt.Deadline))
}

// run runs a candidate on the shrinker's worker goroutine and waits for it up to the run
// timeout, the deadline or a cancellation, whichever comes first; false means it did not
// finish. A run that outlives the run timeout is hung: it is left to itself (a goroutine
// cannot be stopped) and the search ends.
func (s *shrinker) run(cfg sim.Config, ch sim.Chooser) (sim.Result, bool) {
	if s.jobs == nil {
		s.jobs, s.results = make(chan func() sim.Result), make(chan sim.Result, 1)
		jobs, results := s.jobs, s.results
		go func() {
			for job := range jobs {
				results <- job()
			}
		}()
	}
	s.jobs <- func() sim.Result { return sim.Run(cfg, ch) }
	wait, hang := s.runTimeout, true
	if !s.opt.Deadline.IsZero() {
		if left := time.Until(s.opt.Deadline); left < wait {
			wait, hang = max(left, 0), false
		}
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case r := <-s.results:
		return r, true
	case <-timer.C:
		s.hung = hang
	case <-s.ctx.Done():
	}
	s.jobs = nil // the worker is busy with a run no one waits for: a later run needs another
	return sim.Result{}, false
}

// stopWorker lets the worker goroutine end once the search is over.
func (s *shrinker) stopWorker() {
	if s.jobs != nil {
		close(s.jobs)
		s.jobs = nil
	}
}

// try runs candidate c and keeps it if it fails the same property and is smaller.
func (s *shrinker) try(c candidate) bool {
	kept, _ := s.attempt(c)
	return kept
}

// attempt is try that also reports whether the candidate failed the same property (kept or
// not): such a near miss may need one more edit to be smaller.
func (s *shrinker) attempt(c candidate) (kept, fails bool) {
	if s.stopped() || !s.valid(c) {
		return false, false
	}
	cfg := s.specOf(c).Config()
	// A run far longer than the best cannot win on events; cut it short (the budget
	// violation is another property, so the edit is refused).
	cfg.MaxEvents = 4*s.bestRun.Events + 1000
	k := newKeyed(c.streams, c.flat)
	r, finished := s.run(cfg, k)
	s.runs++
	if !finished {
		return false, false
	}
	if s.opt.Progress != nil {
		s.opt.Progress(Status{Runs: s.runs, Best: s.size(), Stage: s.stage, Started: s.started})
	}
	if r.Violation == nil || r.Violation.Property != s.property {
		return false, false
	}
	if !s.costOf(c, r).less(s.bestCost) {
		return false, true
	}
	s.accept(c, r, k)
	return true, true
}

// accept makes run r of c the best so far, its streams the choices the run made (k
// recorded them), each under the event it belongs to.
func (s *shrinker) accept(c candidate, r sim.Result, k *keyed) {
	c.streams, c.flat = k.made, nil
	s.best, s.bestRun, s.bestCost = c, r, s.costOf(c, r)
}

func (s *shrinker) size() Size {
	return Size{Events: s.bestRun.Events, Faults: s.bestRun.Faults.Total(), Requests: s.bestRun.Ops,
		Nodes: s.best.n, Clients: s.best.clients}
}

// cost orders failures: fewer faults first, then fewer events, requests, nodes, clients,
// operations, a shorter fault phase, and simpler choices.
type cost [9]int64

func (a cost) less(b cost) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func (s *shrinker) costOf(c candidate, r sim.Result) cost {
	var nonzero, sum int64
	for _, v := range r.Choices {
		if v != 0 {
			nonzero++
			sum += int64(v)
		}
	}
	return cost{int64(r.Faults.Total()), int64(r.Events), int64(r.Ops), int64(c.n), int64(c.clients),
		int64(c.ops), int64(c.faults), nonzero, sum}
}

// search runs rounds of passes until one changes nothing; it reports whether it got there
// (rather than being stopped).
func (s *shrinker) search() bool {
	for !s.stopped() {
		improved := s.configPass()
		if s.flatten() {
			improved = true
		}
		for _, p := range purposes(s.best.streams) {
			if s.streamPass(p) {
				improved = true
			}
		}
		if !improved {
			return !s.stopped()
		}
	}
	return false
}

// configPass tries smaller configurations: fewer nodes, clients and operations, and a fault
// phase that ends soon after the violation.
func (s *shrinker) configPass() bool {
	s.stage = "configuration"
	improved := false
	smaller := func(get func(c *candidate) *int) {
		cur := *get(&s.best)
		for _, v := range fewer(cur) {
			c := s.best
			*get(&c) = v
			if s.try(c) {
				improved = true
				return
			}
		}
	}
	smaller(func(c *candidate) *int { return &c.n })
	smaller(func(c *candidate) *int { return &c.clients })
	smaller(func(c *candidate) *int { return &c.ops })
	// The fault phase: just past the violation, then halves.
	v := s.bestRun.Violation.Time
	for _, d := range []time.Duration{(v/time.Millisecond + 1) * time.Millisecond, s.best.faults / 2} {
		if d > 0 && d < s.best.faults {
			c := s.best
			c.faults = d
			if s.try(c) {
				improved = true
			}
		}
	}
	return improved
}

// flatten tries runs in which one purpose's choices all take the same value and its flips
// never happen: a network with one fixed delay, no loss, no duplicates and no reordering;
// timers that all run the same time. The failure often needs only an order of events that
// one well-chosen constant delay still produces, and the run loses every incidental fault.
func (s *shrinker) flatten() bool {
	improved := false
	for _, p := range purposes(s.best.streams) {
		if p == sim.Faults {
			continue // a constant fault choice is a fault at every tick
		}
		s.stage = "flat " + p.String()
		for _, v := range flatValues {
			c := s.best
			c.flat = map[sim.Purpose]int32{p: v}
			if s.try(c) {
				improved = true
				break
			}
		}
	}
	return improved
}

// flatValues are the constants flatten tries, smallest first; -1 is each choice's maximum.
var flatValues = []int32{0, 1, 2, 3, 5, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 512, 1024, -1}

// fewer lists smaller values to try for a count, smallest first: 1, 2, ... up to 8, then
// halves, then one less.
func fewer(cur int) []int {
	var out []int
	for v := 1; v < cur && v <= 8; v++ {
		out = append(out, v)
	}
	if cur/2 > 8 {
		out = append(out, cur/2)
	}
	if cur-1 > 8 {
		out = append(out, cur-1)
	}
	return out
}

// streamPass is delta debugging over one purpose's choices: zero the whole stream, then
// delete or zero ever smaller chunks, then lower each remaining value.
func (s *shrinker) streamPass(p sim.Purpose) bool {
	s.stage = p.String() + " choices"
	improved := false
	if seq := s.best.streams[p]; nonzero(seq) && s.try(s.best.with(p, zeroed(seq, 0, len(seq)))) {
		improved = true
	}
	for size := len(s.best.streams[p]) / 2; size >= 1; size /= 2 {
		for i := 0; i < len(s.best.streams[p]) && !s.stopped(); {
			seq := s.best.streams[p]
			end := min(i+size, len(seq))
			if s.try(s.best.with(p, cut(seq, i, end))) {
				improved = true
				continue // the next chunk now starts at i
			}
			if nonzero(seq[i:end]) && s.try(s.best.with(p, zeroed(seq, i, end))) {
				improved = true
			}
			i = end
		}
	}
	// Removing one fault often changes how many choices follow it: a message that is no
	// longer duplicated draws no delay for its second copy, one that is no longer dropped
	// draws its own. So zero a choice and delete a few after it, or insert a few (zeros,
	// or zeros and a last choice at its maximum: a slow message instead of a lost one),
	// so that the choices after the gap stay aligned with what they decided.
	for i := 0; i < len(s.best.streams[p]) && !s.stopped(); i++ {
		for _, e := range realignments {
			seq := s.best.streams[p]
			if i >= len(seq) || seq[i].v == 0 {
				break
			}
			edited := realign(seq, i, e.drop, e.insert)
			kept, fails := s.attempt(s.best.with(p, edited))
			if !kept && fails {
				// It still fails but is no smaller: the message that is now delivered late
				// may overtake, or be overtaken by, another. Try one more edit nearby.
				kept = s.lookahead(p, edited, i+1+len(e.insert))
			}
			if kept {
				improved = true
				break
			}
		}
	}
	for i := 0; i < len(s.best.streams[p]) && !s.stopped(); i++ {
		// Other values across the choice's range: a message that arrives a little later,
		// in order, rather than early and out of order.
		if i < len(s.best.streams[p]) {
			if x := s.best.streams[p][i]; x.n > 2 {
				for k := int32(1); k <= sweepSteps; k++ {
					v := (x.n - 1) * k / sweepSteps
					if v == x.v {
						continue
					}
					seq := append([]slot(nil), s.best.streams[p]...)
					seq[i].v = v
					if s.try(s.best.with(p, seq)) {
						improved = true
						break
					}
				}
			}
		}
		// Binary search for the smallest value that still fails; 0 was tried above.
		lo, hi := int32(0), int32(0)
		if i < len(s.best.streams[p]) {
			hi = s.best.streams[p][i].v
		}
		for lo+1 < hi && i < len(s.best.streams[p]) && !s.stopped() {
			mid := lo + (hi-lo)/2
			seq := append([]slot(nil), s.best.streams[p]...)
			seq[i].v = mid
			if s.try(s.best.with(p, seq)) {
				improved = true
				hi = mid
			} else {
				lo = mid
			}
		}
	}
	return improved
}

func nonzero(seq []slot) bool {
	for _, x := range seq {
		if x.v != 0 {
			return true
		}
	}
	return false
}

// cut returns seq without seq[i:j].
func cut(seq []slot, i, j int) []slot {
	out := make([]slot, 0, len(seq)-(j-i))
	out = append(out, seq[:i]...)
	return append(out, seq[j:]...)
}

// lookahead tries a second edit on seq, a near miss: each of the next few choices from
// index from at its maximum, then at zero.
func (s *shrinker) lookahead(p sim.Purpose, seq []slot, from int) bool {
	for j := from; j < min(from+lookaheadWindow, len(seq)); j++ {
		for _, v := range []int32{-1, 0} {
			if seq[j].v == v {
				continue
			}
			next := append([]slot(nil), seq...)
			next[j].v = v
			if s.try(s.best.with(p, next)) {
				return true
			}
		}
	}
	return false
}

// sweepSteps is how many values across its range a choice is tried at.
const sweepSteps = 8

// lookaheadWindow is how many choices after a near miss's edit lookahead tries.
const lookaheadWindow = 12

// realignments are the edits around a zeroed choice: drop the next few choices, or insert a
// few. A choice of -1 is folded to the largest value in range (see sim.Recorded).
var realignments = []struct {
	drop   int
	insert []int32
}{
	{1, nil}, {2, nil}, {3, nil}, {4, nil}, {1, []int32{0}}, {1, []int32{-1}},
	{0, []int32{0}}, {0, []int32{0, 0}}, {0, []int32{0, 0, 0}},
	{0, []int32{-1}}, {0, []int32{0, -1}}, {0, []int32{0, 0, -1}},
}

// realign returns seq with seq[i] zeroed, then drop choices after it deleted and insert
// inserted, as choices of the same event.
func realign(seq []slot, i, drop int, insert []int32) []slot {
	out := append([]slot(nil), seq[:i+1]...)
	out[i].v = 0
	for _, v := range insert {
		out = append(out, slot{g: seq[i].g, v: v})
	}
	return append(out, seq[min(i+1+drop, len(seq)):]...)
}

// zeroed returns seq with seq[i:j] set to zero.
func zeroed(seq []slot, i, j int) []slot {
	out := append([]slot(nil), seq...)
	for k := i; k < j; k++ {
		out[k].v = 0
	}
	return out
}

// purposes lists the streams in the order they are shrunk: faults first (removing a crash
// removes many events), then the network (drops, duplicates, delays), then the rest.
func purposes(m map[sim.Purpose][]slot) []sim.Purpose {
	rank := func(p sim.Purpose) int {
		switch p {
		case sim.Faults:
			return -2
		case sim.Network:
			return -1
		}
		return int(p)
	}
	ps := make([]sim.Purpose, 0, len(m))
	for p := range m {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return rank(ps[i]) < rank(ps[j]) })
	return ps
}

// occurrence names one event of a run: its key (see sim.Keyed) and how many events with the
// same key came before it. Choices made before the first event have key 0.
type occurrence struct {
	key uint64
	n   int
}

// slot is one choice, the event that made it, and its range (n for Choose(p, n); 0 where
// unknown, for a choice an edit inserted).
type slot struct {
	g occurrence
	v int32
	n int32
}

// keyed is the shrinker's chooser. It answers each event's choices of each purpose from the
// slots recorded for that event — zero past their end, values folded into range as
// sim.Recorded does — so an edit to one event's choices leaves every other event's alone.
// It records the choices it makes, with their events, for the next edit.
type keyed struct {
	plan  map[occurrence]map[sim.Purpose][]int32
	next  map[occurrence]map[sim.Purpose]int
	seen  map[uint64]int
	cur   occurrence
	flat  map[sim.Purpose]int32
	inner sim.Chooser // when set, answers instead of plan (to learn a recorded run's events)
	made  map[sim.Purpose][]slot
}

func newKeyed(streams map[sim.Purpose][]slot, flat map[sim.Purpose]int32) *keyed {
	k := &keyed{plan: map[occurrence]map[sim.Purpose][]int32{}, next: map[occurrence]map[sim.Purpose]int{},
		seen: map[uint64]int{}, flat: flat, made: map[sim.Purpose][]slot{}}
	for p, seq := range streams {
		for _, x := range seq {
			m := k.plan[x.g]
			if m == nil {
				m = map[sim.Purpose][]int32{}
				k.plan[x.g] = m
			}
			m[p] = append(m[p], x.v)
		}
	}
	return k
}

func (k *keyed) Event(key uint64) {
	n := k.seen[key]
	k.seen[key] = n + 1
	k.cur = occurrence{key, n}
}

func (k *keyed) Choose(p sim.Purpose, n int) int {
	v := k.answer(p, n)
	k.made[p] = append(k.made[p], slot{k.cur, int32(v), int32(min(n, 1<<30))})
	return v
}

func (k *keyed) Flip(p sim.Purpose, prob float64) bool {
	if _, ok := k.flat[p]; ok {
		k.made[p] = append(k.made[p], slot{k.cur, 0, 2})
		return false
	}
	if k.inner != nil {
		v := k.inner.Flip(p, prob)
		b := int32(0)
		if v {
			b = 1
		}
		k.made[p] = append(k.made[p], slot{k.cur, b, 2})
		return v
	}
	return k.Choose(p, 2) == 1
}

func (k *keyed) answer(p sim.Purpose, n int) int {
	if k.inner != nil {
		return k.inner.Choose(p, n)
	}
	if v, ok := k.flat[p]; ok {
		if v < 0 || int(v) >= n {
			return n - 1
		}
		return int(v)
	}
	m := k.next[k.cur]
	if m == nil {
		m = map[sim.Purpose]int{}
		k.next[k.cur] = m
	}
	i := m[p]
	m[p] = i + 1
	seq := k.plan[k.cur][p]
	if i >= len(seq) || n <= 1 {
		return 0
	}
	v := int(seq[i])
	return ((v % n) + n) % n
}
