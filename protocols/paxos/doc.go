// Package paxos is single-decree Paxos (Lamport, "Paxos Made Simple", 2001): a cluster of
// nodes agrees on one value proposed by clients, as long as a majority of nodes can talk.
//
// Every node plays the three roles of the paper:
//
//   - a proposer picks a ballot higher than any it has seen and runs two phases: Prepare
//     (phase 1a) gathers Promises from a majority of acceptors, each reporting the value it
//     has already accepted, if any; Accept (phase 2a) asks them to accept the value of the
//     highest-ballot report, or the proposer's own value if no acceptor reported one;
//   - an acceptor promises never to accept a ballot lower than one it has promised (phase 1b)
//     and accepts a proposal unless it has promised a higher ballot (phase 2b). Its promise
//     and its accepted proposal are durable: synced to storage before it answers;
//   - a learner decides a value once a majority of acceptors accepted it in the same ballot.
//     The proposer of the ballot learns it from its acceptors' answers and tells the other
//     nodes (the paper's distinguished learner, section 2.3).
//
// A proposer that does not see its ballot succeed retries with a higher one after a
// randomized timeout, so that competing proposers eventually let one of them finish. A node
// that has decided answers Prepare and Accept with the decision, so that nodes that missed
// it (they were down, or cut off) learn it.
//
// Properties: agreement (no two nodes decide different values) and validity (a decided
// value was proposed by a client) always hold; after faults heal, every node that is up
// decides (progress).
//
// Seeded bugs: no-persist (an acceptor keeps its promise only in volatile state, so after a
// crash and restart it accepts a ballot lower than one it promised: two values get chosen);
// no-retry (a proposer never retries, so one lost message or crash stalls it forever).
package paxos
