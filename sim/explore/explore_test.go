package explore

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// run explores m and fails the test on an error.
func run[S any](t *testing.T, m Model[S], opts Options) *Result {
	t.Helper()
	r, err := Run(context.Background(), m, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r
}

// summary is the part of a Result that must not depend on the machine or on the number of
// workers.
type summary struct {
	Unique, Transitions int64
	MaxDepth            int
	Complete            bool
	Stopped             string
	Violation           *Violation
	Witnesses           []Witness
	Progress            *ProgressResult
}

func summarize(r *Result) summary {
	return summary{r.Unique, r.Transitions, r.MaxDepth, r.Complete, r.Stopped, r.Violation, r.Witnesses, r.Progress}
}

func TestCounts(t *testing.T) {
	tests := []struct {
		name        string
		run         func(Options) (*Result, error)
		opts        Options
		unique      int64
		transitions int64
		maxDepth    int
		stopped     string
	}{
		{"counter", explorer(counter{10}), Options{}, 10, 20, 5, ""},
		{"counter dfs", explorer(counter{10}), Options{Strategy: DepthFirst}, 10, 20, 9, ""},
		{"line", explorer(line{100}), Options{}, 100, 99, 99, ""},
		{"line max depth", explorer(line{100}), Options{MaxDepth: 10}, 11, 10, 10, "max-depth"},
		{"line max depth dfs", explorer(line{100}), Options{MaxDepth: 10, Strategy: DepthFirst}, 11, 10, 10, "max-depth"},
		{"grid", explorer(grid{5, 4, cell{-1, -1}}), Options{}, 20, 62, 7, ""},
		{"grid dfs", explorer(grid{5, 4, cell{-1, -1}}), Options{Strategy: DepthFirst}, 20, 62, 19, ""},
		{"pair", explorer(pair{2}), Options{}, 9, 12, 3, ""},
		{"pair symmetry", explorer(pair{2}), Options{Symmetry: true}, 6, 8, 3, ""},
		{"pair symmetry dfs", explorer(pair{2}), Options{Symmetry: true, Strategy: DepthFirst}, 6, 8, 4, ""},
		{"infinite max states", explorer(infinite{}), Options{MaxStates: 1000}, 1001, 1998, 500, "max-states"},
		{"infinite max states dfs", explorer(infinite{}), Options{MaxStates: 1000, Strategy: DepthFirst}, 1000, 1998, 999, "max-states"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.run(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Unique != tt.unique || r.Transitions != tt.transitions || r.MaxDepth != tt.maxDepth || r.Stopped != tt.stopped {
				t.Errorf("unique %d, transitions %d, depth %d, stopped %q; want %d, %d, %d, %q",
					r.Unique, r.Transitions, r.MaxDepth, r.Stopped, tt.unique, tt.transitions, tt.maxDepth, tt.stopped)
			}
			if r.Complete != (tt.stopped == "") {
				t.Errorf("complete = %t with stopped %q", r.Complete, r.Stopped)
			}
		})
	}
}

// explorer returns a function running Run on m, so that models of different state types
// share a table.
func explorer[S any](m Model[S]) func(Options) (*Result, error) {
	return func(o Options) (*Result, error) { return Run(context.Background(), m, o) }
}

// The number of workers changes nothing reported, paths included.
func TestWorkersAgree(t *testing.T) {
	models := map[string]func(Options) (*Result, error){
		"counter":  explorer(counter{1000}),
		"grid bad": explorer(grid{60, 60, cell{40, 30}}),
		"grid":     explorer(grid{200, 100, cell{-1, -1}}),
		"line":     explorer(line{5000}),
		"pair":     explorer(pair{300}),
		"loops":    explorer(loops{}),
		"infinite": explorer(infinite{}),
	}
	for _, name := range slices.Sorted(maps.Keys(models)) {
		for _, opts := range []Options{{}, {Symmetry: true}, {MaxDepth: 30}, {MaxStates: 5000}, {CheckProgress: true}} {
			if name == "infinite" && opts.MaxDepth == 0 && opts.MaxStates == 0 {
				continue
			}
			var want summary
			for _, workers := range []int{1, 2, 3, 8} {
				opts.Workers = workers
				r, err := models[name](opts)
				if err != nil {
					continue // an option the model does not support: the same for any workers
				}
				got := summarize(r)
				if workers == 1 {
					want = got
				} else if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %+v: workers %d gave %+v, workers 1 %+v", name, opts, workers, got, want)
				}
			}
		}
	}
}

