package pbft

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// cluster is a minimal driver for these tests: messages are delivered in an order drawn from
// a seed and never lost; timers fire, oldest first, only when no message is in flight, and a
// view-change timer only once patience other timers fired after it was set (a timeout long
// enough for what is under way to finish). A silent replica receives but sends nothing.
type cluster struct {
	replicas []*Replica
	envs     []*testEnv
	inFlight []packet
	timers   []timer
	rng      *rand.Rand
	silent   node.ID // sends nothing
	deaf     node.ID // receives nothing
}

const patience = 16

type packet struct {
	from, to node.ID
	m        node.Message
}

type timer struct {
	id   node.ID
	name string
	age  int // timers fired since this one was set
}

type testEnv struct {
	c       *cluster
	self    node.ID
	store   map[string]any
	outputs []Executed
	replies []Reply
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
	if e.self != e.c.silent {
		e.c.inFlight = append(e.c.inFlight, packet{e.self, to, m})
	}
}
func (e *testEnv) Broadcast(m node.Message) {
	for _, to := range e.Nodes() {
		if to != e.self {
			e.Send(to, m)
		}
	}
}
func (e *testEnv) SetTimer(name string, _, _ time.Duration) {
	e.CancelTimer(name)
	e.c.timers = append(e.c.timers, timer{id: e.self, name: name})
}
func (e *testEnv) CancelTimer(name string) {
	e.c.timers = slices.DeleteFunc(e.c.timers, func(t timer) bool { return t.id == e.self && t.name == name })
}
func (e *testEnv) Store(k string, v any)     { e.store[k] = v }
func (e *testEnv) Load(k string) (any, bool) { v, ok := e.store[k]; return v, ok }
func (e *testEnv) Sync()                     {}
func (e *testEnv) Output(v any)              { e.outputs = append(e.outputs, v.(Executed)) }
func (e *testEnv) Reply(_ node.Request, v any) {
	e.replies = append(e.replies, v.(Reply))
}
func (e *testEnv) Choose(n int) int { return 0 }

func newCluster(n int, seed uint64, silent node.ID, params map[string]int) *cluster {
	c := &cluster{rng: rand.New(rand.NewPCG(seed, 3)), silent: silent}
	for i := 1; i <= n; i++ {
		c.replicas = append(c.replicas, New(node.Config{N: n, Params: params}, node.ID(i)).(*Replica))
		c.envs = append(c.envs, &testEnv{c: c, self: node.ID(i), store: map[string]any{}})
	}
	for i, r := range c.replicas {
		r.Start(c.envs[i])
	}
	return c
}

// request submits client c's operation seq to every replica, as a client that timed out does.
func (c *cluster) request(client node.ClientID, seq int) {
	req := node.Request{Client: client, Seq: seq, Op: kv.Op{Kind: kv.Put, Key: "x", Value: seq}}
	for i, r := range c.replicas {
		r.Request(c.envs[i], req)
	}
}

// run delivers messages and fires timers until nothing is left, or a step limit (the status
// timer never stops).
func (c *cluster) run(steps int) {
	for ; steps > 0; steps-- {
		if len(c.inFlight) > 0 {
			i := c.rng.IntN(len(c.inFlight))
			p := c.inFlight[i]
			c.inFlight = append(c.inFlight[:i], c.inFlight[i+1:]...)
			if p.to != c.deaf {
				c.replicas[p.to-1].Receive(c.envs[p.to-1], p.from, p.m)
			}
			continue
		}
		i := slices.IndexFunc(c.timers, func(t timer) bool { return t.name != timerView || t.age >= patience })
		if i < 0 {
			return
		}
		t := c.timers[i]
		c.timers = slices.Delete(c.timers, i, i+1)
		for j := range c.timers {
			c.timers[j].age++
		}
		c.replicas[t.id-1].Timer(c.envs[t.id-1], t.name)
	}
}

