// Package abd is the ABD atomic register (Attiya, Bar-Noy and Dolev, "Sharing Memory Robustly
// in Message-Passing Systems", 1995), in its multi-writer form (Lynch and Shvartsman, 1997):
// every node holds a copy of one register and serves clients' reads and writes, and every
// operation completes as long as a majority of nodes can talk, with no leader and no
// consensus.
//
// Each copy is a value with a tag (timestamp, writer), tags ordered by timestamp and then
// writer ID, so that two writers never make the same tag. The node a client asks coordinates
// the operation in two phases, each a round trip to a majority:
//
//   - query: ask every node for its tag and value, and wait for a majority of reports;
//   - update: send a tag and value to every node, which keeps them if the tag is newer than
//     its own, and wait for a majority of acknowledgements.
//
// A write queries for the highest tag, then updates with a higher one of its own: (highest
// timestamp + 1, its node ID); a node that coordinates several writes at once, or restarts,
// also keeps above every timestamp it used before, so that its tags stay unique. A read queries for the highest tag and its value, then writes
// that same tag and value back before it answers. The write-back is what makes the register
// atomic rather than merely regular: once a read has returned a value, a majority holds it,
// so every later read sees it or something newer. Any two majorities share a node, which is
// why a query always sees the latest completed update.
//
// Copies are durable (synced before a node acknowledges), so a node that crashes and
// restarts keeps its promise. A coordinator resends a phase's messages to the nodes that have
// not answered until a majority has, so lost messages only delay an operation.
//
// A client that times out does not retry elsewhere (Workload.Attempts is 1): a node cannot
// tell a retry from a new write, and a write performed twice, with two tags, is not
// linearizable. Its operation's outcome is unknown instead.
//
// Properties: the client history is linearizable (checked as a register); no two copies hold
// different values under one tag (always); after faults heal every client's operations are
// answered and no coordinator keeps an operation in progress (progress).
//
// Seeded bugs: no-writeback (a read answers right after its query, without writing back: two
// reads in a row can see a new value and then an old one, which is not linearizable);
// no-gc (a coordinator keeps the record of every finished operation, to ignore late
// acknowledgements, and never prunes it: its state grows without bound).
package abd
