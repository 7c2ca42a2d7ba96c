package sim

import (
	"fmt"
	"strings"

	"github.com/replica-io/replica/protocols/node"
)

// downBudget is how many nodes may be down (crashed or paused) at once in a run of cfg under
// profile p: the profile's MaxDown when it sets one, else what the protocol tolerates (see
// node.Tolerance.Down), less the run's Byzantine nodes, which are faulty already.
func downBudget(cfg Config, p Profile) int {
	if p.MaxDown >= 0 {
		return p.MaxDown
	}
	return max(0, cfg.Protocol.DownBudget(cfg.Cluster.N)-cfg.Cluster.F)
}

// DownBudget is how many nodes may be down at once in a run of cfg (for a swarm, under its
// base profile, whose MaxDown every drawn profile keeps).
func DownBudget(cfg Config) int { return downBudget(cfg, cfg.Profile) }

// Unfireable lists the fault kinds that cfg's profile enables but that can never fire in its
// runs, each with the reason: a campaign says so before its first run, rather than report
// them as never fired at its end. A swarm run draws its kinds, so its base profile says what
// may be enabled.
func Unfireable(cfg Config) []string {
	p := cfg.Profile
	if cfg.Swarm {
		p = Swarm(allOn{}, p)
	}
	var out []string
	n := cfg.Cluster.N
	down := downBudget(cfg, p)
	why := fmt.Sprintf("no node may be down at once (n=%d: %s)", n, downReason(cfg, p))
	if down == 0 {
		if p.FaultEvery > 0 && p.Crash > 0 || p.StepCrash > 0 {
			out = append(out, "crash: "+why)
		}
		if p.FaultEvery > 0 && p.Pause > 0 {
			out = append(out, "pause: "+why)
		}
	}
	if n < 2 && p.FaultEvery > 0 && p.Split+p.Isolate+p.OneWay+p.Partial > 0 {
		out = append(out, "partitions: a cluster of one node has no link to cut")
	}
	if p.FaultEvery > 0 && !p.BreakDisk {
		var kinds []string
		t := cfg.Protocol.Tolerates
		for _, k := range []struct {
			kind     string
			weight   int
			declared bool
		}{
			{"disk_corrupt", p.Corrupt, t.Disk.Corrupt}, {"disk_torn", p.Torn, t.Disk.Torn},
			{"disk_full", p.Full, t.Disk.Full}, {"disk_slow", p.Slow, t.Disk.Slow},
			{"cluster_crash", p.ClusterCrash, t.ClusterCrash},
		} {
			if k.weight > 0 && !k.declared {
				kinds = append(kinds, k.kind)
			}
		}
		if len(kinds) > 0 {
			out = append(out, strings.Join(kinds, ", ")+": the protocol does not declare that it survives them (node.Tolerance), and the scenario does not mean to break it")
		}
	}
	switch {
	case p.FaultEvery <= 0 || p.Torn+p.Lost+p.Full+p.Slow == 0:
	case down == 0:
		out = append(out, "disk_torn, disk_lost, disk_full, disk_slow: "+why)
	case allEssential(cfg):
		out = append(out, "disk_torn, disk_lost, disk_full, disk_slow: every node is essential (node.Protocol.Essential), so none may be taken down by its disk")
	case p.Lost > 0 && !p.BreakDisk && !cfg.Protocol.Tolerates.Disk.Lost && !canLoseOne(cfg, max(cfg.Cluster.F, len(p.Byzantine.Nodes))):
		out = append(out, fmt.Sprintf("disk_lost: a node whose sync lied stays down for good, and the protocol needs %d of its %d nodes for progress, so it cannot lose one (it does not declare node.Tolerance.Disk.Lost)",
			quorumOf(cfg), n))
	}
	if len(p.Byzantine.kinds()) > 0 && cfg.Cluster.F == 0 {
		out = append(out, "Byzantine strategies: the run has no Byzantine node (-f 0)")
	}
	return out
}

// allEssential reports whether the protocol keeps every node of the cluster up
// (node.Protocol.Essential): the storage faults that take a node down pick none of them.
func allEssential(cfg Config) bool {
	if cfg.Protocol.Essential == nil {
		return false
	}
	kept := map[node.ID]bool{}
	for _, id := range cfg.Protocol.Essential(cfg.Cluster) {
		if id >= 1 && int(id) <= cfg.Cluster.N {
			kept[id] = true
		}
	}
	return len(kept) == cfg.Cluster.N
}

// quorumOf is how many nodes the protocol needs for progress (every one, unless its Quorum
// says otherwise), as the liveness phase keeps up.
func quorumOf(cfg Config) int {
	if cfg.Protocol.Quorum == nil {
		return cfg.Cluster.N
	}
	return cfg.Protocol.Quorum(cfg.Cluster.N)
}

func downReason(cfg Config, p Profile) string {
	switch {
	case p.MaxDown == 0:
		return "the profile's MaxDown is 0"
	case cfg.Protocol.Tolerates.Down != nil:
		return fmt.Sprintf("the protocol tolerates %d down, %d Byzantine", cfg.Protocol.DownBudget(cfg.Cluster.N), cfg.Cluster.F)
	}
	return fmt.Sprintf("a quorum of %d must stay up beside %d Byzantine", cfg.Cluster.N-cfg.Protocol.DownBudget(cfg.Cluster.N), cfg.Cluster.F)
}

// allOn draws every swarm knob on, at its highest rate.
type allOn struct{}

func (allOn) Choose(_ Purpose, n int) int    { return n - 1 }
func (allOn) Flip(_ Purpose, _ float64) bool { return true }
