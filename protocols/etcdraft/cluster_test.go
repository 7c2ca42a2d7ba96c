package etcdraft

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
)

// cluster is a scripted test cluster: the test decides which message is delivered, which timer
// fires and which node crashes, so that a known failure can be played step by step. The
// invariants are checked after every step, as the simulator does.
type cluster struct {
	t       *testing.T
	cfg     node.Config
	nodes   []*Node // nil while down
	disk    []map[string]any
	pending []map[string]any
	inbox   []envelope
	timers  []map[string]bool
	outputs []node.Output
	fresh   int
	replies []replied
	// violated is the first property violated, and how.
	violated, violation string
}

type envelope struct {
	from, to node.ID
	msg      Msg
}

func (e envelope) String() string { return fmt.Sprintf("n%d->n%d %s", e.from, e.to, e.msg) }

type replied struct {
	req node.Request
	res Reply
}

func newCluster(t *testing.T, n int, bug string, params map[string]int) *cluster {
	c := &cluster{t: t, cfg: node.Config{N: n, Bug: bug, Params: params}}
	c.nodes = make([]*Node, n)
	c.disk = make([]map[string]any, n)
	c.pending = make([]map[string]any, n)
	c.timers = make([]map[string]bool, n)
	for i := range n {
		c.disk[i] = map[string]any{}
		c.boot(node.ID(i + 1))
	}
	return c
}

func (c *cluster) boot(id node.ID) {
	c.nodes[id-1] = New(c.cfg, id).(*Node)
	c.timers[id-1] = map[string]bool{}
	c.pending[id-1] = map[string]any{}
	c.step(id, func(n *Node, e node.Env) { n.Start(e) })
}

// crash stops a node: its volatile state, timers and unsynced writes go.
func (c *cluster) crash(id node.ID) {
	c.nodes[id-1], c.timers[id-1], c.pending[id-1] = nil, nil, nil
}

// step runs one input of node id and checks every invariant afterwards.
func (c *cluster) step(id node.ID, f func(n *Node, e node.Env)) {
	n := c.nodes[id-1]
	if n == nil {
		return
	}
	c.fresh = len(c.outputs)
	f(n, &testEnv{c: c, id: id})
	for _, inv := range Protocol.Invariants {
		if err := inv.Check(c); err != nil && c.violated == "" {
			c.violated, c.violation = inv.Name, err.Error()
		}
	}
}

// fire fires a timer of node id; it must be armed.
func (c *cluster) fire(id node.ID, timer string) {
	c.t.Helper()
	if !c.timers[id-1][timer] {
		c.t.Fatalf("n%d: timer %s is not armed (armed: %v)", id, timer, slices.Sorted(maps.Keys(c.timers[id-1])))
	}
	delete(c.timers[id-1], timer)
	c.step(id, func(n *Node, e node.Env) { n.Timer(e, timer) })
}

// deliver hands node to every message in flight to it that match says yes to, oldest first,
// and returns how many it delivered.
func (c *cluster) deliver(to node.ID, match func(e envelope) bool) int {
	delivered := 0
	for i := 0; i < len(c.inbox); {
		e := c.inbox[i]
		if e.to != to || !match(e) {
			i++
			continue
		}
		c.inbox = slices.Delete(c.inbox, i, i+1)
		c.step(to, func(n *Node, env node.Env) { n.Receive(env, e.from, e.msg) })
		delivered++
	}
	return delivered
}

// take removes the messages in flight that match, and returns them (a test holds them back
// to deliver late, or drops them).
func (c *cluster) take(match func(e envelope) bool) []envelope {
	var out []envelope
	kept := c.inbox[:0]
	for _, e := range c.inbox {
		if match(e) {
			out = append(out, e)
		} else {
			kept = append(kept, e)
		}
	}
	c.inbox = kept
	return out
}

// put hands held-back messages to their receivers, in order.
func (c *cluster) put(es []envelope) {
	for _, e := range es {
		c.step(e.to, func(n *Node, env node.Env) { n.Receive(env, e.from, e.msg) })
	}
}

// settle delivers every message in flight among the nodes in group until none is left.
func (c *cluster) settle(group ...node.ID) {
	c.t.Helper()
	for round := 0; ; round++ {
		if round > 1000 {
			c.t.Fatal("the cluster does not settle")
		}
		n := 0
		for _, to := range group {
			n += c.deliver(to, func(e envelope) bool { return slices.Contains(group, e.from) })
		}
		if n == 0 {
			return
		}
	}
}

