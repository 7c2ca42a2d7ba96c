package explore

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// The probe. A breadth-first search must exhaust every state up to depth d-1 before it meets
// a violation at depth d, and on a large space that is most of the work; a random walk goes
// deep at once. So before the exhaustive search, random walks look for a violation: each starts at an initial state and takes enabled actions drawn uniformly until
// none is enabled or the walk is MaxDepth (maxWalk without a bound) steps long, checking
// the always-properties at every state. A walk that breaks one ends the search with that
// violation; its path is shortened by taking steps out while what is left still breaks the
// same property (shrink), so it is short but, unlike breadth-first search's, not necessarily
// shortest. When no walk breaks anything, the exhaustive search runs as if there had been no
// probe, and its results do not depend on the probe.
//
// Options.Probe bounds the distinct states the walks reach, so that the probe costs about
// what an exhaustive search of that many states does, whatever a protocol's step costs. The
// walks run in rounds, each of twice as many walks as the one before (up to probeRound),
// split between the workers. Walk i draws from a generator seeded by i alone, and a round
// reports its lowest-numbered violating walk, so the outcome does not depend on the number of
// workers or their timing. The probe stops once its states reach Options.Probe (the last
// round may add more); early once a round's new states are fewer than a probeNew-th of its
// steps, for the walks then mostly go over ground already covered (a small space, or a large
// one whose walks keep to a few of its paths: the correct Paxos's stop at 89,495 of its
// millions); once it has met Options.MaxStates states; or once it has taken a quarter of the
// time the search has, by Options.Timeout or the context's deadline (which, like any
// timeout, makes the outcome depend on the machine).

const (
	probeFirst = 64   // walks in the first round
	probeRound = 4096 // the most walks in a round
	probeNew   = 10
	probeCheck = 64 // steps of a walk between looks at whether to quit
	maxWalk    = 100
	probeSeed  = 0x5eed_0f_a_7a1c // any constant: walks must not depend on the run
)

// WalkModel is a Model that can take one step of a random walk without making every
// successor (the probe otherwise calls Next and draws one of them).
type WalkModel[S any] interface {
	// Walk returns one successor of s: an enabled action drawn by pick(n), which returns a
	// number in [0, n), with any choices the step makes drawn by pick too; false when s has
	// no successor. Like Next, it must not change s and must be deterministic: the same s
	// and the same draws give the same successor.
	Walk(s S, pick func(n int) int) (S, bool)
}

// ProbeResult says what the walks before the search did.
type ProbeResult struct {
	Walks  int   // walks run
	Steps  int64 // steps they took
	States int64 // distinct states they reached that break no property
	Wall   time.Duration
	// Hit is the number of the walk that broke a property, and Length the steps it took to
	// do so, before its path was shortened; -1 and 0 when no walk broke one.
	Hit, Length int
}

// walked is what one walk found.
type walked struct {
	property string // the always-property broken, or ""
	steps    int    // the steps it took (up to the violation)
}

// probe runs the walks. It reports true when the search must not run: a walk broke a
// property (r then holds the violation, with the probe's counts) or the search was stopped.
func (e *engine[S]) probe(r *Result) (bool, error) {
	if e.opts.Probe <= 0 {
		return false, nil
	}
	inits := e.walkInits()
	if len(inits) == 0 {
		return false, nil
	}
	p := &ProbeResult{Hit: -1}
	r.Probe = p
	start := time.Now()
	defer func() { p.Wall = time.Since(start) }()
	quit := e.probeQuit(start)
	// clean holds the states found to break no property, so that a walk does not check
	// again what one checked before. A state that breaks one is never added: every walk that
	// reaches it sees so, whatever walk came first, and the outcome does not depend on timing.
	clean := newFPSet(e.opts.Workers)
	defer clean.free()
	for n := probeFirst; p.States < int64(e.opts.Probe); n = min(2*n, probeRound) {
		first := p.Walks
		out, steps := e.probeRound(inits, first, n, clean, quit)
		before := p.States
		p.Walks, p.Steps, p.States = p.Walks+n, p.Steps+steps, clean.len()
		if e.outOfMemory(clean, 2*n) || e.stopped.Load() { // the walks' set counts in the budget too
			r.Stopped = e.stopReason()
			return true, nil
		}
		for i := range out {
			if out[i].property != "" {
				p.Hit, p.Length = first+i, out[i].steps
				return true, e.probeHit(r, inits, out[i])
			}
		}
		stale := (p.States-before)*probeNew < steps // the walks mostly go over what they saw
		if stale || e.opts.MaxStates > 0 && p.States >= e.opts.MaxStates || quit() {
			break
		}
	}
	return false, nil
}

// walkInits returns the model's initial states for the walks: its own, not their normal
// forms (the paths the walks report are the model's), made once and watched as the search's
// are, since a protocol's start may loop too.
func (e *engine[S]) walkInits() []S {
	if e.inits == nil {
		sl := e.watch.slot("init")
		sl.begin(*new(S), 0)
		e.inits = e.m.Init()
		sl.end()
	}
	return e.inits
}

