package explore

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/replica-io/replica/internal/machine"
)

// The step watchdog. A model's Next runs protocol code, and a step that loops forever would
// hang the search with nothing said: no counts, no path, no state. With Options.StepTimeout,
// each goroutine that calls the model marks a slot while it does (which state, since when),
// and a watchdog goroutine looks at the slots a few times per timeout. When a call has run
// longer than the timeout, the search ends at once with Stopped "hung" and Result.Hung naming
// the state, and the goroutine caught in the loop is left behind: Go cannot stop it, so it
// keeps its core busy until the process exits (the command line exits right after its report).
// A step that is only slow, and returns after the search was called hung, finds the search
// over (see the phases below) and stops without touching what the caller holds.
//
// A step that allocates without end (a loop that appends to the queue it goes over) would
// have the kernel kill the process long before the timeout: so with a memory budget
// (Options.MaxMemory) the watchdog also reads the process's resident memory, and a call still
// under way at two of its looks while the process is over the budget is hung too, at once.

// Hang is what the watchdog saw: a call into the model that did not return in time.
type Hang struct {
	// Path leads to the state whose expansion did not return; nil when it could not be
	// rebuilt (Why says so).
	Path *Path
	// Where is "" for the search's own expansion of a state (or its determinism check of
	// one), "init" for a call to Init (State is then the zero state), "probe" for a step of
	// the random walks before the search (Options.Probe), or the part of the search that
	// repeats steps already taken once: "progress" or "paths" (rebuilding them, or a walk's
	// path being shortened).
	Where string
	// State is the state, as the model gave it (its String method, if any, shows it).
	State any
	// Limit is the timeout it ran past; Why says anything the report should add.
	Limit time.Duration
	Why   string
	// Memory is the process's resident memory, in bytes, when the watchdog called a step
	// hung because the process had passed the memory budget while it ran (Budget); 0 for a
	// step that ran past the timeout.
	Memory, Budget int64
}

// slot is one goroutine's mark. tick counts the calls it begins and ends, so it is odd while
// the goroutine is in the model; the state it is on is kept under the slot's lock, taken once
// per call. The watchdog reads the clock, and calls a slot hung when its tick has stayed the
// same odd number for longer than the timeout.
type slot[S any] struct {
	tick  atomic.Uint64
	mu    sync.Mutex
	s     S   // the state of the call under way
	depth int // its depth (breadth-first) or path length (depth-first), for its path
	where string
	walk  int // the probe's walk under way (where is "probe"), for its path

	// The watchdog's own view: the tick it last saw, and since when.
	seen      uint64
	seenSince time.Time
}

// watch holds the slots and the watchdog's verdict.
type watch[S any] struct {
	limit  time.Duration
	budget int64 // Options.MaxMemory; 0: time alone
	mu     sync.Mutex
	slots  []*slot[S]
	hung   chan *hangAt[S] // the first hang seen; buffered, so the watchdog never blocks
	quit   chan struct{}
}

// hangAt is a hang as the watchdog caught it, before its path is rebuilt.
type hangAt[S any] struct {
	s      S
	depth  int
	where  string
	walk   int
	memory int64 // resident bytes, if caught over the memory budget
}

func newWatch[S any](limit time.Duration, budget int64) *watch[S] {
	if limit <= 0 {
		return nil
	}
	w := &watch[S]{limit: limit, budget: budget, hung: make(chan *hangAt[S], 1), quit: make(chan struct{})}
	go w.run()
	return w
}

// slot returns a new slot for calls made from where (see Hang.Where), watched from now on;
// nil without a watchdog.
func (w *watch[S]) slot(where string) *slot[S] {
	if w == nil {
		return nil
	}
	sl := &slot[S]{where: where}
	w.mu.Lock()
	w.slots = append(w.slots, sl)
	w.mu.Unlock()
	return sl
}

func (w *watch[S]) stop() {
	if w != nil {
		close(w.quit)
	}
}

// run looks at the slots until a call overstays or the search ends.
func (w *watch[S]) run() {
	every := min(max(w.limit/8, 5*time.Millisecond), time.Second)
	if w.budget > 0 {
		every = min(every, 250*time.Millisecond) // memory can grow by a gigabyte a second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-w.quit:
			return
		case now := <-t.C:
			if h := w.overstayed(now); h != nil {
				w.hung <- h
				return
			}
		}
	}
}

