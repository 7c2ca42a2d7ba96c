// Package counter is the guide's protocol (docs/GUIDE.md): a replicated counter that clients
// add to and read, written in a module of its own against Replica_IO's public API, and run
// by every tool through the program in this module's main.go.
//
// Node 1 is the primary; it orders the clients' operations one at a time. For each, it sends
// the counter's new value, numbered, to every node (itself included), and answers the client
// once a majority has kept that copy durably. Any two majorities share a node, so every
// answered operation survives any minority of crashes.
//
// When the primary restarts it begins a new incarnation (an epoch, kept durably) and asks
// every node for its copy; the newest copy of a majority, by epoch and then number, holds
// every operation ever answered, and the primary serves again from there. Copies of a later
// epoch win over copies of an earlier one, so an update an old incarnation left half done is
// overwritten rather than mixed in.
//
// Properties: the clients' history is linearizable against a counter (a sequential
// specification of the protocol's own, Spec); no operation number is ever committed twice
// (commit-once); after faults heal the primary has recovered and answered every operation.
//
// Seeded bug: unsynced-vote, the primary counts its own copy before it is durable.
package counter
