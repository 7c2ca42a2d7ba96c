package abd

import (
	"fmt"
	"sort"
	"time"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// Tag orders the values written to the register: by timestamp, then by the writer's ID, so
// that two writers never make the same tag. The zero Tag is the register's initial, unset
// value.
type Tag struct {
	TS     int
	Writer node.ID
}

// Less orders tags.
func (t Tag) Less(o Tag) bool { return t.TS < o.TS || t.TS == o.TS && t.Writer < o.Writer }

func (t Tag) String() string { return fmt.Sprintf("%d.%d", t.TS, t.Writer) }

// OpID names an operation a coordinator runs. Epoch counts the coordinator's restarts, so an
// answer meant for an operation of an earlier life never counts for a new one.
type OpID struct{ Epoch, N int }

func (id OpID) String() string { return fmt.Sprintf("%d/%d", id.Epoch, id.N) }

// The messages of the two phases.
type (
	// Query asks a node for its copy.
	Query struct{ Op OpID }
	// Report answers a Query with the node's copy.
	Report struct {
		Op    OpID
		Tag   Tag
		Value int
	}
	// Update asks a node to keep Tag and Value if Tag is newer than its copy's.
	Update struct {
		Op    OpID
		Tag   Tag
		Value int
	}
	// Ack says the node holds Tag or a newer one.
	Ack struct{ Op OpID }
)

// register is a node's copy of the register (durable).
type register struct {
	Tag   Tag
	Value int
}

// operation is a client's operation in the hands of its coordinator.
type operation struct {
	req   node.Request
	op    kv.Op
	phase int // 1 query, 2 update, 0 finished (kept only by the no-gc bug)
	votes quorum.Votes
	// In the query phase, the highest copy reported so far; in the update phase, the copy
	// being written.
	tag   Tag
	value int
	mixed bool // the query's reports disagreed: the read's write-back matters
}

// Node is one ABD node: a copy of the register and a coordinator of clients' operations.
type Node struct {
	cfg node.Config
	reg register

	// Coordinator. lastTS is the highest timestamp this node gave a write (durable): a node
	// coordinates several writes at once, and across restarts, and must never give two of
	// them the same tag.
	lastTS int
	epoch  int
	next   int
	ops    map[OpID]operation
	// resending says the resend timer is armed: while an operation is unfinished.
	resending bool

	// writebacks counts reads whose query saw different copies, so the write-back mattered:
	// the situation the no-writeback bug gets wrong (a sometimes-property).
	writebacks int
}

const (
	keyCopy     = "copy"
	keyEpoch    = "epoch"
	keyTS       = "ts"
	timerResend = "resend"
)

// Resend interval: a few message delays, so that a lost message costs little.
const (
	resendMin = 40 * time.Millisecond
	resendMax = 60 * time.Millisecond
)

// New returns node id of a cluster configured by cfg.
func New(cfg node.Config, id node.ID) node.Node {
	return &Node{cfg: cfg, ops: map[OpID]operation{}}
}

func (n *Node) quorum() int { return quorum.Majority(n.cfg.N) }

// Start recovers the copy and begins a new epoch of operation IDs.
func (n *Node) Start(env node.Env) {
	n.reg, _ = node.Load[register](env, keyCopy)
	n.lastTS, _ = node.Load[int](env, keyTS)
	n.epoch, _ = node.Load[int](env, keyEpoch)
	n.epoch++
	env.Store(keyEpoch, n.epoch)
	env.Sync()
}

// Request starts a client's read or write with its query phase.
func (n *Node) Request(env node.Env, req node.Request) {
	op, ok := node.OpOf[kv.Op](req)
	if !ok || op.Kind != kv.Get && op.Kind != kv.Put {
		panic(fmt.Sprintf("abd serves get and put, not %v", op))
	}
	n.next++
	id := OpID{Epoch: n.epoch, N: n.next}
	n.ops[id] = operation{req: req, op: op, phase: 1}
	if !n.resending && n.cfg.Param(ParamResend, 1) != 0 {
		n.resending = true
		env.SetTimer(timerResend, resendMin, resendMax)
	}
	n.toAll(env, Query{Op: id})
}

// Receive dispatches a message to the copy or to the coordinator.
func (n *Node) Receive(env node.Env, from node.ID, m node.Message) {
	switch m := m.(type) {
	case Query:
		n.send(env, from, Report{Op: m.Op, Tag: n.reg.Tag, Value: n.reg.Value})
	case Update:
		n.onUpdate(env, from, m)
	case Report:
		n.onReport(env, from, m)
	case Ack:
		n.onAck(env, from, m)
	}
}

// onUpdate keeps a newer copy, durably, before acknowledging it.
func (n *Node) onUpdate(env node.Env, from node.ID, m Update) {
	if n.reg.Tag.Less(m.Tag) {
		n.reg = register{Tag: m.Tag, Value: m.Value}
		env.Store(keyCopy, n.reg)
		env.Sync()
	}
	n.send(env, from, Ack{Op: m.Op})
}

// onReport collects the query phase; with a majority of reports, a write picks its tag and a
// read its value, and the update phase begins.
func (n *Node) onReport(env node.Env, from node.ID, m Report) {
	o, ok := n.ops[m.Op]
	if !ok || o.phase != 1 || !o.votes.Add(from) {
		return
	}
	if o.votes.Count() > 1 && m.Tag != o.tag {
		o.mixed = true
	}
	if o.tag.Less(m.Tag) {
		o.tag, o.value = m.Tag, m.Value
	}
	if o.votes.Count() < n.quorum() {
		n.ops[m.Op] = o
		return
	}
	if o.op.Kind == kv.Put {
		n.lastTS = max(n.lastTS, o.tag.TS) + 1
		env.Store(keyTS, n.lastTS)
		env.Sync()
		o.tag, o.value = Tag{TS: n.lastTS, Writer: env.Self()}, o.op.Value
	} else {
		if o.mixed {
			n.writebacks++
		}
		if n.cfg.Bug == BugNoWriteback {
			// The seeded bug: answer with the newest copy seen, without making sure a
			// majority holds it. A later read may ask a majority that does not.
			n.finish(env, m.Op, o)
			return
		}
	}
	o.phase, o.votes = 2, quorum.Votes{}
	n.ops[m.Op] = o
	n.toAll(env, Update{Op: m.Op, Tag: o.tag, Value: o.value})
}

// onAck collects the update phase; with a majority, the operation is done.
func (n *Node) onAck(env node.Env, from node.ID, m Ack) {
	o, ok := n.ops[m.Op]
	if !ok || o.phase != 2 || !o.votes.Add(from) {
		return
	}
	n.ops[m.Op] = o
	if o.votes.Count() >= n.quorum() {
		n.finish(env, m.Op, o)
	}
}

// finish answers the client: a write with what it wrote, a read with the value of the copy
// it settled on (unset while the register was never written), as kv.Apply would.
func (n *Node) finish(env node.Env, id OpID, o operation) {
	res := kv.Result{Value: o.op.Value, OK: true}
	if o.op.Kind == kv.Get {
		res = kv.Result{Value: o.value, OK: o.tag != Tag{}}
	}
	env.Reply(o.req, res)
	if n.cfg.Bug == BugNoGC {
		// The seeded bug: keep the finished operation so that late acknowledgements find
		// it, and never forget it. Late answers are ignored just as well when it is gone.
		o.phase = 0
		n.ops[id] = o
		return
	}
	delete(n.ops, id)
}

// Timer resends each unfinished operation's current phase to the nodes that have not
// answered it.
func (n *Node) Timer(env node.Env, name string) {
	if name != timerResend {
		return
	}
	ids := n.unfinished()
	for _, id := range ids {
		o := n.ops[id]
		var m node.Message = Query{Op: id}
		if o.phase == 2 {
			m = Update{Op: id, Tag: o.tag, Value: o.value}
		}
		for _, peer := range env.Nodes() {
			if !o.votes.Has(peer) {
				n.send(env, peer, m)
			}
		}
	}
	n.resending = len(ids) > 0
	if n.resending {
		env.SetTimer(timerResend, resendMin, resendMax)
	}
}

// unfinished lists the operations in progress, in the order they started.
func (n *Node) unfinished() []OpID {
	var ids []OpID
	for id, o := range n.ops {
		if o.phase != 0 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		return ids[i].Epoch < ids[j].Epoch || ids[i].Epoch == ids[j].Epoch && ids[i].N < ids[j].N
	})
	return ids
}

// Size is the number of operations the coordinator keeps: the memory it must bound.
func (n *Node) Size() int { return len(n.ops) }

// send delivers m to peer to, handling it at once when to is this node itself.
func (n *Node) send(env node.Env, to node.ID, m node.Message) {
	if to == env.Self() {
		n.Receive(env, to, m)
		return
	}
	env.Send(to, m)
}

// toAll sends m to every node, this one included.
func (n *Node) toAll(env node.Env, m node.Message) {
	env.Broadcast(m)
	n.Receive(env, env.Self(), m)
}
