// Package node is the protocol-facing API of Replica_IO: everything a protocol imports, and
// nothing of the simulator, so the same protocol code could run on a real network runtime.
//
// A protocol is a deterministic state machine per node. The driver (the simulator, the
// explorer, a test) calls one of the Node methods for each input:
//
//	Start    the node boots, or restarts after a crash; Env.Load reads what it had synced
//	Receive  a message from a peer
//	Timer    a timer set earlier with Env.SetTimer fired
//	Request  a client (or the layer above) submits an operation
//
// and the node acts on the world only through its Env: Send and Broadcast, SetTimer and
// CancelTimer, Store and Sync for durable state, Output for what checkers observe (decisions,
// deliveries), Reply for answers to clients, and Choose for any randomness it needs. Because
// the driver resolves every choice, a run is reproducible from its choice sequence alone.
//
// Messages and node states are the protocol's own Go types. They should be plain values:
// structs, slices, maps, strings and numbers, without pointers into shared memory, so that
// the driver can copy, compare and fingerprint them. A node state holding a func, a chan or a
// cycle of references is refused when the node boots, in campaigns as in explore, as a
// violation of plain-value that names the field. A message must not be changed after it
// is sent; the simulator copies messages that hold slices or maps at send time anyway.
//
// A Protocol value describes a protocol to the tools: how to build a node, its seeded-bug
// variants, its quorum, its properties (invariants, sometimes-properties, progress), its
// client workload and, for Byzantine faults, its message mutators.
//
// A protocol may be built from components (component.go): each is a Node with requests from
// the layer above, indications to it (Indicate, Parent), sub-components of its own (Sub,
// Ask), its own namespaces for messages, timers and storage, and its own properties (Module)
// checked wherever it is used. Compose assembles a tree of them (Part) into a Protocol, so
// that state machine replication over consensus over links is assembled, not hand-written;
// Scope, StateAt and Output.Path let properties see one component of the stack.
package node
