// Package sim is Replica_IO's world: the nodes of a cluster, their durable storage, the
// messages in flight, armed timers, partitions, clients and the history of their operations,
// and the drivers that move it forward. Protocols know none of it; they see only their
// node.Env.
//
// # One world, many drivers
//
// Every nondeterministic decision of a run is a choice made by one Chooser: which delay a
// message gets, whether it is dropped or duplicated, when a node crashes and for how long,
// how the network splits, what a client asks, what a protocol's Env.Choose returns, what a
// Byzantine node does instead of the right thing. Drivers differ only in their chooser:
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
// fixed cut links, and Byzantine nodes (adversary.go). Swarm draws the profile itself from the
// run's choices. After the fault phase the run heals (startLiveness): partitions end, a core
// of at least a quorum is kept up, and the protocol must make progress, which the checker
// package judges through Monitors.
//
// Invariants are checked after every step; a violation stops the run and reports the
// property, the virtual time, the step, the last entries of the trace and every node's state.
// A protocol that panics, loops inside a step (StepBudget) or never stops (MaxEvents) fails
// its run with a clear reason; it never takes a campaign down.
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
// # Untimed runs
//
// Untimed is the same world as a transition system for the explorer (sim/explore): time is
// abstracted away, any message in flight may be delivered next and any armed timer may fire,
// and crashes, restarts and client requests are actions under budgets. A successor shares
// every node with its parent but the one that stepped, which alone is cloned (Clone) and
// fingerprinted (Hasher). Paths it finds replay with their whole trace (Untimed.Replay).
//
// # Values
//
// Hasher and Clone work on any plain Go value through functions compiled once per type:
// hashing follows pointers and ignores map order, and cloning copies what a value shares, so
// that nothing of a protocol's memory reaches a trace, a fingerprint or a message in flight
// by reference.
package sim
