package explore

// Model is a transition system: initial states, a successor function and invariants.
//
// Its methods mention only the state type S and builtin types, so a model package satisfies
// Model without importing this package: protocol code stays free of the explorer.
//
// A model must be deterministic: Init and Next return the same results for the same state
// every time they are called, and Fingerprint depends on the state's value alone. The
// explorer samples steps to check this (see Run). With more than one worker, the methods
// are called from several goroutines at once, so they must not write to memory they share
// (a scratch buffer in the model, say); reading the model's parameters is fine.
type Model[S any] interface {
	// Init returns the initial states. A path starts at an index into this slice.
	Init() []S

	// Next calls yield once for each action enabled in s, with the state it leads to, in
	// increasing order of action number, and stops early when yield returns false. Action
	// numbers identify the actions enabled in s: a path records them, and replaying a path
	// picks, in each state, the successor whose number comes next. The explorer keeps s and
	// the successors, so Next must change neither, not even after yielding.
	Next(s S, yield func(action int, next S) bool)

	// Fingerprint returns a 64-bit hash of s that identifies it: the explorer stores
	// fingerprints, not states, and treats two states with the same fingerprint as one.
	// An injective encoding of s mixed by a bijection (as TwoPhase does) never collides; a
	// good hash of a larger state collides for some pair among n states with probability
	// about n²/2⁶⁵: 1 in 4·10⁷ at a million states, 1 in 10⁴ at 60 million.
	Fingerprint(s S) uint64

	// Violated returns the name of the first always-property (invariant) that s breaks, or
	// "" when s satisfies them all.
	Violated(s S) string
}

// SometimesModel is a Model with sometimes-properties: each must hold in at least one
// reachable state, a guard against properties that hold only because nothing happens.
type SometimesModel[S any] interface {
	// SometimesProperties returns the properties' names; the index is the property number.
	SometimesProperties() []string
	// Sometimes reports whether s satisfies property number i.
	Sometimes(s S, i int) bool
}

// ProgressModel is a Model with a progress predicate. With Options.CheckProgress the
// explorer checks that from every reachable state some progress state stays reachable: a
// state from which none is reachable is stuck (deadlocked or caught in a livelock).
type ProgressModel[S any] interface {
	Progress(s S) bool
}

// SymmetricModel is a Model whose states may be reduced by symmetry, for example by
// permuting interchangeable nodes. Canonical returns one representative of the states
// equivalent to s, the same for every member of the class; with Options.Symmetry the explorer
// stores only representatives, so it counts equivalence classes (orbits), not states.
// Properties must not tell equivalent states apart.
type SymmetricModel[S any] interface {
	Canonical(s S) S
}

// SymmetryChecker is a SymmetricModel that can test, on a state, that its symmetry is real:
// that the states equivalent to s behave as s does. With Options.Symmetry the explorer tests
// the states it samples for determinism (see Run), and fails the search with the error of one
// that is not symmetric: a reduction that merged states that behave differently would hide
// what it merged.
type SymmetryChecker[S any] interface {
	CheckSymmetry(s S) error
}

// LabeledModel is a Model that names its actions for people reading a path.
type LabeledModel[S any] interface {
	// Label names the action numbered action, enabled in s.
	Label(s S, action int) string
}

// SleepModel is a Model that can say which of its transitions commute, for partial-order
// reduction with sleep sets (Options.Reduce). A transition is local to a node when it reads
// and changes only that node's part of the state, adds to what other nodes may later consume
// without taking from it, and breaks no property by its order: two local transitions of
// different nodes are independent (either order leads to the same state, and neither
// disables the other).
type SleepModel[S any] interface {
	// Reducible returns nil if the model's local transitions are independent as above, or
	// an error saying why they are not (the search then runs unreduced and says why).
	Reducible() error
	// NextSleep yields the successors of s, as Next does (without action numbers), except
	// those of the actions for which asleep returns true. For each successor it gives its
	// action's identity, which names the same action in every state where that action is
	// enabled and commutes with the steps taken, and the node the step was local to, or 0
	// for a step that was not local. An action with several successors (its step's
	// choices) yields them one after another, with one identity.
	NextSleep(s S, asleep func(id uint64) bool, yield func(next S, id uint64, node int32) bool)
}
