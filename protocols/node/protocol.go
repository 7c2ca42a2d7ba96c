package node

import "time"

// Protocol describes a protocol to the tools: the simulator, the explorer and the command line.
type Protocol struct {
	Name    string
	Summary string

	// New returns node id of a cluster configured by cfg, before Start. It is called at boot
	// and again at every restart (the old state is lost with the crash).
	New func(cfg Config, id ID) Node

	// DefaultN is the cluster size when a scenario does not set one; MinN the smallest
	// size the protocol makes sense with.
	DefaultN, MinN int
	// Quorum is the number of nodes that must be up and connected for the protocol to make
	// progress in a cluster of n (a majority for crash-tolerant protocols).
	Quorum func(n int) int
	// Essential lists the nodes the protocol cannot make progress without (a fixed primary,
	// a coordinator); nil for none. Once faults heal, a run restarts them and keeps them up,
	// beside a quorum, before it demands progress.
	Essential func(cfg Config) []ID
	// MaxFaulty is the number of Byzantine nodes the protocol tolerates in a cluster of n;
	// nil for protocols that tolerate crash faults only.
	MaxFaulty func(n int) int
	// Tolerates says how many nodes may be down at once (see Tolerance); the zero Tolerance
	// is what Quorum implies.
	Tolerates Tolerance

	// Bugs are the seeded-bug variants, each a small named change next to the correct code.
	Bugs []Bug

	// Invariants must hold after every step; Sometimes must each happen in at least one run
	// of a campaign; Progress says what is still pending (nothing: progress was made), and is
	// demanded within a bound once faults heal.
	Invariants []Invariant
	Sometimes  []Sometimes
	Progress   func(w World) (pending []string)
	// Liveness are further properties demanded once faults heal, each with its own name:
	// "eventually" (what Pending lists must empty within the liveness bound) or, with Stable,
	// "eventually always" (once it empties it must stay empty for that long: a leader stays
	// elected, a failure detector stops suspecting correct nodes for good).
	Liveness []Liveness
	// Advance measures progress while faults persist, for scenarios that promise it (a
	// quorum stays connected): a count that changes whenever the protocol gets something done
	// (entries committed, a heartbeat round a quorum acknowledged). A scenario's watchdog
	// fails a run in which it stands still too long while work is pending. nil counts the
	// answered client operations and the outputs.
	Advance func(w World) int

	// Workload generates the clients' operations; nil for protocols without clients.
	Workload *Workload

	// Streamed says that nothing of the protocol reads a run's outputs or client history
	// whole: its properties judge the latest step's outputs (World.NewOutputs), remember what
	// they need of earlier ones themselves (the simulator's Memo), and count with OutputCount
	// and OpCount. A simulated run then forgets each step's outputs once the next step begins,
	// and the operations of its history once the linearizability checker has judged them, so
	// that its memory stays flat however long it runs (an hour of Raft under load). In such a
	// run World.Outputs panics, which the run reports as a failure, rather than answer with
	// part of the outputs; World.History holds the operations not yet judged. Runs that keep a
	// full trace (replays, the viewer) keep everything, as does the explorer.
	Streamed bool

	// Timing is the protocol's sense of time, which scenarios scale their phases by.
	Timing Timing

	// Mutators alter a Byzantine node's outgoing messages (bump a ballot, change a value);
	// each returns the mutated message and false if it does not apply to m.
	Mutators []Mutator

	// Explore bounds the protocol for exhaustive exploration: the parameters that make its
	// state space finite (a bound on ballots, say) and the default budgets of crashes and
	// client requests.
	Explore Explore

	// Convergence lists the protocol's replicated objects whose replicas must converge
	// (strong eventual consistency, for eventually consistent protocols such as CRDTs); the
	// convergence checker (package checker) judges every run against them.
	Convergence []Convergent

	// Components lists the paths of the protocol's sub-components ("log", "log/paxos",
	// "links"), for the tools to show its structure; empty for a protocol of one component.
	Components []string

	// Abstract, if set, summarizes the cluster's state for guided campaigns (`replica run
	// -guided`): a small plain value in the terms the protocol's correctness turns on (who
	// leads which term, how the logs of the servers relate, which phase each proposer is in),
	// not raw numbers that differ in every run. It is computed after every step of a guided
	// run; a run that reaches a summary, or a change from one summary to another, that no
	// earlier run reached is kept and mutated further. Without it, a guided campaign uses the
	// framework's own signature of each step (what a node handled and sent, and how the fields
	// of its state changed), which needs nothing from the protocol. Other runs never call it.
	Abstract func(w World) any

	// MaxSize bounds the Size of every node's state (see Sizer) in a cluster of cfg; nil for
	// no bound (a bound of zero or less is refused). A node that outgrows it has a memory leak: a table that is never pruned,
	// a log that is never compacted.
	MaxSize func(cfg Config) int

	// composeErr is what Compose found wrong with the protocol's stack of components;
	// Validate reports it.
	composeErr error
}

