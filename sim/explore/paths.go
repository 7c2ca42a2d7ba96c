package explore

import (
	"errors"
	"fmt"
	"math"
)

// rebuildPaths fills in the paths of a finished search: a breadth-first search recorded
// only the depths of what it found, so shortestPaths searches again up to that depth,
// keeping parents this time. Then paths through canonical states become paths of the model.
func (e *engine[S]) rebuildPaths(r *Result) error {
	if e.opts.Strategy == BreadthFirst && e.needPaths() {
		if err := e.shortestPaths(r); err != nil {
			return err
		}
	}
	if r.Violation != nil {
		p, err := e.concrete(e.watch, r.Violation.Path)
		if err != nil {
			return err
		}
		r.Violation.Path = p
	}
	if e.some == nil {
		return nil
	}
	for i, name := range e.some.SometimesProperties() {
		w := Witness{Property: name, Steps: e.witnessDepth[i]}
		if p := e.witnessPaths[i]; p != nil {
			c, err := e.concrete(e.watch, *p)
			if err != nil {
				return err
			}
			w.Path, w.Steps = &c, len(c.Actions)
		}
		r.Witnesses = append(r.Witnesses, w)
	}
	return nil
}

func (e *engine[S]) needPaths() bool {
	if e.violationDepth >= 0 {
		return true
	}
	for _, d := range e.witnessDepth {
		if d >= 0 {
			return true
		}
	}
	return false
}

// shortestPaths searches breadth-first again, on one goroutine and keeping each state's
// parent, until it has found every target the first search reached: the first violating
// state and a witness of each sometimes-property reached. On one goroutine, a level's
// states come in the order of their first path (initial index, then action numbers), so the
// first target found at the shallowest depth has the lexicographically smallest of the
// shortest paths, whatever the number of workers of the first search.
//
// It costs a second search up to the deepest target, and about 8 bytes a state on top of
// the visited set; nothing when nothing needs a path.
func (e *engine[S]) shortestPaths(r *Result) error {
	set := newFPSet(1)
	defer set.free()
	var parent, action []int32 // per stored state; a root's action is its initial index
	path := func(i int) Path { return treePath(parent, action, i) }
	need := 0
	if e.violationDepth >= 0 {
		need++
	}
	for _, d := range e.witnessDepth {
		if d >= 0 {
			need++
		}
	}
	var cur, next []S
	store := func(s S, from int, a int) {
		if !set.add(e.m.Fingerprint(s)) {
			return
		}
		i := len(parent)
		parent, action = append(parent, int32(from)), append(action, int32(a))
		next = append(next, s)
		if e.violationDepth >= 0 && r.Violation == nil {
			if p := e.m.Violated(s); p != "" {
				r.Violation = &Violation{Property: p, Path: path(i)}
				need--
			}
		}
		for j, d := range e.witnessDepth {
			if d >= 0 && e.witnessPaths[j] == nil && e.some.Sometimes(s, j) {
				p := path(i)
				e.witnessPaths[j] = &p
				need--
			}
		}
	}
	inits, err := e.initial()
	if err != nil {
		return err
	}
	for i, s := range inits {
		store(s, -1, i)
	}
	base := 0 // index of cur[0] among stored states
	var from int
	sl := e.watch.slot("paths")
	yield := func(a int, s S) bool {
		store(e.normal(s), from, a)
		return need > 0
	}
	for need > 0 && len(next) > 0 {
		if len(parent) > math.MaxInt32/2 {
			return errors.New("explore: too many states to rebuild a path")
		}
		cur, next = next, cur[:0]
		for i, s := range cur {
			if need == 0 {
				break
			}
			if i%64 == 0 && e.violationDepth < 0 && e.ctx.Err() != nil {
				// Only witnesses are left to rebuild, and the search's time is up: they
				// are reported reached, without their paths.
				return nil
			}
			if i%blockLen == 0 && e.outOfMemory(set, blockLen) {
				return errors.New("explore: the memory budget ran out while rebuilding a shortest path to what the search found (try a larger budget, or depth-first search)")
			}
			from = base + i
			sl.begin(s, 0)
			e.m.Next(s, yield)
			sl.end()
		}
		base += len(cur)
	}
	if need > 0 && !(e.violationDepth < 0 && e.ctx.Err() != nil) {
		// The first search reached these targets, so a faithful second search must too.
		return errors.New("explore: a path could not be rebuilt; is the model deterministic?")
	}
	return nil
}

