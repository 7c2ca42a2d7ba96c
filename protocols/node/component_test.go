package node_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// recordEnv is a driver's Env that records what a stack does.
type recordEnv struct {
	node.Env // unused methods panic
	log      []string
	store    map[string]any
}

func (r *recordEnv) Self() node.ID    { return 1 }
func (r *recordEnv) Nodes() []node.ID { return []node.ID{1, 2, 3} }
func (r *recordEnv) Send(to node.ID, m node.Message) {
	r.log = append(r.log, fmt.Sprintf("send n%d %v", to, m))
}
func (r *recordEnv) Broadcast(m node.Message) { r.log = append(r.log, fmt.Sprintf("broadcast %v", m)) }
func (r *recordEnv) SetTimer(name string, min, max time.Duration) {
	r.log = append(r.log, "timer "+name)
}
func (r *recordEnv) Store(key string, v any) {
	if r.store == nil {
		r.store = map[string]any{}
	}
	r.store[key] = v
}
func (r *recordEnv) Load(key string) (any, bool) { v, ok := r.store[key]; return v, ok }
func (r *recordEnv) Output(v any)                { r.log = append(r.log, fmt.Sprintf("output %v", v)) }
func (r *recordEnv) Reply(req node.Request, v any) {
	r.log = append(r.log, fmt.Sprintf("reply c%d %v", req.Client, v))
}

// echo is a component that records its inputs in a shared log and reacts as its test says.
type echo struct {
	name string
	log  *[]string
	// on a request: ask these children, indicate this, reply
	ask      []string
	indicate any
	reply    bool
}

func (e *echo) note(format string, args ...any) {
	*e.log = append(*e.log, e.name+": "+fmt.Sprintf(format, args...))
}
func (e *echo) Start(env node.Env) { e.note("start") }
func (e *echo) Receive(env node.Env, from node.ID, m node.Message) {
	e.note("receive %v from n%d", m, from)
	env.Send(from, "re:"+fmt.Sprint(m))
}
func (e *echo) Timer(env node.Env, name string) { e.note("timer %s", name) }
func (e *echo) Request(env node.Env, req node.Request) {
	e.note("request %v", req.Op)
	for _, c := range e.ask {
		node.Ask(env, c, e.name+"->"+c)
	}
	if e.indicate != nil {
		node.Indicate(env, e.indicate)
	}
	if e.reply {
		env.Reply(req, "done")
	}
	e.note("request %v handled", req.Op)
}
func (e *echo) Indication(env node.Env, child string, ind any) {
	e.note("indication %v from %s", ind, child)
}

func stackOf(t *testing.T, log *[]string, parts ...*echo) (*node.Protocol, *node.Stack) {
	t.Helper()
	var ps []node.Part
	for _, e := range parts {
		e := e
		ps = append(ps, node.Part{Path: e.name, Module: &node.Module{Name: "echo",
			New: func(node.Config, node.ID) node.Node { e.log = log; return e }}})
	}
	p := node.Compose(&node.Protocol{Name: "t", DefaultN: 3, MinN: 1, Timing: node.Timing{Delay: 1, Settle: 1}}, ps...)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p, p.New(node.Config{N: 3}, 1).(*node.Stack)
}

