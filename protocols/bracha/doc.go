// Package bracha is Bracha's reliable broadcast (G. Bracha, "Asynchronous Byzantine
// Agreement Protocols", 1987): a sender gives a value to n nodes, f of which may be Byzantine
// (n >= 3f+1), so that all correct nodes deliver the same value, or none does.
//
// Every node is the sender of its own broadcast, one instance per node, as when each node of
// a BFT system broadcasts its proposal. An instance runs in three steps:
//
//   - the sender sends INITIAL(v) to every node;
//   - a node that gets the sender's INITIAL echoes it: ECHO(v) to every node, once;
//   - a node that has ECHO(v) from an echo quorum, ceil((n+f+1)/2) nodes, or READY(v) from
//     f+1 nodes (at least one of them correct), sends READY(v) to every node;
//   - a node that has READY(v) from 2f+1 nodes delivers v.
//
// Two echo quorums share a correct node, which echoes one value only, so correct nodes only
// ever become ready for one value; any two sets of 2f+1 READYs then share a correct node, and
// no two correct nodes deliver different values. If one correct node delivers, its 2f+1
// READYs include f+1 correct ones, which every correct node eventually hears, so every correct
// node becomes ready and delivers too (totality).
//
// The paper assumes reliable links; the simulated network loses messages while faults last,
// so a node that has not delivered an instance asks for it again (PULL), and the others
// answer with what they sent for it. A node keeps what it echoed, readied and delivered in
// durable storage, so that after a crash and restart it neither contradicts itself nor
// delivers twice.
//
// Properties: agreement (no two correct nodes deliver different values for one sender),
// validity (for a correct sender, what is delivered is what it broadcast), integrity (a
// correct node delivers at most once per sender), and totality as liveness after healing
// (once faults heal, every correct node delivers every correct sender's value, and every
// value some correct node delivered).
//
// Seeded bug: weak-ready (a node becomes ready after f echoes instead of an echo quorum). A
// node keeps one READY per value, which costs nothing when only one value can reach an echo
// quorum; with the weak threshold, a sender that equivocates makes correct nodes ready for
// two values, and two correct nodes deliver different ones.
package bracha