func TestShortestCounterexample(t *testing.T) {
	g := grid{10, 10, cell{3, 2}}
	for _, workers := range []int{1, 2, 4} {
		r := run(t, g, Options{Workers: workers})
		want := &Violation{Property: "avoid bad", Path: Path{Init: 0, Actions: []int{0, 0, 0, 1, 1}}}
		if !reflect.DeepEqual(r.Violation, want) {
			t.Errorf("workers %d: violation %+v, want %+v", workers, r.Violation, want)
		}
		if r.Stopped != "violation" || r.Complete || r.MaxDepth != 5 {
			t.Errorf("stopped %q, complete %t, depth %d", r.Stopped, r.Complete, r.MaxDepth)
		}
	}
	for _, strategy := range []Strategy{BreadthFirst, DepthFirst} {
		r := run(t, grid{3, 3, cell{0, 0}}, Options{Strategy: strategy})
		want := &Violation{Property: "avoid bad", Path: Path{Init: 0, Actions: []int{}}}
		if !reflect.DeepEqual(r.Violation, want) || r.Unique != 1 || r.Transitions != 0 {
			t.Errorf("%v: a bad initial state gave %+v, %d states, %d transitions", strategy, r.Violation, r.Unique, r.Transitions)
		}
	}
	labels, err := Labels(g, Path{Actions: []int{0, 0, 0, 1, 1}})
	if err != nil || strings.Join(labels, " ") != "right right right up up" {
		t.Errorf("Labels = %q, %v", labels, err)
	}

	// Depth-first search finds a longer path, which still leads to the bad cell.
	r := run(t, g, Options{Strategy: DepthFirst})
	if r.Violation == nil {
		t.Fatal("depth-first search missed the bad cell")
	}
	states, err := Replay(g, r.Violation.Path)
	if err != nil || states[len(states)-1] != g.bad {
		t.Errorf("depth-first path ends at %v (%v), want %v", states[len(states)-1], err, g.bad)
	}
}

// With symmetry the search runs on canonical states, but the paths it reports are the
// model's own and replay without it.
func TestSymmetryPaths(t *testing.T) {
	p := pair{5}
	for _, strategy := range []Strategy{BreadthFirst, DepthFirst} {
		r := run(t, p, Options{Symmetry: true, Strategy: strategy})
		if r.Violation == nil {
			t.Fatalf("%v: no violation", strategy)
		}
		states, err := Replay(p, r.Violation.Path)
		if err != nil {
			t.Fatalf("%v: %v", strategy, err)
		}
		if last := states[len(states)-1]; p.Violated(last) != "apart" {
			t.Errorf("%v: path ends at %v, which is not a violation", strategy, last)
		}
		// The shortest: from the initial state {1 0}, right twice (in the canonical states,
		// from {0 1}, up twice).
		if want := (Path{Init: 2, Actions: []int{0, 0}}); strategy == BreadthFirst && !reflect.DeepEqual(r.Violation.Path, want) {
			t.Errorf("path %v, want %v", r.Violation.Path, want)
		}
	}
	if _, err := Run(context.Background(), counter{3}, Options{Symmetry: true}); err == nil {
		t.Error("symmetry on a model without Canonical: no error")
	}
}

func TestSometimes(t *testing.T) {
	for _, strategy := range []Strategy{BreadthFirst, DepthFirst} {
		r := run(t, line{10}, Options{Strategy: strategy})
		want := []Witness{
			{Property: "reaches 3", Path: &Path{Init: 0, Actions: []int{0, 0, 0}}, Steps: 3},
			{Property: "reaches 1000", Steps: -1}, // never reached
		}
		if !reflect.DeepEqual(r.Witnesses, want) {
			t.Errorf("%v: witnesses %+v, want %+v", strategy, r.Witnesses, want)
		}
	}
}

