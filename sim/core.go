package sim

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// stepCore is the step core that the timed World and the untimed explorer share: the nodes and
// their storage, how one node steps (an input delivered, its effects collected through env,
// the step budget enforced), the outputs in order, and the clients with their history. Both
// drivers step nodes through it and nothing else, so a property reads the same node.World in
// both.
//
// What the drivers do differently is what time means, and only that: the timing a stepCore is
// given decides when a message sent arrives, when a timer armed fires, what the protocol's
// Choose returns, when a client reads a reply and what happens next to it.
type stepCore struct {
	proto      *node.Protocol
	cluster    node.Config
	ids        []node.ID
	nodes      []*slot // nodes[id-1]
	stepBudget int     // effects one step may make (Config.StepBudget)
	env        env     // the Env every step runs with, pointed at the stepping node
	time       timing

	now    time.Duration // virtual time (timed); zero in the untimed world
	events int           // steps so far: the index trace entries carry

	outputs []node.Output
	newOut  int // outputs[newOut:] are the latest step's
	history []node.Op
	// histBase is how many operations the history has forgotten: operation i is
	// history[i-histBase] (a streamed run's, see keep.go; always zero in the untimed world).
	histBase int
	answered int // operations answered so far
	clients  []*client
	byID     []int   // client index of each logical client ID
	faulty   []bool  // faulty[id-1]: node id is Byzantine; nil when none is
	trace    *tracer // nil: no trace (the untimed world while it explores)
	// ownCopies gives each receiver its own copy of a message (see receive).
	ownCopies bool
	disk      *disks    // the storage faults of the timed world (see disk.go); nil: a disk that never fails
	walk      plainWalk // the check of a booted node's state (see mustBePlain)

	// The untimed world shares slots, clients and the history with the state a step starts
	// from (copy on write); these say what is still shared. The timed world owns everything.
	cow   bool
	owned uint64 // bit id-1: node id's slot is this step's own copy
	// spareSlots, when not nil, holds slots of states the untimed world found visited and
	// took back (see Untimed.Recycle): mutable copies a slot into one of them.
	spareSlots *sync.Pool
	ownedCl    bool // the clients are this step's own copies
	ownedH     bool // the history is this step's own copy
}

// timing is what the two drivers do differently: what time means.
type timing interface {
	// send puts m on its way from node from to node to: the timed world delays, drops or
	// duplicates it; the untimed world keeps it in flight until an action delivers it.
	send(from, to node.ID, m node.Message)
	// setTimer arms node s's timer name: for a duration in [min, max] (timed), or until an
	// action fires it (untimed).
	setTimer(s *slot, name string, min, max time.Duration)
	// choice is the protocol's Env.Choose.
	choice(n int) int
	// replied carries node from's reply to client cl; answer reads it, at once or later.
	replied(cl int, from node.ID, req node.Request, result any)
	// redirect and finished say what client c does after a node declined its operation
	// (try again at c.target) and after an operation ended (go on with the next one).
	redirect(c *client)
	finished(c *client)
	// stamp is the time of a client event in the history: virtual time, or a logical clock.
	stamp() time.Duration
	// stepped is called after every node step (the timed world may crash the node there).
	stepped(s *slot)
}

// step runs one input of node s's protocol logic. A panic (the protocol's, or an exceeded
// step budget) unwinds through it to the driver, which turns it into a violation (failure).
func (k *stepCore) step(s *slot, f func(n node.Node, env node.Env)) {
	k.env.s = s
	k.env.effects = 0
	s.changes++
	if k.disk != nil {
		k.stepDisk(s, f) // a node may stop in the middle of its step
	} else {
		f(s.state, &k.env)
	}
	k.time.stepped(s)
}

// receive delivers message m (number mid in the trace, see Entry.Msg) from peer from to node
// s, which is up.
//
// The node gets a copy of its own wherever the world still holds m (k.ownCopies), as a message
// read off a real network is: a receiver may change what it got (etcd raft's leader numbers
// the entries of a proposal in place). The untimed world holds it in the state the step starts
// from, which its other successors share: a receiver that changed it would give the same
// action from the same state another successor (what the explorer's nondeterminism guard
// reports). A timed run holds it in a full trace, an observer's view or a Byzantine node's
// memory of what it sent (which it may replay). Elsewhere the delivered message is the
// receiver's alone, and a copy would cost a tenth to a fifth of a campaign's time; the trace
// hash is taken as it is recorded, so it does not depend on this.
func (k *stepCore) receive(s *slot, from node.ID, mid int, m node.Message) {
	k.recordMsg(Deliver, s.id, from, mid, m)
	if k.ownCopies {
		m = cloneAny(m)
	}
	k.step(s, func(n node.Node, env node.Env) { n.Receive(env, from, m) })
}

