package counter

import (
	"cmp"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// Op is a client's operation: add Add to the counter (Add 0 reads it).
type Op struct{ Add int }

// Reply answers an operation with the counter's value after it; OK false means "ask the
// primary" (this node is a backup, or the primary is still recovering).
type Reply struct {
	OK    bool
	Value int
}

// Copy is a node's copy of the counter: its Value after operation number Seq of the primary's
// incarnation Epoch. Copies are ordered by epoch, then by number.
type Copy struct{ Epoch, Seq, Value int }

func (c Copy) newer(o Copy) bool {
	return cmp.Or(cmp.Compare(c.Epoch, o.Epoch), cmp.Compare(c.Seq, o.Seq)) > 0
}

// The messages.
type (
	Update struct{ Copy }           // primary -> all: keep this copy
	Ack    struct{ Epoch, Seq int } // -> primary: I keep it
	Query  struct{ Epoch int }      // recovering primary -> all: what do you keep?
	Report struct {                 // -> primary: this
		Epoch int
		Copy  Copy
	}
)

// Committed is the primary's output each time a majority keeps an operation.
type Committed struct{ Copy }

const (
	primary   node.ID = 1
	keyEpoch          = "epoch"
	keyCopy           = "copy"
	timerSend         = "resend"
)

// Node is one node: node 1 is the primary, the others its backups. Every node keeps a durable
// copy of the counter.
type Node struct {
	cfg  node.Config
	copy Copy // the copy this node keeps, durably

	// The primary's.
	epoch      int
	recovering bool
	reports    quorum.Votes // who reported their copy for recovery
	best       Copy         // the newest copy reported
	base       Copy         // the counter as of the last operation committed or recovered
	queue      []node.Request
	started    bool // queue[0] is in progress: its copy is being replicated
	acks       quorum.Votes
	rounds     int // resends of the current message, bounded by ParamMaxRounds
}

// New returns node id.
func New(cfg node.Config, id node.ID) node.Node { return &Node{cfg: cfg} }

// Start loads the durable copy. The primary begins a new incarnation and recovers: a majority
// of nodes must report their copies before it serves anyone.
func (n *Node) Start(env node.Env) {
	n.copy, _ = node.Load[Copy](env, keyCopy)
	if env.Self() != primary {
		return
	}
	n.epoch, _ = node.Load[int](env, keyEpoch)
	n.epoch++
	env.Store(keyEpoch, n.epoch)
	env.Sync()
	n.recovering, n.reports, n.best = true, quorum.Votes{}, Copy{}
	n.toAll(env, Query{Epoch: n.epoch})
	n.arm(env)
}

// Request queues a client's operation at the primary; backups point to it.
func (n *Node) Request(env node.Env, req node.Request) {
	if _, ok := node.OpOf[Op](req); !ok || env.Self() != primary || n.recovering {
		env.Reply(req, Reply{})
		return
	}
	n.queue = append(n.queue, req)
	n.next(env)
}

// Receive dispatches a message.
func (n *Node) Receive(env node.Env, from node.ID, m node.Message) {
	switch m := m.(type) {
	case Query:
		n.send(env, from, Report{Epoch: m.Epoch, Copy: n.copy})
	case Report:
		n.onReport(env, from, m)
	case Update:
		n.onUpdate(env, from, m)
	case Ack:
		n.onAck(env, from, m)
	}
}

// onReport collects the copies a recovering primary asked for. Every operation it ever
// answered is kept by a majority, and any two majorities share a node, so the newest copy
// of any majority holds them all.
func (n *Node) onReport(env node.Env, from node.ID, m Report) {
	if !n.recovering || m.Epoch != n.epoch || !n.reports.Add(from) {
		return
	}
	if m.Copy.newer(n.best) {
		n.best = m.Copy
	}
	if n.reports.Count() < quorum.Majority(n.cfg.N) {
		return
	}
	n.recovering, n.base = false, n.best
	env.Output(Recovered{Epoch: n.epoch, Copy: n.best})
	n.next(env)
}

// Recovered is the primary's output when it has recovered and serves again.
type Recovered struct {
	Epoch int
	Copy  Copy
}

// onUpdate keeps a newer copy durably before acknowledging it: an acknowledged copy must
// survive a crash, or a majority may hold none of an operation the client was told is done.
func (n *Node) onUpdate(env node.Env, from node.ID, m Update) {
	if m.Copy.newer(n.copy) {
		n.copy = m.Copy
		env.Store(keyCopy, n.copy)
		if n.cfg.Bug != BugUnsyncedVote || env.Self() != primary {
			env.Sync() // the seeded bug: the primary counts its own copy before it is durable
		}
	}
	if n.copy == m.Copy {
		n.send(env, from, Ack{Epoch: m.Epoch, Seq: m.Seq})
	}
}

// toAll sends m to every other node, and handles this node's own copy at once.
func (n *Node) toAll(env node.Env, m node.Message) {
	env.Broadcast(m)
	n.Receive(env, env.Self(), m)
}

// send sends m to peer to, or handles it at once when to is this node.
func (n *Node) send(env node.Env, to node.ID, m node.Message) {
	if to == env.Self() {
		n.Receive(env, to, m)
		return
	}
	env.Send(to, m)
}

// next starts the operation at the head of the queue, if none is in progress.
func (n *Node) next(env node.Env) {
	if n.recovering || n.started || len(n.queue) == 0 {
		return
	}
	op, _ := node.OpOf[Op](n.queue[0])
	n.base = Copy{Epoch: n.epoch, Seq: n.base.Seq + 1, Value: n.base.Value + op.Add}
	n.started, n.acks, n.rounds = true, quorum.Votes{}, 0
	n.toAll(env, Update{n.base}) // the primary keeps its own copy as a backup does
	n.arm(env)
}

// onAck answers the operation in progress once a majority keeps it.
func (n *Node) onAck(env node.Env, from node.ID, m Ack) {
	if !n.started || m.Epoch != n.base.Epoch || m.Seq != n.base.Seq || !n.acks.Add(from) {
		return
	}
	if n.acks.Count() < quorum.Majority(n.cfg.N) {
		return
	}
	env.Output(Committed{n.base})
	env.Reply(n.queue[0], Reply{OK: true, Value: n.base.Value})
	n.queue, n.started = n.queue[1:], false
	n.next(env)
}

// Timer resends what the primary waits for to the nodes that have not answered: lost
// messages only delay an operation.
func (n *Node) Timer(env node.Env, name string) {
	max := n.cfg.Param(ParamMaxRounds, 0)
	if max > 0 && n.rounds >= max {
		return
	}
	n.rounds++
	for _, id := range env.Nodes() {
		switch {
		case id == env.Self():
		case n.recovering && !n.reports.Has(id):
			env.Send(id, Query{Epoch: n.epoch})
		case n.started && !n.acks.Has(id):
			env.Send(id, Update{n.base})
		}
	}
	n.arm(env)
}

// arm sets the resend timer while the primary waits for something.
func (n *Node) arm(env node.Env) {
	if n.recovering || n.started {
		env.SetTimer(timerSend, resendMin, resendMax)
	}
}

// Size is the number of operations waiting, for the memory bound.
func (n *Node) Size() int { return len(n.queue) }
