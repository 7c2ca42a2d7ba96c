package node

// Tolerance is what a protocol declares about the faults it survives, beyond the network's
// faults and crashes that keep what was synced. The tools keep a run's faults within it,
// unless a scenario means to break it (see Protocol.Tolerates and sim.Profile.MaxDown).
//
// Three budgets are separate, and each is stated where it belongs: how many nodes may be
// down at once during the fault phase (Down, here); which nodes must be up for the protocol to
// get anywhere once faults heal (Protocol.Essential: a coordinator, a sequencer); and how many
// nodes must be up and connected for progress (Protocol.Quorum). A two-phase commit needs
// every node for progress (Quorum n), yet survives any one of them crashing by waiting for it:
// its Down is one, not n minus n.
type Tolerance struct {
	// Down is how many nodes may be down (crashed or paused) at once during the fault phase,
	// in a cluster of n, Byzantine nodes aside. nil: n - Quorum(n), the nodes the protocol
	// can lose and still make progress; or, for a protocol that needs every node (Quorum n),
	// one.
	Down func(n int) int
	// Disk lists the storage faults the protocol survives; the zero DiskFaults, none.
	Disk DiskFaults
	// ClusterCrash: every node may crash at once, losing what it had not synced. A protocol
	// that keeps what it acknowledged on synced storage survives it; one that keeps its
	// state in memory only does not.
	ClusterCrash bool
	// Skew is the largest timer clock skew the protocol is designed for: a run's nodes' timers
	// run at rates within [1-Skew, 1+Skew] of real time, where a scenario would draw more (a
	// swarm draws up to 0.5). A lease, say, holds only within the skew it was sized for. Zero:
	// any skew the scenario draws.
	Skew float64
}

// DownBudget is how many nodes of a cluster of n the protocol lets be down at once, by its
// Tolerance or by its Quorum (see Tolerance.Down).
func (p *Protocol) DownBudget(n int) int {
	if p.Tolerates.Down != nil {
		return p.Tolerates.Down(n)
	}
	q := (n / 2) + 1
	if p.Quorum != nil {
		q = p.Quorum(n)
	}
	if q >= n && n > 1 {
		return 1
	}
	return max(0, n-q)
}