// executed lists the digests each replica executed, in order.
func (c *cluster) executed(id node.ID) []Digest {
	var ds []Digest
	for _, e := range c.envs[id-1].outputs {
		ds = append(ds, e.Digest)
	}
	return ds
}

// TestReplicasConverge: on a network that loses nothing, whatever the delivery order, the
// replicas execute the same request at each number, end in the same state with every
// request executed, and keep their logs within the bound. (A replica may skip numbers it
// learns from a state transfer: reordering can bring a stable checkpoint before the last
// COMMIT it needed.)
func TestReplicasConverge(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		c := newCluster(4, seed, 0, nil)
		for seq := 1; seq <= 20; seq++ {
			c.request(1, seq)
			c.request(2, seq)
			c.run(2000)
		}
		at := map[int]Digest{}
		requests := map[Request]bool{}
		for i, env := range c.envs {
			for _, e := range env.outputs {
				if d, ok := at[e.Seq]; ok && d != e.Digest {
					t.Fatalf("seed %d: n%d executed %v at #%d, another replica %v", seed, i+1, e.Digest, e.Seq, d)
				}
				at[e.Seq] = e.Digest
				if e.Req.Client != 0 {
					requests[e.Req] = true
				}
			}
		}
		if len(requests) != 40 {
			t.Errorf("seed %d: %d requests executed, want 40", seed, len(requests))
		}
		first := c.replicas[0]
		for i, r := range c.replicas {
			if x, _ := r.app.get("x"); r.executed != first.executed || r.app.digest() != first.app.digest() || x != 20 {
				t.Errorf("seed %d: n%d executed #%d with x=%d, n1 #%d", seed, i+1, r.executed, x, first.executed)
			}
			if max := Protocol.MaxSize(node.Config{N: 4}); r.Size() > max {
				t.Errorf("seed %d: n%d holds %d entries, more than the bound %d", seed, i+1, r.Size(), max)
			}
			if r.low.Seq < 36 {
				t.Errorf("seed %d: n%d's stable checkpoint is #%d after 40 requests", seed, i+1, r.low.Seq)
			}
		}
	}
}

func TestSilentPrimaryIsReplaced(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		c := newCluster(4, seed, 1, nil) // n1, the primary of view 0, says nothing
		c.request(1, 1)
		c.run(5000)
		for id := node.ID(2); id <= 4; id++ {
			r := c.replicas[id-1]
			if r.view == 0 || r.changing || r.executed != 1 {
				t.Fatalf("seed %d: n%d in view %d (changing %v) executed #%d", seed, id, r.view, r.changing, r.executed)
			}
			if len(c.envs[id-1].replies) == 0 {
				t.Errorf("seed %d: n%d never answered the client", seed, id)
			}
		}
	}
}

// TestViewChangeKeepsCommittedRequests: a request committed while one replica heard
// nothing keeps its number when the primary falls silent: the replica that missed it learns
// it from the prepared certificates in the NEW-VIEW.
func TestViewChangeKeepsCommittedRequests(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		c := newCluster(4, seed, 0, map[string]int{"checkpoint": 16}) // no checkpoint gets in the way
		for seq := 1; seq <= 3; seq++ {
			c.request(1, seq)
			c.run(2000)
		}
		c.deaf = 4
		c.request(1, 4)
		c.run(2000)
		want := c.executed(2)
		if len(want) != 4 || len(c.executed(4)) != 3 {
			t.Fatalf("seed %d: n2 executed %v, deaf n4 %v", seed, want, c.executed(4))
		}
		c.deaf, c.silent = 0, 1
		c.request(1, 5)
		c.run(20000)
		for id := node.ID(2); id <= 4; id++ {
			got := c.executed(id)
			if len(got) != 5 || !slices.Equal(got[:4], want) {
				t.Fatalf("seed %d: n%d executed %v; before the view change n2 had %v", seed, id, got, want)
			}
		}
	}
}