// concrete turns a path through normal (canonical) states into a path of the model: at
// each step it takes the first action from the actual state whose successor is equivalent
// to the next state of the given path. Without symmetry the path is returned as it is.
// Its calls are watched by w.
func (e *engine[S]) concrete(w *watch[S], p Path) (Path, error) {
	if e.canon == nil {
		return p, nil
	}
	inits := e.m.Init()
	if p.Init < 0 || p.Init >= len(inits) {
		return p, fmt.Errorf("explore: path starts at initial state %d of %d", p.Init, len(inits))
	}
	x := inits[p.Init]          // the model's state
	c := e.canon(inits[p.Init]) // the state the search stored
	out := Path{Init: p.Init, Actions: make([]int, 0, len(p.Actions))}
	sl := w.slot("paths")
	for i, a := range p.Actions {
		sl.begin(x, i)
		next, ok := successor(e.m, c, a)
		if !ok {
			sl.end()
			return p, fmt.Errorf("explore: step %d of a path: action %d is not enabled", i, a)
		}
		c = e.canon(next)
		b, y, found := stepTo(e.m, x, e.m.Fingerprint(c), func(y S) uint64 { return e.m.Fingerprint(e.canon(y)) })
		out.Actions, x = append(out.Actions, b), y
		sl.end()
		if !found {
			return p, fmt.Errorf("explore: step %d of a path has no equivalent in the model; is Canonical faithful?", i)
		}
	}
	return out, nil
}

// stepTo returns the first action of s whose successor has fingerprint want by fp, and that
// successor; false if none has.
func stepTo[S any](m Model[S], s S, want uint64, fp func(S) uint64) (int, S, bool) {
	action, next, found := -1, *new(S), false
	m.Next(s, func(a int, y S) bool {
		if fp(y) == want {
			action, next, found = a, y, true
		}
		return !found
	})
	return action, next, found
}

// successor returns the state that action leads to from s.
func successor[S any](m Model[S], s S, action int) (S, bool) {
	var next S
	found := false
	m.Next(s, func(a int, n S) bool {
		if a == action {
			next, found = n, true
		}
		return a < action // actions come in increasing order
	})
	return next, found
}

// Replay follows p in m and returns the states it passes through, the initial state first.
func Replay[S any](m Model[S], p Path) ([]S, error) {
	inits := m.Init()
	if p.Init < 0 || p.Init >= len(inits) {
		return nil, fmt.Errorf("replay: initial state %d of %d", p.Init, len(inits))
	}
	states := []S{inits[p.Init]}
	for i, a := range p.Actions {
		next, ok := successor(m, states[len(states)-1], a)
		if !ok {
			return states, fmt.Errorf("replay: step %d: action %d is not enabled", i, a)
		}
		states = append(states, next)
	}
	return states, nil
}

// Labels names the steps of p, with the model's labels when it has them.
func Labels[S any](m Model[S], p Path) ([]string, error) {
	states, err := Replay(m, p)
	if err != nil {
		return nil, err
	}
	l, _ := m.(LabeledModel[S])
	out := make([]string, len(p.Actions))
	for i, a := range p.Actions {
		if l != nil {
			out[i] = l.Label(states[i], a)
		} else {
			out[i] = fmt.Sprintf("action %d", a)
		}
	}
	return out, nil
}
