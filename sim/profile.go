package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Delay is a message delay distribution: most messages take between Min and Typical*2; a
// fraction TailProb of them take up to Tail instead.
type Delay struct {
	Min, Typical, Tail time.Duration
	TailProb           float64
}

// Profile is a fault profile: every knob of the simulated network and nodes. The zero Profile
// is a perfect network with no faults. Rates are per message (Drop, Duplicate) or weights of
// the fault drawn at each fault tick (Crash, Pause, the partition kinds).
type Profile struct {
	Delay Delay
	// Drop and Duplicate are per-message probabilities. Reorder lets a link deliver out of
	// order; without it each link is FIFO.
	Drop, Duplicate float64
	Reorder         bool

	// FaultEvery is the mean gap between fault ticks, at which one fault is drawn among the
	// enabled kinds by weight. Zero disables node and partition faults.
	FaultEvery time.Duration
	// Weights of the node faults: Crash (the node restarts from durable storage after a
	// downtime) and Pause (it stops for a while, then resumes with its state).
	Crash, Pause int
	// Weights of the partition kinds; each heals after a while.
	Split, Isolate, OneWay, Partial int
	// Down is the longest a crashed node stays down, a paused node stays paused, or a
	// partition lasts.
	Down time.Duration
	// MaxDown is how many nodes may be down (crashed or paused) at once; -1 means as many as
	// the protocol tolerates (n minus its quorum).
	MaxDown int
	// Skew is the largest timer clock skew: each node's timers run at a rate drawn in
	// [1-Skew, 1+Skew].
	Skew float64
	// StepCrash is the probability that a node crashes right after a step, before it
	// does anything else: crashes placed between the messages of one exchange, where state
	// that should have been durable is lost. The node restarts after a downtime in [0, Down].
	StepCrash float64
	// Cut lists links that are down for the whole fault phase, each one way (From cannot
	// reach To): a fixed network shape such as partial connectivity, rather than drawn
	// partitions. Drawn partitions come and go on top of it; healing restores it all.
	Cut []Link
	// Byzantine says what the run's Byzantine nodes do (see Byzantine); the cluster
	// configuration's F says how many there are.
	Byzantine Byzantine

	// Weights of the storage faults drawn at fault ticks (see disk.go): a read that comes
	// back altered (Corrupt), a crash in the middle of a sync (Torn), a sync that lies and a
	// crash after it (Lost), a disk that refuses writes for a while (Full), and one whose
	// syncs take up to SlowSync for a while (Slow). Each fires only if the protocol declares it
	// survives it (node.Tolerance.Disk), or if BreakDisk is set.
	Corrupt, Torn, Lost, Full, Slow int
	SlowSync                        time.Duration
	BreakDisk                       bool
	// ClusterCrash is the weight of a crash of every node at once, which restart together
	// after a downtime; it fires only for a protocol that declares it survives it
	// (node.Tolerance.ClusterCrash), or if BreakDisk is set.
	ClusterCrash int
	// Disk lets Swarm draw the storage faults and cluster crashes.
	Disk bool
}

// Link is a one-way network link.
type Link struct{ From, To node.ID }

// Kind is a fault kind, counted every time it fires.
type Kind int

const (
	KindDrop Kind = iota
	KindDuplicate
	KindReorder
	KindDelayTail
	KindPartitionSplit
	KindPartitionIsolate
	KindPartitionOneWay
	KindPartitionPartial
	KindHeal
	KindBlocked
	KindCrash
	KindRestart
	KindPause
	KindResume
	KindSkew
	// The adversary's strategies, counted each time a Byzantine node uses one (see Byzantine).
	KindSilent
	KindEquivocate
	KindMutate
	KindReplay
	KindSelective
	KindTwins
	// Storage faults and whole-cluster crashes (see disk.go).
	KindDiskCorrupt
	KindDiskTorn
	KindDiskLost
	KindDiskFull
	KindDiskSlow
	KindClusterCrash
	NumKinds
)

var kindNames = [NumKinds]string{
	"drop", "duplicate", "reorder", "delay_tail",
	"partition_split", "partition_isolate", "partition_oneway", "partition_partial",
	"heal", "blocked", "crash", "restart", "pause", "resume", "skew",
	"silent", "equivocate", "mutate", "replay", "selective", "twins",
	"disk_corrupt", "disk_torn", "disk_lost", "disk_full", "disk_slow", "cluster_crash",
}

func (k Kind) String() string { return kindNames[k] }

// KindByName returns the fault kind called name.
func KindByName(name string) (Kind, bool) {
	for k, n := range kindNames {
		if n == name {
			return Kind(k), true
		}
	}
	return 0, false
}

// Counts is how many times each fault kind fired.
type Counts [NumKinds]int

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	for k := range c {
		c[k] += o[k]
	}
}

// Total is the number of faults of every kind but the derived ones (blocked messages are the
// consequence of a partition, heals and resumes the end of a fault).
func (c Counts) Total() int {
	t := 0
	for k, n := range c {
		switch Kind(k) {
		case KindBlocked, KindHeal, KindResume, KindRestart:
		default:
			t += n
		}
	}
	return t
}

