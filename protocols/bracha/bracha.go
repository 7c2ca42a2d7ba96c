package bracha

import (
	"fmt"
	"slices"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// Value is what a sender broadcasts; zero means none.
type Value int

// The messages of the protocol. Instance s is node s's broadcast: INITIAL needs no Sender,
// since only s sends it and channels are authenticated.
type (
	// Initial is the sender's value, sent to every node.
	Initial struct{ Value Value }
	// Echo says that the node got Value from Sender's INITIAL.
	Echo struct {
		Sender node.ID
		Value  Value
	}
	// Ready says that the node knows Value is the only value Sender's broadcast can deliver.
	Ready struct {
		Sender node.ID
		Value  Value
	}
	// Pull asks the other nodes to send again what they sent for Sender's broadcast: the
	// node has not delivered it, and messages may have been lost.
	Pull struct{ Sender node.ID }
)

func (m Initial) String() string { return fmt.Sprintf("INITIAL(%d)", m.Value) }
func (m Echo) String() string    { return fmt.Sprintf("ECHO(n%d: %d)", m.Sender, m.Value) }
func (m Ready) String() string   { return fmt.Sprintf("READY(n%d: %d)", m.Sender, m.Value) }
func (m Pull) String() string    { return fmt.Sprintf("PULL(n%d)", m.Sender) }

// The outputs: a sender's own value when it starts broadcasting, and each delivery.
type (
	Broadcast struct{ Value Value }
	Delivery  struct {
		Sender node.ID
		Value  Value
	}
)

// record is what a node keeps in durable storage about one instance: what it promised (its
// ECHO, its READYs) and what it delivered.
type record struct {
	Echoed    Value
	Readied   []Value // one value in the correct protocol (see the package comment)
	Delivered Value
}

// instance is a node's view of one sender's broadcast.
type instance struct {
	record
	echoes, readies quorum.Tally[Value]
}

// Node is one node of Bracha's broadcast: the sender of its own instance and a participant
// in everyone else's.
type Node struct {
	cfg   node.Config
	f     int
	value Value      // this node's own broadcast
	inst  []instance // inst[s-1]: node s's broadcast
}

const (
	keyValue  = "value"
	timerPull = "pull"
	// maxValue bounds the values senders draw.
	maxValue = 1000
)

// Pull period: a few round trips, randomized so that nodes do not pull in lockstep.
const (
	pullMin = 40 * time.Millisecond
	pullMax = 80 * time.Millisecond
)

// New returns node id of a cluster configured by cfg.
func New(cfg node.Config, id node.ID) node.Node {
	return &Node{cfg: cfg, f: quorum.MaxByzantine(cfg.N), inst: make([]instance, cfg.N)}
}

func instanceKey(s node.ID) string { return fmt.Sprintf("inst/%d", s) }

// Start recovers what the node promised and delivered, draws its own value on first boot,
// and broadcasts it.
func (n *Node) Start(env node.Env) {
	self := env.Self()
	for i := range n.inst {
		if rec, ok := node.Load[record](env, instanceKey(node.ID(i+1))); ok {
			in := &n.inst[i]
			in.record = rec
			in.echoes.Add(self, in.Echoed)
			for _, r := range in.Readied {
				in.readies.Add(self, r)
			}
		}
	}
	if v, ok := node.Load[Value](env, keyValue); ok {
		n.value = v
	} else {
		n.value = Value(1 + env.Choose(maxValue))
		env.Store(keyValue, n.value)
		env.Sync()
		env.Output(Broadcast{Value: n.value})
	}
	env.Broadcast(Initial{Value: n.value})
	n.onInitial(env, self, n.value)
	env.SetTimer(timerPull, pullMin, pullMax)
}

// Request is unused: nodes broadcast their own values, without clients.
func (n *Node) Request(env node.Env, req node.Request) {}

// Receive dispatches a message. Sender fields come from the wire and may be anything a
// Byzantine node made up, so they are checked before use.
func (n *Node) Receive(env node.Env, from node.ID, m node.Message) {
	switch m := m.(type) {
	case Initial:
		n.onInitial(env, from, m.Value)
	case Echo:
		if n.valid(m.Sender, m.Value) {
			n.onEcho(env, from, m.Sender, m.Value)
		}
	case Ready:
		if n.valid(m.Sender, m.Value) {
			n.onReady(env, from, m.Sender, m.Value)
		}
	case Pull:
		if n.valid(m.Sender, 1) {
			n.onPull(env, from, m.Sender)
		}
	}
}

func (n *Node) valid(s node.ID, v Value) bool { return s >= 1 && int(s) <= len(n.inst) && v > 0 }

// onInitial echoes the first value sender s sends, and only that one.
func (n *Node) onInitial(env node.Env, s node.ID, v Value) {
	in := &n.inst[s-1]
	if in.Echoed != 0 || v <= 0 {
		return
	}
	in.Echoed = v
	n.persist(env, s)
	env.Broadcast(Echo{Sender: s, Value: v})
	n.onEcho(env, env.Self(), s, v)
}

// readyAfter is how many ECHOs of a value make a node ready for it: an echo quorum, so that
// two values can never both have one.
func (n *Node) readyAfter() int {
	if n.cfg.Bug == BugWeakReady {
		// The seeded bug: f echoes, which one Byzantine node and one deceived correct node
		// provide for each of two values.
		return n.f
	}
	return quorum.Byzantine(n.cfg.N, n.f)
}

func (n *Node) onEcho(env node.Env, from, s node.ID, v Value) {
	in := &n.inst[s-1]
	if in.echoes.Add(from, v) && in.echoes.Count(v) >= n.readyAfter() {
		n.ready(env, s, v)
	}
}

// onReady counts a READY: f+1 of them include a correct node's, so the node joins them
// (amplification); 2f+1 include f+1 correct ones, which every correct node will hear, so the
// node can deliver.
func (n *Node) onReady(env node.Env, from, s node.ID, v Value) {
	in := &n.inst[s-1]
	if !in.readies.Add(from, v) {
		return
	}
	c := in.readies.Count(v)
	if c >= n.f+1 {
		n.ready(env, s, v)
	}
	if c >= 2*n.f+1 && in.Delivered == 0 {
		in.Delivered = v
		n.persist(env, s)
		env.Output(Delivery{Sender: s, Value: v})
		node.Indicate(env, Delivery{Sender: s, Value: v}) // for the layer above, inside a stack
	}
}

// ready sends READY(v) for sender s, once per value.
func (n *Node) ready(env node.Env, s node.ID, v Value) {
	in := &n.inst[s-1]
	if slices.Contains(in.Readied, v) {
		return
	}
	in.Readied = append(in.Readied, v)
	n.persist(env, s)
	env.Broadcast(Ready{Sender: s, Value: v})
	n.onReady(env, env.Self(), s, v)
}

// onPull sends a node that missed sender s's broadcast again what this node sent for it.
func (n *Node) onPull(env node.Env, from, s node.ID) {
	in := &n.inst[s-1]
	if s == env.Self() {
		env.Send(from, Initial{Value: n.value})
	}
	if in.Echoed != 0 {
		env.Send(from, Echo{Sender: s, Value: in.Echoed})
	}
	for _, v := range in.Readied {
		env.Send(from, Ready{Sender: s, Value: v})
	}
}

// Timer pulls every broadcast not delivered yet, until all are.
func (n *Node) Timer(env node.Env, name string) {
	if name != timerPull {
		return
	}
	waiting := false
	for i := range n.inst {
		if n.inst[i].Delivered == 0 {
			waiting = true
			env.Broadcast(Pull{Sender: node.ID(i + 1)})
		}
	}
	if waiting {
		env.SetTimer(timerPull, pullMin, pullMax)
	}
}

// persist syncs instance s's record before the node acts on it: a node that forgot its ECHO
// after a restart could echo a different value.
func (n *Node) persist(env node.Env, s node.ID) {
	env.Store(instanceKey(s), n.inst[s-1].record)
	env.Sync()
}

// Size is the number of values the node tallies votes for, over all instances.
func (n *Node) Size() int {
	size := 0
	for i := range n.inst {
		size += n.inst[i].echoes.Len() + n.inst[i].readies.Len()
	}
	return size
}

// Delivered returns what the node delivered for sender s (zero: nothing yet).
func (n *Node) Delivered(s node.ID) Value {
	if s < 1 || int(s) > len(n.inst) {
		return 0
	}
	return n.inst[s-1].Delivered
}