func TestDigests(t *testing.T) {
	reqs := []Request{
		{},
		{Client: 1, Seq: 1, Op: kv.Op{Kind: kv.Put, Key: "x", Value: 1}},
		{Client: 1, Seq: 2, Op: kv.Op{Kind: kv.Put, Key: "x", Value: 1}},
		{Client: 2, Seq: 1, Op: kv.Op{Kind: kv.Put, Key: "x", Value: 1}},
		{Client: 1, Seq: 1, Op: kv.Op{Kind: kv.Get, Key: "x", Value: 1}},
		{Client: 1, Seq: 1, Op: kv.Op{Kind: kv.Put, Key: "y", Value: 1}},
		{Client: 1, Seq: 1, Op: kv.Op{Kind: kv.Put, Key: "x", Value: 2}},
		{Client: 1, Seq: 1, Op: kv.Op{Kind: kv.CAS, Key: "x", Value: 1, Expect: 3}},
	}
	seen := map[Digest]Request{}
	for _, r := range reqs {
		d := digestOf(r)
		if other, ok := seen[d]; ok {
			t.Errorf("%v and %v share digest %v", r, other, d)
		}
		seen[d] = r
		if digestOf(r) != d {
			t.Errorf("digest of %v is not deterministic", r)
		}
	}
}

func TestAppExecutesEachRequestOnce(t *testing.T) {
	var a App
	put := Request{Client: 1, Seq: 1, Op: kv.Op{Kind: kv.Put, Key: "x", Value: 7}}
	cas := Request{Client: 1, Seq: 2, Op: kv.Op{Kind: kv.CAS, Key: "x", Expect: 7, Value: 8}}
	steps := []struct {
		req    Request
		result kv.Result
		reply  bool
		x      int
	}{
		{put, kv.Result{Value: 7, OK: true}, true, 7},
		{cas, kv.Result{Value: 8, OK: true}, true, 8},
		{cas, kv.Result{Value: 8, OK: true}, true, 8},  // a retry: the same answer, not executed again
		{put, kv.Result{Value: 8, OK: true}, false, 8}, // an older request: nothing
		{Request{}, kv.Result{}, false, 8},             // the null request: nothing
	}
	for i, s := range steps {
		res, reply := a.execute(s.req)
		if x, _ := a.get("x"); res != s.result || reply != s.reply || x != s.x {
			t.Errorf("step %d: %v -> %v reply %v, x=%d; want %v %v x=%d", i, s.req, res, reply, x, s.result, s.reply, s.x)
		}
	}
	b := a.clone()
	b.set("x", 9)
	if x, _ := a.get("x"); x != 8 || a.digest() == b.digest() {
		t.Error("clone shares the store, or the digest ignores it")
	}
}

