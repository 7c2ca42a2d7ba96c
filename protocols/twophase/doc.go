// Package twophase is the two-phase commit protocol as Leslie Lamport specified it in
// TwoPhase.tla, written as a transition system that the explorer (sim/explore) can check
// exhaustively.
//
// A transaction manager (TM) and N resource managers (RMs) decide together whether to
// commit. Each RM is working, then prepared, then committed or aborted; the TM is in init
// until it decides, then done. Messages go into a set that only grows: Prepared(rm) from
// each RM that prepared, and Commit or Abort from the TM. The actions are TLA+'s, numbered
// in the order of its Next relation:
//
//	TMCommit                the TM has received Prepared from every RM: it sends Commit
//	TMAbort                 the TM gives up, at any time before it decides: it sends Abort
//	TMRcvPrepared(rm)       the TM receives Prepared(rm)
//	RMPrepare(rm)           a working RM prepares and sends Prepared(rm)
//	RMChooseToAbort(rm)     a working RM aborts on its own
//	RMRcvCommitMsg(rm)      an RM receives Commit and commits
//	RMRcvAbortMsg(rm)       an RM receives Abort and aborts
//
// The always-property is TLA+'s TCConsistent: no RM has committed while another has aborted.
// The progress predicate (every RM has decided) holds in the terminal states; TwoPhase.tla
// states no liveness, so it is there to be checked on request.
//
// TLA+ also allows steps that change nothing (receiving a message a second time); those are
// stuttering steps, which a TLA+ specification permits anyway, so Next leaves them out. The
// reachable states are exactly TLA+'s: 288 for N = 3, 8,832 for N = 5.
//
// The package imports nothing from the simulator: *Model has the method set that
// sim/explore's Model interface asks for, and satisfies it without knowing about it.
//
// # State encoding
//
// The whole state is one uint64. RM r owns the four bits at 4r: two for its state, one for
// whether the TM has received its Prepared message (tmPrepared in TLA+), and one for
// whether that message was sent. The TM's state and the Commit and Abort messages take
// three of the top bits. The encoding is injective, so a bijective mix of it is a
// fingerprint that never collides, and the explorer stores 8 bytes a state.
//
// The RMs are interchangeable: renaming them maps reachable states to reachable states
// and keeps TCConsistent. Canonical sorts the per-RM four-bit tuples, so that every state
// with the same multiset of tuples (and the same TM and Commit/Abort bits) has one
// representative, and a search with symmetry counts exactly the orbits.
package twophase
