// Package etcdraft runs etcd's raft library (go.etcd.io/raft/v3, v3.6.0) inside Replica_IO,
// unchanged, with a small key-value service on top the way etcd's server uses it. It is
// written as any user would bring their own code: against the public protocol API (package
// protocols/node) and nothing else of the framework. Its seeded bugs are real ones, from
// etcd's and etcd raft's trackers, re-created in the service layer or the configuration;
// etcd raft's code is never touched.
//
// # The Ready loop (node.go, storage.go)
//
// Each input of a node (a message, a timer, a client request) goes to etcd raft's RawNode
// (Step, Tick, Campaign, Propose, ReadIndex), and then the node runs the Ready loop until raft
// has nothing more to hand out, in the order raft asks for: persist the hard state, the
// snapshot and the entries, and sync; send the messages (copied first: their entries share
// memory with the log); apply the snapshot, the committed entries and their configuration
// changes; Advance. Durable storage is laid out as an etcd member's data directory: a
// write-ahead log (hard state, latest snapshot, entries in segments) synced before anything is
// sent, and a backend holding the state machine as of its consistent index, committed in
// batches. A crash loses the RawNode and whatever was not synced; a restart builds a new
// RawNode over the write-ahead log, with the backend's consistent index as its applied index,
// and raft hands back every committed entry past it.
//
// # Determinism
//
// etcd raft draws a follower's randomized election timeout from crypto/rand, a process-wide
// source nothing can seed. The adapter never lets it decide anything: a follower's clock never
// ticks. The driver draws the election timeout (Env.SetTimer with a range), and when it fires
// the node campaigns (RawNode.Campaign), as raft would have done; at one election timeout
// without word from the leader, TickQuiesced advances the follower's clock just enough to end
// its lease (it grants votes again), without letting it campaign. Only a leader's clock ticks,
// and a leader's tick depends on no randomness. So the same seed gives the same trace, byte for
// byte, whatever runs beside it in the process; nothing restricts campaigns to one etcd run at
// a time.
//
// # The service (service.go, store.go)
//
// Any node takes a client's request. A write is proposed (a follower's raft forwards it to the
// leader) as a command with the client's session and request number; the state machine keeps
// one session per client with its last result, so that a write retried at another node takes
// effect once; the node that took the request answers once it has applied it. A read is
// linearizable without a log entry: the node asks raft for a read index under a context that
// names the request (reads are batched as in etcd's read loop: one ReadIndex request in flight,
// the reads that arrive meanwhile go with the next), raft has the leader confirm with a round
// of heartbeats that it still leads, and the node serves the read once it has applied that
// far. A ReadIndex request unanswered for a retry interval is sent again, under a fresh
// context (etcd-io/etcd#21399); a change of leader sends it again too. Leases are off by
// default; PreVote and CheckQuorum on (knobs: see options).
//
// Messages travel as Msg, numbered per link: the simulated network duplicates messages, which
// etcd's TCP streams never do, and a duplicate is not harmless to etcd raft v3.6's ReadIndex
// (a copy of a read request that arrives after it was answered queues it again, and late
// acknowledgements of its first round confirm it), so the receiver drops copies, as a stream
// would.
//
// # Exploration
//
// The explorer copies a node's value before every step, and a RawNode cannot be copied (it
// holds functions and pointers into itself). So with a journal (the journal knob, which the
// exploration parameters set) a node records every call it makes to raft, encoded, and the
// storage it booted from; a copy rebuilds its instance by replaying them, and checks it ends
// where the original was. The live instance is kept outside the node's value (see live), so
// that no copy or fingerprint sees it. The exploration bounds: one election (only node 1
// campaigns, for term 1), no heartbeats, neither PreVote nor CheckQuorum, the backend
// committed every three entries; one crash, and client requests as the -requests budget says.
//
// # Properties
//
// Election safety (one leader per term, over the Elected outputs) and state-machine safety
// (every node that reaches a log index holds the same entry and the same state there, over the
// Applied outputs, which carry a digest of the state machine; a restart reports what its
// backend held) are checked after every step; the clients' history is linearizable (kv.Store);
// after healing a leader must be in office with a majority following (progress) and stay there
// (stable-leader, "eventually always"); the memory of each node stays bounded (MaxSize).
//
// # Seeded bugs
//
//   - read-ctx-reuse, etcd-io/etcd#20418 (fixed by #21399): a ReadIndex request retried under
//     the first attempt's context. In etcd's own interleaving (TestReadCtxReuseAtDeposedLeader
//     plays it), a leader paused and deposed queues the old context again behind a newer read,
//     and late heartbeat responses of the first round release that read stale; in the
//     scenario, the late answer to the first attempt confirms reads that came after it.
//   - read-leader-change, etcd-io/etcd#21375: the read-index race with a leader change: at its
//     first commit in the term, a new leader serves the reads waiting on it at its commit
//     index, which it has not yet applied.
//   - plain: neither PreVote nor CheckQuorum; under the partial connectivity of the 2020
//     Cloudflare outage no leader stays elected.
//   - lease-read, etcd-io/raft#166: linearizable reads by the leader's lease
//     (ReadOnlyLeaseBased), which a leader cut off keeps past the next leader's election.
//   - index-not-atomic, etcd-io/etcd#13766 (the v3.5 data inconsistency): the consistent index
//     saved apart from the data it describes; a crash between the two skips entries on
//     restart, and the replicas diverge.
//
// Each names the scenario that finds it (scenarios/etcdraft.go; partial-connectivity is
// shared with Raft); docs/BUGS.md gives the seeds and time to first failure.
package etcdraft
