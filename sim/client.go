package sim

import "github.com/replica-io/replica/protocols/node"

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
	// replies holds, with Matching, the nodes (a bit each) that sent each result, by hash.
	replies map[uint64]uint64
}

func (w *World) workload() (clients, ops int) {
	wl := w.proto.Workload
	if wl == nil {
		return 0, 0
	}
	clients, ops = wl.Clients, wl.Ops
	if w.cfg.Clients > 0 {
		clients = w.cfg.Clients
	}
	if w.cfg.Ops > 0 {
		ops = w.cfg.Ops
	}
	return clients, ops
}

// startClients creates the clients; each submits its first operation after a short while.
func (w *World) startClients() {
	n, _ := w.workload()
	for i := range n {
		c := &client{index: i, op: -1}
		w.clients = append(w.clients, c)
		w.newClientID(c)
		w.schedule(event{at: w.now + w.pick(Workload, 5*w.proto.Timing.Delay), kind: evClientNext, cl: i})
	}
}

func (w *World) newClientID(c *client) {
	w.byID = append(w.byID, c.index)
	c.id = node.ClientID(len(w.byID)) // IDs start at 1
}

// clientNext submits client cl's next operation, if it has one left.
func (w *World) clientNext(cl int) {
	c := w.clients[cl]
	_, ops := w.workload()
	if c.op >= 0 || c.done >= ops {
		return
	}
	c.seq++
	in := w.proto.Workload.Next(c.id, c.seq, func(n int) int { return w.choose.Choose(Workload, max(n, 1)) })
	c.req = node.Request{Client: c.id, Seq: c.seq, Op: cloneAny(in)}
	c.op = len(w.history)
	c.attempts = 0
	w.history = append(w.history, node.Op{Client: c.id, Seq: c.seq, Input: c.req.Op, Call: w.now})
	w.record(Invoke, 0, 0, c.id, c.req.Op)
	c.target = w.ids[w.choose.Choose(Workload, len(w.ids))]
	w.submit(c)
}

// submit sends the current request to c.target and starts waiting.
func (w *World) submit(c *client) {
	c.attempts++
	w.gen++
	c.wait = w.gen
	for _, to := range w.requestTargets(c) {
		w.schedule(event{at: w.now + w.delay(), kind: evRequest, node: to, cl: c.index, msg: c.req})
	}
	w.schedule(event{at: w.now + w.proto.Workload.Timeout, kind: evClientTimeout, cl: c.index, gen: c.wait})
}

// request hands a client's request to its node.
func (w *World) request(e event) {
	s := w.slot(e.node)
	req := e.msg.(node.Request)
	if !s.up {
		w.record(Lost, e.node, 0, req.Client, req.Op)
		return
	}
	w.record(Request, e.node, 0, req.Client, req.Op)
	w.step(s, func(n node.Node, env node.Env) { n.Request(env, req) })
}

// reply sends a node's answer back to the client that asked.
func (w *World) reply(from node.ID, req node.Request, result any) {
	w.record(Reply, from, 0, req.Client, result)
	if req.Client < 1 || int(req.Client) > len(w.byID) {
		return // an answer to a client that never existed: a Byzantine node's, say
	}
	w.schedule(event{at: w.now + w.delay(), kind: evReply, node: from, cl: w.byID[req.Client-1],
		msg: reply{req: req, result: result}})
}

type reply struct {
	req    node.Request
	result any
}

// answer lets a client read a reply that reached it.
func (w *World) answer(e event) {
	c := w.clients[e.cl]
	r := e.msg.(reply)
	if c.op < 0 || r.req.Client != c.id || r.req.Seq != c.seq {
		return // a late answer to an operation the client is done with
	}
	res, ok, leader := w.proto.Workload.Result(r.result)
	if !ok {
		// Declined: try the hinted leader, or the next node, after a short pause.
		w.record(Answer, e.node, 0, c.id, r.result)
		if leader >= 1 && int(leader) <= len(w.ids) {
			c.target = leader
		} else {
			c.target = w.ids[int(c.target)%len(w.ids)]
		}
		w.gen++
		c.wait = w.gen
		w.schedule(event{at: w.now + w.proto.Timing.Delay, kind: evClientRetry, cl: c.index, gen: c.wait})
		return
	}
	if !w.matched(c, e.node, res) {
		w.record(Answer, e.node, 0, c.id, r.result)
		return // not yet enough nodes vouch for this result
	}
	op := &w.history[c.op]
	op.Output, op.Return, op.Done = res, w.now, true
	w.record(Answer, e.node, 0, c.id, res)
	w.finishOp(c)
}

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

func (w *World) finishOp(c *client) {
	c.op = -1
	c.done++
	c.wait = 0
	clear(c.replies)
	w.schedule(event{at: w.now + w.pick(Workload, w.proto.Timing.Delay), kind: evClientNext, cl: c.index})
}

// Pending lists the operations that have not been answered yet.
func (w *World) PendingOps() []node.Op {
	var out []node.Op
	for _, c := range w.clients {
		if c.op >= 0 {
			out = append(out, w.history[c.op])
		}
	}
	return out
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