func TestProgress(t *testing.T) {
	tests := []struct {
		name  string
		run   func(Options) (*Result, error)
		stuck *Path
	}{
		{"livelock and deadlock", explorer(loops{}), &Path{Init: 0, Actions: []int{0}}},
		{"line", explorer(line{50}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.run(Options{CheckProgress: true})
			if err != nil {
				t.Fatal(err)
			}
			if r.Progress == nil || !reflect.DeepEqual(r.Progress.Stuck, tt.stuck) {
				t.Errorf("progress %+v, want stuck at %+v", r.Progress, tt.stuck)
			}
		})
	}
	r := run(t, loops{}, Options{})
	if r.Progress != nil {
		t.Errorf("progress checked without CheckProgress")
	}
}

func TestNondeterminismGuard(t *testing.T) {
	tests := []struct {
		name string
		run  func(Options) (*Result, error)
		want []string // in the error
	}{
		{"map order", explorer(newMapOrder()), []string{"model is not deterministic: action 1 from state", "gave two different successors"}},
		{"unordered", explorer(unordered{}), []string{"increasing order"}},
	}
	for _, tt := range tests {
		for _, strategy := range []Strategy{BreadthFirst, DepthFirst} {
			_, err := tt.run(Options{Strategy: strategy})
			if err == nil {
				t.Errorf("%s %v: no error", tt.name, strategy)
				continue
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s %v: error %q does not say %q", tt.name, strategy, err, w)
				}
			}
		}
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	r := run(t, infinite{}, Options{Timeout: 50 * time.Millisecond})
	if r.Stopped != "timeout" || r.Complete || r.Unique == 0 {
		t.Errorf("stopped %q, complete %t, unique %d", r.Stopped, r.Complete, r.Unique)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := Run(ctx, infinite{}, Options{Strategy: DepthFirst})
	if err != nil || r.Stopped != "canceled" {
		t.Errorf("canceled search: %+v, %v", r, err)
	}
}

func TestReport(t *testing.T) {
	var last Status
	calls := 0
	opts := Options{Timeout: 300 * time.Millisecond, ReportEvery: time.Millisecond, Report: func(s Status) {
		calls++
		last = s
	}}
	run(t, infinite{}, opts)
	if calls == 0 || last.Unique == 0 || last.Transitions == 0 || last.StatesPerSecond <= 0 {
		t.Errorf("%d reports, last %+v", calls, last)
	}
}

func TestBadOptions(t *testing.T) {
	for _, opts := range []Options{{Strategy: 7}, {MaxDepth: -1}, {Workers: -2}, {CheckProgress: true}} {
		if _, err := Run(context.Background(), counter{3}, opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
}

// A search whose time is up does not spend more rebuilding the paths of the
// sometimes-properties it reached: they are reported reached, with their length and no path;
// with time left, the path is rebuilt.
func TestWitnessesReachedWhenTimeIsUpKeepTheirLength(t *testing.T) {
	for _, late := range []bool{false, true} {
		e, err := newEngine[int](line{10}, Options{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if late {
			cancel() // the deadline passed as the search ended
		}
		e.ctx = ctx
		e.witnessDepth[0] = 3 // "reaches 3", as a breadth-first search records it
		r := &Result{}
		if err := e.rebuildPaths(r); err != nil {
			t.Fatal(err)
		}
		w := r.Witnesses[0]
		if w.Steps != 3 || (w.Path == nil) != late {
			t.Errorf("late %v: witness %+v", late, w)
		}
		cancel()
	}
}

// slowTree is a tree of fan-out 10 whose every expansion takes 2 ms: one block of its third
// level takes two seconds.
type slowTree struct{}

func (slowTree) Init() []int { return []int{1} }
func (slowTree) Next(s int, yield func(int, int) bool) {
	time.Sleep(2 * time.Millisecond)
	for k := range 10 {
		if !yield(k, s*10+k) {
			return
		}
	}
}
func (slowTree) Fingerprint(s int) uint64 { return mix(uint64(s)) }
func (slowTree) Violated(int) string      { return "" }

// A deadline stops a breadth-first search within a few states, not at the end of the block
// of states it is in, and the level cut short is not counted whole.
func TestATimeoutStopsInTheMiddleOfABlock(t *testing.T) {
	start := time.Now()
	r := run(t, slowTree{}, Options{Workers: 1, Timeout: 300 * time.Millisecond})
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("the search took %v to stop after a 300ms timeout", took)
	}
	if r.Complete || r.Stopped != "timeout" || r.Unique >= 11111 {
		t.Errorf("complete %v, stopped %q, %d states (the whole third level makes 11111)", r.Complete, r.Stopped, r.Unique)
	}
}
