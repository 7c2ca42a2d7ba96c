// Package raft is Raft (Ongaro and Ousterhout, "In Search of an Understandable Consensus
// Algorithm", 2014; Ongaro's dissertation "Consensus: Bridging Theory and Practice", 2014)
// replicating a linearizable key-value store. Section numbers (§) refer to the dissertation
// where it extends the paper.
//
// # The protocol
//
// Every server is a follower, a candidate or the leader (election.go). Time is divided into
// terms, each beginning with an election. A follower that hears nothing from a leader for a
// randomized election timeout campaigns: it votes for itself in a new term and asks the others
// for their votes, asking again those that do not answer; a server grants one vote per term,
// remembered durably, and only to a candidate whose log is at least as up-to-date as its own.
// A majority of votes makes a leader.
//
// The leader appends client commands to its log and replicates them with AppendEntries
// (replication.go), each carrying the index and term of the entry before the new ones; a
// follower accepts only if its log holds that entry (the consistency check), so that logs
// that agree on an entry agree on everything before it. When a follower refuses, it tells
// the leader where its version of the conflicting term begins, and the leader skips back a
// whole term at a time. An entry of the leader's own term that a majority stores is committed;
// entries of earlier terms are committed only with it, never by counting their replicas (the
// paper's Figure 8 shows why). A new leader appends a blank entry at once, so that it commits
// something of its term, and with it all that came before, as soon as it can.
//
// A server syncs its term, its vote and its log before it answers anyone (storage.go: the log
// is kept in segments, so that an append rewrites only the last one), so that after a crash it
// restarts as if it had paused. Once enough applied entries have piled up it writes a snapshot
// of the state machine and drops the log it covers (§7); a follower that needs what was
// dropped receives the snapshot itself (InstallSnapshot).
//
// # Extensions
//
//   - Pre-Vote (§9.6): before raising its term, a server asks whether it could win; voters
//     that still hear from a leader say no. CheckQuorum (§6.2): a leader that has not heard
//     from a majority for an election timeout steps down, and servers that hear from a leader
//     ignore vote requests (§4.2.3). Either keeps a server that cannot reach the leader from
//     deposing it; without both, partial connectivity (the 2020 etcd outage) leaves no leader
//     in office for long.
//   - Membership changes one server at a time (membership.go, §4.1): a configuration takes
//     effect as soon as it is in a server's log, the next change waits until it is committed,
//     and (Ongaro's fix, raft-dev 2015) a leader changes the configuration only once it has
//     committed an entry of its own term. Servers outside the configuration are learners: they
//     receive the log but never vote or campaign. A leader that removes itself steps down once
//     that is committed. Scenarios drive changes through the churn parameter.
//   - Leadership transfer (§3.10): the leader brings the target up to date, stops taking
//     requests, and sends it TimeoutNow; the target's election is not refused for the lease.
//
// # The key-value store
//
// Clients send get, put and compare-and-swap operations (protocols/kv) to any server; the others
// point them to the leader (store.go). Each client's requests are numbered, and the state
// machine keeps a session per client with its latest result, so that a request retried after
// a timeout or at another server takes effect once (§6.3); sessions expire least recently
// active first, keeping the table bounded. Reads go through ReadIndex (§6.4): the leader notes
// its commit index, confirms with a round of heartbeats that it is still leader, and answers
// once it has applied that far; with the readindex option off, reads go through the log.
//
// # Properties
//
// Checked after every step (properties.go): election safety (one leader per term, over the
// Elected outputs of the whole run), log matching, leader completeness (in its strong form: a
// server that lacks an entry some server knows committed must be unable to win an election, so
// that an unsafe commit is reported when it happens, not when a later leader overwrites it),
// and state machine safety (no two Applied outputs of one index differ). The checkers add that
// the clients' history is linearizable (per key), that once faults heal a leader is in office
// and every client is answered (Progress), that under partial connectivity clients are served
// all along (Advance, for the watchdog), and that every server's log stays under the snapshot
// threshold plus a window (MaxSize). Noted outputs mark what a run exercised (a snapshot
// installed, a transfer, a lease that kept a leader) for the sometimes-properties.
//
// # Seeded bugs
//
// figure8 (commits an earlier term's entry by counting replicas), no-persist-vote (the vote is
// not durable), dup-vote (a duplicated vote counts twice), stale-read (reads without confirming
// leadership), membership-no-fix (reconfiguration without Ongaro's fix), no-compaction (the log
// grows without bound) and plain (neither Pre-Vote nor CheckQuorum). Each is a few lines guarded
// by its name, next to the correct code; `replica list` shows the scenario that finds each.
package raft
