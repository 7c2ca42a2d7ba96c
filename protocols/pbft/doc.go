// Package pbft is Practical Byzantine Fault Tolerance (M. Castro and B. Liskov, "Practical
// Byzantine Fault Tolerance", OSDI 1999): state machine replication of a key-value store over
// n = 3f+1 replicas, f of which may be Byzantine.
//
// Replicas move through views; in view v, replica v mod n (counting from the first) is the
// primary and the others are backups. The normal case orders each client request in three
// phases (section 4.2 of the paper):
//
//   - pre-prepare: the primary assigns the request a sequence number n and sends
//     PRE-PREPARE(v, n, d, m), where d is the request's digest;
//   - prepare: a backup accepts it if it is in view v, d is m's digest, n lies in its log
//     window, and it has accepted no other digest for (v, n); it then sends PREPARE(v, n, d).
//     A replica is prepared for (m, v, n) once it has the pre-prepare and 2f matching
//     PREPAREs from backups: no other request can be prepared at (v, n) by a correct replica;
//   - commit: a prepared replica sends COMMIT(v, n, d); with 2f+1 matching COMMITs the
//     request is committed, and replicas execute committed requests in sequence order.
//
// Each replica answers the client, which accepts a result once f+1 replicas sent the same
// (one of them is correct). Every K sequence numbers a replica sends CHECKPOINT(n, state
// digest); 2f+1 matching ones make the checkpoint stable, and the replica discards its log
// up to it (garbage collection, section 4.3): the log holds at most a window of L = 2K
// sequence numbers above the stable checkpoint.
//
// A backup that waits too long for a request to execute suspects the primary and starts a
// view change (section 4.4): it sends VIEW-CHANGE(v+1) with its stable checkpoint and a
// prepared certificate (pre-prepare plus 2f PREPAREs) for every request prepared above it.
// The new primary gathers 2f+1 VIEW-CHANGEs into NEW-VIEW; every replica derives from them
// the pre-prepares of the new view: each sequence number with a prepared certificate keeps
// the request of the highest-view certificate, the gaps get null requests. Any 2f+1
// VIEW-CHANGEs include one from a correct replica that prepared each committed request, so
// committed requests keep their numbers. Timeouts double with each failed view change.
//
// Beyond the paper's message flow, as a real deployment needs: replicas keep what they
// promised (accepted pre-prepares, certificates, view, executed state) in durable storage,
// so that crashes and restarts are safe; they periodically send STATUS, to which peers answer
// with the messages the sender lacks (the retransmission of the paper's section 5.2), or
// with their stable checkpoint's state when the sender is too far behind (state transfer).
// Signatures are modelled by authenticated channels and by certificates that list their
// signers; a Byzantine replica can forward what it received but forge nothing.
//
// Properties: agreement (no two correct replicas execute different requests at the same
// sequence number), validity (a correct replica executes only requests that clients sent),
// liveness after healing (client requests complete, and correct replicas catch up, once a
// correct primary is in place), and a memory bound on the log window.
//
// Seeded bugs: no-digest-check (a backup accepts a pre-prepare without checking that it has
// not accepted another digest for that view and sequence number; a Byzantine primary that
// bumps a sequence number makes correct replicas commit different requests there) and
// view-change-quorum (NEW-VIEW is formed from 2f VIEW-CHANGEs instead of 2f+1, which may all
// miss a committed request).
package pbft