// probeQuit returns what tells the walks to stop: the search stopped (its context), or a
// quarter of the time it has, if it has a deadline, spent since start. Walks check it between
// walks and every probeCheck steps.
func (e *engine[S]) probeQuit(start time.Time) func() bool {
	dl, ok := e.ctx.Deadline()
	if !ok {
		return e.stopped.Load
	}
	until := start.Add(dl.Sub(start) / 4)
	return func() bool { return e.stopped.Load() || time.Now().After(until) }
}

// probeRound runs walks start to start+n-1 on the workers and returns what each found, in
// order, and the steps they took in all.
func (e *engine[S]) probeRound(inits []S, start, n int, clean *fpSet, quit func() bool) ([]walked, int64) {
	out := make([]walked, n)
	var next atomic.Int64
	var steps atomic.Int64
	var wg sync.WaitGroup
	for range min(e.opts.Workers, n) {
		wg.Go(func() {
			sl := e.watch.slot("probe")
			for !quit() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				out[i] = e.walk(sl, inits, start+i, e.walkSteps(), clean, nil, quit)
				steps.Add(int64(out[i].steps))
			}
		})
	}
	wg.Wait()
	return out, steps.Load()
}

// walkSteps is the most steps a walk takes.
func (e *engine[S]) walkSteps() int {
	if e.opts.MaxDepth > 0 {
		return e.opts.MaxDepth
	}
	return maxWalk
}

// walk runs walk number w for at most limit steps, checking the always-properties of each
// state it reaches that clean does not hold, and adding it to clean if it breaks none (with
// clean nil, checking every state), and handing each state to visit when not nil. It ends
// early, having broken nothing, when quit (if not nil) says so.
func (e *engine[S]) walk(sl *slot[S], inits []S, w, limit int, clean *fpSet, visit func(S), quit func() bool) walked {
	if sl != nil {
		sl.mu.Lock()
		sl.walk = w
		sl.mu.Unlock()
	}
	rng := rand.New(rand.NewPCG(probeSeed, uint64(w)))
	pick := func(n int) int { return rng.IntN(n) }
	var out walked
	s := inits[rng.IntN(len(inits))]
	for depth := 0; ; depth++ {
		if visit != nil {
			visit(s)
		}
		if fp := e.m.Fingerprint(s); clean == nil || !clean.has(fp) {
			if out.property = e.m.Violated(s); out.property != "" {
				return out
			}
			if clean != nil {
				clean.put(fp)
			}
		}
		if depth == limit || quit != nil && depth%probeCheck == probeCheck-1 && quit() {
			return out
		}
		sl.begin(s, depth)
		next, ok := e.step(s, pick)
		sl.end()
		if !ok {
			return out
		}
		s, out.steps = next, out.steps+1
	}
}

// step takes one step of a walk: the model's own Walk, or one of Next's successors drawn
// with pick.
func (e *engine[S]) step(s S, pick func(int) int) (S, bool) {
	if w, ok := e.m.(WalkModel[S]); ok {
		return w.Walk(s, pick)
	}
	var all []S
	e.m.Next(s, func(_ int, next S) bool {
		all = append(all, next)
		return true
	})
	if len(all) == 0 {
		var none S
		return none, false
	}
	return all[pick(len(all))], true
}

// probeHit fills r with the violation hit found by walk r.Probe.Hit, whose path it rebuilds
// and shortens, and with the sometimes-properties that hold on that path.
func (e *engine[S]) probeHit(r *Result, inits []S, hit walked) error {
	p := r.Probe
	states := e.walkStates(e.watch.slot("probe"), inits, p.Hit, e.walkSteps())
	if len(states) != hit.steps+1 || e.m.Violated(states[len(states)-1]) != hit.property {
		return fmt.Errorf("explore: model is not deterministic: walk %d broke %s after %d steps, and taken again it did not", p.Hit, hit.property, hit.steps)
	}
	sl := e.watch.slot("paths") // the steps below go over states the walk went over
	if sm, ok := e.m.(SleepModel[S]); ok {
		states = e.shrink(sl, sm, states, hit.property)
	}
	path, err := e.pathThrough(sl, inits, states)
	if err != nil {
		return err
	}
	r.Violation = &Violation{Property: hit.property, Path: path}
	r.Stopped = "violation"
	r.Unique, r.Transitions, r.MaxDepth = p.States, p.Steps, len(path.Actions)
	if e.some == nil {
		return nil
	}
	for i, name := range e.some.SometimesProperties() {
		wit := Witness{Property: name, Steps: -1}
		for d, s := range states {
			if e.some.Sometimes(s, i) {
				// On the violation's path: a prefix of it leads there.
				wit.Steps, wit.Path = d, &Path{Init: path.Init, Actions: path.Actions[:d:d]}
				break
			}
		}
		r.Witnesses = append(r.Witnesses, wit)
	}
	return nil
}