func TestLocalEventsWaitForTheHandlerAndKeepTheirOrder(t *testing.T) {
	var log []string
	_, s := stackOf(t, &log,
		&echo{name: "", ask: []string{"a", "b"}},
		&echo{name: "a", indicate: "from-a", ask: []string{"x"}},
		&echo{name: "a/x", reply: true},
		&echo{name: "b", indicate: "from-b"})
	s.Start(&recordEnv{})
	if want := []string{"b: start", "a/x: start", "a: start", ": start"}; !slices.Equal(log, want) {
		t.Errorf("start order %q, want sub-components first %q", log, want)
	}
	log = nil
	s.Request(&recordEnv{}, node.Request{Client: 1, Op: "op"})
	want := []string{
		": request op", ": request op handled", // the root's handler runs to its end first
		"a: request ->a", "a: request ->a handled", // then the queue, in the order raised
		"b: request ->b", "b: request ->b handled",
		"a/x: request a->x", "a/x: request a->x handled",
		": indication from-a from a", ": indication from-b from b",
		"a: indication {a->x done} from x", // x's reply to a's request comes up as an Answer
	}
	if !slices.Equal(log, want) {
		t.Errorf("events\n%s\nwant\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
}

func TestNamespacesOfASubComponent(t *testing.T) {
	var log []string
	_, s := stackOf(t, &log, &echo{name: ""}, &echo{name: "log"}, &echo{name: "log/paxos"})
	env := &recordEnv{}
	s.Receive(env, 2, node.Envelope{Path: "log/paxos", Msg: "prepare"})
	s.Receive(env, 2, "bare")
	s.Receive(env, 2, node.Envelope{Path: "nowhere", Msg: "lost"})
	s.Timer(env, "[log]retry/3")
	s.Timer(env, "log/retry") // a root timer whose name holds a slash
	s.Timer(env, "[]literal")
	want := []string{
		"log/paxos: receive prepare from n2", ": receive bare from n2",
		"log: timer retry/3", ": timer log/retry", ": timer literal",
	}
	if !slices.Equal(log, want) {
		t.Errorf("routed\n%s\nwant\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
	sent := []string{"send n2 {log/paxos re:prepare}", "send n2 re:bare"}
	if !slices.Equal(env.log, sent) {
		t.Errorf("sent %q, want one flat envelope for the sub-component and the root's bare: %q", env.log, sent)
	}
}

func TestComposeRefusesAMalformedStack(t *testing.T) {
	leaf := &node.Module{Name: "leaf", New: func(node.Config, node.ID) node.Node { return nil }}
	for _, tt := range []struct {
		parts []node.Part
		want  string
	}{
		{[]node.Part{{Path: "a", Module: leaf}}, "no root component"},
		{[]node.Part{{Module: leaf}, {Path: "a/b", Module: leaf}}, `no parent part at "a"`},
		{[]node.Part{{Module: leaf}, {Path: "a", Module: leaf}, {Path: "a", Module: leaf}}, `two parts at "a"`},
		{[]node.Part{{Module: leaf}, {Path: "a[1]", Module: leaf}}, "bracket"},
		{[]node.Part{{Module: leaf}, {Path: "a", Module: nil}}, "no module"},
		{[]node.Part{{Module: leaf, Over: "links"}}, `goes over "links", which it does not have`},
		{[]node.Part{{Module: leaf, Over: "links"}, {Path: "links", Module: leaf}}, "is not a transport"},
	} {
		p := node.Compose(&node.Protocol{Name: "bad", DefaultN: 1, MinN: 1, Timing: node.Timing{Delay: 1, Settle: 1}}, tt.parts...)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: Validate = %v, want %q", tt.parts, err, tt.want)
		}
	}
}

// data is a transport's message carrying its user's message.
type data struct {
	Seq int
	Msg node.Message
}

func (d data) Carried() node.Message             { return d.Msg }
func (d data) Carry(m node.Message) node.Message { d.Msg = m; return d }

func TestLiftedMutatorsReachThroughEnvelopesAndTransports(t *testing.T) {
	bump := node.MutatorOf("bump", func(m int, _ func(int) int) (node.Message, bool) { return m + 1, true })
	leaf := func(name string, transport bool, muts ...node.Mutator) *node.Module {
		return &node.Module{Name: name, Transport: transport, Mutators: muts,
			New: func(node.Config, node.ID) node.Node { return nil }}
	}
	p := node.Compose(&node.Protocol{Name: "t", DefaultN: 1, MinN: 1, Timing: node.Timing{Delay: 1, Settle: 1}},
		node.Part{Module: leaf("root", false, bump)},
		node.Part{Path: "log", Module: leaf("log", false)},
		node.Part{Path: "log/paxos", Module: leaf("paxos", false, bump), Over: "links"},
		node.Part{Path: "log/paxos/links", Module: leaf("links", true)},
	)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, m := range p.Mutators {
		names = append(names, m.Name)
	}
	if !slices.Equal(names, []string{"bump", "log/paxos/bump"}) {
		t.Fatalf("mutators %v", names)
	}
	root, deep := p.Mutators[0].Mutate, p.Mutators[1].Mutate
	for _, tt := range []struct {
		mutate func(node.Message, func(int) int) (node.Message, bool)
		in     node.Message
		want   node.Message // nil: does not apply
	}{
		{root, 1, 2},
		{root, node.Envelope{Path: "log", Msg: 1}, nil}, // the log's message, not the root's
		{deep, node.Envelope{Path: "log/paxos", Msg: 1}, node.Envelope{Path: "log/paxos", Msg: 2}},
		{deep, node.Envelope{Path: "log/paxos/links", Msg: data{Seq: 7, Msg: 1}},
			node.Envelope{Path: "log/paxos/links", Msg: data{Seq: 7, Msg: 2}}}, // inside the link's DATA
		{deep, 1, nil},
		{deep, node.Envelope{Path: "log", Msg: 1}, nil},
	} {
		got, ok := tt.mutate(tt.in, func(int) int { return 0 })
		if (tt.want == nil) == ok || ok && fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("mutate %v = %v, %v; want %v", tt.in, got, ok, tt.want)
		}
	}
}

func TestPropertiesAreCheckedOnTheirComponent(t *testing.T) {
	var seen []string
	mod := &node.Module{Name: "m", New: func(node.Config, node.ID) node.Node { return &echo{} },
		Invariants: []node.Invariant{{Name: "sees-itself", Check: func(w node.World) error {
			for id, e := range node.States[*echo](w) {
				seen = append(seen, fmt.Sprintf("n%d:%s", id, e.name))
			}
			for _, o := range w.Outputs() {
				seen = append(seen, fmt.Sprintf("out %s %v", o.Path, o.Value))
			}
			for _, o := range w.NewOutputs() {
				seen = append(seen, fmt.Sprintf("new %s %v", o.Path, o.Value))
			}
			return nil
		}}},
	}
	p := node.Compose(&node.Protocol{Name: "t", DefaultN: 1, MinN: 1, Timing: node.Timing{Delay: 1, Settle: 1}},
		node.Part{Module: &node.Module{Name: "root", New: func(node.Config, node.ID) node.Node { return &echo{name: "root"} }}},
		node.Part{Path: "sub", Module: mod})
	if len(p.Invariants) != 1 || p.Invariants[0].Name != "sub/sees-itself" {
		t.Fatalf("invariants %v", p.Invariants)
	}
	s := p.New(node.Config{N: 1}, 1).(*node.Stack)
	s.Parts[1].C.(*echo).name = "sub"
	w := fakeWorld{state: s, outputs: []node.Output{
		{Node: 1, Value: "root's"}, {Node: 1, Path: "sub", Value: "mine"}, {Node: 1, Value: node.AtPath{Path: "sub", Value: "wrapped"}},
	}}
	p.Invariants[0].Check(w)
	if want := []string{"n1:sub", "out sub mine", "out sub wrapped", "new sub mine", "new sub wrapped"}; !slices.Equal(seen, want) {
		t.Errorf("the component's property saw %q, want %q", seen, want)
	}
	// A wrapped output right after one of the component's own is the component's too.
	seen = nil
	w.outputs = w.outputs[1:]
	p.Invariants[0].Check(w)
	if want := []string{"n1:sub", "out sub mine", "out sub wrapped", "new sub mine", "new sub wrapped"}; !slices.Equal(seen, want) {
		t.Errorf("without the root's output, the component's property saw %q, want %q", seen, want)
	}
	if e, ok := node.StateAt[*echo](w, 1, "sub"); !ok || e.name != "sub" {
		t.Errorf("StateAt(sub) = %v, %v", e, ok)
	}
}

// fakeWorld is a one-node world for property tests.
type fakeWorld struct {
	node.World
	state   node.Node
	outputs []node.Output
}

func (f fakeWorld) Config() node.Config        { return node.Config{N: 1} }
func (f fakeWorld) State(id node.ID) node.Node { return f.state }
func (f fakeWorld) Outputs() []node.Output     { return f.outputs }
func (f fakeWorld) NewOutputs() []node.Output  { return f.outputs }

// A failure is blamed on the lowest component that shows it: the parts' properties are
// judged below before above, siblings in the order of their names, the root's last.
func TestPropertiesAreJudgedLowestComponentFirst(t *testing.T) {
	mod := func() *node.Module {
		return &node.Module{Name: "m", New: func(node.Config, node.ID) node.Node { return &echo{} },
			Invariants: []node.Invariant{{Name: "inv", Check: func(node.World) error { return nil }}}}
	}
	p := node.Compose(&node.Protocol{Name: "t", DefaultN: 1, MinN: 1, Timing: node.Timing{Delay: 1, Settle: 1},
		Invariants: []node.Invariant{{Name: "whole", Check: func(node.World) error { return nil }}}},
		node.Part{Path: "set", Module: mod()}, node.Part{Module: mod()}, node.Part{Path: "counter", Module: mod()},
		node.Part{Path: "set/gossip", Module: mod()}, node.Part{Path: "counter/gossip", Module: mod()},
		node.Part{Path: "counter/gossip/deep", Module: mod()})
	var got []string
	for _, inv := range p.Invariants {
		got = append(got, inv.Name)
	}
	want := []string{"whole", "counter/gossip/deep/inv", "counter/gossip/inv", "counter/inv", "set/gossip/inv", "set/inv", "inv"}
	if !slices.Equal(got, want) {
		t.Errorf("invariants in the order %q, want %q", got, want)
	}
}
