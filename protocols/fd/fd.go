// Package fd is an eventually perfect failure detector (◇P) as a component (Chandra and
// Toueg, 1996; Cachin, Guerraoui and Rodrigues, section 2.6.5, "increasing timeout"): every
// node sends heartbeats, and suspects a peer it has not heard from for a while. A suspicion
// may be false (the peer was slow, or a heartbeat was lost); when the peer is heard from again
// the detector restores it and waits longer for it from then on, so that once the network
// behaves, false suspicions stop for good.
//
// Interface:
//
//	indication  Suspect{Node}  the detector now suspects Node has crashed
//	indication  Restore{Node}  it no longer does
//
// Properties, judged once faults heal (the network then behaves: no loss, bounded delays):
//
//	strong completeness          eventually every node that is down is suspected by every node
//	                             that is up, and stays suspected
//	eventual strong accuracy     eventually no node that is up suspects a node that is up, and
//	                             none ever does again
//
// Both are "eventually always" (node.Liveness with Stable): once they hold they must keep
// holding for Stable. Two leftovers of the fault phase are not held against them: what was
// still in flight when faults healed (a heartbeat of a node that has since crashed for good may
// arrive, late, and restore it for a moment; the checker waits for it, see checker.Drain), and
// a watch armed before healing on the last heartbeat that got through, which may still run out
// after: accuracy is judged once every pair of nodes that are up has heard a heartbeat since
// healing (HeardSinceHealing).
//
// Heartbeats travel over the network itself, not perfect links: a lost heartbeat needs no
// retransmission (the next one follows), and retransmitting to a crashed peer would grow
// without bound.
//
// Seeded bug: short-timeout (the detector waits one heartbeat period for a peer instead of
// the peer's timeout, so it suspects live peers between heartbeats, again and again). The
// plain "eventually" check passes it (at some instant nothing is suspected); "eventually
// always" does not.
package fd

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// BugShortTimeout is the seeded bug.
const BugShortTimeout = "short-timeout"

// Timing. The first timeout covers a heartbeat period on the slowest clock (a node's timers
// may run at half or one and a half times real speed) plus the longest delay of a healed
// network, so that a network that behaves never makes the detector suspect anyone.
const (
	Period      = 80 * time.Millisecond
	Timeout     = 400 * time.Millisecond
	MaxTimeout  = time.Second
	timerBeat   = "beat"
	watchPrefix = "watch/"
)

// Heartbeat is the only message: "I am alive".
type Heartbeat struct{}

func (Heartbeat) String() string { return "HEARTBEAT" }

// The indications.
type (
	Suspect struct{ Node node.ID }
	Restore struct{ Node node.ID }
)

// Detector is one node's failure detector.
type Detector struct {
	cfg       node.Config
	self      node.ID
	suspected []bool          // suspected[p]
	timeout   []time.Duration // timeout[p]: how long to wait for p's next heartbeat
	heard     []int           // heard[p]: heartbeats received from p, for the properties
	restored  int             // false suspicions corrected, for coverage
}

// New returns node id's detector.
func New(cfg node.Config, id node.ID) node.Node {
	d := &Detector{cfg: cfg, self: id, suspected: make([]bool, cfg.N+1),
		timeout: make([]time.Duration, cfg.N+1), heard: make([]int, cfg.N+1)}
	for p := range d.timeout {
		d.timeout[p] = Timeout
	}
	return d
}

// Start trusts everyone, and starts the heartbeats and the watch on every peer.
func (d *Detector) Start(env node.Env) {
	env.SetTimer(timerBeat, Period, Period)
	for _, p := range env.Nodes() {
		if p != d.self {
			d.watch(env, p)
		}
	}
}

// watch (re)arms the timer that suspects p if no heartbeat comes in time.
func (d *Detector) watch(env node.Env, p node.ID) {
	wait := d.timeout[p]
	if d.cfg.Bug == BugShortTimeout {
		wait = Period // the seeded bug: a heartbeat period, with no room for any delay
	}
	env.SetTimer(fmt.Sprint(watchPrefix, int(p)), wait, wait)
}

// Receive: a heartbeat from p. A suspicion of p was false: restore p, and give it longer.
func (d *Detector) Receive(env node.Env, from node.ID, m node.Message) {
	if _, ok := m.(Heartbeat); !ok || from == d.self || from < 1 || int(from) > d.cfg.N {
		return
	}
	d.heard[from]++
	if d.suspected[from] {
		d.suspected[from] = false
		d.restored++
		d.timeout[from] = min(d.timeout[from]+Period, MaxTimeout)
		node.Indicate(env, Restore{Node: from})
	}
	d.watch(env, from)
}

// Timer sends heartbeats, and suspects a peer whose watch ran out.
func (d *Detector) Timer(env node.Env, name string) {
	if name == timerBeat {
		env.Broadcast(Heartbeat{})
		env.SetTimer(timerBeat, Period, Period)
		return
	}
	var p int
	if _, err := fmt.Sscanf(name, watchPrefix+"%d", &p); err != nil || p < 1 || p > d.cfg.N || d.suspected[p] {
		return
	}
	d.suspected[p] = true
	node.Indicate(env, Suspect{Node: node.ID(p)})
}

// Request: the detector takes no requests.
func (d *Detector) Request(node.Env, node.Request) {}

// Suspects reports whether the detector suspects p.
func (d *Detector) Suspects(p node.ID) bool {
	return p >= 1 && int(p) < len(d.suspected) && d.suspected[p]
}

// Heard is how many heartbeats the detector has received from p.
func (d *Detector) Heard(p node.ID) int {
	if p < 1 || int(p) >= len(d.heard) {
		return 0
	}
	return d.heard[p]
}