// Liveness is a property judged after faults heal (see Protocol.Liveness).
type Liveness struct {
	Name string
	// Pending lists what is still missing; nothing means the property holds now.
	Pending func(w World) []string
	// Stable, when positive, makes the property "eventually always": once it holds, it must
	// hold at every step for Stable without a break. A relapse is a violation, reported with
	// what became pending again.
	Stable time.Duration
}

// Explore is how the explorer bounds a protocol by default.
type Explore struct {
	Params            map[string]int
	Crashes, Requests int
	// Targets are the nodes clients send requests to (empty: every node).
	Targets []ID
	// Clients is the number of clients explored (zero: the workload's); fewer clients
	// interleave fewer operations.
	Clients int
	// Symmetric says that nodes of the same role are interchangeable (no node ID orders
	// anything, and node IDs are held as ID values), so that states may be reduced under
	// permutations of the nodes. The roles are the clients' targets, the other nodes, and
	// the Byzantine nodes: with Targets [1], nodes 2 and 3 may be exchanged.
	Symmetric bool
	// UnorderedOutputs says that the protocol's properties give the same verdict whatever
	// the order in which different nodes' outputs interleave (each node's own outputs stay
	// in the order it made them): agreement and validity over decisions, say, but not a
	// property over one global log of outputs. States that differ only in that interleaving
	// are then stored once, which halves single-decree Paxos's space. The explorer tests the
	// claim on every state whose step made outputs and on one in eight of the others, judging
	// each again with its earlier outputs grouped by node (both ways), and fails the search
	// (unordered-outputs) where a verdict differs: it catches a property that reads which
	// node output first, not every property that reads the order.
	UnorderedOutputs bool
}

// Sizer is implemented by node states that can report their size, in a protocol-defined
// measure (log entries, table rows, bytes), for memory bounds.
type Sizer interface {
	Size() int
}

// Config is a cluster configuration, the same for every node of a run.
type Config struct {
	N   int    // number of nodes
	F   int    // Byzantine nodes the run includes (0 for crash-only runs)
	Bug string // the seeded-bug variant, "" for the correct protocol
	// Params are protocol-specific knobs a scenario or the explorer sets (a bound on ballots
	// for exhaustive exploration, a snapshot threshold); absent keys take the protocol's
	// defaults.
	Params map[string]int
}

// Param returns the parameter called name, or def when it is not set.
func (c Config) Param(name string, def int) int {
	if v, ok := c.Params[name]; ok {
		return v
	}
	return def
}

// Bug is a seeded-bug variant: a deliberate, documented mistake that the testbed must find.
type Bug struct {
	Name    string
	Summary string
	// Scenario is the named scenario that finds the bug; `replica run -bug B` runs it
	// when no scenario is given.
	Scenario string
	// Explore, when not nil, bounds the exploration of this bug in place of the protocol's
	// Explore (`replica explore -bug B`), as Scenario does for campaigns: a bug may need a
	// larger configuration (a second coordinator, a third operation) than the correct
	// protocol is explored in by default.
	Explore *Explore
}

// Bug returns the variant called name, or false.
func (p *Protocol) Bug(name string) (Bug, bool) {
	for _, b := range p.Bugs {
		if b.Name == name {
			return b, true
		}
	}
	return Bug{}, false
}

// Invariant is an "always" property: Check returns a non-nil error describing the violation.
type Invariant struct {
	Name  string
	Check func(w World) error
	// OnOutput declares that Check can fail only right after a step that output something:
	// it judges the step's new outputs (World.NewOutputs) and returns nil when there are
	// none, as an agreement check does. A driver may then skip it after every other step
	// (most steps output nothing), which gives the same verdicts, step for step.
	OnOutput bool
	lift     *lifted // how Compose made Check from a component's own check (see Bound)
}

// Sometimes is a property that must hold in at least one run of a campaign: a guard against
// invariants that hold only because nothing ever happens.
type Sometimes struct {
	Name    string
	Reached func(w World) bool
	// Required fails a campaign in which no run reached it; otherwise it is coverage only.
	Required bool
	// OnOutput declares that Reached can turn true only right after a step that output
	// something (it reads the outputs, as "something was decided" does): a driver may skip
	// it after every other step, with the same result (see Invariant.OnOutput).
	OnOutput bool
	lift     *lifted // how Compose made Reached from a component's own (see Bound)
}

// Timing gives the protocol's time scale: the network delay it is designed for and the
// timeouts it uses. Scenarios derive fault-phase lengths and liveness bounds from it.
type Timing struct {
	// Delay is a typical one-way message delay.
	Delay time.Duration
	// Settle is how long the protocol needs, after faults heal, to make progress: a liveness
	// bound is a small multiple of it.
	Settle time.Duration
}

// Mutator changes a message sent by a Byzantine node. choose resolves its randomness
// through the driver, so mutated runs replay exactly.
type Mutator struct {
	Name   string
	Mutate func(m Message, choose func(n int) int) (Message, bool)
}
