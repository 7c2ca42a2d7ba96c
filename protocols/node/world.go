package node

import "time"

// World is the read-only view of a run that properties check: node states, outputs and the
// clients' history. The simulator and the explorer both provide it.
type World interface {
	// Config is the run's cluster configuration.
	Config() Config
	// Now is the virtual time of the latest step (zero in untimed exploration).
	Now() time.Duration
	// State returns node id's current state, or nil while it is crashed.
	State(id ID) Node
	// Correct reports whether node id follows the protocol (it is not Byzantine).
	Correct(id ID) bool
	// Outputs lists every output of the run so far, in order; NewOutputs only those of
	// the latest step, so that a property can check each output once.
	Outputs() []Output
	NewOutputs() []Output
	// History lists the clients' operations so far, in invocation order.
	History() []Op
	// Up reports whether node id is running (not crashed; a paused node is up). A Byzantine
	// node is up too: Correct tells it apart.
	Up(id ID) bool
	// Healed reports whether the faults have healed (the run's liveness phase), and since
	// when; in untimed exploration it is always false.
	Healed() (bool, time.Duration)
}

// Output is one observable result of a node. Path names the component of a stack that
// produced it ("log/paxos"; empty for the root, and for a protocol that is not a stack).
type Output struct {
	Node  ID
	Time  time.Duration
	Path  string
	Value any
}

// Op is one client operation in the history: invoked at Call, answered at Return with Output.
// An operation whose outcome is unknown (the client gave up waiting, or the run ended first)
// has Done false: it may or may not have taken effect.
type Op struct {
	Client ClientID
	Seq    int
	Input  any
	Output any
	Call   time.Duration
	Return time.Duration
	Done   bool
}

// Workload describes the clients of a protocol: what they ask, and how they read answers.
// Each client runs its operations one at a time: it sends the request to a node, waits up to
// Timeout for a reply, and otherwise retries at another node with the same Seq.
type Workload struct {
	// Clients is the number of clients, Ops the operations each submits.
	Clients, Ops int
	// Timeout is how long a client waits for a reply before it retries elsewhere.
	Timeout time.Duration
	// Attempts is how many times a client sends an operation before it gives up and its
	// outcome is unknown; zero means the simulator's default. A protocol that cannot tell a
	// retry from a new operation (it keeps no table of answered requests) sets 1: its retry
	// at another node would perform the operation twice.
	Attempts int
	// Next draws client c's operation number seq; choose resolves its randomness.
	Next func(c ClientID, seq int, choose func(n int) int) any
	// Result reads a reply. ok false means the node declined (it is not the leader, say):
	// the client retries at once, at leader if it is not zero.
	Result func(reply any) (result any, ok bool, leader ID)
	// Matching is how many nodes must send the same result before a client accepts it (f+1
	// for a Byzantine fault-tolerant protocol, so that one correct node vouches for it); nil
	// means one reply suffices. With more than one, a client that times out sends its
	// request again to every node.
	Matching func(cfg Config) int
	// Spec is the sequential object the history must be linearizable against (see
	// Sequential; package kv has a register and a key-value store). Every workload has one:
	// a history no one checks is a check that silently does not run.
	Spec *Spec
}