func (w *watch[S]) overstayed(now time.Time) *hangAt[S] {
	w.mu.Lock()
	slots := w.slots
	w.mu.Unlock()
	var rss int64
	if w.budget > 0 {
		if rss, _ = machine.Resident(); rss <= w.budget {
			rss = 0
		}
	}
	for _, sl := range slots {
		t := sl.tick.Load()
		if t != sl.seen || t%2 == 0 {
			sl.seen, sl.seenSince = t, now
			continue
		}
		// The same call at two looks: over the budget, that is enough; a step of a healthy
		// search lasts microseconds, and the search stops itself at its own memory checks.
		if now.Sub(sl.seenSince) <= w.limit && rss == 0 {
			continue
		}
		sl.mu.Lock()
		h := &hangAt[S]{s: sl.s, depth: sl.depth, where: sl.where, walk: sl.walk, memory: rss}
		sl.mu.Unlock()
		if sl.tick.Load() == t { // still the same call: the state read is its state
			return h
		}
	}
	return nil
}

// begin marks sl as in the model on s, at depth. A nil slot (no watchdog) marks nothing.
func (sl *slot[S]) begin(s S, depth int) {
	if sl == nil {
		return
	}
	sl.mu.Lock()
	sl.s, sl.depth = s, depth
	sl.mu.Unlock()
	sl.tick.Add(1)
}

func (sl *slot[S]) end() {
	if sl == nil {
		return
	}
	sl.tick.Add(1)
	sl.mu.Lock()
	var zero S
	sl.s = zero // let the collector have the state
	sl.mu.Unlock()
}

// The phases of a supervised search, in engine.phase: its strategy, then its finish (paths,
// progress), then done; or hung, from either of the first two. Each step is a compare-and-swap,
// so that a search whose last call returns just as the watchdog calls it hung is either done
// (the watchdog is too late) or hung (the search stops as soon as it can, touching nothing).
const (
	phaseSearch int32 = iota
	phaseFinish
	phaseDone
	phaseHung
)

// errAbandoned is what a search that was called hung returns, to nobody.
var errAbandoned = errors.New("explore: the search was called hung")

// supervised runs search on a goroutine of its own under the watchdog, if there is one, and
// returns the search's error, or the hang the watchdog saw first. A hung search's goroutines
// are left to stop by themselves (those that can) and to free nothing. A panic of the model
// comes up on the caller's goroutine, as without a watchdog.
func (e *engine[S]) supervised(w *watch[S], search func() error) (*hangAt[S], error) {
	if w == nil {
		return nil, search()
	}
	type outcome struct {
		err   error
		panic any
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				o.panic = p
			}
			if e.phase.CompareAndSwap(phaseSearch, phaseDone) || e.phase.CompareAndSwap(phaseFinish, phaseDone) {
				done <- o
			}
		}()
		o.err = search()
	}()
	var o outcome
	select {
	case o = <-done:
	case h := <-w.hung:
		if e.phase.CompareAndSwap(phaseSearch, phaseHung) || e.phase.CompareAndSwap(phaseFinish, phaseHung) {
			e.stopped.Store(true)
			return h, nil
		}
		o = <-done // the search was done as the watchdog saw the hang
	}
	if o.panic != nil {
		panic(o.panic)
	}
	return nil, o.err
}

// hangResult is the result of a search that hung at h: counts of what it had explored, and
// the path to the state, rebuilt by a breadth-first search to its depth, itself watched, since
// the steps it repeats returned once, but a reduced search may not have run them all. partial
// holds the strategy's counts when the hang came after it (nil: during it).
func (e *engine[S]) hangResult(h *hangAt[S], partial *Result) *Result {
	r := &Result{Reduction: e.reduction, Stopped: "hung"}
	switch {
	case h.where == "probe" && partial != nil && partial.Probe != nil:
		// The walks' counts, as of their last round (written before the round that hung began).
		p := *partial.Probe
		r.Probe, r.Unique, r.Transitions = &p, p.States, p.Steps
	case partial != nil:
		r.Unique, r.Transitions, r.MaxDepth, r.StoreBytes = partial.Unique, partial.Transitions, partial.MaxDepth, partial.StoreBytes
	default:
		r.Unique, r.Transitions, r.MaxDepth = e.set.len(), e.progress.Load(), int(e.depth.Load())
	}
	r.Hung = &Hang{Where: h.where, State: h.s, Limit: e.watch.limit}
	switch {
	case h.where == "init":
		return r
	case h.memory > 0:
		// The step still takes memory as fast as it can: no time for a search to its path.
		r.Hung.Memory, r.Hung.Budget = h.memory, e.watch.budget
		r.Hung.Why = "its path was not rebuilt: the step was still taking memory, and the searches that rebuild a path take it again"
		return r
	}
	switch h.where {
	case "", "probe":
	default:
		r.Hung.Why = fmt.Sprintf("its path was not rebuilt: the step was taken while %s, a second pass that takes every action of the states it goes over, "+
			"including those a reduced search skipped", map[string]string{"paths": "rebuilding a path", "progress": "checking progress"}[h.where])
		return r
	}
	p, at, why := e.rebuild(h)
	switch {
	case p == nil:
		r.Hung.Why = why
	case e.m.Fingerprint(e.normal(at.s)) != e.m.Fingerprint(e.normal(h.s)):
		// The search that rebuilt the path met the step first, at a shallower state: that
		// state is the one reported, with its path.
		r.Hung.State, r.Hung.Path = at.s, p
		r.Hung.Why = "found again on the way to the state first caught, at a state closer to the initial one"
	default:
		r.Hung.Path = p
	}
	return r
}