// request submits a client operation to node id.
func (c *cluster) request(id node.ID, client node.ClientID, seq int, op kv.Op) {
	c.step(id, func(n *Node, e node.Env) { n.Request(e, node.Request{Client: client, Seq: seq, Op: op}) })
}

// answer is the last answer to client's request seq, if any.
func (c *cluster) answer(client node.ClientID, seq int) (Reply, bool) {
	for i := len(c.replies) - 1; i >= 0; i-- {
		if r := c.replies[i]; r.req.Client == client && r.req.Seq == seq {
			return r.res, true
		}
	}
	return Reply{}, false
}

func of(t raftpb.MessageType) func(e envelope) bool {
	return func(e envelope) bool { return e.msg.M.Type == t }
}

func from(id node.ID) func(e envelope) bool { return func(e envelope) bool { return e.from == id } }

func all(e envelope) bool { return true }

// leader is the node that leads, or 0.
func (c *cluster) leader() node.ID {
	for i, n := range c.nodes {
		if n != nil && n.role.String() == "StateLeader" {
			return node.ID(i + 1)
		}
	}
	return 0
}

func (c *cluster) String() string {
	var b strings.Builder
	for i, n := range c.nodes {
		fmt.Fprintf(&b, "n%d: %v\n", i+1, n)
	}
	for _, e := range c.inbox {
		fmt.Fprintf(&b, "  in flight %s\n", e)
	}
	return b.String()
}

// The node.World the invariants read.
func (c *cluster) Config() node.Config           { return c.cfg }
func (c *cluster) Now() time.Duration            { return 0 }
func (c *cluster) Correct(node.ID) bool          { return true }
func (c *cluster) Outputs() []node.Output        { return c.outputs }
func (c *cluster) NewOutputs() []node.Output     { return c.outputs[c.fresh:] }
func (c *cluster) History() []node.Op            { return nil }
func (c *cluster) Up(id node.ID) bool            { return c.nodes[id-1] != nil }
func (c *cluster) Healed() (bool, time.Duration) { return false, 0 }
func (c *cluster) State(id node.ID) node.Node {
	if n := c.nodes[id-1]; n != nil {
		return n
	}
	return nil
}

type testEnv struct {
	c  *cluster
	id node.ID
}

func (e *testEnv) Self() node.ID { return e.id }
func (e *testEnv) Nodes() []node.ID {
	ids := make([]node.ID, len(e.c.nodes))
	for i := range ids {
		ids[i] = node.ID(i + 1)
	}
	return ids
}
func (e *testEnv) Send(to node.ID, m node.Message) {
	e.c.inbox = append(e.c.inbox, envelope{from: e.id, to: to, msg: m.(Msg)})
}
func (e *testEnv) Broadcast(m node.Message) {
	for _, to := range e.Nodes() {
		if to != e.id {
			e.Send(to, m)
		}
	}
}
func (e *testEnv) SetTimer(name string, min, max time.Duration) { e.c.timers[e.id-1][name] = true }
func (e *testEnv) CancelTimer(name string)                      { delete(e.c.timers[e.id-1], name) }
func (e *testEnv) Store(key string, v any)                      { e.c.pending[e.id-1][key] = deepCopy(v) }
func (e *testEnv) Load(key string) (any, bool) {
	if v, ok := e.c.pending[e.id-1][key]; ok {
		return deepCopy(v), true
	}
	v, ok := e.c.disk[e.id-1][key]
	return deepCopy(v), ok
}
func (e *testEnv) Sync() {
	maps.Copy(e.c.disk[e.id-1], e.c.pending[e.id-1])
	clear(e.c.pending[e.id-1])
}
func (e *testEnv) Output(v any) {
	e.c.outputs = append(e.c.outputs, node.Output{Node: e.id, Value: v})
}
func (e *testEnv) Reply(req node.Request, result any) {
	e.c.replies = append(e.c.replies, replied{req: req, res: result.(Reply)})
}
func (e *testEnv) Choose(n int) int { return 0 }

// deepCopy copies what the adapter stores, as a simulator's storage does.
func deepCopy(v any) any {
	switch x := v.(type) {
	case segment:
		x.Entries = cloneEntries(x.Entries)
		return x
	case raftpb.Snapshot:
		x.Data = slices.Clone(x.Data)
		x.Metadata.ConfState = cloneConf(x.Metadata.ConfState)
		return x
	case backendRecord:
		x.Data, x.Sessions = maps.Clone(x.Data), maps.Clone(x.Sessions)
		return x
	}
	return v
}
