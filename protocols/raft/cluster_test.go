package raft

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
)

// cluster is a scripted test cluster: the test decides which message is delivered, which
// timer fires and which node crashes, so that a scenario from the paper can be played step by
// step. Properties are checked after every step, as the simulator does.
type cluster struct {
	t       *testing.T
	cfg     node.Config
	nodes   []*Node // nil while down
	disk    []map[string]any
	inbox   []envelope
	timers  []map[string]bool
	outputs []node.Output
	fresh   int
	replies []replied
	choices []int // what Choose answers, in order, then 0 (timer ranges take their minimum)
	// violated is the first property violated, and how.
	violated, violation string
}

type envelope struct {
	from, to node.ID
	msg      node.Message
}

type replied struct {
	to  node.Request
	res Reply
}

func newCluster(t *testing.T, n int, bug string, params map[string]int) *cluster {
	c := &cluster{t: t, cfg: node.Config{N: n, Bug: bug, Params: params}}
	c.nodes = make([]*Node, n)
	c.disk = make([]map[string]any, n)
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
	c.step(id, func(n *Node, e node.Env) { n.Start(e) })
}

// crash stops a node: its volatile state and timers go, its synced storage stays.
func (c *cluster) crash(id node.ID) {
	c.nodes[id-1] = nil
	c.timers[id-1] = nil
}

func (c *cluster) restart(id node.ID) { c.boot(id) }

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

// ok fails the test if a property was violated.
func (c *cluster) ok() {
	c.t.Helper()
	if c.violated != "" {
		c.t.Fatalf("%s violated: %s", c.violated, c.violation)
	}
}

// deliverOne delivers the first queued message that matches f, and fails if there is none.
func (c *cluster) deliverOne(f func(e envelope) bool) envelope {
	c.t.Helper()
	i := slices.IndexFunc(c.inbox, f)
	if i < 0 {
		c.t.Fatalf("no such message queued; queue: %v", c.inbox)
	}
	e := c.inbox[i]
	c.inbox = slices.Delete(c.inbox, i, i+1)
	c.step(e.to, func(n *Node, env node.Env) { n.Receive(env, e.from, e.msg) })
	return e
}

// fire fires timer name at node id.
func (c *cluster) fire(id node.ID, name string) {
	if c.nodes[id-1] == nil || !c.timers[id-1][name] {
		c.t.Fatalf("n%d has no timer %q armed", id, name)
	}
	delete(c.timers[id-1], name)
	c.step(id, func(n *Node, e node.Env) { n.Timer(e, name) })
}

// deliver delivers, in order, the queued messages that match keep, and drops those that match
// drop; the rest stay queued. Messages to a node that is down are lost.
func (c *cluster) deliver(keep func(e envelope) bool) int {
	delivered := 0
	for {
		i := slices.IndexFunc(c.inbox, keep)
		if i < 0 {
			return delivered
		}
		e := c.inbox[i]
		c.inbox = slices.Delete(c.inbox, i, i+1)
		delivered++
		c.step(e.to, func(n *Node, env node.Env) { n.Receive(env, e.from, e.msg) })
	}
}

// drop discards the queued messages that match f.
func (c *cluster) drop(f func(e envelope) bool) {
	c.inbox = slices.DeleteFunc(c.inbox, f)
}

func all(envelope) bool { return true }

func between(a, b node.ID) func(envelope) bool {
	return func(e envelope) bool { return e.from == a && e.to == b || e.from == b && e.to == a }
}

func from(a node.ID) func(envelope) bool { return func(e envelope) bool { return e.from == a } }
func to(a node.ID) func(envelope) bool   { return func(e envelope) bool { return e.to == a } }

func (c *cluster) request(id node.ID, req node.Request) {
	c.step(id, func(n *Node, e node.Env) { n.Request(e, req) })
}

// node.World, for the properties.
func (c *cluster) Config() node.Config           { return c.cfg }
func (c *cluster) Now() time.Duration            { return 0 }
func (c *cluster) Correct(node.ID) bool          { return true }
func (c *cluster) Outputs() []node.Output        { return c.outputs }
func (c *cluster) NewOutputs() []node.Output     { return c.outputs[c.fresh:] }
func (c *cluster) History() []node.Op            { return nil }
func (c *cluster) Up(id node.ID) bool            { return c.State(id) != nil }
func (c *cluster) Healed() (bool, time.Duration) { return false, 0 }
func (c *cluster) State(id node.ID) node.Node {
	if n := c.nodes[id-1]; n != nil {
		return n
	}
	return nil
}

