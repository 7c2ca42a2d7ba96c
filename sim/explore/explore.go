package explore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Run explores every state of m reachable from its initial states, within the limits of
// opts, checking the model's properties, and reports what it found.
//
// The error is for a broken model (one that is not deterministic, or a path that does not
// replay) or bad options; property violations are results, not errors.
func Run[S any](ctx context.Context, m Model[S], opts Options) (*Result, error) {
	e, err := newEngine(m, opts)
	if err != nil {
		return nil, err
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	e.ctx = ctx
	stop := context.AfterFunc(ctx, func() { e.stopped.Store(true) })
	defer stop()
	e.watch = newWatch[S](opts.StepTimeout, opts.MaxMemory)
	defer e.watch.stop()

	r := &Result{Reduction: e.reduction}
	h, err := e.supervised(e.watch, func() error { return e.search(r) })
	switch {
	case h != nil:
		var partial *Result
		if h.where != "" && h.where != "init" {
			partial = r // the strategy had ended: its counts are final
		}
		// The search's goroutines may still be using what it holds: nothing is freed.
		r = e.hangResult(h, partial)
	case err != nil:
		return nil, err
	}
	r.Wall = time.Since(e.start)
	if s := r.Wall.Seconds(); s > 0 {
		r.StatesPerSecond = float64(r.Unique) / s
	}
	r.PeakMemoryBytes = peakMemory()
	return r, nil
}

// search runs the strategy, then rebuilds paths and checks progress; it frees the visited
// set.
func (e *engine[S]) search(r *Result) error {
	probed, err := e.probe(r)
	switch {
	case probed || err != nil:
	case e.opts.Strategy == BreadthFirst:
		err = e.bfs(r)
	case e.opts.Strategy == DepthFirst:
		err = e.dfs(r)
	}
	if e.watch != nil && !e.phase.CompareAndSwap(phaseSearch, phaseFinish) {
		return errAbandoned // called hung: the caller has its result, and may use the set
	}
	defer e.set.free()
	if err != nil {
		return err
	}
	r.Complete = r.Stopped == ""
	e.set.free() // before finish, which may need memory of its own
	if e.mem.over.Load() {
		// Hand the last frontier back to the system, so that finish (which may rebuild
		// paths) runs under the same budget with what the search held returned.
		e.mem.release()
	}
	if probed {
		return nil // its path is the model's own, and there is nothing to check further
	}
	return e.finish(r)
}

// engine holds what both strategies share: the model and its optional parts, the visited
// set, the stop flag and the progress reporter.
type engine[S any] struct {
	m     Model[S]
	canon func(S) S // nil without symmetry
	some  SometimesModel[S]
	nSome int
	opts  Options

	set *fpSet
	mem memoryBudget
	// With partial-order reduction: the model's sleep-set view and the table of sleep
	// sets; both nil without. reduction says which, for the result.
	sleepy    SleepModel[S]
	tab       *sleepTable[S]
	reduction string
	ctx       context.Context
	stopped   atomic.Bool  // set when ctx is done: on timeout or cancellation
	watch     *watch[S]    // the step watchdog, nil without Options.StepTimeout
	phase     atomic.Int32 // with a watchdog, how far the search has come (see watch.go)
	start     time.Time

	// witnessDepth[i] is the depth at which sometimes-property i first held, or -1.
	witnessDepth []int
	// violationDepth is the depth of the first violation, or -1.
	violationDepth int
	// witnessPaths[i] is a path to a state where sometimes-property i holds, in normal
	// form (see concrete), or nil.
	witnessPaths []*Path
	// inits are the model's initial states as the probe's walks start from them (probe.go).
	inits []S

	reportMu   sync.Mutex
	reportNext atomic.Int64 // nanoseconds since start at which the next report is due
	progress   atomic.Int64 // transitions counted so far, for reports
	depth      atomic.Int64 // current level or path length, for reports
	branch     atomic.Int64 // successors per expanded state so far, for the memory budget
}

// outOfMemory reports whether the memory budget is spent, given that about states more
// states are to be expanded before the next check; once it is, the search is stopped as by
// its context, and stopReason says "max-memory".
func (e *engine[S]) outOfMemory(set *fpSet, states int) bool {
	if !e.mem.exceeded(set, states*int(e.branch.Load())) {
		return false
	}
	e.stopped.Store(true)
	return true
}

func newEngine[S any](m Model[S], opts Options) (*engine[S], error) {
	if opts.Strategy != BreadthFirst && opts.Strategy != DepthFirst {
		return nil, fmt.Errorf("explore: unknown strategy %v", opts.Strategy)
	}
	if opts.MaxDepth < 0 || opts.MaxStates < 0 || opts.Timeout < 0 || opts.Workers < 0 || opts.MaxMemory < 0 || opts.StepTimeout < 0 || opts.Probe < 0 {
		return nil, errors.New("explore: negative limit in options")
	}
	if opts.Workers == 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.ReportEvery <= 0 {
		opts.ReportEvery = time.Second
	}
	e := &engine[S]{m: m, opts: opts, start: time.Now(), violationDepth: -1}
	e.mem.limit = opts.MaxMemory
	e.branch.Store(16) // successors per state, until the first level says
	if opts.Symmetry {
		sym, ok := m.(SymmetricModel[S])
		if !ok {
			return nil, errors.New("explore: symmetry asked for, but the model has no Canonical method")
		}
		e.canon = sym.Canonical
	}
	if some, ok := m.(SometimesModel[S]); ok {
		e.some, e.nSome = some, len(some.SometimesProperties())
		e.witnessDepth = make([]int, e.nSome)
		e.witnessPaths = make([]*Path, e.nSome)
		for i := range e.witnessDepth {
			e.witnessDepth[i] = -1
		}
	}
	if opts.CheckProgress {
		if _, ok := m.(ProgressModel[S]); !ok {
			return nil, errors.New("explore: progress check asked for, but the model has no Progress method")
		}
	}
	if opts.Reduce {
		e.reduction = "sleep sets"
		sm, ok := m.(SleepModel[S])
		var err error
		if ok {
			err = sm.Reducible()
		}
		switch {
		case !ok:
			e.reduction = "off: the model does not say which transitions commute"
		case opts.Strategy != BreadthFirst:
			e.reduction = "off: depth-first search does not reduce"
		case opts.Symmetry:
			e.reduction = "off: with symmetry (a canonical state renames what its sleep set names)"
		case opts.MaxDepth > 0:
			e.reduction = "off: with a depth bound (with sleep sets a state may be reached first deeper than its depth, and the bound would cut it off)"
		case err != nil:
			e.reduction = "off: " + err.Error()
		default:
			e.sleepy, e.tab = sm, newSleepTable[S]()
		}
	}
	e.reportNext.Store(int64(opts.ReportEvery))
	e.set = newFPSet(opts.Workers) // last: its memory is freed by Run only
	return e, nil
}

// normal returns the state the explorer stores for s: s itself, or its canonical form.
func (e *engine[S]) normal(s S) S {
	if e.canon != nil {
		return e.canon(s)
	}
	return s
}

// initial returns the model's initial states in normal form, after checking that Init gives
// the same states twice.
func (e *engine[S]) initial() ([]S, error) {
	sl := e.watch.slot("init")
	sl.begin(*new(S), 0)
	a, b := e.m.Init(), e.m.Init()
	sl.end()
	if len(a) != len(b) {
		return nil, fmt.Errorf("model is not deterministic: Init gave %d states, then %d", len(a), len(b))
	}
	for i := range a {
		if e.m.Fingerprint(a[i]) != e.m.Fingerprint(b[i]) {
			return nil, fmt.Errorf("model is not deterministic: Init gave two different states at index %d", i)
		}
	}
	for i := range a {
		a[i] = e.normal(a[i])
	}
	return a, nil
}

// maybeReport calls Options.Report when a report is due. Any goroutine may call it; the
// due time is claimed with compare-and-swap so that each report is made once.
func (e *engine[S]) maybeReport() {
	if e.opts.Report == nil {
		return
	}
	now := int64(time.Since(e.start))
	due := e.reportNext.Load()
	if now < due || !e.reportNext.CompareAndSwap(due, now+int64(e.opts.ReportEvery)) {
		return
	}
	if !e.reportMu.TryLock() {
		return // the previous report is still being printed
	}
	defer e.reportMu.Unlock()
	elapsed := time.Duration(now)
	unique := e.set.len()
	e.opts.Report(Status{
		Transitions:     e.progress.Load(),
		Unique:          unique,
		Depth:           int(e.depth.Load()),
		Elapsed:         elapsed,
		StatesPerSecond: float64(unique) / elapsed.Seconds(),
	})
}

// stopReason says why ctx stopped the search.
func (e *engine[S]) stopReason() string {
	if e.mem.over.Load() {
		return "max-memory"
	}
	if errors.Is(e.ctx.Err(), context.DeadlineExceeded) {
		return "timeout"
	}
	return "canceled"
}

// finish rebuilds the paths that the search itself does not keep, and runs the progress
// check when asked.
func (e *engine[S]) finish(r *Result) error {
	if err := e.rebuildPaths(r); err != nil {
		return err
	}
	if e.opts.CheckProgress && r.Complete {
		p, err := e.checkProgress()
		if err != nil {
			return err
		}
		if p == nil { // stopped by ctx before it finished
			r.Complete, r.Stopped = false, e.stopReason()
		}
		r.Progress = p
	}
	return nil
}
