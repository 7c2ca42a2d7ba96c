package scenarios

import (
	"github.com/replica-io/replica/protocols/etcdraft"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// The scenarios written for etcd raft in the simulator: each is the habitat of one of the real
// bugs re-created in the adapter (protocols/etcdraft). partial-connectivity, shared with Raft,
// is in raft.go.
func init() { RegisterScenario(etcdraftScenarios...) }

var etcdraftOnly = []string{"etcdraft"}

var etcdraftScenarios = []*Scenario{
	{Name: "etcd-paused-leader", For: etcdraftOnly,
		Summary: "nodes paused for up to a second, the leader among them, on a lossy network, while clients read at every node (etcd-io/etcd#20418)",
		Profile: func(t node.Timing) sim.Profile {
			// A read at a follower whose ReadIndex request, or its answer, is held up by a
			// paused leader or a lost message, so that the follower asks again while newer
			// reads wait behind it; and a follower that lags behind the writes others see
			// answered, so that a read index fixed before them shows: what a retry under the
			// first attempt's context needs to serve a stale read.
			d := delays(t)
			d.TailProb = 0.02
			return sim.Profile{Delay: d, Drop: 0.05, FaultEvery: t.Settle / 4, Down: t.Settle, Pause: 1, MaxDown: -1}
		},
		// One second of faults, a pause drawn every quarter of a second: time for a few
		// pauses, and no more. The bug's campaign of 20,000 seeds must fit in two minutes on
		// two cores, and most of a run is outside the fault phase (the first election, and
		// clients retrying after the heal): with three seconds a run failed three times as
		// often (0.9%), but the campaign took 115 s.
		Checks: Checks{Sometimes: []node.Sometimes{etcdraft.Coverage("read-retried")}},
		Unreached: map[string]string{"check-quorum-step-down": "one node paused at a time, within a second of faults: " +
			"a leader that is not paused keeps a quorum's contact"},
		Faults: 1, Liveness: 10},
	{Name: "etcd-leader-churn", For: etcdraftOnly,
		Summary: "crashes right after steps, the leader's among them, with quick restarts: one new leader after another (etcd-io/etcd#21375)",
		Profile: func(t node.Timing) sim.Profile {
			// A leader that crashes right after it committed and answered a write, before the
			// others learn it is committed; a new leader that takes reads as soon as it is
			// elected and commits that write only with the first entry of its term.
			d := delays(t)
			d.TailProb = 0.2
			return sim.Profile{Delay: d, FaultEvery: t.Settle / 4, Down: t.Settle / 4, Crash: 1, StepCrash: 0.02, MaxDown: -1}
		},
		Faults: 3, Liveness: 10},
	{Name: "etcd-leader-isolation", For: etcdraftOnly, Params: map[string]int{"tick": 100},
		Summary: "one node at a time cut off from the others for up to 2/3 s, the leader among them, on 100 ms ticks (etcd-io/raft#166)",
		Profile: func(t node.Timing) sim.Profile {
			// A leader cut off goes on leading until a CheckQuorum finds it without a quorum,
			// up to two election timeouts later, while the others elect a leader after one:
			// the window in which a lease read serves a value the new leader has overwritten.
			// Ticks of 100 ms (etcd's default heartbeat) widen it against the few round trips
			// the new leader needs to commit a write.
			return sim.Profile{Delay: delays(t), FaultEvery: t.Settle / 6, Down: t.Settle * 2 / 3, Isolate: 1, MaxDown: -1}
		},
		Checks: Checks{Sometimes: []node.Sometimes{etcdraft.Coverage("lease-kept-leader"), etcdraft.Coverage("snapshot-installed")}},
		Faults: 3, Liveness: 10},
	{Name: "etcd-crash-backend", For: etcdraftOnly,
		Summary: "crashes right after steps, between a WAL sync and the backend's batch commit (etcd-io/etcd#13766)",
		Profile: func(t node.Timing) sim.Profile {
			d := delays(t)
			return sim.Profile{Delay: d, FaultEvery: t.Settle / 4, Down: t.Settle / 10, Crash: 1, StepCrash: 0.01, MaxDown: -1}
		},
		Checks:    Checks{Sometimes: []node.Sometimes{etcdraft.Coverage("backend-recovered")}},
		Unreached: map[string]string{"check-quorum-step-down": "crashes only: a leader loses its majority only by crashing"},
		Faults:    3, Liveness: 10},
}