// Enabled lists the fault kinds the profile can fire, so that a campaign can tell a kind
// that never fired from one that was off.
func (p Profile) Enabled() []Kind {
	var ks []Kind
	add := func(on bool, k ...Kind) {
		if on {
			ks = append(ks, k...)
		}
	}
	faults := p.FaultEvery > 0
	add(p.Drop > 0, KindDrop)
	add(p.Duplicate > 0, KindDuplicate)
	add(p.Reorder, KindReorder)
	add(p.Delay.TailProb > 0, KindDelayTail)
	add(faults && p.Split > 0, KindPartitionSplit, KindHeal)
	add(faults && p.Isolate > 0, KindPartitionIsolate, KindHeal)
	add(faults && p.OneWay > 0, KindPartitionOneWay, KindHeal)
	add(faults && p.Partial > 0, KindPartitionPartial, KindHeal)
	add(faults && p.Crash > 0 || p.StepCrash > 0, KindCrash, KindRestart)
	add(faults && p.Pause > 0, KindPause, KindResume)
	add(p.Skew > 0, KindSkew)
	ks = append(ks, p.Byzantine.kinds()...)
	add(faults && p.Corrupt > 0, KindDiskCorrupt)
	add(faults && p.Torn > 0, KindDiskTorn, KindCrash, KindRestart)
	add(faults && p.Lost > 0, KindDiskLost, KindCrash)
	add(faults && p.Full > 0, KindDiskFull)
	add(faults && p.Slow > 0 && p.SlowSync > 0, KindDiskSlow)
	add(faults && p.ClusterCrash > 0, KindClusterCrash, KindCrash, KindRestart)
	// Deduplicate (KindHeal may appear several times), keeping the order.
	out := ks[:0]
	var seen [NumKinds]bool
	for _, k := range ks {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// String prints the profile on one line, for -v and capsules.
func (p Profile) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "delay=%v/%v/%v tail=%.3g drop=%.3g dup=%.3g reorder=%v",
		p.Delay.Min, p.Delay.Typical, p.Delay.Tail, p.Delay.TailProb, p.Drop, p.Duplicate, p.Reorder)
	if p.FaultEvery > 0 {
		fmt.Fprintf(&b, " faults-every=%v crash=%d pause=%d split=%d isolate=%d oneway=%d partial=%d down=%v max-down=%d",
			p.FaultEvery, p.Crash, p.Pause, p.Split, p.Isolate, p.OneWay, p.Partial, p.Down, p.MaxDown)
	}
	if p.Skew > 0 {
		fmt.Fprintf(&b, " skew=%.3g", p.Skew)
	}
	if p.FaultEvery > 0 && p.Corrupt+p.Torn+p.Lost+p.Full+p.Slow+p.ClusterCrash > 0 {
		fmt.Fprintf(&b, " disk-corrupt=%d disk-torn=%d disk-lost=%d disk-full=%d disk-slow=%d/%v cluster-crash=%d",
			p.Corrupt, p.Torn, p.Lost, p.Full, p.Slow, p.SlowSync, p.ClusterCrash)
		if p.BreakDisk {
			b.WriteString(" break-disk")
		}
	}
	if p.StepCrash > 0 {
		fmt.Fprintf(&b, " step-crash=%.3g", p.StepCrash)
		if p.FaultEvery <= 0 {
			fmt.Fprintf(&b, " down=%v", p.Down)
		}
	}
	if len(p.Cut) > 0 {
		b.WriteString(" cut=")
		for i, l := range p.Cut {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%d>%d", l.From, l.To)
		}
	}
	if d := p.Byzantine.String(); d != "" {
		b.WriteString(" byzantine=" + d)
	}
	return b.String()
}

// Swarm draws a profile from the chooser: which faults are on and at what rates, around the
// base profile's time scale. Swarm testing finds more bugs than one fixed profile because
// some bugs need a fault to be frequent and others need it absent.
func Swarm(c Chooser, base Profile) Profile {
	p := base
	on := func() bool { return c.Choose(Faults, 4) != 0 } // each kind on with odds 3:1
	rate := func(levels ...float64) float64 { return levels[c.Choose(Faults, len(levels))] }
	weight := func() int {
		if !on() {
			return 0
		}
		return 1 + c.Choose(Faults, 3)
	}
	p.Drop, p.Duplicate = 0, 0
	if on() {
		p.Drop = rate(0.01, 0.05, 0.15)
	}
	if on() {
		p.Duplicate = rate(0.01, 0.05, 0.15)
	}
	p.Reorder = on()
	p.Delay.TailProb = 0
	if on() {
		p.Delay.TailProb = rate(0.01, 0.05, 0.2)
	}
	p.Crash, p.Pause = weight(), weight()
	p.Split, p.Isolate, p.OneWay, p.Partial = weight(), weight(), weight(), weight()
	p.Skew = 0
	if on() {
		p.Skew = rate(0.05, 0.2, 0.5)
	}
	if base.FaultEvery > 0 {
		p.FaultEvery = base.FaultEvery * time.Duration(1+c.Choose(Faults, 4)) / 2
	}
	if base.Disk {
		// Drawn last, so that a profile without storage faults draws what it drew before.
		p.Corrupt, p.Torn, p.Lost, p.Full, p.Slow = weight(), weight(), weight(), weight(), weight()
		p.ClusterCrash = weight()
		if p.SlowSync <= 0 {
			p.SlowSync = base.Down / 4
		}
		// Five kinds that crash a node, each on with odds 3:1, would leave almost no run
		// crash-free, and some bugs need the absence of crashes (and a swarm parameter that
		// is drawn only without them, Raft's membership changes, would hardly ever be on):
		// one run in four keeps every node up.
		if c.Choose(Faults, 4) == 0 {
			p.Crash, p.Torn, p.Lost, p.Full, p.ClusterCrash = 0, 0, 0, 0, 0
		}
	}
	return p
}
