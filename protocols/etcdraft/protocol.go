package etcdraft

import (
	"time"

	"go.etcd.io/raft/v3"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// The seeded bugs: real mistakes from etcd's and etcd raft's trackers, re-created in this
// adapter's service layer or configuration (etcd raft's own code is never changed). Each is a
// small change guarded by its name, next to the correct code it breaks.
const (
	// BugReadCtxReuse (etcd-io/etcd#20418, fixed by etcd-io/etcd#21399): a read that times out
	// waiting for its read index sends ReadIndex again with the same request context.
	BugReadCtxReuse = "read-ctx-reuse"
	// BugReadLeaderChange (etcd-io/etcd#21375): the read-index race with a leader change.
	BugReadLeaderChange = "read-leader-change"
	// BugPlain: neither PreVote nor CheckQuorum, under the partial connectivity of the 2020
	// Cloudflare outage.
	BugPlain = "plain"
	// BugLeaseRead (etcd-io/raft#166, etcd-io/etcd#10082): reads served by the leader's lease
	// (ReadOnlyLeaseBased), which outlives the leader's authority.
	BugLeaseRead = "lease-read"
	// BugIndexNotAtomic (etcd-io/etcd#13766, the v3.5 data inconsistency): the consistent
	// index is saved apart from the state-machine data it describes.
	BugIndexNotAtomic = "index-not-atomic"
)

// options are the knobs of a cluster, read from its Config.Params:
//
//	prevote, checkquorum  1 (default) or 0: etcd raft's PreVote and CheckQuorum
//	lease                 0 (default) or 1: reads by the leader's lease (ReadOnlyLeaseBased)
//	tick                  ms between ticks of a leader's clock (50)
//	election              ticks of an election timeout (4); followers campaign after a timeout
//	                      drawn in [election, 2*election) ticks without hearing from a leader
//	retry                 ms after which a read waiting for its read index asks again, and
//	                      the period of the node's sweep of stale requests (100)
//	backend               ms between commits of the state machine to durable storage (100;
//	                      0: none but by batch)
//	batch                 applied entries after which the backend commits at once, as
//	                      etcd's does at its batch limit (0: none)
//	snapshot              applied entries between snapshots (32); catchup entries kept
//	                      behind a snapshot for slow followers (8)
//	window                client requests a node holds at once, reads and writes each (16)
//	expire                sweeps after which a request is dropped: past a client's timeout,
//	                      no one waits for it (8; 0: never, for exploration, whose budget
//	                      bounds the requests)
//	sessions              client sessions kept before the least recently active expires (16)
//	journal               1: keep a journal to rebuild etcd raft from (exploration sets it)
//	maxterm, maxticks     exploration bounds: no campaign for a term beyond maxterm (0: no
//	                      bound), no more than maxticks ticks of a leader's clock per term
//	                      (-1, the default: no bound)
//	candidates            exploration bound: only nodes 1..candidates campaign (0: all)
type options struct {
	preVote, checkQuorum, lease, journal bool
	tick, retry, backend                 time.Duration
	electionTicks                        int
	snapshotEvery, catchup               uint64
	batch                                int
	window, maxSessions                  int
	maxTerm                              uint64
	maxTicks, candidates, expire         int
}

func optionsOf(cfg node.Config) options {
	ms := func(name string, def int) time.Duration {
		return time.Duration(max(1, cfg.Param(name, def))) * time.Millisecond
	}
	o := options{
		preVote:       cfg.Param("prevote", 1) != 0,
		checkQuorum:   cfg.Param("checkquorum", 1) != 0,
		lease:         cfg.Param("lease", 0) != 0,
		journal:       cfg.Param("journal", 0) != 0,
		tick:          ms("tick", 50),
		retry:         ms("retry", 100),
		backend:       time.Duration(max(0, cfg.Param("backend", 100))) * time.Millisecond,
		batch:         max(0, cfg.Param("batch", 0)),
		electionTicks: max(2, cfg.Param("election", 4)),
		snapshotEvery: uint64(max(1, cfg.Param("snapshot", 32))),
		catchup:       uint64(max(0, cfg.Param("catchup", 8))),
		window:        max(1, cfg.Param("window", 16)),
		maxSessions:   max(1, cfg.Param("sessions", 16)),
		maxTerm:       uint64(max(0, cfg.Param("maxterm", 0))),
		maxTicks:      max(-1, cfg.Param("maxticks", -1)),
		candidates:    max(0, cfg.Param("candidates", 0)),
		expire:        max(0, cfg.Param("expire", 8)),
	}
	switch cfg.Bug {
	case BugPlain:
		// The seeded bug: neither PreVote nor CheckQuorum. Fine on a clean network; under
		// partial connectivity a node that cannot hear the leader raises the term at a
		// node that can, which then rejects the leader, and no leader stays in office.
		o.preVote, o.checkQuorum = false, false
	case BugLeaseRead:
		// The seeded bug: linearizable reads by lease. etcd raft answers a ReadIndex at the
		// leader at once, trusting CheckQuorum to depose it in time; but a leader cut off
		// from its quorum checks only once an election timeout, and may go on leading for
		// almost two of them, while the others elect a leader after one (etcd-io/raft#166);
		// a slow clock stretches it further.
		o.lease, o.checkQuorum = true, true
	}
	return o
}

// raftConfig is etcd raft's configuration of node id over storage st.
func (o options) raftConfig(id uint64, st raft.Storage, applied uint64) *raft.Config {
	c := &raft.Config{
		ID:              id,
		ElectionTick:    o.electionTicks,
		HeartbeatTick:   1,
		Storage:         st,
		Applied:         applied,
		MaxSizePerMsg:   1024,
		MaxInflightMsgs: 16,
		// A leader cut off from its quorum takes no more than this many bytes of proposals
		// it cannot commit, so that its log (and the simulator's memory bound) stays bounded.
		MaxUncommittedEntriesSize: 1024,
		CheckQuorum:               o.checkQuorum,
		PreVote:                   o.preVote,
		Logger:                    quiet{},
	}
	if o.lease {
		c.ReadOnlyOption = raft.ReadOnlyLeaseBased
	}
	return c
}

// Protocol describes the adapter to the tools.
var Protocol = &node.Protocol{
	Name:     "etcdraft",
	Summary:  "etcd's raft library (go.etcd.io/raft/v3) running a key-value store with ReadIndex reads, PreVote and CheckQuorum",
	New:      New,
	DefaultN: 3,
	MinN:     1,
	Quorum:   quorum.Majority,
	Bugs: []node.Bug{
		{Name: BugReadCtxReuse, Scenario: "etcd-paused-leader",
			Summary: "etcd-io/etcd#20418 (fixed by #21399): a ReadIndex request retried under the same context; a late answer to the first attempt, confirmed by heartbeat responses of its round, confirms reads that came after it: a stale read"},
		{Name: BugReadLeaderChange, Scenario: "etcd-leader-churn",
			Summary: "etcd-io/etcd#21375: the read-index race with a leader change: at its first commit in the term a new leader serves the reads waiting on it at its commit index, which it has not yet applied"},
		{Name: BugPlain, Scenario: "partial-connectivity",
			Summary: "neither PreVote nor CheckQuorum: under partial connectivity (the 2020 Cloudflare outage) no leader stays elected"},
		{Name: BugLeaseRead, Scenario: "etcd-leader-isolation",
			Summary: "etcd-io/raft#166: reads by the leader's lease (ReadOnlyLeaseBased); a leader cut off keeps its lease past the election of the next one: a stale read"},
		{Name: BugIndexNotAtomic, Scenario: "etcd-crash-backend",
			Summary: "etcd-io/etcd#13766: the consistent index is saved apart from the data it describes; a crash between the two skips entries on restart, and the replicas diverge"},
	},
	Invariants: []node.Invariant{
		{Name: "election-safety", Check: electionSafety},
		{Name: "state-machine-safety", Check: stateMachineSafety},
	},
	Sometimes: sometimes,
	Progress:  progress,
	Liveness: []node.Liveness{
		// "Eventually always": once faults heal, a leader is elected and stays in office.
		// Three election timeouts, three CheckQuorum rounds: no faults come after healing,
		// so a leader that does not stay shows it at once.
		{Name: "stable-leader", Pending: stableLeader, Stable: 600 * time.Millisecond},
	},
	Advance: advance,
	Workload: &node.Workload{
		Clients: 4,
		Ops:     1 << 30, // closed-loop clients that keep going for the whole run
		Timeout: 500 * time.Millisecond,
		Next:    nextOp,
		Result: func(reply any) (any, bool, node.ID) {
			r := reply.(Reply)
			return r.Result, r.OK, r.Leader
		},
		Spec: kv.Store,
	},
	Timing: node.Timing{Delay: 10 * time.Millisecond, Settle: time.Second},
	Explore: node.Explore{
		// The journal lets a copied node rebuild etcd raft. One election (term 1, node 1
		// campaigning), no ticks of the leader's clock (no heartbeats), neither PreVote nor
		// CheckQuorum (a round and a timer fewer), requests kept until answered, the backend
		// committed every three entries rather than on a timer, and one crash keep the space
		// finite and small enough to explore whole (-requests 1 adds a client write: a much
		// larger space, where index-not-atomic's counterexample lies 10 steps deep).
		Params: map[string]int{"journal": 1, "maxterm": 1, "maxticks": 0, "candidates": 1,
			"prevote": 0, "checkquorum": 0, "expire": 0, "backend": 0, "batch": 3},
		Crashes:  1,
		Requests: 0,
		Targets:  []node.ID{1},
	},
	MaxSize: MaxSize,
}

// keys are the keys the clients use: few, so that operations on one key often overlap.
var keys = []string{"x", "y", "z"}

// nextOp draws a client's operation: reads, writes and compare-and-swaps over a few keys and
// small values, so that compare-and-swaps succeed now and then. The first draw of each
// choice (zero) is a write: an explored or shrunk run, which takes the first draws, writes.
func nextOp(c node.ClientID, seq int, choose func(n int) int) any {
	key := keys[choose(len(keys))]
	switch k := choose(10); {
	case k < 4:
		return kv.Op{Kind: kv.Put, Key: key, Value: 1 + choose(9)}
	case k < 8:
		return kv.Op{Kind: kv.Get, Key: key}
	default:
		return kv.Op{Kind: kv.CAS, Key: key, Expect: choose(10), Value: 1 + choose(9)}
	}
}

// MaxSize bounds a node's Size: the log holds the snapshot interval of applied entries, the
// catch-up entries behind the latest snapshot, and what is not applied yet, which etcd raft's
// uncommitted-size limit keeps to a few dozen entries per leader, with room for the leftovers
// of leaders that came and went; beside it, the sessions and the requests the node holds.
func MaxSize(cfg node.Config) int {
	o := optionsOf(cfg)
	return int(o.snapshotEvery+o.catchup) + 128 + o.maxSessions + 2*o.window
}
