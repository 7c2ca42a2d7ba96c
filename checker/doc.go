// Package checker judges simulated runs: it turns what a protocol and a scenario declare into
// verdicts, and a failed verdict into a report a person can act on.
//
// The property kinds, from the cheapest to the most global:
//
//   - always: an invariant of the protocol (node.Invariant), checked by the simulator after
//     every step; a violation stops the run there.
//   - sometimes: a condition that must hold in at least one run of a campaign
//     (node.Sometimes), declared by the protocol or by a scenario (Sometimes). It guards
//     against invariants that hold only vacuously: "agreement" is no comfort if nothing is
//     ever decided. A Required one that no run reached fails the campaign (Unreached); the
//     others are coverage.
//   - liveness after healing (Liveness): the run's fault phase ends, the simulator heals the
//     network and keeps a core of at least a quorum of nodes up, and the protocol's progress
//     predicate must then hold within a bound of virtual time. A failure reads "no progress
//     within T after healing at t0" and lists what is still pending. The protocol's own
//     liveness properties (node.Liveness) are judged in the same phase, each under its name:
//     "eventually" (it must hold at some step within the bound) and "eventually always" (once
//     it holds it must hold at every step for its Stable window; a relapse fails the run with
//     what became pending again, and a window the phase is too short to watch whole fails as
//     "too late to be judged", never as a pass). Exploration judges none of them
//     (ExplorationLiveness says so for each).
//   - progress under faults (Watchdog): for scenarios that promise progress while faults
//     persist, no progress for a bound of virtual time during the fault phase is a failure.
//   - history (Linearizability): the clients' operations must be linearizable against a
//     sequential model (a register, a key-value store partitioned by key), decided by
//     porcupine within a time limit; a check that runs out of time is "unknown", apart
//     from pass and fail. A long history is judged as it grows, key by key, in windows
//     that begin where no operation of the key is pending, carrying every state a window may
//     end in and the operations of unknown outcome that may still take effect (window.go
//     says exactly what is sound); a streamed run (node.Protocol.Streamed) then forgets what
//     was judged, so that an hour of Raft keeps a few operations, not 200,000.
//   - memory bounds (Memory): every node's state size (node.Sizer), the messages in flight
//     to it and its armed timers stay under bounds; a failure shows the growth curve.
//
// Checkers run beside the simulator as sim.Monitors; a campaign sums their verdicts and,
// for each failing seed, asks them for files that explain the failure (porcupine's HTML
// visualization) to write beside the capsule. A campaign also reports fault coverage: how
// often each fault kind fired, and which kinds its profile enabled but never fired
// (NeverFired), which -require-faults turns into a failure.
package checker
