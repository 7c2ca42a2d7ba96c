package explore

import (
	"context"
	"strings"
	"testing"
	"time"
)

// stuckGrid is a grid whose steps from one cell never return once they have yielded their
// first successor (until the test lets them go, so that no goroutine outlives the test
// binary's other tests spinning); with initStuck, Init itself does not return.
type stuckGrid struct {
	grid
	at        cell
	initStuck bool
	release   chan struct{}
}

func (g stuckGrid) Init() []cell {
	if g.initStuck {
		<-g.release
	}
	return g.grid.Init()
}

func (g stuckGrid) Next(s cell, yield func(int, cell) bool) {
	if s != g.at {
		g.grid.Next(s, yield)
		return
	}
	first := true
	g.grid.Next(s, func(a int, n cell) bool {
		if !first {
			<-g.release
		}
		first = false
		return yield(a, n)
	})
}

func newStuck(t *testing.T, at cell) stuckGrid {
	g := stuckGrid{grid: grid{w: 6, h: 6, bad: cell{-1, -1}}, at: at, release: make(chan struct{})}
	t.Cleanup(func() { close(g.release) })
	return g
}

// A step that does not return ends the search, whatever the strategy and the number of
// workers, with the state named and a path that leads to it.
func TestAStepThatDoesNotReturnEndsTheSearchAsHung(t *testing.T) {
	at := cell{3, 2}
	for _, o := range []Options{
		{Workers: 1}, {Workers: 2}, {Workers: 2, Reduce: true}, {Strategy: DepthFirst},
	} {
		g := newStuck(t, at)
		o.StepTimeout = 50 * time.Millisecond
		start := time.Now()
		r := run(t, Model[cell](g), o)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%+v: the search took %v to see the hang", o, took)
		}
		if r.Complete || r.Stopped != "hung" || r.Hung == nil {
			t.Fatalf("%+v: complete %v, stopped %q, hung %+v", o, r.Complete, r.Stopped, r.Hung)
		}
		h := r.Hung
		if h.State != any(at) || h.Where != "" || h.Limit != o.StepTimeout || h.Path == nil {
			t.Fatalf("%+v: hang %+v", o, h)
		}
		states, err := Replay(Model[cell](g.grid), *h.Path)
		if err != nil || states[len(states)-1] != at {
			t.Errorf("%+v: the path %v leads to %v (%v), not to %v", o, h.Path, states, err, at)
		}
		if o.Strategy == BreadthFirst && len(h.Path.Actions) != at.x+at.y {
			t.Errorf("%+v: path of %d steps, want a shortest one (%d)", o, len(h.Path.Actions), at.x+at.y)
		}
	}
}

// A step that does not return on a walk before the search is reported as the walks' hang,
// with the walks' counts and the walk's path to the state.
func TestAStepThatDoesNotReturnOnAWalk(t *testing.T) {
	at := cell{5, 5}
	g := newStuck(t, at)
	r := run(t, Model[cell](g), Options{Probe: 100000, StepTimeout: 50 * time.Millisecond, Workers: 2})
	h := r.Hung
	if r.Stopped != "hung" || h == nil || h.Where != "probe" || h.State != any(at) || h.Path == nil {
		t.Fatalf("stopped %q, hang %+v", r.Stopped, h)
	}
	if r.Probe == nil || r.Unique != r.Probe.States || r.Transitions != r.Probe.Steps {
		t.Errorf("%d states and %d transitions, probe %+v: want the walks' counts", r.Unique, r.Transitions, r.Probe)
	}
	states, err := Replay(Model[cell](g.grid), *h.Path)
	if err != nil || states[len(states)-1] != at {
		t.Errorf("the path %v leads to %v (%v), not to %v", h.Path, states, err, at)
	}
}

// A hang in Init is reported as such, with no path.
func TestAnInitThatDoesNotReturnIsHung(t *testing.T) {
	for _, probe := range []int{0, 1000} { // the walks before the search start from Init too
		g := newStuck(t, cell{-1, -1})
		g.initStuck = true
		r := run(t, Model[cell](g), Options{StepTimeout: 50 * time.Millisecond, Probe: probe})
		if r.Stopped != "hung" || r.Hung == nil || r.Hung.Where != "init" || r.Hung.Path != nil {
			t.Fatalf("probe %d: stopped %q, hang %+v", probe, r.Stopped, r.Hung)
		}
	}
}

// The watchdog changes nothing in a search whose steps return.
func TestTheWatchdogLeavesAHealthySearchAlone(t *testing.T) {
	g := grid{w: 20, h: 20, bad: cell{19, 19}}
	for _, o := range []Options{{Workers: 2}, {Strategy: DepthFirst}} {
		plain := run(t, Model[cell](g), o)
		o.StepTimeout = time.Minute
		watched := run(t, Model[cell](g), o)
		if watched.Hung != nil || watched.Unique != plain.Unique || watched.Transitions != plain.Transitions ||
			watched.Stopped != plain.Stopped || watched.Violation == nil || len(watched.Violation.Path.Actions) != len(plain.Violation.Path.Actions) {
			t.Errorf("%+v: watched %+v, plain %+v", o, watched, plain)
		}
	}
	if _, err := Run(context.Background(), Model[cell](g), Options{StepTimeout: -1}); err == nil {
		t.Error("a negative StepTimeout was accepted")
	}
}

