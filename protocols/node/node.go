package node

import "time"

// ID names a node of a cluster: 1, 2, ..., N.
type ID int

// Message is a protocol's own message type: any plain Go value.
type Message = any

// Node is one node's protocol logic: a deterministic state machine. The driver calls exactly
// one method per input, and the node answers only through env.
type Node interface {
	// Start is called once when the node boots and again after every restart; the node
	// recovers what it had synced with env.Load.
	Start(env Env)
	// Receive handles message m from peer from.
	Receive(env Env, from ID, m Message)
	// Timer handles the firing of the timer called name.
	Timer(env Env, name string)
	// Request handles an operation submitted by a client.
	Request(env Env, req Request)
}

// Env is what a node may do to the world during one step.
type Env interface {
	// Self is this node's ID; Nodes lists every node of the cluster in increasing order
	// (the slice is shared: do not modify it).
	Self() ID
	Nodes() []ID

	// Send queues m for peer to; Broadcast sends m to every node but this one. The world
	// keeps a copy of m of its own, deep (slices, maps, pointers): the node may go on
	// changing what m refers to after the step. A nil m fails the run.
	Send(to ID, m Message)
	Broadcast(m Message)

	// SetTimer arms (or re-arms) the timer called name to fire once after a duration the
	// driver picks in [min, max]; a range is how a protocol asks for a randomized timeout.
	// The run fails unless 0 <= min <= max.
	// CancelTimer disarms it; cancelling a timer that is not armed does nothing.
	SetTimer(name string, min, max time.Duration)
	CancelTimer(name string)

	// Store writes v under key. The write is volatile until Sync: a crash before Sync loses
	// it. Load reads the latest value stored under key, synced or not. Values are copied in
	// and out, so later changes to v do not reach storage. Storing nil deletes the key.
	Store(key string, v any)
	Load(key string) (v any, ok bool)
	Sync()

	// Output records v as an observable result of this node (a decision, a delivery): what
	// properties and checkers read.
	Output(v any)
	// Reply answers a client request.
	Reply(req Request, result any)

	// Choose returns a value in [0, n) picked by the driver. It is the only source of
	// randomness a protocol may use. The run fails for n < 1: there is nothing to choose.
	Choose(n int) int
}

// ClientID names a client of the cluster.
type ClientID int

// Request is an operation a client submits to a node. Seq numbers a client's operations;
// a client that retries an operation (after a timeout, or at another node) sends the same
// Seq again, so that a protocol can recognise the retry.
type Request struct {
	Client ClientID
	Seq    int
	Op     any
}