// fire fires node s's armed timer name.
func (k *stepCore) fire(s *slot, name string) {
	s.ownMaps(mapTimers)
	delete(s.timers, name)
	k.record(Timer, s.id, 0, 0, name)
	k.step(s, func(n node.Node, env node.Env) { n.Timer(env, name) })
}

// request hands a client's request to node s, which is up. The node gets an operation of its
// own, as with messages (see receive): the client keeps the request to send it again.
func (k *stepCore) request(s *slot, req node.Request) {
	k.record(Request, s.id, 0, req.Client, req.Op)
	req.Op = cloneAny(req.Op)
	k.step(s, func(n node.Node, env node.Env) { n.Request(env, req) })
}

// boot makes st node s's state and starts it: at boot, and at every restart.
func (k *stepCore) boot(s *slot, st node.Node) {
	if st == nil { // the protocol's fault, not a nil dereference of the simulator's
		panic(fmt.Sprintf("protocol %s: New returned nil for node %d", k.proto.Name, s.id))
	}
	s.state = st
	s.up = true
	k.step(s, func(n node.Node, env node.Env) {
		n.Start(env)
		if !k.cow {
			k.mustBePlain(n)
		}
	})
}

// crash stops node s: its volatile state, timers and unsynced writes are lost; what it
// synced stays.
func (k *stepCore) crash(s *slot) {
	s.up, s.paused, s.state = false, false, nil
	s.inc++
	s.ownMaps(mapTimers | mapPending) // what it synced stays, shared
	clear(s.timers)
	clear(s.pending)
	s.dropOne()
	k.record(Crash, s.id, 0, 0, nil)
}

// record adds an entry to the trace at the current step and time.
func (k *stepCore) record(what What, id, peer node.ID, c node.ClientID, data any) {
	if k.trace == nil {
		return
	}
	e := Entry{Event: k.events, Time: k.now, What: what, Node: id, Peer: peer, Client: c, Data: data}
	k.trace.addAt(&e)
}

// recordMsg adds an entry about message mid to the trace (see Entry.Msg).
func (k *stepCore) recordMsg(what What, id, peer node.ID, mid int, data any) {
	if k.trace == nil {
		return
	}
	e := Entry{Event: k.events, Time: k.now, What: what, Node: id, Peer: peer, Msg: mid, Data: data}
	k.trace.addAt(&e)
}

// output records v as an output of node id; a component's output (node.AtPath) is recorded
// with its path, and traced as it was made.
func (k *stepCore) output(id node.ID, v any) {
	path, value := node.SplitOutput(v)
	k.outputs = append(k.outputs, node.Output{Node: id, Time: k.now, Path: path, Value: value})
	k.record(Output, id, 0, 0, v)
}

// mutable returns node id's slot, ready to change: in the untimed world, a copy of the shared
// one, made once per step, with a copy of the node's state when the node is to step (whose
// maps stay shared until they change, see slot.own).
func (k *stepCore) mutable(id node.ID, stepping bool) *slot {
	s := k.nodes[id-1]
	bit := uint64(1) << (id - 1)
	if !k.cow || k.owned&bit != 0 {
		return s
	}
	var c *slot
	if k.spareSlots != nil {
		c, _ = k.spareSlots.Get().(*slot)
	}
	if c == nil {
		c = new(slot)
	}
	*c = *s
	c.shared = mapsAll
	if stepping {
		c.state = cloneNode(s.state)
	}
	k.nodes[id-1] = c
	k.owned |= bit
	return c
}

// correct reports whether node id follows the protocol.
func (k *stepCore) correct(id node.ID) bool { return k.faulty == nil || !k.faulty[id-1] }

// Clients and their history.