// testEnv is the Env of one step.
type testEnv struct {
	c  *cluster
	id node.ID
}

func (e *testEnv) Self() node.ID { return e.id }
func (e *testEnv) Nodes() []node.ID {
	ids := make([]node.ID, e.c.cfg.N)
	for i := range ids {
		ids[i] = node.ID(i + 1)
	}
	return ids
}
func (e *testEnv) Send(to node.ID, m node.Message) {
	e.c.inbox = append(e.c.inbox, envelope{from: e.id, to: to, msg: copyMsg(m)})
}
func (e *testEnv) Broadcast(m node.Message) {
	for _, id := range e.Nodes() {
		if id != e.id {
			e.Send(id, m)
		}
	}
}
func (e *testEnv) SetTimer(name string, min, max time.Duration) { e.c.timers[e.id-1][name] = true }
func (e *testEnv) CancelTimer(name string)                      { delete(e.c.timers[e.id-1], name) }
func (e *testEnv) Store(key string, v any)                      { e.c.disk[e.id-1][key] = copyMsg(v) }
func (e *testEnv) Load(key string) (any, bool) {
	v, ok := e.c.disk[e.id-1][key]
	return copyMsg(v), ok
}
func (e *testEnv) Sync() {} // every write is synced at once: crashes happen between steps
func (e *testEnv) Output(v any) {
	e.c.outputs = append(e.c.outputs, node.Output{Node: e.id, Value: v})
}
func (e *testEnv) Reply(req node.Request, r any) {
	e.c.replies = append(e.c.replies, replied{to: req, res: r.(Reply)})
}
func (e *testEnv) Choose(n int) int {
	v := 0
	if len(e.c.choices) > 0 {
		v, e.c.choices = e.c.choices[0], e.c.choices[1:]
	}
	return min(v, n-1)
}

// copyMsg copies what crosses a node's boundary and holds references, as the simulator does.
func copyMsg(v any) any {
	switch m := v.(type) {
	case AppendEntries:
		m.Entries = slices.Clone(m.Entries)
		return m
	case InstallSnapshot:
		m.Snapshot = copySnap(m.Snapshot)
		return m
	case segment:
		m.Entries = slices.Clone(m.Entries)
		return m
	case Snapshot:
		return copySnap(m)
	}
	return v
}

func copySnap(s Snapshot) Snapshot {
	s.Data, s.Sessions = maps.Clone(s.Data), maps.Clone(s.Sessions)
	return s
}

// elect makes id leader with the votes of voters: they forget the leader they follow (as if
// their election timers had fired, before they campaign themselves); then id campaigns, with
// only the vote messages between it and the voters delivered. A campaign that learns of a
// higher term is tried again.
func (c *cluster) elect(id node.ID, voters ...node.ID) {
	c.t.Helper()
	isVote := func(e envelope) bool {
		switch e.msg.(type) {
		case RequestVote, Vote:
			return e.from == id && slices.Contains(voters, e.to) || e.to == id && slices.Contains(voters, e.from)
		}
		return false
	}
	isAnyVote := func(e envelope) bool {
		switch e.msg.(type) {
		case RequestVote, Vote:
			return true
		}
		return false
	}
	for try := 0; try < 3 && c.nodes[id-1].role != Leader; try++ {
		for _, v := range voters {
			if n := c.nodes[v-1]; n != nil && n.role != Leader {
				n.leader = 0
			}
		}
		c.fire(id, timerElection)
		c.deliver(isVote) // pre-vote, then the election
		c.drop(isAnyVote)
	}
	if c.nodes[id-1].role != Leader {
		c.t.Fatalf("n%d did not become leader: %s", id, c.nodes[id-1])
	}
}

// lastReply is the latest answer to a client.
func (c *cluster) lastReply() replied {
	c.t.Helper()
	if len(c.replies) == 0 {
		c.t.Fatal("no client was answered")
	}
	return c.replies[len(c.replies)-1]
}

func put(key string, v int) kv.Op { return kv.Op{Kind: kv.Put, Key: key, Value: v} }
func get(key string) kv.Op        { return kv.Op{Kind: kv.Get, Key: key} }
