package explore

import (
	"fmt"
	"time"
)

// Strategy is the order in which the explorer visits states.
type Strategy int

const (
	// BreadthFirst explores level by level, so the first violation found has a shortest
	// path. It is the default and the only strategy that uses several workers.
	BreadthFirst Strategy = iota
	// DepthFirst follows one path as deep as it goes before backtracking. It holds only the
	// current path besides the visited set, and finds deep states early; its paths are not
	// shortest. It runs on one goroutine.
	DepthFirst
)

func (s Strategy) String() string {
	switch s {
	case BreadthFirst:
		return "bfs"
	case DepthFirst:
		return "dfs"
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// Options bound and shape a search. The zero value searches breadth-first with one worker
// per CPU and no limits.
type Options struct {
	Strategy Strategy

	// MaxDepth, when positive, is the depth beyond which states are not expanded: states
	// at depth MaxDepth are checked but their successors are not generated. With
	// DepthFirst the bound is on the current path, and because a state reached first on a
	// long path is not explored again from a shorter one, a bounded depth-first search may
	// miss states that a bounded breadth-first search finds.
	MaxDepth int

	// MaxStates, when positive, stops the search once it holds at least this many unique
	// states. Breadth-first search checks it between levels, so that the states counted do
	// not depend on the number of workers; it may therefore overshoot by up to one level.
	MaxStates int64

	// Timeout, when positive, stops the search after this long. A search cut short by time
	// reports what it covered, which depends on the machine and, with several workers, on
	// scheduling.
	Timeout time.Duration

	// MaxMemory, when positive, stops the search before the process holds more than this
	// many bytes of resident memory, counting the visited set's next doubling before it
	// happens. The search is then incomplete, stopped by "max-memory", and reports what it
	// covered up to that point; like Timeout, where exactly it stops depends on the machine
	// (the garbage collector's timing) and, with several workers, on scheduling. The checks
	// run between blocks of states, so a budget below what one block takes is overshot by
	// that much.
	MaxMemory int64

	// StepTimeout, when positive, bounds each call into the model: a state whose expansion
	// (its steps, and the checks of what they lead to) has not returned after this long in
	// wall time ends the search with Stopped "hung" and Result.Hung naming the state and the
	// path to it. It is for protocol code that loops forever, which would otherwise hang the
	// search silently; the goroutine caught in the loop is left running (see watch.go).
	StepTimeout time.Duration

	// Workers is the number of goroutines that expand a breadth-first level; 0 means
	// GOMAXPROCS. Results do not depend on it.
	Workers int

	// Symmetry stores only canonical states, for models that implement SymmetricModel.
	Symmetry bool

	// CheckProgress checks the progress predicate of a ProgressModel after a complete
	// search. It stores the whole state graph (about 16 bytes per state plus 4 per
	// transition), so it is meant for small configurations.
	CheckProgress bool

	// Reduce turns on partial-order reduction by sleep sets, for models that implement
	// SleepModel, in breadth-first search without Symmetry or MaxDepth (elsewhere the
	// search runs unreduced and Result.Reduction says why). Sleep sets skip transitions,
	// never states: a complete search stores and checks every state the unreduced one does,
	// so invariants, sometimes-properties and the progress check (which builds the whole
	// graph afresh after the search) are judged alike; only Transitions is smaller, MaxDepth
	// may be larger (a state first reached by a longer path), and a search stopped early by
	// MaxStates, MaxMemory or Timeout has covered a different part of the space.
	Reduce bool

	// Probe, when positive, is the number of distinct states that random walks taken before
	// the search may reach, to meet a violation sooner than an exhaustive search would (see
	// probe.go), at about the cost of a search of that many states: a walk that
	// breaks an always-property ends the search with it, its path shortened but not
	// necessarily shortest; otherwise the search runs as it would without the walks. The
	// walks are seeded by their number, so the outcome does not depend on Workers; they
	// stop early once they find few new states.
	Probe int

	// Report, when set, is called every ReportEvery (default one second) while the search
	// runs, never twice at once, for a progress line on a terminal.
	Report      func(Status)
	ReportEvery time.Duration
}

// Status is a snapshot of a running search, handed to Options.Report.
type Status struct {
	Transitions     int64 // successors generated so far
	Unique          int64 // distinct states stored so far
	Depth           int   // the level being expanded, or the current path length
	Elapsed         time.Duration
	StatesPerSecond float64 // unique states per second
}

// Path is a run of the model: an initial state and the actions taken from it. With
// symmetry the explorer still reports paths of the model itself, not of its quotient, so
// Replay needs no symmetry to follow them.
type Path struct {
	Init    int   `json:"init"`    // index into Init()
	Actions []int `json:"actions"` // action numbers, as Next yields them
}

// Violation is an always-property broken in a reachable state.
type Violation struct {
	Property string
	Path     Path // a shortest path to the state, with breadth-first search (unless a probe's walk found it)
}

// Witness reports whether a sometimes-property holds in some reachable state.
type Witness struct {
	Property string
	// Path is a shortest path to a state where it holds (a prefix of the violation's path
	// when a probe's walk found the violation); nil if it was never reached, or
	// if the search was stopped (Options.Timeout, a canceled context) before the path was
	// rebuilt: then Steps says it was reached all the same.
	Path *Path
	// Steps is the length of a shortest path to where it holds (breadth-first; depth-first:
	// of the path found), or -1 if it was never reached.
	Steps int
}

// Result is what a search found and what it cost.
type Result struct {
	Unique          int64 // distinct states stored (orbits, with symmetry)
	Transitions     int64 // successors generated, including those already stored
	MaxDepth        int   // deepest level (breadth-first) or longest path (depth-first) reached
	Wall            time.Duration
	StatesPerSecond float64 // Unique / Wall
	PeakMemoryBytes int64   // the process's peak resident memory, when the system tells
	// StoreBytes is the memory the search held for states when it ended: the visited set's
	// table and the frontier blocks (breadth-first) or the stack (depth-first). Divided by
	// Unique, it is the cost of a state, whatever else the process holds.
	StoreBytes int64
	// Reduction says how the search was reduced: "" (not asked), "sleep sets", or "off: "
	// and why a reduction asked for did not apply.
	Reduction string

	// Complete reports that every reachable state was explored. Otherwise Stopped says
	// why not: "violation", "max-depth", "max-states", "max-memory", "timeout",
	// "canceled" or "hung" (a call into the model overstayed Options.StepTimeout).
	Complete bool
	Stopped  string
	// Hung is the call that did not return, when Stopped is "hung".
	Hung *Hang

	Violation *Violation // nil when none was found
	Witnesses []Witness  // one per sometimes-property, in the model's order

	// Probe is what the walks before the search did; nil without Options.Probe. When one
	// broke a property, Violation is its (shortened) path, Unique and Transitions count the
	// walks' states and steps, and MaxDepth is the path's length, for the search did not run.
	Probe *ProbeResult

	// Progress is nil unless Options.CheckProgress ran; then Progress.Stuck is a shortest
	// path to a state from which no progress state is reachable, or nil.
	Progress *ProgressResult
}

// ProgressResult is the outcome of the progress check.
type ProgressResult struct {
	Stuck *Path
}