// client returns client cl, ready to change.
func (k *stepCore) client(cl int) *client {
	if k.cow && !k.ownedCl {
		own := make([]*client, len(k.clients))
		for i, c := range k.clients {
			cc := *c
			if c.replies != nil {
				cc.replies = make(map[uint64]nodeSet, len(c.replies))
				for h, set := range c.replies {
					cc.replies[h] = set
				}
			}
			own[i] = &cc
		}
		k.clients, k.ownedCl = own, true
	}
	return k.clients[cl]
}

// op returns operation i of the history, ready to change.
func (k *stepCore) op(i int) *node.Op {
	if k.cow && !k.ownedH {
		k.history, k.ownedH = slices.Clone(k.history), true
	}
	return &k.history[i-k.histBase]
}

// newClientID gives client c a new logical identity (at the start, and after it gave up on an
// operation that may still be in flight, as Jepsen does).
func (k *stepCore) newClientID(c *client) {
	k.byID = append(k.byID, c.index)
	c.id = node.ClientID(len(k.byID)) // IDs start at 1
}

// invoke has client cl submit its next operation, drawn by the workload with choose.
func (k *stepCore) invoke(cl int, choose func(n int) int) {
	c := k.client(cl)
	c.seq++
	in := k.proto.Workload.Next(c.id, c.seq, choose)
	c.req = node.Request{Client: c.id, Seq: c.seq, Op: cloneAny(in)}
	c.op = k.histBase + len(k.history)
	c.attempts = 0
	k.history = append(k.history, node.Op{Client: c.id, Seq: c.seq, Input: c.req.Op, Call: k.time.stamp()})
	k.record(Invoke, 0, 0, c.id, c.req.Op)
}

// reply passes node from's answer to the client that asked.
func (k *stepCore) reply(from node.ID, req node.Request, result any) {
	k.record(Reply, from, 0, req.Client, result)
	if req.Client < 1 || int(req.Client) > len(k.byID) {
		return // an answer to a client that never existed: a Byzantine node's, say
	}
	k.time.replied(k.byID[req.Client-1], from, req, result)
}

// answer lets client cl read node from's reply to req, through the workload's Result: a
// declined operation is tried again (at the leader the node names, or the next node), a
// result is accepted once enough nodes sent it (Matching), and an accepted one completes the
// operation in the history.
func (k *stepCore) answer(cl int, from node.ID, req node.Request, result any) {
	if c := k.clients[cl]; c.op < 0 || req.Client != c.id || req.Seq != c.seq {
		return // a late answer to an operation the client is done with
	}
	c := k.client(cl)
	res, ok, leader := k.proto.Workload.Result(result)
	if !ok {
		k.record(Answer, from, 0, c.id, result)
		if leader >= 1 && int(leader) <= len(k.ids) {
			c.target = leader
		} else {
			c.target = k.ids[int(c.target)%len(k.ids)]
		}
		k.time.redirect(c)
		return
	}
	if !k.matched(c, from, res) {
		k.record(Answer, from, 0, c.id, result)
		return // not yet enough nodes vouch for this result
	}
	op := k.op(c.op)
	op.Output, op.Return, op.Done = res, k.time.stamp(), true
	k.answered++
	k.record(Answer, from, 0, c.id, res)
	k.finishOp(c)
}

// finishOp ends client c's current operation, answered or abandoned.
func (k *stepCore) finishOp(c *client) {
	c.op = -1
	c.done++
	c.wait = 0
	clear(c.replies)
	k.time.finished(c)
}

// Failures of a step.

// failure describes what a step that panicked did wrong, as the property it violates and a
// message: a protocol panic says where, an exceeded step budget says so, and a value that
// cannot be hashed or copied names its type and the field that holds the trouble. It must be
// called from the deferred function that recovered r, so that it can see where the panic
// happened.
func failure(r any) (property, msg string) {
	switch r := r.(type) {
	case budgetExceeded:
		return PropStepBudget, fmt.Sprintf("a single step made more than %d effects (an endless loop?)", r.limit)
	case *ValueError:
		return PropValue, r.Error()
	case notPlain:
		return PropValue, r.explain().Error()
	}
	_, crash := r.(runtime.Error)
	return PropPanic, fmt.Sprintf("panic: %v%s", r, panicSite(crash))
}

func cloneNode(n node.Node) node.Node {
	if n == nil {
		return nil
	}
	return cloneAny(n).(node.Node)
}

func maps[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