// walkStates returns the states of walk w, from its initial state on, for at most limit
// steps.
func (e *engine[S]) walkStates(sl *slot[S], inits []S, w, limit int) []S {
	var states []S
	e.walk(sl, inits, w, limit, nil, func(s S) { states = append(states, s) }, nil)
	return states
}

// walkPath returns the path of walk w's first steps steps (for a walk that hung there).
func (e *engine[S]) walkPath(sl *slot[S], w, steps int) (Path, error) {
	inits := e.walkInits()
	return e.pathThrough(sl, inits, e.walkStates(sl, inits, w, steps))
}

// pathThrough returns the path of the model that goes through states, the first of them
// an initial state: at each step, the first action whose successor has the next state's
// fingerprint.
func (e *engine[S]) pathThrough(sl *slot[S], inits []S, states []S) (Path, error) {
	fp := func(s S) uint64 { return e.m.Fingerprint(s) }
	p := Path{Init: -1, Actions: make([]int, 0, len(states)-1)}
	for i, s := range inits {
		if fp(s) == fp(states[0]) {
			p.Init = i
			break
		}
	}
	if p.Init < 0 {
		return p, fmt.Errorf("explore: a walk's first state is no initial state: is Init deterministic?")
	}
	for i := 1; i < len(states); i++ {
		sl.begin(states[i-1], i-1)
		a, _, found := stepTo(e.m, states[i-1], fp(states[i]), fp)
		sl.end()
		p.Actions = append(p.Actions, a)
		if !found {
			return p, fmt.Errorf("explore: step %d of a walk is none of Next's successors: is the model's Walk the same as its Next?", i)
		}
	}
	return p, nil
}

// A move names a step by what it does, not by its number among the actions of one state: the
// k-th successor of the action whose identity is id (SleepModel's, which stays the same
// across states where the action is enabled). Taking a step out of a path renumbers the
// actions after it, but not their moves.
type move struct {
	id uint64
	k  int
}

// shrinkReplays bounds the replays one shrink makes: about a second of Paxos's steps.
const shrinkReplays = 2000

// shrink returns a shorter run than states (a walk, from an initial state to one that breaks
// property) that breaks the same property, or states itself: it takes out blocks of steps,
// halving their size down to single steps, and keeps each removal after which the rest still
// breaks property (a step no longer enabled is skipped), until no single step can go.
func (e *engine[S]) shrink(sl *slot[S], sm SleepModel[S], states []S, property string) []S {
	moves, ok := e.movesOf(sl, sm, states)
	if !ok {
		return states
	}
	best, replays := states, 0
	for changed := true; changed && replays < shrinkReplays; {
		changed = false
		for size := max(1, len(moves)/2); size >= 1 && replays < shrinkReplays; size /= 2 {
			for i := 0; i+size <= len(moves) && replays < shrinkReplays; {
				cand := append(append([]move{}, moves[:i]...), moves[i+size:]...)
				replays++
				if taken, run := e.replay(sl, sm, states[0], cand, property); run != nil {
					moves, best, changed = taken, run, true
					continue
				}
				i += size
			}
		}
	}
	return best
}

// movesOf names each step of a run by its move; false if a step is none of NextSleep's.
func (e *engine[S]) movesOf(sl *slot[S], sm SleepModel[S], states []S) ([]move, bool) {
	moves := make([]move, 0, len(states)-1)
	for i := 1; i < len(states); i++ {
		want := e.m.Fingerprint(states[i])
		seen := map[uint64]int{}
		found := false
		sl.begin(states[i-1], i-1)
		sm.NextSleep(states[i-1], never, func(next S, id uint64, _ int32) bool {
			if e.m.Fingerprint(next) == want {
				moves, found = append(moves, move{id, seen[id]}), true
				return false
			}
			seen[id]++
			return true
		})
		sl.end()
		if !found {
			return nil, false
		}
	}
	return moves, true
}

// replay takes moves from init, skipping those not enabled where they come, and returns the
// moves taken and the run, if it breaks property where it first breaks any; nil otherwise.
func (e *engine[S]) replay(sl *slot[S], sm SleepModel[S], init S, moves []move, property string) ([]move, []S) {
	run := []S{init}
	var taken []move
	s := init
	for _, mv := range moves {
		var next S
		found, k := false, 0
		sl.begin(s, len(taken))
		sm.NextSleep(s, never, func(n S, id uint64, _ int32) bool {
			if id == mv.id {
				if k == mv.k {
					next, found = n, true
					return false
				}
				k++
			}
			return true
		})
		sl.end()
		if !found {
			continue
		}
		s, taken, run = next, append(taken, mv), append(run, next)
		if p := e.m.Violated(s); p != "" {
			if p != property {
				return nil, nil
			}
			return taken, run
		}
	}
	return nil, nil
}

// never is the sleep set of a replay: nothing is asleep.
func never(uint64) bool { return false }