// slowGrid is a grid whose steps from one cell are far too slow, but return.
type slowGrid struct {
	grid
	at cell
}

func (g slowGrid) Next(s cell, yield func(int, cell) bool) {
	if s == g.at {
		time.Sleep(300 * time.Millisecond)
	}
	g.grid.Next(s, yield)
}

// A step that overstays and then returns finds the search over: the Result the caller holds
// does not change after Run returned (under -race, nothing else touches it either).
func TestASlowStepThatReturnsLeavesTheResultAlone(t *testing.T) {
	for _, o := range []Options{{Workers: 1}, {Workers: 2}, {Strategy: DepthFirst}} {
		g := slowGrid{grid: grid{w: 6, h: 6, bad: cell{-1, -1}}, at: cell{3, 2}}
		o.StepTimeout = 50 * time.Millisecond
		r := run(t, Model[cell](g), o)
		before := *r
		time.Sleep(400 * time.Millisecond) // the slow step returns meanwhile
		if r.Stopped != "hung" || r.Stopped != before.Stopped || r.Complete != before.Complete || r.Unique != before.Unique ||
			r.Transitions != before.Transitions || r.Hung != before.Hung || r.Hung.Path == nil {
			t.Errorf("%+v: at return %+v, later %+v", o, before, *r)
		}
	}
}

// stuckPair is the pair model, whose states are reduced by symmetry, with steps from one
// cell that do not return: the path to the hang is one of the model's own, not of the
// canonical states it went through.
type stuckPair struct {
	pair
	at      cell
	release chan struct{}
}

func (p stuckPair) Next(s cell, yield func(int, cell) bool) {
	if s == p.at {
		<-p.release
	}
	p.pair.Next(s, yield)
}

func TestAHangUnderSymmetryHasAPathOfTheModel(t *testing.T) {
	for _, at := range []cell{{0, 2}, {1, 2}} {
		for _, o := range []Options{{Workers: 1}, {Strategy: DepthFirst}} {
			p := stuckPair{pair: pair{k: 2}, at: at, release: make(chan struct{})}
			t.Cleanup(func() { close(p.release) })
			o.StepTimeout, o.Symmetry = 50*time.Millisecond, true
			r := run(t, Model[cell](p), o)
			if r.Hung == nil || r.Hung.Path == nil {
				t.Fatalf("%v %+v: hang %+v", at, o, r.Hung)
			}
			states, err := Replay(Model[cell](p.pair), *r.Hung.Path)
			if err != nil || p.Canonical(states[len(states)-1]) != at {
				t.Errorf("%v %+v: the path %v leads to %v (%v)", at, o, r.Hung.Path, states, err)
			}
		}
	}
}

// fuse is a grid where, right of the first column, the first action ("ignite") is a step
// that does not return, as a delivery that loops once its message is in flight. A walk may
// go by many such states, taking other steps, before it takes that one; taking the walk
// again for its path makes every step up to the one taken, ignite first, and hangs too.
type fuse struct {
	size    int
	release chan struct{}
}

func (f fuse) Init() []cell { return []cell{{0, 0}} }
func (f fuse) Next(s cell, yield func(int, cell) bool) {
	if s.x >= 1 {
		<-f.release
	}
	_ = (s.x+1 >= f.size || yield(1, cell{s.x + 1, s.y})) && (s.y+1 >= f.size || yield(2, cell{s.x, s.y + 1}))
}
func (f fuse) Walk(s cell, pick func(int) int) (cell, bool) {
	var next []cell
	if s.x+1 < f.size {
		next = append(next, cell{s.x + 1, s.y})
	}
	if s.y+1 < f.size {
		next = append(next, cell{s.x, s.y + 1})
	}
	if s.x >= 1 && pick(len(next)+1) == len(next) { // ignite
		<-f.release
	}
	if len(next) == 0 {
		return s, false
	}
	return next[pick(len(next))], true
}
func (f fuse) Fingerprint(s cell) uint64 { return mix(uint64(s.x)<<32 | uint64(s.y)) }
func (f fuse) Violated(cell) string      { return "" }

// A walk that hangs after going by states whose expansion hangs too loses its own path; the
// report then names the state a breadth-first search met first, with its shortest path,
// rather than a state with no way to reach it.
func TestAHangOnAWalkWhosePathHangsTooIsFoundByBreadth(t *testing.T) {
	f := fuse{size: 8, release: make(chan struct{})}
	t.Cleanup(func() { close(f.release) })
	r := run(t, Model[cell](f), Options{Probe: 1000, StepTimeout: 50 * time.Millisecond, Workers: 1})
	h := r.Hung
	if r.Stopped != "hung" || h == nil || h.Where != "probe" || h.Path == nil {
		t.Fatalf("stopped %q, hang %+v", r.Stopped, h)
	}
	if h.State != any(cell{1, 0}) || len(h.Path.Actions) != 1 || !strings.Contains(h.Why, "closer to the initial one") {
		t.Errorf("hang at %v after %d steps (%s): want the shallowest state that hangs, (1,0), one step away", h.State, len(h.Path.Actions), h.Why)
	}
}
