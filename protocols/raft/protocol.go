package raft

import (
	"time"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// The seeded bugs, each a small change next to the correct code it breaks.
const (
	BugFigure8         = "figure8"
	BugNoPersistVote   = "no-persist-vote"
	BugDupVote         = "dup-vote"
	BugStaleRead       = "stale-read"
	BugMembershipNoFix = "membership-no-fix"
	BugNoCompaction    = "no-compaction"
	BugPlain           = "plain"
	BugNoChecksum      = "no-checksum"
	BugIgnoreSyncError = "ignore-sync-error"
)

// options are the knobs of a cluster, read from its Config.Params:
//
//	prevote, checkquorum  1 (default) or 0: the Pre-Vote and CheckQuorum extensions
//	readindex             1 (default): reads by ReadIndex; 0: reads go through the log
//	snapshot              applied entries past the last snapshot that trigger compaction (64)
//	window                entries a leader appends past its commit index, and reads it holds
//	                      while it confirms its leadership, before it refuses requests (16)
//	batch                 most entries in one AppendEntries (8)
//	voters                the initial configuration is nodes 1..voters (all)
//	minvoters             the smallest configuration membership changes leave (3)
//	sessions              client sessions kept before the least recently active expires (16)
//	churn                 ms between the leader's membership changes (0: none)
//	transfer              ms between the leader's leadership transfers (0: none)
type options struct {
	preVote, checkQuorum, readIndex         bool
	snapshotEvery, batch, voters, minVoters int
	window, maxSessions                     int
	churn, transfer                         time.Duration
}

func optionsOf(cfg node.Config) options {
	ms := func(name string) time.Duration { return time.Duration(max(0, cfg.Param(name, 0))) * time.Millisecond }
	o := options{
		preVote:       cfg.Param("prevote", 1) != 0,
		checkQuorum:   cfg.Param("checkquorum", 1) != 0,
		readIndex:     cfg.Param("readindex", 1) != 0,
		snapshotEvery: max(1, cfg.Param("snapshot", 64)),
		window:        max(1, cfg.Param("window", 16)),
		batch:         max(1, cfg.Param("batch", 8)),
		voters:        min(max(1, cfg.Param("voters", cfg.N)), max(1, cfg.N)),
		minVoters:     max(1, cfg.Param("minvoters", 3)),
		maxSessions:   max(1, cfg.Param("sessions", 16)),
		churn:         ms("churn"),
		transfer:      ms("transfer"),
	}
	if cfg.Bug == BugPlain {
		// The seeded bug: plain Raft, with neither Pre-Vote nor CheckQuorum. Correct on a
		// clean network; under partial connectivity, a node that cannot hear the leader keeps
		// raising the term and deposing it.
		o.preVote, o.checkQuorum = false, false
	}
	return o
}

// Protocol describes Raft to the tools.
var Protocol = &node.Protocol{
	Name:     "raft",
	Summary:  "Raft key-value store: elections with Pre-Vote and CheckQuorum, snapshots, ReadIndex, membership changes",
	New:      New,
	DefaultN: 5,
	MinN:     1,
	Quorum:   quorum.Majority,
	// Raft keeps on synced storage everything it answers for, so the whole cluster may crash at
	// once; it reads its disk through checksums, writes a commit record last, and stops on a
	// failed sync (storage.go). A sync that lies it does not survive: no protocol that trusts
	// its own disk does.
	Tolerates: node.Tolerance{ClusterCrash: true,
		Disk: node.DiskFaults{Corrupt: true, Torn: true, Full: true, Slow: true}},
	Bugs: []node.Bug{
		{Name: BugFigure8, Scenario: "crash-restart-storm",
			Summary: "commits an entry of an earlier term by counting replicas (Raft paper, Figure 8)"},
		{Name: BugNoPersistVote, Scenario: "crash-restart-storm",
			Summary: "votedFor is kept only in volatile state: after a restart a server votes twice in one term"},
		{Name: BugDupVote, Scenario: "crash-restart-storm",
			Summary: "a candidate counts a duplicated vote from the same peer twice"},
		{Name: BugStaleRead, Scenario: "leader-isolation",
			Summary: "a leader serves reads without confirming it is still leader"},
		{Name: BugMembershipNoFix, Scenario: "membership-churn",
			Summary: "single-server membership change without Ongaro's fix (a leader reconfigures before committing an entry of its term)"},
		{Name: BugNoCompaction, Scenario: "long-haul",
			Summary: "the log is never compacted: memory grows without bound"},
		{Name: BugPlain, Scenario: "partial-connectivity",
			Summary: "neither Pre-Vote nor CheckQuorum: under partial connectivity no leader stays elected"},
		{Name: BugNoChecksum, Scenario: "disk-corruption",
			Summary: "trusts what it reads back from its disk without checking the checksum: a corrupted log entry or vote is believed"},
		{Name: BugIgnoreSyncError, Scenario: "disk-full",
			Summary: "ignores a failed sync and answers as if its writes were durable (acknowledges before sync): a crash then loses what it promised"},
	},
	Invariants: []node.Invariant{
		{Name: "election-safety", Check: electionSafety},
		{Name: "log-matching", Check: logMatching},
		{Name: "leader-completeness", Check: leaderCompleteness},
		{Name: "state-machine-safety", Check: stateMachineSafety},
	},
	Sometimes: sometimes,
	Progress:  progress,
	Advance:   advance,
	Streamed:  true, // the properties read outputs as they come (pastOutputs)
	Workload: &node.Workload{
		Clients: 4,
		Ops:     1 << 30, // closed-loop clients that keep going for the whole run
		Timeout: 500 * time.Millisecond,
		Next:    nextOp,
		Result:  node.ReplyReader(func(r Reply) (any, bool, node.ID) { return r.Result, r.OK, r.Leader }),
		Spec:    kv.Store,
	},
	Abstract: abstract,
	Timing:   node.Timing{Delay: 10 * time.Millisecond, Settle: time.Second},
	MaxSize:  MaxSize,
}

// keys are the keys the clients use: few, so that operations on one key often overlap.
var keys = []string{"x", "y", "z"}

// nextOp draws a client's operation: reads, writes and compare-and-swaps over a few keys and
// small values, so that compare-and-swaps succeed now and then.
func nextOp(c node.ClientID, seq int, choose func(n int) int) any {
	key := keys[choose(len(keys))]
	switch k := choose(10); {
	case k < 4:
		return kv.Op{Kind: kv.Get, Key: key}
	case k < 8:
		return kv.Op{Kind: kv.Put, Key: key, Value: 1 + choose(9)}
	default:
		return kv.Op{Kind: kv.CAS, Key: key, Expect: choose(10), Value: 1 + choose(9)}
	}
}

// noopSlack is room in a node's log for the blank entries of leaders that came and went
// without committing anything, on top of the window of client entries.
const noopSlack = 8

// MaxSize bounds a node's Size: the log holds at most the snapshot threshold of applied entries
// plus a window of entries not yet applied (a leader refuses requests beyond the window, and a
// few no-ops and configurations of short-lived leaders may come on top), besides the bounded
// session table and the requests a leader holds (a window of writes, and of reads).
func MaxSize(cfg node.Config) int {
	o := optionsOf(cfg)
	return o.snapshotEvery + (o.window + noopSlack) + o.maxSessions + 2*o.window
}
