// Package explore checks a transition system exhaustively: it visits every state reachable
// from the initial states, checks the model's properties in each, and when one breaks,
// reports a path that leads there. This is explicit-state model checking, as done by TLC
// and SPIN, for models written in Go.
//
// # Models
//
// A model is any value with the methods of Model[S] for its state type S:
//
//	Init() []S                                     the initial states
//	Next(s S, yield func(action int, next S) bool) the enabled actions of s, with successors
//	Fingerprint(s S) uint64                        a 64-bit hash that identifies s
//	Violated(s S) string                           the first broken invariant, or ""
//
// The methods mention only S and builtin types, so a protocol package satisfies Model
// without importing this package. Extra methods are found by type assertion:
// SometimesModel (properties that must hold somewhere), ProgressModel (a progress
// predicate), SymmetricModel (Canonical, for symmetry reduction) and LabeledModel (action
// names for printed paths). See ExampleRun for a whole model in forty lines.
//
// Actions are numbered by the model. Next yields them in increasing order, and a path is an
// initial-state index followed by the action numbers taken (Path); Replay follows one.
//
// # Determinism
//
// Next must be a function of the state: no clocks, no global randomness, no Go map
// iteration order. The explorer samples steps as it goes (the initial states and about one
// new state in 1024) and expands each sample twice; if the two expansions differ, Run fails
// with an error that names the action and the state. A nondeterministic model would
// otherwise give counts and paths that mean nothing, without a sign.
//
// # Fingerprints
//
// The explorer stores 64-bit fingerprints, not states: about 11 to 21 bytes a state, since
// the visited set doubles at three-quarters full. Two states with one fingerprint count as
// one, and the second is never explored. A model whose state encodes injectively into 64
// bits (TwoPhase's does) can use a bijective mix of it and never collides. Otherwise, with
// a good 64-bit hash, the chance that any two of n states collide is about n²/2⁶⁵: 1 in
// 4·10⁷ for a million states, 1 in 10⁴ for sixty million. The set spreads fingerprints
// itself (Fibonacci hashing), so even a plain injective encoding works.
//
// # Search
//
// Breadth-first search (the default) goes level by level: a violation is found at the
// smallest depth, and its reported path is the lexicographically smallest of the shortest
// (by initial index, then action numbers). With Options.Workers above one, workers expand
// blocks of a level side by side and share the visited set (compare-and-swap inserts), and
// yet everything reported is the same for any number of workers: the set of states at each
// level does not depend on who found them, limits are applied between levels, and paths
// are rebuilt after the search by a second, sequential search up to the depth of what needs
// a path. That second search costs time only when there is something to show.
//
// Depth-first search follows one path at a time on one goroutine, and reads paths off its
// stack; they are not shortest. It holds only the visited set's fingerprints and the current
// path, so it needs a small fraction of breadth-first search's memory.
//
// # Random walks first
//
// A violation deep in a large space is the last thing breadth-first search meets: it must
// exhaust every shallower state first. With Options.Probe the explorer first takes random
// walks (probe.go): each from an initial state, each step an enabled action drawn uniformly
// (a WalkModel makes just that successor), the always-properties checked at every state.
// A walk that breaks one ends the search, and its path is shortened: steps (named by what
// they do, SleepModel's identities) are taken out while what remains still breaks the same
// property. The shortened path is short, often shortest, but not promised to be. Walk i is
// seeded by i and a round of walks reports its lowest-numbered violation, so the outcome is
// the same for any number of workers. Walks that find nothing leave no trace: the search
// after them is the search without them. They stop at Options.Probe distinct states, or
// sooner where they mostly revisit what they saw, which is a small space.
//
// With Options.Symmetry the explorer stores only canonical states (SymmetricModel), so it
// counts classes of equivalent states; paths are converted back into paths of the model. A
// reduction is sound only if equivalent states behave alike; a model that can test that on a
// state (SymmetryChecker, as the simulator's untimed world does by renaming nodes) is tested
// on the states the nondeterminism guard samples, and a failure stops the search with an
// error.
//
// # Partial-order reduction
//
// With Options.Reduce and a SleepModel (the untimed world is one), breadth-first search
// prunes by sleep sets: where two transitions commute, it explores one order of them and
// puts the other to sleep (sleep.go says how, after Godefroid). The untimed world calls two
// steps independent when both are local to different nodes: a delivery or a timer firing
// that changed only its own node's state and added messages, made no output, touched no
// client, history or budget (decided from what the step did, not from what the protocol
// declares). Crashes, restarts, client actions, drops and Byzantine deviations are dependent
// on everything.
//
// What it preserves. Sleep sets prune transitions, never states: a complete search stores
// and checks exactly the states of an unreduced one. So invariants (every always-property,
// the memory bound, linearizability of the history), deadlocks (states without successors
// are not pruned: a state's sleeping transitions are all enabled elsewhere), and
// sometimes-properties come out the same; the progress check builds the whole graph afresh
// after the search, unreduced, and is unaffected. Unique is the same, Transitions smaller;
// MaxDepth may be larger (a state may be first reached by a longer order), and paths are
// rebuilt by the unreduced sequential search, so they stay shortest. A search stopped early
// (MaxStates, MaxMemory, Timeout) covers a different part of the space than an unreduced one
// stopped at the same point: incomplete either way.
//
// Where it is off (and Result.Reduction says why): depth-first search; Symmetry (a
// canonical state renames the nodes and messages its sleep set names); MaxDepth (a state
// reached first by a longer order would be cut off); a duplicating network (messages are a
// set there, so a node that sends a copy of what another consumes does not commute with it).
//
// What it costs and saves. The table of sleep sets holds the states whose set is not empty
// (about 50-100 bytes each), and a level keeps the states reached again that owe transitions
// until the level ends. On the catalog's protocols in small bounds it saves 5-30% of the
// transitions, on Paxos's no-persist bounds 3% for 30% more peak memory, which is why the
// command line leaves it off unless asked (-por): quorum protocols deliver most messages to the node that collects a
// quorum, and steps at one node are dependent here even when they commute (promises from
// two acceptors, in either order, make the same proposer state), so most duplicate states
// are not pruned. Telling such same-node steps apart, or persistent sets that reduce states
// too, is what further reduction needs.
//
// # Simulator worlds
//
// Package sim's Untimed is a Model (with the sometimes, progress, labelled and symmetric
// extensions) of any node protocol: the same step core as the timed simulator, messages in
// flight and timers armed as actions, clients, crashes and Byzantine deviations under
// budgets. Its paths replay in the timed world too (sim.Untimed.ReplayTimed); see package
// sim for what it checks in every state.
//
// # Properties
//
// Always-properties (Violated) are checked in every state stored; the first violation
// stops the search. Sometimes-properties must hold in at least one reachable state; the
// result gives a witness path for each, or none for a property never reached. With
// Options.CheckProgress and a ProgressModel, the explorer also checks that from every
// reachable state some progress state can still be reached, and reports a shortest path to
// a state from which none can: a deadlock or a livelock. That check stores the whole graph.
//
// # Limits and cost
//
// Options bound depth, states, memory and time; a search cut short says why in
// Result.Stopped. Options.MaxMemory stops the search, incomplete, before the process's
// resident memory (with the visited set's next doubling counted ahead) passes the budget, so
// that a large exploration ends with a report instead of the kernel's out-of-memory killer;
// the command line's default is SafeMemory, three quarters of the machine's or control
// group's memory. Options.StepTimeout bounds each call into the model in wall time: protocol
// code that loops forever ends the search as "hung", with Result.Hung naming the state and
// the path to it (watch.go), instead of hanging it with nothing said; with a memory budget
// too, a call into the model still under way while the process is past the budget (a step
// that allocates without end) ends it the same way, within a quarter of a second, before the
// kernel would kill the process.
// Result reports states, transitions, depth, wall time, states per second and the peak
// resident memory. Options.Report is called about once a second with a Status, for a
// progress line.
package explore
