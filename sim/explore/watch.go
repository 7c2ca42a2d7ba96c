package explore

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The step watchdog. A model's Next runs protocol code, and a step that loops forever would
// hang the search with nothing said: no counts, no path, no state. With Options.StepTimeout,
// each goroutine that calls the model marks a slot while it does (which state, since when),
// and a watchdog goroutine looks at the slots a few times per timeout. When a call has run
// longer than the timeout, the search ends at once with Stopped "hung" and Result.Hung naming
// the state, and the goroutine caught in the loop is left behind: Go cannot stop it, so it
// keeps its core busy until the process exits (the command line exits right after its report).
//

// Hang is what the watchdog saw: a call into the model that did not return in time.
type Hang struct {
	// Path leads to the state whose expansion did not return; nil when it could not be
	// rebuilt (Why says so).
	Path *Path
	// Where is "" for the search's own expansion of a state (or its determinism check of
	// one), "init" for a call to Init (State is then the zero state), or the part of the
	// search that repeats steps already taken once: "progress" or "paths" (rebuilding them).
	Where string
	// State is the state, as the model gave it (its String method, if any, shows it).
	State any
	// Limit is the timeout it ran past; Why says anything the report should add.
	Limit time.Duration
	Why   string
}

// slot is one goroutine's mark. tick counts the calls it begins and ends, so it is odd while
// the goroutine is in the model, on s. Marking is two atomic adds and a store per call, with
// no clock reading: the watchdog reads the clock, and calls a slot hung when its tick has
// stayed the same odd number for longer than the timeout.
type slot[S any] struct {
	tick  atomic.Uint64
	s     S            // written before tick turns odd, read by the watchdog once it stays so
	depth int          // of s, for a breadth-first search's path
	path  func() *Path // for a depth-first search: the path to s, read off its stack
	where string       // see Hang.Where

	// The watchdog's own view: the tick it last saw, and since when.
	seen      uint64
	seenSince time.Time
}

// watch holds the slots and the watchdog's verdict.
type watch[S any] struct {
	limit time.Duration
	mu    sync.Mutex
	slots []*slot[S]
	hung  chan *hangAt[S] // the first hang seen; buffered, so the watchdog never blocks
	quit  chan struct{}
}

// hangAt is a hang as the watchdog caught it, before its path is rebuilt.
type hangAt[S any] struct {
	s     S
	depth int
	path  *Path
	where string
}

func newWatch[S any](limit time.Duration) *watch[S] {
	if limit <= 0 {
		return nil
	}
	w := &watch[S]{limit: limit, hung: make(chan *hangAt[S], 1), quit: make(chan struct{})}
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
	for _, sl := range slots {
		t := sl.tick.Load()
		if t != sl.seen || t%2 == 0 {
			sl.seen, sl.seenSince = t, now
			continue
		}
		if now.Sub(sl.seenSince) <= w.limit {
			continue
		}
		// The goroutine has been in the same call all along, so s (and, depth-first, its
		// stack) is as it was when the call began. Were the call to end while this reads,
		// the tick says so, and the slot is looked at again next time.
		h := &hangAt[S]{s: sl.s, depth: sl.depth, where: sl.where}
		if sl.path != nil {
			h.path = sl.path()
		}
		if sl.tick.Load() == t {
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
	sl.s, sl.depth = s, depth
	sl.tick.Add(1)
}

func (sl *slot[S]) end() {
	if sl != nil {
		sl.tick.Add(1)
	}
}

// supervised runs search under the watchdog, if there is one. It returns the search's error,
// or the hang the watchdog saw first; then the search's goroutines are left to stop by
// themselves (those that can), and nothing the search holds may be freed.
func (e *engine[S]) supervised(search func() error) (*hangAt[S], error) {
	if e.watch == nil {
		return nil, search()
	}
	done := make(chan error, 1)
	go func() { done <- search() }()
	select {
	case err := <-done:
		return nil, err
	case h := <-e.watch.hung:
		e.stopped.Store(true)
		return h, nil
	}
}

// hangResult ends the search with the hang h: the path to its state is rebuilt by a
// breadth-first search to its depth, itself watched, since the steps it repeats returned
// once but a reduced search may not have run them all.
func (e *engine[S]) hangResult(h *hangAt[S], r *Result) {
	r.Complete, r.Stopped = false, "hung"
	r.Unique, r.Transitions = e.set.len(), e.progress.Load()
	r.Hung = &Hang{Path: h.path, Where: h.where, State: h.s, Limit: e.watch.limit}
	if h.where != "" {
		if h.where != "init" {
			r.Hung.Why = "its path was not rebuilt: the hang was in a second pass over states the search had expanded once (is the model deterministic?)"
		}
		return
	}
	if h.path != nil {
		return
	}
	e.watch = newWatch[S](e.watch.limit)
	defer e.watch.stop()
	var p *Path
	again, err := e.supervised(func() error {
		var err error
		p, err = e.pathTo(e.m.Fingerprint(h.s), h.depth)
		return err
	})
	switch {
	case again != nil:
		r.Hung.Why = "its path was not rebuilt: the search that rebuilds it met another step that did not return"
	case err != nil:
		r.Hung.Why = fmt.Sprintf("its path was not rebuilt: %v", err)
	default:
		r.Hung.Path = p
	}
}

// pathTo returns a shortest path to the state with fingerprint fp, at most depth steps long.
func (e *engine[S]) pathTo(fp uint64, depth int) (*Path, error) {
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
	sl := e.watch.slot("paths")
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
			if found >= 0 || e.ctx.Err() != nil {
				break
			}
			if i%blockLen == 0 && e.outOfMemory(set, blockLen) {
				return nil, fmt.Errorf("the memory budget ran out")
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
