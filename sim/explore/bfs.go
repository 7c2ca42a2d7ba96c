package explore

import (
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Breadth-first search goes level by level. A level is a list of blocks of states; workers
// take blocks in turn, generate their successors, and look them up in the shared visited
// set a batch at a time. A successor that a worker is first to insert is new: it is checked
// and appended to that worker's blocks of the next level.
//
// Which worker wins a new state, and so the order of the next level, depends on scheduling,
// but nothing reported depends on that order: the set of states at each level is fixed, the
// counts are sums, and limits are checked only between levels. Paths are the exception, so
// the search keeps none; once it knows the depth of what it must show a path to, a
// sequential search rebuilds shortest paths up to that depth (see paths.go).

const (
	blockLen = 4096 // states in a frontier block, the unit of work a worker takes
	batchLen = 1024 // successors looked up in the visited set together
)

func (e *engine[S]) bfs(r *Result) error {
	inits, err := e.initial()
	if err != nil {
		return err
	}
	pool := &blockPool[S]{}
	ws := make([]*worker[S], e.opts.Workers)
	for i := range ws {
		ws[i] = newWorker(e, pool)
	}
	// The initial states pass through the visited set like any successor.
	for _, s := range inits {
		ws[0].push(0, s)
	}
	ws[0].transitions = 0
	ws[0].flush(0)
	cur := e.gather(ws)
	var expanded int64 // states whose successors were generated, for the branching factor
	if err := e.levelDone(ws, 0, r); err != nil {
		return err
	}
	for depth := 0; len(cur) > 0; depth++ {
		r.MaxDepth = depth
		r.Unique = e.set.len()
		switch {
		case r.Stopped != "":
		case e.opts.MaxDepth > 0 && depth >= e.opts.MaxDepth:
			r.Stopped = "max-depth"
		case e.opts.MaxStates > 0 && r.Unique >= e.opts.MaxStates:
			r.Stopped = "max-states"
		case e.outOfMemory(e.set, blockLen*e.opts.Workers):
			r.Stopped = "max-memory"
		}
		if r.Stopped != "" {
			break
		}
		e.depth.Store(int64(depth))
		var whole bool
		expanded += int64(blocksLen(cur))
		cur, whole = e.expand(cur, ws, depth+1)
		if err := e.levelDone(ws, depth+1, r); err != nil {
			return err
		}
		if !whole {
			r.Stopped = e.stopReason()
		}
		if e.tab != nil && r.Stopped == "" {
			cur = e.owing(cur, pool, depth+1)
		}
		if expanded > 0 {
			e.branch.Store(max(1, (r.Transitions+expanded-1)/expanded))
		}
	}
	r.Unique = e.set.len()
	r.StoreBytes = e.set.bytes() + pool.bytes() // both only grow
	if e.tab != nil {
		r.StoreBytes += e.tab.bytes()
	}
	return nil
}

// levelDone merges what the workers found at a level: a guard failure, sometimes-properties
// first reached, a violation. It runs between levels, on one goroutine.
func (e *engine[S]) levelDone(ws []*worker[S], depth int, r *Result) error {
	var guard *guardFailure
	for _, w := range ws {
		r.Transitions += w.transitions
		w.transitions = 0
		if w.guard != nil && (guard == nil || w.guard.fp < guard.fp) {
			guard = w.guard // the same failure for any number of workers
		}
		w.guard = nil
		for i, hit := range w.witnessed {
			if hit && e.witnessDepth[i] < 0 {
				e.witnessDepth[i] = depth
			}
			w.witnessed[i] = false
		}
		if w.violated && e.violationDepth < 0 {
			e.violationDepth = depth
			r.Stopped = "violation"
		}
		w.violated = false
	}
	if guard != nil {
		return guard.err
	}
	return nil
}

// expand generates the level after cur, at depth, and returns it, and whether it is whole:
// false if ctx stopped the search before every block of cur was expanded.
func (e *engine[S]) expand(cur [][]S, ws []*worker[S], depth int) ([][]S, bool) {
	var taken atomic.Int64
	var cut atomic.Bool // a worker stopped in the middle of a block
	run := func(w *worker[S]) {
		for !e.stopped.Load() {
			if e.outOfMemory(e.set, blockLen*len(ws)) {
				break // before taking a block, so that the level is not reported whole
			}
			i := int(taken.Add(1)) - 1
			if i >= len(cur) {
				break
			}
			before := w.transitions
			for j, s := range cur[i] {
				// A block of large states can take seconds: a deadline is looked at every
				// few states, not only between blocks.
				if j%64 == 63 && e.stopped.Load() {
					cut.Store(true)
					break
				}
				w.slot.begin(s, depth-1)
				if e.tab != nil {
					w.expandAsleep(s)
				} else {
					e.m.Next(s, w.yield)
				}
				w.slot.end()
				if len(w.fps) >= batchLen {
					w.flush(depth)
				}
			}
			w.pool.put(cur[i])
			e.progress.Add(w.transitions - before)
			e.maybeReport()
		}
		w.flush(depth)
	}
	if len(ws) == 1 {
		run(ws[0]) // no goroutine, no synchronization to pay for
	} else {
		var wg sync.WaitGroup
		for _, w := range ws {
			wg.Go(func() { run(w) })
		}
		wg.Wait()
	}
	// A worker that ran out of blocks took one past the end; one that stopped did not.
	return e.gather(ws), taken.Load() >= int64(len(cur)) && !cut.Load()
}

// owing adds to the next level the states that owe transitions (see sleep.go).
func (e *engine[S]) owing(next [][]S, pool *blockPool[S], level int) [][]S {
	var b []S
	for _, s := range e.tab.settle(level) {
		if b == nil {
			b = pool.get()
		}
		b = append(b, s)
		if len(b) == blockLen {
			next, b = append(next, b), nil
		}
	}
	if b != nil {
		next = append(next, b)
	}
	return next
}

// blocksLen returns the number of states in blocks.
func blocksLen[S any](blocks [][]S) int {
	n := 0
	for _, b := range blocks {
		n += len(b)
	}
	return n
}

// gather collects the workers' blocks of the next level.
func (e *engine[S]) gather(ws []*worker[S]) [][]S {
	var next [][]S
	for _, w := range ws {
		if len(w.block) > 0 {
			w.out = append(w.out, w.block)
			w.block = nil
		}
		next = append(next, w.out...)
		w.out = w.out[:0]
	}
	return next
}

// A worker expands blocks of one level. Its fields are its own; the engine merges them
// between levels.
type worker[S any] struct {
	e     *engine[S]
	pool  *blockPool[S]
	yield func(action int, next S) bool // w.push, made once
	slot  *slot[S]                      // the step watchdog's mark, nil without one

	succ   []S           // the batch: successors waiting for the visited set
	fps    []uint64      // their fingerprints
	sleeps [][]sleepItem // their sleep sets, with partial-order reduction
	sink   uint64        // keeps the prefetching reads of fpSet.touch alive

	block []S   // the block of the next level being filled
	out   [][]S // full blocks of the next level

	transitions int64
	violated    bool
	witnessed   []bool
	guard       *guardFailure

	// recycle is the model's Recycle (see Recycler), nil when the model has none or when a
	// duplicate may still be held elsewhere (see newWorker).
	recycle func(S)
}

// Recycler is a Model that can take back the memory of a successor. Most successors a
// breadth-first search generates are states it has visited already (about four in five on
// Paxos): each is built whole, fingerprinted and dropped, and on protocol code that garbage
// is most of what the collector works through. The search hands such a duplicate to Recycle
// once it will never read it again, so that the model may build a later successor in its
// memory. It does so only for values Next yielded and the search did not store, and never
// twice for one yielded value; a model must not yield one value twice if it recycles.
type Recycler[S any] interface {
	Recycle(s S)
}

func newWorker[S any](e *engine[S], pool *blockPool[S]) *worker[S] {
	w := &worker[S]{
		e:         e,
		pool:      pool,
		succ:      make([]S, 0, batchLen+64),
		fps:       make([]uint64, 0, batchLen+64),
		witnessed: make([]bool, e.nSome),
	}
	w.yield = w.push
	w.slot = e.watch.slot("")
	// With symmetry the batch holds canonical forms, which may share parts with what Next
	// yielded; with sleep sets a duplicate may be kept to be expanded again (sleepTable's
	// revisits). Neither recycles.
	if r, ok := e.m.(Recycler[S]); ok && e.canon == nil && e.tab == nil {
		w.recycle = r.Recycle
	}
	return w
}

// push adds a successor to the batch. It is the yield function handed to Next.
func (w *worker[S]) push(_ int, next S) bool {
	if w.e.canon != nil {
		next = w.e.canon(next)
	}
	w.succ = append(w.succ, next)
	w.fps = append(w.fps, w.e.m.Fingerprint(next))
	if w.e.tab != nil {
		w.sleeps = append(w.sleeps, nil)
	}
	w.transitions++
	return true
}

// expandAsleep generates the successors of s that its sleep set does not skip, and their
// sleep sets (see sleep.go): a state that owes transitions from an earlier expansion
// explores those only.
func (w *worker[S]) expandAsleep(s S) {
	e := w.e
	fp := e.m.Fingerprint(s)
	sleep := e.tab.get(fp)
	asleep := func(id uint64) bool { return has(sleep, id) }
	if owed, again := e.tab.owed[fp]; again {
		asleep = func(id uint64) bool { return !has(owed, id) }
	}
	done := slices.Clone(sleep) // asleep, and explored so far: what successors may inherit
	var (
		gid   uint64 // the action whose successors are being yielded
		gnode int32  // the node all its steps were local to, or 0
		first = -1   // index in the batch of its first successor
	)
	finish := func() {
		if first < 0 {
			return
		}
		var inherit []sleepItem
		if gnode != 0 {
			for _, it := range done {
				if it.node != gnode { // local to another node: independent
					inherit = append(inherit, it)
				}
			}
			done = with(done, sleepItem{gid, gnode})
		}
		for i := first; i < len(w.sleeps); i++ {
			w.sleeps[i] = inherit
		}
		first = -1
	}
	e.sleepy.NextSleep(s, asleep, func(next S, id uint64, node int32) bool {
		if first >= 0 && id != gid {
			finish()
		}
		if first < 0 {
			gid, gnode, first = id, node, len(w.succ)
		} else if node != gnode {
			gnode = 0
		}
		w.push(0, next)
		return true
	})
	finish()
}

// flush looks the batch up in the visited set and keeps the states that are new.
func (w *worker[S]) flush(depth int) {
	set := w.e.set
	set.reserve(len(w.fps))
	w.sink += set.touch(w.fps)
	inserted := 0
	for i, fp := range w.fps {
		var isNew bool
		if tab := w.e.tab; tab != nil {
			isNew = tab.arrive(fp, w.succ[i], w.sleeps[i], depth, func() bool { return set.insert(fp) })
		} else {
			isNew = set.insert(fp)
		}
		if isNew {
			inserted++
			w.found(w.succ[i], fp, depth)
		} else if w.recycle != nil {
			w.recycle(w.succ[i])
		}
	}
	set.release(len(w.fps), inserted)
	clear(w.succ) // let the collector have what the states point to
	clear(w.sleeps)
	w.succ, w.fps, w.sleeps = w.succ[:0], w.fps[:0], w.sleeps[:0]
}

// found checks a new state and adds it to the next level.
func (w *worker[S]) found(s S, fp uint64, depth int) {
	e := w.e
	if e.m.Violated(s) != "" {
		w.violated = true
	}
	for i := range w.witnessed {
		if e.witnessDepth[i] < 0 && !w.witnessed[i] && e.some.Sometimes(s, i) {
			w.witnessed[i] = true
		}
	}
	if depth == 0 || sampled(fp) {
		if err := e.checkStep(w.slot, s, depth); err != nil && (w.guard == nil || fp < w.guard.fp) {
			w.guard = &guardFailure{fp: fp, err: err}
		}
	}
	if w.block == nil {
		w.block = w.pool.get()
	}
	w.block = append(w.block, s)
	if len(w.block) == blockLen {
		w.out = append(w.out, w.block)
		w.block = nil
	}
}

// blockPool recycles frontier blocks from one level to the next.
type blockPool[S any] struct {
	mu   sync.Mutex
	free [][]S
	made int // blocks allocated, the most ever in use at once
}

// bytes returns the memory of the blocks allocated.
func (p *blockPool[S]) bytes() int64 {
	var s S
	return int64(p.made) * blockLen * int64(unsafe.Sizeof(s))
}

func (p *blockPool[S]) get() []S {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	p.made++
	return make([]S, 0, blockLen)
}

func (p *blockPool[S]) put(b []S) {
	clear(b)
	p.mu.Lock()
	p.free = append(p.free, b[:0])
	p.mu.Unlock()
}
