package explore

import "unsafe"

// Depth-first search keeps a stack of frames, one per state on the current path. A frame's
// successors are generated all at once into a shared arena, and the frame walks them; the
// path to the state on top is the initial state plus the action of each frame, so a
// violation's path is read straight off the stack.

type frame struct {
	action int // the action that led here; for the bottom frame, the initial state's index
	lo, hi int // the frame's successors are arena[lo:hi]
	next   int // the next successor to visit
}

type arc[S any] struct {
	action int
	s      S
}

func (e *engine[S]) dfs(r *Result) error {
	inits, err := e.initial()
	if err != nil {
		return err
	}
	d := &dfsRun[S]{e: e, r: r, witnesses: make([]*Path, e.nSome)}
	d.yield = d.push
	d.slot = e.watch.slot("")
	i := 0
	for ; i < len(inits) && !d.done(); i++ {
		d.visit(i, inits[i], 0)
		for len(d.stack) > 0 && !d.done() {
			top := &d.stack[len(d.stack)-1]
			if top.next == top.hi {
				clear(d.arena[top.lo:]) // let the collector have what the states point to
				d.arena = d.arena[:top.lo]
				d.stack = d.stack[:len(d.stack)-1]
				continue
			}
			a := d.arena[top.next]
			top.next++
			d.visit(a.action, a.s, len(d.stack))
		}
	}
	interrupted := len(d.stack) > 0 || i < len(inits)
	switch {
	case r.Stopped != "" || d.err != nil:
	case e.stopped.Load() && interrupted:
		r.Stopped = e.stopReason()
	case d.cut:
		r.Stopped = "max-depth"
	}
	e.witnessPaths = d.witnesses
	r.Unique = e.set.len()
	r.StoreBytes = e.set.bytes() + int64(cap(d.arena))*int64(unsafe.Sizeof(arc[S]{})) +
		int64(cap(d.stack))*int64(unsafe.Sizeof(frame{}))
	return d.err
}

type dfsRun[S any] struct {
	e         *engine[S]
	r         *Result
	stack     []frame
	arena     []arc[S]
	yield     func(int, S) bool // d.push, made once
	witnesses []*Path
	err       error
	count     int      // states visited, to pace reports
	cut       bool     // a state at MaxDepth was not expanded
	slot      *slot[S] // the step watchdog's mark, nil without one
}

func (d *dfsRun[S]) done() bool {
	return d.err != nil || d.r.Stopped != "" || d.e.stopped.Load()
}

// visit stores s, reached by action at the given depth, checks it and, when it is new and
// not too deep, pushes a frame for it. What stops the search is left for done to see.
func (d *dfsRun[S]) visit(action int, s S, depth int) {
	e, r := d.e, d.r
	s = e.normal(s)
	fp := e.m.Fingerprint(s)
	if !e.set.add(fp) {
		return
	}
	if depth > r.MaxDepth {
		r.MaxDepth = depth
	}
	if p := e.m.Violated(s); p != "" {
		r.Violation = &Violation{Property: p, Path: d.path(action)}
		r.Stopped = "violation"
		return
	}
	for i, w := range d.witnesses {
		if w == nil && e.some.Sometimes(s, i) {
			p := d.path(action)
			d.witnesses[i] = &p
		}
	}
	if depth == 0 || sampled(fp) {
		if d.err = e.checkStep(d.slot, s, depth); d.err != nil {
			return
		}
	}
	if d.count++; d.count%blockLen == 0 {
		e.depth.Store(int64(depth))
		e.progress.Store(r.Transitions)
		e.maybeReport()
		if r.Transitions > 0 {
			e.branch.Store(max(1, r.Transitions/int64(d.count)))
		}
		if e.outOfMemory(e.set, blockLen) {
			r.Stopped = "max-memory"
			return
		}
	}
	if e.opts.MaxStates > 0 && e.set.len() >= e.opts.MaxStates {
		r.Stopped = "max-states"
		return
	}
	if e.opts.MaxDepth > 0 && depth >= e.opts.MaxDepth {
		d.cut = true // the search goes on within the bound
		return
	}
	lo := len(d.arena)
	d.slot.begin(s, depth)
	e.m.Next(s, d.yield)
	d.slot.end()
	r.Transitions += int64(len(d.arena) - lo)
	d.stack = append(d.stack, frame{action: action, lo: lo, hi: len(d.arena), next: lo})
}

// push adds a successor to the arena; it is the yield function handed to Next.
func (d *dfsRun[S]) push(action int, next S) bool {
	d.arena = append(d.arena, arc[S]{action, next})
	return true
}

// path returns the path to the top of the stack followed by action.
func (d *dfsRun[S]) path(action int) Path {
	if len(d.stack) == 0 {
		return Path{Init: action, Actions: []int{}}
	}
	p := Path{Init: d.stack[0].action, Actions: make([]int, 0, len(d.stack))}
	for _, f := range d.stack[1:] {
		p.Actions = append(p.Actions, f.action)
	}
	p.Actions = append(p.Actions, action)
	return p
}
