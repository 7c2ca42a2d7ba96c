package bracha

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// cluster is a minimal driver for these tests: a network that delivers the messages in
// flight in an order drawn from a seed, never losing one; node 1 may be replaced by a
// scripted equivocating sender.
type cluster struct {
	nodes    []*Node
	envs     []*testEnv
	inFlight []packet
	rng      *rand.Rand
}

type packet struct {
	from, to node.ID
	m        node.Message
}

type testEnv struct {
	c       *cluster
	self    node.ID
	store   map[string]any
	outputs []any
}

func (e *testEnv) Self() node.ID { return e.self }
func (e *testEnv) Nodes() []node.ID {
	ids := make([]node.ID, len(e.c.envs))
	for i := range ids {
		ids[i] = node.ID(i + 1)
	}
	return ids
}
func (e *testEnv) Send(to node.ID, m node.Message) {
	e.c.inFlight = append(e.c.inFlight, packet{e.self, to, m})
}
func (e *testEnv) Broadcast(m node.Message) {
	for _, to := range e.Nodes() {
		if to != e.self {
			e.Send(to, m)
		}
	}
}
func (e *testEnv) SetTimer(string, time.Duration, time.Duration) {}
func (e *testEnv) CancelTimer(string)                            {}
func (e *testEnv) Store(k string, v any)                         { e.store[k] = v }
func (e *testEnv) Load(k string) (any, bool)                     { v, ok := e.store[k]; return v, ok }
func (e *testEnv) Sync()                                         {}
func (e *testEnv) Output(v any)                                  { e.outputs = append(e.outputs, v) }
func (e *testEnv) Reply(node.Request, any)                       {}
func (e *testEnv) Choose(n int) int                              { return int(e.self) % n } // node i draws value i+1

// newCluster starts n nodes of the bug variant; with liar, node 1 does not run the protocol
// but sends INITIAL(100) to nodes 2..n/2+1 and INITIAL(200) to the others, echoing both.
func newCluster(n int, bug string, liar bool, seed uint64) *cluster {
	c := &cluster{rng: rand.New(rand.NewPCG(seed, 7))}
	cfg := node.Config{N: n, Bug: bug}
	for i := 1; i <= n; i++ {
		c.nodes = append(c.nodes, New(cfg, node.ID(i)).(*Node))
		c.envs = append(c.envs, &testEnv{c: c, self: node.ID(i), store: map[string]any{}})
	}
	for i, nd := range c.nodes {
		if i == 0 && liar {
			for to := 2; to <= n; to++ {
				v := Value(100)
				if to > n/2+1 {
					v = 200
				}
				c.envs[0].Send(node.ID(to), Initial{Value: v})
				c.envs[0].Send(node.ID(to), Echo{Sender: 1, Value: v})
			}
			continue
		}
		nd.Start(c.envs[i])
	}
	return c
}

// run delivers every message, in a drawn order, to the correct nodes.
func (c *cluster) run(liar bool) {
	for len(c.inFlight) > 0 {
		i := c.rng.IntN(len(c.inFlight))
		p := c.inFlight[i]
		c.inFlight = append(c.inFlight[:i], c.inFlight[i+1:]...)
		if liar && p.to == 1 {
			continue
		}
		c.nodes[p.to-1].Receive(c.envs[p.to-1], p.from, p.m)
	}
}

// deliveries lists what each correct node delivered from sender s (zero: nothing).
func (c *cluster) deliveries(s node.ID, liar bool) []Value {
	var out []Value
	for i, nd := range c.nodes {
		if !(liar && i == 0) {
			out = append(out, nd.Delivered(s))
		}
	}
	return out
}

func TestEveryoneDeliversOnAReliableNetwork(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		c := newCluster(4, "", false, seed)
		c.run(false)
		for s := node.ID(1); s <= 4; s++ {
			for i, v := range c.deliveries(s, false) {
				if want := Value(1 + int(s)%maxValue); v != want {
					t.Fatalf("seed %d: n%d delivered %d from n%d, which broadcast %d", seed, i+1, v, s, want)
				}
			}
		}
	}
}

// TestWeakReadyBreaksAgreement: against a sender that equivocates, correct nodes never
// deliver different values; with the weak-ready bug, in some delivery order they do.
func TestWeakReadyBreaksAgreement(t *testing.T) {
	split := func(bug string) (disagreements int) {
		for seed := uint64(0); seed < 300; seed++ {
			c := newCluster(4, bug, true, seed)
			c.run(true)
			seen := map[Value]bool{}
			for _, v := range c.deliveries(1, true) {
				if v != 0 {
					seen[v] = true
				}
			}
			if len(seen) > 1 {
				disagreements++
			}
		}
		return disagreements
	}
	if n := split(""); n != 0 {
		t.Errorf("correct protocol: correct nodes disagreed in %d of 300 orders", n)
	}
	if n := split(BugWeakReady); n == 0 {
		t.Error("weak-ready: correct nodes never disagreed in 300 orders")
	}
}

// TestRestartKeepsPromises: a node that restarts from its storage neither echoes another
// value nor delivers again.
func TestRestartKeepsPromises(t *testing.T) {
	c := newCluster(4, "", false, 1)
	c.run(false)
	env := c.envs[1]
	before := len(env.outputs)
	restarted := New(node.Config{N: 4}, 2).(*Node)
	restarted.Start(env)
	restarted.Receive(env, 1, Initial{Value: 999}) // a second INITIAL, with another value
	for s := node.ID(1); s <= 4; s++ {
		if restarted.Delivered(s) != c.nodes[1].Delivered(s) || restarted.inst[s-1].Echoed != c.nodes[1].inst[s-1].Echoed {
			t.Errorf("n2 forgot its record of n%d's broadcast on restart", s)
		}
	}
	for _, o := range env.outputs[before:] {
		if _, ok := o.(Delivery); ok {
			t.Errorf("n2 delivered again after restart: %v", o)
		}
	}
}

func TestMutatorsChangeOnlyWhatTheyName(t *testing.T) {
	choose := func(n int) int { return 0 }
	if m, ok := mutateValue(Echo{Sender: 2, Value: 5}, choose); !ok || m.(Echo).Sender != 2 || m.(Echo).Value == 5 {
		t.Errorf("value mutator: %v", m)
	}
	if m, ok := mutateSender(Ready{Sender: 2, Value: 5}, choose); !ok || m.(Ready).Value != 5 || m.(Ready).Sender == 2 {
		t.Errorf("sender mutator: %v", m)
	}
	if _, ok := mutateSender(Initial{Value: 5}, choose); ok {
		t.Error("sender mutator applied to INITIAL, which has no sender field")
	}
}
