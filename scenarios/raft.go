package scenarios

import (
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// The scenarios written for Raft: each is the natural habitat of some of its seeded bugs.
func init() { RegisterScenario(raftScenarios...) }

var raftOnly = []string{"raft"}

// swarmParams are the protocol features the swarm scenario draws per seed, for the protocols
// that have them: Raft's membership changes (a smaller first configuration, so that there are
// servers to add; a change every 40 or 300 ms) and leadership transfers (every 300 ms or
// second), each off in a third of the seeds or more, so that a swarm campaign reaches every
// sometimes-property Raft declares (configuration-changed, leadership-transferred).
// Membership is drawn only in runs that crash no node: the liveness phase keeps a majority of
// the whole cluster up, which need not hold a majority of a changed configuration (see
// sim.ParamDraw); membership-churn is the scenario for changes under partitions.
var swarmParams = map[string][]sim.ParamDraw{
	"raft": {
		{Name: "voters", Values: []int{MaxNodes, 3}, WithoutCrashes: true}, // all (voters is capped at n), or 3
		{Name: "churn", Values: []int{0, 40, 300}, WithoutCrashes: true},
		{Name: "transfer", Values: []int{0, 300, 1000}},
	},
}

var raftScenarios = []*Scenario{
	{Name: "partial-connectivity", For: []string{"raft", "etcdraft"}, N: 5,
		Summary: "{1,2,3} fully connected, 4 reaches only 2, 5 reaches only 3 (the 2020 etcd outage); a leader must stay elected",
		Profile: partialConnectivity, Faults: 2, Liveness: 10,
		Unreached: fixedCutUnreached(),
		// A majority stays connected: clients must be served all along, not only once the
		// network heals. Half a second covers a slow first election (votes split between
		// candidates that each reach part of the cluster).
		Checks: Checks{Watchdog: 0.5}},
	{Name: "leader-isolation", For: raftOnly,
		Summary: "one node at a time cut off, or paused, the leader among them, while clients read and write",
		Profile: func(t node.Timing) sim.Profile {
			// A leader cut off from the others, or paused long enough (a GC pause, a stalled
			// disk) for them to elect another, goes on believing it leads until it hears of
			// the new term: what a read that does not confirm leadership falls for.
			d := delays(t)
			d.TailProb = 0.02
			return sim.Profile{Delay: d, Drop: 0.01, FaultEvery: t.Settle / 3, Down: t.Settle, Isolate: 1, Pause: 2, MaxDown: 1}
		},
		Faults: 2.5, Liveness: 10,
		Unreached: map[string]string{"configuration-changed": noMembership, "leadership-transferred": noMembership}},
	{Name: "crash-restart-storm", For: raftOnly,
		Summary: "a crash every few heartbeats with quick restarts, brief isolations and one-way cuts, on a lossy network",
		Params:  map[string]int{"batch": 1},
		Profile: func(t node.Timing) sim.Profile {
			// Leaders come and go faster than they can replicate: what an unsafe commit rule
			// needs (Figure 8: an entry stranded on a leader that crashed or was cut off just
			// after its election, an older entry carried one message at a time to a majority).
			// A server that crashes between two messages of an election and is back before the
			// next exposes state that should have been durable.
			d := delays(t)
			d.TailProb = 0.05
			return sim.Profile{Delay: d, Drop: 0.1, Duplicate: 0.1, Reorder: true,
				FaultEvery: t.Settle / 20, Down: t.Settle / 10, Crash: 2, Isolate: 1, OneWay: 1, MaxDown: -1}
		},
		Faults: 3, Liveness: 10,
		Unreached: map[string]string{"configuration-changed": noMembership, "leadership-transferred": noMembership,
			"log-compacted":      "one entry per AppendEntries and a crash every few heartbeats: the log never grows to a snapshot's threshold",
			"snapshot-installed": "one entry per AppendEntries and a crash every few heartbeats: the log never grows to a snapshot's threshold"}},
	{Name: "membership-churn", For: raftOnly,
		Summary: "the leader adds and removes servers one at a time, and hands over leadership, under partitions and loss",
		Params:  map[string]int{"voters": 3, "churn": 40, "transfer": 1000},
		Profile: func(t node.Timing) sim.Profile {
			// Configuration changes every few round trips, so that a new leader often wants
			// one before it has committed anything; leaders cut off often, so that changes
			// are left half done; and a lossy network, so that a leader's first entries reach
			// some of its voters and not others: what the single-server change without
			// Ongaro's fix needs to go wrong.
			d := delays(t)
			d.TailProb = 0.1
			return sim.Profile{Delay: d, Drop: 0.1, Duplicate: 0.02, Reorder: true,
				FaultEvery: t.Settle / 4, Down: t.Settle, Split: 1, Isolate: 3, MaxDown: -1}
		},
		Faults: 2.5, Liveness: 10},
	{Name: "long-haul", For: raftOnly,
		Summary: "an hour of steady client load with occasional faults: memory must stay bounded",
		// Reads through the log, a small snapshot threshold and window: compaction every few
		// entries all hour long, and a tight bound for the log to stay under.
		Params: map[string]int{"readindex": 0, "snapshot": 4, "window": 4, "sessions": 8},
		Profile: func(t node.Timing) sim.Profile {
			d := delays(t)
			d.TailProb = 0.01
			return sim.Profile{Delay: d, Drop: 0.01, Duplicate: 0.01, Reorder: true,
				FaultEvery: 20 * t.Settle, Down: t.Settle, Crash: 1, Pause: 1, Isolate: 1, MaxDown: -1}
		},
		Faults: 3600, Liveness: 10, MaxEvents: 20_000_000,
		Unreached: map[string]string{"configuration-changed": noMembership, "leadership-transferred": noMembership,
			"read-index": "reads go through the log here (readindex=0), so that they too grow it",
			"fast-backtrack": "a fault every 20 settle times, after which a follower is at most a few entries " +
				"behind: not a whole term (the coverage check runs one seed of an hour)"}},
}

// fixedCutUnreached are what a network with fixed cut links and no other fault does not do.
func fixedCutUnreached() map[string]string {
	u := calmUnreached()
	u["check-quorum-step-down"] = "the connected majority keeps its leader: none loses its majority"
	return u
}

// partialConnectivity is the network of the 2020 etcd outage, on five nodes: 1, 2 and 3 reach
// one another; 4 reaches only 2, and 5 reaches only 3. A correct Raft (with Pre-Vote or
// CheckQuorum) keeps one leader in office; plain Raft lets 4 and 5 depose every leader they
// cannot hear.
func partialConnectivity(t node.Timing) sim.Profile {
	var cut []sim.Link
	for _, pair := range [][2]node.ID{{4, 1}, {4, 3}, {4, 5}, {5, 1}, {5, 2}} {
		cut = append(cut, sim.Link{From: pair[0], To: pair[1]}, sim.Link{From: pair[1], To: pair[0]})
	}
	return sim.Profile{Delay: delays(t), Cut: cut}
}
