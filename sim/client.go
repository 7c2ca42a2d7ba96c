package sim

import (
	"slices"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Client retry policy: unless its protocol's workload says otherwise, a client tries an
// operation this many times before it gives up and records the outcome as unknown.
const maxAttempts = 8

// client is one closed-loop client: it submits an operation, waits for the answer (retrying
// at other nodes after a timeout), then submits the next one.
type client struct {
	index    int
	id       node.ClientID // the logical client; a new one after giving up, as Jepsen does
	seq      int
	done     int // operations finished (answered or abandoned)
	op       int // index of the current operation in the history, -1 when idle
	req      node.Request
	target   node.ID
	attempts int
	wait     uint64 // generation of the current wait, so stale timeouts are ignored
	// replies holds, with Matching, the nodes that sent each result, by the result's hash.
	replies map[uint64]nodeSet
	// resend says, in the untimed world, that a node declined the current operation and the
	// client is to send it again to target (the timed world schedules the retry instead).
	resend bool
}

func (w *World) workload() (clients, ops int) { return workloadSize(w.proto, w.cfg.Clients, w.cfg.Ops) }

// workloadSize is the number of clients and of operations each submits: the protocol's
// workload, or the positive overrides.
func workloadSize(p *node.Protocol, clients, ops int) (int, int) {
	wl := p.Workload
	if wl == nil {
		return 0, 0
	}
	if clients <= 0 {
		clients = wl.Clients
	}
	if ops <= 0 {
		ops = wl.Ops
	}
	return clients, ops
}

// startClients creates the clients; each submits its first operation after a short while.
func (w *World) startClients() {
	n, _ := w.workload()
	all := w.mem.clientMem(n) // all of them in one allocation, or in the run before's
	w.clients, w.byID = slices.Grow(w.mem.clientPtrs[:0], n), slices.Grow(w.mem.byID[:0], n)
	for i := range n {
		c := &all[i]
		*c = client{index: i, op: -1}
		w.clients = append(w.clients, c)
		w.newClientID(c)
		w.schedule(event{at: w.now + w.pick(Workload, 5*w.proto.Timing.Delay), kind: evClientNext, cl: i})
	}
}

// clientNext submits client cl's next operation, if it has one left.
func (w *World) clientNext(cl int) {
	c := w.clients[cl]
	_, ops := w.workload()
	if c.op >= 0 || c.done >= ops {
		return
	}
	w.invoke(cl, w.chooseWorkload)
	c.target = w.ids[w.choose.Choose(Workload, len(w.ids))]
	w.submit(c)
}

// submit sends the current request to c.target and starts waiting.
func (w *World) submit(c *client) {
	c.attempts++
	w.gen++
	c.wait = w.gen
	for _, to := range w.requestTargets(c) {
		w.schedule(requestEvent(w.now+w.delay(), to, c.index, c.req))
	}
	w.schedule(event{at: w.now + w.proto.Workload.Timeout, kind: evClientTimeout, cl: c.index, gen: c.wait})
}

// requestEvent hands a client's request to its node.
func (w *World) requestEvent(e *event) {
	s := w.slot(e.node)
	req := e.request()
	if !s.up {
		w.record(Lost, e.node, 0, req.Client, req.Op)
		return
	}
	w.request(s, req)
}

// replied sends a node's answer back to the client that asked, over the network.
func (w *World) replied(cl int, from node.ID, req node.Request, result any) {
	r := w.newReply()
	*r = reply{req: req, result: result}
	w.schedule(event{at: w.now + w.delay(), kind: evReply, node: from, cl: cl, msg: r})
}

// A request in flight is held by its event's own fields, not boxed in its msg: msg holds the
// operation, inc and gen the client's ID and sequence number. (Boxing it cost a calm Paxos run
// five of its eighty-eight allocations.) A reply is held by a *reply from the world's free list
// (see newReply), for as many more.

func requestEvent(at time.Duration, to node.ID, cl int, req node.Request) event {
	return event{at: at, kind: evRequest, node: to, cl: cl, msg: req.Op, inc: uint64(req.Client), gen: uint64(req.Seq)}
}

// request is the request an evRequest carries.
func (e *event) request() node.Request {
	return node.Request{Client: node.ClientID(e.inc), Seq: int(e.gen), Op: e.msg}
}

// reply is the reply an evReply carries.
func (e *event) reply() reply { return *e.msg.(*reply) }

// reply is a node's answer on its way to the client: the request as the node gave it back,
// and the result.
type reply struct {
	req    node.Request
	result any
}

// newReply returns a reply to fill, from the free list when it has one.
func (w *World) newReply() *reply {
	if n := len(w.replyFree); n > 0 {
		r := w.replyFree[n-1]
		w.replyFree = w.replyFree[:n-1]
		return r
	}
	return new(reply)
}

// maxFreeReplies bounds the free list of replies, which run memory keeps for the next run.
const maxFreeReplies = 64

// answerEvent lets a client read a reply that reached it. The reply goes back to the free
// list: its event was the only holder (a popped event's slot in the queue keeps a pointer to
// it, but is never read again).
func (w *World) answerEvent(e event) {
	p := e.msg.(*reply)
	r := *p
	if *p = (reply{}); len(w.replyFree) < maxFreeReplies {
		w.replyFree = append(w.replyFree, p)
	}
	w.answer(e.cl, e.node, r.req, r.result)
}

// redirect tries the operation again after a node declined it, after a short pause.
func (w *World) redirect(c *client) {
	w.gen++
	c.wait = w.gen
	w.schedule(event{at: w.now + w.proto.Timing.Delay, kind: evClientRetry, cl: c.index, gen: c.wait})
}

// finished lets the client submit its next operation after a short pause.
func (w *World) finished(c *client) {
	w.schedule(event{at: w.now + w.pick(Workload, w.proto.Timing.Delay), kind: evClientNext, cl: c.index})
}

// stamp is the time of a client event: the virtual time.
func (w *World) stamp() time.Duration { return w.now }

// clientTimeout retries the current operation at another node, or gives up on it.
func (w *World) clientTimeout(e event) {
	c := w.clients[e.cl]
	if c.op < 0 || e.gen != c.wait {
		return
	}
	if c.attempts >= w.attempts() {
		w.record(GiveUp, 0, 0, c.id, "outcome unknown")
		w.finishOp(c)
		w.newClientID(c) // the old client may still have an operation in flight
		return
	}
	w.record(GiveUp, 0, 0, c.id, "retry")
	c.target = w.ids[w.choose.Choose(Workload, len(w.ids))]
	w.submit(c)
}

// attempts is how many times a client sends an operation before giving up on it.
func (w *World) attempts() int {
	if a := w.proto.Workload.Attempts; a > 0 {
		return a
	}
	return maxAttempts
}

// clientRetry resubmits the current operation after a node declined it.
func (w *World) clientRetry(e event) {
	c := w.clients[e.cl]
	if c.op < 0 || e.gen != c.wait {
		return
	}
	c.attempts-- // a redirect is not a failed attempt
	w.submit(c)
}

// Pending lists the operations that have not been answered yet.
func (w *World) PendingOps() []node.Op {
	var out []node.Op
	for _, c := range w.clients {
		if c.op >= 0 {
			out = append(out, w.historyOp(c.op))
		}
	}
	return out
}

// AnyPendingOp reports whether some client waits for an answer: PendingOps without the list,
// for checkers that ask after every step.
func (w *World) AnyPendingOp() bool {
	for _, c := range w.clients {
		if c.op >= 0 {
			return true
		}
	}
	return false
}

// ClientsIdle reports whether every client has finished all its operations.
func (w *World) ClientsIdle() bool {
	_, ops := w.workload()
	for _, c := range w.clients {
		if c.op >= 0 || c.done < ops {
			return false
		}
	}
	return true
}
