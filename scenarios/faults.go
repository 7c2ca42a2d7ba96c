package scenarios

import (
	"errors"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// The scenarios of storage faults and whole-cluster crashes (see sim/disk.go).
func init() { RegisterScenario(faultScenarios...) }

// The storage-fault scenarios are for any protocol, of any module, that declares it survives
// what they inject (node.Tolerance): what it declares, not its name, lets it in.
var (
	survivesClusterCrash = survives(func(t node.Tolerance) bool { return t.ClusterCrash },
		"a whole-cluster crash (node.Tolerance.ClusterCrash)")
	survivesCorruption = survives(func(t node.Tolerance) bool { return t.Disk.Corrupt },
		"corrupt reads (node.Tolerance.Disk.Corrupt)")
	survivesFullDisks = survives(func(t node.Tolerance) bool { return t.Disk.Full },
		"refused writes (node.Tolerance.Disk.Full)")
)

// survives is a scenario's Needs: that the protocol declares it survives what.
func survives(declared func(node.Tolerance) bool, what string) func(*node.Protocol) error {
	return func(p *node.Protocol) error {
		if !declared(p.Tolerates) {
			return errors.New("it needs a protocol that survives " + what)
		}
		return nil
	}
}

var faultScenarios = []*Scenario{
	{Name: "cluster-crash", Needs: survivesClusterCrash,
		Summary: "the whole cluster loses power at once, now and then, besides single crashes: nothing acknowledged may be lost, and the cluster must serve again after it restarts",
		Profile: func(t node.Timing) sim.Profile {
			// A cluster crash every second fault tick or so, with restarts after up to a
			// settle time: operations in flight when the power goes are left half done, and
			// what every node had synced is all the cluster has.
			d := delays(t)
			d.TailProb = 0.02
			return sim.Profile{Delay: d, Drop: 0.02, Duplicate: 0.02, Reorder: true,
				FaultEvery: t.Settle / 2, Down: t.Settle / 2, Crash: 1, Isolate: 1, ClusterCrash: 2, MaxDown: -1}
		},
		Faults: 6, Liveness: 10,
		Unreached: map[string]string{"byzantine-sender-delivered": noByzantine,
			"configuration-changed": noMembership, "leadership-transferred": noMembership}},
	{Name: "disk-corruption", Needs: survivesCorruption,
		Summary: "reads that come back from the disk altered, with frequent crashes and restarts that read the disk back",
		Profile: func(t node.Timing) sim.Profile {
			// A server reads its disk when it restarts: crashes every few heartbeats, with
			// quick restarts, and a read armed to come back altered at most fault ticks.
			d := delays(t)
			d.TailProb = 0.05
			return sim.Profile{Delay: d, Drop: 0.05, Duplicate: 0.05, Reorder: true,
				FaultEvery: t.Settle / 20, Down: t.Settle / 10, Crash: 2, Corrupt: 2, MaxDown: -1}
		},
		Faults: 3, Liveness: 10,
		Unreached: stormUnreached()},
	{Name: "disk-full", Needs: survivesFullDisks,
		Summary: "disks that refuse writes for a while, with frequent crashes: what a server answered for must be on its disk",
		Profile: func(t node.Timing) sim.Profile {
			d := delays(t)
			d.TailProb = 0.05
			return sim.Profile{Delay: d, Drop: 0.05, Duplicate: 0.05, Reorder: true,
				FaultEvery: t.Settle / 20, Down: t.Settle / 5, Crash: 2, Full: 2, MaxDown: -1}
		},
		// Two seconds of faults, not three: a run fails half as often, but costs two thirds,
		// and the bug's campaign of 20,000 seeds must fit in two minutes on two cores.
		Faults: 2, Liveness: 10,
		Unreached: map[string]string{"configuration-changed": noMembership, "leadership-transferred": noMembership,
			"check-quorum-step-down": "a crash every few heartbeats, within two seconds of faults: leaders crash before they can lose a majority",
			"log-compacted":          "a crash every few heartbeats, and writes refused: the log never grows to a snapshot's threshold",
			"snapshot-installed":     "a crash every few heartbeats, and writes refused: the log never grows to a snapshot's threshold",
			"fast-backtrack":         "a crash every few heartbeats: no leader lasts long enough to meet a follower a whole term behind"}},
}

// stormUnreached are the properties Raft does not reach with a crash every few heartbeats.
func stormUnreached() map[string]string {
	const storm = "a crash every few heartbeats: "
	return map[string]string{"configuration-changed": noMembership, "leadership-transferred": noMembership,
		"check-quorum-step-down": storm + "leaders crash before they can lose a majority",
		"fast-backtrack":         storm + "no leader lasts long enough to meet a follower a whole term behind"}
}
