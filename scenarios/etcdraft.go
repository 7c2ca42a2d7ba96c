package scenarios

import (
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// The scenarios written for etcd raft in the simulator: each is the habitat of one of the real
// bugs re-created in the adapter (protocols/etcdraft). partial-connectivity, shared with Raft,
// is in raft.go.
func init() { RegisterScenario(etcdraftScenarios...) }

var etcdraftOnly = []string{"etcdraft"}

var etcdraftScenarios = []*Scenario{
	{Name: "etcd-paused-leader", For: etcdraftOnly, N: 5,
		Summary: "leaders paused or cut off with a follower while slow, reordered links keep old heartbeat responses in flight (etcd-io/etcd#20418)",
		Profile: func(t node.Timing) sim.Profile {
			// A read retried at a follower while its first attempt is still on the way; the
			// leader it went to paused or cut off (with that follower) long enough for the
			// others to elect a leader and commit a write; and heartbeat responses of the first
			// attempt still in flight when the old leader comes back: what a reused ReadIndex
			// context needs to confirm a stale read.
			d := delays(t)
			d.TailProb = 0.15
			return sim.Profile{Delay: d, Duplicate: 0.05, Reorder: true,
				FaultEvery: t.Settle / 3, Down: t.Settle / 2, Pause: 3, Isolate: 1, Split: 2, MaxDown: -1}
		},
		Faults: 4, Liveness: 10},
	{Name: "etcd-leader-churn", For: etcdraftOnly,
		Summary: "the leader crashes or is cut off every few heartbeats while clients read and write (etcd-io/etcd#21375)",
		Profile: func(t node.Timing) sim.Profile {
			// New leaders one after another, each taking reads as soon as it is elected, on
			// a network where the old leader's last commit index often fails to reach them.
			d := delays(t)
			d.TailProb = 0.05
			return sim.Profile{Delay: d, Drop: 0.05, Reorder: true,
				FaultEvery: t.Settle / 4, Down: t.Settle / 3, Crash: 2, Isolate: 2, MaxDown: -1}
		},
		Faults: 4, Liveness: 10},
	{Name: "etcd-lease-skew", For: etcdraftOnly,
		Summary: "leaders cut off from the others on skewed clocks, with lease reads (etcd-io/raft#166)",
		Profile: func(t node.Timing) sim.Profile {
			d := delays(t)
			return sim.Profile{Delay: d, FaultEvery: t.Settle / 2, Down: t.Settle, Isolate: 3, Split: 1, MaxDown: -1, Skew: 0.3}
		},
		Faults: 4, Liveness: 10},
	{Name: "etcd-crash-backend", For: etcdraftOnly,
		Summary: "crashes right after steps, between a WAL sync and the backend's batch commit (etcd-io/etcd#13766)",
		Profile: func(t node.Timing) sim.Profile {
			d := delays(t)
			return sim.Profile{Delay: d, FaultEvery: t.Settle / 4, Down: t.Settle / 10, Crash: 1, StepCrash: 0.01, MaxDown: -1}
		},
		Faults: 4, Liveness: 10},
}
