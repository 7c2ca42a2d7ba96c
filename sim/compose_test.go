package sim

import (
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// pinger is a tiny component: on its timer node 1 sends "ping" to node 2, which outputs
// and indicates the count of pings it got. Two of them run side by side inside one stack,
// with the same timer name, the same message and the same storage key: only the stack's
// namespaces keep them apart.
type pinger struct{ Got, Below int }

func (p *pinger) Start(env node.Env) {
	env.SetTimer("tick", 5*time.Millisecond, 5*time.Millisecond)
	env.Store("count", 0)
}
func (p *pinger) Timer(env node.Env, name string) {
	env.SetTimer("tick", 5*time.Millisecond, 5*time.Millisecond)
	if env.Self() == 1 {
		env.Send(2, "ping")
	}
}
func (p *pinger) Receive(env node.Env, from node.ID, m node.Message) {
	p.Got++
	env.Store("count", p.Got)
	env.Output(p.Got)
	node.Indicate(env, p.Got)
}
func (p *pinger) Request(node.Env, node.Request)               {}
func (p *pinger) Indication(env node.Env, child string, v any) { p.Below++ }

// pair is the root: it counts the indications of its "b" and arms a timer of its own whose
// name holds a slash, which must stay the root's.
type pair struct{ FromB, Own int }

func (p *pair) Start(env node.Env)                      { env.SetTimer("a/tick", time.Millisecond, time.Millisecond) }
func (p *pair) Timer(env node.Env, name string)         { p.Own++ }
func (p *pair) Receive(node.Env, node.ID, node.Message) {}
func (p *pair) Request(node.Env, node.Request)          {}
func (p *pair) Indication(env node.Env, child string, v any) {
	if child == "b" {
		p.FromB++
	}
}

var pingerModule = &node.Module{Name: "pinger", New: func(node.Config, node.ID) node.Node { return &pinger{} }}

func TestComposedComponentsStayApart(t *testing.T) {
	proto := node.Compose(&node.Protocol{Name: "pair", DefaultN: 2, MinN: 2, Timing: node.Timing{Delay: time.Millisecond, Settle: time.Millisecond}},
		node.Part{Module: &node.Module{Name: "pair", New: func(node.Config, node.ID) node.Node { return &pair{} }}},
		node.Part{Path: "a", Module: pingerModule},
		node.Part{Path: "b", Module: pingerModule},
		node.Part{Path: "b/inner", Module: pingerModule},
	)
	if err := proto.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Protocol: proto, Cluster: node.Config{N: 2}, Profile: Profile{Delay: Delay{Min: time.Millisecond}},
		Faults: 20 * time.Millisecond, Trace: TraceFull}
	w, r := Simulate(cfg, NewSeeded(1))
	if r.Violation != nil {
		t.Fatal(r.Violation)
	}
	n2 := w.State(2).(*node.Stack)
	root := n2.Component("").(*pair)
	a, b, inner := n2.Component("a").(*pinger), n2.Component("b").(*pinger), n2.Component("b/inner").(*pinger)
	if a.Got == 0 || a.Got != b.Got || b.Got != inner.Got {
		t.Errorf("the components received %d, %d and %d pings: their traffic mixed", a.Got, b.Got, inner.Got)
	}
	if root.FromB != b.Got {
		t.Errorf("b's indications did not come up to the root: %d of %d", root.FromB, b.Got)
	}
	if root.Own != 1 {
		t.Errorf("the root's timer \"a/tick\" fired %d times at the root: it went to component a", root.Own)
	}
	paths := map[string]int{}
	for _, o := range w.Outputs() {
		paths[o.Path]++
		if _, wrapped := o.Value.(node.AtPath); wrapped {
			t.Errorf("output %v recorded with its path still wrapped around it", o.Value)
		}
	}
	if paths["a"] != a.Got || paths["b"] != b.Got || paths["b/inner"] != inner.Got || paths[""] != 0 {
		t.Errorf("outputs by path %v: want a, b and b/inner's own", paths)
	}
	if b.Below != inner.Got || a.Below != 0 {
		t.Errorf("b/inner's indications reached b %d times of %d (a: %d)", b.Below, inner.Got, a.Below)
	}
	for _, key := range []string{"[a]count", "[b]count", "[b/inner]count"} {
		if v, ok := w.slot(2).load(key); !ok || v != b.Got {
			t.Errorf("storage under %q: %v, want %d", key, v, b.Got)
		}
	}
	for _, e := range r.Trace {
		if e.What != Send {
			continue
		}
		env, ok := e.Data.(node.Envelope)
		if !ok {
			t.Fatalf("a sub-component's message travelled bare: %v", e.Data)
		}
		if _, nested := env.Msg.(node.Envelope); nested {
			t.Errorf("nested envelopes %v: want one envelope with the whole path", env)
		}
		if env.Path != "a" && env.Path != "b" && env.Path != "b/inner" {
			t.Errorf("an envelope with path %q", env.Path)
		}
	}
}
