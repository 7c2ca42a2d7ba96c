// Package gossip is anti-entropy as a component: it spreads the latest version of its user's
// state (a state-based CRDT, say) to every node, over a network that loses messages, by
// pushing it at once to everyone and then, periodically, to a peer drawn at random (Demers et
// al., "Epidemic algorithms for replicated database maintenance", 1987). The user merges what
// arrives; gossip itself never looks inside a state.
//
// Interface:
//
//	request     Publish{State}          this node's state is now State
//	indication  Received{From, State}   a state published by From arrived
//
// Memory: a node keeps one state, its latest (a buffer of one: a newer publication replaces
// an older one, which merging makes redundant anyway), and per peer the newest version it has
// received; so its memory is bounded by the size of its user's state and the cluster.
//
// Versions: a node numbers what it publishes within an incarnation, and its incarnations in
// durable storage (its epoch), so that receivers tell newer from older across restarts.
//
// Properties: no creation (a version received from p was published by p, an invariant over
// the Published and Heard outputs), and, after healing, dissemination (every node that is up
// has received the latest version of every peer that is up).
//
// Seeded bug: push-once (no periodic anti-entropy: a state is pushed once, when published, so
// a push the network loses is never repaired).
package gossip

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// BugPushOnce is the seeded bug.
const BugPushOnce = "push-once"

// Version orders the publications of a node: by incarnation, then within it.
type Version struct{ Epoch, N int }

// Less orders versions.
func (v Version) Less(o Version) bool { return v.Epoch < o.Epoch || v.Epoch == o.Epoch && v.N < o.N }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Epoch, v.N) }

// The interface.
type (
	Publish  struct{ State any }
	Received struct {
		From  node.ID
		State any
	}
)

// Push is the only message: the sender's latest state.
type Push struct {
	Version Version
	State   any
}

func (p Push) String() string { return fmt.Sprintf("PUSH(%v)", p.Version) }

// The outputs the properties read.
type (
	Published struct{ Version Version }
	Heard     struct {
		From    node.ID
		Version Version
	}
)

// Tuning.
const (
	keyEpoch   = "epoch"
	timerRound = "round"
	roundMin   = 30 * time.Millisecond
	roundMax   = 60 * time.Millisecond
)

// Gossip is one node's anti-entropy.
type Gossip struct {
	cfg     node.Config
	self    node.ID
	version Version
	state   any
	has     bool
	heard   []Version // heard[p]: the newest version received from p
}

// New returns node id's gossip.
func New(cfg node.Config, id node.ID) node.Node {
	return &Gossip{cfg: cfg, self: id, heard: make([]Version, cfg.N+1)}
}

// Start begins an incarnation, and the rounds of anti-entropy.
func (g *Gossip) Start(env node.Env) {
	last, _ := node.Load[int](env, keyEpoch)
	g.version = Version{Epoch: last + 1}
	env.Store(keyEpoch, g.version.Epoch)
	env.Sync()
	if g.cfg.Bug != BugPushOnce {
		env.SetTimer(timerRound, roundMin, roundMax)
	}
}

// Request publishes a new state, pushed to everyone at once.
func (g *Gossip) Request(env node.Env, req node.Request) {
	p, ok := node.OpOf[Publish](req)
	if !ok {
		return
	}
	g.version.N++
	g.state, g.has = p.State, true
	env.Output(Published{Version: g.version})
	env.Broadcast(Push{Version: g.version, State: g.state})
}

// Receive hands a newer state to the user.
func (g *Gossip) Receive(env node.Env, from node.ID, m node.Message) {
	p, ok := m.(Push)
	if !ok || from < 1 || int(from) > g.cfg.N || !g.heard[from].Less(p.Version) {
		return
	}
	g.heard[from] = p.Version
	env.Output(Heard{From: from, Version: p.Version})
	node.Indicate(env, Received{From: from, State: p.State})
}

// Timer: a round of anti-entropy pushes the latest state to a peer drawn at random.
func (g *Gossip) Timer(env node.Env, name string) {
	if name != timerRound {
		return
	}
	env.SetTimer(timerRound, roundMin, roundMax)
	if !g.has || g.cfg.N < 2 {
		return
	}
	to := node.ID(1 + env.Choose(g.cfg.N-1))
	if to >= g.self {
		to++
	}
	env.Send(to, Push{Version: g.version, State: g.state})
}

// Latest is the version the node published last (zero N: none in this incarnation).
func (g *Gossip) Latest() Version { return g.version }

// HeardFrom is the newest version the node received from p.
func (g *Gossip) HeardFrom(p node.ID) Version { return g.heard[p] }

// Size is one state and one version per peer.
func (g *Gossip) Size() int { return 1 + len(g.heard) }