func TestValidViewChange(t *testing.T) {
	r := New(node.Config{N: 4}, 2).(*Replica)
	votes := func(ids ...node.ID) quorum.Votes {
		var v quorum.Votes
		for _, id := range ids {
			v.Add(id)
		}
		return v
	}
	req := Request{Client: 1, Seq: 1, Op: kv.Op{Kind: kv.Put, Key: "x", Value: 1}}
	cert := Certificate{View: 0, Seq: 1, Digest: digestOf(req), Req: req, Prepares: votes(2, 3)}
	stable := Stable{Seq: 4, State: 1, Proof: votes(1, 2, 3)}
	tests := []struct {
		name string
		vc   ViewChange
		ok   bool
	}{
		{"a certificate", ViewChange{View: 1, Replica: 3, Prepared: []Certificate{cert}}, true},
		{"nothing prepared", ViewChange{View: 1, Replica: 3}, true},
		{"too few prepares", ViewChange{View: 1, Replica: 3, Prepared: []Certificate{{View: 0, Seq: 1, Digest: cert.Digest, Req: req, Prepares: votes(2)}}}, false},
		{"the primary prepared", ViewChange{View: 1, Replica: 3, Prepared: []Certificate{{View: 0, Seq: 1, Digest: cert.Digest, Req: req, Prepares: votes(1, 2)}}}, false},
		{"a wrong digest", ViewChange{View: 1, Replica: 3, Prepared: []Certificate{{View: 0, Seq: 1, Digest: 1, Req: req, Prepares: votes(2, 3)}}}, false},
		{"a certificate of its own view", ViewChange{View: 0, Replica: 3, Prepared: []Certificate{cert}}, false},
		{"a stable checkpoint", ViewChange{View: 1, Replica: 3, Stable: stable}, true},
		{"a certificate below the checkpoint", ViewChange{View: 1, Replica: 3, Stable: stable, Prepared: []Certificate{cert}}, false},
		{"a checkpoint without proof", ViewChange{View: 1, Replica: 3, Stable: Stable{Seq: 4, Proof: votes(1, 2)}}, false},
		{"a checkpoint off the interval", ViewChange{View: 1, Replica: 3, Stable: Stable{Seq: 3, Proof: votes(1, 2, 3)}}, false},
		{"an unknown replica", ViewChange{View: 1, Replica: 9}, false},
	}
	for _, tt := range tests {
		if got := r.validViewChange(tt.vc); got != tt.ok {
			t.Errorf("%s: valid = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func TestHighestCertificateWins(t *testing.T) {
	a := Request{Client: 1, Seq: 1}
	b := Request{Client: 2, Seq: 1}
	vcs := []ViewChange{
		{Prepared: []Certificate{{View: 1, Seq: 5, Req: a}}},
		{Prepared: []Certificate{{View: 3, Seq: 5, Req: b}, {View: 0, Seq: 6, Req: a}}},
		{},
	}
	if c, ok := highestCertificate(vcs, 5); !ok || c.Req != b {
		t.Errorf("#5: %v %v, want the view-3 certificate", c, ok)
	}
	if _, ok := highestCertificate(vcs, 7); ok {
		t.Error("#7 has a certificate, but none was given")
	}
}

// TestMutatorsForgeNothing: what the mutators make is still individually valid, and they
// never add what others signed.
func TestMutatorsForgeNothing(t *testing.T) {
	choose := func(n int) int { return n - 1 }
	req := Request{Client: 1, Seq: 1, Op: kv.Op{Kind: kv.Put, Key: "x", Value: 1}}
	pp := PrePrepare{View: 0, Seq: 3, Digest: digestOf(req), Req: req}
	m, ok := mutateNullRequest(pp, choose)
	if got := m.(PrePrepare); !ok || got.Req.Client != 0 || got.Digest != digestOf(got.Req) || got.Seq != 3 {
		t.Errorf("null-request: %v", m)
	}
	if m, ok := mutateSeq(pp, choose); !ok || m.(PrePrepare).Seq == 3 || m.(PrePrepare).Digest != pp.Digest {
		t.Errorf("seq: %v", m)
	}
	vc := ViewChange{View: 2, Replica: 1, Prepared: []Certificate{{Seq: 1}}}
	if m, ok := mutateForgetPrepared(vc, choose); !ok || len(m.(ViewChange).Prepared) != 0 || m.(ViewChange).Replica != 1 {
		t.Errorf("forget-prepared: %v", m)
	}
	for _, mu := range mutators {
		for _, msg := range []node.Message{pp, vc, NewView{View: 1, ViewChanges: []ViewChange{vc}}, Transfer{}} {
			out, ok := mu.Mutate(msg, choose)
			if !ok {
				continue
			}
			switch o := out.(type) {
			case ViewChange:
				if o.Replica != vc.Replica || len(o.Prepared) > len(vc.Prepared) || o.Stable != vc.Stable {
					t.Errorf("%s changed what others signed in %v: %v", mu.Name, msg, out)
				}
			case NewView, Transfer:
				t.Errorf("%s altered a message made of others' signatures: %v", mu.Name, out)
			}
		}
	}
}