// rebuildPasses bounds the searches hangResult makes for a path: each one that hangs leaves a
// goroutine spinning on a core until the process exits.
const rebuildPasses = 3

// rebuild returns the path to a state whose expansion hung, and that state: h's, or one met
// on the way. A walk's state is reached again by its walk, else by a breadth-first search to
// its depth. Either may itself take a step that does not return, from a state shallower than
// h's (a message whose delivery hangs is often in flight long before): then that state is
// the one to reach. A breadth-first search that hangs at depth d has expanded every state
// above d, so the next search, to that state at depth d, takes only steps that returned once
// and ends. Without a path, why says why.
func (e *engine[S]) rebuild(h *hangAt[S]) (p *Path, at *hangAt[S], why string) {
	at = h
	for pass := 0; pass < rebuildPasses; pass++ {
		w := newWatch[S](e.watch.limit, e.watch.budget)
		e.phase.Store(phaseSearch)
		var err error
		again, _ := e.supervised(w, func() error {
			if at.where == "probe" { // the walk, taken again up to the state it hung on
				var walked Path
				walked, err = e.walkPath(w.slot("probe"), at.walk, at.depth)
				p = &walked
				return nil
			}
			p, err = e.pathTo(w, e.m.Fingerprint(e.normal(at.s)), at.depth)
			if err == nil && p != nil {
				var c Path
				c, err = e.concrete(w, *p) // a path through canonical states, with symmetry
				p = &c
			}
			return nil
		})
		w.stop()
		switch {
		case again != nil:
			p, at = nil, again
			at.where = "" // the next pass searches for it breadth-first, whatever this one did
			why = "its path was not rebuilt: every search that rebuilds it met another step that did not return"
		case err != nil:
			return nil, at, fmt.Sprintf("its path was not rebuilt: %v", err)
		default:
			return p, at, ""
		}
	}
	return nil, h, why
}

// pathTo returns a shortest path to the state with fingerprint fp, at most depth steps long,
// its calls watched by w.
func (e *engine[S]) pathTo(w *watch[S], fp uint64, depth int) (*Path, error) {
	set := newFPSet(1)
	defer set.free()
	var parent, action []int32
	var cur, next []S
	found := -1
	store := func(s S, from, a int) {
		if found >= 0 || !set.add(e.m.Fingerprint(s)) {
			return
		}
		if e.m.Fingerprint(s) == fp {
			found = len(parent)
		}
		parent, action = append(parent, int32(from)), append(action, int32(a))
		next = append(next, s)
	}
	sl := w.slot("")
	sl.begin(*new(S), 0)
	inits := e.m.Init()
	sl.end()
	for i, s := range inits {
		store(e.normal(s), -1, i)
	}
	base, from := 0, 0
	yield := func(a int, s S) bool {
		store(e.normal(s), from, a)
		return found < 0
	}
	for d := 0; found < 0 && d < depth && len(next) > 0; d++ {
		cur, next = next, cur[:0]
		for i, s := range cur {
			if found >= 0 {
				break
			}
			if i%64 == 0 {
				if e.ctx.Err() != nil {
					return nil, errors.New("the search's time ran out first")
				}
				if e.outOfMemory(set, 64) {
					return nil, errors.New("the memory budget ran out")
				}
			}
			from = base + i
			sl.begin(s, d)
			e.m.Next(s, yield)
			sl.end()
		}
		base += len(cur)
	}
	if found < 0 {
		return nil, fmt.Errorf("the state was not found again within %d steps; is the model deterministic?", depth)
	}
	p := treePath(parent, action, found)
	return &p, nil
}
