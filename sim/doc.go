// Package sim is Replica_IO's world: the nodes of a cluster, their durable storage, the
// messages in flight, armed timers, partitions, clients and the history of their operations,
// and the drivers that move it forward. Protocols know none of it; they see only their
// node.Env.
//
// # One world, two meanings of time
//
// There is one world, and two drivers that differ only in what time means. Both step nodes
// through one step core (stepCore, core.go), which:
//
//   - delivers an input to a node (Start, Receive, Timer, Request) and collects its effects
//     through one node.Env: sends, timers, storage (a write is durable once synced), outputs,
//     replies, and Choose;
//   - counts the step's effects against the step budget (step-budget), recovers a panic as a
//     violation that says where (no-panic), and refuses a value that is not plain
//     (plain-value, see Values below);
//   - records outputs in order, and the clients' operations and answers in the history, with
//     a Seq per client, read through the workload's Result (declines retried, Matching
//     answers counted).
//
// A property therefore reads the same node.World under both drivers: Outputs in the order
// made, NewOutputs the outputs of the step just taken (those of Start in the initial states),
// History, Correct, Up, State. What differs is the core's timing, a small interface: what a
// send, a timer, a reply and the protocol's Choose mean.
//
//	timed (World)      a send is scheduled with a delay (or dropped, duplicated, cut off by
//	                   a partition), a timer with a duration, a reply reaches its client
//	                   after a delay; every decision is a Chooser's
//	untimed (Untimed)  a send stays in flight and a timer armed until an action delivers or
//	                   fires it; a client reads a reply at once; every choice branches
//
// # Choosers
//
// Every nondeterministic decision of a timed run is a choice made by one Chooser: which delay a
// message gets, whether it is dropped or duplicated, when a node crashes and for how long,
// how the network splits, what a client asks, what a protocol's Env.Choose returns, what a
// Byzantine node does instead of the right thing:
//
//	NewSeeded(seed)      campaigns: one PRNG stream per Purpose, so streams do not shift each other
//	NewRecorded(choices) replay and shrinking: the choices a capsule holds
//	simtest.Chooser(t)   property tests: rapid draws every choice, and shrinks a failing schedule
//
// Zero is always the benign answer (no fault, the shortest delay, the first option), so a
// shrinker that moves choices toward zero removes faults instead of adding them. Every run
// records its choices (Result.Choices): a run is its choice sequence.
//
// # Timed runs
//
// Run simulates a Config in virtual time: a discrete-event loop over a queue of events
// ordered by time and then by scheduling order, so the order is total and the run
// deterministic. A Profile sets the faults: a delay distribution, drops, duplicates,
// reordering, partitions of four shapes (a split, an isolated node, one-way links, partial
// connectivity) that heal after a while, crashes that lose volatile state and unsynced writes
// and restart from durable storage, crashes right after a step, pauses, timer clock skew,
// fixed cut links, Byzantine nodes (adversary.go), and storage faults and whole-cluster
// crashes (disk.go: a read back altered, a sync torn by a crash, a sync that lied, a full disk,
// a slow one), which fire only within what the protocol declares it survives
// (node.Tolerance). How many nodes may be down at once is DownBudget. Swarm draws the profile
// itself from the run's choices. After the fault phase the run heals (startLiveness): partitions end, a core
// of at least a quorum is kept up, and the protocol must make progress, which the checker
// package judges through Monitors.
//
// Invariants are checked after every step; a violation stops the run and reports the
// property, the virtual time, the step, the last entries of the trace and every node's state.
// A protocol that panics, loops inside a step (StepBudget) or runs away (MaxEvents) fails
// its run with a clear reason; it never takes a campaign down. A step that loops without
// effects, which no budget counts, is caught from outside the run: Watched (watched.go) runs
// it on a goroutine of its own under a wall-clock limit, the world saying in a few atomic
// words which event it is in, and describes a run that overstays as a Stuck, a violation of
// PropHang that names the event, its node, what it delivered and the protocol's frame where
// the goroutine loops. Campaigns, replay and simtest all watch their runs through it, so they
// say the same of the same run; the stuck goroutine cannot be stopped, and they start no more
// runs after it.
//
// Every run has a trace hash, folded from every entry of its trace (what happened, where, to
// which message), so two runs can be compared at a glance and a replay can tell whether it
// followed the recorded run.
//
// # Guided runs
//
// A Search is a guided search over runs, as Go's fuzzer searches over inputs: its corpus holds
// runs that reached coverage no run before them reached (Coverage: a signature of every step,
// or the protocol's abstract state), and each new run mutates one of them (Mutate: crash a
// node right after one of its steps, add or drop a fault, swap two deliveries, splice two
// runs). A mutated run is driven by a Guided chooser, which answers each event's choices from
// a Plan — the parent's choices, edited, filed under the events that made them — and the rest
// from a seeded stream. Every mutated run is one the scenario's own profile can produce; a
// search is deterministic, and needs no more than its first seed. `replica run -guided` and
// simtest.Guided run one.
//
// # Untimed runs: what the explorer checks
//
// Untimed is the world as a transition system for the explorer (sim/explore). In every state
// any message in flight may be delivered next (in any order, or per link in order, with
// Ordered), and any armed timer may fire; with Duplicate a message may also be delivered and
// kept, with Lossy dropped. The other actions spend budgets (UntimedOptions):
//
//   - crashes (Crashes), and restarts of crashed nodes, from what they synced;
//   - client operations (Requests): an idle client submits its next operation, drawn by the
//     workload's Next with each of its choices explored, to each of the clients' targets
//     (Explore.Targets); each client numbers its own operations. Clients that have not
//     begun differ only in their IDs, so only the first of them is offered (this assumes a
//     protocol does not order clients by ID number);
//   - client timeouts (Timeouts): a client stops waiting and sends its operation again
//     elsewhere, or gives up on it (its outcome unknown), as the timed client does; a node
//     that declines an operation has the client send it again, to the leader it names;
//   - the Byzantine nodes' deviations (Faulty, Byzantine): a message in flight mutated by
//     the protocol's mutators (the timed adversary's mutateWith, equivocation when one peer's
//     copy is changed and not another's), withheld, or an old one replayed; a reply withheld
//     or mutated. A Byzantine node runs the correct code otherwise, as in the timed world.
//
// Start's choices give several initial states (one per combination, up to MaxInitial); every
// other step that makes choices branches into one successor per combination.
//
// Every transition is judged as the timed world judges a step: the protocol's invariants on
// the state the step left and its own new outputs, the memory bound (MaxSize, memory-bound),
// and the clients' history against the workload's specification (a HistoryCheck that package
// scenarios wires to the linearizability checker). A history that is not linearizable stays
// so however it goes on, so judging every state finds a violation where it first happens,
// and the end of every path is judged like any state. A client reads a reply at once: that
// only narrows the operation's interval, so a history that fails with later answers fails
// with earlier ones too, and every later point at which the client could go on is an action
// of its own. The history's times are a logical clock: the order of calls and answers is
// what linearizability reads. A step that panics, exceeds the step budget or makes a value
// that is not plain leads to a state that is that violation, with its path.
//
// A state's parts are hashed apart (each node, each message, the clients, the history, the
// outputs): a successor shares every node with its parent but the ones that stepped, which
// alone are cloned (Clone) and re-hashed (Hasher). The fingerprint holds the step's verdict,
// not which outputs were new, so two paths to one state are one state when they are judged
// alike. Of the history it holds the operations and their linearization frontier, not their
// order and times (histsum.go): histories that no continuation can tell apart by
// linearizability are one, and properties are tested not to read the order (history-order).
//
// With symmetry (symmetry.go), for protocols that declare Explore.Symmetric, the explorer
// stores one state per class of states that differ by a renaming of the nodes of one role
// (clients' targets, the others, the Byzantine nodes): every node.ID in states, storage,
// messages, outputs and client records is renamed by the value compiler, and a type that
// holds IDs in another form renames itself (Renamer). CheckSymmetry tests on sampled states
// that renamed states behave alike; a protocol that does not is refused.
//
// Paths replay with their whole trace (Untimed.Replay), which is how `replica replay` re-runs
// an explorer's capsule, through the same step core.
//
// # The two worlds held together
//
// ReplayTimed (timedreplay.go) re-runs an untimed path in the timed world: a script takes the
// path's events out of the World's own event queue in the path's order, and the World's own
// code dispatches them. SameSteps compares the two traces step by step. The differential test
// (package scenarios, and generated protocols here) asks that every violation seeded runs find
// is found by the explorer, and that every explorer counterexample replays in the timed world
// to the same violation. (The comment at the top of timedreplay.go says why a script rather
// than delays chosen to make the timed world's clock follow the path.)
//
// # Values
//
// Hasher and Clone work on any plain Go value through functions compiled once per type:
// hashing follows pointers and ignores map order, and cloning copies what a value shares, so
// that nothing of a protocol's memory reaches a trace, a fingerprint or a message in flight
// by reference. Types are known by package path and name. A value that is not plain (a
// func, a channel, a cycle of references) cannot be hashed or copied: hashing and copying
// count the references they follow, so that a cycle ends in an error that names the type and
// the field path to the trouble (ValueError) instead of a stack overflow, which no recover
// would catch.
package sim
