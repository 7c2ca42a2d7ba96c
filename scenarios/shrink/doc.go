// Package shrink minimizes a failing run while the same property keeps failing: fewer
// faults, fewer events, fewer client requests, fewer nodes.
//
// A run is its choice sequence (see sim.Chooser), so shrinking a failure is editing that
// sequence and re-running it. Zero is every choice's benign answer (no fault, the shortest
// delay, the first option), so an edit that zeroes choices removes faults rather than adding
// them; an edit that deletes choices makes the ones after it happen earlier.
//
// The shrinker splits the sequence by purpose (network, faults, workload, protocol ...) and
// edits each stream on its own: dropping a duplicate message shifts the later network choices
// but leaves the crashes where they were, so far more edits keep the failure than on one
// interleaved sequence. It runs delta debugging (Zeller's ddmin) over each stream — delete or
// zero halves, quarters, ... single choices — then lowers the values that remain, and it
// also tries smaller configurations: fewer nodes, clients and operations, a shorter fault
// phase. An edit is kept when the run still violates the same property and is strictly
// smaller, by (faults, events, requests, nodes, clients, operations, fault phase, non-zero
// choices, their sum) in that order; the order makes the search terminate.
//
// The result is an ordinary run: its interleaved choices, recorded as it ran, replay with
// sim.Recorded to the same trace, so the shrunk capsule replays like any other.
package shrink
